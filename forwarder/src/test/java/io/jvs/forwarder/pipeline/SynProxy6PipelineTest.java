package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.DefenseSettings;
import io.jvs.forwarder.conn.LocalPorts;
import io.jvs.forwarder.conn.SynProxyState;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.jvs.forwarder.pipeline.Fullnat6PipelineTest.hi;
import static io.jvs.forwarder.pipeline.Fullnat6PipelineTest.lo;
import static io.jvs.forwarder.pipeline.Fullnat6PipelineTest.put32;
import static io.jvs.forwarder.pipeline.Fullnat6PipelineTest.u32;
import static io.jvs.forwarder.pipeline.V6Frames.ETH;
import static io.jvs.forwarder.pipeline.V6Frames.IP6;
import static io.jvs.forwarder.pipeline.V6Frames.addr;
import static io.jvs.forwarder.pipeline.V6Frames.concat;
import static io.jvs.forwarder.pipeline.V6Frames.frame;
import static io.jvs.forwarder.pipeline.V6Frames.hex;
import static io.jvs.forwarder.pipeline.V6Frames.icmp6;
import static io.jvs.forwarder.pipeline.V6Frames.l4Sum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SYN proxy for IPv6 services through {@link DataPath}'s pipeline: {@code -t
 * [2001:db8::100]:80 --synproxy} with a NAT real server [2001:db8::11]:8080, and {@code :81
 * --synproxy --laddr 2001:db8::3} with a FULLNAT one [2001:db8::11]:8081. The clock and the cookie
 * key are fixed, so the cookie is SynCookiesTest's hand-computed IPv6 one, 0x57FE5731; every frame
 * the director must send is written out here field by field (TCP and ICMPv6 checksums from
 * {@link V6Frames}' own RFC 1071 sum) and compared byte for byte, its translated numbers worked out
 * from the cookie, the client's and the server's numbers.
 */
class SynProxy6PipelineTest {
    static final int IFINDEX = 7;
    static final long PORT_MAC = 0x02_6a_76_00_00_02L;
    static final long ROUTER_MAC = 0x02_00_00_00_00_01L;
    static final long RS1_MAC = 0x02_00_00_00_00_11L;
    static final byte[] PORT_IP = addr("2001:db8::2");
    static final byte[] CLIENT = addr("2001:db8:1::2");
    static final byte[] ROUTER = addr("fe80::1");
    static final byte[] HOP = addr("2001:db8:1::1");
    static final byte[] VIP = addr("2001:db8::100");
    static final byte[] LIP = addr("2001:db8::3");
    static final byte[] RS1 = addr("2001:db8::11");
    static final int NAT = 80;
    static final int FNAT = 81;
    /** A NAT service without the proxy (the flood defence's tests). */
    static final int PLAIN = 8080;
    static final int NAT_RPORT = 8080;
    static final int FNAT_RPORT = 8081;
    static final int LPORT = 5000;
    static final int CPORT = 40000;
    static final int CSEQ = 0x7000_0000;
    static final int SSEQ = 0x3000_0000;
    /** SynCookiesTest.ipv6CookieIsTheHandComputedValue: key (0xC00C1E01, 0xC00C1E02), NOW, MSS 1460/ws 7/TS/SACK. */
    static final int COOKIE = 0x57FE_5731;
    static final long NOW = 1_700_000_000_000L;
    static final int CLIENT_TS = 1000;
    static final int SERVER_TS = 5000;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int PSH_ACK = 0x18;
    static final int SYN_ACK = 0x12;
    /** MSS 1460, SACK-permitted + timestamps (TSval 1000), NOP + window scale 7: what Linux sends. */
    static final byte[] CLIENT_SYN_OPTS = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x03, (byte) 0xE8, 0, 0, 0, 0,
            1, 3, 3, 7};

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
    ServiceTable table;
    DataPath dataPath;

    /** The flood defence's settings per test (drop_entry, drop_packet, secure_tcp, amemthresh, am_droprate). */
    static DefenseSettings defence(TestInfo test) {
        return switch (test.getTestMethod().orElseThrow().getName()) {
            case "dropPacketRefusesNewIpv6Connections" -> new DefenseSettings(0, 3, 0, 1024, 2);
            case "secureTcpKeepsASpoofedIpv6HandshakeEmbryonic" -> new DefenseSettings(0, 0, 3, 1024, 10);
            case "theTriggerCountsTheIpv6TablesFreeEntriesAndDropEntryScansIt" -> new DefenseSettings(1, 0, 0, 64, 10);
            default -> new DefenseSettings(0, 0, 0, 1024, 10);
        };
    }

    @BeforeEach
    void start(TestInfo test) {
        Ipv6Address vip = Ipv6Address.parse("2001:db8::100");
        Ipv6Address rs1 = Ipv6Address.parse("2001:db8::11");
        table = new ServiceTableBuilder(Schedulers::create).build(List.of(
                ServiceSpec.ipv6(Protocol.TCP, vip, NAT, "rr", List.of(Dest.ipv6(rs1, NAT_RPORT, 1, ForwardMethod.NAT)))
                        .withSynProxy(true),
                ServiceSpec.ipv6(Protocol.TCP, vip, FNAT, "rr", List.of())
                        .withFullNat6(List.of(Ipv6Address.parse("2001:db8::3")), ClientAddressMode.NONE)
                        .withDests(List.of(Dest.ipv6(rs1, FNAT_RPORT, 1, ForwardMethod.FULLNAT))).withSynProxy(true),
                ServiceSpec.ipv6(Protocol.TCP, vip, PLAIN, "rr", List.of(Dest.ipv6(rs1, NAT_RPORT, 1,
                        ForwardMethod.NAT)))),
                ServiceTable.EMPTY);
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(ServiceTable.EMPTY);
        dataPath = DataPath.builder().services(registry).connections(new ConnectionTable(64, Timeouts.DEFAULTS))
                .connPolicy(new ConnPolicy(false, false, false, defence(test)))
                .neighbours(neighbours).routes(() -> new RouteTable(List.of(), IFINDEX)).counters(counters)
                .services6(() -> table).connections6(conns6).neighbours6(neighbours6).routes6(() -> routes6)
                .fullNatClock(() -> NOW).fullNatIsnKey(0x1234, 0x5678).synCookieKey(0xC00C1E01L, 0xC00C1E02L)
                .build();
        dataPath.wire(channel.pipeline());
        long now = System.nanoTime();
        neighbours6.learn(hi(RS1), lo(RS1), RS1_MAC, true, now);
        neighbours6.learn(hi(ROUTER), lo(ROUTER), ROUTER_MAC, true, now);
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

    /** A TCP segment (options a multiple of 4 bytes) with its reference checksum for (src, dst). */
    static byte[] tcp(byte[] src, byte[] dst, int sport, int dport, int seq, int ack, int flags, int window,
                      byte[] options, byte[] payload) {
        byte[] t = new byte[20 + options.length + payload.length];
        t[0] = (byte) (sport >>> 8);
        t[1] = (byte) sport;
        t[2] = (byte) (dport >>> 8);
        t[3] = (byte) dport;
        put32(t, 4, seq);
        put32(t, 8, ack);
        t[12] = (byte) ((20 + options.length) / 4 << 4);
        t[13] = (byte) flags;
        t[14] = (byte) (window >>> 8);
        t[15] = (byte) window;
        System.arraycopy(options, 0, t, 20, options.length);
        System.arraycopy(payload, 0, t, 20 + options.length, payload.length);
        int c = l4Sum(src, dst, 6, t);
        t[16] = (byte) (c >>> 8);
        t[17] = (byte) c;
        return t;
    }

    static byte[] ts(int tsval, int tsecr) {
        byte[] o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
        put32(o, 4, tsval);
        put32(o, 8, tsecr);
        return o;
    }

    static byte[] none() {
        return new byte[0];
    }

    /** Client -> [VIP]:vport from the router, hop limit 64. */
    static byte[] fromClient(int vport, int cport, int seq, int ack, int flags, int window, byte[] opts, byte[] data) {
        return frame(PORT_MAC, ROUTER_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, cport, vport, seq, ack, flags, window,
                opts, data));
    }

    /** The NAT real server -> client:cport, hop limit 64. */
    static byte[] fromServer(int seq, int ack, int flags, int window, byte[] opts, byte[] data) {
        return frame(PORT_MAC, RS1_MAC, RS1, CLIENT, 6, 64, tcp(RS1, CLIENT, NAT_RPORT, CPORT, seq, ack, flags, window,
                opts, data));
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

    byte[] clientSyn(int vport) {
        return fromClient(vport, CPORT, CSEQ, 0, SYN, 64240, CLIENT_SYN_OPTS, none());
    }

    /** What the director answers a SYN to vport: the cookie SYN-ACK to the client by the router, hop limit 64. */
    static byte[] cookieSynAck(int vport, int cookie) {
        byte[] opts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0x03, (byte) 0xE8, 1, 3, 3, 7};
        put32(opts, 8, (int) NOW);
        return frame(ROUTER_MAC, PORT_MAC, VIP, CLIENT, 6, 64,
                tcp(VIP, CLIENT, vport, CPORT, cookie, CSEQ + 1, SYN_ACK, 1460, opts, none()));
    }

    @Test
    void synIsAnsweredWithTheIpv6CookieAndNoConnection() {
        byte[] synAck = one(clientSyn(NAT));
        assertEquals(hex(cookieSynAck(NAT, COOKIE)), hex(synAck),
                "SYN-ACK from [VIP]:80, seq = the hand-computed cookie, one MSS of window, MSS 1460, SACK,"
                        + " TSval = our clock, TSecr = 1000, wscale 7");
        assertEquals(0, conns6.size(), "no connection entry for a SYN");
        assertEquals(1, counters.synProxySynAckCount());
    }

    @Test
    void badCookiesAreDroppedAndNeverReachTheServer() {
        one(clientSyn(NAT));
        assertEquals(0, feed(fromClient(NAT, CPORT, CSEQ + 1, COOKIE + 2, ACK, 502, ts(CLIENT_TS + 1, (int) NOW),
                none())).size());
        assertEquals(0, feed(fromClient(NAT, CPORT + 1, CSEQ + 1, COOKIE + 1, ACK, 502, none(), none())).size(),
                "another port");
        assertEquals(0, feed(fromClient(NAT, CPORT, 0x1234, 0x5678, PSH_ACK, 502, none(), new byte[100])).size(),
                "random data");
        assertEquals(3, counters.drops(DropReason.SYNPROXY_BAD_COOKIE));
        assertEquals(0, conns6.size());
    }

    @Test
    void aFirstFragmentIsNotAnsweredInPlace() {
        // A SYN in a first fragment (Fragment header, offset 0, more fragments): the answer would keep the header.
        byte[] fragment = {6, 0, 0, 1, 0, 0, 0x12, 0x34};
        byte[] f = frame(PORT_MAC, ROUTER_MAC, CLIENT, VIP, 44, 64, concat(fragment,
                tcp(CLIENT, VIP, CPORT, NAT, CSEQ, 0, SYN, 64240, CLIENT_SYN_OPTS, none())));
        assertEquals(0, feed(f).size());
        assertEquals(1, counters.drops(DropReason.FRAGMENT_UNTRACKED));
        assertEquals(0, counters.synProxySynAckCount());
    }

    @Test
    void natHandshakeSpliceAndTranslationBothWays() {
        one(clientSyn(NAT));
        // The client's ACK opens the connection and becomes the server's SYN: the client's own ISN,
        // its options from the cookie, TSval from the ACK, window 502 << 7 (a SYN's is not scaled).
        byte[] syn = one(fromClient(NAT, CPORT, CSEQ + 1, COOKIE + 1, ACK, 502, ts(CLIENT_TS + 1, (int) NOW), none()));
        byte[] synOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x03, (byte) 0xE9, 0, 0, 0, 0, 1, 3, 3, 7};
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, CLIENT, RS1, 6, 63,
                tcp(CLIENT, RS1, CPORT, NAT_RPORT, CSEQ, 0, SYN, 64256, synOpts, none()))), hex(syn));
        int id = conns6.lookupIn(Protocol.TCP, hi(CLIENT), lo(CLIENT), CPORT, hi(VIP), lo(VIP), NAT, System.nanoTime());
        assertEquals(SynProxyState.SP_AWAITING_SERVER, conns6.synProxyState(id));

        // The request right behind the ACK is held.
        byte[] request = "GET / HTTP".getBytes();
        assertEquals(0, feed(fromClient(NAT, CPORT, CSEQ + 1, COOKIE + 1, PSH_ACK, 502, ts(CLIENT_TS + 2, (int) NOW),
                request)).size());
        assertEquals(1, counters.synProxyHeldCount());

        // The server's SYN-ACK (wscale 9, TSval 5000) is spliced: the handshake ACK, then the held request.
        byte[] serverOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x13, (byte) 0x88, 0, 0, 0x03, (byte) 0xE9,
                1, 3, 3, 9};
        List<byte[]> out = feed(fromServer(SSEQ, CSEQ + 1, SYN_ACK, 65160, serverOpts, none()));
        assertEquals(2, out.size(), "the handshake ACK and the held request");
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, CLIENT, RS1, 6, 64,
                tcp(CLIENT, RS1, CPORT, NAT_RPORT, CSEQ + 1, SSEQ + 1, ACK, 502, ts(CLIENT_TS + 1, SERVER_TS),
                        none()))), hex(out.get(0)), "ACK: the client's window and timestamp, the server's echoed");
        // ack: COOKIE + 1 - (COOKIE - SSEQ) = SSEQ + 1; TSecr: NOW - ((int) NOW - 5000) = 5000
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, CLIENT, RS1, 6, 63,
                tcp(CLIENT, RS1, CPORT, NAT_RPORT, CSEQ + 1, SSEQ + 1, PSH_ACK, 502, ts(CLIENT_TS + 2, SERVER_TS),
                        request))), hex(out.get(1)), "the held request in the server's numbers");
        assertEquals(SynProxyState.SP_SPLICED, conns6.synProxyState(id));
        assertEquals(COOKIE - SSEQ, conns6.synProxySeq(id), "sequence delta = cookie - server ISN");

        // Server to client: seq + (COOKIE - SSEQ) = COOKIE + 1, TSval + ((int) NOW - 5000), window 500 << (9 - 7).
        byte[] reply = "HTTP/".getBytes();
        byte[] toClient = one(fromServer(SSEQ + 1, CSEQ + 1 + request.length, PSH_ACK, 500,
                ts(SERVER_TS + 1, CLIENT_TS + 2), reply));
        assertEquals(hex(frame(ROUTER_MAC, PORT_MAC, VIP, CLIENT, 6, 63, tcp(VIP, CLIENT, NAT, CPORT, COOKIE + 1,
                CSEQ + 1 + request.length, PSH_ACK, 2000, ts((int) NOW + 1, CLIENT_TS + 2), reply))), hex(toClient));

        // Client to server, with a SACK block: ack, both edges - (COOKIE - SSEQ), TSecr back in the server's clock.
        byte[] sack = {1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0};
        put32(sack, 4, COOKIE + 100);
        put32(sack, 8, COOKIE + 200);
        byte[] clientAck = one(fromClient(NAT, CPORT, CSEQ + 11, COOKIE + 6, ACK, 501,
                concat(ts(CLIENT_TS + 3, (int) NOW + 1), sack), none()));
        byte[] sackOut = {1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0};
        put32(sackOut, 4, SSEQ + 100);
        put32(sackOut, 8, SSEQ + 200);
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, CLIENT, RS1, 6, 63, tcp(CLIENT, RS1, CPORT, NAT_RPORT, CSEQ + 11,
                SSEQ + 6, ACK, 501, concat(ts(CLIENT_TS + 3, SERVER_TS + 1), sackOut), none()))), hex(clientAck));
        assertEquals(1, counters.synProxySplicedCount());
    }

    /** Opens and splices a NAT connection (server ISN SSEQ, TSval 5000, wscale 9, no held segment). */
    void spliceNat() {
        one(clientSyn(NAT));
        one(fromClient(NAT, CPORT, CSEQ + 1, COOKIE + 1, ACK, 502, ts(CLIENT_TS + 1, (int) NOW), none()));
        byte[] serverOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x13, (byte) 0x88, 0, 0, 0x03, (byte) 0xE9,
                1, 3, 3, 9};
        one(fromServer(SSEQ, CSEQ + 1, SYN_ACK, 65160, serverOpts, none()));
    }

    /** The first 20 + 20 bytes of a packet as a quote: IPv6 header and TCP header. */
    static byte[] quote(byte[] src, byte[] dst, int sport, int dport, int seq, int ack, int flags) {
        byte[] f = frame(0, 0, src, dst, 6, 63, tcp(src, dst, sport, dport, seq, ack, flags, 500, none(), none()));
        return Arrays.copyOfRange(f, ETH, ETH + IP6 + 20);
    }

    @Test
    void icmpv6ErrorsOfASplicedConnectionQuoteTheOtherSidesSequenceNumbers() {
        spliceNat();
        // From the client's side: a router's Destination Unreachable quoting [VIP]:80 -> client with the
        // client's view of the server's sequence (COOKIE + 1) reaches the server quoting its own (SSEQ + 1).
        byte[] fromRouter = frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64, icmp6(HOP, VIP, 1, 3,
                concat(new byte[4], quote(VIP, CLIENT, NAT, CPORT, COOKIE + 1, CSEQ + 1, ACK))));
        byte[] toServer = one(fromRouter);
        byte[] wantQuote = quote(VIP, CLIENT, NAT, CPORT, COOKIE + 1, CSEQ + 1, ACK);
        System.arraycopy(RS1, 0, wantQuote, 8, 16);                 // the quote's source: the real server
        wantQuote[IP6] = (byte) (NAT_RPORT >>> 8);                 // its port
        wantQuote[IP6 + 1] = (byte) NAT_RPORT;
        put32(wantQuote, IP6 + 4, SSEQ + 1);                        // COOKIE + 1 - (COOKIE - SSEQ)
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, HOP, RS1, 58, 63, icmp6(HOP, RS1, 1, 3,
                concat(new byte[4], wantQuote)))), hex(toServer));

        // From the server's side: it quotes client -> [RS1]:8080 acknowledging its own stream (SSEQ + 1);
        // the client gets the quote from [VIP]:80 acknowledging COOKIE + 1.
        byte[] fromRs = frame(PORT_MAC, RS1_MAC, RS1, CLIENT, 58, 64, icmp6(RS1, CLIENT, 1, 4,
                concat(new byte[4], quote(CLIENT, RS1, CPORT, NAT_RPORT, CSEQ + 1, SSEQ + 1, ACK))));
        byte[] toClient = one(fromRs);
        byte[] wantQuote2 = quote(CLIENT, RS1, CPORT, NAT_RPORT, CSEQ + 1, SSEQ + 1, ACK);
        System.arraycopy(VIP, 0, wantQuote2, 24, 16);
        wantQuote2[IP6 + 2] = (byte) (NAT >>> 8);
        wantQuote2[IP6 + 3] = (byte) NAT;
        put32(wantQuote2, IP6 + 8, COOKIE + 1);
        assertEquals(hex(frame(ROUTER_MAC, PORT_MAC, VIP, CLIENT, 58, 63, icmp6(VIP, CLIENT, 1, 4,
                concat(new byte[4], wantQuote2)))), hex(toClient));
    }

    @Test
    void fullnatComposesTheProxysTranslationWithItsOwn() {
        byte[] synAck = one(clientSyn(FNAT));
        int cookie = u32(synAck, ETH + IP6 + 4);
        assertEquals(0, l4Sum(VIP, CLIENT, 6, Arrays.copyOfRange(synAck, ETH + IP6, synAck.length)),
                "the SYN-ACK's checksum verifies (reference sum)");
        byte[] syn = one(fromClient(FNAT, CPORT, CSEQ + 1, cookie + 1, ACK, 502, ts(CLIENT_TS + 1, (int) NOW), none()));
        int d = u32(syn, ETH + IP6 + 4) - CSEQ; // FULLNAT's own view of the client's stream
        int tsval = u32(syn, ETH + IP6 + 20 + 8); // FULLNAT's TSval towards the server (its own clock)
        byte[] synOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7};
        put32(synOpts, 8, tsval);
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, LIP, RS1, 6, 63,
                tcp(LIP, RS1, LPORT, FNAT_RPORT, CSEQ + d, 0, SYN, 64256, synOpts, none()))), hex(syn),
                "[LIP]:5000 -> [RS1]:8081, the client's ISN in FULLNAT's space");

        byte[] serverOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x13, (byte) 0x88, 0, 0, 0, 0, 1, 3, 3, 7};
        put32(serverOpts, 12, tsval);
        byte[] ack = one(frame(PORT_MAC, RS1_MAC, RS1, LIP, 6, 64,
                tcp(RS1, LIP, FNAT_RPORT, LPORT, SSEQ, CSEQ + d + 1, SYN_ACK, 65160, serverOpts, none())));
        assertEquals(CSEQ + d + 1, u32(ack, ETH + IP6 + 4), "the handshake ACK's seq in FULLNAT's space");
        assertEquals(SSEQ + 1, u32(ack, ETH + IP6 + 8));
        assertEquals(0, l4Sum(LIP, RS1, 6, Arrays.copyOfRange(ack, ETH + IP6, ack.length)), "ACK checksum");

        // Server data: the client sees seq SSEQ + 1 + (cookie - SSEQ) = cookie + 1, from [VIP]:81.
        byte[] toClient = one(frame(PORT_MAC, RS1_MAC, RS1, LIP, 6, 64, tcp(RS1, LIP, FNAT_RPORT, LPORT, SSEQ + 1,
                CSEQ + d + 1, PSH_ACK, 500, none(), "HTTP/".getBytes())));
        assertEquals(hex(frame(ROUTER_MAC, PORT_MAC, VIP, CLIENT, 6, 63, tcp(VIP, CLIENT, FNAT, CPORT, cookie + 1,
                CSEQ + 1, PSH_ACK, 500, none(), "HTTP/".getBytes()))), hex(toClient),
                "both translations undone: the proxy's sequence delta, FULLNAT's ack (no timestamps: window unscaled"
                        + " as 7 - 7)");
    }

    @Test
    void aFullIpv6TableGivesUpItsOldestEmbryonicEntryForANewConnection() {
        for (int i = 0; i < 64; i++) {  // 64 SYNs never followed by an ACK: SYN_RECV entries fill the table
            one(fromClient(PLAIN, 1000 + i, CSEQ, 0, SYN, 64240, none(), none()));
        }
        assertEquals(64, conns6.size());
        byte[] syn = one(fromClient(PLAIN, 2000, CSEQ, 0, SYN, 64240, none(), none()));
        assertEquals(hex(frame(RS1_MAC, PORT_MAC, CLIENT, RS1, 6, 63,
                tcp(CLIENT, RS1, 2000, NAT_RPORT, CSEQ, 0, SYN, 64240, none(), none()))), hex(syn),
                "the 65th SYN is forwarded");
        assertEquals(1, counters.embryonicReclaimed());
        assertEquals(0, counters.drops(DropReason.TABLE_FULL));
        assertEquals(-1, conns6.lookupIn(Protocol.TCP, hi(CLIENT), lo(CLIENT), 1000, hi(VIP), lo(VIP), PLAIN,
                System.nanoTime()), "the oldest embryonic entry gave way");
    }

    @Test
    void dropPacketRefusesNewIpv6Connections() {
        // drop_packet 3, am_droprate 2: one new connection in every two is refused before scheduling
        int sent = 0;
        for (int i = 0; i < 4; i++) {
            sent += feed(fromClient(PLAIN, 1000 + i, CSEQ, 0, SYN, 64240, none(), none())).size();
        }
        assertEquals(2, sent);
        assertEquals(2, counters.drops(DropReason.DEFENSE_DROP_PACKET));
        assertEquals(2, conns6.size());
    }

    @Test
    void secureTcpKeepsASpoofedIpv6HandshakeEmbryonic() {
        // secure_tcp 3: tcp_states_dos[], where a client's ACK in SYN_RECV waits for the server's reply
        one(fromClient(PLAIN, 1000, CSEQ, 0, SYN, 64240, none(), none()));
        one(fromClient(PLAIN, 1000, CSEQ + 1, 0x1234_5678, ACK, 502, none(), none()));
        int id = conns6.lookupIn(Protocol.TCP, hi(CLIENT), lo(CLIENT), 1000, hi(VIP), lo(VIP), PLAIN,
                System.nanoTime());
        assertEquals(io.jvs.forwarder.conn.TcpState.SYN_RECV, conns6.state(id),
                "a spoofed handshake (no reply seen) stays SYN_RECV, not ESTABLISHED");
        assertTrue(conns6.isEmbryonic(id), "and so stays reclaimable");
    }

    @Test
    void theTriggerCountsTheIpv6TablesFreeEntriesAndDropEntryScansIt() {
        assertEquals(64, dataPath.availableEntries(), "both tables empty");
        for (int i = 0; i < 56; i++) {
            one(fromClient(PLAIN, 1000 + i, CSEQ, 0, SYN, 64240, none(), none()));
        }
        // 8 of the IPv6 table's 64 free, scaled to the IPv4 table's 64: 8, below amemthresh 64
        assertEquals(8, dataPath.availableEntries());
        for (int k = 0; k < 400 && conns6.size() > 0; k++) {
            dataPath.defenseTick();                 // drop_entry 1 -> 2 under nomem: scans both tables
        }
        assertEquals(0, conns6.size(), "drop_entry's scans removed the IPv6 table's embryonic entries");
        assertEquals(56, counters.embryonicDropped());
    }

    @Test
    void synProxy6PathDoesNotAllocate() {
        spliceNat();
        byte[] syn = fromClient(NAT, CPORT + 1, CSEQ, 0, SYN, 64240, CLIENT_SYN_OPTS, none());
        byte[] badAck = fromClient(NAT, CPORT + 2, CSEQ + 1, COOKIE, ACK, 502, none(), none());
        byte[] in = fromClient(NAT, CPORT, CSEQ + 1, COOKIE + 1, ACK, 502, ts(CLIENT_TS + 3, (int) NOW), none());
        byte[] back = fromServer(SSEQ + 1, CSEQ + 1, ACK, 500, ts(SERVER_TS + 1, CLIENT_TS + 3), none());
        byte[][] frames = {syn, badAck, in, back};
        queue.capture = false;
        long allocated = V6Frames.allocatedFeeding(channel, ctx, port, arena, frames, 20_000);
        assertTrue(queue.counted >= 3 * 20_000, "SYN-ACKs and spliced segments sent: " + queue.counted);
        assertEquals(0, allocated, "bytes allocated by 80k IPv6 SYN proxy frames");
    }
}
