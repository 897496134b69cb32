package io.jvs.forwarder.sched;

import io.jvs.forwarder.testkit.AllocationProbe;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * rr against ip_vs_rr.c. The cursor starts at the list head; each pick walks forward from the
 * server after the cursor, skipping weight-0 and overloaded servers, wrapping once.
 */
class RoundRobinSchedulerTest {

    @Test
    void cyclesInListOrderFromTheHead() {
        // list a,b,c: head -> a, then b, c, wrap to a.
        Dests d = new Dests(1, 1, 1);
        assertEquals("abcabcabc", d.run(new RoundRobinScheduler(d.array()), 9));
    }

    @Test
    void ignoresWeightsOtherThanZero() {
        // rr only tests weight > 0: 5,1,3 still alternate a,b,c.
        Dests d = new Dests(5, 1, 3);
        assertEquals("abcabc", d.run(new RoundRobinScheduler(d.array()), 6));
    }

    @Test
    void kernelListIsNewestFirst() {
        // ipvsadm -a a, then b, then c: the kernel list_add()s at the head, so the list is c,b,a
        // and rr starts with c, the most recently added server.
        Dests d = new Dests("cba", 1, 1, 1);
        assertEquals("cbacba", d.run(new RoundRobinScheduler(d.array()), 6));
    }

    @Test
    void weightZeroIsNeverChosen() {
        // b is quiesced (weight 0): a, skip b, c, wrap.
        Dests d = new Dests(1, 0, 1);
        assertEquals("acacac", d.run(new RoundRobinScheduler(d.array()), 6));
    }

    @Test
    void overloadedIsSkippedAndTakenBackWhenCleared() {
        Dests d = new Dests(1, 1, 1);
        RoundRobinScheduler rr = new RoundRobinScheduler(d.array());
        assertEquals("a", d.run(rr, 1));
        d.overload('b', true);
        // cursor a: b overloaded -> c; then a; then c
        assertEquals("cac", d.run(rr, 3));
        d.overload('b', false);
        // cursor c: wrap to a, then b is back
        assertEquals("abc", d.run(rr, 3));
    }

    @Test
    void noneAvailableGivesNullAndKeepsTheCursor() {
        Dests d = new Dests(1, 1, 1);
        RoundRobinScheduler rr = new RoundRobinScheduler(d.array());
        assertEquals("ab", d.run(rr, 2));
        d.overload('a', true);
        d.overload('b', true);
        d.overload('c', true);
        assertEquals("---", d.run(rr, 3));
        d.overload('a', false);
        d.overload('b', false);
        d.overload('c', false);
        // the cursor stayed at b: next is c
        assertEquals("cab", d.run(rr, 3));
    }

    @Test
    void allZeroOrEmptyGivesNull() {
        Dests zero = new Dests(0, 0);
        assertEquals("--", zero.run(new RoundRobinScheduler(zero.array()), 2));
        assertNull(new RoundRobinScheduler(new io.jvs.forwarder.service.RealServer[0]).schedule(1, 2, 0, 0));
    }

    @Test
    void secondPassReachesServersBeforeTheCursorAndTheCursorItself() {
        Dests d = new Dests(1, 1, 1);
        RoundRobinScheduler rr = new RoundRobinScheduler(d.array());
        assertEquals("ab", d.run(rr, 2)); // cursor at b
        d.overload('c', true);
        // from b: c overloaded, end of list, second pass from the head finds a
        assertEquals("a", d.run(rr, 1)); // cursor at a
        d.overload('b', true);
        // from a: b, c overloaded; second pass: a itself (the kernel re-checks 'last')
        assertEquals("aa", d.run(rr, 2));
    }

    @Test
    void newInstanceStartsFromTheHead() {
        // a new snapshot = a new scheduler: no cursor carried over
        Dests d = new Dests(1, 1, 1);
        RoundRobinScheduler first = new RoundRobinScheduler(d.array());
        assertEquals("ab", d.run(first, 2));
        assertEquals("abc", d.run(new RoundRobinScheduler(d.array()), 3));
    }

    @Test
    void matchesTheModelOverRandomServerSets() {
        // Model: the available servers in list order, cycled from the head; rr ignores weights
        // other than 0 and connection counts.
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(53);
        for (int round = 0; round < 500; round++) {
            Dests d = Dests.randomLoads(rnd);
            io.jvs.forwarder.service.RealServer[] a = d.array();
            StringBuilder cycle = new StringBuilder();
            for (io.jvs.forwarder.service.RealServer s : a) {
                if (s.available()) {
                    cycle.append(d.nameOf(s));
                }
            }
            String expected = cycle.isEmpty() ? "-" : cycle.toString();
            assertEquals(expected.repeat(3), d.run(new RoundRobinScheduler(a), expected.length() * 3),
                    "round " + round);
        }
    }

    @Test
    void scheduleDoesNotAllocate() {
        Dests d = new Dests(1, 0, 1, 1);
        d.overload('c', true);
        RoundRobinScheduler rr = new RoundRobinScheduler(d.array());
        for (int i = 0; i < 20_000; i++) {
            rr.schedule(i, i, 0, 0);
        }
        long before = AllocationProbe.start();
        int hits = 0;
        for (int i = 0; i < 100_000; i++) {
            if (rr.schedule(i, i, 0, 0) != null) {
                hits++;
            }
        }
        long allocated = AllocationProbe.since(before);
        assertEquals(100_000, hits);
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes in 100k schedule() calls");
    }
}
