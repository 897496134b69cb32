package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.xmit.FullNatXmit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.jvs.forwarder.testkit.Frames.ETH;
import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.mac;
import static io.jvs.forwarder.testkit.Frames.put16;
import static io.jvs.forwarder.testkit.Frames.put32;
import static io.jvs.forwarder.testkit.Frames.u16;
import static io.jvs.forwarder.pipeline.XmitPipe.CLIENT;
import static io.jvs.forwarder.pipeline.XmitPipe.LIP;
import static io.jvs.forwarder.pipeline.XmitPipe.PORT_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.RS1;
import static io.jvs.forwarder.pipeline.XmitPipe.RS1_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.VIP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FULLNAT through the whole pipeline: both translations, local ports, TOA and PROXY v2. */
class FullNatPipelineTest {
    static final int PLAIN = 80;
    static final int TOA = 81;
    static final int PROXY = 82;
    static final int RPORT = 8081;
    static final int SYN = 0x02;
    static final int ACK = 0x10;
    static final int PSH_ACK = 0x18;
    static final int SYN_ACK = 0x12;
    static final int CSEQ = 0x7000_0000;
    static final int SSEQ = 0x3000_0000;

    XmitPipe pipe = pipe(1024, 65535);

    static final int DNS = 53;

    static XmitPipe pipe(int low, int high) {
        return new XmitPipe(List.of(
                service(PLAIN, ClientAddressMode.NONE),
                service(TOA, ClientAddressMode.TOA),
                service(PROXY, ClientAddressMode.PROXY_V2),
                new ServiceSpec(Protocol.UDP, VIP, DNS, 0, "rr", 0, 0, -1, false, List.of(LIP),
                        ClientAddressMode.PROXY_V2, List.of(new Dest(RS1, 5353, 1, ForwardMethod.FULLNAT)))),
                low, high, 1500);
    }

    static ServiceSpec service(int port, ClientAddressMode mode) {
        return new ServiceSpec(Protocol.TCP, VIP, port, 0, "rr", 0, 0, -1, false, List.of(LIP), mode,
                List.of(new Dest(RS1, RPORT, 1, ForwardMethod.FULLNAT)));
    }

    @AfterEach
    void close() {
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        pipe.close();
    }

    /** Client -> VIP:vport with chosen sequence and acknowledgement numbers. */
    static byte[] fromClient(int cport, int vport, int flags, int seq, int ack, int payload) {
        byte[] f = Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, cport, VIP, vport, flags, 64, payload);
        return renumber(f, seq, ack);
    }

    /** Real server -> LIP:lport. */
    static byte[] fromServer(int lport, int flags, int seq, int ack, int payload) {
        byte[] f = Frames.tcp(RS1_MAC, PORT_MAC, RS1, RPORT, LIP, lport, flags, 64, payload);
        return renumber(f, seq, ack);
    }

    static byte[] renumber(byte[] f, int seq, int ack) {
        put32(f, ETH + 24, seq);
        put32(f, ETH + 28, ack);
        Frames.fixL4Checksum(f);
        return f;
    }

    static int seq(byte[] f) {
        return i32(f, ETH + 20 + 4);
    }

    static int ack(byte[] f) {
        return i32(f, ETH + 20 + 8);
    }

    static void assertChecksums(byte[] f) {
        assertTrue(Frames.ipChecksumValid(f), "IP checksum");
        assertEquals(Frames.l4Checksum(f), Frames.l4ChecksumField(f), "TCP checksum = recomputation");
    }

    @Test
    void bothAddressesAreTranslatedBothWays() {
        byte[] out = pipe.one(fromClient(40000, PLAIN, SYN, CSEQ, 0, 0));
        assertEquals(RS1_MAC, mac(out, 0));
        assertEquals(LIP, i32(out, ETH + 12), "source = local address");
        assertEquals(RS1, i32(out, ETH + 16), "destination = real server");
        int lport = u16(out, ETH + 20);
        assertTrue(lport >= 1024, "local port from the range: " + lport);
        assertEquals(RPORT, u16(out, ETH + 22));
        int d = seq(out) - CSEQ;
        assertChecksums(out);

        byte[] reply = pipe.one(fromServer(lport, SYN_ACK, SSEQ, CSEQ + d + 1, 0));
        assertEquals(ROUTER_MAC, mac(reply, 0), "towards the client");
        assertEquals(VIP, i32(reply, ETH + 12));
        assertEquals(PLAIN, u16(reply, ETH + 20));
        assertEquals(CLIENT, i32(reply, ETH + 16));
        assertEquals(40000, u16(reply, ETH + 22));
        assertEquals(CSEQ + 1, ack(reply), "the client's own numbers");
        assertChecksums(reply);
        assertEquals(1, pipe.conns.localPorts().inUse());
        byte[] data = pipe.one(fromClient(40000, PLAIN, PSH_ACK, CSEQ + 1, SSEQ + 1, 10));
        assertEquals(CSEQ + d + 1, seq(data), "every client segment moves by the SYN's offset");
        assertEquals(SSEQ + 1, ack(data), "the server's numbers are its own");
        assertChecksums(data);
    }

    @Test
    void localPortsAreDistinctAndExhaustionIsCountedAndRefused() {
        pipe.close();
        pipe = pipe(2000, 2002);
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            byte[] out = pipe.one(fromClient(41000 + i, PLAIN, SYN, CSEQ, 0, 0));
            ports.add(u16(out, ETH + 20));
        }
        assertEquals(Set.of(2000, 2001, 2002), ports, "three connections, three ports of the range");
        long before = pipe.counters.drops(DropReason.LOCAL_PORT_EXHAUSTED);
        assertEquals(0, pipe.feed(fromClient(41003, PLAIN, SYN, CSEQ, 0, 0)).size(), "refused");
        assertEquals(before + 1, pipe.counters.drops(DropReason.LOCAL_PORT_EXHAUSTED));
        assertEquals(3, pipe.conns.size(), "nothing half-inserted");
        // Existing connections keep flowing.
        assertEquals(1, pipe.feed(fromClient(41001, PLAIN, ACK, CSEQ + 1, SSEQ + 1, 10)).size());
        // A connection that leaves gives its port back.
        int id = pipe.conns.lookupIn(Protocol.TCP, CLIENT, 41001, VIP, PLAIN);
        int freed = pipe.conns.lport(id);
        pipe.conns.remove(id);
        byte[] again = pipe.one(fromClient(41004, PLAIN, SYN, CSEQ, 0, 0));
        assertEquals(freed, u16(again, ETH + 20));
    }

    @Test
    void toaGoesIntoTheSynAndTheHandshakeAck() {
        byte[] syn = fromClient(40001, TOA, SYN, CSEQ, 0, 0);
        byte[] out = pipe.one(syn);
        assertEquals(48, u16(out, ETH + 2), "IP total length + 8");
        assertEquals(0x70, out[ETH + 32] & 0xF0, "data offset 28 bytes");
        int opt = ETH + 40;
        assertEquals(254, out[opt] & 0xFF, "TOA kind");
        assertEquals(8, out[opt + 1] & 0xFF, "TOA length");
        assertEquals(40001, u16(out, opt + 2), "client port");
        assertEquals(CLIENT, i32(out, opt + 4), "client address");
        assertChecksums(out);
        int lport = u16(out, ETH + 20);
        pipe.one(fromServer(lport, SYN_ACK, SSEQ, CSEQ + 1, 0));
        byte[] ack = pipe.one(fromClient(40001, TOA, ACK, CSEQ + 1, SSEQ + 1, 0));
        assertEquals(254, ack[ETH + 40] & 0xFF, "TOA in the handshake ACK");
        assertChecksums(ack);
        byte[] data = pipe.one(fromClient(40001, TOA, PSH_ACK, CSEQ + 1, SSEQ + 1, 20));
        assertEquals(40 + 20, u16(data, ETH + 2), "not in later segments");
        assertChecksums(data);
    }

    @Test
    void toaKeepsAPartialChecksumPartial() {
        byte[] syn = fromClient(40002, TOA, SYN, CSEQ, 0, 0);
        put16(syn, ETH + 36, TunPipelineTest.partialField(syn));
        XmitPipe.Sent s = pipe.one(TunPipelineTest.vnet(1, 0, 0, 0, ETH + 20, 16), syn);
        assertEquals(Frames.l4Checksum(s.frame()), TunPipelineTest.finish(s.frame(), ETH + 20, 16));
    }

    @Test
    void proxyV2HeaderIsInjectedAndSequenceNumbersShifted() {
        int cport = 40003;
        byte[] syn = pipe.one(fromClient(cport, PROXY, SYN, CSEQ, 0, 0));
        int d = seq(syn) - CSEQ; // the server's view of the client's stream (its own ISN)
        int lport = u16(syn, ETH + 20);
        byte[] synAck = pipe.one(fromServer(lport, SYN_ACK, SSEQ, CSEQ + d + 1, 0));
        assertEquals(CSEQ + 1, ack(synAck), "acknowledges the SYN only");

        List<XmitPipe.Sent> out = pipe.feed(fromClient(cport, PROXY, ACK, CSEQ + 1, SSEQ + 1, 0));
        assertEquals(2, out.size(), "the header, then the ACK");
        byte[] hdr = out.get(0).frame();
        assertEquals(LIP, i32(hdr, ETH + 12));
        assertEquals(RS1, i32(hdr, ETH + 16));
        assertEquals(lport, u16(hdr, ETH + 20));
        assertEquals(RPORT, u16(hdr, ETH + 22));
        assertEquals(CSEQ + d + 1, seq(hdr), "at the client's first sequence number");
        assertEquals(SSEQ + 1, ack(hdr));
        assertEquals(PSH_ACK, hdr[ETH + 33] & 0xFF);
        assertEquals(40 + FullNatXmit.PROXY_V2_LEN, u16(hdr, ETH + 2));
        byte[] want = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
                10, 0, 1, 2, 10, 0, 0, 100, (byte) (cport >>> 8), (byte) cport, 0, (byte) PROXY};
        assertArrayEquals(want, java.util.Arrays.copyOfRange(hdr, ETH + 40, ETH + 40 + 28), "PROXY v2, TCP4");
        assertChecksums(hdr);
        byte[] ackOut = out.get(1).frame();
        assertEquals(CSEQ + d + 1 + 28, seq(ackOut), "shifted by the header");
        assertChecksums(ackOut);

        // The server acknowledges the header: the client sees its own numbers.
        byte[] sAck = pipe.one(fromServer(lport, ACK, SSEQ + 1, CSEQ + d + 1 + 28, 0));
        assertEquals(CSEQ + 1, ack(sAck));
        assertChecksums(sAck);

        // Now the client's first data goes alone, shifted.
        List<XmitPipe.Sent> data = pipe.feed(fromClient(cport, PROXY, PSH_ACK, CSEQ + 1, SSEQ + 1, 100));
        assertEquals(1, data.size(), "header acknowledged: not sent again");
        assertEquals(CSEQ + d + 1 + 28, seq(data.get(0).frame()));
        assertChecksums(data.get(0).frame());

        byte[] sAck2 = pipe.one(fromServer(lport, ACK, SSEQ + 1, CSEQ + d + 1 + 28 + 100, 0));
        assertEquals(CSEQ + 1 + 100, ack(sAck2));
    }

    @Test
    void proxyHeaderIsResentAheadOfARetransmittedFirstSegmentUntilAcknowledged() {
        int cport = 40004;
        byte[] syn = pipe.one(fromClient(cport, PROXY, SYN, CSEQ, 0, 0));
        int d = seq(syn) - CSEQ;
        int lport = u16(syn, ETH + 20);
        pipe.one(fromServer(lport, SYN_ACK, SSEQ, CSEQ + d + 1, 0));
        assertEquals(2, pipe.feed(fromClient(cport, PROXY, ACK, CSEQ + 1, SSEQ + 1, 0)).size());
        // The header was lost: the server acknowledges nothing new; the client's first data
        // (and its retransmission) carry the header again.
        assertEquals(2, pipe.feed(fromClient(cport, PROXY, PSH_ACK, CSEQ + 1, SSEQ + 1, 50)).size());
        assertEquals(2, pipe.feed(fromClient(cport, PROXY, PSH_ACK, CSEQ + 1, SSEQ + 1, 50)).size());
        byte[] partial = pipe.one(fromServer(lport, ACK, SSEQ + 1, CSEQ + d + 1 + 10, 0));
        assertEquals(CSEQ + 1, ack(partial), "part of the header acknowledged = nothing of the client's");
    }

    @Test
    void sackEdgesFromTheServerAreShiftedBack() {
        int cport = 40005;
        byte[] syn = pipe.one(fromClient(cport, PROXY, SYN, CSEQ, 0, 0));
        int d = seq(syn) - CSEQ;
        int lport = u16(syn, ETH + 20);
        pipe.one(fromServer(lport, SYN_ACK, SSEQ, CSEQ + d + 1, 0));
        pipe.feed(fromClient(cport, PROXY, ACK, CSEQ + 1, SSEQ + 1, 0));
        // ACK with options NOP NOP SACK(10) [left, right]: data offset 32.
        byte[] f = Frames.tcp(RS1_MAC, PORT_MAC, RS1, RPORT, LIP, lport, ACK, 64, 12);
        int t = ETH + 20;
        f[t + 12] = (byte) 0x80;
        f[t + 20] = 1;
        f[t + 21] = 1;
        f[t + 22] = 5;
        f[t + 23] = 10;
        int base = CSEQ + d + 1 + 28;
        put32(f, t + 24, base + 1000);
        put32(f, t + 28, base + 2000);
        f = renumber(f, SSEQ + 1, base);
        byte[] out = pipe.one(f);
        assertEquals(CSEQ + 1, ack(out));
        assertEquals(CSEQ + 1 + 1000, i32(out, t + 24), "left edge");
        assertEquals(CSEQ + 1 + 2000, i32(out, t + 28), "right edge");
        assertChecksums(out);
    }

    /** A TCP frame with options NOP NOP TS(TSval, TSecr): data offset 32, TS at header offset 22. */
    static byte[] withTimestamps(byte[] f, int tsval, int tsecr) {
        int t = ETH + 20;
        byte[] g = java.util.Arrays.copyOf(f, f.length + 12);
        put16(g, ETH + 2, u16(g, ETH + 2) + 12);
        g[t + 12] = (byte) 0x80;
        g[t + 20] = 1;
        g[t + 21] = 1;
        g[t + 22] = 8;
        g[t + 23] = 10;
        put32(g, t + 24, tsval);
        put32(g, t + 28, tsecr);
        Frames.fixIpChecksum(g);
        Frames.fixL4Checksum(g);
        return g;
    }

    @Test
    void theServerSeesTheTuplesIsnFollowTheKernelsClock() {
        // One local port, so the second connection reuses the first one's tuple towards RS1.
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(1_000_000L);
        pipe.close();
        pipe = new XmitPipe(List.of(service(PLAIN, ClientAddressMode.NONE)), 2000, 2000, 1500, clock::get);
        byte[] first = pipe.one(fromClient(42000, PLAIN, SYN, CSEQ, 0, 0));
        pipe.conns.remove(pipe.conns.lookupIn(Protocol.TCP, CLIENT, 42000, VIP, PLAIN));
        clock.addAndGet(3);
        // Another client connection whose own ISN is far "older" than the first one's.
        byte[] second = pipe.one(fromClient(42001, PLAIN, SYN, CSEQ - 0x4000_0000, 0, 0));
        assertEquals(2000, u16(first, ETH + 20));
        assertEquals(2000, u16(second, ETH + 20), "same tuple LIP:2000 -> RS1:8081");
        // The kernel's ISN clock: 64 ns ticks, 1e6 / 64 = 15,625 a millisecond; the hash part is
        // the tuple's, the same both times. The client's own ISNs play no part.
        assertEquals(3 * 15_625, seq(second) - seq(first));
        // A retransmitted SYN keeps the offset.
        clock.addAndGet(1000);
        assertEquals(seq(second), seq(pipe.one(fromClient(42001, PLAIN, SYN, CSEQ - 0x4000_0000, 0, 0))));
    }

    @Test
    void timestampsTowardsTheServerFollowTheWallClockAndEchoesComeBack() {
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(0x1_2345_6789L);
        pipe.close();
        pipe = new XmitPipe(List.of(service(PLAIN, ClientAddressMode.NONE)), 1024, 65535, 1500, clock::get);
        int t = ETH + 20;
        int tsval = 0x7FFF_FF00;
        byte[] syn = pipe.one(withTimestamps(fromClient(42100, PLAIN, SYN, CSEQ, 0, 0), tsval, 0));
        assertEquals(0x2345_6789, i32(syn, t + 24), "TSval = the wall clock in ms (mod 2^32)");
        assertEquals(0, i32(syn, t + 28));
        assertChecksums(syn);
        int lport = u16(syn, t);
        int d = seq(syn) - CSEQ;
        byte[] synAck = pipe.one(withTimestamps(fromServer(lport, SYN_ACK, SSEQ, CSEQ + d + 1, 0), 777, 0x2345_6789));
        assertEquals(tsval, i32(synAck, t + 28), "TSecr = the client's own TSval");
        assertEquals(777, i32(synAck, t + 24), "the server's TSval untouched");
        assertChecksums(synAck);
        clock.addAndGet(50_000); // the wall clock plays no part after the SYN
        byte[] data = pipe.one(withTimestamps(fromClient(42100, PLAIN, ACK, CSEQ + 1, SSEQ + 1, 0), tsval + 40, 777));
        assertEquals(0x2345_6789 + 40, i32(data, t + 24), "the client's clock advances the server's view");
        assertEquals(777, i32(data, t + 28), "the echo of the server's own TSval untouched");
        assertChecksums(data);
    }

    @Test
    void udpIsTranslatedBothWaysAndTcpClientAddressModesLeaveItAlone() {
        byte[] q = Frames.udp(ROUTER_MAC, PORT_MAC, CLIENT, 5000, VIP, DNS, 64, 30);
        byte[] out = pipe.one(q);
        assertEquals(LIP, i32(out, ETH + 12));
        assertEquals(RS1, i32(out, ETH + 16));
        int lport = u16(out, ETH + 20);
        assertEquals(5353, u16(out, ETH + 22));
        assertEquals(q.length, out.length, "no PROXY header or option on UDP");
        assertChecksums(out);
        byte[] a = pipe.one(Frames.udp(RS1_MAC, PORT_MAC, RS1, 5353, LIP, lport, 64, 40));
        assertEquals(VIP, i32(a, ETH + 12));
        assertEquals(DNS, u16(a, ETH + 20));
        assertEquals(CLIENT, i32(a, ETH + 16));
        assertEquals(5000, u16(a, ETH + 22));
        assertChecksums(a);
    }

    @Test
    void arpForTheLocalAddressIsAnswered() {
        long asker = RS1_MAC;
        byte[] out = pipe.one(Frames.arp(asker, 0xFFFF_FFFF_FFFFL, 1, asker, RS1, 0, LIP));
        assertEquals(2, u16(out, 20), "ARP reply");
        assertEquals(PORT_MAC, mac(out, 22));
        assertEquals(LIP, i32(out, 28));
    }
}
