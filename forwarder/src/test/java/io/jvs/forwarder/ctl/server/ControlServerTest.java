package io.jvs.forwarder.ctl.server;

import io.jvs.forwarder.ctl.client.JvsadmMain;
import io.jvs.forwarder.ctl.ipvsadm.Jvsadm;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmGoldenTest;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The control API for real: an epoll Unix domain socket and HTTP, driven by the jvsadm client. */
class ControlServerTest {
    @TempDir
    Path dir;

    final JvsadmHarness h = new JvsadmHarness();
    final List<ControlServer> servers = new ArrayList<>();

    ControlServer server() {
        ControlServer s = new ControlServer(h.jvsadm);
        servers.add(s);
        return s;
    }

    @AfterEach
    void close() {
        servers.forEach(ControlServer::close);
    }

    record Run(int status, String out, String err) {
    }

    static Run jvsadm(Path socket, String stdin, String... args) {
        List<String> argv = new ArrayList<>(List.of("--control", socket.toString()));
        argv.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        InputStream in = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            int status = JvsadmMain.run(argv.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(in);
        }
    }

    @Test
    void jvsadmOverTheSocket() throws IOException {
        Path sock = dir.resolve("run/jvs/control.sock");
        server().listen(sock);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
        int mode = (Integer) Files.getAttribute(sock, "unix:mode");
        assertEquals(0140000, mode & 0170000, "a socket");

        assertEquals(new Run(0, "", ""), jvsadm(sock, "", "-A", "-t", "10.0.0.100:80", "-s", "rr"));
        assertEquals(new Run(0, "", ""), jvsadm(sock, "", "--add-server", "--tcp-service=10.0.0.100:80",
                "--real-server=10.0.0.11", "--weight=2"));
        assertEquals(new Run(0, h.out("-L -n"), ""), jvsadm(sock, "", "-L", "-n"));
        assertTrue(h.out("-L -n").contains(JvsadmGoldenTest.dest("10.0.0.11:80", "Route", 2, 0, 0)));
        // -R sends standard input
        assertEquals(new Run(0, "", ""), jvsadm(sock, "-A -u 10.0.0.100:53 -s wrr\n-a -u 10.0.0.100:53 -r 10.0.0.12\n",
                "-R"));
        assertEquals("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 2\n"
                + "-A -u 10.0.0.100:53 -s wrr\n-a -u 10.0.0.100:53 -r 10.0.0.12:53 -g -w 1\n",
                jvsadm(sock, "", "-S", "-n").out());
        // the director's refusal, with its status
        assertEquals(new Run(255, "", "Service already exists\n"), jvsadm(sock, "", "-A", "-t", "10.0.0.100:80"));
        // a malformed command never leaves the client
        assertEquals(new Run(2, "", "Zero port specified for non-persistent service\n"),
                jvsadm(dir.resolve("nowhere.sock"), "", "-A", "-t", "10.0.0.100"));
        Run r = jvsadm(sock, "", "-h");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("Usage:"));
        servers.removeFirst().close();
        assertFalse(Files.exists(dir.resolve("run")), "close removes the socket and the directories listen made");
    }

    @Test
    void unreachableDirector() {
        Run r = jvsadm(dir.resolve("none.sock"), "", "-L", "-n");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("Can't reach the jvs director at " + dir.resolve("none.sock")), r.err());
    }

    @Test
    void oneDirectorPerSocketAStaleOneIsReplacedAndCloseRemovesIt() throws IOException {
        Path sock = dir.resolve("control.sock");
        // a socket file left by a director that died: nobody listens on it
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(sock));
        }
        assertTrue(Files.exists(sock));
        ControlServer first = server();
        first.listen(sock);
        assertEquals(0, jvsadm(sock, "", "-L", "-n").status());
        IOException busy = assertThrows(IOException.class, () -> server().listen(sock));
        assertEquals("another director is listening on " + sock + " (give this one its own: --control PATH or"
                + " JVS_CONTROL)", busy.getMessage());
        assertEquals(0, jvsadm(sock, "", "-L", "-n").status(), "the first one still answers");
        Files.writeString(dir.resolve("file"), "x");
        IOException notSocket = assertThrows(IOException.class, () -> server().listen(dir.resolve("file")));
        assertTrue(notSocket.getMessage().endsWith("exists and is not a socket"), notSocket.getMessage());
        first.close();
        assertFalse(Files.exists(sock));
    }

    @Test
    void httpNeedsTheBearerToken() throws Exception {
        InetSocketAddress at = server().listenHttp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), "s3cret");
        HttpClient client = HttpClient.newHttpClient();
        URI uri = URI.create("http://127.0.0.1:" + at.getPort() + "/v1/jvsadm");
        PrintStream oldErr = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        HttpResponse<String> none;
        HttpResponse<String> wrong;
        try {
            none = client.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(
                    "-A -t 10.0.0.100:80 -s rr")).build(), HttpResponse.BodyHandlers.ofString());
            wrong = client.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer guess")
                    .POST(HttpRequest.BodyPublishers.ofString("-C")).build(), HttpResponse.BodyHandlers.ofString());
        } finally {
            System.setErr(oldErr);
        }
        assertEquals(401, none.statusCode());
        assertEquals("Bearer realm=\"jvs\"", none.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals(401, wrong.statusCode());
        assertTrue(h.control.config().services().isEmpty(), "nothing was done");
        String logged = log.toString(StandardCharsets.UTF_8);
        assertTrue(logged.contains("control API: refused POST /v1/jvsadm from /127.0.0.1:"), logged);
        assertTrue(logged.contains("(401: no bearer token)") && logged.contains("(401: wrong bearer token)"), logged);

        HttpResponse<String> ok = client.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer s3cret")
                .POST(HttpRequest.BodyPublishers.ofString("-R\n-A -t 10.0.0.100:80 -s rr\n"
                        + "-a -t 10.0.0.100:80 -r 10.0.0.11\n")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ok.statusCode());
        assertEquals("0", ok.headers().firstValue("X-Jvsadm-Status").orElse(""));
        HttpResponse<String> list = client.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer s3cret")
                .POST(HttpRequest.BodyPublishers.ofString("-S -n")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n", list.body());
        HttpResponse<String> refused = client.send(HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer s3cret").POST(HttpRequest.BodyPublishers.ofString(
                        "-A -t 10.0.0.100:80")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(422, refused.statusCode());
        assertEquals("255", refused.headers().firstValue("X-Jvsadm-Status").orElse(""));
        assertEquals("Service already exists\n", refused.body());
    }
}
