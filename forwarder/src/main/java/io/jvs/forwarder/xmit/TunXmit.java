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
 * IP tunnelling (ipvsadm -i) of an IPv4 client's packet, as IPVS's ip_vs_tunnel_xmit (IPv4 real
 * server) and ip_vs_tunnel_xmit_v6 (IPv6 real server of an IPv4 service): the packet, TTL
 * decremented, is wrapped by {@link TunnelOuter} in an outer header of the real server's family
 * from the director's address on the egress port: IPv4 protocol 4 (IPIP) or IPv6 next header 4
 * (IPv4 in IPv6), or that + UDP to the real server's {@code --tun-port} + a 4-byte GUE header
 * (version 0, proto 4). The outer header copies the inner TOS, TTL and (IPv4) DF; the outer UDP
 * checksum is 0 unless {@code --tun-csum}. The real server decapsulates and answers the client
 * directly, so the director never sees replies.
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
 * of its segments) would exceed the egress MTU and DF is set, the packet is dropped
 * ({@link DropReason#FRAG_NEEDED}) and the client gets ICMP fragmentation-needed
 * with next-hop MTU = MTU - encapsulation: ICMPv4, the client's family, whatever the
 * outer one. A super-frame too big counts as DF (Linux TCP sets DF whenever it does
 * path MTU discovery). Without DF an IPv4 outer packet is fragmented, as ip_local_out
 * would; under an IPv6 outer header jvs does not fragment and answers as for DF.
 *
 * <p>Allocation-free; event-loop thread only.
 */
public final class TunXmit implements Xmit {
    /** Outer IPv4 header. */
    public static final int IPIP_OVERHEAD = Ipv4Header.MIN_HEADER_LEN;
    /** Outer IPv4 + UDP + 4-byte GUE header. */
    public static final int GUE_OVERHEAD = Ipv4Header.MIN_HEADER_LEN + Tunnels.UDP_GUE_LEN;

    private final NextHopSender sender;
    private final TunnelOuter outer;
    private final IcmpSender icmp;
    private final DataPathCounters counters;
    private final Ipv4Header inner = new Ipv4Header();
    private final UdpHeader udp = new UdpHeader();
    private final TcpHeader tcp = new TcpHeader();
    private final VirtioNetHeader vnet = new VirtioNetHeader();

    /**
     * @param sender6 the IPv6 sender for IPv6 real servers (IPv4 in IPv6); null when the data
     *                path has no IPv6
     */
    public TunXmit(NextHopSender sender, Ipv6Sender sender6, IcmpSender icmp, DataPathCounters counters) {
        this.sender = sender;
        this.outer = new TunnelOuter(sender, sender6, counters);
        this.icmp = icmp;
        this.counters = counters;
    }

    @Override
    public void inbound(PacketContext ctx) {
        RealServer d = ctx.dest;
        int lanMtu = outer.egress(d);
        if (lanMtu < 0) {
            return;
        }
        int encap = TunnelOuter.overhead(d);
        boolean gso = ctx.vnetOff >= 0 && ctx.vnet.isGso();
        int innerTotal = ctx.ip.totalLength();
        int wire = gso ? segmentLength(ctx) : innerTotal;
        boolean tooBig = wire + encap > lanMtu;
        // An IPv6 outer is never fragmented on the way (the kernel would fragment it at the
        // source): an IPv4 packet too big for it is answered as with DF, in ICMPv4 to the client.
        if (tooBig && (gso || ctx.ip.dontFragment() || d.ipv6)) {
            icmp.fragNeeded(ctx, lanMtu - encap);
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
            outer.fragment(ctx, d);
        } else {
            outer.transmit(ctx, d);
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
     * Moves the virtio_net_hdr and the L2 header back by encap bytes and has {@link TunnelOuter}
     * write the outer header(s) in the gap; ctx then describes the outer frame (vnetOff, frameOff,
     * frameLen, l3Off, eth/vnet views; ip for an IPv4 outer). Ethernet padding after the inner
     * datagram is cut.
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
        outer.write(seg, outerL3, d, encap, innerTotal, Ipv4Header.PROTO_IPIP, tos, ttl, df, flowPort, outerCsum);
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
        if (!d.ipv6) {
            ctx.ip.wrap(seg, outerL3);
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
        LanPort port = outer.port();
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
            // After the inner packet is final: the outer UDP checksum covers it.
            outer.resize(b, so, d, encap, innerLen, outerCsum);
            outer.send(b, o, frameLen, d);
            done += n;
        }
    }
}
