package io.jvs.bench.micro;

import io.jvs.forwarder.sched.Schedulers;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JMH states measure what they claim: every packet-path variant forwards every frame (a
 * benchmark that silently measured drops would look fast), every scheduler in
 * {@link Schedulers#NAMES} sets up and picks, and the connection table holds 1M live entries
 * through its churn benchmark.
 */
class BenchmarkStatesTest {
    @Test
    void everyPacketPathVariantForwardsEveryFrame() {
        for (String method : new String[] {"DR", "NAT", "NAT_REPLY", "TUN", "FULLNAT"}) {
            PacketPathBenchmark b = new PacketPathBenchmark();
            b.method = method;
            b.setup();   // throws if the SYNs or the first data frames were not forwarded
            long before = b.tx.frames;
            for (int i = 0; i < 10 * PacketPathBenchmark.BURST; i++) {
                b.forward();
            }
            assertEquals(before + 10 * PacketPathBenchmark.BURST, b.tx.frames, method + ": frames forwarded");
            assertEquals(0, b.counters.totalDrops(), method + ": no drops");
            b.tearDown();
        }
    }

    @Test
    void everySchedulerNameIsBenchmarkable() {
        assertTrue(Schedulers.NAMES.containsAll(java.util.List.of("rr", "wrr", "wlc")));
        for (String name : Schedulers.NAMES) {
            for (int servers : new int[] {2, 16, 256}) {
                SchedulerBenchmark b = new SchedulerBenchmark();
                b.scheduler = name;
                b.servers = servers;
                b.setup();
                assertEquals(name, b.s.name());
                for (int i = 0; i < 100; i++) {
                    assertNotNull(b.pick(), name + " with " + servers + " servers");
                }
            }
        }
    }

    @Test
    void connectionTableChurnKeepsOneMillionLive() {
        ConnectionTableBenchmark b = new ConnectionTableBenchmark();
        b.setup();
        assertEquals(ConnectionTableBenchmark.LIVE, b.table.size());
        assertTrue(b.lookupHit() >= 0, "a live key is found");
        assertEquals(-1, b.lookupMiss(), "an absent key is not");
        for (int i = 0; i < 10_000; i++) {
            b.insertRemove();
        }
        assertEquals(ConnectionTableBenchmark.LIVE, b.table.size());
        assertEquals(0, b.expireScan(), "nothing is due");
    }
}
