package io.jvs.forwarder.metrics;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.sync.SyncCounters;
import io.jvs.forwarder.vrrp.VrrpStatus;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.config.PrometheusProperties;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MetricNameFilter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Every metric of the director, through the Prometheus Java client: one
 * {@link PrometheusRegistry} of callback collectors that read the data path's
 * single-writer counters and the published service snapshot when scraped, plus
 * the client's standard JVM and process metrics. Nothing is counted twice and
 * nothing runs on the data path: the collectors run on the metrics thread, at
 * scrape time, and may allocate.
 *
 * <p>Families (one {@code HELP}/{@code TYPE} pair each; the client's writers leave
 * out a family that has no samples, e.g. the per-service ones while no service is
 * configured and the health ones while nothing is health-checked):
 * <pre>
 * {@link ServiceMetrics}, one {@link ServiceRegistry#current()} snapshot per scrape:
 * jvs_service_connections_total{service}                   counter  connections scheduled to the service
 * jvs_service_packets_total{service,direction}             counter  direction="in" (client to server) | "out"
 * jvs_service_bytes_total{service,direction}               counter
 * jvs_real_server_connections_total{service,real_server}   counter
 * jvs_real_server_packets_total{service,real_server,direction}  counter
 * jvs_real_server_bytes_total{service,real_server,direction}    counter
 * jvs_real_server_active_connections{service,real_server}   gauge   ipvsadm ActiveConn (ESTABLISHED)
 * jvs_real_server_inactive_connections{service,real_server} gauge   ipvsadm InActConn (any other state)
 * jvs_real_server_weight{service,real_server}               gauge   0 = quiesced
 * jvs_real_server_persistent_connections{service,real_server} gauge persistence templates (ipvsadm PersistConn)
 * jvs_real_server_overloaded{service,real_server}           gauge   1 = over its -x threshold (no new connections)
 * jvs_service_info{service,scheduler}                       info    1 per configured service (text format: gauge)
 * jvs_real_server_info{service,real_server,forward}         info    1 per real server; forward = ipvsadm's Route|Tunnel|Masq|FullNat
 * {@link HealthMetrics}:
 * jvs_real_server_up{service,real_server}                   gauge   1 = its health checks pass (checked servers only)
 * jvs_health_transitions_total{service,real_server,to}      counter to="up" | "down": health state changes
 * {@link VrrpMetrics} (only with vrrp_instance configured):
 * jvs_vrrp_state{instance}                  gauge    0 init, 1 backup, 2 master, 3 fault
 * jvs_vrrp_transitions_total{instance}      counter  state changes
 * jvs_vrrp_adverts_sent_total{instance}     counter
 * jvs_vrrp_adverts_received_total{instance} counter  advertisements that passed every check
 * jvs_vrrp_adverts_dropped_total{reason}    counter  received packets not taken (every reason, 0 included)
 * {@link DataPathMetrics}, from {@link DataPathCounters}:
 * jvs_scheduler_decisions_total{outcome}  counter  scheduled | persistence_template | no_destination
 * jvs_dropped_packets_total{reason}     counter  every {@link DropReason} label, 0 included
 * jvs_synproxy_total{event}             counter  syn_ack | opened | spliced | held (the SYN proxy)
 * jvs_port_rx_frames_total{port}        counter  frames the data path received on the port
 * jvs_port_rx_bytes_total{port}         counter
 * jvs_port_tx_frames_total{port}        counter  frames handed to the kernel for transmit
 * jvs_port_tx_bytes_total{port}         counter
 * jvs_port_kernel_drops_total{port}     counter  dropped by the kernel before jvs saw them (ring full)
 * jvs_ignored_frames_total              counter  frames not for jvs, left to the kernel
 * jvs_tx_batch_size                     histogram frames per transmit flush: _bucket{le="1.0"|"4.0"|"16.0"|"64.0"|"+Inf"},
 *                                                 _sum = frames, _count = flushes
 * jvs_rx_batch_size                     histogram frames per receive burst (one epoll wake-up), same buckets
 * jvs_event_loop_busy_seconds_total     counter  time the event loop spent working rather than waiting
 * jvs_connection_table_entries          gauge
 * jvs_connection_table_capacity         gauge    (--conn-max)
 * jvs_event_loop_allocated_bytes_total  counter  bytes the event-loop thread allocated (JVM per-thread counter)
 * jvs_neighbour_entries                 gauge    neighbour (ARP) cache entries
 * jvs_local_ports_in_use                gauge    FULLNAT local ports held (all local addresses)
 * per worker, only with --workers 2 or more (the families above are the sum over the workers):
 * jvs_worker_rx_frames_total{worker}                 counter  frames the worker's rings received (all ports)
 * jvs_worker_scheduler_decisions_total{worker,outcome} counter as jvs_scheduler_decisions_total
 * jvs_worker_dropped_packets_total{worker,reason}    counter  as jvs_dropped_packets_total
 * jvs_worker_event_loop_busy_seconds_total{worker}   counter
 * jvs_worker_connection_table_entries{worker}        gauge
 * jvs_worker_real_server_connections_total{worker,service,real_server}           counter
 * jvs_worker_real_server_packets_total{worker,service,real_server,direction}     counter
 * jvs_worker_real_server_bytes_total{worker,service,real_server,direction}       counter
 * EcmpMetrics (io.jvs.forwarder.announce; with --announce-table only, {@link #register}ed by Main):
 * jvs_announced_vips                    gauge    VIPs whose route BIRD exports now
 * jvs_announced_vip{vip}                gauge    1 per announced VIP
 * jvs_bird_up                           gauge    1 = BIRD's control socket answered the last poll (1 s)
 * jvs_bgp_session_up{protocol}          gauge    1 = BIRD's BGP protocol is up and Established
 * jvs_bfd_session_up{neighbor,interface} gauge   1 = BIRD's BFD session is Up
 * jvs_config_digest_info{digest}        info     sha256 prefix of the running services (local addresses left out)
 * {@link SyncMetrics} (the director's; not in tests that build an exposition without sync):
 * jvs_sync_messages_total{direction}, jvs_sync_connections_total{direction},
 * jvs_sync_installed_total{action}, jvs_sync_dropped_total{reason}, jvs_sync_queue_depth{queue}
 * {@link JvmMetrics} (the client's standard names, so stock JVM dashboards work):
 * jvm_memory_used_bytes{area}, jvm_memory_committed_bytes{area}, jvm_memory_max_bytes{area},
 * jvm_memory_pool_*{pool}, jvm_gc_collection_seconds{gc} (summary), jvm_threads_current,
 * jvm_threads_state{state}, jvm_classes_*, jvm_buffer_pool_*{pool}, jvm_runtime_info, ...,
 * process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds, process_virtual_memory_bytes
 * (not jvm_threads_deadlocked and jvm_threads_deadlocked_monitor: see {@link #NOT_SCRAPED})
 * </pre>
 * The {@code service} label is {@link VirtualService#label()} ("TCP/10.0.0.100:80"),
 * {@code real_server} is {@link RealServer#endpoint()} ("10.0.0.11:80"). Gauges
 * not yet registered with {@link DataPathCounters} read 0. The client sorts labels
 * by name and writes values as floating point ({@code 2.0}); Prometheus reads both
 * as it read jvs' own writer's output before.
 *
 * <p>{@link #answer} picks the format by the client library's content
 * negotiation: protobuf for {@code application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily}, OpenMetrics 1.0 for
 * {@code application/openmetrics-text} (what Prometheus asks for first), else
 * the text format 0.0.4 ({@link #CONTENT_TYPE}).
 */
public final class PrometheusExposition implements MetricsServer.Exposition {
    /** The Content-Type of the Prometheus text format 0.0.4 (no or another Accept header). */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    /**
     * The client's JVM families that are registered but never collected. Each of these two calls
     * ThreadMXBean's deadlock search, a stop-the-world safepoint: two per scrape stalled the
     * data-path thread for 10-110 us each (measured with -Xlog:safepoint while it was busy). A
     * director whose event loop deadlocked would show it as jvs_event_loop_busy_seconds_total
     * stopping and the port counters going flat, without a safepoint.
     */
    static final Predicate<String> NOT_SCRAPED = MetricNameFilter.builder()
            .nameMustNotBeEqualTo("jvm_threads_deadlocked", "jvm_threads_deadlocked_monitor")
            .build();

    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final ExpositionFormats formats;

    public PrometheusExposition(ServiceRegistry registry, DataPathCounters counters) {
        this(registry, counters, HealthSource.NONE);
    }

    public PrometheusExposition(ServiceRegistry registry, DataPathCounters counters, HealthSource health) {
        this(registry, counters, health, VrrpStatus.Source.NONE, null);
    }

    public PrometheusExposition(ServiceRegistry registry, DataPathCounters counters, HealthSource health,
                                VrrpStatus.Source vrrp) {
        this(registry, counters, health, vrrp, null);
    }

    /** With the connection sync daemons' families ({@link SyncMetrics}) when sync is not null. */
    public PrometheusExposition(ServiceRegistry registry, DataPathCounters counters, HealthSource health,
                                VrrpStatus.Source vrrp, SyncCounters sync) {
        Objects.requireNonNull(registry);
        Objects.requireNonNull(counters);
        Objects.requireNonNull(health);
        // The client's own configuration (prometheus.properties, io.prometheus.* system properties).
        PrometheusProperties properties = PrometheusProperties.get();
        formats = ExpositionFormats.init(properties);
        prometheus.register(new ServiceMetrics(registry));
        prometheus.register(new HealthMetrics(health));
        prometheus.register(new VrrpMetrics(vrrp));
        DataPathMetrics.register(prometheus, counters, properties);
        if (sync != null) {
            SyncMetrics.register(prometheus, sync, properties);
        }
        JvmMetrics.builder(properties).register(prometheus);
    }

    /**
     * With {@code --workers} 2 or more: the per-worker families ({@code jvs_worker_*}, label
     * {@code worker}) over each worker's own counters; the families above show their sum.
     */
    public PrometheusExposition perWorker(DataPathCounters[] workers) {
        DataPathMetrics.registerWorkers(prometheus, workers, PrometheusProperties.get());
        return this;
    }

    /**
     * Adds a collector after start (the ECMP profile's {@code jvs_announced_vips}, BGP and BFD
     * state, configuration digest: io.jvs.forwarder.announce.EcmpMetrics).
     */
    public void register(io.prometheus.metrics.model.registry.MultiCollector collector) {
        prometheus.register(collector);
    }

    /** One scrape in the Prometheus text format 0.0.4. */
    public String scrape() {
        return new String(write(formats.getPrometheusTextFormatWriter(), EscapingScheme.DEFAULT),
                StandardCharsets.UTF_8);
    }

    /** One scrape in the format {@code accept} asks for (content negotiation as the client's own HTTP exporter). */
    @Override
    public MetricsServer.Content answer(String accept) {
        ExpositionFormatWriter writer = formats.findWriter(accept);
        byte[] body = write(writer, EscapingScheme.fromAcceptHeader(accept));
        return new MetricsServer.Content(200, writer.getContentType(), body);
    }

    private byte[] write(ExpositionFormatWriter writer, EscapingScheme escaping) {
        MetricSnapshots snapshots = prometheus.scrape(NOT_SCRAPED);
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
        try {
            writer.write(out, snapshots, escaping);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + writer.getContentType(), e); // not from a byte array
        }
        return out.toByteArray();
    }
}
