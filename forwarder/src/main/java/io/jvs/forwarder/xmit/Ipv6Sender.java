package io.jvs.forwarder.xmit;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.neigh.RouteTable6;
import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * {@link NextHopSender} for IPv6: the hop limit (IPVS's decrement_ttl for AF_INET6: a packet
 * whose hop limit would reach 0 is answered with ICMPv6 Time Exceeded, code 0, and dropped as
 * TTL_EXPIRED), then the route in the IPv6 routing table ({@link RouteTable6}), which gives the
 * port and the next hop, that port's {@link NeighbourCache6} for the next hop's MAC (the frame
 * parked there while a solicitation is out), and the port's queue. Also the ICMPv6 jvs
 * originates: Time Exceeded, Packet Too Big (a packet larger than its egress port's MTU:
 * {@link #fits}) and echo replies for a VIP. Allocation-free; event loop only.
 *
 * <p>Time Exceeded and Packet Too Big quote as much of the offending packet as keeps the error within the IPv6
 * minimum MTU (RFC 4443 2.4 (c)), is sourced from the egress port's IPv6 address and
 * rate-limited like the IPv4 errors ({@link IcmpRateLimit}: 1000/s, burst 50).
 */
public final class Ipv6Sender {
    private final NeighbourCache6[] neighbours;
    private final Supplier<RouteTable6> routes;
    private final DataPathCounters counters;
    private final PacketContext out = new PacketContext();
    private final Ipv6Header ip = new Ipv6Header();
    private final Icmpv6Header icmp = new Icmpv6Header();
    private final IcmpRateLimit limit = new IcmpRateLimit();

    public Ipv6Sender(NeighbourCache6[] neighbours, Supplier<RouteTable6> routes, DataPathCounters counters) {
        if (neighbours.length == 0) {
            throw new IllegalArgumentException("no port to send IPv6 on");
        }
        this.neighbours = neighbours.clone();
        this.routes = routes;
        this.counters = counters;
    }

    /** Sends the forwarded packet in ctx towards (hi, lo) with its hop limit decremented. */
    public void send(PacketContext ctx, long hi, long lo) {
        if (decrementHopLimit(ctx)) {
            transmit(ctx, hi, lo);
        }
    }

    /**
     * IPVS's decrement_ttl for AF_INET6: false (the source answered with Time Exceeded, the
     * packet dropped as TTL_EXPIRED) when the hop limit would reach 0; else decrements it.
     */
    public boolean decrementHopLimit(PacketContext ctx) {
        if (ctx.ttl <= 1) {
            timeExceeded(ctx);
            counters.drop(DropReason.TTL_EXPIRED);
            return false;
        }
        Rewrite.decrementHopLimit(ctx);
        return true;
    }

    /** The port a packet to (hi, lo) leaves by; the first when no route of jvs's covers it. */
    public NeighbourCache6 egress(long hi, long lo) {
        RouteTable6 rt = routes.get();
        int r = rt.lookup(hi, lo);
        int p = r < 0 ? -1 : rt.port(r);
        return neighbours[p < 0 || p >= neighbours.length ? 0 : p];
    }

    /** Routes and queues the frame in ctx towards (hi, lo), its IPv6 header untouched. */
    public void transmit(PacketContext ctx, long hi, long lo) {
        RouteTable6 rt = routes.get();
        int r = rt.lookup(hi, lo);
        int p = r < 0 ? -1 : rt.port(r);
        if (p < 0 || p >= neighbours.length) {
            counters.drop(DropReason.NO_ROUTE);
            return;
        }
        long hopHi = rt.hopHi(r, hi, lo);
        long hopLo = rt.hopLo(r, hi, lo);
        NeighbourCache6 n = neighbours[p];
        LanPort port = n.port();
        ctx.eth.setSrc(port.mac);
        long mac = n.resolve(hopHi, hopLo, System.nanoTime());
        if (mac < 0) {
            if (!n.enqueue(hopHi, hopLo, ctx)) {
                counters.drop(DropReason.NEIGH_QUEUE_FULL);
            }
            return;
        }
        ctx.eth.setDst(mac);
        port.send(ctx.seg, ctx.vnetOff, ctx.frameLen);
    }

    /**
     * IPVS's ensure_mtu_is_adequate for IPv6, before the packet in ctx (not yet rewritten) is
     * sent towards (hi, lo): true when it fits the MTU of the port it would leave by (a GSO
     * super-frame: each segment it is cut into); else it is dropped as PACKET_TOO_BIG and its
     * source gets a Packet Too Big carrying that MTU ({@link #packetTooBig}), so the sender
     * lowers its path MTU: IPv6 routers do not fragment. A later fragment carries no upper
     * header and is only dropped (the kernel answers only first fragments).
     */
    public boolean fits(PacketContext ctx, long hi, long lo) {
        return fits(ctx, egress(hi, lo).port().mtu);
    }

    /**
     * As {@link #fits(PacketContext, long, long)} against a given path MTU: a tunnel's, the
     * egress port's MTU less the encapsulation (ip_vs_tunnel_xmit_v6), which the Packet Too Big
     * carries.
     */
    public boolean fits(PacketContext ctx, int mtu) {
        if (wireLength(ctx) <= mtu) {
            return true;
        }
        if (ctx.l4Off >= 0) {
            packetTooBig(ctx, mtu);
        }
        counters.drop(DropReason.PACKET_TOO_BIG);
        return false;
    }

    /** The IPv6 packet's length on the wire; for a GSO super-frame, that of the segments it is cut into. */
    private static int wireLength(PacketContext ctx) {
        if (ctx.vnetOff >= 0 && ctx.vnet.isGso() && ctx.l4Off >= 0) {
            int l4 = ctx.ipProto == Ipv6Header.NEXT_TCP ? ctx.tcp.dataOffset() : UdpHeader.HEADER_LEN;
            return (int) (ctx.l4Off - ctx.l3Off) + l4 + ctx.vnet.gsoSize();
        }
        return Ipv6Header.HEADER_LEN + ctx.ip6.payloadLength();
    }

    /**
     * ICMPv6 Time Exceeded (type 3, code 0: hop limit exceeded in transit) to the source of the
     * packet in ctx; false when rate-limited. Not for an ICMPv6 error (RFC 4443 2.4 (e)), nor
     * for a source that is multicast or unspecified.
     */
    public boolean timeExceeded(PacketContext ctx) {
        return error(ctx, Icmpv6Header.TYPE_TIME_EXCEEDED, 0, 0);
    }

    /**
     * ICMPv6 Packet Too Big (type 2, code 0, RFC 4443 3.2) carrying {@code mtu} to the source of
     * the packet in ctx; false when rate-limited, and under the same exceptions as
     * {@link #timeExceeded}.
     */
    public boolean packetTooBig(PacketContext ctx, int mtu) {
        return error(ctx, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, mtu);
    }

    private boolean error(PacketContext ctx, int type, int code, int body) {
        if (ctx.ipProto == Ipv6Header.NEXT_ICMPV6 && ctx.l4Off >= 0 && Icmpv6Header.isError(ctx.icmp6.type())
                || Ipv6Header.isMulticast(ctx.srcHi) || ctx.srcHi == 0 && ctx.srcLo == 0 || !limit.take()) {
            return false;
        }
        int packet = Ipv6Header.HEADER_LEN + ctx.ip6.payloadLength();
        int quote = Math.min(packet, Icmpv6Header.MIN_MTU - Ipv6Header.HEADER_LEN - Icmpv6Header.HEADER_LEN);
        NeighbourCache6 via = egress(ctx.srcHi, ctx.srcLo);
        LanPort port = via.port();
        int frameLen = EthernetHeader.HEADER_LEN + Ipv6Header.HEADER_LEN + Icmpv6Header.HEADER_LEN + quote;
        long slot = port.allocBulk(10 + frameLen);
        MemorySegment s = port.bulk();
        Bytes.zero(s, slot, 10);
        long frame = slot + 10;
        long l3 = frame + EthernetHeader.HEADER_LEN;
        long l4 = l3 + Ipv6Header.HEADER_LEN;
        // The quote first: it is read from the received frame, which the headers must not overwrite.
        MemorySegment.copy(ctx.seg, ctx.l3Off, s, l4 + Icmpv6Header.HEADER_LEN, quote);
        out.eth.wrap(s, frame).setEtherType(EthernetHeader.ETH_P_IPV6);
        ip.wrap(s, l3).setVersionClassFlow(0, 0).setPayloadLength(Icmpv6Header.HEADER_LEN + quote)
                .setNextHeader(Ipv6Header.NEXT_ICMPV6).setHopLimit(64).setSrc(via.sourceHi, via.sourceLo)
                .setDst(ctx.srcHi, ctx.srcLo);
        icmp.wrap(s, l4).setType(type).setCode(code).setBody(body);
        icmp.setChecksum(Checksum.l4v6(s, l4, Icmpv6Header.HEADER_LEN + quote, Ipv6Header.NEXT_ICMPV6,
                via.sourceHi, via.sourceLo, ctx.srcHi, ctx.srcLo));
        out.seg = s;
        out.vnetOff = slot;
        out.frameOff = frame;
        out.frameLen = frameLen;
        transmit(out, ctx.srcHi, ctx.srcLo);
        return true;
    }

    /**
     * Turns the echo request in ctx (to a VIP) into its reply in place: addresses swapped, type
     * 129, hop limit 64, the ICMPv6 checksum computed afresh over the pseudo-header (a partial one
     * finished so); sends it back. False, sending nothing, when the request's checksum is wrong.
     */
    public boolean echoReply(PacketContext ctx) {
        int len = ctx.ip6.upperLength();
        long l4 = ctx.l4Off;
        if (!ctx.csumPartial) {
            int stored = ctx.icmp6.checksum();
            int want = Checksum.l4v6(ctx.seg, l4, len, Ipv6Header.NEXT_ICMPV6, ctx.srcHi, ctx.srcLo, ctx.dstHi, ctx.dstLo);
            if (stored != want) {
                return false;
            }
        } else {
            ctx.vnet.setFlags(ctx.vnet.flags() & ~VirtioNetHeader.F_NEEDS_CSUM);
            ctx.csumPartial = false;
        }
        long cHi = ctx.srcHi;
        long cLo = ctx.srcLo;
        ctx.ip6.setSrc(ctx.dstHi, ctx.dstLo).setDst(cHi, cLo).setHopLimit(64);
        ctx.srcHi = ctx.dstHi;
        ctx.srcLo = ctx.dstLo;
        ctx.dstHi = cHi;
        ctx.dstLo = cLo;
        ctx.icmp6.setType(Icmpv6Header.TYPE_ECHO_REPLY);
        ctx.icmp6.setChecksum(Checksum.l4v6(ctx.seg, l4, len, Ipv6Header.NEXT_ICMPV6, ctx.srcHi, ctx.srcLo, cHi, cLo));
        transmit(ctx, cHi, cLo);
        return true;
    }
}
