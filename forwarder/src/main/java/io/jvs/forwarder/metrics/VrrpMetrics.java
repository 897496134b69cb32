package io.jvs.forwarder.metrics;

import io.jvs.forwarder.vrrp.VrrpStatus;
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
import java.util.Map;
import java.util.Objects;

/**
 * VRRP's families (see {@link PrometheusExposition}), from one {@link VrrpStatus} copy per
 * scrape; without VRRP configured none of them has samples (so none is written).
 */
final class VrrpMetrics implements MultiCollector {
    private static final MetricMetadata STATE = new MetricMetadata("jvs_vrrp_state",
            "The VRRP instance's state: 0 init, 1 backup, 2 master, 3 fault (keepalived's numbering).");
    private static final MetricMetadata TRANSITIONS = new MetricMetadata("jvs_vrrp_transitions",
            "State changes of the VRRP instance.");
    private static final MetricMetadata SENT = new MetricMetadata("jvs_vrrp_adverts_sent",
            "VRRP advertisements the instance sent (priority 0 ones included).");
    private static final MetricMetadata RECEIVED = new MetricMetadata("jvs_vrrp_adverts_received",
            "VRRP advertisements for the instance that passed every check.");
    private static final MetricMetadata DROPPED = new MetricMetadata("jvs_vrrp_adverts_dropped",
            "Received VRRP packets not taken, by reason (ttl, version, checksum, auth, address_count, foreign_vrid...).");

    private final VrrpStatus.Source source;

    VrrpMetrics(VrrpStatus.Source source) {
        this.source = Objects.requireNonNull(source);
    }

    @Override
    public MetricSnapshots collect() {
        VrrpStatus s = source.vrrpStatus();
        List<GaugeDataPointSnapshot> state = new ArrayList<>();
        List<CounterDataPointSnapshot> transitions = new ArrayList<>();
        List<CounterDataPointSnapshot> sent = new ArrayList<>();
        List<CounterDataPointSnapshot> received = new ArrayList<>();
        List<CounterDataPointSnapshot> dropped = new ArrayList<>();
        for (VrrpStatus.Instance i : s.instances()) {
            Labels l = Labels.of("instance", i.name());
            state.add(ServiceMetrics.gauge(i.state().gauge(), l));
            transitions.add(ServiceMetrics.counter(i.transitions(), l));
            sent.add(ServiceMetrics.counter(i.advertsSent(), l));
            received.add(ServiceMetrics.counter(i.advertsReceived(), l));
        }
        if (!s.instances().isEmpty()) {
            for (Map.Entry<String, Long> e : s.dropped().entrySet()) {
                dropped.add(ServiceMetrics.counter(e.getValue(), Labels.of("reason", e.getKey())));
            }
        }
        return MetricSnapshots.of(new GaugeSnapshot(STATE, state), new CounterSnapshot(TRANSITIONS, transitions),
                new CounterSnapshot(SENT, sent), new CounterSnapshot(RECEIVED, received),
                new CounterSnapshot(DROPPED, dropped));
    }
}
