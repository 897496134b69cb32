package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** lc against ip_vs_lc.c: least activeconns*256 + inactconns, weights only gate (0 = skipped). */
class LeastConnectionSchedulerTest {

    /** Model: scan in list order, keep the first available server whose overhead is strictly smaller. */
    static char model(Dests d, RealServer[] servers) {
        char best = '-';
        long bestOh = Long.MAX_VALUE;
        for (RealServer s : servers) {
            if (s.weight == 0 || s.stats.overloaded()) {
                continue;
            }
            long oh = 256L * s.stats.activeConns() + s.stats.inactConns();
            if (oh < bestOh) {
                bestOh = oh;
                best = d.nameOf(s);
            }
        }
        return best;
    }

    @Test
    void scriptedCounts() {
        Dests d = new Dests(1, 100, 5);
        LeastConnectionScheduler lc = new LeastConnectionScheduler(d.array());
        assertEquals("a", d.run(lc, 1));       // all idle: first in list order
        d.load('a', 1, 0);                      // a 256
        assertEquals("b", d.run(lc, 1));       // b 0, c 0: first
        d.load('b', 0, 300);                    // b 300
        assertEquals("c", d.run(lc, 1));
        d.load('c', 1, 0);                      // c 256 = a 256: a is earlier
        assertEquals("a", d.run(lc, 1));
        d.load('a', 0, 45);                     // a 301 > b 300: weight 100 does not matter
        assertEquals("c", d.run(lc, 1));
        d.overload('c', true);
        assertEquals("b", d.run(lc, 1));
    }

    @Test
    void weightZeroIsSkippedEvenWhenIdle() {
        Dests d = new Dests(0, 1);
        d.load('b', 50, 50);
        assertEquals("bb", d.run(new LeastConnectionScheduler(d.array()), 2));
        assertNull(new LeastConnectionScheduler(new Dests(0, 0).array()).schedule(1, 1, 0, 0));
    }

    @Test
    void matchesTheKernelFormulaOverRandomLoads() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int round = 0; round < 2000; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            assertEquals(model(d, a), d.nameOf(new LeastConnectionScheduler(a).schedule(1, 1, 0, 0)), "round " + round);
        }
    }
}
