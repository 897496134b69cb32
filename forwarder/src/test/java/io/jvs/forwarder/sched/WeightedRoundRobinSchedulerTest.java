package io.jvs.forwarder.sched;

import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * wrr against ip_vs_wrr.c. Derivation used in every comment below: di = gcd of the positive
 * weights, the passes run at cw = M, M - di, ..., di (M = max weight; mainline's mw = M - (di - 1)
 * selects the same servers, see the class comment), and each pass walks the list in order
 * picking every non-overloaded server with weight >= cw. One period = sum(w) / di picks.
 */
class WeightedRoundRobinSchedulerTest {

    @Test
    void classicFourThreeTwo() {
        // a=4 b=3 c=2, di=1: cw=4 {a}, cw=3 {a,b}, cw=2 {a,b,c}, cw=1 {a,b,c}
        // -> a | a b | a b c | a b c = "aababcabc" (the LVS documentation's AABABCABC), period 9
        Dests d = new Dests(4, 3, 2);
        assertEquals("aababcabc".repeat(3), d.run(new WeightedRoundRobinScheduler(d.array()), 27));
    }

    @Test
    void classicFourThreeTwoInKernelListOrder() {
        // ipvsadm -a a(-w 4), b(-w 3), c(-w 2): list_add puts the newest first, list = c,b,a.
        // cw=4 {a}, cw=3 {b,a}, cw=2 {c,b,a}, cw=1 {c,b,a} -> "a" "ba" "cba" "cba"
        Dests d = new Dests("cba", 2, 3, 4);
        assertEquals("abacbacba".repeat(3), d.run(new WeightedRoundRobinScheduler(d.array()), 27));
    }

    @Test
    void gcdStepping() {
        // a=100 b=50 c=25: di=25, passes at cw=100,75,50,25 (mainline mw=76: cw=76,51,26,1)
        // -> {a} {a} {a,b} {a,b,c} = "aaababc", period (100+50+25)/25 = 7
        Dests d = new Dests(100, 50, 25);
        WeightedRoundRobinScheduler wrr = new WeightedRoundRobinScheduler(d.array());
        assertEquals(25, wrr.step());
        assertEquals(76, wrr.maxWeight());
        assertEquals("aaababc".repeat(4), d.run(wrr, 28));
    }

    @Test
    void equalWeightsBehaveLikeRoundRobin() {
        // all 7: di=7, a single pass per round at cw=7 -> a b c
        Dests d = new Dests(7, 7, 7);
        assertEquals("abcabc", d.run(new WeightedRoundRobinScheduler(d.array()), 6));
    }

    @Test
    void weightZeroNeverChosenAndIgnoredByGcd() {
        // a=0 b=2 c=4: di=gcd(2,4)=2 (0 is skipped), passes at cw=4 {c}, cw=2 {b,c} -> "cbc"
        Dests d = new Dests(0, 2, 4);
        WeightedRoundRobinScheduler wrr = new WeightedRoundRobinScheduler(d.array());
        assertEquals(2, wrr.step());
        assertEquals("cbc".repeat(5), d.run(wrr, 15));
    }

    @Test
    void allZeroGivesNull() {
        // mw = 0 - (1 - 1) = 0 -> "no destination available"
        Dests d = new Dests(0, 0, 0);
        WeightedRoundRobinScheduler wrr = new WeightedRoundRobinScheduler(d.array());
        assertEquals(0, wrr.maxWeight());
        assertEquals("---", d.run(wrr, 3));
        assertNull(new WeightedRoundRobinScheduler(new RealServer[0]).schedule(0, 0, 0, 0));
    }

    @Test
    void overloadedServerIsSkipped() {
        // a=4 (overloaded) b=3 c=2: cw=4 {}, cw=3 {b}, cw=2 {b,c}, cw=1 {b,c} -> "bbcbc"
        Dests d = new Dests(4, 3, 2);
        d.overload('a', true);
        assertEquals("bbcbc".repeat(3), d.run(new WeightedRoundRobinScheduler(d.array()), 15));
    }

    @Test
    void allOverloadedGivesNullFromHeadAndFromAnyCursor() {
        Dests d = new Dests(4, 3, 2);
        WeightedRoundRobinScheduler wrr = new WeightedRoundRobinScheduler(d.array());
        d.overload('a', true);
        d.overload('b', true);
        d.overload('c', true);
        // from the head: passes cw=4..1 find nothing, cw wraps -> stop ("last" was the head)
        assertEquals("--", d.run(wrr, 2));
        d.overload('a', false);
        d.overload('b', false);
        d.overload('c', false);
        assertEquals("aab", d.run(wrr, 3)); // cursor now at b (cw=3)
        d.overload('a', true);
        d.overload('b', true);
        d.overload('c', true);
        // from b: the kernel's restarted/last_pass/stop bookkeeping ends the search at b
        assertEquals("--", d.run(wrr, 2));
    }

    @Test
    void stopLogicReachesTheCursorServerOnTheLastPass() {
        // a=1 b=2: di=1, cw=2 {b}, cw=1 {a,b} -> "bab"
        Dests d = new Dests(1, 2);
        WeightedRoundRobinScheduler wrr = new WeightedRoundRobinScheduler(d.array());
        assertEquals("bab".repeat(2), d.run(wrr, 6));
        WeightedRoundRobinScheduler fresh = new WeightedRoundRobinScheduler(d.array());
        assertEquals("b", d.run(fresh, 1)); // cursor b, cw=2
        d.overload('b', true);
        // from b: end of list, cw=1 (last pass), from the head a(1>=1) -> a
        // from a: b overloaded, cw wraps to 2 (restarted), a(1<2), cw=1 -> last pass with
        // stop=a, a(1>=1) -> a again: the cursor's own server is still found.
        assertEquals("aaa", d.run(fresh, 3));
        d.overload('a', true);
        assertEquals("-", d.run(fresh, 1));
    }

    @Test
    void weightChangeIsANewInstanceWithANewSequence() {
        Dests before = new Dests(4, 3, 2);
        WeightedRoundRobinScheduler old = new WeightedRoundRobinScheduler(before.array());
        assertEquals("aab", before.run(old, 3));
        // ipvsadm -e a -w 1 -> new snapshot, new scheduler starting at the head with cw = mw:
        // a=1 b=3 c=2: cw=3 {b}, cw=2 {b,c}, cw=1 {a,b,c} -> "bbcabc"
        Dests after = new Dests(1, 3, 2);
        assertEquals("bbcabc".repeat(2), after.run(new WeightedRoundRobinScheduler(after.array()), 12));
    }

    @Test
    void longRunSharesFollowWeights() {
        Dests d = new Dests(5, 3, 2);
        String seq = d.run(new WeightedRoundRobinScheduler(d.array()), 1000);
        assertEquals(500, seq.chars().filter(c -> c == 'a').count());
        assertEquals(300, seq.chars().filter(c -> c == 'b').count());
        assertEquals(200, seq.chars().filter(c -> c == 'c').count());
    }

    @Test
    void matchesTheTextbookModelForRandomWeights() {
        // Independent model: cw runs M, M-di, ..., di; each pass lists, in order, the servers
        // with weight >= cw. Concatenating the passes gives one period; wrr repeats it.
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
        for (int round = 0; round < 300; round++) {
            int n = 1 + rnd.nextInt(6);
            int[] w = new int[n];
            int scale = 1 + rnd.nextInt(5);
            for (int i = 0; i < n; i++) {
                w[i] = rnd.nextInt(4) == 0 ? 0 : scale * (1 + rnd.nextInt(8));
            }
            Dests d = new Dests(w);
            int g = 0;
            int max = 0;
            for (int x : w) {
                if (x > 0) {
                    g = g == 0 ? x : WeightedRoundRobinScheduler.gcd(x, g);
                }
                max = Math.max(max, x);
            }
            StringBuilder period = new StringBuilder();
            for (int cw = max; g > 0 && cw > 0; cw -= g) {
                for (int i = 0; i < n; i++) {
                    if (w[i] >= cw) {
                        period.append((char) ('a' + i));
                    }
                }
            }
            String expected = g == 0 ? "-" : period.toString();
            String actual = d.run(new WeightedRoundRobinScheduler(d.array()), expected.length() * 3);
            assertEquals(expected.repeat(3), actual, "weights " + java.util.Arrays.toString(w));
        }
    }

    @Test
    void scheduleDoesNotAllocate() {
        Dests d = new Dests(100, 0, 50, 25);
        d.overload('c', true);
        WeightedRoundRobinScheduler wrr = new WeightedRoundRobinScheduler(d.array());
        for (int i = 0; i < 20_000; i++) {
            wrr.schedule(i, i, 0, 0);
        }
        long before = AllocationProbe.start();
        int hits = 0;
        for (int i = 0; i < 100_000; i++) {
            if (wrr.schedule(i, i, 0, 0) != null) {
                hits++;
            }
        }
        long allocated = AllocationProbe.since(before);
        assertEquals(100_000, hits);
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes in 100k schedule() calls");
    }
}
