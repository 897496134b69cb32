package io.jvs.forwarder.metrics;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.MetricMetadata;

import java.util.List;
import java.util.function.IntToLongFunction;
import java.util.function.LongSupplier;

/**
 * The data path's families (see {@link PrometheusExposition}) as the client's
 * callback collectors over {@link DataPathCounters}: each callback reads the
 * single-writer counters (opaque reads) when scraped. The data path keeps
 * counting into its own {@code long[]} slots and never calls the client.
 */
final class DataPathMetrics {
    private static final DropReason[] REASONS = DropReason.values();
    private static final DataPathCounters.SchedulingOutcome[] OUTCOMES = DataPathCounters.SchedulingOutcome.values();

    private DataPathMetrics() {
    }

    static void register(PrometheusRegistry registry, DataPathCounters c, PrometheusProperties properties) {
        CounterWithCallback.builder(properties).name("jvs_dropped_packets_total")
                .help("Frames the data path dropped, by reason.")
                .labelNames("reason")
                .callback(cb -> {
                    for (DropReason r : REASONS) {
                        cb.call(c.drops(r), r.label());
                    }
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_scheduler_decisions_total")
                .help("How new connections got their real server: outcome=\"scheduled\" (the scheduler picked one), "
                        + "\"persistence_template\" (a template named it), \"no_destination\" (none available).")
                .labelNames("outcome")
                .callback(cb -> {
                    for (DataPathCounters.SchedulingOutcome o : OUTCOMES) {
                        cb.call(c.decisions(o), o.label());
                    }
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_sloppy_accepted_total")
                .help("Connections opened by a packet IPVS opens one with only under its sloppy sysctl "
                        + "(--sloppy-tcp: a TCP segment other than a SYN); UDP needs none.")
                .labelNames("protocol")
                .callback(cb -> cb.call(c.sloppyTcpAccepted(), "tcp"))
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_synproxy_total")
                .help("SYN proxy (--synproxy services): event=\"syn_ack\" (a SYN answered with a cookie), "
                        + "\"opened\" (an ACK with a valid cookie opened a connection), \"spliced\" (the real "
                        + "server's SYN-ACK joined to it), \"held\" (a client segment kept until then). Bad "
                        + "cookies are jvs_drops_total{reason=\"synproxy_bad_cookie\"}.")
                .labelNames("event")
                .callback(cb -> {
                    cb.call(c.synProxySynAckCount(), "syn_ack");
                    cb.call(c.synProxyOpenedCount(), "opened");
                    cb.call(c.synProxySplicedCount(), "spliced");
                    cb.call(c.synProxyHeldCount(), "held");
                })
                .register(registry);

        CounterWithCallback.builder(properties).name("jvs_embryonic_removed_total")
                .help("Embryonic TCP entries (SYN_RECV, SYNACK: the handshake never completed) removed by the "
                        + "SYN flood defence: by=\"reclaim\" to make room for a new connection in a full table, "
                        + "by=\"drop_entry\" by drop_entry's scans.")
                .labelNames("by")
                .callback(cb -> {
                    cb.call(c.embryonicReclaimed(), "reclaim");
                    cb.call(c.embryonicDropped(), "drop_entry");
                })
                .register(registry);
        GaugeWithCallback.builder(properties).name("jvs_defense_level")
                .help("The flood defence's current level per strategy (IPVS's sysctls drop_entry, drop_packet, "
                        + "secure_tcp: 0 off, 1 automatic and idle, 2 automatic and active, 3 always on).")
                .labelNames("strategy")
                .callback(cb -> {
                    cb.call(c.defenseLevel(0), "drop_entry");
                    cb.call(c.defenseLevel(1), "drop_packet");
                    cb.call(c.defenseLevel(2), "secure_tcp");
                })
                .register(registry);

        perPort(registry, properties, c, "jvs_port_rx_frames_total",
                "Frames the data path received on the port.", c::rxFrames);
        perPort(registry, properties, c, "jvs_port_rx_bytes_total",
                "Bytes the data path received on the port.", c::rxBytes);
        perPort(registry, properties, c, "jvs_port_tx_frames_total",
                "Frames the data path handed to the kernel to send on the port.", c::txFrames);
        perPort(registry, properties, c, "jvs_port_tx_bytes_total",
                "Bytes the data path handed to the kernel to send on the port.", c::txBytes);
        perPort(registry, properties, c, "jvs_port_kernel_drops_total",
                "Frames the kernel dropped on the port before jvs read them (receive ring full).", c::kernelDrops);

        counter(registry, properties, "jvs_ignored_frames_total", "Frames not for jvs, left to the kernel.",
                c::ignoredFrames);
        CounterWithCallback.builder(properties).name("jvs_event_loop_busy_seconds_total")
                .help("Time the data-path event loop spent working rather than waiting for frames.")
                .callback(cb -> cb.call(c.busyNanos() / 1e9))
                .register(registry);
        counter(registry, properties, "jvs_event_loop_allocated_bytes_total",
                "Bytes allocated by the data-path event-loop thread (flat while packets flow: no per-packet allocation).",
                c::eventLoopAllocatedBytes);

        gauge(registry, properties, "jvs_connection_table_entries", "Entries in the connection table.",
                c::connectionTableEntries);
        gauge(registry, properties, "jvs_connection_table_capacity",
                "Most entries the connection table holds (--conn-max).", c::connectionTableCapacity);
        gauge(registry, properties, "jvs_neighbour_entries", "Entries in the neighbour (ARP) cache.",
                c::neighbourEntries);
        gauge(registry, properties, "jvs_local_ports_in_use",
                "FULLNAT local ports held by connections, over all local addresses (--lport-range per address).",
                c::localPortsInUse);

        // No histogram-with-callback in the client: these two build the snapshot themselves.
        MetricMetadata tx = new MetricMetadata("jvs_tx_batch_size", "Frames per transmit flush.");
        registry.register(() -> batchHistogram(tx, c::txBatchBucket, c.txBatchFrames()));
        MetricMetadata rx = new MetricMetadata("jvs_rx_batch_size",
                "Frames handled per receive burst (one event-loop wake-up).");
        registry.register(() -> batchHistogram(rx, c::rxBatchBucket, c.rxBatchFrames()));
    }

    /** The per-worker families (see {@link PrometheusExposition#perWorker}). */
    static void registerWorkers(PrometheusRegistry registry, DataPathCounters[] workers,
                                PrometheusProperties properties) {
        CounterWithCallback.builder(properties).name("jvs_worker_rx_frames_total")
                .help("Frames the worker's rings received, all ports (PACKET_FANOUT's share of each interface).")
                .labelNames("worker")
                .callback(cb -> {
                    for (int w = 0; w < workers.length; w++) {
                        long n = 0;
                        for (int p = 0; p < workers[w].portCount(); p++) {
                            n += workers[w].rxFrames(p);
                        }
                        cb.call(n, Integer.toString(w));
                    }
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_worker_scheduler_decisions_total")
                .help("jvs_scheduler_decisions_total of one worker.")
                .labelNames("worker", "outcome")
                .callback(cb -> {
                    for (int w = 0; w < workers.length; w++) {
                        for (DataPathCounters.SchedulingOutcome o : OUTCOMES) {
                            cb.call(workers[w].decisions(o), Integer.toString(w), o.label());
                        }
                    }
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_worker_dropped_packets_total")
                .help("jvs_dropped_packets_total of one worker.")
                .labelNames("worker", "reason")
                .callback(cb -> {
                    for (int w = 0; w < workers.length; w++) {
                        for (DropReason r : REASONS) {
                            cb.call(workers[w].drops(r), Integer.toString(w), r.label());
                        }
                    }
                })
                .register(registry);
        CounterWithCallback.builder(properties).name("jvs_worker_event_loop_busy_seconds_total")
                .help("Time the worker's event loop spent working rather than waiting for frames.")
                .labelNames("worker")
                .callback(cb -> {
                    for (int w = 0; w < workers.length; w++) {
                        cb.call(workers[w].busyNanos() / 1e9, Integer.toString(w));
                    }
                })
                .register(registry);
        GaugeWithCallback.builder(properties).name("jvs_worker_connection_table_entries")
                .help("Entries in the worker's connection table.")
                .labelNames("worker")
                .callback(cb -> {
                    for (int w = 0; w < workers.length; w++) {
                        cb.call(workers[w].connectionTableEntries(), Integer.toString(w));
                    }
                })
                .register(registry);
    }

    private static void perPort(PrometheusRegistry registry, PrometheusProperties properties, DataPathCounters c,
                                String name, String help, IntToLongFunction value) {
        CounterWithCallback.builder(properties).name(name).help(help)
                .labelNames("port")
                .callback(cb -> {
                    for (int p = 0; p < c.portCount(); p++) {
                        cb.call(value.applyAsLong(p), c.portName(p));
                    }
                })
                .register(registry);
    }

    private static void counter(PrometheusRegistry registry, PrometheusProperties properties, String name,
                                String help, LongSupplier value) {
        CounterWithCallback.builder(properties).name(name).help(help)
                .callback(cb -> cb.call(value.getAsLong()))
                .register(registry);
    }

    private static void gauge(PrometheusRegistry registry, PrometheusProperties properties, String name,
                              String help, LongSupplier value) {
        GaugeWithCallback.builder(properties).name(name).help(help)
                .callback(cb -> cb.call(value.getAsLong()))
                .register(registry);
    }

    /**
     * A classic histogram from the non-cumulative bucket counters; its _count is the sum of the
     * buckets read here (the +Inf bucket by definition), not a second, possibly newer, read.
     */
    private static HistogramSnapshot batchHistogram(MetricMetadata metadata, IntToLongFunction bucket, long sum) {
        double[] bounds = new double[DataPathCounters.BATCH_BUCKETS];
        long[] counts = new long[DataPathCounters.BATCH_BUCKETS];
        for (int b = 0; b < bounds.length; b++) {
            int bound = DataPathCounters.txBatchBucketBound(b);
            bounds[b] = bound == Integer.MAX_VALUE ? Double.POSITIVE_INFINITY : bound;
            counts[b] = bucket.applyAsLong(b);
        }
        HistogramDataPointSnapshot point = HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, counts))
                .sum(sum)
                .build();
        return new HistogramSnapshot(metadata, List.of(point));
    }
}
