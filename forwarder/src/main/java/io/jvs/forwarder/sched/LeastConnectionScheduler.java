package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Least-connection ("lc"), as net/netfilter/ipvs/ip_vs_lc.c: the available server with the
 * smallest overhead = activeconns * 256 + inactconns ({@code ip_vs_dest_conn_overhead}), weights
 * ignored except that weight 0 is skipped. Ties keep the earlier server in list order (the kernel
 * replaces only on a strictly smaller overhead). Data-path thread only; does not allocate.
 */
public final class LeastConnectionScheduler implements Scheduler {
    private final RealServer[] dests;

    public LeastConnectionScheduler(RealServer[] dests) {
        this.dests = dests.clone();
    }

    @Override
    public String name() {
        return "lc";
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        RealServer least = null;
        long loh = 0;
        for (RealServer d : dests) {
            if (!d.available()) {
                continue;
            }
            long doh = WeightedLeastConnectionScheduler.overhead(d);
            if (least == null || doh < loh) {
                least = d;
                loh = doh;
            }
        }
        return least;
    }
}
