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
 * The agent's userspace LVS-TUN decapsulation ({@link Decapsulator#raw4} on what the raw IPIP socket
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
    static final int IPPROTO_IPV6 = 41;

    /** What the injector was handed last (null: nothing), and the length it reports as written. */
    private static byte[] injected;
    private static long writeResult = -2;   // -2: all of it

    private static final DecapCounters COUNTERS = new DecapCounters();
    private static final int ENCAPS = DecapCounters.Encap.values().length;
    private static final Decapsulator DECAP = new Decapsulator(List.of(DIRECTOR1, DIRECTOR2), List.of(), List.of(VIP1, VIP2), List.of(),
            COUNTERS, (packet, len) -> {
                injected = packet.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
                return writeResult == -2 ? len : writeResult;
            });

    /** A verdict: a drop reason, or the inner packet at [off, off + len) of the datagram. */
    record Verdict(DecapCounters.Drop drop, DecapCounters.Encap encap, int off, int len) {
        Verdict(DecapCounters.Drop drop) {
            this(drop, null, 0, 0);
        }
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
            DECAP.peer4(src);
            DECAP.gue(d.length, false);
        } else {
            DECAP.raw4(d.length);
        }
        long[] after = snapshot();

        Verdict v = gue ? gueVerdict(d, src) : ipipVerdict(d);
        if (v.drop() == null && writeResult != -2 && writeResult != v.len()) {
            v = new Verdict(DecapCounters.Drop.INJECT_ERROR, v.encap(), v.off(), v.len());
        }
        long[] expected = before.clone();
        if (v.drop() == null) {
            expected[v.encap().ordinal() * 2] += 1;
            expected[v.encap().ordinal() * 2 + 1] += v.len();
        } else {
            expected[ENCAPS * 2 + v.drop().ordinal()] += 1;
        }
        assertArrayEquals(expected, after, "accounted once, as " + v + " (packets/bytes per encapsulation, then drops)");
        if (v.drop() == null || v.drop() == DecapCounters.Drop.INJECT_ERROR) {
            assertArrayEquals(Arrays.copyOfRange(d, v.off(), v.off() + v.len()), injected, "the inner packet");
        } else {
            assertNull(injected, "nothing injected for a drop: " + v.drop());
        }
    }

    private static long[] snapshot() {
        DecapCounters.Drop[] drops = DecapCounters.Drop.values();
        long[] s = new long[ENCAPS * 2 + drops.length];
        for (DecapCounters.Encap e : DecapCounters.Encap.values()) {
            s[e.ordinal() * 2] = COUNTERS.packets(e);
            s[e.ordinal() * 2 + 1] = COUNTERS.bytes(e);
        }
        for (DecapCounters.Drop x : drops) {
            s[ENCAPS * 2 + x.ordinal()] = COUNTERS.drops(x);
        }
        return s;
    }

    // ------------------------------------------------------------------ the reference reading

    /**
     * RFC 2003 / RFC 4213: the outer IPv4 header (the raw socket gives it whole), from a director; protocol
     * 4 carries IPv4 (IPIP), 41 IPv6 (SIT); the inner packet must be of that version.
     */
    static Verdict ipipVerdict(byte[] d) {
        if (d.length < 20 || (d[0] & 0xF0) != 0x40 || (d[0] & 0x0F) < 5 || (d[0] & 0x0F) * 4 > d.length) {
            return new Verdict(DecapCounters.Drop.MALFORMED);
        }
        int src = Bytes.be32(d, 12);
        if (src != DIRECTOR1 && src != DIRECTOR2) {
            return new Verdict(DecapCounters.Drop.NOT_DIRECTOR);
        }
        int proto = d[9] & 0xFF;
        if (proto == IPPROTO_IPIP) {
            return inner(d, (d[0] & 0x0F) * 4, 4, DecapCounters.Encap.IPIP);
        }
        if (proto == IPPROTO_IPV6) {
            return inner(d, (d[0] & 0x0F) * 4, 6, DecapCounters.Encap.SIT);
        }
        return new Verdict(DecapCounters.Drop.MALFORMED);
    }

    /**
     * draft-ietf-intarea-gue: from a director; version 1 is the bare IP packet (its first nibble 4 or 6);
     * version 0 has 4 bytes plus hlen words of header, C set for a control message, proto_ctype the
     * inner protocol (4 IPv4, 41 IPv6); versions 2 and 3 do not exist.
     */
    static Verdict gueVerdict(byte[] d, int src) {
        if (src != DIRECTOR1 && src != DIRECTOR2) {
            return new Verdict(DecapCounters.Drop.NOT_DIRECTOR);
        }
        if (d.length < 4) {
            return new Verdict(DecapCounters.Drop.MALFORMED);
        }
        int version = (d[0] & 0xFF) >> 6;
        if (version == 1) {
            int nibble = (d[0] & 0xF0) >> 4;
            return nibble == 4 || nibble == 6 ? inner(d, 0, nibble, DecapCounters.Encap.GUE)
                    : new Verdict(DecapCounters.Drop.GUE_UNSUPPORTED);
        }
        if (version != 0) {
            return new Verdict(DecapCounters.Drop.GUE_UNSUPPORTED);
        }
        if ((d[0] & 0x20) != 0) {
            return new Verdict(DecapCounters.Drop.GUE_CONTROL);
        }
        int proto = d[1] & 0xFF;
        if (proto != IPPROTO_IPIP && proto != IPPROTO_IPV6) {
            return new Verdict(DecapCounters.Drop.GUE_UNSUPPORTED);
        }
        int off = 4 + (d[0] & 0x1F) * 4;
        return off > d.length ? new Verdict(DecapCounters.Drop.MALFORMED)
                : inner(d, off, proto == IPPROTO_IPIP ? 4 : 6, DecapCounters.Encap.GUE);
    }

    /**
     * The inner packet at off, of IP version {@code version}: IPv4 with a whole header and a total
     * length inside what arrived, to a VIP; IPv6 with its 40 bytes and payload inside what arrived,
     * to an IPv6 VIP (this decapsulator has none, so every IPv6 packet that parses is NOT_VIP).
     */
    static Verdict inner(byte[] d, int off, int version, DecapCounters.Encap encap) {
        int len = d.length - off;
        if (len < 1 || (d[off] & 0xF0) >> 4 != version) {
            return new Verdict(DecapCounters.Drop.MALFORMED);
        }
        if (version == 6) {
            if (len < 40) {
                return new Verdict(DecapCounters.Drop.MALFORMED);
            }
            int total = 40 + ((d[off + 4] & 0xFF) << 8 | d[off + 5] & 0xFF);
            return new Verdict(total > len ? DecapCounters.Drop.MALFORMED : DecapCounters.Drop.NOT_VIP);
        }
        if (len < 20) {
            return new Verdict(DecapCounters.Drop.MALFORMED);
        }
        int ihl = (d[off] & 0x0F) * 4;
        int total = (d[off + 2] & 0xFF) << 8 | d[off + 3] & 0xFF;
        if (ihl < 20 || total < ihl || total > len) {
            return new Verdict(DecapCounters.Drop.MALFORMED);
        }
        int dst = Bytes.be32(d, off + 16);
        if (dst != VIP1 && dst != VIP2) {
            return new Verdict(DecapCounters.Drop.NOT_VIP);
        }
        return new Verdict(null, encap, off, total);
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
