package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.SynCookies;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPorts;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.testkit.AllocationProbe;
import io.netty.channel.embedded.EmbeddedChannel;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.testkit.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

import static io.jvs.forwarder.pipeline.XmitPipe.CLIENT;
import static io.jvs.forwarder.pipeline.XmitPipe.LIP;
import static io.jvs.forwarder.pipeline.XmitPipe.PORT_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.RS1;
import static io.jvs.forwarder.pipeline.XmitPipe.RS1_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.VIP;
import static io.jvs.forwarder.testkit.Frames.ETH;
import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.mac;
import static io.jvs.forwarder.testkit.Frames.u16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SYN proxy through the whole pipeline (NAT and FULLNAT), with a fixed clock and cookie key:
 * the cookie is SynCookiesTest's hand-computed 0x65B46A3D, and every translated number below is
 * that cookie, the client's and the server's numbers, and the deltas between them.
 */
class SynProxyPipelineTest {
    static final int NAT = 80;
    static final int FNAT = 81;
    static final int NAT_RPORT = 8080;
    static final int FNAT_RPORT = 8081;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int RST = 0x04;
    static final int PSH_ACK = 0x18;
    static final int SYN_ACK = 0x12;
    static final long NOW = 1_700_000_000_000L;
    static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final int CPORT = 40000;
    static final int CSEQ = 0x7000_0000;
    static final int COOKIE = 0x65B4_6A3D;
    static final int SSEQ = 0x3000_0000;
    static final int CLIENT_TS = 1000;
    static final int SERVER_TS = 5000;
    /** MSS 1460, SACK-permitted + timestamps (TSval 1000), NOP + window scale 7: what Linux sends. */
    static final byte[] CLIENT_SYN_OPTS = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x03, (byte) 0xE8, 0, 0, 0, 0,
            1, 3, 3, 7};

    final XmitPipe pipe = new XmitPipe(List.of(
            new ServiceSpec(Protocol.TCP, VIP, NAT, "rr", List.of(new Dest(RS1, NAT_RPORT, 1, ForwardMethod.NAT)))
                    .withSynProxy(true),
            new ServiceSpec(Protocol.TCP, VIP, FNAT, 0, "rr", 0, 0, -1, false, List.of(LIP), ClientAddressMode.NONE,
                    List.of(new Dest(RS1, FNAT_RPORT, 1, ForwardMethod.FULLNAT))).withSynProxy(true)),
            1024, 65535, 1500, () -> NOW);

    @AfterEach
    void close() {
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        pipe.close();
    }

    static byte[] tcp(long srcMac, int src, int sport, int dst, int dport, int flags, int seq, int ack, int window,
                      byte[] opts, int payload) {
        return Frames.frame().macs(PORT_MAC, srcMac).addrs(src, dst).df().urgent(0)
                .tcp(sport, dport, seq, ack, flags, window, opts, Frames.payload(payload)).padTo(60).build();
    }

    static byte[] ts(int tsval, int tsecr) {
        byte[] o = {1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
        Frames.put32(o, 4, tsval);
        Frames.put32(o, 8, tsecr);
        return o;
    }

    static int seq(byte[] f) {
        return i32(f, ETH + 24);
    }

    static int ack(byte[] f) {
        return i32(f, ETH + 28);
    }

    static int flags(byte[] f) {
        return f[ETH + 33] & 0xFF;
    }

    static int window(byte[] f) {
        return u16(f, ETH + 34);
    }

    static byte[] options(byte[] f) {
        int doff = (f[ETH + 32] & 0xF0) >>> 2;
        byte[] o = new byte[doff - 20];
        System.arraycopy(f, ETH + 40, o, 0, o.length);
        return o;
    }

    static void assertChecksums(byte[] f) {
        assertTrue(Frames.ipChecksumValid(f), "IP checksum");
        assertEquals(Frames.l4Checksum(f), Frames.l4ChecksumField(f), "TCP checksum = recomputation");
    }

    byte[] clientSyn(int vport) {
        return tcp(ROUTER_MAC, CLIENT, CPORT, VIP, vport, SYN, CSEQ, 0, 64240, CLIENT_SYN_OPTS, 0);
    }

    @Test
    void synIsAnsweredWithTheCookieAndNoConnection() {
        byte[] synAck = pipe.one(clientSyn(NAT));
        assertEquals(ROUTER_MAC, mac(synAck, 0), "back towards the client");
        assertEquals(VIP, i32(synAck, ETH + 12));
        assertEquals(CLIENT, i32(synAck, ETH + 16));
        assertEquals(NAT, u16(synAck, ETH + 20));
        assertEquals(CPORT, u16(synAck, ETH + 22));
        assertEquals(SYN_ACK, flags(synAck));
        assertEquals(COOKIE, seq(synAck), "the hand-computed cookie");
        assertEquals(CSEQ + 1, ack(synAck));
        assertEquals(1460, window(synAck), "one MSS: the client sends one segment before the server's window");
        byte[] want = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0x03, (byte) 0xE8, 1, 3, 3, 7};
        Frames.put32(want, 8, (int) NOW);
        assertArrayEquals(want, options(synAck), "MSS 1460, SACK, TSval = our clock, TSecr = 1000, wscale 7");
        assertChecksums(synAck);
        assertEquals(0, pipe.conns.size(), "no connection entry for a SYN");
        assertEquals(1, pipe.counters.synProxySynAckCount());
    }

    @Test
    void badCookiesAreDroppedAndNeverReachTheServer() {
        pipe.one(clientSyn(NAT));
        assertEquals(0, pipe.feed(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 1, COOKIE + 2, 502,
                ts(CLIENT_TS + 1, (int) NOW), 0)).size());
        assertEquals(0, pipe.feed(tcp(ROUTER_MAC, CLIENT, CPORT + 1, VIP, NAT, ACK, CSEQ + 1, COOKIE + 1, 502,
                new byte[0], 0)).size(), "another port");
        assertEquals(0, pipe.feed(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, PSH_ACK, 0x1234, 0x5678, 502,
                new byte[0], 100)).size(), "random data");
        assertEquals(3, pipe.counters.drops(DropReason.SYNPROXY_BAD_COOKIE));
        assertEquals(0, pipe.conns.size());
    }

    @Test
    void natHandshakeSpliceAndTranslationBothWays() {
        pipe.one(clientSyn(NAT));
        // The client's ACK opens the connection and becomes the server's SYN.
        byte[] syn = pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 1, COOKIE + 1, 502,
                ts(CLIENT_TS + 1, (int) NOW), 0));
        assertEquals(RS1_MAC, mac(syn, 0));
        assertEquals(CLIENT, i32(syn, ETH + 12), "NAT: the client's address");
        assertEquals(RS1, i32(syn, ETH + 16));
        assertEquals(NAT_RPORT, u16(syn, ETH + 22));
        assertEquals(SYN, flags(syn));
        assertEquals(CSEQ, seq(syn), "the client's own ISN");
        assertEquals(0, ack(syn));
        assertEquals(64256, window(syn), "502 << 7: a SYN's window is not scaled");
        byte[] want = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x03, (byte) 0xE9, 0, 0, 0, 0, 1, 3, 3, 7};
        assertArrayEquals(want, options(syn), "the client's options from the cookie, TSval from its ACK");
        assertChecksums(syn);
        assertEquals(1, pipe.conns.size());
        int id = pipe.conns.lookupIn(Protocol.TCP, CLIENT, CPORT, VIP, NAT);
        assertEquals(ConnectionTable.SP_AWAITING_SERVER, pipe.conns.synProxyState(id));

        // The request right behind the ACK is held.
        assertEquals(0, pipe.feed(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, PSH_ACK, CSEQ + 1, COOKIE + 1, 502,
                ts(CLIENT_TS + 2, (int) NOW), 10)).size());
        assertEquals(1, pipe.counters.synProxyHeldCount());

        // The server's SYN-ACK (wscale 9, TSval 5000) is spliced: an ACK to the server, then the held request.
        byte[] serverOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x13, (byte) 0x88, 0, 0, 0x03, (byte) 0xE9,
                1, 3, 3, 9};
        List<XmitPipe.Sent> out = pipe.feed(tcp(RS1_MAC, RS1, NAT_RPORT, CLIENT, CPORT, SYN_ACK, SSEQ, CSEQ + 1,
                65160, serverOpts, 0));
        assertEquals(2, out.size(), "the handshake ACK and the held request");
        byte[] ack = out.get(0).frame();
        assertEquals(RS1_MAC, mac(ack, 0));
        assertEquals(CLIENT, i32(ack, ETH + 12));
        assertEquals(RS1, i32(ack, ETH + 16));
        assertEquals(CPORT, u16(ack, ETH + 20));
        assertEquals(NAT_RPORT, u16(ack, ETH + 22));
        assertEquals(ACK, flags(ack));
        assertEquals(CSEQ + 1, seq(ack));
        assertEquals(SSEQ + 1, ack(ack));
        assertEquals(502, window(ack), "the client's window");
        assertArrayEquals(ts(CLIENT_TS + 1, SERVER_TS), options(ack), "the server's timestamps echoed");
        assertChecksums(ack);
        byte[] req = out.get(1).frame();
        assertEquals(PSH_ACK, flags(req));
        assertEquals(CSEQ + 1, seq(req));
        assertEquals(SSEQ + 1, ack(req), "COOKIE + 1 less the delta COOKIE - SSEQ");
        // TSecr: the client echoes our clock (NOW); the server sees NOW - (NOW - 5000) = 5000.
        assertArrayEquals(ts(CLIENT_TS + 2, SERVER_TS), options(req));
        assertEquals(10, Frames.u16(req, ETH + 2) - 20 - 32, "the payload came along");
        assertChecksums(req);
        assertEquals(ConnectionTable.SP_SPLICED, pipe.conns.synProxyState(id));

        // Server -> client: sequence + (COOKIE - SSEQ), TSval + (NOW - 5000), window 100 << (9 - 7).
        byte[] data = pipe.one(tcp(RS1_MAC, RS1, NAT_RPORT, CLIENT, CPORT, PSH_ACK, SSEQ + 1, CSEQ + 11, 100,
                ts(SERVER_TS + 7, CLIENT_TS + 2), 20));
        assertEquals(VIP, i32(data, ETH + 12));
        assertEquals(NAT, u16(data, ETH + 20));
        assertEquals(COOKIE + 1, seq(data));
        assertEquals(CSEQ + 11, ack(data));
        assertEquals(400, window(data));
        assertArrayEquals(ts((int) NOW + 7, CLIENT_TS + 2), options(data));
        assertChecksums(data);

        // Client -> server with a SACK block of the client's view: edges - delta.
        byte[] sackOpts = {1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0};
        Frames.put32(sackOpts, 4, COOKIE + 21);
        Frames.put32(sackOpts, 8, COOKIE + 41);
        byte[] sacked = pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 11, COOKIE + 1, 500,
                sackOpts, 0));
        assertEquals(SSEQ + 1, ack(sacked));
        assertEquals(SSEQ + 21, i32(sacked, ETH + 40 + 4));
        assertEquals(SSEQ + 41, i32(sacked, ETH + 40 + 8));
        assertChecksums(sacked);
        assertEquals(1, pipe.counters.synProxySplicedCount());
        assertEquals(0, pipe.counters.drops(DropReason.SYNPROXY_BAD_COOKIE));
    }

    /** An ICMP fragmentation-needed from src to dst quoting 20 bytes of a TCP segment qsrc:qsport -> qdst:qdport. */
    static byte[] fragNeeded(long srcMac, int src, int dst, int qsrc, int qsport, int qdst, int qdport, int qseq,
                             int qack) {
        byte[] f = new byte[ETH + 20 + 8 + 40];
        Frames.putMac(f, 0, PORT_MAC);
        Frames.putMac(f, 6, srcMac);
        Frames.put16(f, 12, 0x0800);
        f[ETH] = 0x45;
        Frames.put16(f, ETH + 2, 20 + 8 + 40);
        f[ETH + 8] = 64;
        f[ETH + 9] = 1;
        Frames.put32(f, ETH + 12, src);
        Frames.put32(f, ETH + 16, dst);
        Frames.fixIpChecksum(f);
        int c = ETH + 20;
        f[c] = 3;
        f[c + 1] = 4;
        Frames.put32(f, c + 4, 1400);
        int q = c + 8;
        f[q] = 0x45;
        Frames.put16(f, q + 2, 1500);
        Frames.put16(f, q + 6, 0x4000);
        f[q + 8] = 63;
        f[q + 9] = 6;
        Frames.put32(f, q + 12, qsrc);
        Frames.put32(f, q + 16, qdst);
        Frames.put16(f, q + 10, ~Frames.sum(f, q, 20, 0) & 0xFFFF);
        Frames.put16(f, q + 20, qsport);
        Frames.put16(f, q + 22, qdport);
        Frames.put32(f, q + 24, qseq);
        Frames.put32(f, q + 28, qack);
        f[q + 32] = 0x50;
        f[q + 33] = 0x18;
        Frames.put16(f, c + 2, ~Frames.sum(f, c, 8 + 40, 0) & 0xFFFF);
        return f;
    }

    /**
     * ICMP errors about a spliced connection: the client's side sees the server's stream at
     * COOKIE + n, the server at SSEQ + n. A frag-needed from the client's side quotes a segment
     * the client got (sequence COOKIE + 1): the server must get SSEQ + 1, or Linux ignores it
     * (outside its unacknowledged data) and path MTU discovery stalls. One from the server's side
     * quotes the server-bound segment (acknowledgement SSEQ + 1): the client gets COOKIE + 1.
     */
    @Test
    void icmpErrorsQuoteEachSideItsOwnSequenceSpace() {
        pipe.one(clientSyn(NAT));
        pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 1, COOKIE + 1, 502, ts(CLIENT_TS + 1, (int) NOW),
                0));
        byte[] serverOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x13, (byte) 0x88, 0, 0, 0x03, (byte) 0xE9,
                1, 3, 3, 7};
        pipe.feed(tcp(RS1_MAC, RS1, NAT_RPORT, CLIENT, CPORT, SYN_ACK, SSEQ, CSEQ + 1, 65160, serverOpts, 0));
        int id = pipe.conns.lookupIn(Protocol.TCP, CLIENT, CPORT, VIP, NAT);
        assertEquals(ConnectionTable.SP_SPLICED, pipe.conns.synProxyState(id));
        int q = ETH + 20 + 8;

        byte[] toServer = pipe.one(fragNeeded(ROUTER_MAC, CLIENT, VIP, VIP, NAT, CLIENT, CPORT, COOKIE + 1, CSEQ + 1));
        assertEquals(RS1_MAC, mac(toServer, 0));
        assertEquals(RS1, i32(toServer, ETH + 16));
        assertEquals(RS1, i32(toServer, q + 12), "NAT: the quote's source is the real server");
        assertEquals(NAT_RPORT, u16(toServer, q + 20));
        assertEquals(SSEQ + 1, i32(toServer, q + 24), "the server's own sequence number");
        assertEquals(CSEQ + 1, i32(toServer, q + 28), "the client's stream is the same on both sides");
        assertTrue(Frames.ipChecksumValid(toServer));
        assertEquals(0xFFFF, Frames.sum(toServer, ETH + 20, 8 + 40, 0), "ICMP checksum");

        byte[] toClient = pipe.one(fragNeeded(RS1_MAC, RS1, CLIENT, CLIENT, CPORT, RS1, NAT_RPORT, CSEQ + 11,
                SSEQ + 1));
        assertEquals(ROUTER_MAC, mac(toClient, 0));
        assertEquals(VIP, i32(toClient, ETH + 12));
        assertEquals(VIP, i32(toClient, q + 16), "the quote's destination is the VIP");
        assertEquals(CSEQ + 11, i32(toClient, q + 24), "the client's own sequence number");
        assertEquals(COOKIE + 1, i32(toClient, q + 28), "the acknowledgement in the client's view");
        assertTrue(Frames.ipChecksumValid(toClient));
        assertEquals(0xFFFF, Frames.sum(toClient, ETH + 20, 8 + 40, 0), "ICMP checksum");
    }

    @Test
    void fullNatComposesBothTranslations() {
        pipe.one(clientSyn(FNAT));
        int cookie = seq(pipe.one(clientSyn(FNAT)));   // a retransmitted SYN gets the same cookie
        byte[] syn = pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, FNAT, ACK, CSEQ + 1, cookie + 1, 502,
                ts(CLIENT_TS + 1, (int) NOW), 0));
        assertEquals(LIP, i32(syn, ETH + 12), "FULLNAT: from the local address");
        assertEquals(RS1, i32(syn, ETH + 16));
        assertEquals(SYN, flags(syn));
        int lport = u16(syn, ETH + 20);
        int d = seq(syn) - CSEQ;   // FULLNAT's own ISN offset
        int tsDelta = i32(syn, ETH + 40 + 8) - (CLIENT_TS + 1); // FULLNAT moves TSval onto its clock
        assertEquals((int) NOW - (CLIENT_TS + 1), tsDelta);
        assertChecksums(syn);

        byte[] serverOpts = {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x13, (byte) 0x88, 0, 0, 0, 0, 1, 3, 3, 7};
        Frames.put32(serverOpts, 12, CLIENT_TS + 1 + tsDelta);
        List<XmitPipe.Sent> out = pipe.feed(tcp(RS1_MAC, RS1, FNAT_RPORT, LIP, lport, SYN_ACK, SSEQ, CSEQ + d + 1,
                65160, serverOpts, 0));
        assertEquals(1, out.size(), "the handshake ACK; nothing was held");
        byte[] ack = out.get(0).frame();
        assertEquals(LIP, i32(ack, ETH + 12));
        assertEquals(lport, u16(ack, ETH + 20));
        assertEquals(RS1, i32(ack, ETH + 16));
        assertEquals(CSEQ + d + 1, seq(ack), "in the server's view of the client's stream");
        assertEquals(SSEQ + 1, ack(ack));
        assertChecksums(ack);

        byte[] req = pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, FNAT, PSH_ACK, CSEQ + 1, cookie + 1, 502,
                ts(CLIENT_TS + 2, (int) NOW), 10));
        assertEquals(CSEQ + d + 1, seq(req), "FULLNAT's offset");
        assertEquals(SSEQ + 1, ack(req), "the proxy's delta");
        assertArrayEquals(ts(CLIENT_TS + 2 + tsDelta, SERVER_TS), options(req), "FULLNAT's TSval, the proxy's TSecr");
        assertChecksums(req);

        byte[] resp = pipe.one(tcp(RS1_MAC, RS1, FNAT_RPORT, LIP, lport, PSH_ACK, SSEQ + 1, CSEQ + d + 11, 300,
                ts(SERVER_TS + 3, CLIENT_TS + 2 + tsDelta), 20));
        assertEquals(VIP, i32(resp, ETH + 12));
        assertEquals(CLIENT, i32(resp, ETH + 16));
        assertEquals(cookie + 1, seq(resp), "the proxy's delta");
        assertEquals(CSEQ + 11, ack(resp), "FULLNAT's offset undone");
        assertEquals(300, window(resp), "same window scale: unchanged");
        assertArrayEquals(ts((int) NOW + 3, CLIENT_TS + 2), options(resp));
        assertChecksums(resp);
    }

    @Test
    void serverResetWhileWaitingReachesTheClientInItsSequenceSpace() {
        pipe.one(clientSyn(NAT));
        pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 1, COOKIE + 1, 502, new byte[0], 0));
        byte[] rst = pipe.one(tcp(RS1_MAC, RS1, NAT_RPORT, CLIENT, CPORT, RST | ACK, 0, CSEQ + 1, 0, new byte[0], 0));
        assertEquals(VIP, i32(rst, ETH + 12));
        assertEquals(COOKIE + 1, seq(rst));
        assertEquals(CSEQ + 1, ack(rst));
        assertChecksums(rst);
    }

    @Test
    void aLaterClientSegmentSendsTheSynAgain() {
        pipe.one(clientSyn(NAT));
        pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 1, COOKIE + 1, 502, new byte[0], 0));
        assertEquals(0, pipe.feed(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, PSH_ACK, CSEQ + 1, COOKIE + 1, 502,
                new byte[0], 10)).size(), "held");
        byte[] again = pipe.one(tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, PSH_ACK, CSEQ + 1, COOKIE + 1, 502,
                new byte[0], 10));
        assertEquals(SYN, flags(again), "the retransmitted request re-sends the SYN");
        assertEquals(CSEQ, seq(again));
        assertEquals(RS1, i32(again, ETH + 16));
        assertChecksums(again);
    }
    /**
     * A proxied connection's whole life through the pipeline — cookie SYN-ACK, cookie ACK to the
     * server's SYN, a held request, the splice, data both ways — allocates nothing per frame.
     */
    @Test
    void proxiedConnectionsAllocateNothing() {
        TwoPortPipelineTest.CountingTxQueue q = new TwoPortPipelineTest.CountingTxQueue();
        LanPorts ports = new LanPorts();
        NeighbourCache n = new NeighbourCache(ports.add("lan0", XmitPipe.IFINDEX, PORT_MAC, XmitPipe.PORT_IP, 1500, q),
                pipe.counters::drop);
        long t = System.nanoTime();
        n.learn(XmitPipe.ROUTER, ROUTER_MAC, true, t);
        n.learn(RS1, RS1_MAC, true, t);
        ConnectionTable conns = new ConnectionTable(1 << 17, Timeouts.DEFAULTS);
        EmbeddedChannel ch = new EmbeddedChannel();
        DataPath.builder().services(pipe.registry).connections(conns).neighbours(n).routes(() -> pipe.routes)
                .counters(pipe.counters).fullNatClock(() -> NOW)
                .synCookieKey(XmitPipe.COOKIE_KEY0, XmitPipe.COOKIE_KEY1).build().wire(ch.pipeline());
        SynCookies cookies = new SynCookies(XmitPipe.COOKIE_KEY0, XmitPipe.COOKIE_KEY1);
        int count = SynCookies.count(NOW);
        int data = SynCookies.encode(1460, 7, true, true);
        byte[] syn = clientSyn(NAT);
        byte[] ack = tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 1, 0, 502, ts(CLIENT_TS + 1, (int) NOW), 0);
        byte[] req = tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, PSH_ACK, CSEQ + 1, 0, 502, ts(CLIENT_TS + 2, (int) NOW),
                10);
        byte[] synAck = tcp(RS1_MAC, RS1, NAT_RPORT, CLIENT, CPORT, SYN_ACK, SSEQ, CSEQ + 1, 65160,
                new byte[] {2, 4, 0x05, (byte) 0xB4, 4, 2, 8, 10, 0, 0, 0x13, (byte) 0x88, 0, 0, 0x03, (byte) 0xE9,
                        1, 3, 3, 7}, 0);
        byte[] resp = tcp(RS1_MAC, RS1, NAT_RPORT, CLIENT, CPORT, PSH_ACK, SSEQ + 1, CSEQ + 11, 300,
                ts(SERVER_TS + 1, CLIENT_TS + 2), 20);
        byte[] cack = tcp(ROUTER_MAC, CLIENT, CPORT, VIP, NAT, ACK, CSEQ + 11, 0, 502, ts(CLIENT_TS + 3, (int) NOW), 0);
        MemorySegment seg = pipe.arena.allocate(10 + 160, 8);
        PacketContext c = new PacketContext();
        try {
            int rounds = 0;
            long before = 0;
            for (int p = 1024; p < 1024 + 60_000; p++) {
                if (p == 1024 + 20_000) {
                    rounds = 0;
                    q.sent = 0;
                    before = AllocationProbe.start();
                }
                int cookie = cookies.cookie(CLIENT, VIP, p, NAT, CSEQ, count, data);
                feed(ch, c, seg, syn, 20, p, 0);
                feed(ch, c, seg, ack, 20, p, cookie + 1);
                feed(ch, c, seg, req, 20, p, cookie + 1);
                feed(ch, c, seg, synAck, 22, p, 0);
                feed(ch, c, seg, resp, 22, p, 0);
                feed(ch, c, seg, cack, 20, p, cookie + 21);
                rounds++;
            }
            long allocated = AllocationProbe.since(before);
            assertEquals(6L * rounds, q.sent, "SYN-ACK, SYN, handshake ACK, request, response, ACK per connection");
            assertEquals(40_000, rounds);
            assertTrue(allocated < 4096, "allocated " + allocated + " bytes for 40,000 proxied connections");
        } finally {
            ch.finishAndReleaseAll();
            n.close();
            ports.close();
        }
    }

    /** Copies f into seg with the client port and (when not 0) acknowledgement patched, and runs it through. */
    private static void feed(EmbeddedChannel ch, PacketContext c, MemorySegment seg, byte[] f, int portOff, int port,
                             int ackNo) {
        MemorySegment.copy(f, 0, seg, ValueLayout.JAVA_BYTE, 10, f.length);
        seg.set(ValueLayout.JAVA_BYTE, 10 + ETH + portOff, (byte) (port >>> 8));
        seg.set(ValueLayout.JAVA_BYTE, 10 + ETH + portOff + 1, (byte) port);
        if (ackNo != 0) {
            seg.set(BE32, 10 + ETH + 28, ackNo);
        }
        c.seg = seg;
        c.vnetOff = 0;
        c.frameOff = 10;
        c.frameLen = f.length;
        c.frameCapacity = 160;
        c.ingressPort = 0;
        ch.pipeline().fireChannelRead(c);
        ch.pipeline().fireChannelReadComplete();
    }
}
