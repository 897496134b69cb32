package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;

import java.util.List;

/** Creates schedulers by their ipvsadm name. */
public final class Schedulers {
    /**
     * Every name {@link #create} accepts, in ipvsadm's order. The benchmarks and tests enumerate
     * schedulers from this list: a new scheduler joins them by being added here.
     */
    public static final List<String> NAMES = List.of("rr", "wrr", "wlc");

    private Schedulers() {
    }

    /**
     * A new scheduler instance over these destinations (IPVS list order).
     *
     * @throws IllegalArgumentException "Scheduler or persistence engine not found" for unknown names
     */
    public static Scheduler create(String name, RealServer[] dests) {
        if (name != null) {
            switch (name) {
                case "rr":
                    return new RoundRobinScheduler(dests);
                case "wrr":
                    return new WeightedRoundRobinScheduler(dests);
                case "wlc":
                    return new WeightedLeastConnectionScheduler(dests);
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("Scheduler or persistence engine not found");
    }
}
