package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * mh against ip_vs_mh.c. The model is the Maglev paper's population (section 3.4) written
 * directly: permutation[i][j] = (offset_i + j * skip_i) mod M, each server keeps a "next" index
 * into its permutation, and in each round server i claims turns_i slots; with the kernel's
 * offset/skip (hsiphash of the server's addr + port with the two fixed keys) and turns
 * ((w / gcd) >> shift, at least 1 for w > 0).
 */
public class MaglevHashingSchedulerTest {
    private static final int M = MaglevHashingScheduler.DEFAULT_TABLE_SIZE;

    static long u32(int v) {
        return v & 0xffffffffL;
    }

    public static RealServer[] modelTable(RealServer[] servers, int m) {
        int tabBits = (MaglevHashingScheduler.tableIndex(m) + 8) / 2;
        int g = 0;
        int max = 0;
        for (RealServer s : servers) {
            if (s.lastWeight > 0) {
                g = g == 0 ? s.lastWeight : java.math.BigInteger.valueOf(g).gcd(java.math.BigInteger.valueOf(s.lastWeight)).intValue();
            }
            max = Math.max(max, s.lastWeight);
        }
        RealServer[] table = new RealServer[m];
        if (g == 0) {
            return table;
        }
        int bitsOfMax = 32 - Integer.numberOfLeadingZeros(max / g);
        int shift = Math.max(0, bitsOfMax - tabBits);
        int n = servers.length;
        long[] offset = new long[n];
        long[] skip = new long[n];
        int[] turns = new int[n];
        long[] next = new long[n];
        for (int i = 0; i < n; i++) {
            int key = servers[i].addr + servers[i].port;
            offset[i] = u32(KernelHash.hsiphash(key, MaglevHashingScheduler.HASH1_KEY, MaglevHashingScheduler.HASH1_KEY)) % m;
            skip[i] = u32(KernelHash.hsiphash(key, MaglevHashingScheduler.HASH2_KEY, MaglevHashingScheduler.HASH2_KEY)) % (m - 1) + 1;
            int w = servers[i].lastWeight;
            turns[i] = w == 0 ? 0 : Math.max(1, (w / g) >> shift);
        }
        int filled = 0;
        while (filled < m) {
            for (int i = 0; i < n && filled < m; i++) {
                for (int t = 0; t < turns[i] && filled < m; t++) {
                    int c = (int) ((offset[i] + next[i] * skip[i]) % m);
                    while (table[c] != null) {
                        next[i]++;
                        c = (int) ((offset[i] + next[i] * skip[i]) % m);
                    }
                    table[c] = servers[i];
                    next[i]++;
                    filled++;
                }
            }
        }
        return table;
    }

    static int modelSlot(int addr, int port, int offset, int m) {
        return (int) (u32(KernelHash.hsiphash(offset + port + addr, MaglevHashingScheduler.HASH1_KEY,
                MaglevHashingScheduler.HASH1_KEY)) % m);
    }

    public static RealServer model(RealServer[] table, boolean fallback, int addr, int port) {
        int m = table.length;
        int h = modelSlot(addr, port, 0, m);
        RealServer s = table[h];
        if (s == null || s.available()) {
            return s;
        }
        for (int i = 0; fallback && i < m; i++) {
            RealServer t = table[modelSlot(addr, port, (int) ((h + (long) i) % m), m)];
            if (t.available()) {
                return t;
            }
        }
        return null;
    }

    private static RealServer[] servers(int n, int weight) {
        RealServer[] r = new RealServer[n];
        for (int i = 0; i < n; i++) {
            r[i] = new RealServer(0x0a000010 + i, 80, weight, ForwardMethod.DR, 0, 0, new DestStats());
        }
        return r;
    }

    @Test
    void tableMatchesTheMaglevModelOverRandomWeightSetsAndSizes() {
        SplittableRandom rnd = new SplittableRandom(31);
        for (int round = 0; round < 60; round++) {
            int m = MaglevHashingScheduler.TABLE_SIZES[rnd.nextInt(6)];
            int n = 1 + rnd.nextInt(12);
            RealServer[] a = new RealServer[n];
            for (int i = 0; i < n; i++) {
                int w = rnd.nextInt(6) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextBoolean() ? 4 : 5000);
                a[i] = new RealServer(rnd.nextInt(), rnd.nextInt(65536), w, ForwardMethod.DR, 0, 0, new DestStats());
            }
            MaglevHashingScheduler mh = new MaglevHashingScheduler(0, a, m);
            RealServer[] expected = modelTable(a, m);
            for (int i = 0; i < m; i++) {
                assertSame(expected[i], mh.slot(i), "round " + round + " slot " + i);
            }
            for (int i = 0; i < 300; i++) {
                int addr = rnd.nextInt();
                assertSame(model(expected, false, addr, 0), mh.schedule(addr, rnd.nextInt(65536), 0, 80));
            }
        }
    }

    @Test
    void slotsFollowWeights() {
        RealServer[] a = servers(3, 1);
        a[0] = new RealServer(0x0a000001, 80, 3, ForwardMethod.DR, 0, 0, new DestStats());
        MaglevHashingScheduler mh = new MaglevHashingScheduler(0, a);
        int[] count = new int[3];
        for (int i = 0; i < M; i++) {
            count[Arrays.asList(a).indexOf(mh.slot(i))]++;
        }
        // weights 3:1:1 -> 3/5, 1/5, 1/5 of 4093 slots, within Maglev's population granularity
        assertTrue(Math.abs(count[0] - 3 * M / 5) <= 3, Arrays.toString(count));
        assertTrue(Math.abs(count[1] - M / 5) <= 3, Arrays.toString(count));
    }

    @Test
    void removingOneOfNServersMovesAboutOneNthOfTheFlows() {
        int n = 10;
        RealServer[] all = servers(n, 1);
        RealServer[] without = Arrays.copyOfRange(all, 1, n); // all[0] removed
        MaglevHashingScheduler before = new MaglevHashingScheduler(0, all);
        MaglevHashingScheduler after = new MaglevHashingScheduler(0, without);
        SplittableRandom rnd = new SplittableRandom(37);
        int flows = 100_000;
        int moved = 0;
        int movedFromSurvivors = 0;
        for (int i = 0; i < flows; i++) {
            int client = rnd.nextInt();
            RealServer b = before.schedule(client, 0, 0, 80);
            RealServer c = after.schedule(client, 0, 0, 80);
            if (b != c) {
                moved++;
                if (b != all[0]) {
                    movedFromSurvivors++;
                }
            }
        }
        double share = (double) moved / flows;
        // the removed server's flows (~1/N) must move; Maglev moves only a few others
        assertTrue(share > 0.08 && share < 0.13, "moved " + share);
        assertTrue((double) movedFromSurvivors / flows < 0.03, "survivors' flows moved: " + movedFromSurvivors);
    }

    @Test
    void quiescedServerKeepsItsSlotsThroughLastWeight() {
        RealServer[] a = servers(4, 2);
        MaglevHashingScheduler full = new MaglevHashingScheduler(0, a);
        // ipvsadm -e ... -w 0 on a[1]: weight 0, last_weight 2 (what ServiceTableBuilder passes)
        RealServer[] q = a.clone();
        q[1] = new RealServer(a[1].spec.withWeight(0), a[1].stats, 2);
        MaglevHashingScheduler quiesced = new MaglevHashingScheduler(0, q);
        MaglevHashingScheduler fallback = new MaglevHashingScheduler(MaglevHashingScheduler.MH_FALLBACK, q);
        for (int i = 0; i < M; i++) {
            RealServer s = full.slot(i);
            RealServer t = quiesced.slot(i);
            assertEquals(s.addr, t.addr, "slot " + i);
        }
        SplittableRandom rnd = new SplittableRandom(41);
        for (int i = 0; i < 5000; i++) {
            int client = rnd.nextInt();
            RealServer was = full.schedule(client, 0, 0, 80);
            if (was == a[1]) {
                assertNull(quiesced.schedule(client, 0, 0, 80));
                RealServer other = fallback.schedule(client, 0, 0, 80);
                assertNotNull(other);
                assertTrue(other != q[1]);
                assertSame(model(modelTable(q, M), true, client, 0), other);
            } else {
                assertSame(was, quiesced.schedule(client, 0, 0, 80));
                assertSame(was, fallback.schedule(client, 0, 0, 80));
            }
        }
    }

    @Test
    void portFlagHashesTheClientPortToo() {
        RealServer[] a = servers(5, 1);
        MaglevHashingScheduler byAddr = new MaglevHashingScheduler(0, a);
        MaglevHashingScheduler byPort = new MaglevHashingScheduler(MaglevHashingScheduler.MH_PORT, a);
        Set<RealServer> one = new HashSet<>();
        Set<RealServer> spread = new HashSet<>();
        for (int port = 40000; port < 40200; port++) {
            one.add(byAddr.schedule(0x0a000102, port, 0, 80));
            RealServer s = byPort.schedule(0x0a000102, port, 0, 80);
            spread.add(s);
            assertSame(model(modelTable(a, M), false, 0x0a000102, port), s);
        }
        assertEquals(1, one.size());
        assertEquals(5, spread.size());
    }

    @Test
    void allWeightsZeroOrNoServersGiveNull() {
        RealServer[] zero = servers(3, 0);
        assertNull(new MaglevHashingScheduler(MaglevHashingScheduler.MH_FALLBACK, zero).schedule(1, 1, 0, 80));
        assertNull(new MaglevHashingScheduler(0, new RealServer[0]).schedule(1, 1, 0, 80));
    }

    @Test
    void tableSizeIsOneOfTheKernelsPrimesAndMustHoldEveryServer() {
        assertEquals(4093, ((MaglevHashingScheduler) Schedulers.create("mh", servers(2, 1))).tableSize());
        assertEquals(251, ((MaglevHashingScheduler) Schedulers.factory(251).create("mh", 0, servers(2, 1))).tableSize());
        assertThrows(IllegalArgumentException.class, () -> Schedulers.factory(4096));
        assertThrows(IllegalArgumentException.class, () -> new MaglevHashingScheduler(0, servers(2, 1), 1000));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MaglevHashingScheduler(0, servers(252, 1), 251));
        assertTrue(e.getMessage().contains("252 real servers"), e.getMessage());
        List<Integer> sizes = new ArrayList<>();
        for (int p : MaglevHashingScheduler.TABLE_SIZES) {
            sizes.add(p);
        }
        assertEquals(List.of(251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071), sizes);
    }

    @Test
    void flagThreeIsAcceptedAndIgnored() {
        RealServer[] a = servers(3, 1);
        MaglevHashingScheduler plain = new MaglevHashingScheduler(0, a);
        MaglevHashingScheduler flag3 = new MaglevHashingScheduler(ServiceSpec.SCHED_FLAG_3, a);
        for (int c = 0; c < 1000; c++) {
            assertSame(plain.schedule(c, c, 0, 80), flag3.schedule(c, c, 0, 80));
        }
    }
}
