package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.neigh.RouteTable6;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.xmit.CapturingTxQueue;
import io.jvs.packet.Ipv6Address;
import io.jvs.sys.RtNetlink.Route;
import io.jvs.sys.RtNetlink.Route6;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.jvs.forwarder.pipeline.V6Frames.ETH;
import static io.jvs.forwarder.pipeline.V6Frames.IP6;
import static io.jvs.forwarder.pipeline.V6Frames.addr;
import static io.jvs.forwarder.pipeline.V6Frames.concat;
import static io.jvs.forwarder.pipeline.V6Frames.hex;
import static io.jvs.forwarder.pipeline.V6Frames.l4Sum;
import static io.jvs.forwarder.pipeline.V6Frames.refSum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TUN to a real server of the other family than its service's (IPVS's ip_vs_tunnel_xmit_v6 with an
 * IPv4 inner packet, ip_vs_tunnel_xmit with an IPv6 one) through {@link DataPath}'s pipeline:
 * {@code -t 10.0.0.100:80 -r [2001:db8:2::11]:80 -i} (IPv4 in IPv6, next header 4), GUE over IPv6
 * with the checksum, {@code -t [2001:db8::100]:80 -r 10.0.2.11:80 -i} (IPv6 in IPv4, protocol 41),
 * GUE over IPv4 with the checksum; the path MTU answered in the client's family (ICMPv4
 * fragmentation-needed for the IPv4 client, ICMPv6 Packet Too Big for the IPv6 one), software GSO
 * under the other family's outer header, and no allocation per packet. Expected frames are written
 * out here from RFC 2473 / RFC 2003 / RFC 4213 and the kernel's ip_vs_prepare_tunneled_skb (outer
 * TOS or traffic class = the inner one, TTL or hop limit = the inner one after the decrement, DF
 * copied from IPv4 and 0 under IPv6), checksums from the reference RFC 1071 sum; values read from
 * the output are only those jvs chooses: the outer IPv4 id, ICMP's IPv4 id, GUE's source port.
 */
class MixedTunPipelineTest {
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final long ROUTER6_MAC = 0x02_00_00_00_00_11L;
    static final byte[] PORT_IP6 = addr("2001:db8::2");
    static final byte[] ROUTER6 = addr("fe80::1");
    static final byte[] CLIENT6 = addr("2001:db8:1::2");
    static final byte[] VIP6 = addr("2001:db8::100");
    static final byte[] TS1_6 = addr("2001:db8:2::11");
    static final byte[] TS2_6 = addr("2001:db8:2::12");
    static final byte[] PORT_IP = {10, 0, 0, 2};
    static final byte[] ROUTER = {10, 0, 0, 1};
    static final byte[] CLIENT = {10, 0, 1, 2};
    static final byte[] VIP = {10, 0, 0, 100};
    static final byte[] TS1 = {10, 0, 2, 11};
    static final byte[] TS2 = {10, 0, 2, 12};
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int FIN_PSH_ACK = 0x19;
    static final int CSEQ = 0x1000_0000;
    /** TOS / traffic class of the clients' packets (DSCP AF11), which the outer header copies. */
    static final int TOS = 0x28;

    final DataPathCounters counters = new DataPathCounters("lan0");
    final CapturingTxQueue tx = new CapturingTxQueue();
    final CaptureSwitchTxQueue queue = new CaptureSwitchTxQueue(tx);
    final LanPort port = new LanPort("lan0", IFINDEX, PORT_MAC, 0x0a00_0002, 1500, queue);
    final NeighbourCache neighbours = new NeighbourCache(port, counters::drop);
    final NeighbourCache6 neighbours6 = new NeighbourCache6(port, hi(PORT_IP6), lo(PORT_IP6), counters::drop);
    final RouteTable routes = new RouteTable(List.of(
            new Route(0x0a00_0000, 24, 0, IFINDEX, 0, 254),
            new Route(0, 0, 0x0a00_0001, IFINDEX, 0, 254)), IFINDEX);
    final RouteTable6 routes6 = new RouteTable6(List.of(
            new Route6(hi(addr("2001:db8::")), 0, 64, 0, 0, IFINDEX, 256, 254),
            new Route6(0, 0, 0, hi(ROUTER6), lo(ROUTER6), IFINDEX, 1024, 254)), IFINDEX);
    final EmbeddedChannel channel = new EmbeddedChannel();
    final PacketContext ctx = new PacketContext();
    final Arena arena = Arena.ofConfined();
    final ServiceTable table = new ServiceTableBuilder(Schedulers::create).build(List.of(
            new ServiceSpec(Protocol.TCP, 0x0a00_0064, 80, "rr", List.of(
                    Dest.ipv6(Ipv6Address.parse("2001:db8:2::11"), 80, 1, ForwardMethod.TUN))),
            new ServiceSpec(Protocol.TCP, 0x0a00_0064, 81, "rr", List.of(
                    new Dest(0, 81, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE, 6080, TunnelType.FLAG_CSUM,
                            Ipv6Address.parse("2001:db8:2::12")))),
            ServiceSpec.ipv6(Protocol.TCP, Ipv6Address.parse("2001:db8::100"), 80, "rr", List.of(
                    new Dest(0x0a00_020b, 80, 1, ForwardMethod.TUN, 0, 0, TunnelType.IPIP, 0, 0))),
            ServiceSpec.ipv6(Protocol.TCP, Ipv6Address.parse("2001:db8::100"), 81, "rr", List.of(
                    new Dest(0x0a00_020c, 81, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE, 6080,
                            TunnelType.FLAG_CSUM)))),
            ServiceTable.EMPTY);

    MixedTunPipelineTest() {
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(table);
        DataPath.builder().services(registry).connections(new ConnectionTable(64, Timeouts.DEFAULTS))
                .neighbours(neighbours).routes(() -> routes).counters(counters)
                .services6(() -> table).connections6(new ConnectionTable6(64, Timeouts.DEFAULTS))
                .neighbours6(neighbours6).routes6(() -> routes6)
                .build().wire(channel.pipeline());
        long now = System.nanoTime();
        neighbours.learn(0x0a00_0001, ROUTER_MAC, true, now);
        neighbours6.learn(hi(ROUTER6), lo(ROUTER6), ROUTER6_MAC, true, now);
    }

    @AfterEach
    void close() {
        assertEquals(0, counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        channel.finishAndReleaseAll();
        neighbours.close();
        neighbours6.close();
        port.close();
        arena.close();
    }

    static long hi(byte[] a) {
        return Fullnat6PipelineTest.hi(a);
    }

    static long lo(byte[] a) {
        return Fullnat6PipelineTest.lo(a);
    }

    static byte[] payload(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 7 + 3);
        }
        return p;
    }

    static byte[] mac(long m) {
        return V6Frames.mac(m);
    }

    static byte[] u16(int v) {
        return new byte[] {(byte) (v >>> 8), (byte) v};
    }

    /** The IPv4 pseudo-header + msg, RFC 1071 (the field in msg zero). */
    static int l4Sum4(byte[] src, byte[] dst, int proto, byte[] msg) {
        return refSum(src, dst, new byte[] {0, (byte) proto}, u16(msg.length), msg);
    }

    /** An IPv4 header (no options) + payload, its checksum computed here. */
    static byte[] ip4(int tos, int id, boolean df, int ttl, int proto, byte[] src, byte[] dst, byte[] payload) {
        byte[] h = concat(new byte[] {0x45, (byte) tos}, u16(20 + payload.length), u16(id),
                new byte[] {(byte) (df ? 0x40 : 0), 0, (byte) ttl, (byte) proto, 0, 0}, src, dst);
        int c = refSum(h);
        h[10] = (byte) (c >>> 8);
        h[11] = (byte) c;
        return concat(h, payload);
    }

    /** A 20-byte TCP header + data with its checksum over the pseudo-header of (src, dst): 4 or 16 bytes. */
    static byte[] tcp(byte[] src, byte[] dst, int sport, int dport, int seq, int flags, byte[] data) {
        byte[] t = concat(u16(sport), u16(dport), new byte[] {(byte) (seq >>> 24), (byte) (seq >>> 16),
                (byte) (seq >>> 8), (byte) seq, 0, 0, 0, 1, 0x50, (byte) flags, (byte) 0xfa, (byte) 0xf0, 0, 0, 0, 0},
                data);
        int c = src.length == 4 ? l4Sum4(src, dst, 6, t) : l4Sum(src, dst, 6, t);
        t[16] = (byte) (c >>> 8);
        t[17] = (byte) c;
        return t;
    }

    /** The IPv4 client's packet to VIP:vport (TOS 0x28, DF, id 0x1234, TTL 64). */
    static byte[] client4(int vport, int seq, int flags, boolean df, byte[] data) {
        return ip4(TOS, 0x1234, df, 64, 6, CLIENT, VIP, tcp(CLIENT, VIP, 40000, vport, seq, flags, data));
    }

    /** The IPv6 client's packet to [VIP]:vport (traffic class 0x28, hop limit 64). */
    static byte[] client6(int vport, int seq, int flags, byte[] data) {
        byte[] t = tcp(CLIENT6, VIP6, 40000, vport, seq, flags, data);
        return concat(new byte[] {0x62, (byte) 0x80, 0, 0}, u16(t.length), new byte[] {6, 64}, CLIENT6, VIP6, t);
    }

    static byte[] eth(long dst, int type, byte[] packet) {
        return concat(mac(dst), mac(PORT_MAC), u16(type), packet);
    }

    /** The packet after the director's decrement: IPv4 TTL - 1 (checksum recomputed here), IPv6 hop limit - 1. */
    static byte[] decremented(byte[] p) {
        byte[] q = p.clone();
        if ((q[0] & 0xf0) == 0x40) {
            q[8]--;
            q[10] = 0;
            q[11] = 0;
            int c = refSum(Arrays.copyOf(q, 20));
            q[10] = (byte) (c >>> 8);
            q[11] = (byte) c;
        } else {
            q[7]--;
        }
        return q;
    }

    /** An outer IPv6 header (traffic class 0x28, flow 0, hop limit 63) from the director to ts + what follows. */
    static byte[] outer6(byte[] ts, int next, byte[] rest) {
        return concat(new byte[] {0x62, (byte) 0x80, 0, 0}, u16(rest.length), new byte[] {(byte) next, 63}, PORT_IP6,
                ts, rest);
    }

    /** UDP to 6080 + GUE (version 0, proto), the UDP checksum over the pseudo-header of (src, dst). */
    static byte[] udpGue(byte[] src, byte[] dst, int sport, int proto, byte[] inner) {
        byte[] u = concat(u16(sport), u16(6080), u16(8 + 4 + inner.length), u16(0),
                new byte[] {0, (byte) proto, 0, 0}, inner);
        int c = src.length == 4 ? l4Sum4(src, dst, 17, u) : l4Sum(src, dst, 17, u);
        u[6] = (byte) (c >>> 8);
        u[7] = (byte) c;
        return u;
    }

    private MemorySegment seg;

    /** Feeds one frame behind a virtio_net_hdr (null: all zero) and 64 bytes of headroom; the frames sent. */
    List<byte[]> feed(byte[] vnet, byte[] f) {
        int before = tx.sent.size();
        if (seg == null || seg.byteSize() < 64 + 10 + f.length + 128) {
            seg = arena.allocate(64 + 10 + f.length + 2048, 8);
        }
        seg.fill((byte) 0xA5);
        MemorySegment.copy(vnet == null ? new byte[10] : vnet, 0, seg, ValueLayout.JAVA_BYTE, 64, 10);
        MemorySegment.copy(f, 0, seg, ValueLayout.JAVA_BYTE, 74, f.length);
        ctx.seg = seg;
        ctx.vnetOff = 64;
        ctx.frameOff = 74;
        ctx.frameLen = f.length;
        ctx.frameCapacity = f.length + 64;
        ctx.headroom = 64;
        ctx.ingressPort = 0;
        channel.writeInbound(ctx);
        channel.pipeline().fireChannelReadComplete();
        channel.checkException();
        List<byte[]> out = new ArrayList<>();
        for (int i = before; i < tx.sent.size(); i++) {
            byte[] b = tx.sent.get(i);
            out.add(Arrays.copyOfRange(b, 10, b.length));
        }
        return out;
    }

    byte[] one(byte[] f) {
        List<byte[]> out = feed(null, f);
        assertEquals(1, out.size(), () -> "frames sent; drops " + Arrays.stream(DropReason.values())
                .filter(r -> counters.drops(r) > 0).map(r -> r.label() + "=" + counters.drops(r)).toList());
        return out.get(0);
    }

    static byte[] in4(byte[] packet) {
        return concat(mac(PORT_MAC), mac(ROUTER_MAC), u16(0x0800), packet);
    }

    static byte[] in6(byte[] packet) {
        return concat(mac(PORT_MAC), mac(ROUTER6_MAC), u16(0x86dd), packet);
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xff) << 8 | b[off + 1] & 0xff;
    }

    /** IPv4 in IPv6, written out for the SYN: EtherType 86dd, next header 4, the IPv4 packet with TTL 63. */
    @Test
    void ipv4InIpv6PutsAnIpv6HeaderWithNextHeader4() {
        byte[] syn = client4(80, CSEQ, SYN, true, new byte[0]);
        byte[] out = one(in4(syn));
        String want = "020000000011" + "026a76000002" + "86dd"                // to the IPv6 router's MAC (NDP), IPv6
                + "62800000" + "0028" + "04" + "3f"                           // TC = TOS 0x28; 40 bytes; next 4; hop 63
                + "20010db8000000000000000000000002"                          // the director's IPv6 address
                + "20010db8000200000000000000000011"                          // the real server
                + "4528002812344000" + "3f06";                                // the IPv4 packet, TTL 63
        assertEquals(want, hex(Arrays.copyOf(out, want.length() / 2)));
        assertEquals(hex(eth(ROUTER6_MAC, 0x86dd, outer6(TS1_6, 4, decremented(syn)))), hex(out));
        byte[] data = client4(80, CSEQ + 1, ACK, true, "GET / HTTP/1.0\r\n\r\n".getBytes());
        assertEquals(hex(eth(ROUTER6_MAC, 0x86dd, outer6(TS1_6, 4, decremented(data)))), hex(one(in4(data))),
                "the connection's next packet, to the same real server");
    }

    /** GUE over IPv6 for an IPv4 client, --tun-csum: GUE proto 4, the UDP checksum over the IPv6 pseudo-header. */
    @Test
    void ipv4InGueOverIpv6WithChecksum() {
        byte[] syn = client4(81, CSEQ, SYN, true, new byte[0]);
        byte[] out = one(in4(syn));
        int sport = u16(out, ETH + IP6);
        assertTrue(sport >= 49152, "udp_flow_src_port's range: " + sport);
        byte[] udp = udpGue(PORT_IP6, TS2_6, sport, 4, decremented(syn));
        assertEquals(hex(eth(ROUTER6_MAC, 0x86dd, outer6(TS2_6, 17, udp))), hex(out));
        assertEquals("00040000", hex(Arrays.copyOfRange(out, ETH + IP6 + 8, ETH + IP6 + 12)), "GUE: version 0, proto 4");
    }

    /** IPv6 in IPv4, written out for the SYN: EtherType 0800, protocol 41, DF 0, TOS = traffic class, TTL 63. */
    @Test
    void ipv6InIpv4PutsAnIpv4HeaderWithProtocol41() {
        byte[] syn = client6(80, CSEQ, SYN, new byte[0]);
        byte[] out = one(in6(syn));
        int id = u16(out, ETH + 4);
        byte[] outer = ip4(TOS, id, false, 63, 41, PORT_IP, TS1, decremented(syn));
        assertEquals(hex(eth(ROUTER_MAC, 0x0800, outer)), hex(out));
        assertEquals("4528" + "0050", hex(Arrays.copyOfRange(out, ETH, ETH + 4)), "TOS 0x28, 20 + 40 + 20 bytes");
        assertEquals("0000" + "3f29", hex(Arrays.copyOfRange(out, ETH + 6, ETH + 10)), "DF 0, TTL 63, protocol 41");
        assertEquals(0, refSum(Arrays.copyOfRange(out, ETH, ETH + 20)), "the outer header checksum verifies");
        byte[] ack = client6(80, CSEQ + 1, ACK, new byte[0]);
        byte[] out2 = one(in6(ack));
        assertEquals(hex(eth(ROUTER_MAC, 0x0800, ip4(TOS, u16(out2, ETH + 4), false, 63, 41, PORT_IP, TS1,
                decremented(ack)))), hex(out2));
    }

    /** GUE over IPv4 for an IPv6 client, --tun-csum: GUE proto 41, the UDP checksum over the IPv4 pseudo-header. */
    @Test
    void ipv6InGueOverIpv4WithChecksum() {
        byte[] syn = client6(81, CSEQ, SYN, new byte[0]);
        byte[] out = one(in6(syn));
        int sport = u16(out, ETH + 20);
        byte[] udp = udpGue(PORT_IP, TS2, sport, 41, decremented(syn));
        assertEquals(hex(eth(ROUTER_MAC, 0x0800, ip4(TOS, u16(out, ETH + 4), false, 63, 17, PORT_IP, TS2, udp))),
                hex(out));
        assertEquals("00290000", hex(Arrays.copyOfRange(out, ETH + 28, ETH + 32)), "GUE: version 0, proto 41");
    }

    /**
     * The IPv4 client's packet too big for the IPv6 tunnel (1500 - 40 = 1460; GUE 1448): dropped as
     * frag_needed, and the client gets ICMPv4 (its family) fragmentation-needed with that MTU, from
     * the director's IPv4 address, quoting the IP header + 8 bytes; without DF too (an IPv6 outer
     * header is not fragmented on the way). The largest that fits leaves as 1500 bytes.
     */
    @Test
    void fragNeededInIcmpv4ForTheIpv4ClientOfAnIpv6Tunnel() {
        one(in4(client4(80, CSEQ, SYN, true, new byte[0])));
        byte[] big = client4(80, CSEQ + 1, ACK, true, payload(1461 - 40));
        assertEquals(1461, big.length);
        long before = counters.drops(DropReason.FRAG_NEEDED);
        byte[] err = one(in4(big));
        assertEquals(before + 1, counters.drops(DropReason.FRAG_NEEDED));
        byte[] icmp = concat(new byte[] {3, 4, 0, 0, 0, 0}, u16(1460), Arrays.copyOf(big, 28));
        int c = refSum(icmp);
        icmp[2] = (byte) (c >>> 8);
        icmp[3] = (byte) c;
        assertEquals(hex(eth(ROUTER_MAC, 0x0800, ip4(0xc0, u16(err, ETH + 4), false, 64, 1, PORT_IP, CLIENT, icmp))),
                hex(err), "ICMPv4 type 3 code 4, next-hop MTU 1460, to the IPv4 client");
        byte[] fits = client4(80, CSEQ + 1, ACK, true, payload(1460 - 40));
        byte[] out = one(in4(fits));
        assertEquals(ETH + 1500, out.length);
        assertEquals(hex(eth(ROUTER6_MAC, 0x86dd, outer6(TS1_6, 4, decremented(fits)))), hex(out));

        byte[] noDf = one(in4(client4(80, CSEQ + 1, ACK, false, payload(1461 - 40))));
        assertEquals("0304", hex(Arrays.copyOfRange(noDf, ETH + 20, ETH + 22)), "without DF: frag-needed too");
        one(in4(client4(81, CSEQ, SYN, true, new byte[0])));
        byte[] gue = one(in4(client4(81, CSEQ + 1, ACK, true, payload(1449 - 40))));
        assertEquals("0304", hex(Arrays.copyOfRange(gue, ETH + 20, ETH + 22)));
        assertEquals("0000" + "05a8", hex(Arrays.copyOfRange(gue, ETH + 24, ETH + 28)), "GUE over IPv6: MTU 1500 - 52");
    }

    /**
     * The IPv6 client's packet too big for the IPv4 tunnel (1500 - 20 = 1480): dropped as
     * packet_too_big, and the client gets ICMPv6 (its family) Packet Too Big carrying 1480 from the
     * director's IPv6 address; the largest that fits leaves as 1500 bytes, DF 0. GUE over IPv4: 1468.
     */
    @Test
    void packetTooBigInIcmpv6ForTheIpv6ClientOfAnIpv4Tunnel() {
        one(in6(client6(80, CSEQ, SYN, new byte[0])));
        byte[] big = client6(80, CSEQ + 1, ACK, payload(1481 - 60));
        assertEquals(1481, big.length);
        long before = counters.drops(DropReason.PACKET_TOO_BIG);
        byte[] ptb = one(in6(big));
        assertEquals(before + 1, counters.drops(DropReason.PACKET_TOO_BIG));
        byte[] quote = Arrays.copyOf(big, 1280 - 40 - 8);
        byte[] want = V6Frames.frame(ROUTER6_MAC, PORT_MAC, PORT_IP6, CLIENT6, 58, 64,
                V6Frames.icmp6(PORT_IP6, CLIENT6, 2, 0, concat(V6Frames.hex("000005c8"), quote)));   // MTU 1480
        assertEquals(hex(want), hex(ptb));
        byte[] fits = client6(80, CSEQ + 1, ACK, payload(1480 - 60));
        byte[] out = one(in6(fits));
        assertEquals(ETH + 1500, out.length);
        assertEquals(hex(eth(ROUTER_MAC, 0x0800, ip4(TOS, u16(out, ETH + 4), false, 63, 41, PORT_IP, TS1,
                decremented(fits)))), hex(out));

        one(in6(client6(81, CSEQ, SYN, new byte[0])));
        byte[] gue = one(in6(client6(81, CSEQ + 1, ACK, payload(1469 - 60))));
        assertEquals("0200", hex(Arrays.copyOfRange(gue, ETH + IP6, ETH + IP6 + 2)), "ICMPv6 Packet Too Big");
        assertEquals("000005bc", hex(Arrays.copyOfRange(gue, ETH + IP6 + 4, ETH + IP6 + 8)), "GUE over IPv4: 1500 - 32");
    }

    /**
     * A TCPv6 GSO super-frame (gso_size 1000, 2500 bytes, checksum partial) under an IPv4 outer
     * header: three packets, each with its own outer total length, id and header checksum, inner
     * payload length, sequence number, flags and complete TCP checksum.
     */
    @Test
    void gsoSuperFrameUnderAnIpv4OuterHeader() {
        one(in6(client6(80, CSEQ, SYN, new byte[0])));
        byte[] data = payload(2500);
        byte[] sf = client6(80, CSEQ + 1, FIN_PSH_ACK, data);
        int pseudo = ~l4Sum(CLIENT6, VIP6, 6, new byte[20 + 2500]) & 0xFFFF;
        sf[IP6 + 16] = (byte) (pseudo >>> 8);
        sf[IP6 + 17] = (byte) pseudo;
        byte[] vnet = {1, 4, 74, 0, (byte) 0xe8, 0x03, 54, 0, 16, 0}; // NEEDS_CSUM, TCPV6, hdr 74, gso 1000, 54, 16
        List<byte[]> out = feed(vnet, in6(sf));
        assertEquals(3, out.size(), "segments");
        int[] flags = {ACK, ACK, FIN_PSH_ACK};
        for (int k = 0; k < 3; k++) {
            int n = k < 2 ? 1000 : 500;
            byte[] inner = decremented(client6(80, CSEQ + 1 + k * 1000, flags[k],
                    Arrays.copyOfRange(data, k * 1000, k * 1000 + n)));
            byte[] f = out.get(k);
            assertEquals(hex(eth(ROUTER_MAC, 0x0800, ip4(TOS, u16(f, ETH + 4), false, 63, 41, PORT_IP, TS1, inner))),
                    hex(f), "segment " + k);
        }
        assertTrue(u16(out.get(1), ETH + 4) != u16(out.get(0), ETH + 4), "each segment its own outer id");
        assertArrayEquals(new byte[10], Arrays.copyOf(tx.sent.getLast(), 10), "no offload left to the kernel");
    }

    /** Both directions, ipip and GUE with the checksum, and frag-needed / Packet Too Big, allocate nothing. */
    @Test
    void mixedTunAllocatesNothing() {
        one(in4(client4(80, CSEQ, SYN, true, new byte[0])));
        one(in4(client4(81, CSEQ, SYN, true, new byte[0])));
        one(in6(client6(80, CSEQ, SYN, new byte[0])));
        one(in6(client6(81, CSEQ, SYN, new byte[0])));
        byte[][] frames = {
                in4(client4(80, CSEQ + 1, ACK, true, payload(100))),
                in4(client4(81, CSEQ + 1, ACK, true, payload(100))),
                in6(client6(80, CSEQ + 1, ACK, payload(100))),
                in6(client6(81, CSEQ + 1, ACK, payload(100))),
                in4(client4(80, CSEQ + 1, ACK, true, payload(1461 - 40))),
                in6(client6(80, CSEQ + 1, ACK, payload(1481 - 60)))};
        queue.capture = false;
        long allocated = V6Frames.allocatedFeeding(channel, ctx, port, arena, frames, 20_000);
        assertTrue(queue.counted >= 4 * 20_000, () -> "every small frame forwarded: " + queue.counted + "; drops "
                + Arrays.stream(DropReason.values()).filter(r -> counters.drops(r) > 0)
                .map(r -> r.label() + "=" + counters.drops(r)).toList());
        assertEquals(0, counters.drops(DropReason.MALFORMED), "every frame read as the ring would hand it over");
        assertEquals(0, allocated, "bytes allocated by 120k mixed-family TUN frames");
    }
}
