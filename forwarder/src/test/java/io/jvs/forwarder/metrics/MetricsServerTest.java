package io.jvs.forwarder.metrics;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.service.ServiceRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsServerTest {
    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private DataPathCounters counters;
    private MetricsServer server;
    private String base;

    @BeforeEach
    void start() throws IOException {
        counters = new DataPathCounters("eth0");
        PrometheusExposition exposition = new PrometheusExposition(new ServiceRegistry(), counters);
        server = new MetricsServer(new InetSocketAddress("127.0.0.1", 0), exposition);
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
    void servesMetrics() throws Exception {
        counters.drop(DropReason.NO_ROUTE);
        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
        assertEquals("1", PrometheusExpositionTest.samples(r.body()).get("jvs_dropped_packets_total{reason=\"no_route\"}"),
                r.body());
        PrometheusExpositionTest.assertWellFormed(r.body());

        // Each scrape is fresh, and a second request works on the same (kept-alive) connection.
        counters.drop(DropReason.NO_ROUTE);
        assertEquals("2", PrometheusExpositionTest.samples(get("/metrics?x=1").body())
                .get("jvs_dropped_packets_total{reason=\"no_route\"}"));
    }

    @Test
    void indexPointsToMetrics() throws Exception {
        HttpResponse<String> r = get("/");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElseThrow().startsWith("text/plain"));
        assertTrue(r.body().contains("/metrics"), r.body());
    }

    @Test
    void otherPathsAreNotFound() throws Exception {
        assertEquals(404, get("/metricsx").statusCode());
        assertEquals(404, get("/favicon.ico").statusCode());
    }

    @Test
    void otherMethodsAreNotAllowed() throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, r.statusCode());
        assertEquals("GET", r.headers().firstValue("allow").orElseThrow());
        r = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, r.statusCode());
    }

    @Test
    void failingScrapeIsA500AndTheServerKeepsServing() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (MetricsServer s = new MetricsServer(new InetSocketAddress("127.0.0.1", 0), () -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom");
            }
            return "ok 1\n";
        })) {
            s.start();
            URI uri = URI.create("http://127.0.0.1:" + s.localAddress().getPort() + "/metrics");
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(500, r.statusCode());
            r = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("ok 1\n", r.body());
        }
    }

    @Test
    void bindFailureNamesTheAddress() {
        int port = server.localAddress().getPort();
        MetricsServer second = new MetricsServer(new InetSocketAddress("127.0.0.1", port), () -> "");
        IOException e = assertThrows(IOException.class, second::start);
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
        second.close(); // nothing to close, must not throw
    }

    @Test
    void closeStopsListeningAndIsIdempotent() throws Exception {
        server.close();
        server.close();
        Exception e = assertThrows(Exception.class, () -> get("/metrics"));
        assertTrue(e instanceof ConnectException || e.getCause() instanceof ConnectException, e.toString());
    }
}
