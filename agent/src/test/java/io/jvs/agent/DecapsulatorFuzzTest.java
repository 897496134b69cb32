package io.jvs.agent;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The agent's userspace LVS-TUN decapsulation ({@link Decapsulator#ipip} on what the raw IPIP socket
 * reads, {@link Decapsulator#gue} on a GUE datagram's payload and source) on datagrams the fuzzer
 * shapes: an IPIP outer header or a GUE header (version 0 with its hlen, C bit and proto_ctype, or
 * version 1) around an inner IPv4 header, from an allowed director or not, to a VIP or not, with
 * fuzzed lengths and a few bytes flipped, or raw bytes; the inner packets go to a capture instead of
 * the TUN device, which now and then fails the write. Properties per datagram:
 * <ul>
 *   <li>it is accounted once: exactly one packet decapsulated (its encapsulation's counter, bytes
 *       = the inner total length) or exactly one drop;</li>
 *   <li>the verdict is the one a reading of RFC 2003 / draft-ietf-intarea-gue written here gives
 *       (which drop reason, or which inner packet), looking only at the datagram's own bytes (what
 *       lies behind it in the receive buffer is garbage that must not matter);</li>
 *   <li>what is injected is exactly the inner packet: the bytes from the inner header to its total
 *       length, never more, never from another offset.</li>
 * </ul>
 */
class DecapsulatorFuzzTest {
    static final int DIRECTOR1 = 0x0a00_0002;   // 10.0.0.2
    static final int DIRECTOR2 = 0x0a00_0003;
    static final int VIP1 = 0x0a00_0064;        // 10.0.0.100
    static final int VIP2 = 0x0a00_0065;
    static final int IPPROTO_IPIP = 4;

    /** What the injector was handed last (null: nothing), and the length it reports as written. */
    private static byte[] injected;
    private static long writeResult = -2;   // -2: all of it

    private static final DecapCounters COUNTERS = new DecapCounters();
    private static final Decapsulator DECAP = new Decapsulator(List.of(DIRECTOR1, DIRECTOR2), List.of(VIP1, VIP2),
            COUNTERS, (packet, len) -> {
                injected = packet.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
                return writeResult == -2 ? len : writeResult;
            });

    /** A verdict: a drop reason, or the inner packet at [off, off + len) of the datagram. */
    record Verdict(DecapCounters.Drop drop, int off, int len) {
    }

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void decapsulate(FuzzedDataProvider data) {
        boolean gue = data.consumeBoolean();
        int src = data.consumeBoolean() ? (data.consumeBoolean() ? DIRECTOR1 : DIRECTOR2) : data.consumeInt();
        writeResult = data.consumeInt(0, 15) == 0 ? data.consumeLong(-1, 70_000) : -2;
        byte garbage = data.consumeByte();
        byte[] d = data.consumeBoolean() ? shaped(data, gue, src) : data.consumeBytes(Decapsulator.BUF);
        int flips = data.consumeInt(0, 3);
        for (int i = 0; i < flips && d.length > 0; i++) {
            d[data.consumeInt(0, d.length - 1)] ^= (byte) data.consumeInt(1, 255);
        }

        MemorySegment buf = DECAP.buffer();
        MemorySegment.copy(d, 0, buf, ValueLayout.JAVA_BYTE, 0, d.length);
        buf.asSlice(d.length, Math.min(256, Decapsulator.BUF - d.length)).fill(garbage);
        long[] before = snapshot();
        injected = null;
        if (gue) {
            DECAP.gue(src, d.length);
        } else {
            DECAP.ipip(d.length);
        }
        long[] after = snapshot();

        Verdict v = gue ? gueVerdict(d, src) : ipipVerdict(d);
        DecapCounters.Encap encap = gue ? DecapCounters.Encap.GUE : DecapCounters.Encap.IPIP;
        if (v.drop() == null && writeResult != -2 && writeResult != v.len()) {
            v = new Verdict(DecapCounters.Drop.INJECT_ERROR, v.off(), v.len());
        }
        long[] expected = before.clone();
        if (v.drop() == null) {
            expected[encap.ordinal() * 2] += 1;
            expected[encap.ordinal() * 2 + 1] += v.len();
        } else {
            expected[4 + v.drop().ordinal()] += 1;
        }
        assertArrayEquals(expected, after, "accounted once, as " + v + " (packets/bytes IPIP, GUE, then drops)");
        if (v.drop() == null || v.drop() == DecapCounters.Drop.INJECT_ERROR) {
            assertArrayEquals(Arrays.copyOfRange(d, v.off(), v.off() + v.len()), injected, "the inner packet");
        } else {
            assertNull(injected, "nothing injected for a drop: " + v.drop());
        }
    }

    private static long[] snapshot() {
        DecapCounters.Drop[] drops = DecapCounters.Drop.values();
        long[] s = new long[4 + drops.length];
        s[0] = COUNTERS.packets(DecapCounters.Encap.IPIP);
        s[1] = COUNTERS.bytes(DecapCounters.Encap.IPIP);
        s[2] = COUNTERS.packets(DecapCounters.Encap.GUE);
        s[3] = COUNTERS.bytes(DecapCounters.Encap.GUE);
        for (DecapCounters.Drop x : drops) {
            s[4 + x.ordinal()] = COUNTERS.drops(x);
        }
        return s;
    }

    // ------------------------------------------------------------------ the reference reading

    /** RFC 2003: the outer IPv4 header (the raw socket gives it whole), from a director; then the inner. */
    static Verdict ipipVerdict(byte[] d) {
        if (d.length < 20 || (d[0] & 0xF0) != 0x40 || (d[0] & 0x0F) < 5 || (d[0] & 0x0F) * 4 > d.length) {
            return new Verdict(DecapCounters.Drop.MALFORMED, 0, 0);
        }
        int src = Bytes.be32(d, 12);
        if (src != DIRECTOR1 && src != DIRECTOR2) {
            return new Verdict(DecapCounters.Drop.NOT_DIRECTOR, 0, 0);
        }
        return inner(d, (d[0] & 0x0F) * 4);
    }

    /**
     * draft-ietf-intarea-gue: from a director; version 1 is the bare IP packet (IPv4 only here);
     * version 0 has 4 bytes plus hlen words of header, C set for a control message, proto_ctype the
     * inner protocol (IPIP only here); versions 2 and 3 do not exist.
     */
    static Verdict gueVerdict(byte[] d, int src) {
        if (src != DIRECTOR1 && src != DIRECTOR2) {
            return new Verdict(DecapCounters.Drop.NOT_DIRECTOR, 0, 0);
        }
        if (d.length < 4) {
            return new Verdict(DecapCounters.Drop.MALFORMED, 0, 0);
        }
        int version = (d[0] & 0xFF) >> 6;
        if (version == 1) {
            return (d[0] & 0xF0) == 0x40 ? inner(d, 0) : new Verdict(DecapCounters.Drop.GUE_UNSUPPORTED, 0, 0);
        }
        if (version != 0) {
            return new Verdict(DecapCounters.Drop.GUE_UNSUPPORTED, 0, 0);
        }
        if ((d[0] & 0x20) != 0) {
            return new Verdict(DecapCounters.Drop.GUE_CONTROL, 0, 0);
        }
        if ((d[1] & 0xFF) != IPPROTO_IPIP) {
            return new Verdict(DecapCounters.Drop.GUE_UNSUPPORTED, 0, 0);
        }
        int off = 4 + (d[0] & 0x1F) * 4;
        return off > d.length ? new Verdict(DecapCounters.Drop.MALFORMED, 0, 0) : inner(d, off);
    }

    /** The inner IPv4 packet at off: a whole header, a total length inside what arrived, to a VIP. */
    static Verdict inner(byte[] d, int off) {
        int len = d.length - off;
        if (len < 20 || (d[off] & 0xF0) != 0x40) {
            return new Verdict(DecapCounters.Drop.MALFORMED, 0, 0);
        }
        int ihl = (d[off] & 0x0F) * 4;
        int total = (d[off + 2] & 0xFF) << 8 | d[off + 3] & 0xFF;
        if (ihl < 20 || total < ihl || total > len) {
            return new Verdict(DecapCounters.Drop.MALFORMED, 0, 0);
        }
        int dst = Bytes.be32(d, off + 16);
        if (dst != VIP1 && dst != VIP2) {
            return new Verdict(DecapCounters.Drop.NOT_VIP, 0, 0);
        }
        return new Verdict(null, off, total);
    }

    // ------------------------------------------------------------------ shaping

    /** An encapsulated packet as a director (or an impostor) would send it, lengths mostly right. */
    static byte[] shaped(FuzzedDataProvider data, boolean gue, int src) {
        int innerIhl = data.consumeBoolean() ? 20 : data.consumeInt(0, 15) * 4;
        byte[] payload = data.consumeBytes(data.consumeInt(0, 1500));
        int innerTotal = Math.max(innerIhl, 20) + payload.length;
        byte[] in = new byte[innerTotal];
        in[0] = (byte) (0x40 | innerIhl / 4);
        int statedTotal = data.consumeBoolean() ? innerTotal : data.consumeInt(0, 0xFFFF);
        Bytes.put16(in, 2, statedTotal);
        in[9] = (byte) (data.consumeBoolean() ? 6 : 17);
        Bytes.put32(in, 12, data.consumeInt());
        Bytes.put32(in, 16, data.consumeBoolean() ? (data.consumeBoolean() ? VIP1 : VIP2) : data.consumeInt());
        System.arraycopy(payload, 0, in, innerTotal - payload.length, payload.length);
        byte[] head;
        if (gue) {
            if (data.consumeInt(0, 3) == 0) {
                return in;   // GUE version 1: the inner packet itself
            }
            int hlen = data.consumeBoolean() ? 0 : data.consumeInt(0, 31);
            head = new byte[4 + hlen * 4];
            head[0] = (byte) (data.consumeBoolean() ? hlen : data.consumeInt(0, 255));
            head[1] = (byte) (data.consumeBoolean() ? IPPROTO_IPIP : data.consumeInt(0, 255));
        } else {
            int ihl = data.consumeBoolean() ? 5 : data.consumeInt(0, 15);
            head = new byte[Math.max(ihl, 5) * 4];
            head[0] = (byte) (0x40 | ihl);
            Bytes.put16(head, 2, head.length + in.length);
            head[8] = 64;
            head[9] = IPPROTO_IPIP;
            Bytes.put32(head, 12, src);
            Bytes.put32(head, 16, 0x0a00_020b);
        }
        byte[] d = new byte[Math.min(Decapsulator.BUF, head.length + in.length)];
        System.arraycopy(head, 0, d, 0, head.length);
        System.arraycopy(in, 0, d, head.length, d.length - head.length);
        int cut = data.consumeInt(0, 7);
        return cut == 0 ? Arrays.copyOf(d, data.consumeInt(0, d.length)) : d;
    }

    /** Big-endian fields of a byte array (the test's own, not io.jvs.packet's). */
    static final class Bytes {
        static int be32(byte[] b, int off) {
            return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | b[off + 3] & 0xFF;
        }

        static void put16(byte[] b, int off, int v) {
            b[off] = (byte) (v >>> 8);
            b[off + 1] = (byte) v;
        }

        static void put32(byte[] b, int off, int v) {
            put16(b, off, v >>> 16);
            put16(b, off + 2, v);
        }
    }
}
