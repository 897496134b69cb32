package io.jvs.forwarder.vrrp;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.testkit.Frames;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The VRRP receive checks on what the fuzzer writes, as the raw socket hands packets over (IPv4
 * header included): {@link VrrpPacket#decode} either returns an advertisement or throws
 * {@link VrrpPacket.Malformed} naming a drop reason in one line, nothing else; what it accepts is
 * valid by an independent reading of the bytes (IPv4, TTL 255 when sent to a multicast group, the expected version, type 1, the
 * addresses and v2's authentication data inside the packet, the checksum by the testkit's own
 * RFC 1071 sum, v3's over the pseudo-header too) and carries the fields the bytes hold;
 * {@link VrrpPacket#check} against an instance refuses only by AUTH, ADDRESS_COUNT or
 * ADVERT_INTERVAL and accepts exactly what matches it. Encoded advertisements (both versions,
 * fuzzed fields, IP options) decode to what was put in and pass their own instance's check, and
 * any single bit flipped in the VRRP message is refused.
 */
class VrrpPacketFuzzTest {
    private static final Set<VrrpPacket.Drop> DECODE_DROPS = Set.of(VrrpPacket.Drop.TRUNCATED, VrrpPacket.Drop.TTL,
            VrrpPacket.Drop.VERSION, VrrpPacket.Drop.TYPE, VrrpPacket.Drop.CHECKSUM);
    private static final Set<VrrpPacket.Drop> CHECK_DROPS = Set.of(VrrpPacket.Drop.AUTH,
            VrrpPacket.Drop.ADDRESS_COUNT, VrrpPacket.Drop.ADVERT_INTERVAL);

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void receive(FuzzedDataProvider data) {
        int expect = data.consumeBoolean() ? 2 : 3;
        if (data.consumeBoolean()) {
            encoded(data, expect);
            return;
        }
        VrrpConfig.Instance inst = instance(expect, data.consumeInt(0, 255), data.consumeInt(1, 4095),
                data.consumeBoolean() ? null : data.consumeAsciiString(8), data.consumeInt(0, 3));
        byte[] p = data.consumeRemainingAsBytes();
        VrrpPacket.Advert a = decode(p, expect);
        if (a != null) {
            checkAgainstBytes(a, p, expect);
            VrrpPacket.Drop d = VrrpPacket.check(a, inst);
            assertTrue(d == null || CHECK_DROPS.contains(d), "check's reasons: " + d);
            assertEquals(matches(a, inst), d == null, "check accepts exactly what matches the instance");
        }
    }

    /** decode's outcome: the advertisement, or null after checking the Malformed it threw. */
    private static VrrpPacket.Advert decode(byte[] p, int expect) {
        try {
            VrrpPacket.Advert a = VrrpPacket.decode(p, p.length, expect);
            assertNotNull(a);
            return a;
        } catch (VrrpPacket.Malformed m) {
            assertNotNull(m.reason());
            assertTrue(DECODE_DROPS.contains(m.reason()), "decode's reasons: " + m.reason());
            assertNotNull(m.getMessage());
            assertFalse(m.getMessage().contains("\n"), "one line: " + m.getMessage());
            return null;
        }
    }

    private static int u8(byte[] p, int o) {
        return p[o] & 0xff;
    }

    private static int u32(byte[] p, int o) {
        return u8(p, o) << 24 | u8(p, o + 1) << 16 | u8(p, o + 2) << 8 | u8(p, o + 3);
    }

    /** What was accepted, read again from the bytes without VrrpPacket's code. */
    private static void checkAgainstBytes(VrrpPacket.Advert a, byte[] p, int expect) {
        assertTrue(p.length >= 20 && u8(p, 0) >> 4 == 4, "IPv4");
        int ihl = (u8(p, 0) & 0xf) * 4;
        int total = u8(p, 2) << 8 | u8(p, 3);
        assertTrue(ihl >= 20 && total <= p.length && total >= ihl + 8, "header and VRRP header inside the packet");
        if (u8(p, 16) >> 4 == 0xe) {
            // RFC 5798 5.1.1.3 for the multicast group; a unicast advert (keepalived's unicast_peer,
            // sent with TTL 64) is taken whatever its TTL, as keepalived takes it
            assertEquals(255, u8(p, 8), "TTL of an advert to a multicast group");
        }
        int o = ihl;
        assertEquals(expect, u8(p, o) >> 4, "version");
        assertEquals(1, u8(p, o) & 0xf, "type");
        int count = u8(p, o + 3);
        assertTrue(total - ihl >= 8 + 4 * count + (expect == 2 ? 8 : 0), "addresses (and auth data) inside");
        int src = u32(p, 12);
        int dst = u32(p, 16);
        int vlen = total - ihl;
        int pseudo = expect == 3 ? (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 112 + vlen : 0;
        assertEquals(0xffff, Frames.sum(p, o, vlen, pseudo), "checksum verifies (testkit's sum)");
        assertEquals(expect, a.version());
        assertEquals(u8(p, o + 1), a.vrid());
        assertEquals(u8(p, o + 2), a.priority());
        assertEquals(count, a.addrs().length);
        for (int i = 0; i < count; i++) {
            assertEquals(u32(p, o + 8 + 4 * i), a.addrs()[i], "address " + i);
        }
        assertEquals(src, a.srcAddr());
        if (expect == 2) {
            assertEquals(u8(p, o + 4), a.authType());
            assertEquals(u8(p, o + 5) * 100, a.advertIntCentis());
            assertArrayEquals(Arrays.copyOfRange(p, o + 8 + 4 * count, o + 16 + 4 * count), a.authData());
        } else {
            assertEquals((u8(p, o + 4) & 0xf) << 8 | u8(p, o + 5), a.advertIntCentis());
        }
        assertEquals(a.vrid(), VrrpPacket.peekVrid(p, p.length), "peekVrid agrees with decode");
    }

    /** keepalived's vrrp_check_packet, read independently: auth (v2), address count, interval (v2). */
    private static boolean matches(VrrpPacket.Advert a, VrrpConfig.Instance c) {
        if (a.version() == 2) {
            if (c.authPass() == null) {
                if (a.authType() != 0) {
                    return false;
                }
            } else {
                byte[] want = Arrays.copyOf(c.authPass().getBytes(StandardCharsets.US_ASCII), 8);
                if (a.authType() != 1 || !Arrays.equals(want, a.authData())) {
                    return false;
                }
            }
            if (a.advertIntCentis() != c.advertIntCentis() / 100 * 100) {
                return false;
            }
        }
        return a.addrs().length == c.addresses().size();
    }

    private static VrrpConfig.Instance instance(int version, int vrid, int intervalCentis, String pass, int addrs) {
        List<VrrpConfig.Address> a = new ArrayList<>();
        for (int i = 0; i < addrs; i++) {
            a.add(new VrrpConfig.Address(0x0a000064 + i, 32, null));
        }
        return new VrrpConfig.Instance("VI_F", "eth0", vrid, 100, intervalCentis, version,
                VrrpConfig.InitialState.BACKUP, false, 0, pass, a, List.of(), List.of(), List.of(), List.of(),
                List.of(), 5000, 5, false, 0, List.of(), "fuzz:1");
    }

    /** An advertisement jvs encodes, in an IPv4 packet with fuzzed options: decodes to itself; any bit flip is refused. */
    private static void encoded(FuzzedDataProvider data, int version) {
        int vrid = data.consumeInt(0, 255);
        int prio = data.consumeInt(0, 255);
        int interval = version == 2 ? 100 * data.consumeInt(0, 255) : data.consumeInt(0, 4095);
        int n = data.consumeInt(0, data.consumeBoolean() ? 255 : 4);
        int[] addrs = new int[n];
        for (int i = 0; i < n; i++) {
            addrs[i] = data.consumeInt();
        }
        String pass = version == 2 && data.consumeBoolean() ? printable(data.consumeAsciiString(8)) : null;
        int src = data.consumeInt();
        int dst = data.consumeBoolean() ? VrrpPacket.MULTICAST_GROUP : data.consumeInt();
        int optWords = data.consumeInt(0, 10);
        byte[] vrrp = VrrpPacket.encode(version, vrid, prio, interval, addrs, pass, src, dst);
        int ihl = 20 + 4 * optWords;
        int total = ihl + vrrp.length;
        byte[] p = new byte[total];
        p[0] = (byte) (0x40 | ihl / 4);
        p[2] = (byte) (total >> 8);
        p[3] = (byte) total;
        p[8] = (byte) 255;
        p[9] = (byte) VrrpPacket.IPPROTO_VRRP;
        VrrpPacket.putInt(p, 12, src);
        VrrpPacket.putInt(p, 16, dst);
        byte[] opts = data.consumeBytes(4 * optWords);
        System.arraycopy(opts, 0, p, 20, opts.length);
        System.arraycopy(vrrp, 0, p, ihl, vrrp.length);
        VrrpPacket.Advert a = decode(p, version);
        if (a == null) {
            fail("an encoded advertisement is refused: v" + version + " count " + n);
        }
        checkAgainstBytes(a, p, version);
        assertEquals(vrid, a.vrid());
        assertEquals(prio, a.priority());
        assertEquals(interval, a.advertIntCentis());
        assertArrayEquals(addrs, a.addrs());
        assertEquals(src, a.srcAddr());
        assertEquals(version == 2 && pass != null ? 1 : 0, a.authType());
        VrrpConfig.Instance own = instance(version, vrid, interval, pass, n);
        assertNull(VrrpPacket.check(a, own), "the advertisement passes its own instance's check");
        int bit = data.consumeInt(0, 8 * vrrp.length - 1);
        p[ihl + bit / 8] ^= (byte) (1 << (bit % 8));
        assertThrows(VrrpPacket.Malformed.class, () -> VrrpPacket.decode(p, p.length, version),
                "bit " + bit + " of the VRRP message flipped");
    }

    /** A password as keepalived.conf can hold one: printable ASCII, at least one character. */
    private static String printable(String s) {
        String t = s.replaceAll("[^\\x21-\\x7e]", "x");
        return t.isEmpty() ? "x" : t;
    }
}
