package io.jvs.forwarder.it;

import io.jvs.forwarder.testkit.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The monitoring picture, end to end, with real parts: {@code scripts/lab up --monitoring}
 * starts Debian's Prometheus inside jvs-director; the real jvs director forwards HTTP from
 * jvs-client to two nginx real servers (rr, DR, packet mode); Prometheus scrapes it while
 * the traffic flows. Then: PromQL shows the rr spread; every query of the Grafana dashboard
 * names series this Prometheus has (or is listed as needing a feature the lab lacks) and is
 * valid PromQL; and the status page, rendered by headless Chromium, shows the configured
 * services and real servers with counters that move between two loads.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MonitoringIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String PROMETHEUS = "http://127.0.0.1:9090";
    static final String SERVICE = "TCP/" + Lab.VIP + ":80";
    static final Duration TRAFFIC = Duration.ofSeconds(10);
    /**
     * Dashboard metrics that need a component this lab does not run, and which one. Every
     * other metric a panel names must have series in the live Prometheus.
     */
    static final Map<String, String> NEEDS_FEATURE = Map.of(
            "jvs_real_server_up", "health checks (keepalived-style checkers; none configured here)",
            "jvs_health_transitions_total", "health checks (keepalived-style checkers; none configured here)");
    static final Pattern METRIC = Pattern.compile("\\b((?:jvs|jvm|process)_[a-z0-9_]+)\\b");

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--monitoring", "--tun-servers", "2");
    static ForwarderProcess director;
    static Path logs;
    /** Requests answered by each real server since the director started ("rs1" -> n). */
    static final Map<String, Integer> answered = new TreeMap<>();

    @BeforeAll
    static void startDirector() throws IOException {
        String fixed = LAB.lab().resetDirector();
        if (!fixed.isEmpty()) {
            System.out.println("[monitoring] " + fixed);
        }
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        logs = LAB.lab().repo().resolve("forwarder/target/it-logs");
        Files.createDirectories(logs);
        // Short closing-state timeouts, as ForwarderIT: at hundreds of connections per second the
        // client reuses ports, and a SYN meeting its predecessor still in FIN_WAIT would follow it
        // (IPVS conn_reuse_mode=1) instead of being scheduled and counted as a new connection.
        Path config = logs.resolve("director-monitoring.conf");
        Files.writeString(config, """
                -A -t %1$s:80 -s rr
                -a -t %1$s:80 -r %2$s:80 -g -w 1
                -a -t %1$s:80 -r %3$s:80 -g -w 1
                --state-timeout time_wait 2
                --state-timeout fin_wait 2
                --state-timeout close 2
                """.formatted(Lab.VIP, Lab.rsIp(1), Lab.rsIp(2)));
        director = ForwarderProcess.start(LAB.lab(), "monitoring", METRICS,
                List.of("--attach", "packet:eth0", "--config", config.toString(), "--metrics", METRICS));
    }

    @AfterAll
    static void stopDirector() {
        if (director != null) {
            System.out.println("[monitoring] forwarder stopped, exit " + director.stop() + "; log " + director.log());
        }
    }

    /** Sends requests (a new TCP connection each) for {@code d}, in bounded batches; counts who answered. */
    static int traffic(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        int sent = 0;
        while (System.nanoTime() < end) {
            List<Lab.Transfer> batch = LAB.lab().getRepeatedly("http://" + Lab.VIP + "/", 40, Duration.ofSeconds(30),
                    "-H", "Connection: close");
            for (Lab.Transfer t : batch) {
                assertTrue(t.ok(), "request " + t + " failed\n" + director.logTail(40));
                answered.merge(t.body(), 1, Integer::sum);
                sent++;
            }
        }
        return sent;
    }

    // ---------------------------------------------------------------- Prometheus

    /** GET on the lab's Prometheus API (inside jvs-director); the parsed {@code data}. */
    static Object prometheus(String path, String... params) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "-G"));
        for (String p : params) {
            cmd.add("--data-urlencode");
            cmd.add(p);
        }
        cmd.add(PROMETHEUS + path);
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(15), Lab.DIRECTOR, cmd.toArray(String[]::new));
        if (!r.ok()) {
            throw new AssertionError("Prometheus API " + path + " " + List.of(params) + "\n" + r.describe());
        }
        Map<String, Object> doc = Json.object(Json.parse(r.stdout()));
        if (!"success".equals(doc.get("status"))) {
            throw new AssertionError("Prometheus " + path + " " + List.of(params) + ": " + r.stdout());
        }
        return doc.get("data");
    }

    /** An instant query: label set -> value. */
    static Map<Map<String, Object>, Double> query(String promql) {
        Map<String, Object> data = Json.object(prometheus("/api/v1/query", "query=" + promql));
        Map<Map<String, Object>, Double> out = new HashMap<>();
        if (!"vector".equals(data.get("resultType"))) {
            return out;
        }
        for (Object o : Json.array(data.get("result"))) {
            Map<String, Object> series = Json.object(o);
            List<Object> value = Json.array(series.get("value"));
            out.put(Json.object(series.get("metric")), Double.parseDouble((String) value.get(1)));
        }
        return out;
    }

    static Map<String, Double> byLabel(Map<Map<String, Object>, Double> result, String label) {
        Map<String, Double> out = new TreeMap<>();
        result.forEach((k, v) -> out.put(String.valueOf(k.get(label)), v));
        return out;
    }

    @Test
    @Order(1)
    void prometheusScrapesTheDirectorWhileTrafficFlowsAndSeesTheRoundRobinSpread() {
        int sent = traffic(TRAFFIC);
        // Right after the load (inside the 30 s window): the rate per real server.
        Map<String, Double> rates = byLabel(query(
                "sum by (real_server)(rate(jvs_real_server_connections_total{service=\"" + SERVICE + "\"}[30s]))"),
                "real_server");
        System.out.println("[monitoring] " + sent + " requests in " + TRAFFIC.toSeconds() + " s; answered by "
                + answered + "; Prometheus rates " + rates);
        assertEquals(Set.of(Lab.rsIp(1) + ":80", Lab.rsIp(2) + ":80"), rates.keySet(), "series per real server");
        double r1 = rates.get(Lab.rsIp(1) + ":80");
        double r2 = rates.get(Lab.rsIp(2) + ":80");
        assertTrue(r1 > 1 && r2 > 1, "both real servers get connections per second: " + rates);
        assertTrue(r1 / r2 > 0.8 && r1 / r2 < 1.25, "rr spreads evenly: " + rates);
        assertEquals(1.0, query("up{job=\"jvs-director\"}").values().stream().findFirst().orElse(0.0),
                "the director target is up");

        // Once the load stopped, the next scrape equals what the director's own /metrics says. (Not
        // always the number of requests: a SYN that reuses the ports of a connection still in the
        // table continues it, as IPVS does with conn_reuse_mode=1, and is not a new connection.)
        assertEquals(sent, answered.values().stream().mapToInt(Integer::intValue).sum());
        assertTrue(Math.abs(answered.get("rs1") - answered.get("rs2")) <= Math.max(2, sent / 100),
                "rr alternates: " + answered);
        Map<String, Double> own = new TreeMap<>();
        for (int rs = 1; rs <= 2; rs++) {
            own.put(Lab.rsIp(rs) + ":80", director.metric("jvs_real_server_connections_total",
                    "real_server=\"" + Lab.rsIp(rs) + ":80\""));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        Map<String, Double> last = Map.of();
        while (System.nanoTime() < deadline && !last.equals(own)) {
            Lab.pause(500);
            last = byLabel(query("jvs_real_server_connections_total{service=\"" + SERVICE + "\"}"), "real_server");
        }
        assertEquals(own, last, "Prometheus's latest sample equals the director's /metrics");
        for (int rs = 1; rs <= 2; rs++) {
            double conns = own.get(Lab.rsIp(rs) + ":80");
            assertTrue(conns > sent / 4.0 && conns <= answered.get("rs" + rs),
                    "rs" + rs + ": " + conns + " connections for " + answered.get("rs" + rs) + " requests");
        }
    }

    // ---------------------------------------------------------------- the Grafana dashboard

    static Map<String, Object> dashboard() throws IOException {
        return Json.object(Json.parse(Files.readString(
                LAB.lab().repo().resolve("monitoring/grafana/dashboards/jvs-director.json"))));
    }

    /** Every panel's queries, with Grafana's variables replaced as Grafana would ("All" selected). */
    static Map<String, List<String>> panelQueries(Map<String, Object> dash) {
        Map<String, List<String>> out = new TreeMap<>();
        for (Object o : Json.array(dash.get("panels"))) {
            Map<String, Object> panel = Json.object(o);
            if ("row".equals(panel.get("type"))) {
                continue;
            }
            String title = (String) panel.get("title");
            Object targets = panel.get("targets");
            assertTrue(targets != null && !Json.array(targets).isEmpty(), "panel '" + title + "' has no query");
            List<String> exprs = new ArrayList<>();
            for (Object t : Json.array(targets)) {
                String expr = (String) Json.object(t).get("expr");
                assertTrue(expr != null && !expr.isBlank(), "panel '" + title + "' has an empty query");
                exprs.add(expr);
            }
            assertTrue(out.put(title, exprs) == null, "two panels titled '" + title + "'");
        }
        return out;
    }

    static String substitute(String expr) {
        return expr.replace("$service", ".*").replace("$real_server", ".*")
                .replace("$__rate_interval", "30s").replace("$__range", "5m");
    }

    @Test
    @Order(2)
    void everyDashboardQueryNamesMetricsThePrometheusHas() throws IOException {
        Map<String, Object> dash = dashboard();
        Map<String, List<String>> panels = panelQueries(dash);
        assertTrue(panels.size() >= 20, "panels: " + panels.keySet());

        Set<String> named = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, List<String>> p : panels.entrySet()) {
            for (String expr : p.getValue()) {
                Matcher m = METRIC.matcher(expr);
                boolean any = false;
                while (m.find()) {
                    any = true;
                    named.add(m.group(1));
                }
                if (!any) {
                    problems.add("'" + p.getKey() + "' names no jvs metric: " + expr);
                }
                // Valid PromQL against this Prometheus (a parse error is a 400, which prometheus() rejects).
                prometheus("/api/v1/query", "query=" + substitute(expr));
            }
        }
        Set<String> absent = new TreeSet<>();
        for (String metric : named) {
            boolean has = !query("count({__name__=\"" + metric + "\"})").isEmpty();
            if (!has) {
                absent.add(metric);
                if (!NEEDS_FEATURE.containsKey(metric)) {
                    problems.add(metric + " has no series in the live Prometheus (and needs no missing feature)");
                }
            } else if (NEEDS_FEATURE.containsKey(metric)) {
                problems.add(metric + " has series now: take it off NEEDS_FEATURE (" + NEEDS_FEATURE.get(metric) + ")");
            }
        }
        for (String listed : NEEDS_FEATURE.keySet()) {
            if (!named.contains(listed)) {
                problems.add("NEEDS_FEATURE lists " + listed + " but no panel uses it");
            }
        }
        System.out.println("[monitoring] dashboard: " + panels.size() + " panels, " + named.size()
                + " metrics; without series here (feature not in this lab): " + absent);
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
        // The service-level panels actually return data for the configured service.
        assertFalse(query(substitute(panels.get("Active connections per real server (ipvsadm ActiveConn)").get(0)))
                .isEmpty());

        // The variables resolve to the configured service and real servers.
        List<Object> vars = Json.array(Json.object(dash.get("templating")).get("list"));
        Map<String, String> varQueries = new HashMap<>();
        for (Object v : vars) {
            Map<String, Object> var = Json.object(v);
            varQueries.put((String) var.get("name"), (String) var.get("definition"));
        }
        assertEquals(Set.of("service", "real_server"), varQueries.keySet());
        assertEquals(List.of(SERVICE), labelValues(varQueries.get("service")));
        assertEquals(List.of(Lab.rsIp(1) + ":80", Lab.rsIp(2) + ":80"), labelValues(varQueries.get("real_server")));

        // Panels name the provisioned datasource.
        String provisioned = Files.readString(
                LAB.lab().repo().resolve("monitoring/grafana/provisioning/datasources/prometheus.yml"));
        assertTrue(provisioned.contains("uid: jvs-prometheus"), provisioned);
        for (Object o : Json.array(dash.get("panels"))) {
            Map<String, Object> panel = Json.object(o);
            if (!"row".equals(panel.get("type"))) {
                assertEquals("jvs-prometheus", Json.object(panel.get("datasource")).get("uid"), (String) panel.get("title"));
            }
        }
    }

    /** Evaluates Grafana's {@code label_values(selector, label)} the way Grafana does, via the series API. */
    static List<String> labelValues(String definition) {
        Matcher m = Pattern.compile("label_values\\((.+), *([a-z_]+)\\)").matcher(definition);
        assertTrue(m.matches(), definition);
        String selector = substitute(m.group(1));
        Set<String> values = new TreeSet<>();
        for (Object o : Json.array(prometheus("/api/v1/series", "match[]=" + selector, "start=" + (nowSeconds() - 60)))) {
            values.add((String) Json.object(o).get(m.group(2)));
        }
        return new ArrayList<>(values);
    }

    static long nowSeconds() {
        return System.currentTimeMillis() / 1000;
    }

    // ---------------------------------------------------------------- the status page in Chromium

    static String chromium(String... args) {
        List<String> cmd = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=" + logs.resolve("chromium-profile"), "--virtual-time-budget=5000"));
        cmd.addAll(List.of(args));
        cmd.add("http://" + METRICS + "/");
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(60), Lab.DIRECTOR, cmd.toArray(String[]::new));
        if (!r.ok()) {
            throw new AssertionError("headless chromium failed\n" + r.describe());
        }
        return r.stdout();
    }

    /** Real-server rows of the rendered page, in the page's order: "service real_server" -> cell texts. */
    static Map<String, List<String>> realServerRows(String dom) {
        Map<String, List<String>> rows = new LinkedHashMap<>();
        Matcher tr = Pattern.compile("<tr class=\"real-server\" data-service=\"([^\"]+)\" data-real-server=\"([^\"]+)\">(.*?)</tr>")
                .matcher(dom);
        while (tr.find()) {
            List<String> cells = new ArrayList<>();
            Matcher td = Pattern.compile("<td[^>]*>(.*?)</td>").matcher(tr.group(3));
            while (td.find()) {
                cells.add(td.group(1));
            }
            rows.put(tr.group(1) + " " + tr.group(2), cells);
        }
        return rows;
    }

    @Test
    @Order(3)
    void statusPageInHeadlessChromiumShowsTheConfigurationAndMovingCounters() throws IOException {
        traffic(Duration.ofSeconds(1));
        String first = chromium("--dump-dom");
        Files.writeString(logs.resolve("status-page-1.html"), first);
        Map<String, List<String>> before = realServerRows(first);
        Set<String> services = new LinkedHashSet<>();
        Matcher svc = Pattern.compile("<tr class=\"service\" data-service=\"([^\"]+)\">").matcher(first);
        while (svc.find()) {
            services.add(svc.group(1));
        }
        assertEquals(Set.of(SERVICE), services, "services shown\n" + first);
        // IPVS order, newest first: rs2 (added last) then rs1.
        assertEquals(List.of(SERVICE + " " + Lab.rsIp(2) + ":80", SERVICE + " " + Lab.rsIp(1) + ":80"),
                new ArrayList<>(before.keySet()), "real servers shown\n" + first);
        for (List<String> cells : before.values()) {
            assertEquals("Route", cells.get(1), "forward column " + cells);
            assertEquals("1", cells.get(2), "weight column " + cells);
            assertEquals("available", cells.get(3), "state column " + cells);
        }

        int sent = traffic(Duration.ofSeconds(2));
        Path png = logs.resolve("status-page.png");
        Files.deleteIfExists(png);
        chromium("--window-size=1280,720", "--screenshot=" + png);
        byte[] image = Files.readAllBytes(png);
        assertTrue(image.length > 5_000 && image[1] == 'P' && image[2] == 'N' && image[3] == 'G',
                "a PNG screenshot at " + png);
        String second = chromium("--dump-dom");
        Files.writeString(logs.resolve("status-page-2.html"), second);
        Map<String, List<String>> after = realServerRows(second);
        assertEquals(new ArrayList<>(before.keySet()), new ArrayList<>(after.keySet()));
        for (String key : before.keySet()) {
            long c1 = Long.parseLong(before.get(key).get(6));
            long c2 = Long.parseLong(after.get(key).get(6));
            assertTrue(c2 > c1 && c2 - c1 <= sent, key + ": Conns " + c1 + " -> " + c2 + " after " + sent + " requests");
            // No traffic since: the page shows what /metrics shows.
            assertEquals(director.metric("jvs_real_server_connections_total", "real_server=\"" + key.split(" ")[1] + "\""),
                    (double) c2, key);
        }
        assertTrue(second.contains("event loop"), "the summary line rendered\n" + second);
        assertFalse(second.contains("status unavailable"), second);
    }

    @Test
    @Order(4)
    void unknownPathIs404WithoutAStackTrace() {
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(10), Lab.DIRECTOR, "curl", "-sS", "--max-time", "5",
                "-w", "\n%{http_code}", "http://" + METRICS + "/no/such/page");
        assertTrue(r.ok(), r.describe());
        String[] lines = r.stdout().strip().split("\n");
        assertEquals("404", lines[lines.length - 1], r.stdout());
        assertFalse(r.stdout().contains("Exception") || r.stdout().contains("\tat "), r.stdout());
    }

    /**
     * Prometheus asks for OpenMetrics first and the director answers in it: the metadata Prometheus
     * keeps names the counter family without _total and types the *_info families "info", which
     * only the OpenMetrics format says (in text 0.0.4 they are jvs_service_connections_total and a
     * gauge).
     */
    @Test
    @Order(5)
    void prometheusScrapesTheDirectorInOpenMetrics() {
        Map<String, Object> metadata = Json.object(prometheus("/api/v1/metadata"));
        assertEquals("counter", metadataType(metadata, "jvs_service_connections"), "metadata " + metadata.keySet());
        assertEquals("info", metadataType(metadata, "jvs_service"), "metadata " + metadata.keySet());
        assertEquals("summary", metadataType(metadata, "jvm_gc_collection_seconds"), "metadata " + metadata.keySet());
    }

    static String metadataType(Map<String, Object> metadata, String family) {
        Object entries = metadata.get(family);
        return entries == null ? null : (String) Json.object(Json.array(entries).get(0)).get("type");
    }

    static {
        // Fail early, and say why, when a tool the tests need is missing (CI installs them: .ci/run).
        for (String tool : List.of("prometheus", "chromium")) {
            Exec.Result r = Exec.run(Duration.ofSeconds(10), List.of("sh", "-c", "command -v " + tool));
            if (!r.ok()) {
                throw new UncheckedIOException(new IOException(tool + " is not installed (apt-get install " + tool
                        + "; .ci/run does this)"));
            }
        }
    }
}
