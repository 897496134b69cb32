package io.jvs.forwarder.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.jvs.packet.Ipv4Address;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkers against real local servers and real scripts. */
class ProbeTest {
    static final int LOCALHOST = Ipv4Address.parse("127.0.0.1");
    static final CheckSpec.Timing T = new CheckSpec.Timing(1000, 2000, 0, 100, false);
    static final byte[] BODY = "rs1\n".getBytes(StandardCharsets.US_ASCII);

    HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private int serve(HttpServer s) {
        s.createContext("/", ex -> {
            int status = ex.getRequestURI().getPath().equals("/missing") ? 404 : 200;
            ex.sendResponseHeaders(status, BODY.length);
            ex.getResponseBody().write(BODY);
            ex.close();
        });
        s.start();
        server = s;
        return s.getAddress().getPort();
    }

    static CheckSpec.Url url(String path, String digest, CheckSpec.StatusRange... codes) {
        return new CheckSpec.Url(path, List.of(codes), digest);
    }

    @Test
    void httpGetChecksStatusAndDigest() throws Exception {
        int port = serve(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
        String md5 = HttpProbe.md5(BODY, 0);
        assertEquals("9b3a0c85a887a256d6939da88aabd8cd".length(), md5.length());
        assertTrue(run(new CheckSpec.Http(false, LOCALHOST, port, null, List.of(url("/", md5)), T)).up());
        CheckResult wrongDigest = run(new CheckSpec.Http(false, LOCALHOST, port, null,
                List.of(url("/", "00000000000000000000000000000000")), T));
        assertFalse(wrongDigest.up());
        assertTrue(wrongDigest.detail().contains("body MD5 " + md5), wrongDigest.detail());
        CheckResult notFound = run(new CheckSpec.Http(false, LOCALHOST, port, null, List.of(url("/missing", null)), T));
        assertFalse(notFound.up());
        assertTrue(notFound.detail().contains("status 404 (expected 2xx)"), notFound.detail());
        assertTrue(run(new CheckSpec.Http(false, LOCALHOST, port, null,
                List.of(url("/missing", null, new CheckSpec.StatusRange(400, 404))), T)).up());
        // every url must pass
        assertFalse(run(new CheckSpec.Http(false, LOCALHOST, port, null, List.of(url("/", null), url("/missing", null)),
                T)).up());
    }

    @Test
    void sslGetTrustsASelfSignedCertificate(@TempDir Path dir) throws Exception {
        Path ks = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "rs", "-keyalg", "EC", "-dname", "CN=rs1.lab", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        assertTrue(keytool.waitFor(60, TimeUnit.SECONDS), "keytool finished");
        assertEquals(0, keytool.exitValue(), new String(keytool.getInputStream().readAllBytes()));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(ctx));
        int port = serve(https);

        CheckResult r = run(new CheckSpec.Http(true, LOCALHOST, port, null, List.of(url("/", HttpProbe.md5(BODY, 0))), T));
        assertTrue(r.up(), r.detail());
        // plain HTTP to a TLS port fails
        assertFalse(run(new CheckSpec.Http(false, LOCALHOST, port, null, List.of(url("/", null)), T)).up());
    }

    @Test
    void tcpCheckUpOnAListenerDownOnAClosedPort() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertTrue(run(new CheckSpec.Tcp(LOCALHOST, s.getLocalPort(), T)).up());
            closedPort = s.getLocalPort();
        }
        CheckResult r = run(new CheckSpec.Tcp(LOCALHOST, closedPort, T));
        assertFalse(r.up());
        assertTrue(r.detail().contains("127.0.0.1:" + closedPort), r.detail());
        CheckResult http = run(new CheckSpec.Http(false, LOCALHOST, closedPort, null, List.of(url("/", null)), T));
        assertFalse(http.up());
    }

    static Path script(Path dir, String body) throws Exception {
        Path p = dir.resolve("check-" + Integer.toHexString(body.hashCode()) + ".sh");
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        p.toFile().setExecutable(true);
        return p;
    }

    @Test
    void miscCheckExitCodes(@TempDir Path dir) throws Exception {
        assertTrue(run(new CheckSpec.Misc(List.of(script(dir, "exit 0").toString()), 5000, false, T)).up());
        CheckResult one = run(new CheckSpec.Misc(List.of(script(dir, "exit 1").toString()), 5000, true, T));
        assertFalse(one.up());
        assertTrue(one.detail().contains("exited with status 1"), one.detail());
        // misc_dynamic: 2..255 = up with weight exit-2; without it, a failure
        assertEquals(CheckResult.ok(10), run(new CheckSpec.Misc(List.of(script(dir, "exit 12").toString()), 5000, true, T)));
        assertFalse(run(new CheckSpec.Misc(List.of(script(dir, "exit 12").toString()), 5000, false, T)).up());
        // arguments are passed
        Path argScript = script(dir, "[ \"$1\" = 10.0.0.11 ] || exit 1");
        assertTrue(run(new CheckSpec.Misc(List.of(argScript.toString(), "10.0.0.11"), 5000, false, T)).up());
        assertFalse(run(new CheckSpec.Misc(List.of(dir.resolve("absent").toString()), 5000, false, T)).up());
    }

    @Test
    void miscCheckOverTimeIsKilledAndReaped(@TempDir Path dir) throws Exception {
        Path pidFile = dir.resolve("pid");
        Path slow = script(dir, "echo $$ > " + pidFile + "\nexec sleep 30");
        long t0 = System.nanoTime();
        CheckResult r = run(new CheckSpec.Misc(List.of(slow.toString()), 300, false, T));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertFalse(r.up());
        assertTrue(r.detail().contains("timed out after 300 ms"), r.detail());
        assertTrue(ms < 3000, "took " + ms + " ms");
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "script process " + pid + " is gone");
    }

    static CheckResult run(CheckSpec spec) {
        return Probe.of(spec).run();
    }
}
