package io.jvs.forwarder.packet;

import java.lang.foreign.MemorySegment;

/**
 * In-place header rewrites for the forwarding methods, each keeping every
 * checksum it affects right by RFC 1624 incremental update (never by
 * recomputation: O(1) whatever the frame size, and a checksum that was wrong
 * stays wrong, so corruption is not laundered).
 *
 * <p>Which checksums an edit touches:
 * <table>
 * <caption>checksums per edit</caption>
 * <tr><th>edit</th><th>IP header</th><th>TCP / UDP, complete</th><th>TCP / UDP, CHECKSUM_PARTIAL</th><th>ICMP</th></tr>
 * <tr><td>address</td><td>update32</td><td>update32 (pseudo-header)</td><td>updatePartial32</td><td>-</td></tr>
 * <tr><td>port</td><td>-</td><td>update16</td><td>- (not in the pseudo-header)</td><td>n/a</td></tr>
 * <tr><td>TTL</td><td>update16</td><td>-</td><td>-</td><td>-</td></tr>
 * </table>
 * A UDP checksum of 0 ("none") stays 0; an updated UDP checksum that comes out 0
 * is stored as 0xFFFF. A non-first fragment has no L4 header: only the IP header
 * changes. A first fragment's L4 checksum covers the whole datagram, and an
 * incremental change is valid for it all, so it is updated as usual.
 *
 * <p>Preconditions: {@code ctx} was decoded by {@link FrameDecoder} as
 * {@link FrameKind#IPV4} (that guarantees the fields touched here are present).
 * The summary fields of {@code ctx} (addresses, ports, TTL) are kept in step with
 * the frame. Nothing allocates.
 */
public final class Rewrite {
    private Rewrite() {
    }

    /** Rewrites the IPv4 destination address (NAT/FULLNAT towards a real server). */
    public static void setDstAddr(PacketContext ctx, int newAddr) {
        setAddr(ctx, Ipv4Header.DST_OFFSET, newAddr);
        ctx.dstAddr = newAddr;
    }

    /** Rewrites the IPv4 source address (NAT replies, FULLNAT local address). */
    public static void setSrcAddr(PacketContext ctx, int newAddr) {
        setAddr(ctx, Ipv4Header.SRC_OFFSET, newAddr);
        ctx.srcAddr = newAddr;
    }

    /**
     * Rewrites the TCP/UDP destination port. Returns false, changing nothing, when
     * the frame has no port to rewrite (another protocol, or a non-first fragment).
     */
    public static boolean setDstPort(PacketContext ctx, int newPort) {
        if (!setPort(ctx, TcpHeader.DST_PORT_OFFSET, newPort)) {
            return false;
        }
        ctx.dstPort = newPort;
        return true;
    }

    /** As {@link #setDstPort} for the source port. */
    public static boolean setSrcPort(PacketContext ctx, int newPort) {
        if (!setPort(ctx, TcpHeader.SRC_PORT_OFFSET, newPort)) {
            return false;
        }
        ctx.srcPort = newPort;
        return true;
    }

    /**
     * Decrements the TTL by one, updating the IP header checksum, and returns the
     * new TTL. A result of 0 means the datagram must not be forwarded
     * ({@code TTL_EXPIRED}); a TTL already 0 is left unchanged and 0 returned.
     */
    public static int decrementTtl(PacketContext ctx) {
        MemorySegment seg = ctx.seg;
        long ip = ctx.l3Off;
        int ttl = Bytes.u8(seg, ip + Ipv4Header.TTL_OFFSET);
        if (ttl == 0) {
            return 0;
        }
        // TTL is the high byte of the 16-bit word it shares with the protocol.
        int proto = Bytes.u8(seg, ip + Ipv4Header.PROTOCOL_OFFSET);
        Bytes.u8(seg, ip + Ipv4Header.TTL_OFFSET, ttl - 1);
        long csum = ip + Ipv4Header.CHECKSUM_OFFSET;
        Bytes.u16(seg, csum, Checksum.update16(Bytes.u16(seg, csum), ttl << 8 | proto, (ttl - 1) << 8 | proto));
        ctx.ttl = ttl - 1;
        return ttl - 1;
    }

    /**
     * Finishes a CHECKSUM_PARTIAL L4 checksum in software, as the kernel's
     * {@code skb_checksum_help()} would: the complement of the sum from csum_start
     * to the end of the IPv4 datagram (the field holds the pseudo-header sum, so it
     * is simply included), 0 stored as 0xFFFF; then clears NEEDS_CSUM in the
     * virtio header and {@code ctx.csumPartial}. For an egress that cannot take
     * the virtio header. Returns false, changing nothing, for a GSO super-frame
     * (it must be segmented first) or a frame whose checksum is not partial.
     */
    public static boolean finishPartialChecksum(PacketContext ctx) {
        if (!ctx.csumPartial || ctx.vnet.isGso()) {
            return false;
        }
        MemorySegment seg = ctx.seg;
        long start = ctx.frameOff + ctx.vnet.csumStart();
        long field = start + ctx.vnet.csumOffset();
        long end = ctx.l3Off + Bytes.u16(seg, ctx.l3Off + Ipv4Header.TOTAL_LENGTH_OFFSET);
        int csum = ~Checksum.sum(seg, start, (int) (end - start)) & 0xFFFF;
        Bytes.u16(seg, field, csum == 0 ? 0xFFFF : csum);
        ctx.vnet.setFlags(ctx.vnet.flags() & ~VirtioNetHeader.F_NEEDS_CSUM);
        ctx.csumPartial = false;
        return true;
    }

    private static void setAddr(PacketContext ctx, int fieldOff, int newAddr) {
        MemorySegment seg = ctx.seg;
        long ip = ctx.l3Off;
        int old = Bytes.i32(seg, ip + fieldOff);
        if (old == newAddr) {
            return;
        }
        Bytes.i32(seg, ip + fieldOff, newAddr);
        long ipCsum = ip + Ipv4Header.CHECKSUM_OFFSET;
        Bytes.u16(seg, ipCsum, Checksum.update32(Bytes.u16(seg, ipCsum), old, newAddr));
        long l4Csum = pseudoHeaderChecksumField(ctx);
        if (l4Csum < 0) {
            return; // ICMP (no pseudo-header), other protocols, non-first fragments
        }
        int csum = Bytes.u16(seg, l4Csum);
        if (ctx.csumPartial) {
            Bytes.u16(seg, l4Csum, Checksum.updatePartial32(csum, old, newAddr));
        } else {
            storeL4(ctx, seg, l4Csum, csum, Checksum.update32(csum, old, newAddr));
        }
    }

    private static boolean setPort(PacketContext ctx, int fieldOff, int newPort) {
        long l4Csum = pseudoHeaderChecksumField(ctx);
        if (l4Csum < 0) {
            return false;
        }
        MemorySegment seg = ctx.seg;
        long port = ctx.l4Off + fieldOff; // same offsets in TCP and UDP
        int old = Bytes.u16(seg, port);
        Bytes.u16(seg, port, newPort);
        // A partial field holds only the pseudo-header sum, which has no ports.
        if (!ctx.csumPartial) {
            int csum = Bytes.u16(seg, l4Csum);
            storeL4(ctx, seg, l4Csum, csum, Checksum.update16(csum, old, newPort & 0xFFFF));
        }
        return true;
    }

    /** Stores an updated complete L4 checksum, keeping UDP's "no checksum" and its 0 -> 0xFFFF rule. */
    private static void storeL4(PacketContext ctx, MemorySegment seg, long field, int oldCsum, int newCsum) {
        if (ctx.ipProto == Ipv4Header.PROTO_UDP) {
            if (oldCsum == UdpHeader.NO_CHECKSUM) {
                return;
            }
            if (newCsum == 0) {
                newCsum = 0xFFFF;
            }
        }
        Bytes.u16(seg, field, newCsum);
    }

    /** Absolute offset of the TCP/UDP checksum field, or -1 when there is none here. */
    private static long pseudoHeaderChecksumField(PacketContext ctx) {
        if (ctx.l4Off < 0) {
            return -1;
        }
        return switch (ctx.ipProto) {
            case Ipv4Header.PROTO_TCP -> ctx.l4Off + TcpHeader.CHECKSUM_OFFSET;
            case Ipv4Header.PROTO_UDP -> ctx.l4Off + UdpHeader.CHECKSUM_OFFSET;
            default -> -1;
        };
    }
}
