package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * IPVS service semantics end to end with real kernel TCP in the lab (packet mode, DR):
 * persistence (-p) keeps one client on one server and lets it move once the template expires;
 * a fwmark service with persistence 1800 sends a client's HTTP (nginx :80) and HTTPS (a TLS
 * nginx on :443 started here) to the same server; passive FTP through a fwmark service over
 * port 21 and 10000:20000 (vsftpd from Debian on each real server, curl as the client) lists
 * and downloads a file, the data connection following the control connection.
 */
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
class ServiceSemanticsIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);
    static Path work;

    @BeforeAll
    static void workDir() throws IOException {
        work = LAB.lab().repo().resolve("forwarder/target/it-logs/semantics");
        Files.createDirectories(work);
    }

    /** Starts a director with this config (packet mode); the caller stops it. */
    static ForwarderProcess director(String tag, String conf) {
        String fixed = LAB.lab().resetDirector();
        if (!fixed.isEmpty()) {
            System.out.println("[" + tag + "] " + fixed);
        }
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        Path config = work.resolve(tag + ".conf");
        try {
            Files.writeString(config, conf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ForwarderProcess.start(LAB.lab(), "semantics-" + tag, METRICS,
                List.of("--attach", "packet:eth0", "--config", config.toString(), "--metrics", METRICS));
    }

    /** The jvs fwmark rule line: packets to VIP, tcp, these destination ports get the mark. */
    static String markRule(int mark, String ports) {
        return "--add-mark -d " + Lab.VIP + "/32 -p tcp --dport " + ports + " --set-mark " + mark;
    }

    /** A process this test started inside a namespace, stopped by its own PID. */
    static final class Daemon implements AutoCloseable {
        final Process process;
        final Path log;

        Daemon(String ns, Path log, String... cmd) {
            List<String> c = new ArrayList<>(List.of(Lab.ip(), "netns", "exec", ns));
            c.addAll(List.of(cmd));
            this.log = log;
            try {
                process = new ProcessBuilder(c).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + c, e);
            }
        }

        void awaitPort(String ns, int port) {
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new AssertionError("exited early: " + readLog());
                }
                Exec.Result r = LAB.lab().exec(Duration.ofSeconds(5), ns, "ss", "-Hltn", "sport = :" + port);
                if (r.ok() && !r.stdout().isBlank()) {
                    return;
                }
                sleep(100);
            }
            throw new AssertionError("nothing listens on :" + port + " in " + ns + ": " + readLog());
        }

        String readLog() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }

        @Override
        public void close() {
            process.destroy(); // SIGTERM to the PID we started (ip netns exec execs the daemon)
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Nested
    @Order(1)
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    @Timeout(180)
    class Persistence {
        ForwarderProcess director;

        @BeforeAll
        void start() {
            // Persistence 3 s, short TIME_WAIT/FIN_WAIT/CLOSE so the controlled connections leave soon.
            director = director("persistence", """
                    -A -t %1$s:80 -s rr -p 3
                    -a -t %1$s:80 -r %2$s:80 -g -w 1
                    -a -t %1$s:80 -r %3$s:80 -g -w 1
                    --state-timeout time_wait 1
                    --state-timeout fin_wait 1
                    --state-timeout close 1
                    --state-timeout close_wait 1
                    --state-timeout last_ack 1
                    """.formatted(Lab.VIP, Lab.rsIp(1), Lab.rsIp(2)));
        }

        @AfterAll
        void stop() {
            if (director != null) {
                director.stop();
            }
        }

        @Test
        @Order(1)
        void oneClientStaysOnOneServerAcross100ConnectionsAndMovesAfterTheTemplateExpires() {
            List<Lab.Transfer> first = LAB.lab().getRepeatedly("http://" + Lab.VIP + "/", 100, Duration.ofSeconds(60),
                    "-H", "Connection: close");
            assertEquals(100, first.size(), "transfers");
            Set<String> servers = new HashSet<>();
            for (Lab.Transfer t : first) {
                assertTrue(t.ok(), "transfer " + t);
                assertEquals(1, t.numConnects(), "a new connection each time: " + t);
                servers.add(t.body());
            }
            assertEquals(1, servers.size(), "all 100 connections on one server: " + servers);
            String sticky = servers.iterator().next();
            // Connections leave ~1 s after their last packet (short state timeouts), the template
            // 3 s after the last connection it placed. Every probe places a connection and so
            // re-arms a template it finds: probe only after a quiet period long enough for both.
            String now = sticky;
            for (int attempt = 0; attempt < 4 && now.equals(sticky); attempt++) {
                sleep(8000);
                now = LAB.lab().get("http://" + Lab.VIP + "/").strip();
            }
            assertNotEquals(sticky, now, "moved to the other server once the template expired");
            // And sticks to the new one.
            for (Lab.Transfer t : LAB.lab().getRepeatedly("http://" + Lab.VIP + "/", 10, Duration.ofSeconds(30),
                    "-H", "Connection: close")) {
                assertTrue(t.ok(), "transfer " + t);
                assertEquals(now, t.body());
            }
        }
    }

    @Nested
    @Order(2)
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    @Timeout(240)
    class Fwmark {
        ForwarderProcess director;
        final List<Daemon> daemons = new ArrayList<>();

        @BeforeAll
        void start() throws IOException {
            Path cert = work.resolve("tls.crt");
            Path key = work.resolve("tls.key");
            Exec.run(Duration.ofSeconds(60), List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=jvs-lab", "-days", "2", "-keyout", key.toString(), "-out", cert.toString()))
                    .requireOk();
            for (int rs = 1; rs <= 2; rs++) {
                String ns = Lab.rsNamespace(rs);
                Path dir = work.resolve("rs" + rs);
                Files.createDirectories(dir);
                Path nginxConf = dir.resolve("tls-nginx.conf");
                Files.writeString(nginxConf, """
                        worker_processes 1;
                        pid %1$s/tls-nginx.pid;
                        error_log %1$s/tls-nginx.err;
                        events { worker_connections 256; }
                        http {
                            access_log off;
                            server {
                                listen 443 ssl;
                                ssl_certificate %2$s;
                                ssl_certificate_key %3$s;
                                location / { return 200 "rs%4$d\\n"; }
                            }
                        }
                        """.formatted(dir, cert, key, rs));
                Daemon tls = new Daemon(ns, dir.resolve("tls-nginx.out"), "nginx", "-e", dir + "/tls-nginx.err",
                        "-c", nginxConf.toString(), "-g", "daemon off;");
                daemons.add(tls);
                tls.awaitPort(ns, 443);

                Path root = dir.resolve("ftp-root");
                Path empty = dir.resolve("ftp-empty");
                Files.createDirectories(root);
                Files.createDirectories(empty);
                Files.writeString(root.resolve("rs" + rs + ".txt"), ("served by rs" + rs + "\n").repeat(50_000));
                Path vsConf = dir.resolve("vsftpd.conf");
                Files.writeString(vsConf, """
                        listen=YES
                        listen_ipv6=NO
                        background=NO
                        anonymous_enable=YES
                        no_anon_password=YES
                        local_enable=NO
                        write_enable=NO
                        anon_root=%1$s
                        secure_chroot_dir=%2$s
                        seccomp_sandbox=NO
                        pasv_enable=YES
                        pasv_min_port=10000
                        pasv_max_port=20000
                        xferlog_enable=NO
                        vsftpd_log_file=%3$s/vsftpd.log
                        """.formatted(root, empty, dir));
                Daemon ftp = new Daemon(ns, dir.resolve("vsftpd.out"), "vsftpd", vsConf.toString());
                daemons.add(ftp);
                ftp.awaitPort(ns, 21);
            }
            director = director("fwmark", """
                    %4$s
                    %5$s
                    %6$s
                    %7$s
                    -A -f 1 -s rr -p 1800
                    -a -f 1 -r %2$s -g -w 1
                    -a -f 1 -r %3$s -g -w 1
                    -A -f 2 -s rr -p 300
                    -a -f 2 -r %2$s -g -w 1
                    -a -f 2 -r %3$s -g -w 1
                    """.formatted(Lab.VIP, Lab.rsIp(1), Lab.rsIp(2),
                    markRule(1, "80"), markRule(1, "443"), markRule(2, "21"), markRule(2, "10000:20000")));
        }

        @AfterAll
        void stop() {
            if (director != null) {
                director.stop();
            }
            for (Daemon d : daemons) {
                d.close();
            }
        }

        @Test
        @Order(1)
        void httpAndHttpsOfOneClientLandOnTheSameServer() {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                String http = LAB.lab().get("http://" + Lab.VIP + "/").strip();
                String https = LAB.lab().curl(Duration.ofSeconds(15), "-sSk", "--fail", "--connect-timeout", "3",
                        "--max-time", "10", "https://" + Lab.VIP + "/").requireOk().stdout().strip();
                assertEquals(http, https, "round " + i);
                seen.add(http);
            }
            assertEquals(1, seen.size(), "persistence 1800 keeps the client on one server: " + seen);
        }

        @Test
        @Order(2)
        void passiveFtpListsAndDownloadsThroughTheFwmarkService() {
            String listing = LAB.lab().curl(Duration.ofSeconds(30), "-sS", "--fail", "--connect-timeout", "3",
                    "--max-time", "20", "ftp://" + Lab.VIP + "/").requireOk().stdout();
            String name = listing.lines().map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(n -> n.matches("rs[0-9]\\.txt")).findFirst()
                    .orElseThrow(() -> new AssertionError("no rsN.txt in the listing:\n" + listing));
            for (int i = 0; i < 3; i++) {
                Exec.Result r = LAB.lab().curl(Duration.ofSeconds(30), "-sS", "--fail", "--connect-timeout", "3",
                        "--max-time", "20", "ftp://" + Lab.VIP + "/" + name).requireOk();
                String rs = name.substring(0, name.indexOf('.'));
                assertEquals(("served by " + rs + "\n").repeat(50_000), r.stdout(), "download " + i + " byte for byte");
            }
        }
    }
}
