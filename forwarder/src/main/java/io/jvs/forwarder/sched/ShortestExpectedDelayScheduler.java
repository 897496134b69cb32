package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Shortest expected delay ("sed"), as net/netfilter/ipvs/ip_vs_sed.c: the available server with
 * the least (activeconns + 1) / weight, compared by cross-multiplication in 64 bits
 * ({@code loh * w_d > doh * w_l}); inactive connections do not count. Ties keep the earlier
 * server in list order. Data-path thread only; does not allocate.
 */
public final class ShortestExpectedDelayScheduler implements Scheduler {
    private final RealServer[] dests;

    public ShortestExpectedDelayScheduler(RealServer[] dests) {
        this.dests = dests.clone();
    }

    @Override
    public String name() {
        return "sed";
    }

    /** ip_vs_sed_dest_overhead (and ip_vs_nq_dest_overhead): only active connections, plus one. */
    static long expectedOverhead(RealServer d) {
        return d.stats.activeConns() + 1L;
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        RealServer least = null;
        long loh = 0;
        for (RealServer d : dests) {
            if (!d.available()) {
                continue;
            }
            long doh = expectedOverhead(d);
            if (least == null || loh * d.weight > doh * least.weight) {
                least = d;
                loh = doh;
            }
        }
        return least;
    }
}
