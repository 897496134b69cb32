package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.RealServer;

import java.util.List;

/** Creates schedulers by their ipvsadm name. */
public final class Schedulers {
    /** Every scheduler name jvs knows, in the order ipvsadm's man page lists them. */
    public static final List<String> NAMES = List.of("rr", "wrr", "wlc");

    private Schedulers() {
    }

    /** A scheduler without scheduler flags. */
    public static Scheduler create(String name, RealServer[] dests) {
        return create(name, 0, dests);
    }

    /**
     * A new scheduler instance over these destinations (IPVS list order).
     *
     * @throws IllegalArgumentException "Scheduler or persistence engine not found" for unknown names
     */
    public static Scheduler create(String name, int schedFlags, RealServer[] dests) {
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
