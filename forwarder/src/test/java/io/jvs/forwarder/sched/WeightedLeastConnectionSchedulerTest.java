package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class WeightedLeastConnectionSchedulerTest {

    private static void load(RealServer d, int active, int inactive) {
        d.stats.addActive(active);
        d.stats.addInactive(inactive);
    }

    @Test
    void idleServersTieAndTheFirstInListOrderWins() {
        Dests d = new Dests(1, 1, 1);
        assertSame(d.get('a'), new WeightedLeastConnectionScheduler(d.array()).schedule(1, 1, 0, 0));
    }

    @Test
    void overheadIsActiveTimes256PlusInactive() {
        Dests d = new Dests(1, 1);
        load(d.get('a'), 1, 0);      // overhead 256
        load(d.get('b'), 0, 255);    // overhead 255
        assertSame(d.get('b'), new WeightedLeastConnectionScheduler(d.array()).schedule(1, 1, 0, 0));
        load(d.get('b'), 0, 1);      // 256: tie, the earlier one stays
        assertSame(d.get('a'), new WeightedLeastConnectionScheduler(d.array()).schedule(1, 1, 0, 0));
    }

    @Test
    void overheadIsDividedByWeightByCrossMultiplication() {
        Dests d = new Dests(1, 3);
        load(d.get('a'), 1, 0);      // 256 / 1
        load(d.get('b'), 2, 0);      // 512 / 3 = 170.7: less per weight
        assertSame(d.get('b'), new WeightedLeastConnectionScheduler(d.array()).schedule(1, 1, 0, 0));
        load(d.get('b'), 1, 0);      // 768 / 3 = 256: tie with a, a is earlier
        assertSame(d.get('a'), new WeightedLeastConnectionScheduler(d.array()).schedule(1, 1, 0, 0));
    }

    @Test
    void weightZeroAndOverloadedServersAreSkipped() {
        Dests d = new Dests(0, 1, 1);
        d.get('b').stats.setOverloaded(true);
        load(d.get('c'), 100, 0);
        assertSame(d.get('c'), new WeightedLeastConnectionScheduler(d.array()).schedule(1, 1, 0, 0));
        d.get('c').stats.setOverloaded(true);
        assertNull(new WeightedLeastConnectionScheduler(d.array()).schedule(1, 1, 0, 0));
        assertNull(new WeightedLeastConnectionScheduler(new RealServer[0]).schedule(1, 1, 0, 0));
    }

    @Test
    void isTheDefaultSchedulersName() {
        assertEquals("wlc", Schedulers.create("wlc", new Dests(1).array()).name());
    }
}
