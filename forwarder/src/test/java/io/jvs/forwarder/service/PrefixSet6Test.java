package io.jvs.forwarder.service;

import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 prefix lists as the data path looks them up, against a brute-force check of every prefix
 * in BigInteger arithmetic (an independent model), and IPv6 prefixes as the allow/deny options
 * take them.
 */
class PrefixSet6Test {

    static BigInteger big(long hi, long lo) {
        return new BigInteger(1, new byte[] {
                (byte) (hi >>> 56), (byte) (hi >>> 48), (byte) (hi >>> 40), (byte) (hi >>> 32),
                (byte) (hi >>> 24), (byte) (hi >>> 16), (byte) (hi >>> 8), (byte) hi,
                (byte) (lo >>> 56), (byte) (lo >>> 48), (byte) (lo >>> 40), (byte) (lo >>> 32),
                (byte) (lo >>> 24), (byte) (lo >>> 16), (byte) (lo >>> 8), (byte) lo});
    }

    static boolean bruteForce(List<ClientPrefix> ps, long hi, long lo) {
        BigInteger a = big(hi, lo);
        for (ClientPrefix p : ps) {
            int shift = 128 - p.len();
            if (a.shiftRight(shift).equals(big(p.addr6().hi(), p.addr6().lo()).shiftRight(shift))) {
                return true;
            }
        }
        return false;
    }

    static boolean contains(PrefixSet6 s, String a) {
        Ipv6Address x = Ipv6Address.parse(a);
        return s.contains(x.hi(), x.lo());
    }

    @Test
    void edgesOfRangesAcrossBothHalvesAndTheSignBitAndMerging() {
        List<ClientPrefix> ps = List.of(ClientPrefix.parse("2001:db8:1::/64"), ClientPrefix.parse("2001:db8:1::/48"),
                ClientPrefix.parse("2001:db8:2::/48"), ClientPrefix.parse("2001:db8:ffff::7"),
                ClientPrefix.parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), ClientPrefix.parse("8000::/127"),
                ClientPrefix.parse("2001:db8:5:0:8000::/65"));
        PrefixSet6 s = new PrefixSet6(ps);
        assertEquals(5, s.ranges(), "2001:db8:1::/48 holds the /64 and touches 2001:db8:2::/48: one range");
        for (String a : List.of("2001:db8::ffff:ffff:ffff:ffff:ffff", "2001:db8:1::", "2001:db8:2:ffff:ffff:ffff:ffff:ffff",
                "2001:db8:3::", "2001:db8:ffff::6", "2001:db8:ffff::7", "2001:db8:ffff::8", "::",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::", "8000::1", "8000::2",
                "2001:db8:5::7fff:ffff:ffff:ffff", "2001:db8:5:0:8000::", "2001:db8:5::ffff:ffff:ffff:ffff",
                "2001:db8:5:1::")) {
            Ipv6Address x = Ipv6Address.parse(a);
            assertEquals(bruteForce(ps, x.hi(), x.lo()), s.contains(x.hi(), x.lo()), a);
        }
        // hand-checked: in, in, out, out (a /65 splits the low half at its sign bit)
        assertTrue(contains(s, "2001:db8:1:ffff::1"));
        assertTrue(contains(s, "2001:db8:5:0:ffff::"));
        assertFalse(contains(s, "2001:db8:5:0:7fff::"));
        assertFalse(contains(s, "2001:db8:3::1"));
        assertTrue(contains(new PrefixSet6(List.of(ClientPrefix.parse("::/0"))), "8000::"));
        assertFalse(PrefixSet6.EMPTY.contains(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new PrefixSet6(List.of(ClientPrefix.parse("10.0.0.0/8"))));
    }

    @Test
    void randomPrefixesAgreeWithBruteForceAndLookupsAllocateNothing() {
        SplittableRandom r = new SplittableRandom(21);
        List<ClientPrefix> ps = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            int len = 16 + r.nextInt(113);
            // few distinct high parts, so prefixes nest and touch
            long hi = 0x2001_0db8_0000_0000L | (long) r.nextInt(4) << 16 | r.nextInt(3);
            long lo = r.nextInt(2) == 0 ? r.nextLong() : (long) r.nextInt(8) << 61;
            ps.add(ClientPrefix.ipv6(new Ipv6Address(hi, lo).prefix(len), len));
        }
        PrefixSet6 s = new PrefixSet6(ps);
        for (int i = 0; i < 20_000; i++) {
            ClientPrefix p = ps.get(r.nextInt(ps.size()));
            long hi = i % 3 == 0 ? r.nextLong() : p.addr6().hi() + (i % 5 == 0 ? 1 : 0);
            long lo = i % 2 == 0 ? r.nextLong() : p.addr6().lo() + r.nextInt(4) - 1;
            assertEquals(bruteForce(ps, hi, lo), s.contains(hi, lo), new Ipv6Address(hi, lo).toString());
        }
        int hits = 0;
        long before = AllocationProbe.start();
        for (int i = 0; i < 1_000_000; i++) {
            if (s.contains(0x2001_0db8_0000_0000L | (i & 3), i * 0x9E3779B97F4A7C15L)) {
                hits++;
            }
        }
        long allocated = AllocationProbe.since(before);
        assertTrue(allocated < 4096, "lookups allocated " + allocated + " bytes");
        assertTrue(hits >= 0);
    }

    @Test
    void parseTakesIpv6PrefixesAndRefusesWhatIsNotOne() {
        assertEquals("2001:db8:1::/64", ClientPrefix.parse("2001:db8:1::/64").toString());
        assertEquals("2001:db8::5", ClientPrefix.parse("2001:db8::5/128").toString());
        assertEquals("::/0", ClientPrefix.parse("::/0").toString());
        assertEquals(64, ClientPrefix.parse("2001:db8:1::/64").len());
        assertEquals(0x2001_0db8_0001_0000L, ClientPrefix.parse("2001:db8:1::/64").addr6().hi());
        for (String bad : List.of("2001:db8::/", "2001:db8::/129", "2001:db8::/x", "2001:db8:::/64", "2001:db8::/-1",
                "[2001:db8::]/64", "2001:db8::/0064")) {
            assertThrows(IllegalArgumentException.class, () -> ClientPrefix.parse(bad), bad);
        }
        assertEquals("`2001:db8:1::1/64' has host bits set (the network is 2001:db8:1::/64)",
                assertThrows(IllegalArgumentException.class, () -> ClientPrefix.parse("2001:db8:1::1/64")).getMessage());
        assertEquals("`2001:db8::/129': expected an IPv6 ADDR[/LEN] with LEN 0..128",
                assertThrows(IllegalArgumentException.class, () -> ClientPrefix.parse("2001:db8::/129")).getMessage());
    }

    /** A prefix of the other family in a service's lists is refused, naming the service and the prefix. */
    @Test
    void aServiceTakesPrefixesOfItsOwnFamilyOnly() {
        ClientPolicy v6 = new ClientPolicy(List.of(), List.of(ClientPrefix.parse("2001:db8:1::/64")), 0, 0, 0);
        ClientPolicy v4 = new ClientPolicy(List.of(ClientPrefix.parse("10.0.0.0/8")), List.of(), 0, 0, 0);
        ServiceSpec six = ServiceSpec.ipv6(Protocol.TCP, Ipv6Address.parse("2001:db8::100"), 80, "rr", List.of());
        ServiceSpec four = new ServiceSpec(Protocol.TCP, 0x0a00_0064, 80, "rr");
        assertEquals(v6, six.withClientPolicy(v6).clientPolicy());
        assertEquals(v4, four.withClientPolicy(v4).clientPolicy());
        assertEquals("TCP [2001:db8::100]:80: client prefix 10.0.0.0/8 is IPv4, the service IPv6",
                assertThrows(IllegalArgumentException.class, () -> six.withClientPolicy(v4)).getMessage());
        assertEquals("TCP 10.0.0.100:80: client prefix 2001:db8:1::/64 is IPv6, the service IPv4",
                assertThrows(IllegalArgumentException.class, () -> four.withClientPolicy(v6)).getMessage());
    }
}
