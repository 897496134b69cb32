package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * wlc, IPVS's default scheduler (ip_vs_wlc.c): the available server with the
 * least overhead per weight, overhead = activeconns * 256 + inactconns.
 * Compared by cross-multiplication (loh * w_d > doh * w_l), never by
 * division, in 64 bits; ties keep the earlier server in list order.
 */
public final class WeightedLeastConnectionScheduler implements Scheduler {
    private final RealServer[] dests;

    public WeightedLeastConnectionScheduler(RealServer[] dests) {
        this.dests = dests.clone();
    }

    @Override
    public String name() {
        return "wlc";
    }

    /** ip_vs_dest_conn_overhead: active connections weigh 256 times an inactive one. */
    static long overhead(RealServer d) {
        return ((long) d.stats.activeConns() << 8) + d.stats.inactConns();
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        return leastLoaded(dests);
    }

    /**
     * The wlc pick over {@code dests}; also lblc's and lblcr's {@code __ip_vs_lblc(r)_schedule},
     * which are the same loop (first available server, then any with a smaller overhead/weight).
     */
    static RealServer leastLoaded(RealServer[] dests) {
        int i = leastLoadedIndex(dests);
        return i < 0 ? null : dests[i];
    }

    /** Index in {@code dests} of the {@link #leastLoaded} server, or -1 when none is available. */
    static int leastLoadedIndex(RealServer[] dests) {
        int least = -1;
        long loh = 0;
        for (int i = 0; i < dests.length; i++) {
            RealServer d = dests[i];
            if (!d.available()) {
                continue;
            }
            long doh = overhead(d);
            if (least < 0 || loh * d.weight > doh * dests[least].weight) {
                least = i;
                loh = doh;
            }
        }
        return least;
    }
}
