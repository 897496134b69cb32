package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Weighted failover ("fo"), as net/netfilter/ipvs/ip_vs_fo.c: every new connection goes to the
 * non-overloaded server with the highest weight; on equal weights the earlier one in list order
 * (the kernel replaces only on a strictly greater weight, starting from 0, so weight 0 is never
 * chosen). Connection counts play no part. Data-path thread only; does not allocate.
 */
public final class WeightedFailoverScheduler implements Scheduler {
    private final RealServer[] dests;

    public WeightedFailoverScheduler(RealServer[] dests) {
        this.dests = dests.clone();
    }

    @Override
    public String name() {
        return "fo";
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        RealServer highest = null;
        int hw = 0;
        for (RealServer d : dests) {
            if (!d.stats.overloaded() && d.weight > hw) {
                highest = d;
                hw = d.weight;
            }
        }
        return highest;
    }
}
