package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** nq against ip_vs_nq.c: the first idle (activeconns == 0) available server, else the sed pick. */
class NeverQueueSchedulerTest {

    static char model(Dests d, RealServer[] servers) {
        for (RealServer s : servers) {
            if (s.weight > 0 && !s.stats.overloaded() && s.stats.activeConns() == 0) {
                return d.nameOf(s);
            }
        }
        return ShortestExpectedDelaySchedulerTest.model(d, servers);
    }

    @Test
    void anIdleServerBeatsAFasterBusyOne() {
        Dests d = new Dests(100, 1);
        d.load('a', 1, 0);                      // sed would pick a (2/100 < 1/1)
        NeverQueueScheduler nq = new NeverQueueScheduler(d.array());
        assertEquals("b", d.run(nq, 1));        // b is idle
        d.load('b', 1, 0);                      // nobody idle: sed -> a (2/100 < 2/1)
        assertEquals("a", d.run(nq, 1));
        d.load('b', -1, 500);                   // b idle again (inactive conns do not count)
        assertEquals("b", d.run(nq, 1));
        d.overload('b', true);
        assertEquals("a", d.run(nq, 1));
    }

    @Test
    void matchesTheKernelFormulaOverRandomLoads() {
        SplittableRandom rnd = new SplittableRandom(13);
        for (int round = 0; round < 2000; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            assertEquals(model(d, a), d.nameOf(new NeverQueueScheduler(a).schedule(1, 1, 0, 0)), "round " + round);
        }
    }
}
