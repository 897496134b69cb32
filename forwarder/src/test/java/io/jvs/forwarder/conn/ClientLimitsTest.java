package io.jvs.forwarder.conn;

import io.jvs.forwarder.testkit.AllocationProbe;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-client connection counts and the GCRA token bucket, with their expected values worked out here. */
class ClientLimitsTest {
    static final long SVC = 6L << 48 | 0x0a000064L << 16 | 80;
    static final long MS = 1_000_000L;

    @Test
    void theLimitRefusesExactlyTheExcessAndReleasesGiveRoomBack() {
        ClientLimits l = new ClientLimits(16);
        for (int i = 0; i < 3; i++) {
            assertEquals(ClientLimits.OK, l.acquire(SVC, 7, 3));
        }
        assertEquals(ClientLimits.LIMIT, l.acquire(SVC, 7, 3));
        assertEquals(ClientLimits.OK, l.acquire(SVC, 8, 3), "another client has its own count");
        assertEquals(ClientLimits.OK, l.acquire(SVC + 1, 7, 3), "and so has another service");
        l.release(SVC, 7);
        assertEquals(2, l.count(SVC, 7));
        assertEquals(ClientLimits.OK, l.acquire(SVC, 7, 3));
        for (int i = 0; i < 3; i++) {
            l.release(SVC, 7);
        }
        assertEquals(0, l.count(SVC, 7));
        assertEquals(2, l.clients());
    }

    @Test
    void aFullClientTableRefusesNewClientsButNotKnownOnes() {
        ClientLimits l = new ClientLimits(4);
        for (int c = 0; c < 4; c++) {
            assertEquals(ClientLimits.OK, l.acquire(SVC, c, 10));
        }
        assertEquals(ClientLimits.TABLE_FULL, l.acquire(SVC, 99, 10));
        assertEquals(ClientLimits.OK, l.acquire(SVC, 2, 10));
        l.release(SVC, 0);
        assertEquals(ClientLimits.OK, l.acquire(SVC, 99, 10), "a client that left made room");
        // backward-shift deletion keeps every other key findable
        for (int c = 1; c < 4; c++) {
            assertEquals(c == 2 ? 2 : 1, l.count(SVC, c));
        }
    }

    @Test
    void rateAllowsTheBurstThenOnePerInterval() {
        ClientLimits l = new ClientLimits(64);
        long interval = 100 * MS;                 // rate 10/s
        long tolerance = 2 * interval;            // burst 3
        long now = 5_000 * MS;
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            seen.append(l.rateAllows(SVC, 7, interval, tolerance, now) ? 'y' : 'n');
        }
        assertEquals("yyynn", seen.toString(), "a burst of 3 at once");
        assertFalse(l.rateAllows(SVC, 7, interval, tolerance, now + 99 * MS));
        assertTrue(l.rateAllows(SVC, 7, interval, tolerance, now + 100 * MS), "one token back after 100 ms");
        assertFalse(l.rateAllows(SVC, 7, interval, tolerance, now + 150 * MS));
        assertTrue(l.rateAllows(SVC, 8, interval, tolerance, now), "other clients are not affected");
        long later = now + 10_000 * MS;
        for (int i = 0; i < 3; i++) {
            assertTrue(l.rateAllows(SVC, 7, interval, tolerance, later), "idle: the full burst again");
        }
        assertFalse(l.rateAllows(SVC, 7, interval, tolerance, later));
    }

    @Test
    void rateBucketsReplaceIdleOnesFirstAndAllocateNothing() {
        ClientLimits l = new ClientLimits(4);     // one set of four ways
        long interval = 1000 * MS;
        long now = 0;
        assertTrue(l.rateAllows(SVC, 1, interval, 0, now));
        for (int c = 2; c <= 4; c++) {
            assertTrue(l.rateAllows(SVC, c, interval, 0, now + 5_000 * MS));
        }
        // client 1's bucket is the idlest: a fifth client takes it; clients 2..4 keep theirs
        assertTrue(l.rateAllows(SVC, 5, interval, 0, now + 5_000 * MS));
        for (int c = 2; c <= 4; c++) {
            assertFalse(l.rateAllows(SVC, c, interval, 0, now + 5_000 * MS), "client " + c + " still limited");
        }
        long before = AllocationProbe.start();
        for (int i = 0; i < 100_000; i++) {
            l.rateAllows(SVC, i, interval, 0, i);
            l.acquire(SVC, i & 3, Integer.MAX_VALUE);
        }
        long allocated = AllocationProbe.since(before);
        assertTrue(allocated < 4096, "allocated " + allocated + " bytes");
    }

    /**
     * IPv6 clients are keyed by all 128 bits: addresses differing only in the high or only in the
     * low 64 bits count apart; an IPv4 client and the IPv6 address ::a.b.c.d of another service
     * (the key's family bit) too.
     */
    @Test
    void ipv6ClientsCountByTheirWholeAddress() {
        long svc6 = 1L << 57 | SVC;
        ClientLimits l = new ClientLimits(16);
        long hi = 0x2001_0db8_0001_0000L;
        for (int i = 0; i < 3; i++) {
            assertEquals(ClientLimits.OK, l.acquire(svc6, hi, 2, 3));
        }
        assertEquals(ClientLimits.LIMIT, l.acquire(svc6, hi, 2, 3), "the fourth of 2001:db8:1::2");
        assertEquals(ClientLimits.OK, l.acquire(svc6, hi + 1, 2, 3), "2001:db8:1:1::2: other high bits");
        assertEquals(ClientLimits.OK, l.acquire(svc6, hi, 3, 3), "2001:db8:1::3: other low bits");
        assertEquals(ClientLimits.OK, l.acquire(SVC, 2, 3), "IPv4 0.0.0.2 of the IPv4 service");
        assertEquals(ClientLimits.OK, l.acquire(svc6, 0, 2, 3), "::2 of the IPv6 service");
        assertEquals(3, l.count(svc6, hi, 2));
        assertEquals(1, l.count(SVC, 2));
        assertEquals(1, l.count(svc6, 0, 2));
        l.release(svc6, hi, 2);
        assertEquals(ClientLimits.OK, l.acquire(svc6, hi, 2, 3), "a released connection makes room");
        assertEquals(5, l.clients());
        long interval = 100 * MS;
        assertTrue(l.rateAllows(svc6, hi, 2, interval, 0, 0));
        assertFalse(l.rateAllows(svc6, hi, 2, interval, 0, 50 * MS), "one per 100 ms");
        assertTrue(l.rateAllows(svc6, hi + 1, 2, interval, 0, 50 * MS), "another client's bucket");
        assertTrue(l.rateAllows(svc6, hi, 2, interval, 0, 100 * MS));
    }
}
