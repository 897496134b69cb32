package io.jvs.forwarder.packet;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.packet.VirtioNetHeader;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.Checksum;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.forwarder.frame.FrameKind;
import io.jvs.forwarder.frame.FrameDecoder;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.testkit.AllocationProbe;
import static io.jvs.forwarder.testkit.Frames.frame;
import static io.jvs.forwarder.testkit.Frames.u16;
import static io.jvs.forwarder.testkit.Frames.i32;
import static io.jvs.forwarder.testkit.Frames.payload;
import static io.jvs.forwarder.testkit.Frames.put16;
import static io.jvs.forwarder.testkit.Frames.refPseudo;
import static io.jvs.forwarder.testkit.Frames.refSum;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every rewrite is checked against a full recomputation of the rewritten frame
 * by the test's own reference checksum: exactly equal, not merely equivalent.
 */
class RewriteTest {
    private final SplittableRandom rnd = new SplittableRandom(0x1624);

    /** Builds a random frame of the given protocol. */
    private Frames.Builder randomFrame(int proto, boolean partial, boolean udpNoChecksum) {
        Frames.Builder b = frame().addrs(rnd.nextInt(), rnd.nextInt()).ttl(rnd.nextInt(1, 256)).id(rnd.nextInt(0, 0x10000))
                .tos(rnd.nextInt(0, 256));
        for (int t = rnd.nextInt(0, 3); t > 0; t--) {
            b.tag(rnd.nextBoolean() ? 0x8100 : 0x88A8, rnd.nextInt(0, 0x10000));
        }
        byte[] opts = new byte[4 * rnd.nextInt(0, 11)];
        rnd.nextBytes(opts);
        b.options(opts);
        byte[] data = new byte[rnd.nextInt(0, 301)];
        rnd.nextBytes(data);
        int sport = rnd.nextInt(0, 0x10000);
        int dport = rnd.nextInt(0, 0x10000);
        switch (proto) {
            case Ipv4Header.PROTO_TCP -> {
                byte[] tcpOpts = new byte[4 * rnd.nextInt(0, 11)];
                rnd.nextBytes(tcpOpts);
                b.tcp(sport, dport, rnd.nextInt(), rnd.nextInt(), rnd.nextInt(0, 256), rnd.nextInt(0, 0x10000), tcpOpts, data);
            }
            case Ipv4Header.PROTO_UDP -> b.udp(sport, dport, data);
            default -> b.icmpEcho(rnd.nextBoolean() ? 8 : 0, sport, dport, data);
        }
        if (partial) {
            b.partial();
        }
        if (udpNoChecksum) {
            b.udpNoChecksum();
        }
        return b;
    }

    /** Expected header values, tracked alongside the rewrites. */
    private static final class Expect {
        int src;
        int dst;
        int sport;
        int dport;
        int ttl;
    }

    private void randomRewrites(PacketContext ctx, Expect e, boolean hasPorts) {
        for (int n = rnd.nextInt(1, 6); n > 0; n--) {
            switch (rnd.nextInt(5)) {
                case 0 -> {
                    int a = rnd.nextInt(4) == 0 ? e.dst : rnd.nextInt(); // sometimes a no-op
                    Rewrite.setDstAddr(ctx, a);
                    e.dst = a;
                }
                case 1 -> {
                    int a = rnd.nextInt();
                    Rewrite.setSrcAddr(ctx, a);
                    e.src = a;
                }
                case 2 -> {
                    int p = rnd.nextInt(0, 0x10000);
                    assertEquals(hasPorts, Rewrite.setDstPort(ctx, p));
                    if (hasPorts) {
                        e.dport = p;
                    }
                }
                case 3 -> {
                    int p = rnd.nextInt(0, 0x10000);
                    assertEquals(hasPorts, Rewrite.setSrcPort(ctx, p));
                    if (hasPorts) {
                        e.sport = p;
                    }
                }
                default -> {
                    int t = Rewrite.decrementTtl(ctx);
                    e.ttl = Math.max(0, e.ttl - 1);
                    assertEquals(e.ttl, t);
                }
            }
        }
    }

    /** The rewritten frame, decoded again from scratch, and all its checksums recomputed. */
    private static void verify(byte[] f, boolean vnet, int proto, Expect e, byte[] before, boolean partial, boolean udpNone) {
        PacketContext again = Frames.load(f, vnet).ctx();
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(again), () -> "re-decode: " + again.drop);
        assertEquals(e.src, again.srcAddr);
        assertEquals(e.dst, again.dstAddr);
        assertEquals(e.ttl, again.ttl);
        if (proto != Ipv4Header.PROTO_ICMP) {
            assertEquals(e.sport, again.srcPort);
            assertEquals(e.dport, again.dstPort);
        }
        int lead = vnet ? 10 : 0;
        int l3 = (int) (again.l3Off - again.frameOff) + lead;
        int ihl = again.ip.ihl();
        byte[] ipHdr = Arrays.copyOfRange(f, l3, l3 + ihl);
        int stored = u16(ipHdr, 10);
        put16(ipHdr, 10, 0);
        assertEquals(~refSum(ipHdr, 0, ihl, 0) & 0xFFFF, stored, "IP header checksum");

        int l4 = l3 + ihl;
        int l4Len = again.ip.totalLength() - ihl;
        int field = l4 + (proto == Ipv4Header.PROTO_TCP ? 16 : proto == Ipv4Header.PROTO_UDP ? 6 : 2);
        byte[] msg = Arrays.copyOfRange(f, l4, l4 + l4Len);
        int csum = u16(f, field);
        put16(msg, field - l4, 0);
        int init = proto == Ipv4Header.PROTO_ICMP ? 0 : refPseudo(e.src, e.dst, proto, l4Len);
        int full = ~refSum(msg, 0, l4Len, init) & 0xFFFF;
        if (proto == Ipv4Header.PROTO_ICMP) {
            assertEquals(u16(before, field), csum, "address and TTL changes leave ICMP alone");
            assertEquals(full, csum);
        } else if (partial) {
            assertEquals(refPseudo(e.src, e.dst, proto, l4Len), csum, "partial field = new pseudo-header sum");
            // Complete it as the device would: sum from csum_start to the end, field included, complement.
            int start = lead + Frames.getLe16(f, 6);
            int nic = ~refSum(f, start, l4 + l4Len - start, 0) & 0xFFFF;
            nic = nic == 0 ? 0xFFFF : nic;
            assertTrue(nic == full || full == 0 && nic == 0xFFFF, "device result " + nic + " vs full " + full);
        } else if (udpNone) {
            assertEquals(0, csum, "UDP 'no checksum' stays 0");
        } else {
            if (proto == Ipv4Header.PROTO_UDP && full == 0) {
                full = 0xFFFF;
            }
            assertEquals(full, csum, "L4 checksum");
        }
    }

    private void randomRound(int proto, boolean partial, boolean udpNone) {
        byte[] f = randomFrame(proto, partial, udpNone).build();
        boolean vnet = partial;
        Frames.Loaded l = Frames.load(f, vnet);
        PacketContext ctx = l.ctx();
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
        Expect e = new Expect();
        e.src = ctx.srcAddr;
        e.dst = ctx.dstAddr;
        e.sport = ctx.srcPort;
        e.dport = ctx.dstPort;
        e.ttl = ctx.ttl;
        byte[] before = l.seg().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        before = Arrays.copyOfRange(before, 7, before.length);
        randomRewrites(ctx, e, proto != Ipv4Header.PROTO_ICMP);
        assertEquals(e.src, ctx.srcAddr);
        assertEquals(e.dst, ctx.dstAddr);
        assertEquals(e.sport, ctx.srcPort);
        assertEquals(e.dport, ctx.dstPort);
        assertEquals(e.ttl, ctx.ttl);
        byte[] after = l.seg().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        after = Arrays.copyOfRange(after, 7, after.length);
        verify(after, vnet, proto, e, before, partial, udpNone);
    }

    @Test
    void randomTcpRewrites() {
        for (int i = 0; i < 3_000; i++) {
            randomRound(Ipv4Header.PROTO_TCP, false, false);
        }
    }

    @Test
    void randomUdpRewrites() {
        for (int i = 0; i < 3_000; i++) {
            randomRound(Ipv4Header.PROTO_UDP, false, false);
        }
    }

    @Test
    void randomUdpRewritesWithoutChecksumKeepZero() {
        for (int i = 0; i < 1_000; i++) {
            randomRound(Ipv4Header.PROTO_UDP, false, true);
        }
    }

    @Test
    void randomIcmpRewrites() {
        for (int i = 0; i < 1_000; i++) {
            randomRound(Ipv4Header.PROTO_ICMP, false, false);
        }
    }

    @Test
    void randomPartialChecksumRewrites() {
        for (int i = 0; i < 2_000; i++) {
            randomRound(Ipv4Header.PROTO_TCP, true, false);
            randomRound(Ipv4Header.PROTO_UDP, true, false);
        }
    }

    @Test
    void udpChecksumThatComesOutZeroIsStoredAsFfff() {
        byte[] f = frame().udp(1000, 2000, payload(11)).build();
        // Pick the new port that makes the full checksum 0: the sum of everything with the port
        // and checksum fields zeroed, plus the port, must be 0xFFFF.
        byte[] msg = Arrays.copyOfRange(f, 34, f.length);
        put16(msg, 2, 0);
        put16(msg, 6, 0);
        int rest = refSum(msg, 0, msg.length, refPseudo(Frames.IP_A, Frames.IP_B, 17, msg.length));
        int port = ~rest & 0xFFFF;
        PacketContext ctx = Frames.load(f, false).ctx();
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
        assertTrue(Rewrite.setDstPort(ctx, port));
        assertEquals(0xFFFF, ctx.udp.checksum());
        assertEquals(0xFFFF, Checksum.l4(ctx.seg, ctx.l3Off), "full recomputation agrees");
        // And from 0xFFFF onwards incremental updates still work.
        assertTrue(Rewrite.setDstPort(ctx, 2000));
        assertEquals(u16(f, 34 + 6), ctx.udp.checksum());
    }

    @Test
    void addressRewriteOfIcmpAndOtherProtocolsTouchesOnlyTheIpHeader() {
        for (byte[] f : new byte[][] {
            frame().icmpEcho(8, 1, 2, payload(30)).build(),
            frame().proto(Ipv4Header.PROTO_GRE, payload(24)).build(),
        }) {
            Frames.Loaded l = Frames.load(f, false);
            PacketContext ctx = l.ctx();
            assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
            Rewrite.setDstAddr(ctx, 0x01020304);
            Rewrite.setSrcAddr(ctx, 0x05060708);
            assertFalse(Rewrite.setDstPort(ctx, 1));
            assertFalse(Rewrite.setSrcPort(ctx, 1));
            byte[] after = l.frameBytes();
            assertTrue(ctx.ip.verifyChecksum());
            assertArrayEquals(Arrays.copyOfRange(f, 34, f.length), Arrays.copyOfRange(after, 34, after.length));
            assertEquals(0x01020304, i32(after, 30));
            assertEquals(0, ctx.dstPort);
        }
    }

    @Test
    void noOpRewritesChangeNothing() {
        byte[] f = frame().tcp(1, 2, TcpHeader.ACK, 10).build();
        Frames.Loaded l = Frames.load(f, false);
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(l.ctx()));
        Rewrite.setDstAddr(l.ctx(), Frames.IP_B);
        Rewrite.setSrcAddr(l.ctx(), Frames.IP_A);
        Rewrite.setDstPort(l.ctx(), 2);
        Rewrite.setSrcPort(l.ctx(), 1);
        assertArrayEquals(f, l.frameBytes());
    }

    @Test
    void firstFragmentL4ChecksumStaysValidForTheWholeDatagram() {
        for (int proto : new int[] {Ipv4Header.PROTO_TCP, Ipv4Header.PROTO_UDP}) {
            for (int i = 0; i < 300; i++) {
                byte[] data = new byte[rnd.nextInt(100, 400)];
                rnd.nextBytes(data);
                Frames.Builder b = frame().addrs(rnd.nextInt(), rnd.nextInt());
                if (proto == Ipv4Header.PROTO_TCP) {
                    b.tcp(rnd.nextInt(0, 0x10000), rnd.nextInt(0, 0x10000), 1, 2, TcpHeader.ACK, 3, new byte[0], data);
                } else {
                    b.udp(rnd.nextInt(0, 0x10000), rnd.nextInt(0, 0x10000), data);
                }
                byte[] whole = b.build(); // unfragmented: the rest of the datagram comes from here
                int firstLen = 8 * rnd.nextInt(3, 10);
                byte[] first = b.fragment(0, firstLen, true).build();

                Frames.Loaded l = Frames.load(first, false);
                PacketContext ctx = l.ctx();
                assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
                assertTrue(ctx.firstFragment);
                int src = rnd.nextInt();
                int dst = rnd.nextInt();
                int dport = rnd.nextInt(0, 0x10000);
                Rewrite.setSrcAddr(ctx, src);
                Rewrite.setDstAddr(ctx, dst);
                assertTrue(Rewrite.setDstPort(ctx, dport));
                assertTrue(ctx.ip.verifyChecksum());

                // Reassemble: the rewritten first fragment's L4 bytes + the rest of the original datagram.
                byte[] rewritten = l.frameBytes();
                byte[] msg = Arrays.copyOfRange(whole, 34, whole.length);
                System.arraycopy(rewritten, 34, msg, 0, firstLen);
                int field = proto == Ipv4Header.PROTO_TCP ? 16 : 6;
                int csum = u16(msg, field);
                put16(msg, field, 0);
                int full = ~refSum(msg, 0, msg.length, refPseudo(src, dst, proto, msg.length)) & 0xFFFF;
                if (proto == Ipv4Header.PROTO_UDP && full == 0) {
                    full = 0xFFFF;
                }
                assertEquals(full, csum);
            }
        }
    }

    @Test
    void nonFirstFragmentsChangeOnlyTheIpHeader() {
        byte[] f = frame().tcp(1, 2, TcpHeader.ACK, 200).fragment(80, 64, true).build();
        Frames.Loaded l = Frames.load(f, false);
        PacketContext ctx = l.ctx();
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
        Rewrite.setDstAddr(ctx, 0x0A0A0A0A);
        Rewrite.setSrcAddr(ctx, 0x0B0B0B0B);
        assertFalse(Rewrite.setDstPort(ctx, 99), "no ports in a non-first fragment");
        assertFalse(Rewrite.setSrcPort(ctx, 99));
        assertEquals(63, Rewrite.decrementTtl(ctx));
        byte[] after = l.frameBytes();
        assertTrue(ctx.ip.verifyChecksum());
        assertArrayEquals(Arrays.copyOfRange(f, 34, f.length), Arrays.copyOfRange(after, 34, after.length));
    }

    @Test
    void decrementTtl() {
        for (int ttl = 0; ttl < 256; ttl++) {
            for (int proto : new int[] {Ipv4Header.PROTO_TCP, Ipv4Header.PROTO_UDP}) {
                Frames.Builder b = frame().ttl(ttl).options(new byte[4 * (ttl % 3)]);
                byte[] f = (proto == Ipv4Header.PROTO_TCP ? b.tcp(1, 2, TcpHeader.SYN, 0) : b.udp(1, 2, payload(ttl))).build();
                Frames.Loaded l = Frames.load(f, false);
                PacketContext ctx = l.ctx();
                assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
                int l4Before = proto == Ipv4Header.PROTO_TCP ? ctx.tcp.checksum() : ctx.udp.checksum();
                int t = Rewrite.decrementTtl(ctx);
                assertEquals(Math.max(0, ttl - 1), t);
                assertEquals(t, ctx.ip.ttl());
                assertEquals(t, ctx.ttl);
                assertTrue(ctx.ip.verifyChecksum());
                assertEquals(ctx.ip.computeChecksum(), ctx.ip.checksum(), "exactly the recomputed value");
                assertEquals(l4Before, proto == Ipv4Header.PROTO_TCP ? ctx.tcp.checksum() : ctx.udp.checksum());
                if (ttl == 0) {
                    assertArrayEquals(f, l.frameBytes(), "TTL 0 is left alone");
                }
            }
        }
    }

    @Test
    void finishPartialChecksumLikeTheKernel() {
        for (int i = 0; i < 500; i++) {
            int proto = rnd.nextBoolean() ? Ipv4Header.PROTO_TCP : Ipv4Header.PROTO_UDP;
            byte[] f = randomFrame(proto, true, false).padTo(rnd.nextInt(0, 80)).build();
            Frames.Loaded l = Frames.load(f, true);
            PacketContext ctx = l.ctx();
            assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
            Rewrite.setDstAddr(ctx, rnd.nextInt());
            Rewrite.setSrcPort(ctx, rnd.nextInt(0, 0x10000));
            assertTrue(Rewrite.finishPartialChecksum(ctx));
            assertFalse(ctx.csumPartial);
            assertFalse(ctx.vnet.needsCsum());
            int full = Checksum.l4(ctx.seg, ctx.l3Off);
            int stored = proto == Ipv4Header.PROTO_TCP ? ctx.tcp.checksum() : ctx.udp.checksum();
            assertTrue(stored == full || full == 0 && stored == 0xFFFF);
            assertFalse(Rewrite.finishPartialChecksum(ctx), "already complete");
        }
        byte[] gso = frame().vnet(0, VirtioNetHeader.GSO_TCPV4, 1448).partial().tcp(1, 2, TcpHeader.ACK, 3000).build();
        Frames.Loaded l = Frames.load(gso, true);
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(l.ctx()));
        assertFalse(Rewrite.finishPartialChecksum(l.ctx()), "a GSO super-frame is finished per segment by the kernel");
        assertArrayEquals(Arrays.copyOfRange(gso, 10, gso.length), l.frameBytes());
    }

    /** Decode and the rewrites allocate nothing once compiled (ThreadMXBean allocation counter). */
    @Test
    void hotPathDoesNotAllocate() {
        PacketContext tcp = Frames.load(frame().tag(0x8100, 1).tcp(1, 2, TcpHeader.ACK, 100).build(), false).ctx();
        PacketContext udp = Frames.load(frame().partial().udp(1, 2, payload(50)).build(), true).ctx();
        long sink = 0;
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 10 && allocated > 0; round++) {
            long before = AllocationProbe.start();
            sink += churn(tcp, udp, 50_000);
            allocated = AllocationProbe.since(before);
        }
        assertEquals(0, allocated, "bytes allocated by 50k decode+rewrite rounds (sink " + sink + ")");
    }

    private static long churn(PacketContext tcp, PacketContext udp, int n) {
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += FrameDecoder.decode(tcp).ordinal();
            Rewrite.setDstAddr(tcp, 0x0A000000 | i & 0xFF);
            Rewrite.setDstPort(tcp, 8000 + (i & 7));
            Rewrite.setSrcAddr(tcp, 0x0B000001);
            Rewrite.decrementTtl(tcp);
            tcp.ip.setTtl(64).writeChecksum();
            sink += FrameDecoder.decode(udp).ordinal();
            Rewrite.setDstAddr(udp, 0x0C000000 | i & 0xFF);
            Rewrite.setSrcPort(udp, i & 0xFFFF);
            sink += Checksum.sum(udp.seg, udp.l3Off, 20) + tcp.tcpFlags + udp.dstPort;
        }
        return sink;
    }
}
