package io.jvs.forwarder.metrics;

import io.jvs.forwarder.testkit.SelfSignedPem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Routes (what the console is served by): methods, headers, bodies and peers; the body limit; TLS from PEM files. */
class MetricsServerRoutesTest {
    final AtomicReference<MetricsServer.Request> seen = new AtomicReference<>();
    final MetricsServer.Routes echo = r -> {
        if (!r.path().equals("/echo")) {
            return null;
        }
        seen.set(r);
        return new MetricsServer.Response(201, "text/plain", r.body(), Map.of("Set-Cookie", "a=b; HttpOnly"));
    };

    @Test
    void routesSeeEveryMethodTheHeadersTheBodyAndThePeer() throws Exception {
        try (MetricsServer s = new MetricsServer(new InetSocketAddress("127.0.0.1", 0), () -> "m 1\n")) {
            s.start();
            s.serve(echo);
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + s.localAddress().getPort() + "/echo?x=1")).header("X-Thing", "v")
                    .POST(HttpRequest.BodyPublishers.ofString("a=1&b=2")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, r.statusCode());
            assertEquals("a=1&b=2", r.body());
            assertEquals("a=b; HttpOnly", r.headers().firstValue("set-cookie").orElseThrow());
            assertEquals("no-store", r.headers().firstValue("cache-control").orElseThrow());
            assertEquals("default-src 'self'; frame-ancestors 'none'",
                    r.headers().firstValue("content-security-policy").orElseThrow());
            MetricsServer.Request req = seen.get();
            assertEquals("POST", req.method());
            assertEquals("x=1", req.query());
            assertEquals("v", req.header("x-thing"));
            assertEquals("127.0.0.1", req.peer().getAddress().getHostAddress());
            assertEquals(false, req.secure());
            // what no route takes is served as before
            HttpResponse<String> metrics = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + s.localAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("m 1\n", metrics.body());
        }
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413BeforeAnyRouteSeesIt() throws Exception {
        try (MetricsServer s = new MetricsServer(new InetSocketAddress("127.0.0.1", 0), () -> "")) {
            s.start();
            s.serve(echo);
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + s.localAddress().getPort() + "/echo");
            String limit = "x".repeat(MetricsServer.MAX_REQUEST_BYTES);
            assertEquals(201, c.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(limit))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode(), "16 KiB is allowed");
            seen.set(null);
            // a raw request announcing one byte more: answered 413 at once
            try (Socket sock = new Socket("127.0.0.1", s.localAddress().getPort())) {
                sock.setSoTimeout(5000);
                OutputStream out = sock.getOutputStream();
                out.write(("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: "
                        + (MetricsServer.MAX_REQUEST_BYTES + 1) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(limit.getBytes(StandardCharsets.US_ASCII));
                out.write('x');
                out.flush();
                String head = new String(sock.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
                assertEquals("HTTP/1.1 413", head);
            }
            assertNull(seen.get(), "no route saw the oversized request");
        }
    }

    @Test
    void servesHttpsFromAPemCertificateAndKey(@TempDir Path dir) throws Exception {
        Path[] pem = SelfSignedPem.write(dir);
        try (MetricsServer s = new MetricsServer(new InetSocketAddress("127.0.0.1", 0), () -> "m 2\n")) {
            s.useTls(pem[0], pem[1]);
            s.start();
            s.serve(echo);
            assertTrue(s.tls());
            KeyStore trust = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(dir.resolve(SelfSignedPem.KEYSTORE).toFile())) {
                trust.load(in, "changeit".toCharArray());
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            HttpClient c = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
            String base = "https://localhost:" + s.localAddress().getPort();
            assertEquals("m 2\n", c.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            c.send(HttpRequest.newBuilder(URI.create(base + "/echo")).POST(HttpRequest.BodyPublishers.ofString("z"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(true, seen.get().secure(), "routes know the request came over TLS");
            // plain HTTP on the TLS port gets no page
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            assertThrows(IOException.class, () -> plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + s.localAddress().getPort() + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
    }

    @Test
    void aKeyThatIsNotPemIsRefusedBeforeStarting(@TempDir Path dir) throws Exception {
        Path[] pem = SelfSignedPem.write(dir);
        Files.writeString(pem[1], "not a key\n");
        MetricsServer s = new MetricsServer(new InetSocketAddress("127.0.0.1", 0), () -> "");
        IOException e = assertThrows(IOException.class, () -> s.useTls(pem[0], pem[1]));
        assertTrue(e.getMessage().startsWith("cannot use TLS certificate " + pem[0] + " with key " + pem[1] + ": "),
                e.getMessage());
    }
}
