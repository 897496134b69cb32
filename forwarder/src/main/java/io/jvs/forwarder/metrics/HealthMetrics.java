package io.jvs.forwarder.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The health checker's families (see {@link PrometheusExposition}): one
 * {@link HealthSource#realServerHealth()} read per scrape, so the up gauge and the
 * transition counters of a scrape agree.
 */
final class HealthMetrics implements MultiCollector {
    private static final MetricMetadata UP = new MetricMetadata("jvs_real_server_up",
            "1 while the real server's health checks pass, 0 while it is out of rotation (health-checked servers only).");
    private static final MetricMetadata TRANSITIONS = new MetricMetadata("jvs_health_transitions",
            "Health state changes of the real server: to=\"up\" (back in rotation) or \"down\" (out).");

    private final HealthSource health;

    HealthMetrics(HealthSource health) {
        this.health = Objects.requireNonNull(health);
    }

    @Override
    public MetricSnapshots collect() {
        List<HealthSource.RealServerHealth> servers = health.realServerHealth();
        List<GaugeDataPointSnapshot> up = new ArrayList<>(servers.size());
        List<CounterDataPointSnapshot> transitions = new ArrayList<>(2 * servers.size());
        for (HealthSource.RealServerHealth h : servers) {
            Labels rs = Labels.of("service", h.service(), "real_server", h.realServer());
            up.add(ServiceMetrics.gauge(h.up() ? 1 : 0, rs));
            transitions.add(ServiceMetrics.counter(h.upTransitions(), rs.add("to", "up")));
            transitions.add(ServiceMetrics.counter(h.downTransitions(), rs.add("to", "down")));
        }
        return MetricSnapshots.of(new GaugeSnapshot(UP, up), new CounterSnapshot(TRANSITIONS, transitions));
    }
}
