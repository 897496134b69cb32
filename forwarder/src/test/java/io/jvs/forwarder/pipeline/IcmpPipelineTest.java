package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.TunnelType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

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
import static io.jvs.forwarder.pipeline.XmitPipe.TS1;
import static io.jvs.forwarder.pipeline.XmitPipe.VIP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ICMP errors quoting tracked connections, per forwarding method; echo to a VIP. */
class IcmpPipelineTest {
    static final int DR = 80;
    static final int NAT = 8080;
    static final int FULLNAT = 8443;
    static final int TUN = 9000;
    static final int RPORT = 80;
    static final int CPORT = 45000;

    final XmitPipe pipe = new XmitPipe(List.of(
            new ServiceSpec(Protocol.TCP, VIP, DR, "rr", List.of(new Dest(RS1, DR, 1, ForwardMethod.DR))),
            new ServiceSpec(Protocol.TCP, VIP, NAT, "rr", List.of(new Dest(RS1, RPORT, 1, ForwardMethod.NAT))),
            new ServiceSpec(Protocol.TCP, VIP, FULLNAT, 0, "rr", 0, 0, -1, false, List.of(LIP),
                    ClientAddressMode.NONE, List.of(new Dest(RS1, RPORT, 1, ForwardMethod.FULLNAT))),
            new ServiceSpec(Protocol.TCP, VIP, TUN, "rr",
                    List.of(new Dest(TS1, TUN, 1, ForwardMethod.TUN, 0, 0, TunnelType.IPIP, 0, 0)))));

    @AfterEach
    void close() {
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        pipe.close();
    }

    /** Opens a connection to vport; returns what the director sent the real server. */
    byte[] connect(int vport) {
        return pipe.one(Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, CPORT, VIP, vport, 0x02, 64, 0));
    }

    /** An ICMP error from src to dst quoting a TCP header qsrc:qsport -> qdst:qdport. */
    static byte[] icmpError(long srcMac, int src, int dst, int type, int code, int rest,
                            int qsrc, int qsport, int qdst, int qdport) {
        byte[] f = new byte[ETH + 20 + 8 + 28];
        Frames.putMac(f, 0, PORT_MAC);
        Frames.putMac(f, 6, srcMac);
        put16(f, 12, 0x0800);
        f[ETH] = 0x45;
        put16(f, ETH + 2, 20 + 8 + 28);
        f[ETH + 8] = 64;
        f[ETH + 9] = 1;
        put32(f, ETH + 12, src);
        put32(f, ETH + 16, dst);
        Frames.fixIpChecksum(f);
        int c = ETH + 20;
        f[c] = (byte) type;
        f[c + 1] = (byte) code;
        put32(f, c + 4, rest);
        int q = c + 8;
        f[q] = 0x45;
        put16(f, q + 2, 1500);
        put16(f, q + 6, 0x4000);
        f[q + 8] = 63;
        f[q + 9] = 6;
        put32(f, q + 12, qsrc);
        put32(f, q + 16, qdst);
        put16(f, q + 10, ~Frames.sum(f, q, 20, 0) & 0xFFFF);
        put16(f, q + 20, qsport);
        put16(f, q + 22, qdport);
        put32(f, q + 24, 0x11223344);
        put16(f, c + 2, ~Frames.sum(f, c, 8 + 28, 0) & 0xFFFF);
        return f;
    }

    static void assertIcmpValid(byte[] f) {
        assertTrue(Frames.ipChecksumValid(f), "outer IP checksum");
        int c = ETH + 20;
        assertEquals(0xFFFF, Frames.sum(f, c, u16(f, ETH + 2) - 20, 0), "ICMP checksum");
        assertEquals(0xFFFF, Frames.sum(f, c + 8, 20, 0), "quoted IP header checksum");
    }

    @Test
    void natFragNeededFromTheRealServerReachesTheClientRewritten() {
        connect(NAT);
        byte[] in = icmpError(RS1_MAC, RS1, CLIENT, 3, 4, 1400, CLIENT, CPORT, RS1, RPORT);
        byte[] out = pipe.one(in);
        assertEquals(ROUTER_MAC, mac(out, 0), "towards the client");
        assertEquals(VIP, i32(out, ETH + 12), "from the VIP");
        assertEquals(CLIENT, i32(out, ETH + 16));
        int q = ETH + 28;
        assertEquals(CLIENT, i32(out, q + 12), "quoted source still the client");
        assertEquals(VIP, i32(out, q + 16), "quoted destination = VIP");
        assertEquals(CPORT, u16(out, q + 20));
        assertEquals(NAT, u16(out, q + 22), "quoted destination port = virtual port");
        assertEquals(1400, u16(out, ETH + 20 + 6), "next-hop MTU kept");
        assertIcmpValid(out);
    }

    @Test
    void natErrorFromTheClientReachesTheRealServerRewritten() {
        connect(NAT);
        byte[] in = icmpError(ROUTER_MAC, CLIENT, VIP, 3, 3, 0, VIP, NAT, CLIENT, CPORT);
        byte[] out = pipe.one(in);
        assertEquals(RS1_MAC, mac(out, 0));
        assertEquals(RS1, i32(out, ETH + 16), "to the real server");
        int q = ETH + 28;
        assertEquals(RS1, i32(out, q + 12), "quoted source = real server");
        assertEquals(RPORT, u16(out, q + 20));
        assertEquals(CLIENT, i32(out, q + 16));
        assertIcmpValid(out);
    }

    @Test
    void fullNatErrorsAreTranslatedBothWays() {
        byte[] syn = connect(FULLNAT);
        int lport = u16(syn, ETH + 20);
        byte[] fromServer = pipe.one(icmpError(RS1_MAC, RS1, LIP, 3, 4, 1400, LIP, lport, RS1, RPORT));
        assertEquals(VIP, i32(fromServer, ETH + 12));
        assertEquals(CLIENT, i32(fromServer, ETH + 16));
        int q = ETH + 28;
        assertEquals(CLIENT, i32(fromServer, q + 12));
        assertEquals(CPORT, u16(fromServer, q + 20));
        assertEquals(VIP, i32(fromServer, q + 16));
        assertEquals(FULLNAT, u16(fromServer, q + 22));
        assertIcmpValid(fromServer);

        byte[] fromClient = pipe.one(icmpError(ROUTER_MAC, CLIENT, VIP, 3, 3, 0, VIP, FULLNAT, CLIENT, CPORT));
        assertEquals(LIP, i32(fromClient, ETH + 12), "from the local address");
        assertEquals(RS1, i32(fromClient, ETH + 16));
        assertEquals(RS1, i32(fromClient, q + 12));
        assertEquals(RPORT, u16(fromClient, q + 20));
        assertEquals(LIP, i32(fromClient, q + 16));
        assertEquals(lport, u16(fromClient, q + 22));
        assertIcmpValid(fromClient);
    }

    @Test
    void drForwardsTheErrorToTheRealServerAsItIs() {
        connect(DR);
        byte[] in = icmpError(ROUTER_MAC, CLIENT, VIP, 3, 3, 0, VIP, DR, CLIENT, CPORT);
        byte[] out = pipe.one(in);
        assertEquals(RS1_MAC, mac(out, 0));
        assertEquals(in[ETH + 8] - 1, out[ETH + 8], "TTL - 1");
        assertArrayEquals(Arrays.copyOfRange(in, ETH + 12, in.length), Arrays.copyOfRange(out, ETH + 12, out.length),
                "addresses and the whole ICMP message unchanged");
    }

    /**
     * IPVS's ip_vs_in_icmp and handle_response_icmp drop an error about a tracked connection whose
     * ICMP checksum fails, whatever the method (PipelineFuzzTest found jvs forwarding one to a DR
     * server, and NAT re-summing corrupted ones into errors that verify).
     */
    @Test
    void errorsWithABadIcmpChecksumAreDroppedInEveryMethodAndDirection() {
        byte[] fullNatSyn = connect(FULLNAT);
        int lport = u16(fullNatSyn, ETH + 20);
        connect(DR);
        connect(NAT);
        connect(TUN);
        List<byte[]> errors = List.of(
                icmpError(ROUTER_MAC, CLIENT, VIP, 3, 4, 1400, VIP, DR, CLIENT, CPORT),
                icmpError(ROUTER_MAC, CLIENT, VIP, 3, 4, 1400, VIP, TUN, CLIENT, CPORT),
                icmpError(ROUTER_MAC, CLIENT, VIP, 3, 3, 0, VIP, NAT, CLIENT, CPORT),
                icmpError(ROUTER_MAC, CLIENT, VIP, 3, 3, 0, VIP, FULLNAT, CLIENT, CPORT),
                icmpError(RS1_MAC, RS1, CLIENT, 3, 4, 1400, CLIENT, CPORT, RS1, RPORT),
                icmpError(RS1_MAC, RS1, LIP, 3, 4, 1400, LIP, lport, RS1, RPORT));
        for (byte[] good : errors) {
            byte[] bad = good.clone();
            bad[ETH + 20 + 6] ^= 0x02; // the next-hop MTU (or unused word), the ICMP checksum left as it was
            long before = pipe.counters.drops(DropReason.BAD_CHECKSUM);
            assertEquals(0, pipe.feed(bad).size(), "a corrupted error is not forwarded");
            assertEquals(before + 1, pipe.counters.drops(DropReason.BAD_CHECKSUM), "counted as bad_checksum");
            assertEquals(1, pipe.feed(good).size(), "the same error intact is forwarded");
        }
    }

    @Test
    void tunEncapsulatesTheError() {
        connect(TUN);
        byte[] in = icmpError(ROUTER_MAC, CLIENT, VIP, 11, 0, 0, VIP, TUN, CLIENT, CPORT);
        byte[] out = pipe.one(in);
        assertEquals(4, out[ETH + 9], "IPIP");
        assertEquals(TS1, i32(out, ETH + 16));
        assertEquals(1, out[ETH + 20 + 9], "inner ICMP");
    }

    @Test
    void untrackedErrorsToAVipAreCounted() {
        long before = pipe.counters.drops(DropReason.ICMP_UNTRACKED);
        assertEquals(0, pipe.feed(icmpError(ROUTER_MAC, CLIENT, VIP, 3, 3, 0, VIP, NAT, CLIENT, 1)).size());
        assertEquals(before + 1, pipe.counters.drops(DropReason.ICMP_UNTRACKED));
    }

    @Test
    void echoToAVipIsAnswered() {
        byte[] f = new byte[ETH + 20 + 8 + 16];
        Frames.putMac(f, 0, PORT_MAC);
        Frames.putMac(f, 6, ROUTER_MAC);
        put16(f, 12, 0x0800);
        f[ETH] = 0x45;
        put16(f, ETH + 2, 44);
        f[ETH + 8] = 63;
        f[ETH + 9] = 1;
        put32(f, ETH + 12, CLIENT);
        put32(f, ETH + 16, VIP);
        Frames.fixIpChecksum(f);
        int c = ETH + 20;
        f[c] = 8;
        put32(f, c + 4, 0x12340001);
        for (int i = 0; i < 16; i++) {
            f[c + 8 + i] = (byte) i;
        }
        put16(f, c + 2, ~Frames.sum(f, c, 24, 0) & 0xFFFF);
        byte[] out = pipe.one(f);
        assertEquals(ROUTER_MAC, mac(out, 0));
        assertEquals(VIP, i32(out, ETH + 12));
        assertEquals(CLIENT, i32(out, ETH + 16));
        assertEquals(0, out[c], "echo reply");
        assertEquals(0x12340001, i32(out, c + 4), "id and sequence echoed");
        assertTrue(Frames.ipChecksumValid(out));
        assertEquals(0xFFFF, Frames.sum(out, c, 24, 0), "ICMP checksum");
    }

    static byte[] echoRequest(int id, int dataLen) {
        byte[] f = new byte[ETH + 20 + 8 + dataLen];
        Frames.putMac(f, 0, PORT_MAC);
        Frames.putMac(f, 6, ROUTER_MAC);
        put16(f, 12, 0x0800);
        f[ETH] = 0x45;
        put16(f, ETH + 2, 28 + dataLen);
        f[ETH + 8] = 63;
        f[ETH + 9] = 1;
        put32(f, ETH + 12, CLIENT);
        put32(f, ETH + 16, VIP);
        Frames.fixIpChecksum(f);
        int c = ETH + 20;
        f[c] = 8;
        put32(f, c + 4, id);
        put16(f, c + 2, ~Frames.sum(f, c, 8 + dataLen, 0) & 0xFFFF);
        return f;
    }

    /**
     * Found by PipelineFuzzTest: an echo request with zero identifier, sequence and data has the
     * checksum 0xF7FF; RFC 1624's update to type 0 gave 0x0000 (negative zero), which receivers
     * refuse. Its reply carries 0xFFFF.
     */
    @Test
    void echoReplyOfAnAllZeroRequestHasAValidChecksum() {
        byte[] out = pipe.one(echoRequest(0, 0));
        int c = ETH + 20;
        assertEquals(0, out[c], "echo reply");
        assertEquals(0xFFFF, u16(out, c + 2), "checksum of an all-zero message");
        assertEquals(0xFFFF, Frames.sum(out, c, 8, 0), "ICMP checksum verifies");
    }

    @Test
    void echoRequestWithABadChecksumIsNotAnswered() {
        byte[] f = echoRequest(0x12340001, 16);
        f[ETH + 20 + 2] ^= 0x01;
        long before = pipe.counters.drops(DropReason.BAD_CHECKSUM);
        assertEquals(0, pipe.feed(f).size(), "no reply");
        assertEquals(before + 1, pipe.counters.drops(DropReason.BAD_CHECKSUM), "counted as bad_checksum");
    }
}
