package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.SynProxyState;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.xmit.Fullnat6Xmit;
import io.jvs.forwarder.xmit.Ipv6Sender;
import io.jvs.forwarder.xmit.Xmit;
import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;

/**
 * ICMPv6 errors of tracked IPv6 connections (IPVS's ip_vs_in_icmp_v6 and ip_vs_out_icmp_v6), for
 * {@link Ipv6Handler}: the IPv6 twin of {@link IcmpHandler}'s error forwarding. An error
 * (Destination Unreachable, Packet Too Big, Time Exceeded, Parameter Problem: types 0..127) quotes
 * as much of the offending packet as fits in 1280 bytes; when the quoted packet's TCP or UDP ports
 * (after the quote's extension headers, as the kernel's ipv6_find_hdr walks them) belong to a
 * connection of worker 0's {@link ConnectionTable6}, the error goes to the other party:
 * <ul>
 *   <li>from the client's side (it quotes [VIP]:vport -> client, a reply the client got; the
 *       outer destination is the VIP): DR forwards it to the real server as it is but for the
 *       hop limit; TUN tunnels it to the real server as it is (ip_vs_icmp_xmit_v6 hands it to
 *       the connection's transmitter); NAT sends it to the real server with the quote's source made [RIP]:rport;</li>
 *   <li>from a NAT real server's side (it quotes client -> [RIP]:rport, what the director sent
 *       it; the outer destination is the client): to the client from the VIP, the quote made
 *       client -> [VIP]:vport again;</li>
 *   <li>from a FULLNAT real server's side (it quotes [LIP]:lport -> [RIP]:rport; the outer
 *       destination is the LIP, found by the connection's server-side tuple in the OUT index):
 *       to the client from the VIP, the quote made client:cport -> [VIP]:vport and a quoted TCP
 *       sequence number moved back into the client's own (less the connection's offset, and the
 *       PROXY v2 header's bytes), as the IPv4 FULLNAT path does: the client matches it against
 *       its stream (Linux's tcp_v6_err ignores an error outside its unacknowledged data).</li>
 * </ul>
 * The outer destination must be the quote's source (the error goes back to who sent the quoted
 * packet), as for IPv4. A connection the SYN proxy spliced has its quoted TCP sequence numbers
 * translated as {@link IcmpHandler} does for IPv4: the client quotes the server's stream in the
 * proxy's (cookie's) sequence space, so the quoted sequence number goes back by the splice's delta
 * for the server (whose tcp_v6_err ignores an error outside its unacknowledged data); a NAT or FULLNAT real
 * server quotes an acknowledgement of its own stream, which goes forward by the delta for the
 * client. NAT verifies the error's ICMPv6 checksum first (BAD_CHECKSUM) and computes
 * it afresh over the pseudo-header once rewritten (ip_vs_nat_icmp_v6 does the same, leaving it
 * CHECKSUM_PARTIAL); the quoted L4 checksum is left alone (the quote is cut short). The error
 * leaves through {@link Ipv6Sender} like any forwarded packet: hop limit, MTU (an error never
 * gets a Packet Too Big of its own), route, NDP. Allocation-free; event loop only.
 */
final class Icmpv6Errors {
    private final ConnectionTable6 conns;
    private final Ipv6Sender sender;
    /** TUN connections' errors go to their real server through the tunnel, as ip_vs_icmp_xmit_v6 does. */
    private final Xmit tun;
    private final DataPathCounters counters;

    Icmpv6Errors(ConnectionTable6 conns, Ipv6Sender sender, Xmit tun, DataPathCounters counters) {
        this.tun = tun;
        this.conns = conns;
        this.sender = sender;
        this.counters = counters;
    }

    /**
     * Forwards the ICMPv6 error in ctx (its checksum not yet checked) when it quotes a tracked
     * connection, or drops it under a counted reason; false when it quotes none.
     */
    boolean forward(PacketContext ctx) {
        MemorySegment seg = ctx.seg;
        long q = ctx.l4Off + Icmpv6Header.HEADER_LEN;
        long end = ctx.l4Off + ctx.ip6.upperLength();
        if (q + Ipv6Header.HEADER_LEN > end || Bytes.u8(seg, q) >>> 4 != 6) {
            return false;
        }
        int next = Bytes.u8(seg, q + Ipv6Header.NEXT_HEADER_OFFSET);
        long pos = q + Ipv6Header.HEADER_LEN;
        while (next != Ipv6Header.NEXT_TCP && next != Ipv6Header.NEXT_UDP) {
            int len;
            switch (next) {
                case Ipv6Header.NEXT_HOP_BY_HOP, Ipv6Header.NEXT_ROUTING, Ipv6Header.NEXT_DEST_OPTIONS -> {
                    if (pos + 2 > end) {
                        return false;
                    }
                    len = (Bytes.u8(seg, pos + 1) + 1) << 3;
                }
                case Ipv6Header.NEXT_AH -> {
                    if (pos + 2 > end) {
                        return false;
                    }
                    len = (Bytes.u8(seg, pos + 1) + 2) << 2;
                }
                case Ipv6Header.NEXT_FRAGMENT -> {
                    if (pos + Ipv6Header.FRAGMENT_HEADER_LEN > end || (Bytes.u16(seg, pos + 2) & 0xFFF8) != 0) {
                        return false; // a later fragment quotes no ports
                    }
                    len = Ipv6Header.FRAGMENT_HEADER_LEN;
                }
                default -> {
                    return false;
                }
            }
            next = Bytes.u8(seg, pos);
            pos += len;
        }
        if (pos + 4 > end) {
            return false;
        }
        long qsHi = seg.get(Bytes.BE64, q + Ipv6Header.SRC_OFFSET);
        long qsLo = seg.get(Bytes.BE64, q + Ipv6Header.SRC_OFFSET + 8);
        long qdHi = seg.get(Bytes.BE64, q + Ipv6Header.DST_OFFSET);
        long qdLo = seg.get(Bytes.BE64, q + Ipv6Header.DST_OFFSET + 8);
        int qsport = Bytes.u16(seg, pos);
        int qdport = Bytes.u16(seg, pos + 2);
        if (ctx.dstHi != qsHi || ctx.dstLo != qsLo) {
            return false;
        }
        long now = System.nanoTime();
        // From the client's side: it quotes a reply, [VIP]:vport -> client:cport.
        int id = conns.lookupIn(next, qdHi, qdLo, qdport, qsHi, qsLo, qsport, now);
        if (id >= 0) {
            toRealServer(ctx, id, q, pos, quotedTcpField(next, pos, 4, end));
            return true;
        }
        // From a NAT real server's side: it quotes client:cport -> [RIP]:rport; from a FULLNAT one,
        // [LIP]:lport -> [RIP]:rport (the OUT key holds the real server's peer either way).
        id = conns.lookupOut(next, qdHi, qdLo, qdport, qsHi, qsLo, qsport, now);
        if (id >= 0 && conns.dest(id).method.seesReplies()) {
            toClient(ctx, id, q, pos, next == Ipv6Header.NEXT_TCP ? end : -1);
            return true;
        }
        return false;
    }

    /** The offset of a 4-byte field of the quoted TCP header (4: sequence, 8: acknowledgement), or -1. */
    private static long quotedTcpField(int proto, long quotedL4, int field, long end) {
        return proto == Ipv6Header.NEXT_TCP && quotedL4 + field + 4 <= end ? quotedL4 + field : -1;
    }

    private void toRealServer(PacketContext ctx, int id, long quote, long quotedPorts, long quotedSeq) {
        RealServer d = conns.dest(id);
        ctx.conn = id;
        ctx.dest = d;
        ctx.service = conns.service(id);
        long hi = conns.daddrHi(id);
        long lo = conns.daddrLo(id);
        if (d.method == ForwardMethod.TUN) {
            tun.inbound(ctx); // encapsulated as it is (hop limit, MTU, route, NDP: the transmitter's)
            return;
        }
        if (!sender.fits(ctx, hi, lo)) {
            return;
        }
        if (d.method != ForwardMethod.DR) {
            if (!checksumValid(ctx)) {
                counters.drop(DropReason.BAD_CHECKSUM);
                return;
            }
            ctx.seg.set(Bytes.BE64, quote + Ipv6Header.SRC_OFFSET, hi);
            ctx.seg.set(Bytes.BE64, quote + Ipv6Header.SRC_OFFSET + 8, lo);
            Bytes.u16(ctx.seg, quotedPorts, conns.dport(id));
            if (d.method == ForwardMethod.FULLNAT) {
                // FULLNAT: the server sent its reply to [LIP]:lport, so that is what the quote names
                ctx.seg.set(Bytes.BE64, quote + Ipv6Header.DST_OFFSET, conns.laddrHi(id));
                ctx.seg.set(Bytes.BE64, quote + Ipv6Header.DST_OFFSET + 8, conns.laddrLo(id));
                Bytes.u16(ctx.seg, quotedPorts + 2, conns.lport(id));
            }
            if (quotedSeq >= 0 && conns.synProxyState(id) == SynProxyState.SP_SPLICED) {
                Bytes.i32(ctx.seg, quotedSeq, Bytes.i32(ctx.seg, quotedSeq) - conns.synProxySeq(id));
            }
            ctx.ip6.setDst(hi, lo);
            ctx.dstHi = hi;
            ctx.dstLo = lo;
            writeChecksum(ctx);
        }
        sender.send(ctx, hi, lo);
    }

    /** @param tcpEnd the error's end when the quote is TCP (its sequence number may be there), else -1 */
    private void toClient(PacketContext ctx, int id, long quote, long quotedPorts, long tcpEnd) {
        ctx.conn = id;
        ctx.dest = conns.dest(id);
        ctx.service = conns.service(id);
        ctx.reply = true;
        final boolean fullNat = ctx.dest.method == ForwardMethod.FULLNAT;
        long cHi = fullNat ? conns.caddrHi(id) : ctx.dstHi;
        long cLo = fullNat ? conns.caddrLo(id) : ctx.dstLo;
        if (!sender.fits(ctx, cHi, cLo)) {
            return;
        }
        if (!checksumValid(ctx)) {
            counters.drop(DropReason.BAD_CHECKSUM);
            return;
        }
        long vHi = conns.vaddrHi(id);
        long vLo = conns.vaddrLo(id);
        ctx.seg.set(Bytes.BE64, quote + Ipv6Header.DST_OFFSET, vHi);
        ctx.seg.set(Bytes.BE64, quote + Ipv6Header.DST_OFFSET + 8, vLo);
        Bytes.u16(ctx.seg, quotedPorts + 2, conns.vport(id));
        if (fullNat) {
            ctx.seg.set(Bytes.BE64, quote + Ipv6Header.SRC_OFFSET, cHi);
            ctx.seg.set(Bytes.BE64, quote + Ipv6Header.SRC_OFFSET + 8, cLo);
            Bytes.u16(ctx.seg, quotedPorts, conns.cport(id));
            if (tcpEnd >= 0 && quotedPorts + 8 <= tcpEnd) {
                boolean proxy = ctx.service.clientAddress == ClientAddressMode.PROXY_V2;
                ctx.seg.set(Bytes.BE32, quotedPorts + 4,
                        Fullnat6Xmit.clientSeq(conns, id, proxy, ctx.seg.get(Bytes.BE32, quotedPorts + 4)));
            }
            ctx.ip6.setDst(cHi, cLo);
            ctx.dstHi = cHi;
            ctx.dstLo = cLo;
        }
        if (tcpEnd >= 0 && quotedPorts + 12 <= tcpEnd && conns.synProxyState(id) == SynProxyState.SP_SPLICED) {
            // the quote acknowledges the server's stream: into the client's (cookie's) sequence space
            Bytes.i32(ctx.seg, quotedPorts + 8, Bytes.i32(ctx.seg, quotedPorts + 8) + conns.synProxySeq(id));
        }
        ctx.ip6.setSrc(vHi, vLo);
        ctx.srcHi = vHi;
        ctx.srcLo = vLo;
        writeChecksum(ctx);
        sender.send(ctx, cHi, cLo);
    }

    /**
     * True when the error's ICMPv6 checksum is right; a partial one (the sender left it to the
     * NIC) is taken as it is and completed by {@link #writeChecksum}.
     */
    private static boolean checksumValid(PacketContext ctx) {
        if (ctx.csumPartial) {
            ctx.vnet.setFlags(ctx.vnet.flags() & ~VirtioNetHeader.F_NEEDS_CSUM);
            ctx.csumPartial = false;
            return true;
        }
        return ctx.icmp6.checksum() == Checksum.l4v6(ctx.seg, ctx.l4Off, ctx.ip6.upperLength(),
                Ipv6Header.NEXT_ICMPV6, ctx.srcHi, ctx.srcLo, ctx.dstHi, ctx.dstLo);
    }

    private static void writeChecksum(PacketContext ctx) {
        ctx.icmp6.setChecksum(Checksum.l4v6(ctx.seg, ctx.l4Off, ctx.ip6.upperLength(), Ipv6Header.NEXT_ICMPV6,
                ctx.srcHi, ctx.srcLo, ctx.dstHi, ctx.dstLo));
    }
}
