package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.LocalPorts;
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
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
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
import static io.jvs.forwarder.pipeline.V6Frames.ns;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FULLNAT over IPv6 through {@link DataPath}'s pipeline with a real IPv6 service table
 * ({@code -t [2001:db8::100]:80 --laddr 2001:db8::3}, {@code --fullnat} real servers
 * [2001:db8::11]:80 and [2001:db8::12]:80): every expected frame is written out here field by
 * field with its TCP checksum from {@link V6Frames}' own RFC 1071 sum (not jvs's), and compared
 * byte for byte with what left. The only values read from the output are the ones jvs chooses:
 * the real server's view of the client's sequence numbers (an ISN per tuple, checked to be
 * undone on the way back). Local ports come from a range of one port (5000), so the port is
 * known and its exhaustion and release can be seen.
 */
class Fullnat6PipelineTest {
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final long RS1_MAC = 0x02_00_00_00_00_11L;
    static final long RS2_MAC = 0x02_00_00_00_00_12L;
    static final byte[] PORT_IP = addr("2001:db8::2");
    static final byte[] CLIENT = addr("2001:db8:1::2");
    static final byte[] CLIENT2 = addr("2001:db8:1::7");
    static final byte[] ROUTER = addr("fe80::1");
    static final byte[] VIP = addr("2001:db8::100");
    static final byte[] LIP = addr("2001:db8::3");
    static final byte[] RS1 = addr("2001:db8::11");
    static final byte[] RS2 = addr("2001:db8::12");
    static final int LPORT = 5000;
    static final int CSEQ = 0x1000_0000;
    static final int SSEQ = 0x7000_0000;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int SYN_ACK = 0x12;
    static final int PSH_ACK = 0x18;

    final DataPathCounters counters = new DataPathCounters("lan0");
    final CapturingTxQueue tx = new CapturingTxQueue();

    final CaptureSwitchTxQueue queue = new CaptureSwitchTxQueue(tx);
    final LanPort port = new LanPort("lan0", IFINDEX, PORT_MAC, 0x0a00_0002, queue);
    final NeighbourCache neighbours = new NeighbourCache(port, counters::drop);
    final NeighbourCache6 neighbours6 = new NeighbourCache6(port, hi(PORT_IP), lo(PORT_IP), counters::drop);
    final ConnectionTable6 conns6 = new ConnectionTable6(64, Timeouts.DEFAULTS, 0, new LocalPorts(LPORT, LPORT));
    final RouteTable6 routes6 = new RouteTable6(List.of(
            new Route6(hi(addr("2001:db8::")), 0, 64, 0, 0, IFINDEX, 256, 254),
            new Route6(0, 0, 0, hi(ROUTER), lo(ROUTER), IFINDEX, 1024, 254)), IFINDEX);
    final EmbeddedChannel channel = new EmbeddedChannel();
    final PacketContext ctx = new PacketContext();
    final Arena arena = Arena.ofConfined();
    long wallMillis = 1_700_000_000_000L;
    ServiceTable table;
    DataPath dataPath;

    void start(ClientAddressMode mode) {
        start(mode, io.jvs.forwarder.neigh.ArpScope.BY_ROUTE);
    }

    void start(ClientAddressMode mode, io.jvs.forwarder.neigh.ArpScope scope) {
        table = new ServiceTableBuilder(Schedulers::create).build(List.of(
                // Added RS2 then RS1: IPVS lists the newest first, and rr starts at the head: RS1, RS2, RS1...
                ServiceSpec.ipv6(Protocol.TCP, Ipv6Address.parse("2001:db8::100"), 80, "rr", List.of())
                        .withFullNat6(List.of(Ipv6Address.parse("2001:db8::3")), mode).withDests(List.of(
                        Dest.ipv6(Ipv6Address.parse("2001:db8::12"), 80, 1, ForwardMethod.FULLNAT),
                        Dest.ipv6(Ipv6Address.parse("2001:db8::11"), 80, 1, ForwardMethod.FULLNAT)))),
                ServiceTable.EMPTY);
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(ServiceTable.EMPTY);
        dataPath = DataPath.builder().services(registry).connections(new ConnectionTable(64, Timeouts.DEFAULTS))
                .neighbours(neighbours).routes(() -> new RouteTable(List.of(), IFINDEX)).counters(counters)
                .services6(() -> table).connections6(conns6).neighbours6(neighbours6).routes6(() -> routes6)
                .fullNatClock(() -> wallMillis).fullNatIsnKey(0x1234, 0x5678).arpScope(scope)
                .build();
        dataPath.wire(channel.pipeline());
        learnNeighbours();
    }

    @AfterEach
    void close() {
        channel.finishAndReleaseAll();
        neighbours.close();
        neighbours6.close();
        port.close();
        arena.close();
    }

    static long hi(byte[] a) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (a[i] & 0xff);
        }
        return v;
    }

    static long lo(byte[] a) {
        long v = 0;
        for (int i = 8; i < 16; i++) {
            v = v << 8 | (a[i] & 0xff);
        }
        return v;
    }

    /** A TCP segment (options a multiple of 4 bytes) with its reference checksum for (src, dst). */
    static byte[] tcp(byte[] src, byte[] dst, int sport, int dport, int seq, int ack, int flags, byte[] options,
                      byte[] payload) {
        byte[] t = new byte[20 + options.length + payload.length];
        t[0] = (byte) (sport >>> 8);
        t[1] = (byte) sport;
        t[2] = (byte) (dport >>> 8);
        t[3] = (byte) dport;
        put32(t, 4, seq);
        put32(t, 8, ack);
        t[12] = (byte) ((20 + options.length) / 4 << 4);
        t[13] = (byte) flags;
        t[14] = (byte) 0xfa;
        t[15] = (byte) 0xf0;
        System.arraycopy(options, 0, t, 20, options.length);
        System.arraycopy(payload, 0, t, 20 + options.length, payload.length);
        int c = l4Sum(src, dst, 6, t);
        t[16] = (byte) (c >>> 8);
        t[17] = (byte) c;
        return t;
    }

    static void put32(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    static int u32(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | b[at + 1] & 0xff;
    }

    static byte[] none() {
        return new byte[0];
    }

    /** NOP, NOP, timestamps (TSval, TSecr): Linux's layout on every segment but the SYN. */
    static byte[] timestamps(int tsval, int tsecr) {
        byte[] o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
        put32(o, 4, tsval);
        put32(o, 8, tsecr);
        return o;
    }

    /** Client -> VIP:80 from the router. */
    static byte[] fromClient(byte[] client, int cport, int seq, int ack, int flags, byte[] options, byte[] payload) {
        return frame(PORT_MAC, ROUTER_MAC, client, VIP, 6, 64,
                tcp(client, VIP, cport, 80, seq, ack, flags, options, payload));
    }

    /** Real server -> LIP:5000. */
    static byte[] fromServer(byte[] rs, long rsMac, int seq, int ack, int flags, byte[] options, byte[] payload) {
        return frame(PORT_MAC, rsMac, rs, LIP, 6, 64, tcp(rs, LIP, 80, LPORT, seq, ack, flags, options, payload));
    }

    private MemorySegment seg;

    List<byte[]> feed(byte[] f) {
        int before = tx.sent.size();
        if (seg == null || seg.byteSize() < 64 + 10 + f.length + 128) {
            seg = arena.allocate(64 + 10 + f.length + 2048, 8);
        }
        seg.fill((byte) 0xA5);
        MemorySegment.copy(new byte[10], 0, seg, ValueLayout.JAVA_BYTE, 64, 10);
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
        List<byte[]> out = feed(f);
        assertEquals(1, out.size(), "frames sent");
        return out.get(0);
    }

    void dropped(byte[] f, DropReason reason) {
        long before = counters.drops(reason);
        assertEquals(0, feed(f).size(), "frames sent");
        assertEquals(before + 1, counters.drops(reason), reason.label());
    }

    /** The director knows the servers' and the router's MACs (their NAs to its solicitations). */
    void learnNeighbours() {
        long now = System.nanoTime();
        neighbours6.learn(hi(RS1), lo(RS1), RS1_MAC, true, now);
        neighbours6.learn(hi(RS2), lo(RS2), RS2_MAC, true, now);
        neighbours6.learn(hi(ROUTER), lo(ROUTER), ROUTER_MAC, true, now);
    }

    /** What the director must send the real server: [LIP]:5000 -> [rs]:80, hop limit 63. */
    static byte[] toServer(byte[] rs, long rsMac, int seq, int ack, int flags, byte[] options, byte[] payload) {
        return frame(rsMac, PORT_MAC, LIP, rs, 6, 63, tcp(LIP, rs, LPORT, 80, seq, ack, flags, options, payload));
    }

    /** What the director must send the client: [VIP]:80 -> [client]:cport by the router, hop limit 63. */
    static byte[] toClient(byte[] client, int cport, int seq, int ack, int flags, byte[] options, byte[] payload) {
        return frame(ROUTER_MAC, PORT_MAC, VIP, client, 6, 63,
                tcp(VIP, client, 80, cport, seq, ack, flags, options, payload));
    }

    @Test
    void connectionIsTranslatedBothWaysWithTheLocalAddressAndPort() {
        start(ClientAddressMode.NONE);
        byte[] syn = one(fromClient(CLIENT, 40000, CSEQ, 0, SYN, none(), none()));
        int d = u32(syn, ETH + IP6 + 4) - CSEQ; // the real server's view of the client's stream
        assertNotEquals(0, d, "the server sees the tuple's ISN, not the client's");
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d, 0, SYN, none(), none())), hex(syn));
        assertEquals(0, l4Sum(LIP, RS1, 6, Arrays.copyOfRange(syn, ETH + IP6, syn.length)),
                "the incrementally updated TCP checksum verifies (reference sum)");

        byte[] synAck = one(fromServer(RS1, RS1_MAC, SSEQ, CSEQ + d + 1, SYN_ACK, none(), none()));
        assertEquals(hex(toClient(CLIENT, 40000, SSEQ, CSEQ + 1, SYN_ACK, none(), none())), hex(synAck),
                "the reply, found by [RS1]:80 -> [LIP]:5000, goes back as [VIP]:80 -> client, the ack undone");

        byte[] data = "GET / HTTP/1.0\r\n\r\n".getBytes();
        byte[] req = one(fromClient(CLIENT, 40000, CSEQ + 1, SSEQ + 1, PSH_ACK, timestamps(1000, 0), data));
        int tsval = u32(req, ETH + IP6 + 24);
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d + 1, SSEQ + 1, PSH_ACK, timestamps(tsval, 0), data)),
                hex(req));
        byte[] ack = one(fromServer(RS1, RS1_MAC, SSEQ + 1, CSEQ + d + 1 + data.length, ACK,
                timestamps(555, tsval), none()));
        assertEquals(hex(toClient(CLIENT, 40000, SSEQ + 1, CSEQ + 1 + data.length, ACK, timestamps(555, 1000),
                none())), hex(ack), "TSecr back in the client's clock");

        // The next client (rr: RS2's turn) finds the one local port held: refused, counted.
        dropped(fromClient(CLIENT2, 40001, CSEQ, 0, SYN, none(), none()), DropReason.LOCAL_PORT_EXHAUSTED);
        assertEquals(1, conns6.localPorts().inUse());
        // The first connection expires: its port is free, and the next SYN gets it.
        assertEquals(1, conns6.expire(System.nanoTime() + 3_600_000_000_000L, 64));
        assertEquals(0, conns6.localPorts().inUse(), "expiry releases the local port");
        byte[] syn2 = one(fromClient(CLIENT2, 40001, CSEQ, 0, SYN, none(), none()));
        int d2 = u32(syn2, ETH + IP6 + 4) - CSEQ;
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d2, 0, SYN, none(), none())), hex(syn2),
                "from the released port; rr's turn is RS1's again (RS2's turn went to the refused SYN)");
    }

    @Test
    void toaCarriesTheClientsIpv6AddressInDpvsLayout() {
        start(ClientAddressMode.TOA);
        // DPVS's IPv6 TOA: kind 254, length 20, port 40000 (0x9c40), then the client's 16 address bytes.
        byte[] toa = concat(V6Frames.hex("fe14 9c40"), CLIENT);
        byte[] syn = one(fromClient(CLIENT, 40000, CSEQ, 0, SYN, none(), none()));
        int d = u32(syn, ETH + IP6 + 4) - CSEQ;
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d, 0, SYN, toa, none())), hex(syn),
                "TOA after the SYN's options, data offset 40 bytes, payload length +20");
        one(fromServer(RS1, RS1_MAC, SSEQ, CSEQ + d + 1, SYN_ACK, none(), none()));
        byte[] ack = one(fromClient(CLIENT, 40000, CSEQ + 1, SSEQ + 1, ACK, none(), none()));
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d + 1, SSEQ + 1, ACK, toa, none())), hex(ack),
                "and on the handshake ACK (the toa module reads it from the ACK that makes the socket)");
        byte[] again = one(fromClient(CLIENT, 40000, CSEQ + 1, SSEQ + 1, ACK, none(), none()));
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d + 1, SSEQ + 1, ACK, none(), none())), hex(again),
                "once");
    }

    @Test
    void proxyV2HeaderForTcpOverIpv6GoesAheadOfTheClientsFirstSegment() {
        start(ClientAddressMode.PROXY_V2);
        byte[] syn = one(fromClient(CLIENT, 40000, CSEQ, 0, SYN, none(), none()));
        int d = u32(syn, ETH + IP6 + 4) - CSEQ;
        one(fromServer(RS1, RS1_MAC, SSEQ, CSEQ + d + 1, SYN_ACK, none(), none()));
        byte[] data = "GET /".getBytes();
        List<byte[]> out = feed(fromClient(CLIENT, 40000, CSEQ + 1, SSEQ + 1, PSH_ACK, none(), data));
        assertEquals(2, out.size(), "the PROXY header, then the client's segment");
        // Signature, v2 PROXY (0x21), TCP over IPv6 (0x21), 36 address bytes: client, VIP, ports.
        byte[] header = concat(V6Frames.hex("0d0a0d0a000d0a515549540a 2121 0024"), CLIENT, VIP,
                V6Frames.hex("9c40 0050"));
        assertEquals(52, header.length);
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d + 1, SSEQ + 1, PSH_ACK, none(), header)), hex(out.get(0)));
        assertEquals(hex(toServer(RS1, RS1_MAC, CSEQ + d + 1 + 52, SSEQ + 1, PSH_ACK, none(), data)),
                hex(out.get(1)), "the client's bytes after the header's 52");
        byte[] ack = one(fromServer(RS1, RS1_MAC, SSEQ + 1, CSEQ + d + 1 + 52 + data.length, ACK, none(), none()));
        assertEquals(hex(toClient(CLIENT, 40000, SSEQ + 1, CSEQ + 1 + data.length, ACK, none(), none())), hex(ack),
                "the server's acknowledgement less the header's 52 bytes");
    }

    @Test
    void localAddressIsAnsweredByNdpAndPublished() {
        start(ClientAddressMode.NONE);
        assertTrue(table.isLocalAddr6(hi(LIP), lo(LIP)));
        assertFalse(table.isLocalAddr6(hi(VIP), lo(VIP)));
        assertEquals(List.of(hi(VIP), lo(VIP), hi(LIP), lo(LIP)),
                Arrays.stream(table.ownedAddresses6()).boxed().toList(), "VIPs and LIPs get NDP's announcements");
        byte[] snLip = addr("ff02::1:ff00:3");
        byte[] na = one(frame(0x3333_ff00_0003L, RS1_MAC, RS1, snLip, 58, 255, ns(RS1, snLip, LIP, RS1_MAC)));
        // A solicited NA (Solicited + Override) for the LIP with the port's MAC, to RS1.
        byte[] want = frame(RS1_MAC, PORT_MAC, LIP, RS1, 58, 255, V6Frames.icmp6(LIP, RS1, 136, 0,
                concat(V6Frames.hex("60000000"), LIP, V6Frames.hex("0201"), V6Frames.mac(PORT_MAC))));
        assertEquals(hex(want), hex(na));
    }

    /**
     * The ECMP profile (--announce-table: VIPs routed to each director's own address): no director
     * answers an NS for the VIP6 or announces it (each would, and the router's entry would follow
     * the last NA); the local address is this director's own and still answered and announced.
     */
    @Test
    void ecmpProfileLeavesTheVipToRoutingButAnswersForTheLocalAddress() {
        start(ClientAddressMode.NONE, io.jvs.forwarder.neigh.ArpScope.BY_ROUTE.withRoutedVips());
        byte[] snVip = addr("ff02::1:ff00:100");
        assertEquals(0, feed(frame(0x3333_ff00_0100L, ROUTER_MAC, ROUTER, snVip, 58, 255,
                ns(ROUTER, snVip, VIP, ROUTER_MAC))).size(), "no NA for the VIP6");
        byte[] snLip = addr("ff02::1:ff00:3");
        byte[] na = one(frame(0x3333_ff00_0003L, RS1_MAC, RS1, snLip, 58, 255, ns(RS1, snLip, LIP, RS1_MAC)));
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, LIP, RS1, 58, 255, V6Frames.icmp6(LIP, RS1, 136, 0,
                concat(V6Frames.hex("60000000"), LIP, V6Frames.hex("0201"), V6Frames.mac(PORT_MAC))))), hex(na),
                "the LIP is answered as ever");
        // the VIP's traffic, routed to this director, is forwarded
        one(fromClient(CLIENT, 40000, CSEQ, 0, SYN, none(), none()));
        assertFalse(dataPath.announce6(hi(VIP), lo(VIP)), "no unsolicited NA for the VIP6");
        assertTrue(dataPath.announce6(hi(LIP), lo(LIP)), "the LIP is announced");
    }

    /**
     * An ICMPv6 error from the real server quoting what the director sent it, [LIP]:5000 ->
     * [RS1]:80 (ip_vs_out_icmp_v6 with FULLNAT's tuple): Packet Too Big with MTU 1280.
     */
    static byte[] errorFromServer(byte[] quotedTcp) {
        byte[] quote = Icmpv6PipelineTest.ip6(LIP, RS1, 6, 63, quotedTcp.length, quotedTcp);
        return frame(PORT_MAC, RS1_MAC, RS1, LIP, 58, 64,
                V6Frames.icmp6(RS1, LIP, 2, 0, concat(Icmpv6PipelineTest.u32(1280), quote)));
    }

    /** What the client must get: from the VIP, quoting client:40000 -> [VIP]:80 with sequence number seq. */
    static byte[] errorToClient(byte[] quotedTcp, int seq) {
        byte[] quote = Icmpv6PipelineTest.ip6(LIP, RS1, 6, 63, quotedTcp.length, quotedTcp);
        quote = Icmpv6PipelineTest.patched(quote, 8, CLIENT, 40, 40000);
        quote = Icmpv6PipelineTest.patched(quote, 24, VIP, 42, 80);
        put32(quote, 40 + 4, seq); // the quoted TCP checksum is left as the server sent it (the quote may be cut)
        return frame(ROUTER_MAC, PORT_MAC, VIP, CLIENT, 58, 63,
                V6Frames.icmp6(VIP, CLIENT, 2, 0, concat(Icmpv6PipelineTest.u32(1280), quote)));
    }

    @Test
    void errorFromTheFullnatRealServerReachesTheClientRewrittenToItsTuple() {
        start(ClientAddressMode.NONE);
        byte[] syn = one(fromClient(CLIENT, 40000, CSEQ, 0, SYN, none(), none()));
        int d = u32(syn, ETH + IP6 + 4) - CSEQ;
        one(fromServer(RS1, RS1_MAC, SSEQ, CSEQ + d + 1, SYN_ACK, none(), none()));
        byte[] data = Icmpv6PipelineTest.payload(200);
        byte[] sent = tcp(LIP, RS1, LPORT, 80, CSEQ + d + 1, SSEQ + 1, PSH_ACK, none(), data);
        byte[] out = one(errorFromServer(sent));
        assertEquals(hex(errorToClient(sent, CSEQ + 1)), hex(out),
                "to the client from the VIP; the quote is the client's segment, in its own sequence space");
        assertEquals(0, l4Sum(VIP, CLIENT, 58, Arrays.copyOfRange(out, ETH + IP6, out.length)),
                "the ICMPv6 checksum verifies (reference sum)");
        // An error quoting a local port no connection holds is not forwarded: counted.
        byte[] stray = tcp(LIP, RS1, LPORT, 81, 1, 1, ACK, none(), none());
        dropped(errorFromServer(stray), DropReason.ICMP_UNTRACKED);
    }

    @Test
    void errorFromTheFullnatRealServerBehindAProxyHeaderQuotesTheClientsSequence() {
        start(ClientAddressMode.PROXY_V2);
        byte[] syn = one(fromClient(CLIENT, 40000, CSEQ, 0, SYN, none(), none()));
        int d = u32(syn, ETH + IP6 + 4) - CSEQ;
        one(fromServer(RS1, RS1_MAC, SSEQ, CSEQ + d + 1, SYN_ACK, none(), none()));
        byte[] data = "GET /".getBytes();
        assertEquals(2, feed(fromClient(CLIENT, 40000, CSEQ + 1, SSEQ + 1, PSH_ACK, none(), data)).size());
        // the server's error quotes the client's bytes after the 52-byte PROXY v2 header
        byte[] sent = tcp(LIP, RS1, LPORT, 80, CSEQ + d + 1 + 52, SSEQ + 1, PSH_ACK, none(), data);
        assertEquals(hex(errorToClient(sent, CSEQ + 1)), hex(one(errorFromServer(sent))),
                "the header's bytes are not the client's: its first byte is CSEQ + 1");
    }

    /** FULLNAT6 forwarding both ways, TCP options walked, allocates nothing once compiled. */
    @Test
    void fullnat6PathDoesNotAllocate() {
        start(ClientAddressMode.NONE);
        byte[] syn = one(fromClient(CLIENT, 40000, CSEQ, 0, SYN, none(), none()));
        int d = u32(syn, ETH + IP6 + 4) - CSEQ;
        one(fromServer(RS1, RS1_MAC, SSEQ, CSEQ + d + 1, SYN_ACK, none(), none()));
        byte[] in = fromClient(CLIENT, 40000, CSEQ + 1, SSEQ + 1, ACK, timestamps(1000, 2000), none());
        byte[] back = fromServer(RS1, RS1_MAC, SSEQ + 1, CSEQ + d + 1, ACK, timestamps(2001, 1000), none());
        byte[] err = errorFromServer(tcp(LIP, RS1, LPORT, 80, CSEQ + d + 1, SSEQ + 1, ACK, none(), none()));
        byte[][] frames = {in, back, err};
        queue.capture = false;
        long allocated = V6Frames.allocatedFeeding(channel, ctx, port, arena, frames, 20_000);
        assertTrue(queue.counted >= 3 * 20_000, "every frame forwarded: " + queue.counted);
        assertEquals(0, allocated, "bytes allocated by 60k FULLNAT6 frames (ICMPv6 errors of the server among them)");
    }
}
