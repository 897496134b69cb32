package io.jvs.forwarder.ctl;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * The control side's view of the data path's counters: what {@code -Z}
 * zeroed (a baseline per counter set, since the data path's counters are
 * single-writer and must never be written from here) and the IPVS rate
 * estimator behind {@code --rate}.
 *
 * <p>The estimator is the kernel's (ip_vs_est.c): every
 * {@value #INTERVAL_SECONDS} s, per service and real server,
 * {@code rate = delta << 9} (packets, connections) or {@code << 4} (bytes),
 * smoothed {@code avg += (rate - avg) >> 2}, read back as
 * {@code (avg + 0x1FF) >> 10} and {@code (avg + 0xF) >> 5}: per-second rates
 * with a 1/4 weight for each new 2 s sample.
 *
 * <p>Keyed by {@link DestStats} identity, which survives snapshot rebuilds
 * for a kept service or real server, and weakly, so removed ones go away.
 * Thread-safe (one monitor); the sampler calls {@link #sample} from its own thread.
 */
public final class RateEstimator {
    public static final int INTERVAL_SECONDS = 2;

    private static final class Entry {
        final long[] base = new long[5];
        final long[] last = new long[5];
        final long[] avg = new long[5];
        boolean sampled;
    }

    private final Map<DestStats, Entry> entries = new WeakHashMap<>();

    private static long[] raw(DestStats s) {
        return new long[]{s.conns(), s.inPkts(), s.outPkts(), s.inBytes(), s.outBytes()};
    }

    private Entry entry(DestStats s) {
        return entries.computeIfAbsent(s, k -> new Entry());
    }

    /** Conns, InPkts, OutPkts, InBytes, OutBytes since the last zeroing. */
    public synchronized long[] stats(DestStats s) {
        long[] v = raw(s);
        Entry e = entries.get(s);
        if (e != null) {
            for (int i = 0; i < 5; i++) {
                v[i] -= e.base[i];
            }
        }
        return v;
    }

    /** CPS, InPPS, OutPPS, InBPS, OutBPS as the estimator has them. */
    public synchronized long[] rates(DestStats s) {
        Entry e = entries.get(s);
        long[] r = new long[5];
        if (e != null) {
            r[0] = (e.avg[0] + 0x1FF) >> 10;
            r[1] = (e.avg[1] + 0x1FF) >> 10;
            r[2] = (e.avg[2] + 0x1FF) >> 10;
            r[3] = (e.avg[3] + 0xF) >> 5;
            r[4] = (e.avg[4] + 0xF) >> 5;
        }
        return r;
    }

    /** ipvsadm -Z: counters read as zero from now on; the estimator restarts (ip_vs_zero_estimator). */
    public synchronized void zero(DestStats s) {
        Entry e = entry(s);
        long[] v = raw(s);
        System.arraycopy(v, 0, e.base, 0, 5);
        System.arraycopy(v, 0, e.last, 0, 5);
        java.util.Arrays.fill(e.avg, 0);
        e.sampled = true;
    }

    /** Zeroes a service and its real servers. */
    public synchronized void zero(VirtualService s) {
        zero(s.stats);
        for (RealServer d : s.dests) {
            zero(d.stats);
        }
    }

    /** One estimator tick over every service and real server of the snapshot. */
    public synchronized void sample(ServiceTable table) {
        for (VirtualService s : table.services()) {
            sample(s.stats);
            for (RealServer d : s.dests) {
                sample(d.stats);
            }
        }
    }

    void sample(DestStats s) {
        Entry e = entry(s);
        long[] v = raw(s);
        if (!e.sampled) { // the first sight of a counter set starts it (no burst from its history)
            System.arraycopy(v, 0, e.last, 0, 5);
            e.sampled = true;
            return;
        }
        for (int i = 0; i < 5; i++) {
            long rate = (v[i] - e.last[i]) << (i < 3 ? 9 : 4);
            e.last[i] = v[i];
            e.avg[i] += (rate - e.avg[i]) >> 2;
        }
    }
}
