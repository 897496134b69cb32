package io.jvs.forwarder.metrics;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TestSchedulers;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.testkit.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatusPageTest {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private ServiceRegistry registry;
    private DataPathCounters counters;
    private MetricsServer server;
    private String base;

    @BeforeEach
    void start() throws IOException {
        int vip = Ipv4Address.parse("10.0.0.100");
        ServiceSpec web = new ServiceSpec(Protocol.TCP, vip, 80, "rr")
                .withDest(new ServiceSpec.Dest(Ipv4Address.parse("10.0.0.11"), 80, 1, ForwardMethod.DR))
                .withDest(new ServiceSpec.Dest(Ipv4Address.parse("10.0.0.12"), 80, 0, ForwardMethod.NAT));
        registry = new ServiceRegistry();
        registry.publish(new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(web), registry.current()));
        counters = new DataPathCounters("eth0");
        StatusPage page = new StatusPage(registry, counters,
                () -> List.of(new HealthSource.RealServerHealth("TCP/10.0.0.100:80", "10.0.0.11:80", true, 1, 0)),
                clock::get);
        server = new MetricsServer(new InetSocketAddress("127.0.0.1", 0),
                new PrometheusExposition(registry, counters)::scrape, page);
        server.start();
        base = "http://127.0.0.1:" + server.localAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.close();
        client.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesThePageAndItsFilesFromTheJar() throws Exception {
        HttpResponse<String> html = get("/");
        assertEquals(200, html.statusCode());
        assertEquals("text/html; charset=utf-8", html.headers().firstValue("content-type").orElseThrow());
        assertTrue(html.body().contains("<script src=\"/status.js\""), html.body());
        assertFalse(html.body().contains("http://") || html.body().contains("https://"), "no CDN: " + html.body());
        assertEquals("default-src 'self'; frame-ancestors 'none'",
                html.headers().firstValue("content-security-policy").orElseThrow());
        assertEquals("nosniff", html.headers().firstValue("x-content-type-options").orElseThrow());

        HttpResponse<String> js = get("/status.js");
        assertEquals(200, js.statusCode());
        assertTrue(js.headers().firstValue("content-type").orElseThrow().startsWith("text/javascript"));
        assertTrue(js.body().contains("/api/status"));
        HttpResponse<String> css = get("/status.css");
        assertEquals(200, css.statusCode());
        assertTrue(css.headers().firstValue("content-type").orElseThrow().startsWith("text/css"));

        // /metrics is still the scrape, and the page did not take it over.
        assertTrue(get("/metrics").body().contains("jvs_real_server_weight{"));
    }

    @Test
    void unknownPathsAre404WithoutAStackTrace() throws Exception {
        for (String path : List.of("/status.jsx", "/api", "/api/status/x", "/../etc/passwd", "/index.html%00",
                "/io/jvs/forwarder/metrics/status/index.html", "/StatusPage.class")) {
            HttpResponse<String> r = get(path.replace("..", "%2e%2e"));
            assertEquals(404, r.statusCode(), path);
            assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), r.body());
        }
    }

    @Test
    void statusDocumentDescribesTheSnapshotAndItsCounters() throws Exception {
        VirtualService web = registry.current().services().get(0);
        RealServer rs1 = web.dest(Ipv4Address.parse("10.0.0.11"), 80);
        web.stats.connCreated();
        web.stats.inPacket(60);
        rs1.stats.connCreated();
        rs1.stats.inPacket(60);
        rs1.stats.addActive(1);
        rs1.stats.addInactive(2);
        rs1.stats.addPersistent(1);
        counters.drop(DropReason.NO_SERVICE);
        counters.rx(0, 60);
        counters.connectionTable(() -> 3, () -> 1024);
        clock.addAndGet(2_500_000_000L);

        HttpResponse<String> r = get(StatusPage.API_PATH);
        assertEquals(200, r.statusCode());
        assertEquals("application/json; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
        Map<String, Object> doc = Json.object(Json.parse(r.body()));
        assertEquals(2500.0, doc.get("uptimeMillis"));
        assertEquals(Boolean.TRUE, doc.get("readOnly"));
        assertEquals(3.0, Json.object(doc.get("connectionTable")).get("entries"));
        assertEquals(1024.0, Json.object(doc.get("connectionTable")).get("capacity"));
        assertEquals(1.0, Json.object(doc.get("drops")).get("no_service"));
        assertEquals(DropReason.values().length, Json.object(doc.get("drops")).size());
        Map<String, Object> port = Json.object(Json.array(doc.get("ports")).get(0));
        assertEquals("eth0", port.get("name"));
        assertEquals(1.0, port.get("rxFrames"));

        List<Object> services = Json.array(doc.get("services"));
        assertEquals(1, services.size());
        Map<String, Object> svc = Json.object(services.get(0));
        assertEquals("TCP/10.0.0.100:80", svc.get("name"));
        assertEquals("TCP", svc.get("protocol"));
        assertEquals("10.0.0.100:80", svc.get("address"));
        assertEquals("rr", svc.get("scheduler"));
        assertEquals("", svc.get("flags"));
        assertEquals(1.0, svc.get("conns"));
        assertEquals(60.0, svc.get("inBytes"));

        List<Object> dests = Json.array(svc.get("realServers"));
        assertEquals(2, dests.size());
        // IPVS list order: newest first.
        Map<String, Object> d12 = Json.object(dests.get(0));
        Map<String, Object> d11 = Json.object(dests.get(1));
        assertEquals("10.0.0.12:80", d12.get("address"));
        assertEquals("Masq", d12.get("forward"));
        assertEquals(0.0, d12.get("weight"));
        assertNull(d12.get("up"), "not health-checked: null");
        assertTrue(d12.containsKey("up"));
        assertEquals("10.0.0.11:80", d11.get("address"));
        assertEquals("Route", d11.get("forward"));
        assertEquals(1.0, d11.get("weight"));
        assertEquals(1.0, d11.get("active"));
        assertEquals(2.0, d11.get("inactive"));
        assertEquals(1.0, d11.get("persistent"));
        assertEquals(Boolean.FALSE, d11.get("overloaded"));
        assertEquals(Boolean.TRUE, d11.get("up"));
        assertEquals(1.0, d11.get("conns"));
        assertEquals(1.0, d11.get("inPkts"));

        // A second poll sees the counters move (what the page's rates are made of).
        rs1.stats.connCreated();
        clock.addAndGet(1_000_000_000L);
        Map<String, Object> again = Json.object(Json.parse(get(StatusPage.API_PATH).body()));
        assertEquals(3500.0, again.get("uptimeMillis"));
        Map<String, Object> d11b = Json.object(Json.array(Json.object(Json.array(again.get("services")).get(0))
                .get("realServers")).get(1));
        assertEquals(2.0, d11b.get("conns"));
    }

    @Test
    void everyStringIsEscapedSoNoNameBecomesMarkup() {
        String nasty = "</script><img src=x onerror=alert(1)>\"\\\n\u0001&\u2028";
        String json = StatusPage.string(new StringBuilder(), nasty).toString();
        for (char c : new char[]{'<', '>', '&', '\n', '\u0001', '\u2028'}) {
            assertEquals(-1, json.indexOf(c), "raw " + (int) c + " in " + json);
        }
        assertEquals(nasty, Json.parse(json), "decodes back to the same name");

        // A port named with markup arrives in the document escaped and decodes to the same text.
        DataPathCounters c = new DataPathCounters("<b>eth0</b>");
        String doc = new StatusPage(new ServiceRegistry(), c).json();
        assertFalse(doc.contains("<"), doc);
        assertEquals("<b>eth0</b>",
                Json.object(Json.array(Json.object(Json.parse(doc)).get("ports")).get(0)).get("name"));
    }

    /** The script writes every name through textContent; markup sinks would make names executable. */
    @Test
    void scriptHasNoMarkupSinks() throws IOException {
        String js;
        try (InputStream in = StatusPage.class.getResourceAsStream("/io/jvs/forwarder/metrics/status/status.js")) {
            js = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String sink : List.of("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                "new Function", "setAttribute(\"on")) {
            assertFalse(js.contains(sink), "status.js uses " + sink);
        }
        assertTrue(js.contains("textContent"));
    }

    @Test
    void emptyConfigurationIsAValidDocument() {
        Map<String, Object> doc = Json.object(Json.parse(new StatusPage(new ServiceRegistry(),
                new DataPathCounters("eth0")).json()));
        assertEquals(List.of(), doc.get("services"));
    }

    @Test
    void ipv6ServicesInTheStatusDocument() {
        ServiceRegistry r = new ServiceRegistry();
        r.publish(new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(
                io.jvs.forwarder.service.ServiceSpec.ipv6(io.jvs.forwarder.service.Protocol.TCP,
                        io.jvs.packet.Ipv6Address.parse("2001:db8::1"), 80, "rr", List.of(
                                io.jvs.forwarder.service.ServiceSpec.Dest.ipv6(io.jvs.packet.Ipv6Address.parse(
                                        "2001:db8::11"), 80, 1, io.jvs.forwarder.service.ForwardMethod.DR)))),
                r.current()));
        Map<String, Object> svc = Json.object(Json.array(Json.object(Json.parse(new StatusPage(r,
                new DataPathCounters("eth0")).json())).get("services")).get(0));
        assertEquals("TCP/[2001:db8::1]:80", svc.get("name"));
        assertEquals("[2001:db8::1]:80", svc.get("address"));
        assertTrue(Json.array(svc.get("realServers")).toString().contains("[2001:db8::11]:80"),
                svc.get("realServers").toString());
    }

    @Test
    void vrrpInstancesInTheStatusDocument() {
        StatusPage page = new StatusPage(new ServiceRegistry(), new DataPathCounters("eth0"), HealthSource.NONE,
                () -> new io.jvs.forwarder.vrrp.VrrpStatus(List.of(new io.jvs.forwarder.vrrp.VrrpStatus.Instance(
                        "VI_1", "G1", "eth0", 51, 3, 150, 100, io.jvs.forwarder.vrrp.VrrpState.MASTER,
                        Ipv4Address.parse("10.0.0.2"), new int[] {Ipv4Address.parse("10.0.0.100")}, 2, 40, 3)),
                        Map.of()), System::nanoTime);
        Map<String, Object> doc = Json.object(Json.parse(page.json()));
        List<Object> vrrp = Json.array(doc.get("vrrp"));
        assertEquals(1, vrrp.size());
        Map<String, Object> vi = Json.object(vrrp.get(0));
        assertEquals("VI_1", vi.get("instance"));
        assertEquals("G1", vi.get("group"));
        assertEquals("MASTER", vi.get("state"));
        assertEquals("10.0.0.2", vi.get("master"));
        assertEquals(List.of("10.0.0.100"), Json.array(vi.get("addresses")));
        assertEquals(51.0, vi.get("vrid"));
        assertEquals(40.0, vi.get("advertsSent"));
        assertEquals(List.of(), Json.array(Json.object(Json.parse(new StatusPage(new ServiceRegistry(),
                new DataPathCounters("eth0")).json())).get("vrrp")), "no VRRP: an empty array");
    }
}
