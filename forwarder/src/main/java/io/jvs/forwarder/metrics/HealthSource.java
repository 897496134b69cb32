package io.jvs.forwarder.metrics;

import java.util.List;

/** What the health checker exports: one entry per (service, real server) it checks. Read on the metrics thread. */
@FunctionalInterface
public interface HealthSource {
    /** No health checking: the families are exported without samples. */
    HealthSource NONE = List::of;

    List<RealServerHealth> realServerHealth();

    /**
     * @param service         the {@code service} label ("TCP/10.0.0.100:80")
     * @param realServer      the {@code real_server} label ("10.0.0.11:80")
     * @param up              alive by its checkers
     * @param upTransitions   times it went from down to up
     * @param downTransitions times it went from up to down
     * @param lastTransition  why it last went up or down ("down (TCP_CHECK: connection refused)"), "" before any
     */
    record RealServerHealth(String service, String realServer, boolean up, long upTransitions, long downTransitions,
                            String lastTransition) {
        public RealServerHealth {
            java.util.Objects.requireNonNull(lastTransition);
        }

        /** One that has not changed state since the checker started. */
        public RealServerHealth(String service, String realServer, boolean up, long upTransitions,
                                long downTransitions) {
            this(service, realServer, up, upTransitions, downTransitions, "");
        }
    }
}
