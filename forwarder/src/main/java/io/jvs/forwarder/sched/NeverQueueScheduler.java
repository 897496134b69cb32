package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;

/**
 * Never queue ("nq"), as net/netfilter/ipvs/ip_vs_nq.c: the first available server in list
 * order with no active connections is taken at once; if every server is busy, the sed pick
 * (least (activeconns + 1) / weight, cross-multiplied, earlier server on ties).
 * Data-path thread only; does not allocate.
 */
public final class NeverQueueScheduler implements Scheduler {
    private final RealServer[] dests;

    public NeverQueueScheduler(RealServer[] dests) {
        this.dests = dests.clone();
    }

    @Override
    public String name() {
        return "nq";
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        RealServer least = null;
        long loh = 0;
        for (RealServer d : dests) {
            if (!d.available()) {
                continue;
            }
            if (d.stats.activeConns() == 0) {
                return d;
            }
            long doh = ShortestExpectedDelayScheduler.expectedOverhead(d);
            if (least == null || loh * d.weight > doh * least.weight) {
                least = d;
                loh = doh;
            }
        }
        return least;
    }
}
