package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Weighted round-robin ("wrr"), as net/netfilter/ipvs/ip_vs_wrr.c (current mainline).
 *
 * <p>Kernel state ({@code struct ip_vs_wrr_mark}) and how it is kept here:
 * <ul>
 *   <li>{@code di}: gcd of the positive weights (1 when there are none).</li>
 *   <li>{@code mw}: max weight minus {@code (di - 1)}. Mainline lowers mw by di - 1 so the
 *       last pass runs with cw = 1; since every weight is a multiple of di this selects exactly
 *       the same servers as the textbook "cw starts at the max weight" (weight &gt;= M - k*di
 *       iff weight &gt; M - (k+1)*di), so the sequences are the classic ones.</li>
 *   <li>{@code cw}: current weight, starts at mw, drops by di after each full pass over the
 *       list, back to mw when it reaches &lt;= 0.</li>
 *   <li>{@code cursor}: {@code mark->cl}; -1 is the list head.</li>
 * </ul>
 * A server is eligible when it is not overloaded and its weight &gt;= cw (weight 0 therefore
 * never, since cw &gt;= 1). Null when mw == 0 (all weights 0) or when a whole round at every cw
 * down to the last pass found nothing (all overloaded); the kernel's {@code last_pass},
 * {@code restarted} and {@code stop} bookkeeping is reproduced so that the search ends after
 * each server was checked with cw &lt;= di.
 *
 * <p>Weights are fixed per instance: a new snapshot builds a new scheduler, which is how the
 * kernel's {@code ip_vs_wrr_dest_changed} reset is modelled (a fresh instance starts at the head
 * with cw = mw). Data-path thread only; {@link #schedule} does not allocate.
 */
public final class WeightedRoundRobinScheduler implements Scheduler {
    private static final int HEAD = -1;
    private static final int NONE = -2;

    private final RealServer[] dests;
    private final int di;
    private final int mw;
    private int cw;
    private int cursor = HEAD;

    public WeightedRoundRobinScheduler(RealServer[] dests) {
        this.dests = dests.clone();
        int g = 0;
        int max = 0;
        for (RealServer d : this.dests) {
            int w = d.weight;
            if (w > 0) {
                g = g > 0 ? gcd(w, g) : w;
            }
            if (w > max) {
                max = w;
            }
        }
        this.di = g > 0 ? g : 1;
        this.mw = max - (di - 1);
        this.cw = mw;
    }

    static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    @Override
    public String name() {
        return "wrr";
    }

    /** The gcd step (kernel mark->di). */
    public int step() {
        return di;
    }

    /** The start weight (kernel mark->mw: max weight - (di - 1)). */
    public int maxWeight() {
        return mw;
    }

    /** The current weight (kernel mark->cw). */
    public int currentWeight() {
        return cw;
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        final RealServer[] d = dests;
        final int n = d.length;
        int i = cursor;
        if (mw == 0) {
            return null;
        }
        final int last = i;
        boolean lastPass = false;
        boolean restarted = false;
        int stop = NONE;
        while (true) {
            for (i = i + 1; i < n; i++) {
                RealServer s = d[i];
                if (!s.stats.overloaded() && s.weight >= cw) {
                    cursor = i;
                    return s;
                }
                if (i == stop) {
                    cursor = i;
                    return null;
                }
            }
            i = HEAD;
            cw -= di;
            if (cw <= 0) {
                cw = mw;
                // Stop if the last pass was already tried from the first server, or if the
                // walk started at the head (its only traversal covered every server at w >= 1).
                if (lastPass || last == HEAD) {
                    cursor = HEAD;
                    return null;
                }
                restarted = true;
            }
            lastPass = cw <= di;
            if (lastPass && restarted && last != HEAD) {
                // the first traversal checked w >= 1 only after 'last': finish with those up to it
                stop = last;
            }
        }
    }
}
