package io.jvs.bench.scale;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.Locale;

/**
 * Connection-table scale (scripts/bench scenario e), measured on the forwarder's own
 * {@link ConnectionTable} in this JVM, not through the lab:
 * <ul>
 *   <li><b>memory per connection</b>: live heap (MemoryMXBean heap used after repeated
 *       System.gc()) before creating a table of capacity N and after filling it with N TCP
 *       connections, divided by N; also the table's own {@link ConnectionTable#footprintBytes()};</li>
 *   <li><b>new connections per second while full</b>: with N live entries in a full table, each
 *       new connection is what the director does for a SYN plus the expiry that makes room:
 *       remove the oldest entry, lookupIn (miss), scheduler pick (rr over 2 servers), insert,
 *       update with the SYN. Single thread, for {@code --seconds} seconds after a warm-up.</li>
 * </ul>
 * Prints one line per size: {@code SCALE n=... bytes_per_conn=... footprint_per_conn=... new_conn_per_s=...}.
 *
 * <pre>java -cp bench/target/classes:bench/target/lib/* io.jvs.bench.scale.ConnTableScale [--seconds S] N...</pre>
 */
public final class ConnTableScale {
    static final int VIP = 0x0a00_0064;

    private ConnTableScale() {
    }

    public static void main(String[] args) {
        double seconds = 2;
        int first = 0;
        if (args.length >= 2 && args[0].equals("--seconds")) {
            seconds = Double.parseDouble(args[1]);
            first = 2;
        }
        if (first == args.length) {
            System.err.println("usage: ConnTableScale [--seconds S] N...");
            System.exit(2);
        }
        for (int a = first; a < args.length; a++) {
            run(Integer.parseInt(args[a]), seconds);
        }
    }

    static long liveHeap() {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            best = Math.min(best, m.getHeapMemoryUsage().getUsed());
        }
        return best;
    }

    static void run(int n, double seconds) {
        DestStats s1 = new DestStats();
        DestStats s2 = new DestStats();
        RealServer[] dests = {
            new RealServer(0x0a00_000b, 80, 1, ForwardMethod.DR, 0, 0, s1),
            new RealServer(0x0a00_000c, 80, 1, ForwardMethod.DR, 0, 0, s2)};
        Scheduler sched = Schedulers.create("rr", dests);
        VirtualService svc = new VirtualService(Protocol.TCP, VIP, 80, "rr", dests, sched, new DestStats());
        // the ring of live keys, allocated before the baseline so it is not counted
        int[] caddrs = new int[n];
        int[] cports = new int[n];
        int[] ids = new int[n];
        long[] now = {1_000_000_000_000L};

        long before = liveHeap();
        ConnectionTable table = new ConnectionTable(n, Timeouts.DEFAULTS, () -> now[0]);
        long seq = 0;
        for (int i = 0; i < n; i++) {
            ids[i] = newConn(table, svc, sched, seq++, i, caddrs, cports, now[0]);
            if (ids[i] < 0) {
                throw new IllegalStateException("insert refused at " + i);
            }
        }
        long after = liveHeap();
        if (table.size() != n) {
            throw new IllegalStateException("table holds " + table.size() + ", expected " + n);
        }
        double perConn = (double) (after - before) / n;
        double footprint = (double) table.footprintBytes() / n;

        // churn while full: warm up, then measure
        int head = 0;
        long done = 0;
        long end = System.nanoTime() + (long) (0.5e9);
        long t0 = 0;
        boolean measuring = false;
        for (;;) {
            for (int k = 0; k < 1024; k++) {
                table.remove(ids[head]);
                ids[head] = newConn(table, svc, sched, seq++, head, caddrs, cports, now[0]);
                if (ids[head] < 0) {
                    throw new IllegalStateException("insert refused while churning");
                }
                head = head + 1 == n ? 0 : head + 1;
            }
            done += 1024;
            long t = System.nanoTime();
            if (!measuring && t >= end) {
                measuring = true;
                done = 0;
                t0 = t;
                end = t + (long) (seconds * 1e9);
            } else if (measuring && t >= end) {
                double rate = done / ((t - t0) / 1e9);
                System.out.printf(Locale.ROOT,
                        "SCALE n=%d capacity=%d bytes_per_conn=%.1f footprint_per_conn=%.1f new_conn_per_s=%.0f heap_delta=%d%n",
                        n, table.capacity(), perConn, footprint, rate, after - before);
                break;
            }
        }
        if (table.size() != n) {
            throw new IllegalStateException("table holds " + table.size() + " after churn");
        }
    }

    private static int newConn(ConnectionTable t, VirtualService svc, Scheduler sched, long seq, int slot,
                               int[] caddrs, int[] cports, long now) {
        long k = mix(seq);
        int caddr = (int) k;
        int cport = 1024 + (int) ((k >>> 32) & 0xffff) % 64000;
        if (t.lookupIn(Protocol.TCP, caddr, cport, VIP, 80, now) >= 0) {
            return -2; // a key collision; vanishingly rare with 64-bit mixing
        }
        RealServer rs = sched.schedule(caddr, cport, VIP, 80);
        int id = t.insert(Protocol.TCP, caddr, cport, VIP, 80, rs.addr, rs.port, svc, rs, now);
        if (id >= 0) {
            t.update(id, false, 0x02, 60, now);
            caddrs[slot] = caddr;
            cports[slot] = cport;
        }
        return id;
    }

    private static long mix(long z) {
        z = (z + 0x9E3779B97F4A7C15L) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
