package io.jvs.forwarder.metrics;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Objects;

/**
 * Renders every jvs metric in the Prometheus text exposition format 0.0.4
 * ({@code # HELP}, {@code # TYPE}, then the samples of that family, families
 * never interleaved). Runs on the metrics thread, off the data path, and may
 * allocate; it reads the data path's counters with the staleness they allow
 * and takes one {@link ServiceRegistry#current()} snapshot per scrape, so all
 * service families of one scrape describe the same table.
 *
 * <p>Families (every one always has its {@code HELP}/{@code TYPE} lines; the
 * per-service ones have no samples while no service is configured):
 * <pre>
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
 * jvs_service_info{service,scheduler}                       gauge   1 per configured service
 * jvs_real_server_info{service,real_server,forward}         gauge   1 per real server; forward = ipvsadm's Route|Tunnel|Masq|FullNat
 * jvs_scheduler_decisions_total{outcome}  counter  scheduled | persistence_template | no_destination
 * jvs_real_server_up{service,real_server}                   gauge   1 = its health checks pass (checked servers only)
 * jvs_health_transitions_total{service,real_server,to}      counter to="up" | "down": health state changes
 * jvs_dropped_packets_total{reason}     counter  every {@link DropReason} label, 0 included
 * jvs_port_rx_frames_total{port}        counter  frames the data path received on the port
 * jvs_port_rx_bytes_total{port}         counter
 * jvs_port_tx_frames_total{port}        counter  frames handed to the kernel for transmit
 * jvs_port_tx_bytes_total{port}         counter
 * jvs_port_kernel_drops_total{port}     counter  dropped by the kernel before jvs saw them (ring full)
 * jvs_ignored_frames_total              counter  frames not for jvs, left to the kernel
 * jvs_tx_batch_size                     histogram frames per transmit flush: _bucket{le="1"|"4"|"16"|"64"|"+Inf"}
 *                                                 (cumulative, as Prometheus histograms are), _sum = frames, _count = flushes
 * jvs_rx_batch_size                     histogram frames per receive burst (one epoll wake-up), same buckets
 * jvs_event_loop_busy_seconds_total     counter  time the event loop spent working rather than waiting
 * jvs_connection_table_entries          gauge
 * jvs_connection_table_capacity         gauge    (--conn-max)
 * jvs_event_loop_allocated_bytes_total  counter  bytes the event-loop thread allocated (JVM per-thread counter)
 * jvs_neighbour_entries                 gauge    neighbour (ARP) cache entries
 * jvs_local_ports_in_use                gauge    FULLNAT local ports held (all local addresses)
 * jvs_jvm_heap_used_bytes               gauge
 * jvs_jvm_heap_committed_bytes          gauge
 * jvs_jvm_gc_collections_total{gc}      counter  per collector (java.lang.management)
 * jvs_jvm_gc_seconds_total{gc}          counter  approximate accumulated collection time
 * jvs_jvm_non_heap_used_bytes           gauge
 * jvs_jvm_threads                       gauge    live JVM threads
 * process_cpu_seconds_total             counter  user + system CPU of the director process (standard name)
 * process_resident_memory_bytes         gauge    (standard name; VmRSS of /proc/self/status)
 * process_open_fds, process_max_fds     gauge    (standard names)
 * process_start_time_seconds            gauge    Unix time the process started (standard name)
 * </pre>
 * The text format is written here rather than with the Prometheus Java client:
 * jvs then has no metrics dependency, a scrape reads the data path's
 * single-writer counters directly (no second copy of every counter kept in
 * sync on the hot path), and the families and labels are fixed by this one
 * file. The {@code process_*} names are the ones the official clients use, so
 * stock dashboards find them.
 * The {@code service} label is {@link VirtualService#label()} ("TCP/10.0.0.100:80"),
 * {@code real_server} is {@link RealServer#endpoint()} ("10.0.0.11:80"). Gauges
 * not yet registered with {@link DataPathCounters} read 0.
 */
public final class PrometheusExposition {
    /** The Content-Type of the text format this class writes. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final DropReason[] REASONS = DropReason.values();

    private final ServiceRegistry registry;
    private final DataPathCounters counters;
    private final HealthSource health;
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
    private final java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.UnixOperatingSystemMXBean os =
            (com.sun.management.UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    public PrometheusExposition(ServiceRegistry registry, DataPathCounters counters) {
        this(registry, counters, HealthSource.NONE);
    }

    public PrometheusExposition(ServiceRegistry registry, DataPathCounters counters, HealthSource health) {
        this.registry = Objects.requireNonNull(registry);
        this.counters = Objects.requireNonNull(counters);
        this.health = Objects.requireNonNull(health);
    }

    /** One scrape: the whole exposition as text. */
    public String scrape() {
        StringBuilder out = new StringBuilder(8192);
        writeTo(out);
        return out.toString();
    }

    /** Appends one scrape to {@code out}. */
    public void writeTo(StringBuilder out) {
        writeServices(out, registry.current());
        writeHealth(out, health.realServerHealth());
        writeDataPath(out);
        writeJvm(out);
    }

    // ---------------------------------------------------------------- services and real servers

    private static void writeServices(StringBuilder out, ServiceTable table) {
        List<VirtualService> services = table.services();
        String[] svc = new String[services.size()];
        String[][] rs = new String[services.size()][];
        for (int i = 0; i < svc.length; i++) {
            VirtualService s = services.get(i);
            svc[i] = "service=\"" + escape(s.label()) + "\"";
            rs[i] = new String[s.dests.length];
            for (int j = 0; j < s.dests.length; j++) {
                rs[i][j] = svc[i] + ",real_server=\"" + escape(s.dests[j].endpoint()) + "\"";
            }
        }

        header(out, "jvs_service_connections_total", "counter",
                "Connections the virtual service scheduled.");
        for (int i = 0; i < svc.length; i++) {
            sample(out, "jvs_service_connections_total", svc[i], services.get(i).stats.conns());
        }
        header(out, "jvs_service_packets_total", "counter",
                "Packets of the virtual service: direction=\"in\" from clients, \"out\" from real servers.");
        for (int i = 0; i < svc.length; i++) {
            DestStats st = services.get(i).stats;
            inOut(out, "jvs_service_packets_total", svc[i], st.inPkts(), st.outPkts());
        }
        header(out, "jvs_service_bytes_total", "counter",
                "Bytes of the virtual service: direction=\"in\" from clients, \"out\" from real servers.");
        for (int i = 0; i < svc.length; i++) {
            DestStats st = services.get(i).stats;
            inOut(out, "jvs_service_bytes_total", svc[i], st.inBytes(), st.outBytes());
        }

        header(out, "jvs_real_server_connections_total", "counter",
                "Connections scheduled to the real server.");
        forEachDest(services, rs, (l, d) -> sample(out, "jvs_real_server_connections_total", l, d.stats.conns()));
        header(out, "jvs_real_server_packets_total", "counter",
                "Packets of the real server's connections: direction=\"in\" from clients, \"out\" from the server.");
        forEachDest(services, rs, (l, d) ->
                inOut(out, "jvs_real_server_packets_total", l, d.stats.inPkts(), d.stats.outPkts()));
        header(out, "jvs_real_server_bytes_total", "counter",
                "Bytes of the real server's connections: direction=\"in\" from clients, \"out\" from the server.");
        forEachDest(services, rs, (l, d) ->
                inOut(out, "jvs_real_server_bytes_total", l, d.stats.inBytes(), d.stats.outBytes()));
        header(out, "jvs_real_server_active_connections", "gauge",
                "Connections to the real server in ESTABLISHED state (ipvsadm ActiveConn).");
        forEachDest(services, rs, (l, d) ->
                sample(out, "jvs_real_server_active_connections", l, d.stats.activeConnsVolatile()));
        header(out, "jvs_real_server_inactive_connections", "gauge",
                "Connections to the real server in any other state (ipvsadm InActConn).");
        forEachDest(services, rs, (l, d) ->
                sample(out, "jvs_real_server_inactive_connections", l, d.stats.inactConnsVolatile()));
        header(out, "jvs_real_server_weight", "gauge",
                "Configured weight of the real server (0 = quiesced: no new connections).");
        forEachDest(services, rs, (l, d) -> sample(out, "jvs_real_server_weight", l, d.weight));
        header(out, "jvs_real_server_persistent_connections", "gauge",
                "Persistence templates pointing at the real server (ipvsadm PersistConn).");
        forEachDest(services, rs, (l, d) ->
                sample(out, "jvs_real_server_persistent_connections", l, d.stats.persistConnsVolatile()));
        header(out, "jvs_real_server_overloaded", "gauge",
                "1 while the real server is over its upper connection threshold (-x) and takes no new connections.");
        forEachDest(services, rs, (l, d) ->
                sample(out, "jvs_real_server_overloaded", l, d.stats.overloadedVolatile() ? 1 : 0));

        header(out, "jvs_service_info", "gauge", "1 for every configured virtual service, labelled with its scheduler.");
        for (int i = 0; i < svc.length; i++) {
            sample(out, "jvs_service_info",
                    svc[i] + ",scheduler=\"" + escape(services.get(i).schedulerName) + "\"", 1);
        }
        header(out, "jvs_real_server_info", "gauge",
                "1 for every configured real server, labelled with its forwarding method (ipvsadm's Forward column).");
        forEachDest(services, rs, (l, d) ->
                sample(out, "jvs_real_server_info", l + ",forward=\"" + d.method.ipvsadmName() + "\"", 1));
    }

    private static void writeHealth(StringBuilder out, List<HealthSource.RealServerHealth> servers) {
        String[] labels = new String[servers.size()];
        for (int i = 0; i < labels.length; i++) {
            HealthSource.RealServerHealth h = servers.get(i);
            labels[i] = "service=\"" + escape(h.service()) + "\",real_server=\"" + escape(h.realServer()) + "\"";
        }
        header(out, "jvs_real_server_up", "gauge",
                "1 while the real server's health checks pass, 0 while it is out of rotation (health-checked servers only).");
        for (int i = 0; i < labels.length; i++) {
            sample(out, "jvs_real_server_up", labels[i], servers.get(i).up() ? 1 : 0);
        }
        header(out, "jvs_health_transitions_total", "counter",
                "Health state changes of the real server: to=\"up\" (back in rotation) or \"down\" (out).");
        for (int i = 0; i < labels.length; i++) {
            HealthSource.RealServerHealth h = servers.get(i);
            sample(out, "jvs_health_transitions_total", labels[i] + ",to=\"up\"", h.upTransitions());
            sample(out, "jvs_health_transitions_total", labels[i] + ",to=\"down\"", h.downTransitions());
        }
    }

    private interface DestSample {
        void write(String labels, RealServer dest);
    }

    private static void forEachDest(List<VirtualService> services, String[][] labels, DestSample w) {
        for (int i = 0; i < labels.length; i++) {
            RealServer[] dests = services.get(i).dests;
            for (int j = 0; j < dests.length; j++) {
                w.write(labels[i][j], dests[j]);
            }
        }
    }

    private static void inOut(StringBuilder out, String name, String labels, long in, long outValue) {
        sample(out, name, labels + ",direction=\"in\"", in);
        sample(out, name, labels + ",direction=\"out\"", outValue);
    }

    // ---------------------------------------------------------------- data path

    private void writeDataPath(StringBuilder out) {
        DataPathCounters c = counters;
        header(out, "jvs_dropped_packets_total", "counter", "Frames the data path dropped, by reason.");
        for (DropReason r : REASONS) {
            sample(out, "jvs_dropped_packets_total", "reason=\"" + escape(r.label()) + "\"", c.drops(r));
        }

        String[] port = new String[c.portCount()];
        for (int p = 0; p < port.length; p++) {
            port[p] = "port=\"" + escape(c.portName(p)) + "\"";
        }
        header(out, "jvs_port_rx_frames_total", "counter", "Frames the data path received on the port.");
        for (int p = 0; p < port.length; p++) {
            sample(out, "jvs_port_rx_frames_total", port[p], c.rxFrames(p));
        }
        header(out, "jvs_port_rx_bytes_total", "counter", "Bytes the data path received on the port.");
        for (int p = 0; p < port.length; p++) {
            sample(out, "jvs_port_rx_bytes_total", port[p], c.rxBytes(p));
        }
        header(out, "jvs_port_tx_frames_total", "counter", "Frames the data path handed to the kernel to send on the port.");
        for (int p = 0; p < port.length; p++) {
            sample(out, "jvs_port_tx_frames_total", port[p], c.txFrames(p));
        }
        header(out, "jvs_port_tx_bytes_total", "counter", "Bytes the data path handed to the kernel to send on the port.");
        for (int p = 0; p < port.length; p++) {
            sample(out, "jvs_port_tx_bytes_total", port[p], c.txBytes(p));
        }
        header(out, "jvs_port_kernel_drops_total", "counter",
                "Frames the kernel dropped on the port before jvs read them (receive ring full).");
        for (int p = 0; p < port.length; p++) {
            sample(out, "jvs_port_kernel_drops_total", port[p], c.kernelDrops(p));
        }

        header(out, "jvs_ignored_frames_total", "counter", "Frames not for jvs, left to the kernel.");
        sample(out, "jvs_ignored_frames_total", null, c.ignoredFrames());

        header(out, "jvs_scheduler_decisions_total", "counter",
                "How new connections got their real server: outcome=\"scheduled\" (the scheduler picked one), "
                        + "\"persistence_template\" (a template named it), \"no_destination\" (none available).");
        for (DataPathCounters.SchedulingOutcome o : DataPathCounters.SchedulingOutcome.values()) {
            sample(out, "jvs_scheduler_decisions_total", "outcome=\"" + o.label() + "\"", c.decisions(o));
        }

        header(out, "jvs_tx_batch_size", "histogram", "Frames per transmit flush.");
        batchHistogram(out, "jvs_tx_batch_size", c::txBatchBucket, c.txBatchFrames());
        header(out, "jvs_rx_batch_size", "histogram", "Frames handled per receive burst (one event-loop wake-up).");
        batchHistogram(out, "jvs_rx_batch_size", c::rxBatchBucket, c.rxBatchFrames());

        header(out, "jvs_event_loop_busy_seconds_total", "counter",
                "Time the data-path event loop spent working rather than waiting for frames.");
        sample(out, "jvs_event_loop_busy_seconds_total", null, c.busyNanos() / 1e9);

        header(out, "jvs_connection_table_entries", "gauge", "Entries in the connection table.");
        sample(out, "jvs_connection_table_entries", null, c.connectionTableEntries());
        header(out, "jvs_connection_table_capacity", "gauge", "Most entries the connection table holds (--conn-max).");
        sample(out, "jvs_connection_table_capacity", null, c.connectionTableCapacity());
        header(out, "jvs_event_loop_allocated_bytes_total", "counter",
                "Bytes allocated by the data-path event-loop thread (flat while packets flow: no per-packet allocation).");
        sample(out, "jvs_event_loop_allocated_bytes_total", null, c.eventLoopAllocatedBytes());
        header(out, "jvs_neighbour_entries", "gauge", "Entries in the neighbour (ARP) cache.");
        sample(out, "jvs_neighbour_entries", null, c.neighbourEntries());
        header(out, "jvs_local_ports_in_use", "gauge",
                "FULLNAT local ports held by connections, over all local addresses (--lport-range per address).");
        sample(out, "jvs_local_ports_in_use", null, c.localPortsInUse());
    }

    private static void batchHistogram(StringBuilder out, String name, java.util.function.IntToLongFunction bucket,
                                       long sum) {
        long cumulative = 0;
        for (int b = 0; b < DataPathCounters.BATCH_BUCKETS; b++) {
            cumulative += bucket.applyAsLong(b);
            int bound = DataPathCounters.txBatchBucketBound(b);
            String le = bound == Integer.MAX_VALUE ? "+Inf" : Integer.toString(bound);
            sample(out, name + "_bucket", "le=\"" + le + "\"", cumulative);
        }
        sample(out, name + "_sum", null, sum);
        // _count equals the +Inf bucket by definition: use the same figure,
        // not a second (possibly newer) read of the batch counter.
        sample(out, name + "_count", null, cumulative);
    }

    // ---------------------------------------------------------------- JVM

    private void writeJvm(StringBuilder out) {
        MemoryUsage heap = memory.getHeapMemoryUsage();
        header(out, "jvs_jvm_heap_used_bytes", "gauge", "JVM heap in use.");
        sample(out, "jvs_jvm_heap_used_bytes", null, heap.getUsed());
        header(out, "jvs_jvm_heap_committed_bytes", "gauge", "JVM heap committed by the operating system.");
        sample(out, "jvs_jvm_heap_committed_bytes", null, heap.getCommitted());

        header(out, "jvs_jvm_gc_collections_total", "counter", "Garbage collections, by collector.");
        for (GarbageCollectorMXBean gc : collectors) {
            long n = gc.getCollectionCount();
            if (n >= 0) {
                sample(out, "jvs_jvm_gc_collections_total", "gc=\"" + escape(gc.getName()) + "\"", n);
            }
        }
        header(out, "jvs_jvm_gc_seconds_total", "counter", "Approximate time spent in garbage collection, by collector.");
        for (GarbageCollectorMXBean gc : collectors) {
            long ms = gc.getCollectionTime();
            if (ms >= 0) {
                sample(out, "jvs_jvm_gc_seconds_total", "gc=\"" + escape(gc.getName()) + "\"", ms / 1e3);
            }
        }
        header(out, "jvs_jvm_non_heap_used_bytes", "gauge", "JVM non-heap memory in use (metaspace, code cache).");
        sample(out, "jvs_jvm_non_heap_used_bytes", null, memory.getNonHeapMemoryUsage().getUsed());
        header(out, "jvs_jvm_threads", "gauge", "Live JVM threads.");
        sample(out, "jvs_jvm_threads", null, threads.getThreadCount());
        writeProcess(out);
    }

    private void writeProcess(StringBuilder out) {
        header(out, "process_cpu_seconds_total", "counter", "User and system CPU time of the director process.");
        sample(out, "process_cpu_seconds_total", null, os.getProcessCpuTime() / 1e9);
        header(out, "process_resident_memory_bytes", "gauge", "Resident memory of the director process.");
        sample(out, "process_resident_memory_bytes", null, residentBytes());
        header(out, "process_open_fds", "gauge", "Open file descriptors.");
        sample(out, "process_open_fds", null, os.getOpenFileDescriptorCount());
        header(out, "process_max_fds", "gauge", "Most file descriptors the process may open.");
        sample(out, "process_max_fds", null, os.getMaxFileDescriptorCount());
        header(out, "process_start_time_seconds", "gauge", "Start time of the process, seconds since the Unix epoch.");
        sample(out, "process_start_time_seconds", null, ManagementFactory.getRuntimeMXBean().getStartTime() / 1e3);
    }

    /** Resident set size: VmRSS of /proc/self/status (in kB there, so no page-size guess); 0 without procfs. */
    static long residentBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim()) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // no procfs: report 0 rather than fail the scrape
        }
        return 0;
    }

    // ---------------------------------------------------------------- text format

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ');
        escapeHelp(out, help);
        out.append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, long value) {
        start(out, name, labels).append(value).append('\n');
    }

    private static void sample(StringBuilder out, String name, String labels, double value) {
        start(out, name, labels).append(formatDouble(value)).append('\n');
    }

    private static StringBuilder start(StringBuilder out, String name, String labels) {
        out.append(name);
        if (labels != null) {
            out.append('{').append(labels).append('}');
        }
        return out.append(' ');
    }

    static String formatDouble(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        return Double.toString(v);
    }

    /** A label value as the text format wants it: backslash, double quote and line feed escaped. */
    static String escape(String value) {
        StringBuilder sb = null;
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            String rep = switch (ch) {
                case '\\' -> "\\\\";
                case '"' -> "\\\"";
                case '\n' -> "\\n";
                default -> null;
            };
            if (rep != null && sb == null) {
                sb = new StringBuilder(value.length() + 8).append(value, 0, i);
            }
            if (sb != null) {
                if (rep != null) {
                    sb.append(rep);
                } else {
                    sb.append(ch);
                }
            }
        }
        return sb == null ? value : sb.toString();
    }

    /** HELP text escaping: backslash and line feed (a double quote stays as it is). */
    private static void escapeHelp(StringBuilder out, String help) {
        for (int i = 0; i < help.length(); i++) {
            char ch = help.charAt(i);
            switch (ch) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(ch);
            }
        }
    }
}
