package io.jvs.packet;

/**
 * The validity checks RFC 4861 sections 7.1.1 (Neighbor Solicitation) and 7.1.2
 * (Neighbor Advertisement) require of a receiver, as {@link Icmpv6Header#checkNeighborMessage}
 * reports them: {@link #OK} or the first check that failed. A node silently discards
 * a message that fails any of them; each is its own constant so a data path can count
 * the discards by cause.
 */
public enum NdpCheck {
    OK,
    /** Not type 135 or 136. */
    NOT_NEIGHBOR_MESSAGE,
    /** The IP hop limit is not 255: the message may have crossed a router. */
    HOP_LIMIT_NOT_255,
    /** ICMP code is not 0. */
    BAD_CODE,
    /** Fewer than 24 ICMP bytes (type, code, checksum, 4 reserved/flag bytes, target); checked first. */
    TOO_SHORT,
    /** The target address is multicast. */
    MULTICAST_TARGET,
    /** An option of length 0, or one reaching past the message. */
    BAD_OPTION_LENGTH,
    /** A solicitation from :: (duplicate address detection) not sent to a solicited-node group. */
    DAD_NOT_TO_SOLICITED_NODE,
    /** A solicitation from :: carrying a source link-layer address option. */
    DAD_WITH_SOURCE_LINK_ADDRESS,
    /** An advertisement with the Solicited flag sent to a multicast destination. */
    SOLICITED_TO_MULTICAST
}
