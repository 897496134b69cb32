package io.jvs.forwarder.metrics;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TestSchedulers;
import io.jvs.forwarder.service.VirtualService;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class PrometheusExpositionTest {

    private static final String WEB = "service=\"TCP/10.0.0.100:80\"";
    private static final String RS1 = WEB + ",real_server=\"10.0.0.11:80\"";
    private static final String RS2 = WEB + ",real_server=\"10.0.0.12:80\"";

    private static ServiceRegistry registryWithTwoServices() {
        int vip = Ipv4Address.parse("10.0.0.100");
        ServiceSpec web = new ServiceSpec(Protocol.TCP, vip, 80, "rr")
                .withDest(new ServiceSpec.Dest(Ipv4Address.parse("10.0.0.11"), 80, 1, ForwardMethod.DR))
                .withDest(new ServiceSpec.Dest(Ipv4Address.parse("10.0.0.12"), 80, 3, ForwardMethod.DR));
        ServiceSpec dns = new ServiceSpec(Protocol.UDP, vip, 53, "rr");
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(web, dns), registry.current()));
        return registry;
    }

    @Test
    void servicesAndRealServers() {
        ServiceRegistry registry = registryWithTwoServices();
        VirtualService web = registry.current().services().get(0);
        web.stats.connCreated();
        web.stats.connCreated();
        web.stats.inPacket(100);
        web.stats.inPacket(60);
        web.stats.outPacket(1500);
        RealServer rs1 = web.dest(Ipv4Address.parse("10.0.0.11"), 80);
        rs1.stats.connCreated();
        rs1.stats.inPacket(100);
        rs1.stats.outPacket(1500);
        rs1.stats.addActive(1);
        rs1.stats.addInactive(2);

        String text = new PrometheusExposition(registry, new DataPathCounters("eth0")).scrape();
        Map<String, String> s = samples(text);

        assertEquals("2", s.get("jvs_service_connections_total{" + WEB + "}"));
        assertEquals("2", s.get("jvs_service_packets_total{" + WEB + ",direction=\"in\"}"));
        assertEquals("1", s.get("jvs_service_packets_total{" + WEB + ",direction=\"out\"}"));
        assertEquals("160", s.get("jvs_service_bytes_total{" + WEB + ",direction=\"in\"}"));
        assertEquals("1500", s.get("jvs_service_bytes_total{" + WEB + ",direction=\"out\"}"));
        assertEquals("0", s.get("jvs_service_connections_total{service=\"UDP/10.0.0.100:53\"}"));

        assertEquals("1", s.get("jvs_real_server_connections_total{" + RS1 + "}"));
        assertEquals("1", s.get("jvs_real_server_packets_total{" + RS1 + ",direction=\"in\"}"));
        assertEquals("1", s.get("jvs_real_server_packets_total{" + RS1 + ",direction=\"out\"}"));
        assertEquals("100", s.get("jvs_real_server_bytes_total{" + RS1 + ",direction=\"in\"}"));
        assertEquals("1500", s.get("jvs_real_server_bytes_total{" + RS1 + ",direction=\"out\"}"));
        assertEquals("1", s.get("jvs_real_server_active_connections{" + RS1 + "}"));
        assertEquals("2", s.get("jvs_real_server_inactive_connections{" + RS1 + "}"));
        assertEquals("1", s.get("jvs_real_server_weight{" + RS1 + "}"));
        assertEquals("3", s.get("jvs_real_server_weight{" + RS2 + "}"));
        assertEquals("0", s.get("jvs_real_server_connections_total{" + RS2 + "}"));
        assertEquals("0", s.get("jvs_real_server_persistent_connections{" + RS1 + "}"));
        assertEquals("0", s.get("jvs_real_server_overloaded{" + RS1 + "}"));
        assertEquals("1", s.get("jvs_service_info{" + WEB + ",scheduler=\"rr\"}"));
        assertEquals("1", s.get("jvs_real_server_info{" + RS1 + ",forward=\"Route\"}"));
    }

    @Test
    void persistenceAndOverload() {
        ServiceRegistry registry = registryWithTwoServices();
        RealServer rs2 = registry.current().services().get(0).dest(Ipv4Address.parse("10.0.0.12"), 80);
        rs2.stats.addPersistent(3);
        rs2.stats.setOverloaded(true);
        Map<String, String> s = samples(new PrometheusExposition(registry, new DataPathCounters("eth0")).scrape());
        assertEquals("3", s.get("jvs_real_server_persistent_connections{" + RS2 + "}"));
        assertEquals("1", s.get("jvs_real_server_overloaded{" + RS2 + "}"));
        assertEquals("0", s.get("jvs_real_server_overloaded{" + RS1 + "}"));
    }

    @Test
    void schedulingDecisionsAndReceiveBursts() {
        DataPathCounters c = new DataPathCounters("eth0");
        c.decision(DataPathCounters.SchedulingOutcome.PERSISTENCE_TEMPLATE);
        c.rxBatch(3);
        c.rxBatch(40);
        Map<String, String> s = samples(new PrometheusExposition(new ServiceRegistry(), c).scrape());
        assertEquals("0", s.get("jvs_scheduler_decisions_total{outcome=\"scheduled\"}"));
        assertEquals("1", s.get("jvs_scheduler_decisions_total{outcome=\"persistence_template\"}"));
        assertEquals("0", s.get("jvs_scheduler_decisions_total{outcome=\"no_destination\"}"));
        assertEquals("0", s.get("jvs_rx_batch_size_bucket{le=\"1.0\"}"));
        assertEquals("1", s.get("jvs_rx_batch_size_bucket{le=\"4.0\"}"));
        assertEquals("2", s.get("jvs_rx_batch_size_bucket{le=\"64.0\"}"));
        assertEquals("2", s.get("jvs_rx_batch_size_count"));
        assertEquals("43", s.get("jvs_rx_batch_size_sum"));
        assertEquals("0", s.get("jvs_tx_batch_size_count"));
    }

    /**
     * Prometheus naming practice: counters end in _total and gauges do not; only base units
     * (seconds, bytes) appear in names; labels come from a fixed, bounded set (no client
     * addresses, no connection ids).
     */
    static final io.jvs.forwarder.vrrp.VrrpStatus.Source ONE_VRRP = () -> new io.jvs.forwarder.vrrp.VrrpStatus(
            java.util.List.of(new io.jvs.forwarder.vrrp.VrrpStatus.Instance("VI_1", "", "eth0", 51, 2, 150, 100,
                    io.jvs.forwarder.vrrp.VrrpState.BACKUP, 0, new int[] {1}, 3, 7, 11)),
            java.util.Map.of("ttl", 2L, "auth", 0L));

    /** IPv6 services and real servers are labelled "[addr]:port"; an IPv6 fwmark service "FWM/N/IPv6". */
    @Test
    void ipv6Labels() {
        io.jvs.packet.Ipv6Address vip = io.jvs.packet.Ipv6Address.parse("2001:db8::1");
        ServiceSpec v6 = ServiceSpec.ipv6(io.jvs.forwarder.service.Protocol.TCP, vip, 80, "rr", List.of(
                ServiceSpec.Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::11"), 8080, 1,
                        io.jvs.forwarder.service.ForwardMethod.NAT)));
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(v6,
                ServiceSpec.fwmark6(7, "rr")), registry.current()));
        registry.current().services().get(0).stats.connCreated();
        Map<String, String> s = samples(new PrometheusExposition(registry, new DataPathCounters("eth0")).scrape());
        assertEquals("1", s.get("jvs_service_connections_total{service=\"TCP/[2001:db8::1]:80\"}"), s.toString());
        assertEquals("1", s.get("jvs_real_server_weight{real_server=\"[2001:db8::11]:8080\",service=\"TCP/[2001:db8::1]:80\"}"));
        assertEquals("0", s.get("jvs_service_connections_total{service=\"FWM/7/IPv6\"}"));
    }

    @Test
    void vrrpFamilies() {
        String text = new PrometheusExposition(new ServiceRegistry(), new DataPathCounters("eth0"), HealthSource.NONE,
                ONE_VRRP).scrape();
        Map<String, String> s = samples(text);
        assertTrue(text.contains("# TYPE jvs_vrrp_state gauge\n"), text);
        assertEquals("1", s.get("jvs_vrrp_state{instance=\"VI_1\"}"), "BACKUP is 1 (keepalived's numbering)");
        assertEquals("3", s.get("jvs_vrrp_transitions_total{instance=\"VI_1\"}"));
        assertEquals("7", s.get("jvs_vrrp_adverts_sent_total{instance=\"VI_1\"}"));
        assertEquals("11", s.get("jvs_vrrp_adverts_received_total{instance=\"VI_1\"}"));
        assertEquals("2", s.get("jvs_vrrp_adverts_dropped_total{reason=\"ttl\"}"));
        assertEquals("0", s.get("jvs_vrrp_adverts_dropped_total{reason=\"auth\"}"));
        String none = new PrometheusExposition(new ServiceRegistry(), new DataPathCounters("eth0")).scrape();
        assertFalse(none.contains("jvs_vrrp"), "no VRRP configured: no VRRP families\n" + none);
    }

    @Test
    void namesFollowPrometheusConventions() {
        String text = new PrometheusExposition(registryWithTwoServices(), new DataPathCounters("eth0", "jvs0"),
                HealthSource.NONE, ONE_VRRP).scrape();
        Pattern unit = Pattern.compile("_(milli|micro|nano)?(ms|us|ns|millis|milliseconds|microseconds|nanoseconds"
                + "|minutes|hours|kb|kib|mb|mib|kilobytes|megabytes|bits)(_|$)");
        Set<String> allowedLabels = Set.of("service", "real_server", "direction", "reason", "port", "le",
                "outcome", "protocol", "scheduler", "forward", "to", "instance", "event", "strategy", "by");
        // The client's JVM and process families: its own fixed label names.
        Set<String> jvmLabels = Set.of("area", "pool", "gc", "state", "version", "vendor", "runtime", "quantile");
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] f = line.split(" ");
                String name = f[2];
                assertFalse(unit.matcher(name).find(), "not a base unit: " + name);
                if (f[3].equals("counter")) {
                    assertTrue(name.endsWith("_total"), name);
                } else {
                    assertFalse(name.endsWith("_total"), f[3] + " named like a counter: " + name);
                }
                assertTrue(name.startsWith("jvs_") || name.startsWith("jvm_") || name.startsWith("process_"),
                        "unprefixed: " + name);
            } else if (!line.startsWith("#") && line.contains("{")) {
                Set<String> allowed = line.startsWith("jvs_") ? allowedLabels : jvmLabels;
                Matcher m = Pattern.compile("([a-z_]+)=\"").matcher(line.substring(line.indexOf('{')));
                while (m.find()) {
                    assertTrue(allowed.contains(m.group(1)), "unexpected label " + m.group(1) + " in " + line);
                }
            }
        }
    }

    @Test
    void dataPathCounters() {
        DataPathCounters c = new DataPathCounters("eth0", "jvs0");
        c.drop(DropReason.NO_SERVICE);
        c.rx(0, 64);
        c.rx(0, 100);
        c.tx(1, 64);
        c.addKernelDrops(0, 5);
        c.ignored();
        c.txBatch(1);
        c.txBatch(3);
        c.txBatch(100);
        c.busy(1_500_000_000L);
        c.connectionTable(() -> 7, () -> 1024);
        c.neighbourEntries(() -> 2);

        Map<String, String> s = samples(new PrometheusExposition(new ServiceRegistry(), c).scrape());

        for (DropReason r : DropReason.values()) {
            String expected = r == DropReason.NO_SERVICE ? "1" : "0";
            assertEquals(expected, s.get("jvs_dropped_packets_total{reason=\"" + r.label() + "\"}"), r.label());
        }
        assertEquals("2", s.get("jvs_port_rx_frames_total{port=\"eth0\"}"));
        assertEquals("164", s.get("jvs_port_rx_bytes_total{port=\"eth0\"}"));
        assertEquals("0", s.get("jvs_port_rx_frames_total{port=\"jvs0\"}"));
        assertEquals("1", s.get("jvs_port_tx_frames_total{port=\"jvs0\"}"));
        assertEquals("64", s.get("jvs_port_tx_bytes_total{port=\"jvs0\"}"));
        assertEquals("5", s.get("jvs_port_kernel_drops_total{port=\"eth0\"}"));
        assertEquals("0", s.get("jvs_port_kernel_drops_total{port=\"jvs0\"}"));
        assertEquals("1", s.get("jvs_ignored_frames_total"));
        assertEquals("1", s.get("jvs_tx_batch_size_bucket{le=\"1.0\"}"));
        assertEquals("2", s.get("jvs_tx_batch_size_bucket{le=\"4.0\"}"));
        assertEquals("2", s.get("jvs_tx_batch_size_bucket{le=\"16.0\"}"));
        assertEquals("2", s.get("jvs_tx_batch_size_bucket{le=\"64.0\"}"));
        assertEquals("3", s.get("jvs_tx_batch_size_bucket{le=\"+Inf\"}"));
        assertEquals("104", s.get("jvs_tx_batch_size_sum"));
        assertEquals("3", s.get("jvs_tx_batch_size_count"));
        assertEquals(1.5, Double.parseDouble(s.get("jvs_event_loop_busy_seconds_total")));
        assertEquals("7", s.get("jvs_connection_table_entries"));
        assertEquals("1024", s.get("jvs_connection_table_capacity"));
        assertEquals("2", s.get("jvs_neighbour_entries"));
    }

    /** The client's JVM and process families, under the names stock JVM dashboards query. */
    @Test
    void jvmMetrics() {
        String text = new PrometheusExposition(new ServiceRegistry(), new DataPathCounters("eth0")).scrape();
        Map<String, String> s = samples(text);
        assertTrue(Double.parseDouble(s.get("jvm_memory_used_bytes{area=\"heap\"}")) > 0);
        assertTrue(Double.parseDouble(s.get("jvm_memory_committed_bytes{area=\"heap\"}")) > 0);
        assertTrue(Double.parseDouble(s.get("jvm_memory_used_bytes{area=\"nonheap\"}")) > 0);
        assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("jvm_gc_collection_seconds_count{gc=\"")), text);
        assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("jvm_gc_collection_seconds_sum{gc=\"")), text);
        assertTrue(text.contains("# TYPE jvm_gc_collection_seconds summary\n"), text);
        assertTrue(Double.parseDouble(s.get("jvm_threads_current")) > 0);
        assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("jvm_runtime_info{")), text);
        assertTrue(Double.parseDouble(s.get("process_cpu_seconds_total")) > 0);
        assertTrue(Double.parseDouble(s.get("process_resident_memory_bytes")) > 10L << 20, "RSS of a JVM is > 10 MiB");
        assertTrue(Double.parseDouble(s.get("process_open_fds")) > 2);
        assertTrue(Double.parseDouble(s.get("process_max_fds")) >= Double.parseDouble(s.get("process_open_fds")));
        double start = Double.parseDouble(s.get("process_start_time_seconds"));
        double now = System.currentTimeMillis() / 1e3;
        assertTrue(start <= now && start > now - 3600, "start " + start + " now " + now);
        // Replaced by the standard names above; the dashboard queries those.
        assertFalse(text.contains("jvs_jvm_"), text);
    }

    /**
     * The deadlock search behind jvm_threads_deadlocked* stops every thread (a safepoint), the
     * data path's included: those two families are never collected.
     */
    @Test
    void noDeadlockSearchPerScrape() {
        String text = new PrometheusExposition(new ServiceRegistry(), new DataPathCounters("eth0")).scrape();
        assertFalse(text.contains("jvm_threads_deadlocked"), text);
        assertTrue(text.contains("\njvm_threads_daemon "), "the other thread families stay\n" + text);
    }

    private static final HealthSource ONE_CHECKED = () -> List.of(
            new HealthSource.RealServerHealth("TCP/10.0.0.100:80", "10.0.0.11:80", true, 0, 0));

    @Test
    void everyFamilyHasHelpAndType() {
        String text = new PrometheusExposition(registryWithTwoServices(), new DataPathCounters("eth0"), ONE_CHECKED)
                .scrape();
        for (String name : List.of("jvs_service_connections_total", "jvs_service_packets_total",
                "jvs_service_bytes_total", "jvs_real_server_connections_total", "jvs_real_server_packets_total",
                "jvs_real_server_bytes_total", "jvs_real_server_active_connections",
                "jvs_real_server_inactive_connections", "jvs_real_server_weight", "jvs_dropped_packets_total",
                "jvs_port_rx_frames_total", "jvs_port_rx_bytes_total", "jvs_port_tx_frames_total",
                "jvs_port_tx_bytes_total", "jvs_port_kernel_drops_total", "jvs_ignored_frames_total",
                "jvs_tx_batch_size", "jvs_event_loop_busy_seconds_total", "jvs_connection_table_entries",
                "jvs_connection_table_capacity", "jvs_neighbour_entries", "jvm_memory_used_bytes",
                "jvm_gc_collection_seconds", "jvs_real_server_up", "jvs_health_transitions_total",
                "jvs_real_server_persistent_connections", "jvs_real_server_overloaded", "jvs_service_info",
                "jvs_real_server_info", "jvs_scheduler_decisions_total", "jvs_rx_batch_size",
                "jvs_event_loop_allocated_bytes_total", "jvs_local_ports_in_use",
                "jvm_memory_committed_bytes", "jvm_threads_current", "process_cpu_seconds_total",
                "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
                "process_start_time_seconds")) {
            assertTrue(text.contains("\n# HELP " + name + " ") || text.startsWith("# HELP " + name + " "), name);
            assertTrue(text.contains("\n# TYPE " + name + " "), name);
        }
        assertTrue(text.contains("# TYPE jvs_tx_batch_size histogram\n"));
        assertTrue(text.contains("# TYPE jvs_dropped_packets_total counter\n"));
        assertTrue(text.contains("# TYPE jvs_real_server_weight gauge\n"));
        assertTrue(text.contains("# TYPE jvs_service_info gauge\n"));
    }

    /**
     * The client's writers leave out a family without samples, HELP and TYPE included (jvs' own
     * writer used to print them): with no service configured, the per-service families are absent
     * while the data path's, which always have samples, are there.
     */
    @Test
    void withoutServicesTheServiceFamiliesAreLeftOut() {
        String text = new PrometheusExposition(new ServiceRegistry(), new DataPathCounters("eth0")).scrape();
        for (String name : List.of("jvs_service_connections_total", "jvs_real_server_weight", "jvs_service_info",
                "jvs_real_server_up")) {
            assertFalse(text.contains(name), name + "\n" + text);
        }
        for (String name : List.of("jvs_dropped_packets_total", "jvs_port_rx_frames_total", "jvs_tx_batch_size",
                "jvs_scheduler_decisions_total", "jvs_connection_table_entries")) {
            assertTrue(text.contains("\n# HELP " + name + " ") || text.startsWith("# HELP " + name + " "), name);
            assertTrue(text.contains("\n# TYPE " + name + " "), name);
        }
        PrometheusExpositionTest.assertWellFormed(text);
    }

    /** The whole output obeys the 0.0.4 text format, with services, ports and GC labels present. */
    @Test
    void wellFormed() {
        DataPathCounters c = new DataPathCounters("eth0", "jvs0");
        String text = new PrometheusExposition(registryWithTwoServices(), c).scrape();
        assertWellFormed(text);
    }

    @Test
    void escapesLabelValues() {
        DataPathCounters c = new DataPathCounters("we\"ird\\port\n");
        String text = new PrometheusExposition(new ServiceRegistry(), c).scrape();
        assertTrue(text.contains("jvs_port_rx_frames_total{port=\"we\\\"ird\\\\port\\n\"} 0.0\n"), text);
        assertWellFormed(text);
    }

    // ---------------------------------------------------------------- a small 0.0.4 checker

    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*})? (\\S+)");
    private static final Pattern HELP = Pattern.compile("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+");
    private static final Pattern TYPE = Pattern.compile(
            "# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=(\"(?:[^\"\\\\]|\\\\.)*\")");

    /**
     * "name{labels}" -> value, as series: the labels in any order and a whole number written
     * either way ("2" or "2.0") mean the same sample, as they do to Prometheus. (The client
     * library sorts labels by name and writes every value as a double.) Keys are looked up
     * with their labels in any order; values come back in the shortest form ("2", "1.5").
     */
    static Map<String, String> samples(String text) {
        Map<String, String> out = new HashMap<>() {
            @Override
            public String get(Object key) {
                return super.get(series((String) key));
            }
        };
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isEmpty()) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "not a sample line: " + line);
            String key = series(line.substring(0, line.lastIndexOf(' ')));
            if (out.put(key, number(m.group(3))) != null) {
                fail("duplicate series " + key);
            }
        }
        return out;
    }

    /** "name{b="2",a="1"}" -> "name{a="1",b="2"}". */
    static String series(String nameAndLabels) {
        int brace = nameAndLabels.indexOf('{');
        if (brace < 0) {
            return nameAndLabels;
        }
        java.util.TreeMap<String, String> labels = new java.util.TreeMap<>();
        Matcher l = LABEL.matcher(nameAndLabels.substring(brace));
        while (l.find()) {
            labels.put(l.group(1), l.group(2));
        }
        StringBuilder b = new StringBuilder(nameAndLabels.substring(0, brace)).append('{');
        labels.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '{' ? "" : ",").append(k).append('=').append(v));
        return b.append('}').toString();
    }

    /** "2.0" -> "2"; anything else as written. */
    static String number(String value) {
        return value.endsWith(".0") && value.substring(0, value.length() - 2).matches("-?[0-9]+")
                ? value.substring(0, value.length() - 2) : value;
    }

    static void assertWellFormed(String text) {
        assertTrue(text.endsWith("\n"), "must end with a line feed");
        Set<String> finished = new HashSet<>();
        Set<String> helped = new HashSet<>();
        String family = null;
        String type = null;
        List<String> names = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher h = HELP.matcher(line);
            Matcher t = TYPE.matcher(line);
            if (h.matches()) {
                String name = h.group(1);
                assertTrue(helped.add(name), "HELP twice for " + name);
                if (family != null) {
                    finished.add(family);
                }
                assertFalse(finished.contains(name), "family " + name + " interleaved");
                family = name;
                type = null;
                names.add(name);
            } else if (t.matches()) {
                assertEquals(family, t.group(1), "TYPE must follow its HELP");
                assertEquals(null, type, "TYPE twice for " + family);
                type = t.group(2);
            } else {
                Matcher m = SAMPLE.matcher(line);
                assertTrue(m.matches(), "bad line: " + line);
                String name = m.group(1);
                boolean belongs = name.equals(family) || "histogram".equals(type)
                        && (name.equals(family + "_bucket") || name.equals(family + "_sum")
                        || name.equals(family + "_count"))
                        || "summary".equals(type) && (name.equals(family + "_sum") || name.equals(family + "_count"));
                assertTrue(belongs, "sample " + name + " outside its family (in " + family + ")");
                assertTrue(type != null, "sample before TYPE: " + line);
                String v = m.group(3);
                if (!v.equals("+Inf") && !v.equals("-Inf") && !v.equals("NaN")) {
                    Double.parseDouble(v);
                }
                if ("counter".equals(type)) {
                    assertTrue(name.endsWith("_total"), "counter without _total: " + name);
                }
            }
        }
        assertTrue(names.size() >= 24, "families: " + names);
    }

    @Test
    void healthFamilies() {
        HealthSource health = () -> java.util.List.of(
                new HealthSource.RealServerHealth("TCP/10.0.0.100:80", "10.0.0.11:80", false, 1, 2),
                new HealthSource.RealServerHealth("TCP/10.0.0.100:80", "10.0.0.12:80", true, 0, 0));
        String text = new PrometheusExposition(new ServiceRegistry(), new DataPathCounters("eth0"), health).scrape();
        Map<String, String> s = samples(text);
        assertTrue(text.contains("# TYPE jvs_real_server_up gauge\n"), text);
        assertEquals("0", s.get("jvs_real_server_up{service=\"TCP/10.0.0.100:80\",real_server=\"10.0.0.11:80\"}"));
        assertEquals("1", s.get("jvs_real_server_up{service=\"TCP/10.0.0.100:80\",real_server=\"10.0.0.12:80\"}"));
        assertEquals("1", s.get(
                "jvs_health_transitions_total{service=\"TCP/10.0.0.100:80\",real_server=\"10.0.0.11:80\",to=\"up\"}"));
        assertEquals("2", s.get(
                "jvs_health_transitions_total{service=\"TCP/10.0.0.100:80\",real_server=\"10.0.0.11:80\",to=\"down\"}"));
        assertEquals(2, s.keySet().stream().filter(k -> k.startsWith("jvs_real_server_up{")).count());
        assertEquals(4, s.keySet().stream().filter(k -> k.startsWith("jvs_health_transitions_total{")).count());
        String none = new PrometheusExposition(new ServiceRegistry(), new DataPathCounters("eth0")).scrape();
        assertFalse(none.contains("jvs_real_server_up") || none.contains("jvs_health_transitions"),
                "nothing checked: no samples (and, with the client's writers, no HELP/TYPE either)\n" + none);
    }
}
