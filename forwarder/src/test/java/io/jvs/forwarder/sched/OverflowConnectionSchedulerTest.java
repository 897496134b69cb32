package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** ovf against ip_vs_ovf.c: the highest weight among available servers with activeconns <= weight. */
class OverflowConnectionSchedulerTest {

    static char model(Dests d, RealServer[] servers) {
        int max = 0;
        for (RealServer s : servers) {
            if (s.available() && s.stats.activeConns() <= s.weight) {
                max = Math.max(max, s.weight);
            }
        }
        for (RealServer s : servers) {
            if (max > 0 && s.available() && s.stats.activeConns() <= s.weight && s.weight == max) {
                return d.nameOf(s);
            }
        }
        return '-';
    }

    @Test
    void overflowsWhenActiveConnectionsExceedTheWeight() {
        Dests d = new Dests(2, 3, 1);
        OverflowConnectionScheduler ovf = new OverflowConnectionScheduler(d.array());
        // connections opened as scheduled, all staying active: b takes 4 (0..3 active <= 3),
        // then a takes 3 (0..2 <= 2), then c takes 2, then nothing
        StringBuilder seq = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            RealServer r = ovf.schedule(1, 1, 0, 0);
            seq.append(d.nameOf(r));
            if (r != null) {
                r.stats.addActive(1);
            }
        }
        assertEquals("bbbbaaacc-", seq.toString());
        d.load('a', -3, 3);                     // a's connections go inactive: not counted
        assertEquals("a", d.run(ovf, 1));
    }

    @Test
    void deterministicOverRandomWeightSets() {
        SplittableRandom rnd = new SplittableRandom(19);
        for (int round = 0; round < 2000; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            // half the rounds with small active counts so that "active <= weight" varies
            if (rnd.nextBoolean()) {
                for (RealServer s : a) {
                    s.stats.addActive(-s.stats.activeConns() + rnd.nextInt(Math.max(1, s.weight + 2)));
                }
            }
            char expected = model(d, a);
            assertEquals(String.valueOf(expected).repeat(3), d.run(new OverflowConnectionScheduler(a), 3),
                    "round " + round);
        }
    }
}
