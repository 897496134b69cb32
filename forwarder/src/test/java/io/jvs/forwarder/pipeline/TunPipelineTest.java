package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.xmit.TunXmit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;

import static io.jvs.forwarder.testkit.Frames.ETH;
import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.mac;
import static io.jvs.forwarder.testkit.Frames.u16;
import static io.jvs.forwarder.pipeline.XmitPipe.CLIENT;
import static io.jvs.forwarder.pipeline.XmitPipe.PORT_IP;
import static io.jvs.forwarder.pipeline.XmitPipe.PORT_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.XmitPipe.TS1;
import static io.jvs.forwarder.pipeline.XmitPipe.VIP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TUN through the whole pipeline: the encapsulation bytes, offloads and path MTU. */
class TunPipelineTest {
    static final int IPIP_PORT = 80;
    static final int GUE_PORT = 81;
    static final int GUE_CSUM_PORT = 82;
    static final int GUE_DPORT = 6080;
    static final int SYN = 0x02;
    static final int ACK = 0x10;

    final XmitPipe pipe = new XmitPipe(List.of(
            service(IPIP_PORT, new Dest(TS1, IPIP_PORT, 1, ForwardMethod.TUN, 0, 0, TunnelType.IPIP, 0, 0)),
            service(GUE_PORT, new Dest(TS1, GUE_PORT, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE, GUE_DPORT, 0)),
            service(GUE_CSUM_PORT, new Dest(TS1, GUE_CSUM_PORT, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE,
                    GUE_DPORT, TunnelType.FLAG_CSUM))));

    static ServiceSpec service(int port, Dest d) {
        return new ServiceSpec(Protocol.TCP, VIP, port, "rr", List.of(d));
    }

    @AfterEach
    void close() {
        assertEquals(0, pipe.counters.drops(DropReason.INTERNAL_ERROR), "no exception inside the pipeline");
        pipe.close();
    }

    static byte[] tcp(int vport, int flags, int payload) {
        return Frames.tcp(ROUTER_MAC, PORT_MAC, CLIENT, 40000, VIP, vport, flags, 64, payload);
    }

    /** The inner packet of an encapsulated frame, behind the outer frame's Ethernet header. */
    static byte[] inner(byte[] out, int encap) {
        byte[] f = new byte[out.length - encap];
        System.arraycopy(out, 0, f, 0, ETH);
        System.arraycopy(out, ETH + encap, f, ETH, out.length - ETH - encap);
        return f;
    }

    /** The frame's datagram without Ethernet padding. */
    static byte[] unpadded(byte[] f) {
        return Arrays.copyOf(f, ETH + u16(f, ETH + 2));
    }

    static void assertOuter(byte[] out, int proto, int totalLength, int ttl) {
        assertEquals(ROUTER_MAC, mac(out, 0), "next hop for 10.0.2.0/24 is the router");
        assertEquals(PORT_MAC, mac(out, 6));
        assertEquals(0x0800, u16(out, 12));
        assertEquals(0x45, out[ETH] & 0xFF);
        assertEquals(totalLength, u16(out, ETH + 2), "outer total length");
        assertEquals(ETH + totalLength, out.length, "no padding, nothing missing");
        assertEquals(0x4000, u16(out, ETH + 6) & 0xE000, "DF copied from the inner header");
        assertEquals(ttl, out[ETH + 8] & 0xFF, "outer TTL = inner TTL after the decrement");
        assertEquals(proto, out[ETH + 9] & 0xFF);
        assertEquals(PORT_IP, i32(out, ETH + 12), "outer source = the director's LAN address");
        assertEquals(TS1, i32(out, ETH + 16), "outer destination = the real server");
        assertTrue(Frames.ipChecksumValid(out), "outer IP checksum");
    }

    /** What the inner packet must be: the client's, TTL one less, IP checksum fixed. */
    static byte[] expectedInner(byte[] in) {
        byte[] e = unpadded(in).clone();
        e[ETH + 8]--;
        Frames.fixIpChecksum(e);
        return e;
    }

    static void assertInner(byte[] in, byte[] out, int encap) {
        byte[] got = inner(out, encap);
        byte[] want = expectedInner(in);
        assertArrayEquals(Arrays.copyOfRange(want, ETH, want.length), Arrays.copyOfRange(got, ETH, got.length),
                "inner packet = the client's, TTL - 1");
    }

    @Test
    void ipipWrapsThePacketInAnOuterHeaderToTheRealServer() {
        byte[] in = tcp(IPIP_PORT, SYN, 0);
        byte[] out = pipe.one(in);
        assertOuter(out, 4, 20 + 40, 63);
        assertInner(in, out, TunXmit.IPIP_OVERHEAD);
        assertEquals(1, pipe.conns.size());
        // Later packets of the connection go the same way.
        byte[] data = tcp(IPIP_PORT, ACK, 100);
        byte[] out2 = pipe.one(data);
        assertOuter(out2, 4, 20 + 140, 63);
        assertInner(data, out2, TunXmit.IPIP_OVERHEAD);
    }

    @Test
    void gueIsUdpToTheTunnelPortWithTheGueHeader() {
        byte[] in = tcp(GUE_PORT, SYN, 0);
        byte[] out = pipe.one(in);
        assertOuter(out, 17, 20 + 8 + 4 + 40, 63);
        int u = ETH + 20;
        int sport = u16(out, u);
        assertTrue(sport >= 49152 && sport <= 65535, "flow source port in the ephemeral range: " + sport);
        assertEquals(GUE_DPORT, u16(out, u + 2));
        assertEquals(8 + 4 + 40, u16(out, u + 4), "UDP length");
        assertEquals(0, u16(out, u + 6), "no outer checksum without --tun-csum");
        assertEquals(0x00040000, i32(out, u + 8), "GUE: version 0, no options, proto 4");
        assertInner(in, out, TunXmit.GUE_OVERHEAD);
        // The same flow keeps its source port.
        assertEquals(sport, u16(pipe.one(tcp(GUE_PORT, ACK, 10)), u));
    }

    @Test
    void gueWithTunCsumCarriesAValidUdpChecksum() {
        byte[] in = tcp(GUE_CSUM_PORT, SYN, 0);
        byte[] out = pipe.one(in);
        assertOuter(out, 17, 20 + 12 + 40, 63);
        assertTrue(u16(out, ETH + 20 + 6) != 0, "checksum present");
        assertEquals(Frames.l4Checksum(out), Frames.l4ChecksumField(out), "outer UDP checksum = recomputation");
        assertInner(in, out, TunXmit.GUE_OVERHEAD);
    }

    @Test
    void aPartialInnerChecksumIsFinishedBeforeEncapsulation() {
        byte[] in = tcp(IPIP_PORT, SYN, 0);
        pipe.one(in);
        byte[] data = tcp(IPIP_PORT, ACK, 200);
        int pseudo = partialField(data);
        Frames.put16(data, ETH + 20 + 16, pseudo);
        XmitPipe.Sent s = pipe.one(vnet(1, 0, 0, 0, ETH + 20, 16), data);
        assertEquals(0, s.vnet()[0], "NEEDS_CSUM cleared: a userspace decapsulator gets a complete packet");
        byte[] innerFrame = inner(s.frame(), 20);
        assertEquals(Frames.l4Checksum(innerFrame), Frames.l4ChecksumField(innerFrame), "inner TCP checksum");
    }

    @Test
    void gsoSuperFramesAreSegmentedInSoftwareAndEachSegmentEncapsulated() {
        pipe.one(tcp(IPIP_PORT, SYN, 0));
        int payload = 4000;
        int mss = 1400;
        byte[] data = tcp(IPIP_PORT, ACK | 0x08 /* PSH */, payload);
        Frames.put16(data, ETH + 20 + 16, partialField(data));
        int seq0 = i32(data, ETH + 24);
        List<XmitPipe.Sent> out = pipe.feed(vnet(1, 1, 54, mss, ETH + 20, 16), data);
        assertEquals(3, out.size(), "ceil(4000 / 1400) segments");
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int k = 0; k < 3; k++) {
            byte[] f = out.get(k).frame();
            int n = k < 2 ? mss : payload - 2 * mss;
            assertOuter(f, 4, 20 + 40 + n, 63);
            assertTrue(f.length - ETH <= 1500, "fits the MTU");
            byte[] in = inner(f, 20);
            assertEquals(40 + n, u16(in, ETH + 2), "inner total length");
            assertTrue(Frames.ipChecksumValid(in), "inner IP checksum");
            assertEquals(seq0 + k * mss, i32(in, ETH + 24), "sequence number");
            assertEquals(k == 2 ? 0x18 : 0x10, in[ETH + 33] & 0xFF, "PSH only on the last segment");
            byte[] v = out.get(k).vnet();
            assertArrayEquals(new byte[10], v, "a complete frame: no GSO, no partial checksum");
            assertEquals(Frames.l4Checksum(in), Frames.l4ChecksumField(in), "inner TCP checksum");
            joined.write(in, ETH + 40, n);
        }
        assertArrayEquals(Arrays.copyOfRange(data, ETH + 40, ETH + 40 + payload), joined.toByteArray(),
                "payload intact, in order");
    }

    @Test
    void tooBigWithDfSendsFragmentationNeededToTheClient() {
        pipe.one(tcp(IPIP_PORT, SYN, 0));
        byte[] big = tcp(IPIP_PORT, ACK, 1460);   // 1500-byte datagram, DF
        long before = pipe.counters.drops(DropReason.FRAG_NEEDED);
        byte[] icmp = pipe.one(big);
        assertEquals(before + 1, pipe.counters.drops(DropReason.FRAG_NEEDED), "the packet is dropped, counted");
        assertEquals(ROUTER_MAC, mac(icmp, 0), "to the client, through the router");
        assertEquals(1, icmp[ETH + 9], "ICMP");
        assertEquals(PORT_IP, i32(icmp, ETH + 12));
        assertEquals(CLIENT, i32(icmp, ETH + 16));
        assertTrue(Frames.ipChecksumValid(icmp));
        int c = ETH + 20;
        assertEquals(3, icmp[c] & 0xFF, "destination unreachable");
        assertEquals(4, icmp[c + 1] & 0xFF, "fragmentation needed");
        assertEquals(1480, u16(icmp, c + 6), "next-hop MTU = 1500 - 20");
        assertArrayEquals(Arrays.copyOfRange(big, ETH, ETH + 28), Arrays.copyOfRange(icmp, c + 8, c + 36),
                "quotes the IP header and 8 bytes");
        assertEquals(0xFFFF, Frames.sum(icmp, c, icmp.length - c, 0), "ICMP checksum");
    }

    @Test
    void aSuperFrameWhoseSegmentsWouldNotFitGetsFragmentationNeeded() {
        pipe.one(tcp(GUE_PORT, SYN, 0));
        byte[] data = tcp(GUE_PORT, ACK, 3000);
        byte[] icmp = pipe.one(vnet(1, 1, 54, 1460, ETH + 20, 16), data).frame();
        assertEquals(1500 - 32, u16(icmp, ETH + 20 + 6), "next-hop MTU = 1500 - GUE overhead");
    }

    @Test
    void tooBigWithoutDfIsFragmentedAfterEncapsulation() {
        pipe.one(tcp(IPIP_PORT, SYN, 0));
        byte[] big = tcp(IPIP_PORT, ACK, 1460);
        Frames.put16(big, ETH + 6, 0);            // DF clear
        Frames.fixIpChecksum(big);
        List<XmitPipe.Sent> out = pipe.feed(big);
        assertEquals(2, out.size());
        byte[] a = out.get(0).frame();
        byte[] b = out.get(1).frame();
        assertEquals(0x2000, u16(a, ETH + 6), "first: MF, offset 0");
        assertEquals((1480 / 8), u16(b, ETH + 6), "last: offset 1480");
        assertEquals(u16(a, ETH + 4), u16(b, ETH + 4), "one id");
        assertTrue(Frames.ipChecksumValid(a) && Frames.ipChecksumValid(b));
        byte[] whole = new byte[1480 + (u16(b, ETH + 2) - 20)];
        System.arraycopy(a, ETH + 20, whole, 0, 1480);
        System.arraycopy(b, ETH + 20, whole, 1480, whole.length - 1480);
        byte[] want = expectedInner(big);
        assertArrayEquals(Arrays.copyOfRange(want, ETH, want.length), whole, "reassembles to the inner packet");
    }

    // ------------------------------------------------------------------ helpers

    static byte[] vnet(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
        byte[] v = new byte[10];
        v[0] = (byte) flags;
        v[1] = (byte) gsoType;
        le16(v, 2, hdrLen);
        le16(v, 4, gsoSize);
        le16(v, 6, csumStart);
        le16(v, 8, csumOffset);
        return v;
    }

    static void le16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }

    static int le16(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }

    /** The non-complemented pseudo-header sum a CHECKSUM_PARTIAL TCP field holds. */
    static int partialField(byte[] f) {
        int total = u16(f, ETH + 2);
        int src = i32(f, ETH + 12);
        int dst = i32(f, ETH + 16);
        long acc = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + 6 + (total - 20);
        while (acc >>> 16 != 0) {
            acc = (acc & 0xFFFF) + (acc >>> 16);
        }
        return (int) acc;
    }

    /** What a device does with a partial checksum: the complement of the sum from start to the end. */
    static int finish(byte[] f, int start, int offset) {
        int end = ETH + u16(f, ETH + 2);
        int c = ~Frames.sum(f, start, end - start, 0) & 0xFFFF;
        return c;
    }
}
