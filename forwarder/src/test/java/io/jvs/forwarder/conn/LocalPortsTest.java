package io.jvs.forwarder.conn;

import io.jvs.forwarder.testkit.AllocationProbe;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalPortsTest {
    /** Cursors start at the low end: the order of ports is predictable. */
    static final java.util.random.RandomGenerator FROM_LOW = () -> 0L;

    static final int LIP1 = 0x0a00_0003;
    static final int LIP2 = 0x0a00_0004;

    @Test
    void handsOutEveryPortOfTheRangeOnceThenRefuses() {
        LocalPorts p = new LocalPorts(1000, 1130);   // spans three 64-bit words
        Set<Integer> got = new HashSet<>();
        for (int i = 0; i < 131; i++) {
            int port = p.allocate(LIP1);
            assertTrue(port >= 1000 && port <= 1130, "in range: " + port);
            assertTrue(got.add(port), "never a port in use: " + port);
        }
        assertEquals(-1, p.allocate(LIP1), "exhausted");
        assertEquals(131, p.inUse(LIP1));
        int other = p.allocate(LIP2);
        assertTrue(other >= 1000 && other <= 1130, "another LIP has its own ports, though LIP1's are all held");
        assertTrue(p.held(LIP2, other));
        assertEquals(1, p.inUse(LIP2));
        assertEquals(132, p.inUse());
    }

    @Test
    void aReleasedPortComesBackOnlyAfterTheOthers() {
        LocalPorts p = new LocalPorts(2000, 2003, FROM_LOW);
        assertEquals(2000, p.allocate(LIP1));
        assertEquals(2001, p.allocate(LIP1));
        p.release(LIP1, 2000);
        assertFalse(p.held(LIP1, 2000));
        assertEquals(2002, p.allocate(LIP1), "round robin: not the port just released");
        assertEquals(2003, p.allocate(LIP1));
        assertEquals(2000, p.allocate(LIP1), "wraps to the freed port");
        assertEquals(-1, p.allocate(LIP1));
    }

    @Test
    void cursorsStartAtRandomSoARestartDoesNotReuseTheSamePortsFirst() {
        Set<Integer> firsts = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            firsts.add(new LocalPorts(1024, 65535).allocate(LIP1));
        }
        assertTrue(firsts.size() > 10, "first ports of 20 fresh allocators: " + firsts);
    }

    /** IPv6 local addresses are whole 128-bit keys: two that share their low or high halves are two LIPs. */
    @Test
    void ipv6LocalAddressesAreKeyedByAll128Bits() {
        long hi = 0x2001_0db8_0000_0000L;
        LocalPorts p = new LocalPorts(2000, 2000, FROM_LOW);
        assertEquals(2000, p.allocate(hi, 3));
        assertEquals(-1, p.allocate(hi, 3), "the one port of 2001:db8::3 is held");
        assertEquals(2000, p.allocate(hi, 4), "2001:db8::4 has its own");
        assertEquals(2000, p.allocate(hi + 1, 3), "2001:db8:0:1::3 too: the high half counts");
        assertEquals(3, p.inUse());
        assertTrue(p.held(hi, 3, 2000));
        p.release(hi, 3, 2000);
        assertEquals(0, p.inUse(hi, 3));
        assertEquals(1, p.inUse(hi, 4));
        assertTrue(p.reserve(hi, 3, 2000), "a released port can be reserved again");
    }

    @Test
    void releasingAPortNotHeldIsABug() {
        LocalPorts p = new LocalPorts(2000, 2003);
        assertThrows(IllegalStateException.class, () -> p.release(LIP1, 2000));
        int held = p.allocate(LIP1); // the cursor starts at random: release a port next to it
        int other = held == 2003 ? 2000 : held + 1;
        assertThrows(IllegalStateException.class, () -> p.release(LIP1, other));
    }

    @Test
    void badRangesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LocalPorts(0, 10));
        assertThrows(IllegalArgumentException.class, () -> new LocalPorts(10, 65536));
        assertThrows(IllegalArgumentException.class, () -> new LocalPorts(20, 10));
    }

    @Test
    void allocationAndReleaseDoNotAllocate() {
        LocalPorts p = new LocalPorts(1024, 65535);
        p.release(LIP1, p.allocate(LIP1)); // the LIP's bitmap: the one allocation, on first use
        Runnable round = () -> {
            for (int i = 0; i < 100_000; i++) {
                int port = p.allocate(LIP1);
                p.release(LIP1, port);
            }
        };
        for (int i = 0; i < 10; i++) {
            round.run();
        }
        long before = AllocationProbe.start();
        for (int i = 0; i < 10; i++) {
            round.run();
        }
        long allocated = AllocationProbe.since(before);
        // A few hundred bytes of JIT/profiling noise at most; one object per call would be megabytes.
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 1M allocate+release pairs");
    }
}
