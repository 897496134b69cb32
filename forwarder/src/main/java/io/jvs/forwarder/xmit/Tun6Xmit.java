package io.jvs.forwarder.xmit;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.packet.Checksum;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;

/**
 * IP tunnelling (ipvsadm -i) of an IPv6 client's packet, as IPVS's ip_vs_tunnel_xmit_v6 (IPv6 real
 * server) and ip_vs_tunnel_xmit (IPv4 real server of an IPv6 service): the packet, hop limit
 * decremented, is wrapped by {@link TunnelOuter} in an outer header of the real server's family:
 * IPv6 next header 41 (ip6ip6, RFC 2473) or IPv4 protocol 41 (IPv6 in IPv4, DF 0), or that + UDP
 * to the real server's {@code --tun-port} + a 4-byte GUE header (version 0, proto/ctype 41) as
 * ipvs_gue_encap. The outer header copies the inner traffic class and (decremented) hop limit,
 * flow label 0; no encapsulation limit option (IPVS adds none). The outer UDP checksum is 0
 * (RFC 6935; IPVS's udp6_set_csum with nocheck) unless {@code --tun-csum}. The real server
 * decapsulates and answers the client directly.
 *
 * <p>As {@link TunXmit}: the outer headers go into the frame source's headroom in front of the
 * untouched inner packet; a partial inner checksum is finished in software first; a GSO
 * super-frame is cut in software into the ports' bulk scratch, one encapsulated packet per
 * gso_size of payload (virtio_net_hdr has no tunnel GSO type).
 *
 * <p>Path MTU, as ip_vs_tunnel_xmit_v6: the tunnel's MTU is the egress port's less the
 * encapsulation (40 bytes ip6ip6, 52 GUE; 20 and 32 over IPv4). A packet (a super-frame: each of its segments)
 * larger than that is dropped as PACKET_TOO_BIG and the client gets ICMPv6 Packet Too Big
 * carrying the tunnel's MTU (rate-limited, {@link Ipv6Sender#fits(PacketContext, int)}): IPv6
 * is never fragmented on the way. A tunnel MTU below the IPv6 minimum (1280) cannot be
 * announced; the kernel drops every packet then, and so does jvs (PACKET_TOO_BIG, no ICMPv6).
 *
 * <p>Allocation-free; event-loop thread only.
 */
public final class Tun6Xmit implements Xmit {
    /** Outer IPv6 header. */
    public static final int IP6IP6_OVERHEAD = Ipv6Header.HEADER_LEN;
    /** Outer IPv6 + UDP + 4-byte GUE header. */
    public static final int GUE6_OVERHEAD = Ipv6Header.HEADER_LEN + Tunnels.UDP_GUE_LEN;

    private final Ipv6Sender sender;
    private final TunnelOuter outer;
    private final DataPathCounters counters;
    private final Ipv6Header inner = new Ipv6Header();
    private final UdpHeader udp = new UdpHeader();
    private final TcpHeader tcp = new TcpHeader();
    private final VirtioNetHeader vnet = new VirtioNetHeader();

    /** @param sender4 the IPv4 sender for IPv4 real servers (IPv6 in IPv4) */
    public Tun6Xmit(Ipv6Sender sender, NextHopSender sender4, DataPathCounters counters) {
        this.sender = sender;
        this.outer = new TunnelOuter(sender4, sender, counters);
        this.counters = counters;
    }

    @Override
    public void inbound(PacketContext ctx) {
        RealServer d = ctx.dest;
        int encap = TunnelOuter.overhead(d);
        int mtu = outer.egress(d) - encap;
        if (mtu < Icmpv6Header.MIN_MTU) {
            counters.drop(DropReason.PACKET_TOO_BIG); // ip_vs_tunnel_xmit_v6: "mtu less than 1280"
            return;
        }
        // Packet Too Big in ICMPv6, the client's family, whatever the outer one; so an IPv4 outer
        // header never needs fragmenting (it goes with DF 0, as the kernel's).
        if (!sender.fits(ctx, mtu) || !sender.decrementHopLimit(ctx)) {
            return;
        }
        boolean gso = ctx.vnetOff >= 0 && ctx.vnet.isGso();
        boolean outerCsum = d.tunType == TunnelType.GUE && (d.tunFlags & TunnelType.FLAG_CSUM) != 0;
        if (!gso && ctx.csumPartial) {
            Rewrite.finishPartialChecksum(ctx);
        }
        int innerTotal = Ipv6Header.HEADER_LEN + ctx.ip6.payloadLength();
        encapsulate(ctx, d, encap, innerTotal, outerCsum && !gso);
        if (gso) {
            segment(ctx, d, encap, outerCsum);
        } else {
            outer.transmit(ctx, d);
        }
    }

    @Override
    public void outbound(PacketContext ctx) {
        // TUN real servers answer the client directly; a TUN connection is never in the OUT index.
        counters.ignored();
    }

    /**
     * Moves the virtio_net_hdr and the L2 header back by encap bytes and has {@link TunnelOuter}
     * write the outer header(s) in the gap; ctx then describes the outer frame (ip6 for an IPv6
     * outer). Ethernet padding after the inner packet is cut.
     */
    private void encapsulate(PacketContext ctx, RealServer d, int encap, int innerTotal, boolean outerCsum) {
        if (ctx.vnetOff < 0 || ctx.headroom < encap) {
            throw new IllegalStateException("frame source gives " + ctx.headroom + " bytes of headroom, TUN needs "
                    + encap + " in front of the virtio_net_hdr");
        }
        MemorySegment seg = ctx.seg;
        long innerL3 = ctx.l3Off;
        int l2 = (int) (innerL3 - ctx.frameOff);
        int trafficClass = ctx.ip6.trafficClass();
        int hops = ctx.ip6.hopLimit();
        int flowPort = d.tunType == TunnelType.GUE ? Tunnels.flowSourcePort(Tunnels.fold(ctx.srcHi, ctx.srcLo),
                Tunnels.fold(ctx.dstHi, ctx.dstLo), ctx.srcPort, ctx.dstPort, ctx.ipProto) : 0;
        long vnetOff = ctx.vnetOff - encap;
        long frameOff = ctx.frameOff - encap;
        MemorySegment.copy(seg, ctx.vnetOff, seg, vnetOff, VirtioNetHeader.SIZE);
        MemorySegment.copy(seg, ctx.frameOff, seg, frameOff, l2);
        long outerL3 = innerL3 - encap;
        outer.write(seg, outerL3, d, encap, innerTotal, Ipv6Header.NEXT_IPV6, trafficClass, hops, false, flowPort,
                outerCsum);
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
        if (d.ipv6) {
            ctx.ip6.wrap(seg, outerL3);
        }
    }

    /**
     * Software GSO of the encapsulated super-frame in ctx: one frame per gso_size bytes of inner
     * payload, in bulk scratch, each with its own outer and inner payload lengths and inner L4
     * checksum (the outer UDP one under {@code --tun-csum}); TCP sequence numbers and flags as
     * tcp_gso_segment gives them. Inner extension headers are copied into every segment.
     */
    private void segment(PacketContext ctx, RealServer d, int encap, boolean outerCsum) {
        MemorySegment seg = ctx.seg;
        long frame = ctx.frameOff;
        int l2 = (int) (ctx.l3Off - frame);
        long innerL3 = ctx.l3Off + encap;
        inner.wrap(seg, innerL3);
        // The inner packet did not move: ctx.l4Off is still its L4 header.
        int ipHeaders = ctx.l4Off < 0 ? -1 : (int) (ctx.l4Off - innerL3);
        int proto = ctx.ipProto;
        boolean isTcp = proto == Ipv6Header.NEXT_TCP;
        if (ipHeaders < Ipv6Header.HEADER_LEN || !isTcp && proto != Ipv6Header.NEXT_UDP) {
            counters.drop(DropReason.MALFORMED);
            return;
        }
        long innerL4 = innerL3 + ipHeaders;
        int l4h = isTcp ? tcp.wrap(seg, innerL4).dataOffset() : UdpHeader.HEADER_LEN;
        int seq0 = isTcp ? tcp.seq() : 0;
        int flags0 = isTcp ? tcp.flags() : 0;
        long srcHi = inner.srcHi();
        long srcLo = inner.srcLo();
        long dstHi = inner.dstHi();
        long dstLo = inner.dstLo();
        int headers = l2 + encap + ipHeaders + l4h;
        int payload = Ipv6Header.HEADER_LEN + inner.payloadLength() - ipHeaders - l4h;
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
            int innerLen = ipHeaders + l4Len;
            long so = f + l2;
            long si = so + encap;
            inner.wrap(b, si).setPayloadLength(innerLen - Ipv6Header.HEADER_LEN);
            long sl4 = si + ipHeaders;
            int pseudo = Checksum.pseudoHeaderSum6(srcHi, srcLo, dstHi, dstLo, proto, l4Len);
            if (isTcp) {
                tcp.wrap(b, sl4).setSeq(seq0 + done).setFlags(Tunnels.segmentFlags(flags0, k, last))
                        .setChecksum(pseudo);
            } else {
                udp.wrap(b, sl4).setLength(l4Len).setChecksum(pseudo);
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
