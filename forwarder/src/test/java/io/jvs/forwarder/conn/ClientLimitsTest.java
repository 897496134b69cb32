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
}
