package io.jvs.forwarder.sched;

import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.service.ServiceSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulersTest {
    private final RealServer[] dests = new Dests(1, 2).array();

    @Test
    void allFourteenIpvsSchedulersInManPageOrder() {
        assertEquals(List.of("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
                "twos"), Schedulers.NAMES);
    }

    @Test
    void createsByIpvsadmName() {
        assertInstanceOf(RoundRobinScheduler.class, Schedulers.create("rr", dests));
        assertInstanceOf(WeightedRoundRobinScheduler.class, Schedulers.create("wrr", dests));
        assertInstanceOf(LeastConnectionScheduler.class, Schedulers.create("lc", dests));
        assertInstanceOf(WeightedLeastConnectionScheduler.class, Schedulers.create("wlc", dests));
        assertInstanceOf(LocalityLeastConnectionScheduler.class, Schedulers.create("lblc", dests));
        assertInstanceOf(LocalityReplicatedLeastConnectionScheduler.class, Schedulers.create("lblcr", dests));
        assertInstanceOf(DestinationHashingScheduler.class, Schedulers.create("dh", dests));
        assertInstanceOf(SourceHashingScheduler.class, Schedulers.create("sh", dests));
        assertInstanceOf(ShortestExpectedDelayScheduler.class, Schedulers.create("sed", dests));
        assertInstanceOf(NeverQueueScheduler.class, Schedulers.create("nq", dests));
        assertInstanceOf(WeightedFailoverScheduler.class, Schedulers.create("fo", dests));
        assertInstanceOf(OverflowConnectionScheduler.class, Schedulers.create("ovf", dests));
        assertInstanceOf(MaglevHashingScheduler.class, Schedulers.create("mh", dests));
        assertInstanceOf(TwoChoiceScheduler.class, Schedulers.create("twos", dests));
        for (String name : Schedulers.NAMES) {
            assertEquals(name, Schedulers.create(name, dests).name());
        }
    }

    @Test
    void everySchedulerAcceptsAnEmptyListAndEverySchedFlag() {
        // The kernel stores IP_VS_SVC_F_SCHED1..3 on any service; schedulers without flags ignore them.
        for (String name : Schedulers.NAMES) {
            assertNull(Schedulers.create(name, ServiceSpec.SCHED_FLAGS, new RealServer[0]).schedule(1, 2, 3, 4), name);
            assertNotNull(Schedulers.create(name, ServiceSpec.SCHED_FLAGS, dests).schedule(1, 2, 3, 4), name);
        }
    }

    @Test
    void eachCallIsANewInstance() {
        assertNotSame(Schedulers.create("wrr", dests), Schedulers.create("wrr", dests));
    }

    @Test
    void unknownNamesKeepThrowing() {
        for (String name : new String[] {"nope", "RR", "", " rr", "lblcr2", "maglev"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Schedulers.create(name, dests));
            assertEquals("Scheduler or persistence engine not found", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Schedulers.create(null, dests));
    }

    @Test
    void mhTableSizeIsChosenPerFactoryAndChecked() {
        SchedulerFactory big = Schedulers.factory(65521);
        assertEquals(65521, ((MaglevHashingScheduler) big.create("mh", 0, dests)).tableSize());
        assertThrows(IllegalArgumentException.class, () -> Schedulers.factory(65536));
        assertEquals(MaglevHashingScheduler.DEFAULT_TABLE_SIZE,
                ((MaglevHashingScheduler) Schedulers.create("mh", dests)).tableSize(), "no factory: the kernel's size");
    }

    @Test
    void noSchedulerAllocatesPerPick() {
        // Steady state for every scheduler and flag combination: weight 0 and overloaded servers in
        // the list, connection counts, and (for lblc/lblcr) a warm cache of 500 destinations.
        Dests d = new Dests(3, 0, 5, 2, 7);
        d.overload('c', true);
        d.load('a', 3, 10);
        d.load('d', 1, 100);
        int[] flagSets = {0, ServiceSpec.SCHED_FLAG_1, ServiceSpec.SCHED_FLAG_2, ServiceSpec.SCHED_FLAGS};
        for (String name : Schedulers.NAMES) {
            for (int flags : flagSets) {
                Scheduler s = Schedulers.create(name, flags, d.array());
                for (int i = 0; i < 30_000; i++) {
                    s.schedule(0x0a000000 + i, 1024 + (i & 0x3fff), 0xc0a80000 + (i % 500), 80);
                }
                // best of three windows: a one-off (JIT, class init) must not count, while any
                // per-pick allocation would cost >= 1.6 MB in every window
                long allocated = Long.MAX_VALUE;
                int hits = 0;
                for (int attempt = 0; attempt < 3; attempt++) {
                    long before = AllocationProbe.start();
                    hits = 0;
                    for (int i = 0; i < 100_000; i++) {
                        if (s.schedule(0x0a000000 + i, 1024 + (i & 0x3fff), 0xc0a80000 + (i % 500), 80) != null) {
                            hits++;
                        }
                    }
                    allocated = Math.min(allocated, AllocationProbe.since(before));
                }
                assertTrue(hits > 0, name);
                assertTrue(allocated < 1024, name + " flags " + flags + " allocated " + allocated
                        + " bytes in 100k schedule() calls");
            }
        }
    }
}
