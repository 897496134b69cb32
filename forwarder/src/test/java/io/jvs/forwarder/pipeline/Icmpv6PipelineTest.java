package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.counters.DropReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.CLIENT;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.CLIENT_MAC;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.DR_PORT;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.NAT_PORT;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.PORT_IP;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.PORT_MAC;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.REMOTE;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.ROUTER_MAC;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.RS1;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.RS1_MAC;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.RS2;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.RS2_MAC;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.VIP;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.hi;
import static io.jvs.forwarder.pipeline.Ipv6PipelineTest.lo;
import static io.jvs.forwarder.pipeline.V6Frames.addr;
import static io.jvs.forwarder.pipeline.V6Frames.concat;
import static io.jvs.forwarder.pipeline.V6Frames.frame;
import static io.jvs.forwarder.pipeline.V6Frames.hex;
import static io.jvs.forwarder.pipeline.V6Frames.icmp6;
import static io.jvs.forwarder.pipeline.V6Frames.l4Sum;
import static io.jvs.forwarder.pipeline.V6Frames.tcp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ICMPv6 for tracked IPv6 connections through {@link DataPath}'s pipeline (the fixture of
 * {@link Ipv6PipelineTest}): errors forwarded both ways as ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6
 * do, and the director's own Packet Too Big for a packet over the egress MTU (1500 here). Every
 * expected frame is built in the test from RFC 4443's definition: the ICMPv6 checksum is
 * {@link V6Frames}' reference sum over the pseudo-header and the message, never jvs's.
 */
class Icmpv6PipelineTest {
    static final byte[] HOP = addr("2001:db8:1::1");
    static final int ETH6 = 14 + 40;

    final Ipv6PipelineTest p = new Ipv6PipelineTest();

    @BeforeEach
    void servers() {
        p.learnServers();
        p.neighbours6.learn(hi(CLIENT), lo(CLIENT), CLIENT_MAC, true, System.nanoTime());
    }

    @AfterEach
    void close() {
        p.close();
    }

    /** An IPv6 header (no extension headers) claiming payloadLength, followed by what is given. */
    static byte[] ip6(byte[] src, byte[] dst, int next, int hops, int payloadLength, byte[] data) {
        byte[] h = Arrays.copyOfRange(frame(0, 0, src, dst, next, hops, data), 14, 14 + 40 + data.length);
        h[4] = (byte) (payloadLength >>> 8);
        h[5] = (byte) payloadLength;
        return h;
    }

    static byte[] u32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    /** Copies a with the 16 bytes at off replaced by addr and the 2 at portOff by port. */
    static byte[] patched(byte[] a, int off, byte[] addr, int portOff, int port) {
        byte[] b = a.clone();
        System.arraycopy(addr, 0, b, off, 16);
        b[portOff] = (byte) (port >>> 8);
        b[portOff + 1] = (byte) port;
        return b;
    }

    static byte[] payload(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    /** The NAT connection CLIENT:40000 -> VIP:8080, scheduled to RS2:80. */
    void natConnection() {
        p.one(frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64, tcp(CLIENT, VIP, 40000, NAT_PORT, 1, 0x02)));
    }

    @Test
    void packetTooBigFromTheClientsSideReachesTheNatRealServerRewritten() {
        natConnection();
        // A router on the way to the client could not forward the reply VIP:8080 -> CLIENT:40000 (1500 bytes).
        byte[] quote = ip6(VIP, CLIENT, 6, 63, 1460, concat(tcp(VIP, CLIENT, NAT_PORT, 40000, 7, 0x10), payload(100)));
        byte[] ptb = frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64, icmp6(HOP, VIP, 2, 0, concat(u32(1280), quote)));
        byte[] out = p.one(ptb);
        // What the server must get: to RS2, quoting RS2:80 -> CLIENT:40000 (what it sent), checksum over the new pseudo-header.
        byte[] wantQuote = patched(quote, 8, RS2, 40, 80);
        byte[] want = frame(RS2_MAC, PORT_MAC, HOP, RS2, 58, 63, icmp6(HOP, RS2, 2, 0, concat(u32(1280), wantQuote)));
        assertEquals(hex(want), hex(out));
        assertEquals(0, l4Sum(HOP, RS2, 58, Arrays.copyOfRange(out, ETH6, out.length)), "checksum verifies");
    }

    @Test
    void errorFromTheNatRealServerReachesTheClientFromTheVip() {
        natConnection();
        // RS2 answers what the director sent it (CLIENT:40000 -> RS2:80) with Destination Unreachable, port.
        byte[] quote = ip6(CLIENT, RS2, 6, 63, 20, tcp(CLIENT, RS2, 40000, 80, 9, 0x10));
        byte[] err = frame(PORT_MAC, RS2_MAC, RS2, CLIENT, 58, 64, icmp6(RS2, CLIENT, 1, 4, concat(u32(0), quote)));
        byte[] out = p.one(err);
        byte[] wantQuote = patched(quote, 24, VIP, 42, NAT_PORT);
        byte[] want = frame(CLIENT_MAC, PORT_MAC, VIP, CLIENT, 58, 63, icmp6(VIP, CLIENT, 1, 4, concat(u32(0), wantQuote)));
        assertEquals(hex(want), hex(out));
    }

    @Test
    void errorFromTheClientsSideReachesTheDrRealServerAsItIs() {
        p.one(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40000, DR_PORT, 1, 0x02)));
        byte[] quote = ip6(VIP, REMOTE, 6, 1, 20, tcp(VIP, REMOTE, DR_PORT, 40000, 5, 0x12));
        byte[] te = frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64, icmp6(HOP, VIP, 3, 0, concat(u32(0), quote)));
        byte[] out = p.one(te);
        byte[] want = te.clone();
        System.arraycopy(V6Frames.mac(RS1_MAC), 0, want, 0, 6);
        System.arraycopy(V6Frames.mac(PORT_MAC), 0, want, 6, 6);
        want[21] = 63;
        assertArrayEquals(want, out, "only the MACs and the hop limit change");
        // A quote behind a destination-options header is walked to its ports too (ipv6_find_hdr).
        byte[] opts = V6Frames.hex("0600 0104 0000 0000");
        byte[] behind = ip6(VIP, REMOTE, 60, 1, 28, concat(opts, tcp(VIP, REMOTE, DR_PORT, 40000, 5, 0x12)));
        assertEquals(RS1_MAC, Ipv6PipelineTest.mac(p.one(frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64,
                icmp6(HOP, VIP, 4, 1, concat(u32(40), behind)))), 0));
    }

    @Test
    void untrackedErrorsStayCountedAsBefore() {
        natConnection();
        // To the VIP, quoting a connection nobody has: icmp_untracked.
        byte[] stray = ip6(VIP, CLIENT, 6, 63, 20, tcp(VIP, CLIENT, NAT_PORT, 40001, 7, 0x10));
        p.none(frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64, icmp6(HOP, VIP, 1, 0, concat(u32(0), stray))),
                DropReason.ICMP_UNTRACKED);
        // The tracked quote, but the error is not for the quoted packet's sender (outer destination != quoted source).
        byte[] quote = ip6(VIP, CLIENT, 6, 63, 20, tcp(VIP, CLIENT, NAT_PORT, 40000, 7, 0x10));
        p.ignored(frame(PORT_MAC, ROUTER_MAC, HOP, RS1, 58, 64, icmp6(HOP, RS1, 1, 0, concat(u32(0), quote))));
        // Between two other hosts, quoting nothing of ours: the kernel's.
        byte[] other = ip6(RS1, CLIENT, 6, 63, 20, tcp(RS1, CLIENT, 22, 50000, 7, 0x10));
        p.ignored(frame(PORT_MAC, RS1_MAC, RS1, CLIENT, 58, 64, icmp6(RS1, CLIENT, 1, 4, concat(u32(0), other))));
        // A tracked quote with a wrong ICMPv6 checksum is not laundered by the NAT rewrite.
        byte[] bad = icmp6(HOP, VIP, 2, 0, concat(u32(1280), quote));
        bad[2] ^= 0x10;
        p.none(frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64, bad), DropReason.BAD_CHECKSUM);
        // A quote cut before its ports.
        byte[] cut = Arrays.copyOf(quote, 42);
        p.none(frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64, icmp6(HOP, VIP, 2, 0, concat(u32(1280), cut))),
                DropReason.ICMP_UNTRACKED);
    }

    @Test
    void packetOverTheEgressMtuIsAnsweredWithPacketTooBig() {
        natConnection();
        // 40 + 1461 bytes: one more than the port's 1500; NAT would send it to RS2.
        byte[] big = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64,
                concat(tcp(CLIENT, VIP, 40000, NAT_PORT, 2, 0x10), payload(1441)));
        long before = p.counters.drops(DropReason.PACKET_TOO_BIG);
        byte[] out = p.one(big);
        assertEquals(before + 1, p.counters.drops(DropReason.PACKET_TOO_BIG));
        // RFC 4443 3.2: type 2, code 0, the MTU, as much of the packet (unchanged: before NAT) as fits in 1280.
        byte[] quoted = Arrays.copyOfRange(big, 14, 14 + 1280 - 48);
        byte[] want = frame(CLIENT_MAC, PORT_MAC, PORT_IP, CLIENT, 58, 64, icmp6(PORT_IP, CLIENT, 2, 0,
                concat(u32(1500), quoted)));
        assertEquals(hex(want), hex(out));
        // 1500 bytes exactly fit.
        byte[] fits = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64,
                concat(tcp(CLIENT, VIP, 40000, NAT_PORT, 2, 0x10), payload(1440)));
        assertEquals(RS2_MAC, Ipv6PipelineTest.mac(p.one(fits), 0));
        // DR checks the same before sending; the reply direction of NAT too (to the real server).
        p.one(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64, tcp(REMOTE, VIP, 40000, DR_PORT, 1, 0x02)));
        byte[] dr = p.one(frame(PORT_MAC, ROUTER_MAC, REMOTE, VIP, 6, 64,
                concat(tcp(REMOTE, VIP, 40000, DR_PORT, 2, 0x10), payload(1441))));
        assertEquals(ROUTER_MAC, Ipv6PipelineTest.mac(dr, 0), "back by the route to the client");
        assertEquals(2, dr[ETH6] & 0xff);
        assertEquals(0, l4Sum(PORT_IP, REMOTE, 58, Arrays.copyOfRange(dr, ETH6, dr.length)));
        byte[] reply = p.one(frame(PORT_MAC, RS2_MAC, RS2, CLIENT, 6, 64,
                concat(tcp(RS2, CLIENT, 80, 40000, 7, 0x10), payload(1441))));
        assertArrayEquals(RS2, Arrays.copyOfRange(reply, 38, 54), "the server that sent it is told");
        assertArrayEquals(RS2, Arrays.copyOfRange(reply, ETH6 + 8 + 8, ETH6 + 8 + 24), "quoted as it sent it");
        assertEquals(before + 3, p.counters.drops(DropReason.PACKET_TOO_BIG));
    }

    /** Feeds a frame behind the given virtio_net_hdr (a GSO super-frame); returns what left. */
    java.util.List<byte[]> feedGso(byte[] f, int gsoSize) {
        int before = p.tx.sent.size();
        MemorySegment s = p.arena.allocate(64 + 10 + f.length + 64, 8);
        // virtio_net_hdr (little-endian): NEEDS_CSUM, TCPV6, hdr_len 74, gso_size, csum_start 54, csum_offset 16
        byte[] vnet = {1, 4, 74, 0, (byte) gsoSize, (byte) (gsoSize >>> 8), 54, 0, 16, 0};
        MemorySegment.copy(vnet, 0, s, ValueLayout.JAVA_BYTE, 64, 10);
        MemorySegment.copy(f, 0, s, ValueLayout.JAVA_BYTE, 74, f.length);
        p.ctx.seg = s;
        p.ctx.vnetOff = 64;
        p.ctx.frameOff = 74;
        p.ctx.frameLen = f.length;
        p.ctx.frameCapacity = f.length + 64;
        p.ctx.headroom = 64;
        p.channel.writeInbound(p.ctx);
        p.channel.pipeline().fireChannelReadComplete();
        p.channel.checkException();
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        for (int i = before; i < p.tx.sent.size(); i++) {
            byte[] b = p.tx.sent.get(i);
            out.add(Arrays.copyOfRange(b, 10, b.length));
        }
        return out;
    }

    @Test
    void gsoSuperFrameIsMeasuredByItsSegments() {
        natConnection();
        // 2902 bytes of TCP in one super-frame: it leaves as segments of 40 + 20 + gso_size bytes.
        byte[] sup = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64,
                concat(tcp(CLIENT, VIP, 40000, NAT_PORT, 2, 0x10), payload(2882)));
        java.util.List<byte[]> fit = feedGso(sup, 1440);
        assertEquals(1, fit.size());
        assertEquals(RS2_MAC, Ipv6PipelineTest.mac(fit.get(0), 0), "segments of 1500 bytes fit");
        long before = p.counters.drops(DropReason.PACKET_TOO_BIG);
        java.util.List<byte[]> ptb = feedGso(sup, 1441);
        assertEquals(1, ptb.size());
        assertEquals(before + 1, p.counters.drops(DropReason.PACKET_TOO_BIG), "segments of 1501 bytes do not");
        byte[] err = ptb.get(0);
        assertEquals(CLIENT_MAC, Ipv6PipelineTest.mac(err, 0));
        assertEquals(2, err[ETH6] & 0xff, "Packet Too Big");
        assertEquals("000005dc", hex(Arrays.copyOfRange(err, ETH6 + 4, ETH6 + 8)), "MTU 1500");
        assertEquals(0, l4Sum(PORT_IP, CLIENT, 58, Arrays.copyOfRange(err, ETH6, err.length)));
    }

    /** Errors forwarded both ways and Packet Too Big (built, then rate-limited) allocate nothing. */
    @Test
    void icmpv6PathsDoNotAllocate() {
        natConnection();
        byte[] quote = ip6(VIP, CLIENT, 6, 63, 1460, concat(tcp(VIP, CLIENT, NAT_PORT, 40000, 7, 0x10), payload(100)));
        byte[] in = frame(PORT_MAC, ROUTER_MAC, HOP, VIP, 58, 64, icmp6(HOP, VIP, 2, 0, concat(u32(1280), quote)));
        byte[] back = ip6(CLIENT, RS2, 6, 63, 20, tcp(CLIENT, RS2, 40000, 80, 9, 0x10));
        byte[] out = frame(PORT_MAC, RS2_MAC, RS2, CLIENT, 58, 64, icmp6(RS2, CLIENT, 1, 4, concat(u32(0), back)));
        byte[] big = frame(PORT_MAC, CLIENT_MAC, CLIENT, VIP, 6, 64,
                concat(tcp(CLIENT, VIP, 40000, NAT_PORT, 2, 0x10), payload(1441)));
        byte[][] frames = {in, out, big};
        p.queue.capture = false;
        long allocated = V6Frames.allocatedFeeding(p.channel, p.ctx, p.port, p.arena, frames, 20_000);
        assertTrue(p.queue.counted >= 2 * 20_000, "both errors forwarded each time: " + p.queue.counted);
        assertTrue(p.counters.drops(DropReason.PACKET_TOO_BIG) >= 20_000, "every big packet dropped");
        assertEquals(0, allocated, "bytes allocated by 60k ICMPv6 frames");
    }
}
