package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SchedulersTest {
    private final RealServer[] dests = new Dests(1, 2).array();

    @Test
    void createsByIpvsadmName() {
        assertInstanceOf(RoundRobinScheduler.class, Schedulers.create("rr", dests));
        assertInstanceOf(WeightedRoundRobinScheduler.class, Schedulers.create("wrr", dests));
        assertEquals("rr", Schedulers.create("rr", dests).name());
        assertEquals("wrr", Schedulers.create("wrr", dests).name());
    }

    @Test
    void eachCallIsANewInstance() {
        assertNotSame(Schedulers.create("wrr", dests), Schedulers.create("wrr", dests));
    }

    @Test
    void unknownNamesKeepThrowing() {
        for (String name : new String[] {"nope", "RR", "", " rr"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Schedulers.create(name, dests));
            assertEquals("Scheduler or persistence engine not found", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Schedulers.create(null, dests));
    }
}
