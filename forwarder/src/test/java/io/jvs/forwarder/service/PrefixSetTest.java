package io.jvs.forwarder.service;

import io.jvs.forwarder.testkit.AllocationProbe;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Prefix lists as the data path looks them up, against a brute-force check of every prefix. */
class PrefixSetTest {

    static boolean bruteForce(List<ClientPrefix> ps, int addr) {
        for (ClientPrefix p : ps) {
            int mask = p.len() == 0 ? 0 : -1 << (32 - p.len());
            if ((addr & mask) == p.addr()) {
                return true;
            }
        }
        return false;
    }

    @Test
    void edgesOfRangesAcrossTheSignBitAndMerging() {
        List<ClientPrefix> ps = List.of(ClientPrefix.parse("10.0.0.0/8"), ClientPrefix.parse("10.1.0.0/16"),
                ClientPrefix.parse("11.0.0.0/8"), ClientPrefix.parse("192.168.1.7"),
                ClientPrefix.parse("255.255.255.255"), ClientPrefix.parse("128.0.0.0/31"));
        PrefixSet s = new PrefixSet(ps);
        assertEquals(4, s.ranges(), "10/8, 10.1/16 and 11/8 merge into one range");
        for (String a : List.of("9.255.255.255", "10.0.0.0", "11.255.255.255", "12.0.0.0", "192.168.1.6",
                "192.168.1.7", "192.168.1.8", "255.255.255.254", "255.255.255.255", "127.255.255.255",
                "128.0.0.0", "128.0.0.1", "128.0.0.2", "0.0.0.0")) {
            int addr = io.jvs.packet.Ipv4Address.parse(a);
            assertEquals(bruteForce(ps, addr), s.contains(addr), a);
        }
        assertTrue(new PrefixSet(List.of(ClientPrefix.parse("0.0.0.0/0"))).contains(0x8000_0000));
        assertFalse(PrefixSet.EMPTY.contains(0));
    }

    @Test
    void hundredThousandRandomPrefixesAgreeWithBruteForceAndLookupsAllocateNothing() {
        SplittableRandom r = new SplittableRandom(15);
        List<ClientPrefix> ps = new ArrayList<>();
        for (int i = 0; i < ClientPolicy.MAX_PREFIXES; i++) {
            int len = 8 + r.nextInt(25);
            int mask = -1 << (32 - len);
            ps.add(new ClientPrefix(r.nextInt() & mask, len));
        }
        PrefixSet s = new PrefixSet(ps);
        List<ClientPrefix> sample = ps.subList(0, 2000);
        PrefixSet small = new PrefixSet(sample);
        for (int i = 0; i < 20_000; i++) {
            int addr = i % 2 == 0 ? r.nextInt() : sample.get(r.nextInt(sample.size())).addr() + r.nextInt(4);
            assertEquals(bruteForce(sample, addr), small.contains(addr), Integer.toHexString(addr));
        }
        for (ClientPrefix p : ps.subList(0, 5000)) {
            assertTrue(s.contains(p.addr()));
            assertTrue(s.contains(p.addr() | ~(-1 << (32 - p.len()))), "last address of " + p);
        }
        int hits = 0;
        long before = AllocationProbe.start();
        for (int i = 0; i < 1_000_000; i++) {
            if (s.contains(i * 0x9E3779B1)) {
                hits++;
            }
        }
        long allocated = AllocationProbe.since(before);
        assertTrue(allocated < 4096, "lookups allocated " + allocated + " bytes");
        assertTrue(hits > 0);
    }

    @Test
    void parseRefusesWhatIsNotAPrefix() {
        assertEquals("10.0.0.0/8", ClientPrefix.parse("10.0.0.0/8").toString());
        assertEquals("10.0.0.1", ClientPrefix.parse("10.0.0.1/32").toString());
        for (String bad : List.of("10.0.0.0/", "10.0.0/8", "10.0.0.0/x", "10.0.0.0/33", "10.0.0.0/-1", "", "a.b.c.d")) {
            assertThrows(IllegalArgumentException.class, () -> ClientPrefix.parse(bad), bad);
        }
        assertEquals("`10.0.0.1/8' has host bits set (the network is 10.0.0.0/8)",
                assertThrows(IllegalArgumentException.class, () -> ClientPrefix.parse("10.0.0.1/8")).getMessage());
    }
}
