package io.jvs.forwarder.sched;

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
        RealServer least = null;
        long loh = 0;
        for (RealServer d : dests) {
            if (!d.available()) {
                continue;
            }
            long doh = overhead(d);
            if (least == null || loh * d.weight > doh * least.weight) {
                least = d;
                loh = doh;
            }
        }
        return least;
    }
}
