package io.jvs.forwarder.frame;

/** What {@link FrameDecoder#decode} found. */
public enum FrameKind {
    /** A valid IPv4 datagram (header checksum verified); the summary fields are filled. */
    IPV4,
    /** A valid Ethernet/IPv4 ARP packet. */
    ARP,
    /** Another EtherType (IPv6, LLDP, ...): not an error by itself; the caller decides. */
    OTHER,
    /** Unusable; {@link PacketContext#drop} names the reason. */
    BAD
}
