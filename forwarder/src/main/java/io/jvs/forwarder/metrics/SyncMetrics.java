package io.jvs.forwarder.metrics;

import io.jvs.forwarder.sync.SyncCounters;
import io.jvs.forwarder.sync.SyncDrop;
import io.jvs.packet.IpvsSync;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The connection sync daemons' families, callbacks over {@link SyncCounters}:
 * <pre>
 * jvs_sync_messages_total{direction}     counter  direction="sent" (master) | "received" (backup, every datagram)
 * jvs_sync_connections_total{direction}  counter  entries sent | received (templates included)
 * jvs_sync_installed_total{action}       counter  action="new" | "updated": entries the backup put in its tables
 * jvs_sync_dropped_total{reason}         counter  every codec check (IpvsSync.Reject) and SyncDrop label, 0 included
 * jvs_sync_queue_depth{queue}            gauge    queue="master" (data path to sender) | "backup" (receiver to data path)
 * </pre>
 */
final class SyncMetrics {
    private static final IpvsSync.Reject[] REJECTS = IpvsSync.Reject.values();
    private static final SyncDrop[] DROPS = SyncDrop.values();

    private SyncMetrics() {
    }

    static void register(PrometheusRegistry registry, SyncCounters c, PrometheusProperties properties) {
        CounterWithCallback.builder(properties).name("jvs_sync_messages_total")
                .help("IPVS sync messages sent (master) and received (backup).")
                .labelNames("direction")
                .callback(cb -> {
                    cb.call(c.sentMessages(), "sent");
                    cb.call(c.receivedMessages(), "received");
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_sync_connections_total")
                .help("Connection and template entries sent (master) and received (backup).")
                .labelNames("direction")
                .callback(cb -> {
                    cb.call(c.sentConnections(), "sent");
                    cb.call(c.receivedConnections(), "received");
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_sync_installed_total")
                .help("Synced entries the backup installed (new) or updated in its tables.")
                .labelNames("action")
                .callback(cb -> {
                    cb.call(c.installedConnections(), "new");
                    cb.call(c.updatedConnections(), "updated");
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_sync_dropped_total")
                .help("Sync messages or entries not sent or not installed, by reason.")
                .labelNames("reason")
                .callback(cb -> {
                    for (IpvsSync.Reject r : REJECTS) {
                        cb.call(c.rejects(r), r.label());
                    }
                    for (SyncDrop d : DROPS) {
                        cb.call(c.drops(d), d.label());
                    }
                })
                .register(registry);
        GaugeWithCallback.builder(properties).name("jvs_sync_queue_depth")
                .help("Sync entries waiting: master = data path to sender thread, backup = receiver to data path.")
                .labelNames("queue")
                .callback(cb -> {
                    cb.call(c.masterQueueDepth(), "master");
                    cb.call(c.backupQueueDepth(), "backup");
                })
                .register(registry);
    }
}
