package io.jvs.forwarder.packet;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.packet.TcpHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.Checksum;
import static io.jvs.forwarder.testkit.Frames.u16;
import static io.jvs.forwarder.testkit.Frames.put16;
import static io.jvs.forwarder.testkit.Frames.put32;
import static io.jvs.forwarder.testkit.Frames.refPseudo;
import static io.jvs.forwarder.testkit.Frames.refSum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ChecksumTest {
    private final SplittableRandom rnd = new SplittableRandom(1624);

    private static MemorySegment seg(byte[] b, int lead) {
        MemorySegment s = Arena.ofAuto().allocate(lead + b.length, 1);
        MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, lead, b.length);
        return s;
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        byte[] b = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        assertEquals(0xddf2, Checksum.sum(seg(b, 3), 3, 8));
        assertEquals(0xddf2, refSum(b, 0, 8, 0));
    }

    @Test
    void rfc1624Example() {
        // RFC 1624 section 4: m = 0x5555 -> m' = 0x3285, sum of the other octets 0xCD7A.
        int hc = ~Checksum.add(0xCD7A, 0x5555) & 0xFFFF;
        assertEquals(0xDD2F, hc);
        int recomputed = ~Checksum.add(0xCD7A, 0x3285) & 0xFFFF;
        assertEquals(0x0000, recomputed);
        // Eqn. 3 gives the recomputed value (eqn. 2 of RFC 1141 would give 0xFFFF).
        assertEquals(0x0000, Checksum.update16(0xDD2F, 0x5555, 0x3285));
        // And back again.
        assertEquals(0xDD2F, Checksum.update16(0x0000, 0x3285, 0x5555));
    }

    @Test
    void fold() {
        assertEquals(0, Checksum.fold(0));
        assertEquals(0xFFFF, Checksum.fold(0xFFFF));
        assertEquals(1, Checksum.fold(0x10000));
        assertEquals(0xFFFF, Checksum.fold(0x1FFFE));
        assertEquals(0xFFFF, Checksum.fold(0xFFFF_FFFFL));
        long big = 0x7FFF_FFFF_FFFF_FFFFL; // 2^16 = 1 mod 0xFFFF, so 2^63 - 1 = 2^15 - 1
        assertEquals(0x7FFF, Checksum.fold(big));
        for (int i = 0; i < 10_000; i++) {
            long v = rnd.nextLong() >>> 1;
            int f = Checksum.fold(v);
            assertTrue(f >= 0 && f <= 0xFFFF);
            assertEquals(v % 0xFFFF, f % 0xFFFF, "fold preserves the value mod 0xFFFF");
        }
    }

    @Test
    void sumMatchesReferenceForAnyLengthAndOffset() {
        for (int i = 0; i < 2_000; i++) {
            int len = rnd.nextInt(0, 300);
            int lead = rnd.nextInt(0, 9);
            byte[] b = randomBytes(len);
            MemorySegment s = seg(b, lead);
            assertEquals(refSum(b, 0, len, 0), Checksum.sum(s, lead, len), "len " + len + " lead " + lead);
            int init = rnd.nextInt(0, 0x10000);
            assertEquals(refSum(b, 0, len, init), Checksum.sum(s, lead, len, init));
        }
        byte[] all = randomBytes(65_535);
        assertEquals(refSum(all, 0, all.length, 0), Checksum.sum(seg(all, 1), 1, all.length));
        byte[] ones = new byte[65_536];
        java.util.Arrays.fill(ones, (byte) 0xFF);
        assertEquals(0xFFFF, Checksum.sum(seg(ones, 0), 0, ones.length));
    }

    @Test
    void pseudoHeaderSum() {
        for (int i = 0; i < 1_000; i++) {
            int s = rnd.nextInt();
            int d = rnd.nextInt();
            int p = rnd.nextInt(0, 256);
            int l = rnd.nextInt(0, 0x10000);
            int expected = refPseudo(s, d, p, l);
            assertEquals(expected, Checksum.pseudoHeaderSum(s, d, p, l));
        }
    }

    @Test
    void ipv4HeaderChecksumIgnoresTheFieldAndCoversOptions() {
        for (int i = 0; i < 500; i++) {
            int ihl = 20 + 4 * rnd.nextInt(0, 11);
            byte[] h = randomBytes(ihl);
            h[0] = (byte) (0x40 | ihl / 4);
            byte[] zeroed = h.clone();
            put16(zeroed, 10, 0);
            int expected = ~refSum(zeroed, 0, ihl, 0) & 0xFFFF;
            MemorySegment s = seg(h, 1);
            assertEquals(expected, Checksum.ipv4Header(s, 1, ihl));
            Ipv4Header ip = new Ipv4Header().wrap(s, 1);
            ip.writeChecksum();
            assertTrue(ip.verifyChecksum());
        }
    }

    @Test
    void l4ChecksumOfBuiltFramesVerifies() {
        byte[][] frames = {
            Frames.frame().tcp(1000, 80, TcpHeader.SYN, 0).build(),
            Frames.frame().tcp(1000, 80, TcpHeader.ACK, 1001).build(),
            Frames.frame().udp(53, 5353, Frames.payload(37)).build(),
            Frames.frame().icmpEcho(8, 7, 9, Frames.payload(56)).build(),
            Frames.frame().options(new byte[8]).udp(53, 5353, Frames.payload(3)).build(),
        };
        for (byte[] f : frames) {
            MemorySegment s = seg(f, 0);
            int proto = f[14 + 9];
            int ihl = (f[14] & 0xF) * 4;
            int field = Checksum.l4ChecksumOffset(proto);
            int stored = u16(f, 14 + ihl + field);
            assertEquals(stored, Checksum.l4(s, 14), "proto " + proto);
            int total = u16(f, 14 + 2);
            assertEquals(stored, Checksum.l4(s, 14 + ihl, total - ihl, proto, Frames.IP_A, Frames.IP_B));
            // Verification the receiver's way: everything summed, pseudo-header included, is 0xFFFF.
            int init = proto == Ipv4Header.PROTO_ICMP ? 0 : refPseudo(Frames.IP_A, Frames.IP_B, proto, total - ihl);
            assertEquals(0xFFFF, Checksum.sum(s, 14 + ihl, total - ihl, init));
        }
    }

    @Test
    void udpComputedZeroIsSentAsFfff() {
        // Choose two payload bytes so that the sum over everything is 0xFFFF, i.e. the checksum 0.
        byte[] f = Frames.frame().udp(4000, 5000, new byte[2]).build();
        MemorySegment s = seg(f, 0);
        int l4 = 14 + 20;
        int withoutPayload = Checksum.sum(s, l4, 8, Checksum.pseudoHeaderSum(Frames.IP_A, Frames.IP_B, 17, 10));
        // The stored checksum field is in that sum: remove it.
        int others = Checksum.add(withoutPayload, ~u16(f, l4 + 6) & 0xFFFF);
        put16(f, l4 + 8, ~others & 0xFFFF);
        s = seg(f, 0);
        assertEquals(0xFFFF, Checksum.l4(s, 14));
        int init = refPseudo(Frames.IP_A, Frames.IP_B, 17, 10);
        byte[] udp = java.util.Arrays.copyOfRange(f, l4, l4 + 10);
        put16(udp, 6, 0);
        assertEquals(0xFFFF, refSum(udp, 0, 10, init), "the data really sums to 0xFFFF");
    }

    @Test
    void l4RejectsProtocolsWithoutAChecksumItKnows() {
        MemorySegment s = seg(new byte[64], 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checksum.l4(s, 0, 20, 47, 0, 0));
        assertTrue(e.getMessage().contains("47"), e.getMessage());
        assertEquals(-1, Checksum.l4ChecksumOffset(47));
    }

    @Test
    void update16And32EqualFullRecomputation() {
        for (int i = 0; i < 20_000; i++) {
            int len = 2 * rnd.nextInt(4, 40);
            byte[] b = randomBytes(len);
            int csumAt = 2 * rnd.nextInt(0, len / 2);
            put16(b, csumAt, 0);
            put16(b, csumAt, ~refSum(b, 0, len, 0) & 0xFFFF);
            int hc = u16(b, csumAt);

            int at;
            do {
                at = 2 * rnd.nextInt(0, len / 2 - 1);
            } while (at == csumAt || at + 2 == csumAt);
            boolean wide = rnd.nextBoolean();
            int old = wide ? Frames.i32(b, at) : u16(b, at);
            int nu = wide ? rnd.nextInt() : rnd.nextInt(0, 0x10000);
            if (rnd.nextInt(10) == 0) {
                nu = old; // no-op changes too
            }
            if (wide) {
                put32(b, at, nu);
            } else {
                put16(b, at, nu);
            }
            int incremental = wide ? Checksum.update32(hc, old, nu) : Checksum.update16(hc, old, nu);
            put16(b, csumAt, 0);
            int full = ~refSum(b, 0, len, 0) & 0xFFFF;
            assertEquals(full, incremental, "exactly, not just equivalently");
        }
    }

    @Test
    void updatePartialTracksThePseudoHeaderSum() {
        for (int i = 0; i < 20_000; i++) {
            int s = rnd.nextInt();
            int d = rnd.nextInt();
            int p = rnd.nextBoolean() ? 6 : 17;
            int l = rnd.nextInt(8, 0x10000);
            int field = Checksum.pseudoHeaderSum(s, d, p, l);
            int s2 = rnd.nextInt();
            int d2 = rnd.nextInt();
            int l2 = rnd.nextInt(8, 0x10000);
            int f = Checksum.updatePartial32(field, s, s2);
            f = Checksum.updatePartial32(f, d, d2);
            f = Checksum.updatePartial16(f, l, l2);
            assertEquals(refPseudo(s2, d2, p, l2), f);
        }
    }
}
