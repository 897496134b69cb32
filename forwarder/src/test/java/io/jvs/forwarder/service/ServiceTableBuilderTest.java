package io.jvs.forwarder.service;

import io.jvs.forwarder.sched.Schedulers;
import io.jvs.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceTableBuilderTest {
    private static final int VIP = Ipv4Address.parse("10.0.0.100");
    private static final int RS1 = Ipv4Address.parse("10.0.0.11");
    private static final int RS2 = Ipv4Address.parse("10.0.0.12");
    private static final int RS3 = Ipv4Address.parse("10.0.0.13");

    private final ServiceTableBuilder builder = new ServiceTableBuilder(TestSchedulers.FACTORY);

    private static ServiceSpec web(String sched, ServiceSpec.Dest... dests) {
        return new ServiceSpec(Protocol.TCP, VIP, 80, sched, List.of(dests));
    }

    private static ServiceSpec.Dest dr(int addr, int weight) {
        return new ServiceSpec.Dest(addr, 80, weight, ForwardMethod.DR);
    }

    @Test
    void buildsServicesWithDestinationsNewestFirst() {
        ServiceTable t = builder.build(List.of(web("rr", dr(RS1, 1), dr(RS2, 2), dr(RS3, 3))), ServiceTable.EMPTY);
        VirtualService s = t.lookup(Protocol.TCP, VIP, 80);
        assertEquals("rr", s.schedulerName);
        assertEquals(3, s.dests.length);
        assertEquals(RS3, s.dests[0].addr); // the last -a is the list head
        assertEquals(RS2, s.dests[1].addr);
        assertEquals(RS1, s.dests[2].addr);
        assertEquals(3, s.dests[0].weight);
        assertEquals(ForwardMethod.DR, s.dests[0].method);
        assertTrue(t.isVip(VIP));
    }

    @Test
    void schedulerIsBuiltOverTheSameListOrder() {
        ServiceTable t = builder.build(List.of(web("wrr", dr(RS1, 1), dr(RS2, 1))), ServiceTable.EMPTY);
        VirtualService s = t.lookup(Protocol.TCP, VIP, 80);
        TestSchedulers.FirstAvailable sched = (TestSchedulers.FirstAvailable) s.scheduler;
        assertEquals("wrr", sched.name());
        assertArrayEquals(s.dests, sched.dests());
    }

    @Test
    void lastWeightRemembersTheLatestNonZeroWeightAsTheKernelDoes() {
        // __ip_vs_update_dest: last_weight = weight on add, and on any update to a non-zero weight
        ServiceTable t1 = builder.build(List.of(web("wrr", dr(RS1, 4), dr(RS2, 0))), ServiceTable.EMPTY);
        VirtualService s1 = t1.lookup(Protocol.TCP, VIP, 80);
        assertEquals(0, s1.dest(RS2, 80).lastWeight);  // added with 0
        assertEquals(4, s1.dest(RS1, 80).lastWeight);
        ServiceTable t2 = builder.build(List.of(web("wrr", dr(RS1, 0), dr(RS2, 0), dr(RS3, 0))), t1);
        VirtualService s2 = t2.lookup(Protocol.TCP, VIP, 80);
        assertEquals(4, s2.dest(RS1, 80).lastWeight);  // quiesced: remembers 4
        assertEquals(0, s2.dest(RS1, 80).weight);
        assertEquals(0, s2.dest(RS3, 80).lastWeight);  // new with 0
        ServiceTable t3 = builder.build(List.of(web("wrr", dr(RS1, 7), dr(RS2, 0))), t2);
        assertEquals(7, t3.lookup(Protocol.TCP, VIP, 80).dest(RS1, 80).lastWeight);
        ServiceTable t4 = builder.build(List.of(web("wrr", dr(RS2, 0))), t3);
        ServiceTable t5 = builder.build(List.of(web("wrr", dr(RS1, 0), dr(RS2, 0))), t4);
        assertEquals(0, t5.lookup(Protocol.TCP, VIP, 80).dest(RS1, 80).lastWeight); // removed, re-added with 0
    }

    @Test
    void keepsThresholdsAndMethods() {
        ServiceSpec spec = web("rr", new ServiceSpec.Dest(RS1, 8080, 5, ForwardMethod.NAT, 100, 50));
        RealServer d = builder.build(List.of(spec), ServiceTable.EMPTY).lookup(Protocol.TCP, VIP, 80).dests[0];
        assertEquals(8080, d.port);
        assertEquals(ForwardMethod.NAT, d.method);
        assertEquals(100, d.upperThreshold);
        assertEquals(50, d.lowerThreshold);
    }

    @Test
    void statsSurviveARebuild() {
        ServiceTable first = builder.build(List.of(web("rr", dr(RS1, 1), dr(RS2, 1))), ServiceTable.EMPTY);
        VirtualService s1 = first.lookup(Protocol.TCP, VIP, 80);
        DestStats rs1Stats = s1.dest(RS1, 80).stats;
        DestStats rs2Stats = s1.dest(RS2, 80).stats;
        rs1Stats.connCreated();
        rs1Stats.addActive(1);

        // Reload: RS1's weight changes, RS2 goes, RS3 comes.
        ServiceTable second = builder.build(List.of(web("wrr", dr(RS1, 5), dr(RS3, 1))), first);
        VirtualService s2 = second.lookup(Protocol.TCP, VIP, 80);
        assertSame(s1.stats, s2.stats, "service counters carry over");
        assertSame(rs1Stats, s2.dest(RS1, 80).stats, "real server counters carry over");
        assertEquals(1, s2.dest(RS1, 80).stats.conns());
        assertEquals(1, s2.dest(RS1, 80).stats.activeConns());
        assertEquals(5, s2.dest(RS1, 80).weight);
        assertNull(s2.dest(RS2, 80));
        assertNotSame(rs2Stats, s2.dest(RS3, 80).stats);
        assertEquals(0, s2.dest(RS3, 80).stats.conns());
        assertNotSame(s1.scheduler, s2.scheduler, "a new scheduler per snapshot");
        // The previous table is untouched.
        assertEquals(2, s1.dests.length);
        assertEquals(1, s1.dest(RS1, 80).weight);
    }

    @Test
    void statsAreNotSharedAcrossServicesOrPorts() {
        ServiceSpec http = web("rr", dr(RS1, 1));
        ServiceSpec https = new ServiceSpec(Protocol.TCP, VIP, 443, "rr",
                List.of(new ServiceSpec.Dest(RS1, 443, 1, ForwardMethod.DR)));
        ServiceTable first = builder.build(List.of(http, https), ServiceTable.EMPTY);
        // The same real server under another service, or the same VIP:port over UDP, is a new destination.
        ServiceSpec udp = new ServiceSpec(Protocol.UDP, VIP, 80, "rr", List.of(dr(RS1, 1)));
        ServiceTable second = builder.build(List.of(http, https, udp), first);
        DestStats a = second.lookup(Protocol.TCP, VIP, 80).dest(RS1, 80).stats;
        DestStats b = second.lookup(Protocol.TCP, VIP, 443).dest(RS1, 443).stats;
        DestStats c = second.lookup(Protocol.UDP, VIP, 80).dest(RS1, 80).stats;
        assertNotSame(a, b);
        assertNotSame(a, c);
        assertSame(first.lookup(Protocol.TCP, VIP, 443).dest(RS1, 443).stats, b);
    }

    @Test
    void removedThenReaddedStartsFresh() {
        ServiceTable first = builder.build(List.of(web("rr", dr(RS1, 1))), ServiceTable.EMPTY);
        first.lookup(Protocol.TCP, VIP, 80).dest(RS1, 80).stats.connCreated();
        ServiceTable empty = builder.build(List.of(), first);
        assertTrue(empty.services().isEmpty());
        ServiceTable again = builder.build(List.of(web("rr", dr(RS1, 1))), empty);
        assertEquals(0, again.lookup(Protocol.TCP, VIP, 80).dest(RS1, 80).stats.conns());
    }

    @Test
    void duplicateServiceIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> builder.build(List.of(web("rr"), web("wrr")), ServiceTable.EMPTY));
        assertEquals("TCP 10.0.0.100:80: Service already exists", e.getMessage());
    }

    @Test
    void unknownSchedulerIsRejectedWithTheFactorysMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> builder.build(List.of(web("rrr", dr(RS1, 1))), ServiceTable.EMPTY));
        assertEquals("TCP 10.0.0.100:80: scheduler \"rrr\": Scheduler or persistence engine not found",
                e.getMessage());
    }

    @Test
    void defaultFactoryIsSchedulersCreate() {
        // Until schedulers land, Schedulers.create rejects every name; the
        // default builder must go through it rather than around it.
        ServiceTableBuilder real = new ServiceTableBuilder(Schedulers::create);
        try {
            ServiceTable t = real.build(List.of(web("rr", dr(RS1, 1))), ServiceTable.EMPTY);
            assertEquals("rr", t.lookup(Protocol.TCP, VIP, 80).scheduler.name()); // once "rr" exists
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("Scheduler or persistence engine not found"), e.getMessage());
        }
    }

    @Test
    void failedBuildChangesNothing() {
        ServiceTable first = builder.build(List.of(web("rr", new ServiceSpec.Dest(RS1, 80, 1, ForwardMethod.DR, 10, 0))),
                ServiceTable.EMPTY);
        DestStats st = first.lookup(Protocol.TCP, VIP, 80).dest(RS1, 80).stats;
        st.setOverloaded(true);
        ServiceSpec other = new ServiceSpec(Protocol.UDP, VIP, 53, "bogus");
        assertThrows(IllegalArgumentException.class,
                () -> builder.build(List.of(web("rr", dr(RS1, 1)), other), first));
        assertTrue(st.overloaded(), "a failed build must not touch live state");
    }

    @Test
    void overloadIsClearedWhenTheUpperThresholdGoesOrRises() {
        // As the kernel's __ip_vs_update_dest does; otherwise an idle server stays overloaded for ever.
        ServiceTable t = builder.build(List.of(web("rr", new ServiceSpec.Dest(RS1, 80, 1, ForwardMethod.DR, 10, 0))),
                ServiceTable.EMPTY);
        DestStats st = t.lookup(Protocol.TCP, VIP, 80).dest(RS1, 80).stats;

        st.setOverloaded(true);
        t = builder.build(List.of(web("rr", new ServiceSpec.Dest(RS1, 80, 1, ForwardMethod.DR, 10, 0))), t);
        assertTrue(st.overloaded(), "same threshold: the data path decides");
        t = builder.build(List.of(web("rr", new ServiceSpec.Dest(RS1, 80, 1, ForwardMethod.DR, 5, 0))), t);
        assertTrue(st.overloaded(), "lower threshold: still overloaded");
        t = builder.build(List.of(web("rr", new ServiceSpec.Dest(RS1, 80, 1, ForwardMethod.DR, 20, 0))), t);
        assertFalse(st.overloaded(), "raised threshold clears");
        st.setOverloaded(true);
        builder.build(List.of(web("rr", dr(RS1, 1))), t);
        assertFalse(st.overloaded(), "no threshold clears");
    }
}
