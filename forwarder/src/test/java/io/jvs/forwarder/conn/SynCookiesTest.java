package io.jvs.forwarder.conn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SYN cookies against values worked out by hand (and checked with an independent Python
 * implementation of the same formula, SplitMix64's finaliser as the hash), not by this class.
 */
class SynCookiesTest {
    static final long K0 = 0xC00C1E01L;
    static final long K1 = 0xC00C1E02L;
    static final int CLIENT = 0x0a00_0102; // 10.0.1.2
    static final int VIP = 0x0a00_0064;    // 10.0.0.100
    static final long NOW = 1_700_000_000_000L;
    /** NOW / 60000 = 28,333,333 = 0x1B05515. */
    static final int COUNT = 0x1B0_5515;
    /** MSS 1460 (index 3) << 12 | wscale 7 << 16 | TS bit 20 | SACK bit 21. */
    static final int DATA = 0x37_3000;

    final SynCookies cookies = new SynCookies(K0, K1);

    @Test
    void dataFieldIsDpvsLayout() {
        assertEquals(COUNT, SynCookies.count(NOW));
        assertEquals(DATA, SynCookies.encode(1460, 7, true, true));
        assertEquals(0x0F_0000, SynCookies.encode(0, -1, false, false), "no options: MSS 536 (index 0), no wscale (15)");
        assertEquals(1 << 12 | 15 << 16, SynCookies.encode(1400, -1, false, false), "1400 rounds down to 1300");
        assertEquals(1460, SynCookies.mss(DATA));
        assertEquals(7, SynCookies.wscale(DATA));
        assertEquals(-1, SynCookies.wscale(0x0F_0000));
        assertTrue(SynCookies.timestamps(DATA));
        assertTrue(SynCookies.sack(DATA));
        assertFalse(SynCookies.sack(0x0F_0000));
    }

    @Test
    void cookieIsTheHandComputedValue() {
        // H0(tuple) = 0xE03FF451, H1(tuple, COUNT) = 0xC73D45EC; client ISN 0x70000000:
        // 0xE03FF451 + 0x70000000 + (COUNT << 24 = 0x15000000) = 0x653FF451 (mod 2^32)
        // (0xC73D45EC + 0x373000) & 0xFFFFFF = 0x7475EC;  0x653FF451 + 0x7475EC = 0x65B46A3D
        assertEquals(0xE03F_F451, SynCookies.hash(CLIENT, VIP, 40000, 80, 0, K0));
        assertEquals(0xC73D_45EC, SynCookies.hash(CLIENT, VIP, 40000, 80, COUNT, K1));
        assertEquals(0x65B4_6A3D, cookies.cookie(CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT, DATA));
        // Two minutes earlier: 0x63D96EC6 (Python); no options from 192.168.0.1:1234: 0xA157FFD6.
        assertEquals(0x63D9_6EC6, cookies.cookie(CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT - 2, DATA));
        assertEquals(0xA157_FFD6, cookies.cookie(0xC0A8_0001, VIP, 1234, 80, 0x1234_5678, COUNT, 0x0F_0000));
    }

    @Test
    void checkGivesTheDataBackWithinTwoMinutesOnly() {
        int c = 0x65B4_6A3D;
        assertEquals(DATA, cookies.check(c, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT));
        assertEquals(DATA, cookies.check(c, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT + 1), "the next minute");
        assertEquals(-1, cookies.check(c, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT + 2), "two minutes on: stale");
        assertEquals(-1, cookies.check(0x63D9_6EC6, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT), "made 2 minutes ago");
        assertEquals(-1, cookies.check(c + 1, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT), "off by one");
        assertEquals(-1, cookies.check(c, CLIENT, VIP, 40001, 80, 0x7000_0000, COUNT), "another port");
        assertEquals(-1, cookies.check(c, CLIENT + 1, VIP, 40000, 80, 0x7000_0000, COUNT), "another client");
        assertEquals(-1, cookies.check(c, CLIENT, VIP, 40000, 80, 0x7000_0001, COUNT), "another client ISN");
        assertEquals(-1, new SynCookies(K0, K1 + 1).check(c, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT),
                "another director's key");
    }

    static final long CLIENT6_HI = 0x2001_0db8_0001_0000L; // 2001:db8:1::2
    static final long CLIENT6_LO = 2;
    static final long VIP6_HI = 0x2001_0db8_0000_0000L;    // 2001:db8::100
    static final long VIP6_LO = 0x100;

    /**
     * IPv6 cookies: the same layout over a hash of the 128-bit addresses (key, source high, source
     * low, destination high, destination low, then ports and counter, each folded in by SplitMix64's
     * finaliser), worked out with a separate Python implementation of that formula.
     */
    @Test
    void ipv6CookieIsTheHandComputedValue() {
        // H0 = 0xD25BC1E3, H1(COUNT) = 0xDA6B654E; client ISN 0x70000000:
        // 0xD25BC1E3 + 0x70000000 + 0x15000000 = 0x575BC1E3 (mod 2^32)
        // (0xDA6B654E + 0x373000) & 0xFFFFFF = 0xA2954E;  0x575BC1E3 + 0xA2954E = 0x57FE5731
        assertEquals(0xD25B_C1E3, SynCookies.hash6(CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, 0, K0));
        assertEquals(0xDA6B_654E, SynCookies.hash6(CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, COUNT, K1));
        assertEquals(0x57FE_5731, cookies.cookie6(CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, 0x7000_0000,
                COUNT, DATA));
        assertEquals(0x55B9_B187, cookies.cookie6(CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, 0x7000_0000,
                COUNT - 2, DATA), "two minutes earlier (Python)");
        assertEquals(0x3325_A543, cookies.cookie6(CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40001, 80, 0x7000_0000,
                COUNT, DATA), "port 40001 (Python)");
    }

    @Test
    void ipv6CheckGivesTheDataBackForItsOwnTupleWithinTwoMinutesOnly() {
        int c = 0x57FE_5731;
        assertEquals(DATA, cookies.check6(c, CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, 0x7000_0000, COUNT));
        assertEquals(DATA, cookies.check6(c, CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, 0x7000_0000,
                COUNT + 1), "the next minute");
        assertEquals(-1, cookies.check6(c, CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, 0x7000_0000,
                COUNT + 2), "stale");
        assertEquals(-1, cookies.check6(c, CLIENT6_HI, CLIENT6_LO + 1, VIP6_HI, VIP6_LO, 40000, 80, 0x7000_0000,
                COUNT), "another client (low half)");
        assertEquals(-1, cookies.check6(c, CLIENT6_HI ^ 1L << 40, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80,
                0x7000_0000, COUNT), "another client (high half)");
        assertEquals(-1, cookies.check6(c, CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO + 1, 40000, 80, 0x7000_0000,
                COUNT), "another VIP");
        assertEquals(-1, cookies.check6(c + 1, CLIENT6_HI, CLIENT6_LO, VIP6_HI, VIP6_LO, 40000, 80, 0x7000_0000,
                COUNT), "off by one");
        assertEquals(-1, cookies.check(c, (int) CLIENT6_LO, (int) VIP6_LO, 40000, 80, 0x7000_0000, COUNT),
                "not an IPv4 cookie of the addresses' low words");
    }

    /**
     * --synproxy-key: the key is the first 128 bits of the file's SHA-256 (computed with Python's
     * hashlib, not this class), so two directors given the same file accept each other's cookies.
     */
    @Test
    void aSharedSecretGivesEveryDirectorTheSameKey() {
        byte[] secret = "0123456789abcdef0123456789abcdef\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        long[] k = SynCookies.keyFromSecret(secret);
        assertEquals(0x6ed6653dba3d6aeeL, k[0]);
        assertEquals(0x8110c6e23de37f15L, k[1]);
        SynCookies master = new SynCookies(k[0], k[1]);
        long[] k2 = SynCookies.keyFromSecret(secret.clone());
        SynCookies backup = new SynCookies(k2[0], k2[1]);
        int c = master.cookie(CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT, DATA);
        assertEquals(DATA, backup.check(c, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT), "the other director's cookie");
        long[] other = SynCookies.keyFromSecret("another secret of some length".getBytes());
        assertEquals(-1, new SynCookies(other[0], other[1]).check(c, CLIENT, VIP, 40000, 80, 0x7000_0000, COUNT));
        assertEquals("15 bytes; at least 16 needed", org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> SynCookies.keyFromSecret(new byte[15])).getMessage());
    }

    @Test
    void randomAcknowledgementsAlmostNeverPass() {
        // A spoofed ACK guesses a 32-bit number: the expected pass rate is about 2^-23.
        java.util.SplittableRandom r = new java.util.SplittableRandom(42);
        int passed = 0;
        for (int i = 0; i < 1_000_000; i++) {
            if (cookies.check(r.nextInt(), r.nextInt(), VIP, r.nextInt(65536), 80, r.nextInt(), COUNT) >= 0) {
                passed++;
            }
        }
        assertTrue(passed <= 2, "forged cookies accepted: " + passed + " of 1,000,000");
    }
}
