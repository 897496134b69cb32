package io.jvs.forwarder.frame;

import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.VirtioNetHeader;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.Ipv6Header;
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
     * Rewrites a 32-bit field of the TCP header or its options (sequence number at 4,
     * acknowledgement at 8, a SACK edge) at {@code ctx.l4Off + fieldOff}, keeping the TCP
     * checksum right: RFC 1624 update when it is complete (a field at an odd offset
     * contributes its bytes rotated by 8 bits to the 16-bit sum); nothing when it is
     * partial (these fields are not in the pseudo-header). Precondition: a TCP frame.
     */
    public static void setTcp32(PacketContext ctx, int fieldOff, int newVal) {
        MemorySegment seg = ctx.seg;
        long at = ctx.l4Off + fieldOff;
        int old = Bytes.i32(seg, at);
        if (old == newVal) {
            return;
        }
        Bytes.i32(seg, at, newVal);
        if (!ctx.csumPartial) {
            long field = ctx.l4Off + TcpHeader.CHECKSUM_OFFSET;
            boolean odd = (fieldOff & 1) != 0;
            int from = odd ? Integer.rotateRight(old, 8) : old;
            int to = odd ? Integer.rotateRight(newVal, 8) : newVal;
            Bytes.u16(seg, field, Checksum.update32(Bytes.u16(seg, field), from, to));
        }
    }

    /**
     * Adds an 8-byte TCP option (the big-endian words {@code w0}, {@code w1}) after the
     * options the segment has, moving any payload back by 8 bytes, and updates the IP total
     * length, the data offset and both checksums (a partial TCP checksum gets the new
     * pseudo-header length; a complete one the new words). Ethernet padding is cut.
     * Returns false, changing nothing, when the option does not fit: the TCP header
     * would exceed 60 bytes, the frame's memory has no room, or it is a GSO super-frame.
     */
    public static boolean addTcpOption8(PacketContext ctx, int w0, int w1) {
        MemorySegment seg = ctx.seg;
        long l3 = ctx.l3Off;
        long l4 = ctx.l4Off;
        int doff = (Bytes.u8(seg, l4 + TcpHeader.DATA_OFFSET_OFFSET) >>> 4) << 2;
        int ihl = (Bytes.u8(seg, l3) & 0x0F) << 2;
        int total = Bytes.u16(seg, l3 + Ipv4Header.TOTAL_LENGTH_OFFSET);
        long end = l3 + total;
        if (doff + 8 > TcpHeader.MAX_HEADER_LEN || end + 8 - ctx.frameOff > ctx.frameCapacity
                || ctx.vnetOff >= 0 && ctx.vnet.isGso()) {
            return false;
        }
        long opt = l4 + doff;
        int payload = (int) (end - opt);
        if (payload > 0) {
            MemorySegment.copy(seg, opt, seg, opt + 8, payload);
        }
        Bytes.i32(seg, opt, w0);
        Bytes.i32(seg, opt + 4, w1);
        Bytes.u16(seg, l3 + Ipv4Header.TOTAL_LENGTH_OFFSET, total + 8);
        long ipCsum = l3 + Ipv4Header.CHECKSUM_OFFSET;
        Bytes.u16(seg, ipCsum, Checksum.update16(Bytes.u16(seg, ipCsum), total, total + 8));
        int oldWord = Bytes.u16(seg, l4 + TcpHeader.DATA_OFFSET_OFFSET);
        int newWord = ((doff + 8) >>> 2) << 12 | oldWord & 0x0FFF;
        Bytes.u16(seg, l4 + TcpHeader.DATA_OFFSET_OFFSET, newWord);
        int l4Len = total - ihl;
        long field = l4 + TcpHeader.CHECKSUM_OFFSET;
        int c = Bytes.u16(seg, field);
        if (ctx.csumPartial) {
            c = Checksum.updatePartial16(c, l4Len, l4Len + 8);
        } else {
            // The payload moved by an even number of bytes: its sum is unchanged.
            c = Checksum.update16(c, oldWord, newWord);
            c = Checksum.update32(c, 0, w0);
            c = Checksum.update32(c, 0, w1);
            c = Checksum.update16(c, l4Len, l4Len + 8);
        }
        Bytes.u16(seg, field, c);
        ctx.frameLen = (int) (end + 8 - ctx.frameOff);
        return true;
    }

    /**
     * Finishes a CHECKSUM_PARTIAL L4 checksum in software, as the kernel's
     * {@code skb_checksum_help()} would: the complement of the sum from csum_start
     * to the end of the IP datagram (IPv4's total length; IPv6's header and payload
     * length) (the field holds the pseudo-header sum, so it
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
        long end = ctx.etherType == EthernetHeader.ETH_P_IPV6
                ? ctx.l3Off + Ipv6Header.HEADER_LEN
                        + Bytes.u16(seg, ctx.l3Off + Ipv6Header.PAYLOAD_LENGTH_OFFSET)
                : ctx.l3Off + Bytes.u16(seg, ctx.l3Off + Ipv4Header.TOTAL_LENGTH_OFFSET);
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
    // ---------------------------------------------------------------- IPv6

    /**
     * Rewrites the IPv6 destination address (NAT towards a real server). IPv6 has no header
     * checksum; the address is in the pseudo-header of TCP, UDP and ICMPv6 alike, so their
     * checksum gets RFC 1624's update over the 128 bits ({@link Checksum#update128}), or
     * {@link Checksum#updatePartial128} when it is partial. Precondition: decoded as
     * {@link FrameKind#IPV6}.
     */
    public static void setDstAddr6(PacketContext ctx, long hi, long lo) {
        setAddr6(ctx, io.jvs.packet.Ipv6Header.DST_OFFSET, ctx.dstHi, ctx.dstLo, hi, lo);
        ctx.dstHi = hi;
        ctx.dstLo = lo;
    }

    /** As {@link #setDstAddr6} for the source address (NAT replies). */
    public static void setSrcAddr6(PacketContext ctx, long hi, long lo) {
        setAddr6(ctx, io.jvs.packet.Ipv6Header.SRC_OFFSET, ctx.srcHi, ctx.srcLo, hi, lo);
        ctx.srcHi = hi;
        ctx.srcLo = lo;
    }

    /**
     * Decrements the IPv6 hop limit by one (no header checksum to update) and returns the new
     * value; a hop limit already 0 is left and 0 returned.
     */
    public static int decrementHopLimit(PacketContext ctx) {
        long at = ctx.l3Off + io.jvs.packet.Ipv6Header.HOP_LIMIT_OFFSET;
        int hops = Bytes.u8(ctx.seg, at);
        if (hops == 0) {
            return 0;
        }
        Bytes.u8(ctx.seg, at, hops - 1);
        ctx.ttl = hops - 1;
        return hops - 1;
    }

    private static void setAddr6(PacketContext ctx, int fieldOff, long oldHi, long oldLo, long hi, long lo) {
        if (oldHi == hi && oldLo == lo) {
            return;
        }
        MemorySegment seg = ctx.seg;
        seg.set(Bytes.BE64, ctx.l3Off + fieldOff, hi);
        seg.set(Bytes.BE64, ctx.l3Off + fieldOff + 8, lo);
        if (ctx.l4Off < 0) {
            return; // a later fragment: its upper-layer header (and checksum) is in the first
        }
        int off = Checksum.l4ChecksumOffset6(ctx.ipProto);
        if (off < 0) {
            return;
        }
        long field = ctx.l4Off + off;
        int csum = Bytes.u16(seg, field);
        if (ctx.csumPartial) {
            Bytes.u16(seg, field, Checksum.updatePartial128(csum, oldHi, oldLo, hi, lo));
            return;
        }
        int next = Checksum.update128(csum, oldHi, oldLo, hi, lo);
        // RFC 8200 8.1: a UDP checksum of 0 is not allowed over IPv6; 0xFFFF is the same sum.
        Bytes.u16(seg, field, ctx.ipProto == io.jvs.packet.Ipv6Header.NEXT_UDP && next == 0 ? 0xFFFF : next);
    }

    /**
     * Adds a 20-byte TCP option (the big-endian word {@code w0}, then the 128 bits {@code hi},
     * {@code lo}: IPv6 TOA's kind, length, port and address) after the options an IPv6 segment
     * has, moving any payload back by 20 bytes, and updates the payload length, the data offset
     * and the TCP checksum (a partial one gets the new pseudo-header length; a complete one the
     * new words and length). Ethernet padding is cut. Returns false, changing nothing, when the
     * option does not fit: the TCP header would exceed 60 bytes, the frame's memory has no room,
     * or it is a GSO super-frame. Precondition: a TCP frame decoded as {@link FrameKind#IPV6}.
     */
    public static boolean addTcpOption20(PacketContext ctx, int w0, long hi, long lo) {
        MemorySegment seg = ctx.seg;
        long l3 = ctx.l3Off;
        long l4 = ctx.l4Off;
        int doff = (Bytes.u8(seg, l4 + TcpHeader.DATA_OFFSET_OFFSET) >>> 4) << 2;
        int payloadLen = Bytes.u16(seg, l3 + io.jvs.packet.Ipv6Header.PAYLOAD_LENGTH_OFFSET);
        long end = l3 + io.jvs.packet.Ipv6Header.HEADER_LEN + payloadLen;
        if (doff + 20 > TcpHeader.MAX_HEADER_LEN || end + 20 - ctx.frameOff > ctx.frameCapacity
                || ctx.vnetOff >= 0 && ctx.vnet.isGso()) {
            return false;
        }
        long opt = l4 + doff;
        int payload = (int) (end - opt);
        if (payload > 0) {
            MemorySegment.copy(seg, opt, seg, opt + 20, payload);
        }
        Bytes.i32(seg, opt, w0);
        seg.set(Bytes.BE64, opt + 4, hi);
        seg.set(Bytes.BE64, opt + 12, lo);
        Bytes.u16(seg, l3 + io.jvs.packet.Ipv6Header.PAYLOAD_LENGTH_OFFSET, payloadLen + 20);
        int oldWord = Bytes.u16(seg, l4 + TcpHeader.DATA_OFFSET_OFFSET);
        int newWord = ((doff + 20) >>> 2) << 12 | oldWord & 0x0FFF;
        Bytes.u16(seg, l4 + TcpHeader.DATA_OFFSET_OFFSET, newWord);
        int l4Len = (int) (end - l4);
        long field = l4 + TcpHeader.CHECKSUM_OFFSET;
        int c = Bytes.u16(seg, field);
        if (ctx.csumPartial) {
            c = Checksum.updatePartial16(c, l4Len, l4Len + 20);
        } else {
            // The payload moved by an even number of bytes: its sum is unchanged.
            c = Checksum.update16(c, oldWord, newWord);
            c = Checksum.update32(c, 0, w0);
            c = Checksum.update128(c, 0, 0, hi, lo);
            c = Checksum.update16(c, l4Len, l4Len + 20);
        }
        Bytes.u16(seg, field, c);
        ctx.frameLen = (int) (end + 20 - ctx.frameOff);
        return true;
    }
}
