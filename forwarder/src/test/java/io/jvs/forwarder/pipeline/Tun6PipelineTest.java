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
import static io.jvs.forwarder.pipeline.V6Frames.frame;
import static io.jvs.forwarder.pipeline.V6Frames.hex;
import static io.jvs.forwarder.pipeline.V6Frames.l4Sum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TUN over IPv6 through {@link DataPath}'s pipeline with a real IPv6 service table: ip6ip6
 * ({@code -t [2001:db8::100]:80 -r [2001:db8:2::11]:80 -i}), GUE over IPv6 without and with the
 * outer checksum ({@code --tun-type gue --tun-port 6080 [--tun-csum]}), the tunnel's Packet Too
 * Big, software GSO of an IPv6 super-frame, and no allocation per packet. Every expected frame
 * is written out here from RFC 2473 (outer IPv6 header: version 6, the inner traffic class,
 * flow label 0, payload length = what follows, next header 41, the inner hop limit after the
 * decrement, the director's address to the real server's) and the kernel's ipvs_gue_encap (UDP
 * to the tunnel port, checksum 0 unless --tun-csum; GUE word version 0, hlen 0, proto 41, flags
 * 0), with checksums from {@link V6Frames}' own RFC 1071 sum; the only value read from the output
 * is the one jvs chooses, GUE's UDP source port (a hash of the flow, 49152..65535).
 */
class Tun6PipelineTest {
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final byte[] PORT_IP = addr("2001:db8::2");
    static final byte[] CLIENT = addr("2001:db8:1::2");
    static final byte[] ROUTER = addr("fe80::1");
    static final byte[] VIP = addr("2001:db8::100");
    static final byte[] TS1 = addr("2001:db8:2::11");
    static final byte[] TS2 = addr("2001:db8:2::12");
    static final byte[] TS3 = addr("2001:db8:2::13");
    static final int CSEQ = 0x1000_0000;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int PSH_ACK = 0x18;
    static final int FIN_PSH_ACK = 0x19;
    static final int CWR_ACK = 0x90;
    /** Traffic class the client's packets carry (DSCP AF11 = 0x28), which the outer header copies. */
    static final int TCLASS = 0x28;

    final DataPathCounters counters = new DataPathCounters("lan0");
    final CapturingTxQueue tx = new CapturingTxQueue();

    final CaptureSwitchTxQueue queue = new CaptureSwitchTxQueue(tx);
    final LanPort port = new LanPort("lan0", IFINDEX, PORT_MAC, 0x0a00_0002, 1500, queue);
    final NeighbourCache neighbours = new NeighbourCache(port, counters::drop);
    final NeighbourCache6 neighbours6 = new NeighbourCache6(port, hi(PORT_IP), lo(PORT_IP), counters::drop);
    final ConnectionTable6 conns6 = new ConnectionTable6(64, Timeouts.DEFAULTS);
    /** The director's LAN and, through the router, everything else (the TUN segment, the clients). */
    final RouteTable6 routes6 = new RouteTable6(List.of(
            new Route6(hi(addr("2001:db8::")), 0, 64, 0, 0, IFINDEX, 256, 254),
            new Route6(0, 0, 0, hi(ROUTER), lo(ROUTER), IFINDEX, 1024, 254)), IFINDEX);
    final EmbeddedChannel channel = new EmbeddedChannel();
    final PacketContext ctx = new PacketContext();
    final Arena arena = Arena.ofConfined();
    final ServiceTable table = new ServiceTableBuilder(Schedulers::create).build(List.of(
            ServiceSpec.ipv6(Protocol.TCP, v6("2001:db8::100"), 80, "rr", List.of(
                    Dest.ipv6(v6("2001:db8:2::11"), 80, 1, ForwardMethod.TUN))),
            ServiceSpec.ipv6(Protocol.TCP, v6("2001:db8::100"), 81, "rr", List.of(
                    new Dest(0, 81, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE, 6080, TunnelType.FLAG_NOCSUM,
                            v6("2001:db8:2::12")))),
            ServiceSpec.ipv6(Protocol.TCP, v6("2001:db8::100"), 82, "rr", List.of(
                    new Dest(0, 82, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE, 6080, TunnelType.FLAG_CSUM,
                            v6("2001:db8:2::13"))))),
            ServiceTable.EMPTY);

    Tun6PipelineTest() {
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(ServiceTable.EMPTY);
        DataPath.builder().services(registry).connections(new ConnectionTable(64, Timeouts.DEFAULTS))
                .neighbours(neighbours).routes(() -> new RouteTable(List.of(), IFINDEX)).counters(counters)
                .services6(() -> table).connections6(conns6).neighbours6(neighbours6).routes6(() -> routes6)
                .build().wire(channel.pipeline());
        neighbours6.learn(hi(ROUTER), lo(ROUTER), ROUTER_MAC, true, System.nanoTime());
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
        neighbours.close();
        neighbours6.close();
        port.close();
        arena.close();
    }

    static Ipv6Address v6(String s) {
        return Ipv6Address.parse(s);
    }

    static long hi(byte[] a) {
        return Fullnat6PipelineTest.hi(a);
    }

    static long lo(byte[] a) {
        return Fullnat6PipelineTest.lo(a);
    }

    static byte[] none() {
        return new byte[0];
    }

    static byte[] payload(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 7 + 3);
        }
        return p;
    }

    /** The client's IPv6 packet (no Ethernet) to VIP:vport, traffic class TCLASS, the given hop limit. */
    static byte[] clientPacket(int vport, int seq, int flags, int hops, byte[] data) {
        byte[] f = frame(PORT_MAC, ROUTER_MAC, CLIENT, VIP, 6, hops,
                Fullnat6PipelineTest.tcp(CLIENT, VIP, 40000, vport, seq, 1, flags, none(), data));
        f[ETH] = (byte) (0x60 | TCLASS >>> 4);
        f[ETH + 1] = (byte) (TCLASS << 4);
        return f;
    }

    /** What reaches the real server: Ethernet to the router, then the outer header(s), then the inner packet. */
    static byte[] tunnelled(byte[] ts, int next, byte[] afterOuter) {
        byte[] f = frame(ROUTER_MAC, PORT_MAC, PORT_IP, ts, next, 63, afterOuter);
        f[ETH] = (byte) (0x60 | TCLASS >>> 4);   // RFC 2473 5.1 / ip_vs_tunnel_xmit_v6: the inner traffic class
        f[ETH + 1] = (byte) (TCLASS << 4);        // flow label 0
        return f;
    }

    /** The inner IPv6 packet as it must leave: the client's with the hop limit one less. */
    static byte[] innerAfterDecrement(byte[] clientFrame) {
        byte[] p = Arrays.copyOfRange(clientFrame, ETH, clientFrame.length);
        p[7] = (byte) ((p[7] & 0xff) - 1);
        return p;
    }

    /** UDP header to port 6080 + GUE (version 0, hlen 0, proto 41, flags 0), checksum 0. */
    static byte[] udpGue(int sport, byte[] inner) {
        int len = 8 + 4 + inner.length;
        byte[] h = {(byte) (sport >>> 8), (byte) sport, 0x17, (byte) 0xC0, (byte) (len >>> 8), (byte) len, 0, 0,
                0x00, 0x29, 0x00, 0x00};
        return concat(h, inner);
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

    /** ip6ip6, written out byte by byte for the SYN: RFC 2473's 40-byte header in front of the untouched packet. */
    @Test
    void ip6ip6PutsAnOuterIpv6HeaderFromTheDirectorToTheRealServer() {
        byte[] syn = clientPacket(80, CSEQ, SYN, 64, none());
        byte[] out = one(syn);
        String want = "020000000001" + "026a76000002" + "86dd"
                + "62800000" + "003c" + "29" + "3f"                      // TC 0x28, flow 0; 60 bytes; next 41; hop 63
                + "20010db8000000000000000000000002"                      // the director's address on the port
                + "20010db8000200000000000000000011"                      // the real server
                + hex(innerAfterDecrement(syn));                          // the client's packet, hop limit 63
        assertEquals(want, hex(out));
        assertEquals("62800000" + "0014" + "06" + "3f", hex(Arrays.copyOfRange(out, ETH + IP6, ETH + IP6 + 8)),
                "inner header: traffic class kept, 20 bytes of TCP, hop limit 64 - 1");

        byte[] data = "GET / HTTP/1.0\r\n\r\n".getBytes();
        byte[] req = clientPacket(80, CSEQ + 1, PSH_ACK, 64, data);
        assertEquals(hex(tunnelled(TS1, 41, innerAfterDecrement(req))), hex(one(req)),
                "the connection's next packet, to the same real server");
    }

    /** GUE over IPv6, no outer checksum: UDP to 6080 with checksum 0, GUE proto 41; one source port per flow. */
    @Test
    void gueOverIpv6WithoutChecksum() {
        byte[] syn = clientPacket(81, CSEQ, SYN, 64, none());
        byte[] out = one(syn);
        int sport = (out[ETH + IP6] & 0xff) << 8 | out[ETH + IP6 + 1] & 0xff;
        assertTrue(sport >= 49152 && sport <= 65535, "udp_flow_src_port's range: " + sport);
        assertEquals(hex(tunnelled(TS2, 17, udpGue(sport, innerAfterDecrement(syn)))), hex(out));
        assertEquals("0000", hex(Arrays.copyOfRange(out, ETH + IP6 + 6, ETH + IP6 + 8)), "no UDP checksum");
        byte[] ack = clientPacket(81, CSEQ + 1, ACK, 64, none());
        assertEquals(hex(tunnelled(TS2, 17, udpGue(sport, innerAfterDecrement(ack)))), hex(one(ack)),
                "the same flow, the same source port");
    }

    /** GUE over IPv6 with --tun-csum: the outer UDP checksum verifies over the IPv6 pseudo-header. */
    @Test
    void gueOverIpv6WithChecksum() {
        byte[] syn = clientPacket(82, CSEQ, SYN, 64, none());
        byte[] out = one(syn);
        int sport = (out[ETH + IP6] & 0xff) << 8 | out[ETH + IP6 + 1] & 0xff;
        byte[] udp = udpGue(sport, innerAfterDecrement(syn));
        int c = l4Sum(PORT_IP, TS3, 17, udp);
        udp[6] = (byte) (c >>> 8);
        udp[7] = (byte) c;
        assertEquals(hex(tunnelled(TS3, 17, udp)), hex(out));
        assertEquals(0, l4Sum(PORT_IP, TS3, 17, Arrays.copyOfRange(out, ETH + IP6, out.length)),
                "the checksum verifies (reference sum)");
    }

    /**
     * A packet that fits the LAN (1500) but not the tunnel (1500 - 40 for ip6ip6, 1500 - 52 for
     * GUE): dropped as packet_too_big, and the client gets a Packet Too Big carrying the tunnel's
     * MTU, quoting the packet as received up to the IPv6 minimum MTU (RFC 4443 3.2, 2.4 (c)).
     */
    @Test
    void packetTooBigCarriesTheTunnelsMtu() {
        byte[] syn = clientPacket(80, CSEQ, SYN, 64, none());
        one(syn);
        byte[] big = clientPacket(80, CSEQ + 1, ACK, 64, payload(1500 - 40 - 20));
        assertEquals(1514, big.length);
        long before = counters.drops(DropReason.PACKET_TOO_BIG);
        byte[] ptb = one(big);
        assertEquals(before + 1, counters.drops(DropReason.PACKET_TOO_BIG));
        byte[] quote = Arrays.copyOfRange(big, ETH, ETH + 1280 - 40 - 8);
        byte[] want = frame(ROUTER_MAC, PORT_MAC, PORT_IP, CLIENT, 58, 64, V6Frames.icmp6(PORT_IP, CLIENT, 2, 0,
                concat(V6Frames.hex("000005b4"), quote)));                // MTU 1460
        assertEquals(hex(want), hex(ptb));
        // The largest that fits goes through: 1460 bytes inside, 1500 outside.
        byte[] fits = clientPacket(80, CSEQ + 1, ACK, 64, payload(1460 - 40 - 20));
        byte[] out = one(fits);
        assertEquals(14 + 1500, out.length);
        assertEquals(hex(tunnelled(TS1, 41, innerAfterDecrement(fits))), hex(out));

        one(clientPacket(81, CSEQ, SYN, 64, none()));
        byte[] ptbGue = one(clientPacket(81, CSEQ + 1, ACK, 64, payload(1460 - 40 - 20)));
        assertEquals("000005a8", hex(Arrays.copyOfRange(ptbGue, ETH + IP6 + 4, ETH + IP6 + 8)), "GUE: MTU 1448");
    }

    /**
     * A GSO super-frame (TCPv6, gso_size 1000, 2500 bytes of payload, checksum partial) leaves as
     * three ip6ip6 packets, each with its inner payload length, sequence number, flags (PSH and
     * FIN on the last only, CWR on the first only) and complete TCP checksum, no virtio offload.
     */
    @Test
    void gsoSuperFrameIsSegmentedAndEachSegmentEncapsulated() {
        one(clientPacket(80, CSEQ, SYN, 64, none()));
        byte[] data = payload(2500);
        byte[] sf = clientPacket(80, CSEQ + 1, FIN_PSH_ACK | 0x80, 64, data);
        // Partial checksum: the field holds the pseudo-header sum (not complemented) as the kernel leaves it.
        int pseudo = ~l4Sum(CLIENT, VIP, 6, new byte[20 + 2500]) & 0xFFFF;
        sf[ETH + IP6 + 16] = (byte) (pseudo >>> 8);
        sf[ETH + IP6 + 17] = (byte) pseudo;
        byte[] vnet = {1, 4, 74, 0, (byte) 0xe8, 0x03, 54, 0, 16, 0}; // NEEDS_CSUM, TCPV6, hdr 74, gso 1000, 54, 16
        List<byte[]> out = feed(vnet, sf);
        assertEquals(3, out.size(), "segments");
        int[] flags = {ACK | 0x80, ACK, FIN_PSH_ACK};
        for (int k = 0; k < 3; k++) {
            int n = k < 2 ? 1000 : 500;
            byte[] seg = Arrays.copyOfRange(data, k * 1000, k * 1000 + n);
            byte[] in = frame(PORT_MAC, ROUTER_MAC, CLIENT, VIP, 6, 63,
                    Fullnat6PipelineTest.tcp(CLIENT, VIP, 40000, 80, CSEQ + 1 + k * 1000, 1, flags[k], none(), seg));
            in[ETH] = (byte) (0x60 | TCLASS >>> 4);
            in[ETH + 1] = (byte) (TCLASS << 4);
            assertEquals(hex(tunnelled(TS1, 41, Arrays.copyOfRange(in, ETH, in.length))), hex(out.get(k)),
                    "segment " + k);
        }
        assertArrayEquals(new byte[10], Arrays.copyOf(tx.sent.getLast(), 10), "no offload left to the kernel");
    }

    /**
     * A Packet Too Big from the client's side about a TUN connection's reply (the router could
     * not forward [VIP]:80 -> client; the reply's source, the VIP, is the error's destination)
     * goes through the tunnel to the connection's real server, untouched but for the hop limit,
     * as ip_vs_in_icmp_v6 hands it to the connection's transmitter.
     */
    @Test
    void packetTooBigAboutAReplyIsTunnelledToTheRealServer() {
        one(clientPacket(80, CSEQ, SYN, 64, none()));
        byte[] routerIp = addr("2001:db8:1::1");
        byte[] reply = Arrays.copyOfRange(frame(0, 0, VIP, CLIENT, 6, 63,
                Fullnat6PipelineTest.tcp(VIP, CLIENT, 80, 40000, 0x7000_0001, CSEQ + 1, ACK, none(), payload(100))),
                ETH, ETH + IP6 + 20 + 100);
        byte[] err = frame(PORT_MAC, ROUTER_MAC, routerIp, VIP, 58, 64,
                V6Frames.icmp6(routerIp, VIP, 2, 0, concat(V6Frames.hex("00000500"), reply)));   // MTU 1280
        byte[] inner = Arrays.copyOfRange(err, ETH, err.length);
        inner[7] = 63;
        assertEquals(hex(frame(ROUTER_MAC, PORT_MAC, PORT_IP, TS1, 41, 63, inner)), hex(one(err)));
        assertEquals(0, counters.drops(DropReason.ICMP_UNTRACKED));
    }

    /** ip6ip6 and GUE over IPv6, and Packet Too Big (built, then rate-limited), allocate nothing once compiled. */
    @Test
    void tun6PathDoesNotAllocate() {
        one(clientPacket(80, CSEQ, SYN, 64, none()));
        one(clientPacket(81, CSEQ, SYN, 64, none()));
        one(clientPacket(82, CSEQ, SYN, 64, none()));
        byte[][] frames = {
                clientPacket(80, CSEQ + 1, ACK, 64, payload(100)),
                clientPacket(81, CSEQ + 1, ACK, 64, payload(100)),
                clientPacket(82, CSEQ + 1, ACK, 64, payload(100)),
                clientPacket(80, CSEQ + 1, ACK, 64, payload(1500 - 40 - 20))};
        queue.capture = false;
        long allocated = V6Frames.allocatedFeeding(channel, ctx, port, arena, frames, 20_000);
        assertTrue(queue.counted >= 3 * 20_000, () -> "every small frame forwarded: " + queue.counted + "; drops "
                + Arrays.stream(DropReason.values()).filter(r -> counters.drops(r) > 0)
                .map(r -> r.label() + "=" + counters.drops(r)).toList());
        assertEquals(0, counters.drops(DropReason.MALFORMED), "every frame read as the ring would hand it over");
        assertEquals(0, allocated, "bytes allocated by 80k TUN6 frames");
    }
}
