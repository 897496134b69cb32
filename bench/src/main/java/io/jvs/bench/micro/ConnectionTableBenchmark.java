package io.jvs.bench.micro;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The connection table at 1M live entries (capacity 2^20 = 1,048,576, filled with 1,000,000
 * connections from pseudo-random client addresses and ports, so the probes are DRAM-bound as in
 * a real director):
 * <ul>
 *   <li>{@code lookupHit}: lookupIn of a live entry (random order);</li>
 *   <li>{@code lookupMiss}: lookupIn of a key that is not there (a new connection's first probe);</li>
 *   <li>{@code insertRemove}: one new connection inserted and the oldest live one removed
 *       (the table stays at 1M: churn while full);</li>
 *   <li>{@code expireScan}: the incremental sweep over 1,024 ids none of which is due (per call;
 *       divide by 1,024 for the cost per entry scanned).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class ConnectionTableBenchmark {
    static final int CAPACITY = 1 << 20;
    static final int LIVE = 1_000_000;
    static final int VIP = 0x0a00_0064;

    ConnectionTable table;
    VirtualService svc;
    RealServer dest;
    long now;
    /** Keys of the live entries, in insertion order (a ring: oldest at head). */
    int[] caddrs;
    int[] cports;
    int[] ids;
    int head;
    long keySeq;
    int probe;

    @Setup(Level.Trial)
    public void setup() {
        dest = new RealServer(0x0a00_000b, 80, 1, ForwardMethod.DR, 0, 0, new DestStats());
        svc = new VirtualService(Protocol.TCP, VIP, 80, "rr", new RealServer[] {dest}, null, new DestStats());
        now = 1_000_000_000_000L;
        table = new ConnectionTable(CAPACITY, Timeouts.DEFAULTS, () -> now);
        caddrs = new int[LIVE];
        cports = new int[LIVE];
        ids = new int[LIVE];
        for (int i = 0; i < LIVE; i++) {
            insertNext(i);
        }
        if (table.size() != LIVE) {
            throw new IllegalStateException("table holds " + table.size());
        }
    }

    /** Inserts a connection with the next pseudo-random key into ring slot i. */
    private void insertNext(int i) {
        long k = mix(keySeq++);
        int caddr = (int) k;
        int cport = 1024 + (int) ((k >>> 32) & 0xffff) % 64000;
        int id = table.insert(Protocol.TCP, caddr, cport, VIP, 80, 0x0a00_000b, 80, svc, dest, now);
        if (id < 0) {
            // a rare key collision with a live entry is fine: insert is only called after a miss
            throw new IllegalStateException("insert refused at " + table.size());
        }
        table.update(id, false, 0x02, 60, now);
        caddrs[i] = caddr;
        cports[i] = cport;
        ids[i] = id;
    }

    private static long mix(long z) {
        z = (z + 0x9E3779B97F4A7C15L) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Benchmark
    public int lookupHit() {
        int i = (int) ((probe++ * 0x9E3779B1L) & 0x7fffffffL) % LIVE;
        return table.lookupIn(Protocol.TCP, caddrs[i], cports[i], VIP, 80, now);
    }

    @Benchmark
    public int lookupMiss() {
        int p = probe++;
        return table.lookupIn(Protocol.TCP, 0x0a00_0000 | p, 1 + (p & 1023), VIP, 81, now);
    }

    @Benchmark
    public int insertRemove() {
        int h = head;
        table.remove(ids[h]);
        insertNext(h);
        head = h + 1 == LIVE ? 0 : h + 1;
        return ids[h];
    }

    @Benchmark
    public int expireScan() {
        return table.expire(now, 1024);
    }
}
