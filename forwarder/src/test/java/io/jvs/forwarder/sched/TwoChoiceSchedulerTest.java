package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * twos against ip_vs_twos.c, with the same random stream. The model draws r1, r2 uniformly from
 * 0..sum(weights) (SplitMix64, written out here independently of the scheduler), finds for each
 * the first available server at which the running weight total reaches it, and keeps the second
 * choice only if its overhead/weight is strictly smaller.
 */
class TwoChoiceSchedulerTest {

    /** SplitMix64, upper 32 bits. */
    static final class Stream {
        private long state;

        Stream(long seed) {
            state = seed;
        }

        long next32() {
            state += 0x9e3779b97f4a7c15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return (z ^ (z >>> 31)) >>> 32;
        }
    }

    static RealServer model(RealServer[] servers, Stream rnd) {
        long sum = 0;
        for (RealServer s : servers) {
            if (s.available()) {
                sum += s.weight;
            }
        }
        if (sum == 0) {
            return null;
        }
        long r1 = rnd.next32() % (sum + 1);
        long r2 = rnd.next32() % (sum + 1);
        RealServer c1 = pick(servers, r1);
        RealServer c2 = pick(servers, r2);
        long oh1 = 256L * c1.stats.activeConns() + c1.stats.inactConns();
        long oh2 = 256L * c2.stats.activeConns() + c2.stats.inactConns();
        // oh2 / w2 < oh1 / w1
        return java.math.BigInteger.valueOf(oh2).multiply(java.math.BigInteger.valueOf(c1.weight))
                .compareTo(java.math.BigInteger.valueOf(oh1).multiply(java.math.BigInteger.valueOf(c2.weight))) < 0 ? c2 : c1;
    }

    /** The first available server whose cumulative weight is >= r. */
    private static RealServer pick(RealServer[] servers, long r) {
        long running = 0;
        for (RealServer s : servers) {
            if (!s.available()) {
                continue;
            }
            running += s.weight;
            if (running >= r) {
                return s;
            }
        }
        throw new AssertionError("r beyond the total");
    }

    @Test
    void matchesTheModelWithTheSameRandomStream() {
        SplittableRandom rnd = new SplittableRandom(43);
        for (int round = 0; round < 1000; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            long seed = rnd.nextLong();
            TwoChoiceScheduler twos = new TwoChoiceScheduler(a, seed);
            Stream stream = new Stream(seed);
            for (int i = 0; i < 20; i++) {
                assertEquals(d.nameOf(model(a, stream)), d.nameOf(twos.schedule(1, 1, 0, 0)), "round " + round + " pick " + i);
            }
        }
    }

    @Test
    void theLessLoadedOfTwoWinsSoLoadEvensOut() {
        // open connections as scheduled and keep them active: the spread follows the weights
        Dests d = new Dests(1, 1, 2);
        TwoChoiceScheduler twos = new TwoChoiceScheduler(d.array(), 1);
        int[] counts = new int[3];
        for (int i = 0; i < 4000; i++) {
            RealServer r = twos.schedule(1, 1, 0, 0);
            r.stats.addActive(1);
            counts[d.nameOf(r) - 'a']++;
        }
        // overhead/weight stays balanced: c ~ 2000, a and b ~ 1000 each
        assertTrue(Math.abs(counts[2] - 2000) < 60, java.util.Arrays.toString(counts));
        assertTrue(Math.abs(counts[0] - 1000) < 60, java.util.Arrays.toString(counts));
    }

    @Test
    void skipsUnavailableServers() {
        Dests d = new Dests(0, 5, 5);
        d.overload('c', true);
        assertEquals("b".repeat(50), d.run(new TwoChoiceScheduler(d.array(), 3), 50));
        d.overload('b', true);
        assertNull(new TwoChoiceScheduler(d.array(), 3).schedule(1, 1, 0, 0));
    }
}
