package io.jvs.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The agent's HTTP endpoint ({@code run --metrics ADDR:PORT}): {@code GET /metrics} answers the
 * Prometheus text (format 0.0.4), {@code GET /health} 200 "ok" or 503 and what is wrong, {@code GET /}
 * a pointer to both; any other path is 404 and any other method 405. It is the JDK's own HTTP server
 * on one daemon thread ("jvs-agent-http"): two small text pages for a scraper and a health check need
 * neither the director's Netty metrics server nor anything from the forwarder. Each page is computed
 * per request on that thread.
 */
final class AgentHttp implements AutoCloseable {
    static final String METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String INDEX = """
            jvs-agent
            Prometheus metrics: /metrics
            health: /health
            """;

    /** One plain-text answer of /health. */
    record Page(int status, String text) {
    }

    private final HttpServer server;
    private final ExecutorService thread;

    private AgentHttp(HttpServer server, ExecutorService thread) {
        this.server = server;
        this.thread = thread;
    }

    /** Binds {@code at} (port 0 picks one) and starts serving; throws with nothing left running. */
    static AgentHttp start(InetSocketAddress at, Supplier<String> metrics, Supplier<Page> health) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(at, 0);
        } catch (IOException e) {
            throw new IOException("cannot listen for metrics on " + at.getHostString() + ":" + at.getPort() + ": "
                    + e.getMessage(), e);
        }
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "jvs-agent-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/", exchange -> {
            try (exchange) {
                answer(exchange, metrics, health);
            }
        });
        server.start();
        return new AgentHttp(server, thread);
    }

    private static void answer(HttpExchange ex, Supplier<String> metrics, Supplier<Page> health) throws IOException {
        if (!ex.getRequestMethod().equals("GET")) {
            ex.getResponseHeaders().set("Allow", "GET");
            send(ex, 405, "text/plain; charset=utf-8", "only GET is allowed\n");
            return;
        }
        String path = ex.getRequestURI().getPath();
        try {
            switch (path) {
                case "/metrics" -> send(ex, 200, METRICS_TYPE, metrics.get());
                case "/health" -> {
                    Page p = health.get();
                    send(ex, p.status(), "text/plain; charset=utf-8", p.text());
                }
                case "/" -> send(ex, 200, "text/plain; charset=utf-8", INDEX);
                default -> send(ex, 404, "text/plain; charset=utf-8", "not found; metrics are at /metrics\n");
            }
        } catch (RuntimeException e) {
            // never a stack trace to the client
            System.err.println("jvs-agent: " + path + " failed: " + e);
            send(ex, 500, "text/plain; charset=utf-8", path + " failed\n");
        }
    }

    private static void send(HttpExchange ex, int status, String type, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** The bound address (the actual port when started with port 0). */
    InetSocketAddress localAddress() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
