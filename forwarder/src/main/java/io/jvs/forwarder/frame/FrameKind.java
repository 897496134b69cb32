package io.jvs.forwarder.frame;

/** What {@link FrameDecoder#decode} found. */
public enum FrameKind {
    /** A valid IPv4 datagram (header checksum verified); the summary fields are filled. */
    IPV4,
    /**
     * A valid IPv6 packet: payload inside the frame, extension headers walked to the
     * upper layer, whose fixed TCP (20), UDP (8) or ICMPv6 (8) header is present unless
     * it is a later fragment; {@code ctx.ip6} holds the walk. The ipv6 stage
     * ({@code pipeline.Ipv6Handler}) takes it from there.
     */
    IPV6,
    /** A valid Ethernet/IPv4 ARP packet. */
    ARP,
    /** Another EtherType (LLDP, ...): not an error by itself; the caller decides. */
    OTHER,
    /** Unusable; {@link PacketContext#drop} names the reason. */
    BAD
}
