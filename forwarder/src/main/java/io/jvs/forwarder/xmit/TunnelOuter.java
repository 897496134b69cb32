package io.jvs.forwarder.xmit;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;

/**
 * The outer side of IP tunnelling, in the real server's family whatever the client's: IPVS picks
 * its transmitter by the destination's family (ip_vs_tunnel_xmit for an IPv4 real server,
 * ip_vs_tunnel_xmit_v6 for an IPv6 one) and either takes an inner packet of both families. So
 * {@link TunXmit} (IPv4 inner) and {@link Tun6Xmit} (IPv6 inner) do the inner side (hop limit,
 * path MTU answered in the client's family, offloads, software GSO) and this class, once, the
 * outer one:
 * <ul>
 *   <li>IPv4 outer (ip_vs_tunnel_xmit): 20 bytes from the egress port's address, protocol 4 for
 *       an IPv4 inner packet (IPIP) or 41 for an IPv6 one (SIT, 6in4); TOS and TTL from the
 *       inner packet; DF copied from an IPv4 inner packet, 0 under an IPv6 one (the kernel's
 *       ip_vs_prepare_tunneled_skb); id from a counter.</li>
 *   <li>IPv6 outer (ip_vs_tunnel_xmit_v6, RFC 2473): 40 bytes from the egress port's IPv6
 *       address, next header 41 (ip6ip6) or 4 (IPv4 in IPv6); traffic class and hop limit from
 *       the inner packet, flow label 0, no encapsulation limit option.</li>
 *   <li>GUE (--tun-type gue) in either: UDP to {@code --tun-port} with the flow's source port,
 *       checksum 0 unless {@code --tun-csum}, and the 4-byte GUE header whose proto is the inner
 *       family's (4 or 41), as ipvs_gue_encap.</li>
 * </ul>
 * It also sends: the next hop of the outer destination from the outer family's routing table,
 * resolved by ARP or NDP ({@link NextHopSender}, {@link Ipv6Sender}).
 *
 * <p>Allocation-free; event-loop thread only; one per transmitter.
 */
final class TunnelOuter {
    private final NextHopSender sender4;
    /** Null when the data path has no IPv6 (no IPv6 real server is then accepted). */
    private final Ipv6Sender sender6;
    private final DataPathCounters counters;
    private final Ipv4Header ip = new Ipv4Header();
    private final Ipv6Header ip6 = new Ipv6Header();
    private final UdpHeader udp = new UdpHeader();
    private final VirtioNetHeader vnet = new VirtioNetHeader();
    private final PacketContext out = new PacketContext();
    /** The egress of the last {@link #egress} call: the port (its MTU, bulk scratch) and, over IPv6, its cache. */
    private LanPort port;
    private NeighbourCache6 via;
    private int nextId;

    TunnelOuter(NextHopSender sender4, Ipv6Sender sender6, DataPathCounters counters) {
        this.sender4 = sender4;
        this.sender6 = sender6;
        this.counters = counters;
    }

    /** Bytes the outer side adds for d: the outer IP header, plus UDP and GUE for GUE. */
    static int overhead(RealServer d) {
        int ipLen = d.ipv6 ? Ipv6Header.HEADER_LEN : Ipv4Header.MIN_HEADER_LEN;
        return switch (d.tunType) {
            case IPIP -> ipLen;
            case GUE -> ipLen + Tunnels.UDP_GUE_LEN;
            // Refused when the configuration is validated (DataPathChecks.validate).
            case GRE -> throw new IllegalStateException("GRE tunnels are not transmitted");
        };
    }

    /**
     * Chooses the port the tunnel to d leaves by (the outer family's route) and returns its MTU;
     * -1 (the packet counted as no_route) for an IPv6 real server on a data path without IPv6.
     */
    int egress(RealServer d) {
        if (!d.ipv6) {
            via = null;
            port = sender4.egress(d.addr);
            return port.mtu;
        }
        if (sender6 == null) {
            counters.drop(DropReason.NO_ROUTE);
            return -1;
        }
        via = sender6.egress(d.addr6Hi, d.addr6Lo);
        port = via.port();
        return port.mtu;
    }

    /** The port of the last {@link #egress}: its bulk scratch takes software GSO's segments. */
    LanPort port() {
        return port;
    }

    /**
     * Writes the outer header(s) at off, in front of the inner packet of innerTotal bytes that
     * follows at off + encap (after {@link #egress}). innerProto is the inner family's protocol
     * number (4 or 41); the EtherType before off becomes the outer family's; tos, ttl and df are the inner packet's (df only matters for an IPv4
     * outer). With csum the outer UDP checksum of GUE is computed over the packet as it lies.
     */
    void write(MemorySegment seg, long off, RealServer d, int encap, int innerTotal, int innerProto, int tos,
               int ttl, boolean df, int flowPort, boolean csum) {
        boolean gue = d.tunType == TunnelType.GUE;
        // The EtherType in front of the outer header (after any VLAN tag): the outer family's.
        Bytes.u16(seg, off - 2, d.ipv6 ? EthernetHeader.ETH_P_IPV6 : EthernetHeader.ETH_P_IP);
        int ipLen;
        int udpLen;
        if (d.ipv6) {
            ipLen = Ipv6Header.HEADER_LEN;
            // A super-frame's outer length is only a template: each segment gets its own.
            udpLen = Math.min(encap - ipLen + innerTotal, 0xFFFF);
            ip6.wrap(seg, off).setVersionClassFlow(tos, 0).setPayloadLength(udpLen)
                    .setNextHeader(gue ? Ipv6Header.NEXT_UDP : innerProto).setHopLimit(ttl)
                    .setSrc(via.sourceHi, via.sourceLo).setDst(d.addr6Hi, d.addr6Lo);
        } else {
            ipLen = Ipv4Header.MIN_HEADER_LEN;
            int total = Math.min(encap + innerTotal, Ipv4Header.MAX_TOTAL_LENGTH);
            udpLen = total - ipLen;
            ip.wrap(seg, off).setVersion(4).setIhl(Ipv4Header.MIN_HEADER_LEN);
            ip.setTos(tos).setTotalLength(total).setId(nextId++ & 0xFFFF)
                    .setFlagsFragment(df ? Ipv4Header.FLAG_DF : 0).setTtl(ttl)
                    .setProtocol(gue ? Ipv4Header.PROTO_UDP : innerProto)
                    .setSrc(port.addr).setDst(d.addr).writeChecksum();
        }
        if (gue) {
            Tunnels.writeUdpGue(udp, seg, off + ipLen, flowPort, d.tunPort, udpLen, innerProto);
            if (csum) {
                udp.setChecksum(udpChecksum(seg, off + ipLen, udpLen, d));
            }
        }
    }

    /**
     * One segment of a super-frame: the outer header at off (copied from {@link #write}'s
     * template) gets the lengths of an inner packet of innerLen bytes, an IPv4 outer its own id
     * and header checksum, GUE its UDP length and, with csum, its checksum.
     */
    void resize(MemorySegment seg, long off, RealServer d, int encap, int innerLen, boolean csum) {
        int ipLen;
        if (d.ipv6) {
            ipLen = Ipv6Header.HEADER_LEN;
            ip6.wrap(seg, off).setPayloadLength(encap - ipLen + innerLen);
        } else {
            ipLen = Ipv4Header.MIN_HEADER_LEN;
            ip.wrap(seg, off).setTotalLength(encap + innerLen).setId(nextId++ & 0xFFFF).writeChecksum();
        }
        if (d.tunType == TunnelType.GUE) {
            int udpLen = encap - ipLen + innerLen;
            udp.wrap(seg, off + ipLen).setLength(udpLen);
            if (csum) {
                udp.setChecksum(udpChecksum(seg, off + ipLen, udpLen, d));
            }
        }
    }

    /** The outer UDP checksum (never 0 on the wire over IPv6: RFC 8200 8.1; Checksum.l4 does the same for IPv4). */
    private int udpChecksum(MemorySegment seg, long u, int len, RealServer d) {
        if (!d.ipv6) {
            return Checksum.l4(seg, u, len, Ipv4Header.PROTO_UDP, port.addr, d.addr);
        }
        int c = Checksum.l4v6(seg, u, len, Ipv6Header.NEXT_UDP, via.sourceHi, via.sourceLo, d.addr6Hi, d.addr6Lo);
        return c == 0 ? 0xFFFF : c;
    }

    /** Routes and queues the encapsulated frame in ctx to d's next hop (ARP or NDP), its headers untouched. */
    void transmit(PacketContext ctx, RealServer d) {
        if (d.ipv6) {
            sender6.transmit(ctx, d.addr6Hi, d.addr6Lo);
        } else {
            sender4.transmit(ctx, d.addr);
        }
    }

    /** As {@link #transmit} for a frame in bulk scratch b at vnetOff (a segment or fragment). */
    void send(MemorySegment b, long vnetOff, int frameLen, RealServer d) {
        out.seg = b;
        out.vnetOff = vnetOff;
        out.frameOff = vnetOff + VirtioNetHeader.SIZE;
        out.frameLen = frameLen;
        out.eth.wrap(b, out.frameOff);
        transmit(out, d);
    }

    /**
     * Fragments the encapsulated (non-GSO, complete-checksum) packet in ctx, which has an IPv4
     * outer header, to the egress MTU, as ip_fragment would: every fragment but the last carries
     * a multiple of 8 bytes; all share the outer id.
     */
    void fragment(PacketContext ctx, RealServer d) {
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
            ip.wrap(b, f + l2).setTotalLength(Ipv4Header.MIN_HEADER_LEN + n)
                    .setFlagsFragment((last ? 0 : Ipv4Header.FLAG_MF) | (done >>> 3)).writeChecksum();
            send(b, o, frameLen, d);
            done += n;
        }
    }
}
