package io.jvs.forwarder.metrics;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.VirtualService;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot.InfoDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The per-service and per-real-server families (see {@link PrometheusExposition}),
 * read at scrape time from the {@link DestStats} the data path writes. One
 * collector for all of them so that each scrape takes one
 * {@link ServiceRegistry#current()} snapshot: every family of a scrape describes
 * the same service table.
 */
final class ServiceMetrics implements MultiCollector {
    private static final MetricMetadata SERVICE_CONNECTIONS = new MetricMetadata("jvs_service_connections",
            "Connections the virtual service scheduled.");
    private static final MetricMetadata SERVICE_PACKETS = new MetricMetadata("jvs_service_packets",
            "Packets of the virtual service: direction=\"in\" from clients, \"out\" from real servers.");
    private static final MetricMetadata SERVICE_BYTES = new MetricMetadata("jvs_service_bytes",
            "Bytes of the virtual service: direction=\"in\" from clients, \"out\" from real servers.");
    private static final MetricMetadata RS_CONNECTIONS = new MetricMetadata("jvs_real_server_connections",
            "Connections scheduled to the real server.");
    private static final MetricMetadata RS_PACKETS = new MetricMetadata("jvs_real_server_packets",
            "Packets of the real server's connections: direction=\"in\" from clients, \"out\" from the server.");
    private static final MetricMetadata RS_BYTES = new MetricMetadata("jvs_real_server_bytes",
            "Bytes of the real server's connections: direction=\"in\" from clients, \"out\" from the server.");
    private static final MetricMetadata RS_ACTIVE = new MetricMetadata("jvs_real_server_active_connections",
            "Connections to the real server in ESTABLISHED state (ipvsadm ActiveConn).");
    private static final MetricMetadata RS_INACTIVE = new MetricMetadata("jvs_real_server_inactive_connections",
            "Connections to the real server in any other state (ipvsadm InActConn).");
    private static final MetricMetadata RS_WEIGHT = new MetricMetadata("jvs_real_server_weight",
            "Configured weight of the real server (0 = quiesced: no new connections).");
    private static final MetricMetadata RS_PERSISTENT = new MetricMetadata("jvs_real_server_persistent_connections",
            "Persistence templates pointing at the real server (ipvsadm PersistConn).");
    private static final MetricMetadata RS_OVERLOADED = new MetricMetadata("jvs_real_server_overloaded",
            "1 while the real server is over its upper connection threshold (-x) and takes no new connections.");
    private static final MetricMetadata WORKER_RS_CONNECTIONS = new MetricMetadata(
            "jvs_worker_real_server_connections", "Connections one worker scheduled to the real server.");
    private static final MetricMetadata WORKER_RS_PACKETS = new MetricMetadata("jvs_worker_real_server_packets",
            "Packets one worker forwarded for the real server's connections, by direction.");
    private static final MetricMetadata WORKER_RS_BYTES = new MetricMetadata("jvs_worker_real_server_bytes",
            "Bytes one worker forwarded for the real server's connections, by direction.");
    // Info families: the name without "_info", which the writers append.
    private static final MetricMetadata SERVICE_INFO = new MetricMetadata("jvs_service",
            "1 for every configured virtual service, labelled with its scheduler.");
    private static final MetricMetadata RS_INFO = new MetricMetadata("jvs_real_server",
            "1 for every configured real server, labelled with its forwarding method (ipvsadm's Forward column).");

    private final ServiceRegistry registry;

    ServiceMetrics(ServiceRegistry registry) {
        this.registry = Objects.requireNonNull(registry);
    }

    @Override
    public MetricSnapshots collect() {
        List<VirtualService> services = registry.current().services();
        List<CounterDataPointSnapshot> svcConns = new ArrayList<>();
        List<CounterDataPointSnapshot> svcPackets = new ArrayList<>();
        List<CounterDataPointSnapshot> svcBytes = new ArrayList<>();
        List<InfoDataPointSnapshot> svcInfo = new ArrayList<>();
        List<CounterDataPointSnapshot> rsConns = new ArrayList<>();
        List<CounterDataPointSnapshot> rsPackets = new ArrayList<>();
        List<CounterDataPointSnapshot> rsBytes = new ArrayList<>();
        List<GaugeDataPointSnapshot> active = new ArrayList<>();
        List<GaugeDataPointSnapshot> inactive = new ArrayList<>();
        List<GaugeDataPointSnapshot> weight = new ArrayList<>();
        List<GaugeDataPointSnapshot> persistent = new ArrayList<>();
        List<GaugeDataPointSnapshot> overloaded = new ArrayList<>();
        List<InfoDataPointSnapshot> rsInfo = new ArrayList<>();
        List<CounterDataPointSnapshot> workerConns = new ArrayList<>();
        List<CounterDataPointSnapshot> workerPackets = new ArrayList<>();
        List<CounterDataPointSnapshot> workerBytes = new ArrayList<>();
        for (VirtualService s : services) {
            Labels service = Labels.of("service", s.label());
            DestStats st = s.stats;
            svcConns.add(counter(st.conns(), service));
            inOut(svcPackets, service, st.inPkts(), st.outPkts());
            inOut(svcBytes, service, st.inBytes(), st.outBytes());
            svcInfo.add(new InfoDataPointSnapshot(service.add("scheduler", s.schedulerName)));
            for (RealServer d : s.dests) {
                Labels rs = service.add("real_server", d.endpoint());
                DestStats ds = d.stats;
                rsConns.add(counter(ds.conns(), rs));
                inOut(rsPackets, rs, ds.inPkts(), ds.outPkts());
                inOut(rsBytes, rs, ds.inBytes(), ds.outBytes());
                active.add(gauge(ds.activeConnsVolatile(), rs));
                inactive.add(gauge(ds.inactConnsVolatile(), rs));
                weight.add(gauge(d.weight, rs));
                persistent.add(gauge(ds.persistConnsVolatile(), rs));
                overloaded.add(gauge(ds.overloadedVolatile() ? 1 : 0, rs));
                rsInfo.add(new InfoDataPointSnapshot(rs.add("forward", d.method.ipvsadmName())));
                for (int w = 0; ds.workers() > 1 && w < ds.workers(); w++) {
                    Labels wl = rs.add("worker", Integer.toString(w));
                    workerConns.add(counter(ds.conns(w), wl));
                    inOut(workerPackets, wl, ds.inPkts(w), ds.outPkts(w));
                    inOut(workerBytes, wl, ds.inBytes(w), ds.outBytes(w));
                }
            }
        }
        return MetricSnapshots.of(
                new CounterSnapshot(SERVICE_CONNECTIONS, svcConns),
                new CounterSnapshot(SERVICE_PACKETS, svcPackets),
                new CounterSnapshot(SERVICE_BYTES, svcBytes),
                new InfoSnapshot(SERVICE_INFO, svcInfo),
                new CounterSnapshot(RS_CONNECTIONS, rsConns),
                new CounterSnapshot(RS_PACKETS, rsPackets),
                new CounterSnapshot(RS_BYTES, rsBytes),
                new GaugeSnapshot(RS_ACTIVE, active),
                new GaugeSnapshot(RS_INACTIVE, inactive),
                new GaugeSnapshot(RS_WEIGHT, weight),
                new GaugeSnapshot(RS_PERSISTENT, persistent),
                new GaugeSnapshot(RS_OVERLOADED, overloaded),
                new InfoSnapshot(RS_INFO, rsInfo),
                new CounterSnapshot(WORKER_RS_CONNECTIONS, workerConns),
                new CounterSnapshot(WORKER_RS_PACKETS, workerPackets),
                new CounterSnapshot(WORKER_RS_BYTES, workerBytes));
    }

    private static void inOut(List<CounterDataPointSnapshot> out, Labels labels, long in, long outValue) {
        out.add(counter(in, labels.add("direction", "in")));
        out.add(counter(outValue, labels.add("direction", "out")));
    }

    static CounterDataPointSnapshot counter(double value, Labels labels) {
        return new CounterDataPointSnapshot(value, labels, null, 0L);
    }

    static GaugeDataPointSnapshot gauge(double value, Labels labels) {
        return new GaugeDataPointSnapshot(value, labels, null);
    }
}
