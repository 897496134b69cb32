package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sh against ip_vs_sh.c. Model: the 256 buckets are the list cycled with each server repeated
 * max(weight, 1) times; bucket = top 8 bits of (port + addr) * 0x61C88647 (hash_32); with
 * fallback, an unavailable first choice h is followed by buckets (2h + i) mod 256, i = 0..255.
 */
public class SourceHashingSchedulerTest {
    private static final int FLAGS_FALLBACK = SourceHashingScheduler.SH_FALLBACK;
    private static final int FLAGS_PORT = SourceHashingScheduler.SH_PORT;

    public static RealServer[] modelTable(RealServer[] servers) {
        RealServer[] table = new RealServer[256];
        int filled = 0;
        while (servers.length > 0 && filled < 256) {
            for (RealServer s : servers) {
                for (int k = 0; k < Math.max(1, s.weight) && filled < 256; k++) {
                    table[filled++] = s;
                }
            }
        }
        return table;
    }

    static int modelBucket(int addr, int port) {
        long sum = ((addr & 0xffffffffL) + port) & 0xffffffffL;
        return (int) (((sum * 0x61C88647L) & 0xffffffffL) >>> 24);
    }

    public static RealServer model(RealServer[] servers, boolean fallback, boolean usePort, int addr, int port) {
        RealServer[] table = modelTable(servers);
        int h = modelBucket(addr, usePort ? port : 0);
        RealServer first = table[h];
        if (first == null || first.available()) {
            return first;
        }
        if (!fallback) {
            return null;
        }
        for (int i = 0; i < 256; i++) {
            RealServer s = table[(2 * h + i) % 256];
            if (s.available()) {
                return s;
            }
        }
        return null;
    }

    @Test
    void bucketsAreFilledInListOrderByWeight() {
        Dests d = new Dests(2, 1, 0);
        SourceHashingScheduler sh = new SourceHashingScheduler(0, d.array());
        // a a b c | a a b c | ...: weight 0 still takes one bucket
        StringBuilder first8 = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            first8.append(d.nameOf(sh.bucketServer(i)));
        }
        assertEquals("aabcaabc", first8.toString());
    }

    @Test
    void clientAddressPicksTheBucket() {
        Dests d = new Dests(2, 1);
        SourceHashingScheduler sh = new SourceHashingScheduler(0, d.array());
        // 10.0.1.2: hash_32(0x0a000102, 8) = 82; buckets cycle "aab", 82 % 3 = 1 -> a
        assertSame(d.get('a'), sh.schedule(0x0a000102, 40000, 0x0a000064, 80));
        // a client whose bucket (by the model) holds b gets b, whatever its source port
        int client = 0;
        for (int c = 1; c < 1000; c++) {
            if (modelBucket(c, 0) % 3 == 2) {
                client = c;
                break;
            }
        }
        for (int i = 0; i < 5; i++) {
            assertSame(d.get('b'), sh.schedule(client, 1000 + i, 0, 80));
        }
    }

    @Test
    void unavailableBucketGivesNullWithoutFallback() {
        Dests d = new Dests(1, 1);
        SourceHashingScheduler sh = new SourceHashingScheduler(0, d.array());
        int onA = clientOn(sh, d.get('a'), 0, false);
        d.overload('a', true);
        assertNull(sh.schedule(onA, 1, 0, 80));
    }

    @Test
    void fallbackFindsAnotherServerDeterministically() {
        Dests d = new Dests(1, 1, 1);
        RealServer[] a = d.array();
        SourceHashingScheduler sh = new SourceHashingScheduler(FLAGS_FALLBACK, a);
        int onA = clientOn(sh, d.get('a'), 0, false);
        d.overload('a', true);
        RealServer moved = sh.schedule(onA, 1, 0, 80);
        assertTrue(moved == d.get('b') || moved == d.get('c'));
        assertSame(model(a, true, false, onA, 1), moved);
        assertSame(moved, sh.schedule(onA, 2, 0, 80));
        d.overload('b', true);
        d.overload('c', true);
        assertNull(sh.schedule(onA, 1, 0, 80));
    }

    @Test
    void portFlagSpreadsOneClientsConnections() {
        Dests d = new Dests(1, 1, 1, 1);
        SourceHashingScheduler byAddr = new SourceHashingScheduler(0, d.array());
        SourceHashingScheduler byPort = new SourceHashingScheduler(FLAGS_PORT, d.array());
        Set<RealServer> addrOnly = new HashSet<>();
        Set<RealServer> withPort = new HashSet<>();
        for (int port = 30000; port < 30100; port++) {
            addrOnly.add(byAddr.schedule(0x0a000102, port, 0, 80));
            withPort.add(byPort.schedule(0x0a000102, port, 0, 80));
        }
        assertEquals(1, addrOnly.size());
        assertEquals(4, withPort.size());
    }

    @Test
    void matchesTheModelOverRandomWeightSetsClientsAndFlags() {
        SplittableRandom rnd = new SplittableRandom(23);
        for (int round = 0; round < 400; round++) {
            Dests d = Dests.randomLoads(rnd);
            RealServer[] a = d.array();
            int flags = rnd.nextInt(4) * FLAGS_FALLBACK; // 0, FALLBACK, PORT, FALLBACK|PORT
            SourceHashingScheduler sh = new SourceHashingScheduler(flags, a);
            for (int i = 0; i < 200; i++) {
                int addr = rnd.nextInt();
                int port = rnd.nextInt(65536);
                assertSame(model(a, (flags & FLAGS_FALLBACK) != 0, (flags & FLAGS_PORT) != 0, addr, port),
                        sh.schedule(addr, port, 0x0a000064, 80), "round " + round);
            }
        }
    }

    private static int clientOn(SourceHashingScheduler sh, RealServer target, int port, boolean usePort) {
        for (int c = 1; c < 100_000; c++) {
            if (sh.schedule(c, port, 0, 80) == target) {
                return c;
            }
        }
        throw new AssertionError("no client maps to " + target);
    }
}
