package io.jvs.forwarder.xmit;

import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.packet.Checksum;
import io.jvs.packet.Ipv4Header;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.VirtioNetHeader;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.TunnelType;

import java.lang.foreign.MemorySegment;

/**
 * IP tunnelling (ipvsadm -i), as IPVS's ip_vs_tunnel_xmit: the client's packet,
 * TTL decremented, is wrapped in an outer IPv4 header from the director's LAN
 * address to the real server (IPIP, protocol 4), or in IPv4 + UDP to the real
 * server's {@code --tun-port} + a 4-byte GUE header (version 0, proto 4). The
 * outer header copies the inner TOS, TTL and DF; the outer UDP checksum is 0
 * unless {@code --tun-csum}. The real server decapsulates and answers the
 * client directly, so the director never sees replies.
 *
 * <p>Room for the outer header: every frame source leaves headroom in front of
 * the frame ({@link PacketContext#headroom}: PACKET_RESERVE in the RX ring, a
 * gap in each TAP slot), so the virtio_net_hdr and the Ethernet header are
 * moved back by the encapsulation's length and the outer header is written in
 * front of the untouched inner packet: no copy of the payload.
 *
 * <p>Offloads: a partial inner checksum (CHECKSUM_PARTIAL) is finished in
 * software before encapsulation. Left partial, it would only be filled in by a
 * device with checksum offload on the way; across veth and bridges it reaches the
 * real server unfinished, which the kernel's own ipip decapsulation tolerates but
 * a userspace decapsulator (jvs-agent on kernels without ipip) cannot: it
 * re-injects the inner packet through a TUN device, where the bad checksum
 * drops it. A GSO super-frame cannot leave as one either: virtio_net_hdr has no
 * IPIP/UDP-tunnel GSO type, and the kernel refuses to segment an IPIP skb not
 * marked SKB_GSO_IPXIP4. So jvs segments it in software into the ports' shared
 * bulk scratch, one encapsulated frame per gso_size of payload, each with its
 * inner checksum computed (and the outer UDP one under {@code --tun-csum}).
 *
 * <p>Path MTU, as IPVS: when the encapsulated packet (for a super-frame, each
 * of its segments) would exceed the LAN MTU and DF is set, the packet is dropped
 * ({@link DropReason#FRAG_NEEDED}) and the client gets ICMP fragmentation-needed
 * with next-hop MTU = MTU - encapsulation. A super-frame too big counts as DF
 * (Linux TCP sets DF whenever it does path MTU discovery). Without DF the outer
 * packet is fragmented, as ip_local_out would.
 *
 * <p>Allocation-free; event-loop thread only.
 */
public final class TunXmit implements Xmit {
    /** Outer IPv4 header. */
    public static final int IPIP_OVERHEAD = Ipv4Header.MIN_HEADER_LEN;
    /** Outer IPv4 + UDP + 4-byte GUE header. */
    public static final int GUE_OVERHEAD = Ipv4Header.MIN_HEADER_LEN + Tunnels.UDP_GUE_LEN;

    private final NextHopSender sender;
    /** The port the packet being sent leaves by (set first thing in inbound: its MTU and address). */
    private LanPort port;
    private final IcmpSender icmp;
    private final DataPathCounters counters;
    private final PacketContext out = new PacketContext();
    private final Ipv4Header outer = new Ipv4Header();
    private final Ipv4Header inner = new Ipv4Header();
    private final UdpHeader udp = new UdpHeader();
    private final TcpHeader tcp = new TcpHeader();
    private final VirtioNetHeader vnet = new VirtioNetHeader();
    private int nextId;

    public TunXmit(NextHopSender sender, IcmpSender icmp, DataPathCounters counters) {
        this.sender = sender;
        this.icmp = icmp;
        this.counters = counters;
    }

    /** Bytes the encapsulation adds. */
    public static int overhead(TunnelType type) {
        return switch (type) {
            case IPIP -> IPIP_OVERHEAD;
            case GUE -> GUE_OVERHEAD;
            // Refused when the configuration is validated (Director.validate).
            case GRE -> throw new IllegalStateException("GRE tunnels are not transmitted");
        };
    }

    @Override
    public void inbound(PacketContext ctx) {
        RealServer d = ctx.dest;
        port = sender.egress(d.addr);
        int encap = overhead(d.tunType);
        boolean gso = ctx.vnetOff >= 0 && ctx.vnet.isGso();
        int innerTotal = ctx.ip.totalLength();
        int wire = gso ? segmentLength(ctx) : innerTotal;
        boolean tooBig = wire + encap > port.mtu;
        if (tooBig && (gso || ctx.ip.dontFragment())) {
            icmp.fragNeeded(ctx, port.mtu - encap);
            counters.drop(DropReason.FRAG_NEEDED);
            return;
        }
        if (!sender.decrementTtl(ctx)) {
            return;
        }
        boolean outerCsum = d.tunType == TunnelType.GUE && (d.tunFlags & TunnelType.FLAG_CSUM) != 0;
        if (!gso && ctx.csumPartial) {
            Rewrite.finishPartialChecksum(ctx);
        }
        encapsulate(ctx, d, encap, innerTotal, outerCsum && !gso);
        if (gso) {
            segment(ctx, d, encap, outerCsum);
        } else if (tooBig) {
            fragment(ctx, d.addr);
        } else {
            sender.transmit(ctx, d.addr);
        }
    }

    @Override
    public void outbound(PacketContext ctx) {
        // TUN real servers answer the client directly; a TUN connection is never in the OUT index.
        counters.ignored();
    }

    /** Length of the largest IP packet a super-frame is cut into: headers + gso_size. */
    private static int segmentLength(PacketContext ctx) {
        int l4 = switch (ctx.ipProto) {
            case Ipv4Header.PROTO_TCP -> ctx.tcp.dataOffset();
            case Ipv4Header.PROTO_UDP -> UdpHeader.HEADER_LEN;
            default -> 0;
        };
        return ctx.ip.ihl() + l4 + ctx.vnet.gsoSize();
    }

    /**
     * Moves the virtio_net_hdr and the L2 header back by encap bytes and writes the outer
     * header(s) in the gap; ctx then describes the outer frame (vnetOff, frameOff,
     * frameLen, l3Off, eth/ip/vnet views). Ethernet padding after the inner datagram is cut.
     */
    private void encapsulate(PacketContext ctx, RealServer d, int encap, int innerTotal, boolean outerCsum) {
        if (ctx.vnetOff < 0 || ctx.headroom < encap) {
            throw new IllegalStateException("frame source gives " + ctx.headroom + " bytes of headroom, TUN needs "
                    + encap + " in front of the virtio_net_hdr");
        }
        MemorySegment seg = ctx.seg;
        long innerL3 = ctx.l3Off;
        int l2 = (int) (innerL3 - ctx.frameOff);
        int tos = ctx.ip.tos();
        int ttl = ctx.ip.ttl();
        boolean df = ctx.ip.dontFragment();
        int flowPort = d.tunType == TunnelType.GUE ? flowSourcePort(ctx) : 0;

        long vnetOff = ctx.vnetOff - encap;
        long frameOff = ctx.frameOff - encap;
        MemorySegment.copy(seg, ctx.vnetOff, seg, vnetOff, VirtioNetHeader.SIZE);
        MemorySegment.copy(seg, ctx.frameOff, seg, frameOff, l2);
        long outerL3 = innerL3 - encap;
        // A super-frame's outer length is only a template: each segment gets its own.
        int total = Math.min(encap + innerTotal, Ipv4Header.MAX_TOTAL_LENGTH);
        writeOuter(seg, outerL3, d, tos, ttl, df, total, flowPort);
        ctx.vnetOff = vnetOff;
        ctx.frameOff = frameOff;
        ctx.frameLen = l2 + encap + innerTotal;
        ctx.l3Off = outerL3;
        ctx.headroom -= encap;
        ctx.vnet.wrap(seg, vnetOff);
        if (ctx.csumPartial) {
            ctx.vnet.setCsumStart(ctx.vnet.csumStart() + encap);
        }
        ctx.eth.wrap(seg, frameOff);
        ctx.ip.wrap(seg, outerL3);
        if (outerCsum) {
            long u = outerL3 + Ipv4Header.MIN_HEADER_LEN;
            udp.wrap(seg, u).setChecksum(Checksum.l4(seg, u, total - Ipv4Header.MIN_HEADER_LEN,
                    Ipv4Header.PROTO_UDP, port.addr, d.addr));
        }
    }

    /** Outer IPv4 (+ UDP + GUE) header at off; UDP checksum 0. */
    private void writeOuter(MemorySegment seg, long off, RealServer d, int tos, int ttl, boolean df, int total,
                            int flowPort) {
        boolean gue = d.tunType == TunnelType.GUE;
        outer.wrap(seg, off).setVersion(4).setIhl(Ipv4Header.MIN_HEADER_LEN);
        outer.setTos(tos).setTotalLength(total).setId(nextId++ & 0xFFFF)
                .setFlagsFragment(df ? Ipv4Header.FLAG_DF : 0).setTtl(ttl)
                .setProtocol(gue ? Ipv4Header.PROTO_UDP : Ipv4Header.PROTO_IPIP)
                .setSrc(port.addr).setDst(d.addr).writeChecksum();
        if (gue) {
            Tunnels.writeUdpGue(udp, seg, off + Ipv4Header.MIN_HEADER_LEN, flowPort, d.tunPort,
                    total - Ipv4Header.MIN_HEADER_LEN, Ipv4Header.PROTO_IPIP);
        }
    }

    private static int flowSourcePort(PacketContext ctx) {
        return Tunnels.flowSourcePort(ctx.srcAddr, ctx.dstAddr, ctx.srcPort, ctx.dstPort, ctx.ipProto);
    }

    /**
     * Software GSO of the encapsulated super-frame in ctx: one frame per gso_size bytes
     * of inner payload, in bulk scratch, each with its own outer and inner lengths, ids
     * and checksums; TCP segments get their sequence numbers and flags as tcp_gso_segment
     * gives them (FIN/PSH only on the last, CWR only on the first).
     */
    private void segment(PacketContext ctx, RealServer d, int encap, boolean outerCsum) {
        MemorySegment seg = ctx.seg;
        long frame = ctx.frameOff;
        int l2 = (int) (ctx.l3Off - frame);
        long innerL3 = ctx.l3Off + encap;
        inner.wrap(seg, innerL3);
        int ihl = inner.ihl();
        int proto = inner.protocol();
        boolean isTcp = proto == Ipv4Header.PROTO_TCP;
        if (!isTcp && proto != Ipv4Header.PROTO_UDP) {
            counters.drop(DropReason.MALFORMED);
            return;
        }
        int l4h = isTcp ? tcp.wrap(seg, innerL3 + ihl).dataOffset() : UdpHeader.HEADER_LEN;
        int seq0 = isTcp ? tcp.seq() : 0;
        int flags0 = isTcp ? tcp.flags() : 0;
        int id0 = inner.id();
        int src = inner.src();
        int dst = inner.dst();
        int headers = l2 + encap + ihl + l4h;
        int payload = inner.totalLength() - ihl - l4h;
        int mss = ctx.vnet.gsoSize();
        if (mss <= 0 || payload <= 0) {
            counters.drop(DropReason.MALFORMED);
            return;
        }
        MemorySegment b = port.bulk();
        for (int k = 0, done = 0; done < payload; k++) {
            int n = Math.min(mss, payload - done);
            boolean last = done + n == payload;
            int frameLen = headers + n;
            long o = port.allocBulk(VirtioNetHeader.SIZE + frameLen);
            long f = o + VirtioNetHeader.SIZE;
            MemorySegment.copy(seg, frame, b, f, headers);
            MemorySegment.copy(seg, frame + headers + done, b, f + headers, n);
            int l4Len = l4h + n;
            int innerLen = ihl + l4Len;
            long so = f + l2;
            outer.wrap(b, so).setTotalLength(encap + innerLen).setId(nextId++ & 0xFFFF).writeChecksum();
            long si = so + encap;
            inner.wrap(b, si).setTotalLength(innerLen).setId((id0 + k) & 0xFFFF).writeChecksum();
            long sl4 = si + ihl;
            if (isTcp) {
                tcp.wrap(b, sl4).setSeq(seq0 + done).setFlags(Tunnels.segmentFlags(flags0, k, last))
                        .setChecksum(Checksum.pseudoHeaderSum(src, dst, proto, l4Len));
            } else {
                udp.wrap(b, sl4).setLength(l4Len).setChecksum(Checksum.pseudoHeaderSum(src, dst, proto, l4Len));
            }
            vnet.wrap(b, o).clear();
            // The field holds the pseudo-header sum: summing the segment from the L4 header finishes it.
            int c = ~Checksum.sum(b, sl4, l4Len) & 0xFFFF;
            if (isTcp) {
                tcp.setChecksum(c);
            } else {
                udp.wrap(b, sl4).setChecksum(c == 0 ? 0xFFFF : c);
            }
            if (d.tunType == TunnelType.GUE) {
                long u = so + Ipv4Header.MIN_HEADER_LEN;
                udp.wrap(b, u).setLength(encap - Ipv4Header.MIN_HEADER_LEN + innerLen);
                if (outerCsum) {
                    udp.setChecksum(Checksum.l4(b, u, encap - Ipv4Header.MIN_HEADER_LEN + innerLen,
                            Ipv4Header.PROTO_UDP, port.addr, d.addr));
                }
            }
            send(b, o, frameLen, d.addr);
            done += n;
        }
    }

    /**
     * Fragments the encapsulated (non-GSO, complete-checksum) packet in ctx to the LAN
     * MTU, as ip_fragment would: every fragment but the last carries a multiple of 8
     * bytes; all share the outer id.
     */
    private void fragment(PacketContext ctx, int rip) {
        MemorySegment seg = ctx.seg;
        int l2 = (int) (ctx.l3Off - ctx.frameOff);
        int headers = l2 + Ipv4Header.MIN_HEADER_LEN;
        int payload = ctx.ip.totalLength() - Ipv4Header.MIN_HEADER_LEN;
        int chunk = (port.mtu - Ipv4Header.MIN_HEADER_LEN) & ~7;
        MemorySegment b = port.bulk();
        for (int done = 0; done < payload; ) {
            int n = Math.min(chunk, payload - done);
            boolean last = done + n == payload;
            int frameLen = headers + n;
            long o = port.allocBulk(VirtioNetHeader.SIZE + frameLen);
            long f = o + VirtioNetHeader.SIZE;
            vnet.wrap(b, o).clear();
            MemorySegment.copy(seg, ctx.frameOff, b, f, headers);
            MemorySegment.copy(seg, ctx.frameOff + headers + done, b, f + headers, n);
            outer.wrap(b, f + l2).setTotalLength(Ipv4Header.MIN_HEADER_LEN + n)
                    .setFlagsFragment((last ? 0 : Ipv4Header.FLAG_MF) | (done >>> 3)).writeChecksum();
            send(b, o, frameLen, rip);
            done += n;
        }
    }

    private void send(MemorySegment b, long vnetOff, int frameLen, int rip) {
        out.seg = b;
        out.vnetOff = vnetOff;
        out.frameOff = vnetOff + VirtioNetHeader.SIZE;
        out.frameLen = frameLen;
        out.eth.wrap(b, out.frameOff);
        sender.transmit(out, rip);
    }
}
