package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** sed against ip_vs_sed.c: least (activeconns + 1) / weight; inactive connections do not count. */
class ShortestExpectedDelaySchedulerTest {

    /** Model: exact rational comparison (BigInteger), first minimum in list order. */
    static char model(Dests d, RealServer[] servers) {
        char best = '-';
        BigInteger bestNum = null;
        BigInteger bestDen = null;
        for (RealServer s : servers) {
            if (s.weight == 0 || s.stats.overloaded()) {
                continue;
            }
            BigInteger num = BigInteger.valueOf(s.stats.activeConns() + 1L);
            BigInteger den = BigInteger.valueOf(s.weight);
            if (bestNum == null || num.multiply(bestDen).compareTo(bestNum.multiply(den)) < 0) {
                best = d.nameOf(s);
                bestNum = num;
                bestDen = den;
            }
        }
        return best;
    }

    @Test
    void scriptedCounts() {
        Dests d = new Dests(1, 3);
        ShortestExpectedDelayScheduler sed = new ShortestExpectedDelayScheduler(d.array());
        // a: 1/1, b: 1/3 -> b
        assertEquals("b", d.run(sed, 1));
        d.load('b', 2, 0);                      // b: 3/3 = a: 1/1 -> a (earlier)
        assertEquals("a", d.run(sed, 1));
        d.load('a', 0, 1000);                   // inactive ignored: still a tie -> a
        assertEquals("a", d.run(sed, 1));
        d.load('a', 1, 0);                      // a: 2/1 > b: 3/3 -> b
        assertEquals("b", d.run(sed, 1));
    }

    @Test
    void matchesTheKernelFormulaOverRandomLoads() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int round = 0; round < 2000; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            assertEquals(model(d, a), d.nameOf(new ShortestExpectedDelayScheduler(a).schedule(1, 1, 0, 0)),
                    "round " + round);
        }
    }
}
