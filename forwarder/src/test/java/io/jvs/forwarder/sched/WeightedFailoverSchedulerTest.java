package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** fo against ip_vs_fo.c: the highest-weight non-overloaded server, earliest on ties; loads do not matter. */
class WeightedFailoverSchedulerTest {

    static char model(Dests d, RealServer[] servers) {
        int max = 0;
        for (RealServer s : servers) {
            if (!s.stats.overloaded()) {
                max = Math.max(max, s.weight);
            }
        }
        for (RealServer s : servers) {
            if (max > 0 && !s.stats.overloaded() && s.weight == max) {
                return d.nameOf(s);
            }
        }
        return '-';
    }

    @Test
    void failsOverInWeightOrder() {
        Dests d = new Dests(5, 10, 10, 1);
        WeightedFailoverScheduler fo = new WeightedFailoverScheduler(d.array());
        d.load('b', 1000, 1000);
        assertEquals("bbbb", d.run(fo, 4));     // b: highest weight, first of the two 10s, load ignored
        d.overload('b', true);
        assertEquals("cc", d.run(fo, 2));
        d.overload('c', true);
        assertEquals("aa", d.run(fo, 2));
        d.overload('a', true);
        d.overload('d', true);
        assertEquals("--", d.run(fo, 2));
    }

    @Test
    void deterministicOverRandomWeightSets() {
        SplittableRandom rnd = new SplittableRandom(17);
        for (int round = 0; round < 2000; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            char expected = model(d, a);
            assertEquals(String.valueOf(expected).repeat(5), d.run(new WeightedFailoverScheduler(a), 5), "round " + round);
        }
    }
}
