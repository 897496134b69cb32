package io.jvs.forwarder.sched;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The open-addressing cache behind lblc/lblcr: lookups after any mix of inserts and deletes, GC rules. */
class LocalityCacheTest {
    private static final long MIN = 60 * LocalityCache.SECOND;

    @Test
    void findInsertRemoveAgreeWithAMapUnderChurn() {
        LocalityCache c = new LocalityCache(64, 64, LocalityCache.DEFAULT_EXPIRATION, 0);
        Map<Integer, Integer> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(47);
        for (int step = 0; step < 200_000; step++) {
            int addr = rnd.nextInt(120); // few keys: long probe runs, wrap-around, many collisions
            int slot = c.find(addr);
            assertEquals(model.containsKey(addr), slot >= 0, "step " + step);
            if (slot >= 0) {
                assertEquals((int) model.get(addr), c.dest(c.first(slot)));
                if (rnd.nextBoolean()) {
                    c.remove(slot);
                    model.remove(addr);
                }
            } else {
                int s = c.insert(addr, step);
                if (model.size() < c.capacity()) {
                    assertTrue(s >= 0);
                    c.addMember(s, addr * 7, false, step);
                    model.put(addr, addr * 7);
                } else {
                    assertEquals(-1, s);
                }
            }
            assertEquals(model.size(), c.entries());
        }
    }

    @Test
    void setsKeepNewestFirstAndReturnElementsToThePool() {
        LocalityCache c = new LocalityCache(4, 3, LocalityCache.DEFAULT_EXPIRATION, 0);
        int s = c.insert(1, 0);
        assertTrue(c.addMember(s, 5, false, 10));
        assertTrue(c.addMember(s, 6, true, 20));
        assertTrue(c.addMember(s, 5, true, 30)); // already there: nothing changes
        assertEquals(20, c.lastMod(s));
        assertEquals(2, c.setSize(s));
        assertEquals(6, c.dest(c.first(s)));
        assertEquals(5, c.dest(c.next(c.first(s))));
        assertTrue(c.addMember(s, 7, false, 40));
        assertTrue(!c.addMember(s, 8, false, 50)); // pool of 3 is empty
        c.eraseMember(s, 6, 60);
        assertEquals(60, c.lastMod(s));
        assertEquals(2, c.setSize(s));
        assertTrue(c.addMember(s, 8, false, 70)); // the erased element came back
        c.remove(s);
        int t = c.insert(2, 80);
        assertTrue(c.addMember(t, 1, false, 80) && c.addMember(t, 2, false, 80) && c.addMember(t, 3, false, 80));
    }

    @Test
    void fullCheckEveryThirtiethRunDropsEntriesUnusedForTheExpiration() {
        long hour = 60 * MIN;
        LocalityCache c = new LocalityCache(64, 64, 24 * hour, 0);
        int old = c.insert(1, 0);
        c.addMember(old, 0, false, 0);
        int fresh = c.insert(2, 0);
        c.addMember(fresh, 0, false, 0);
        c.touch(fresh, 20 * hour);
        long now = 25 * hour;
        // runs 1..29 only count (few entries), the 30th is the full check
        for (int run = 1; run < 30; run++) {
            c.maybeCheckExpire(now + run * MIN);
            assertEquals(2, c.entries(), "run " + run);
        }
        c.maybeCheckExpire(now + 29 * MIN + 30 * LocalityCache.SECOND); // not due yet
        assertEquals(2, c.entries());
        c.maybeCheckExpire(now + 30 * MIN);
        assertEquals(1, c.entries());
        assertTrue(c.find(1) < 0);
        assertTrue(c.find(2) >= 0);
    }

    @Test
    void pastMaxSizeEntriesUnusedForSixMinutesAreCollected() {
        LocalityCache c = new LocalityCache(LocalityCache.DEFAULT_SLOTS, LocalityCache.DEFAULT_SLOTS,
                LocalityCache.DEFAULT_EXPIRATION, 0);
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            int s = c.insert(0x0a000000 + i, 0);
            c.addMember(s, 0, false, 0);
        }
        for (int i = 0; i < 100; i++) {
            c.touch(c.find(0x0a000000 + i), 5 * MIN); // recently used: must survive
        }
        c.checkExpire(6 * MIN); // run 1: entries > MAX_SIZE -> goal (20000 - 16384) * 4/3 = 4821
        assertEquals(n - (n - LocalityCache.MAX_SIZE) * 4 / 3, c.entries());
        for (int i = 0; i < 100; i++) {
            assertTrue(c.find(0x0a000000 + i) >= 0);
        }
        c.checkExpire(7 * MIN); // now 15179 <= MAX_SIZE: nothing more
        assertEquals(n - 4821, c.entries());
    }
}
