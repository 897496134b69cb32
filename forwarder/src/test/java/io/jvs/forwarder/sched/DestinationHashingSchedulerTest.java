package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * dh against ip_vs_dh.c. Model: bucket i holds server i mod n (weights do not shape the table);
 * bucket = top 8 bits of daddr * 0x61C88647; an unavailable server gives null (no fallback).
 */
public class DestinationHashingSchedulerTest {

    public static RealServer model(RealServer[] servers, int daddr) {
        if (servers.length == 0) {
            return null;
        }
        int bucket = (int) (((daddr & 0xffffffffL) * 0x61C88647L & 0xffffffffL) >>> 24);
        RealServer s = servers[bucket % servers.length];
        return s.available() ? s : null;
    }

    @Test
    void destinationAddressPicksTheServerAndTheClientDoesNot() {
        Dests d = new Dests(1, 5, 1);
        DestinationHashingScheduler dh = new DestinationHashingScheduler(d.array());
        // 10.0.1.2 -> bucket 82 -> 82 % 3 = 1 -> b; 192.168.0.1 -> 192 % 3 = 0 -> a
        for (int client = 1; client < 50; client++) {
            assertSame(d.get('b'), dh.schedule(client, client, 0x0a000102, 80));
            assertSame(d.get('a'), dh.schedule(client, client, 0xc0a80001, 80));
        }
    }

    @Test
    void unavailableServerGivesNullAndFlagsAreIgnored() {
        Dests d = new Dests(1, 1, 1);
        DestinationHashingScheduler dh = new DestinationHashingScheduler(d.array());
        d.overload('b', true);
        assertNull(dh.schedule(1, 1, 0x0a000102, 80));
        DestinationHashingScheduler flagged = (DestinationHashingScheduler) Schedulers.create("dh",
                ServiceSpec.SCHED_FLAGS, d.array());
        assertNull(flagged.schedule(1, 1, 0x0a000102, 80));
        assertSame(d.get('a'), flagged.schedule(1, 1, 0xc0a80001, 80));
    }

    @Test
    void matchesTheModelOverRandomServerSetsAndDestinations() {
        SplittableRandom rnd = new SplittableRandom(29);
        for (int round = 0; round < 400; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            DestinationHashingScheduler dh = new DestinationHashingScheduler(a);
            for (int i = 0; i < 200; i++) {
                int daddr = rnd.nextInt();
                assertSame(model(a, daddr), dh.schedule(rnd.nextInt(), rnd.nextInt(65536), daddr, 80), "round " + round);
            }
        }
        assertEquals(null, new DestinationHashingScheduler(new RealServer[0]).schedule(1, 1, 1, 1));
    }
}
