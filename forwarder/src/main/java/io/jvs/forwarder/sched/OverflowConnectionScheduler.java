package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Overflow-connection ("ovf"), as net/netfilter/ipvs/ip_vs_ovf.c: the server with the highest
 * weight among those that are available and whose activeconns does not exceed their weight
 * (activeconns &lt;= weight); so connections stay on the heaviest server until it holds more
 * active connections than its weight, then overflow to the next. Equal weights: the earlier one
 * in list order. Inactive connections are not counted (the kernel notes this makes ovf a poor
 * fit for UDP). Data-path thread only; does not allocate.
 */
public final class OverflowConnectionScheduler implements Scheduler {
    private final RealServer[] dests;

    public OverflowConnectionScheduler(RealServer[] dests) {
        this.dests = dests.clone();
    }

    @Override
    public String name() {
        return "ovf";
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        RealServer highest = null;
        int hw = 0;
        for (RealServer d : dests) {
            int w = d.weight;
            if (d.stats.overloaded() || d.stats.activeConns() > w || w == 0) {
                continue;
            }
            if (highest == null || w > hw) {
                highest = d;
                hw = w;
            }
        }
        return highest;
    }
}
