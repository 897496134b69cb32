package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.function.DoublePredicate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * keepalived.conf and health checking end to end: the real director started
 * with {@code --keepalived} on a DR service with HTTP_GET checks against the
 * lab's two nginx real servers. rs1's nginx is stopped (SIGTERM to the PID the
 * lab recorded) while a client opens a new connection per request through the
 * VIP; rs1 must leave rotation within delay_loop x (retry+1) plus slack, no
 * request begun after that may fail, and once nginx is started again rs1 must
 * come back and serve.
 */
class HealthIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String RS1 = Lab.rsIp(1) + ":80";
    static final String UP_RS1 = "real_server=\"" + RS1 + "\"";
    /** keepalived.conf timing: delay_loop 1 s, retry 2, delay_before_retry 0.5 s, connect_timeout 1 s. */
    static final long DELAY_LOOP_MS = 1000;
    static final int RETRY = 2;
    static final long SLACK_MS = 3000;

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);

    /** One client request: wall-clock start/end (ms), curl exit status, body. */
    record Request(long start, long end, int exit, String body) {
        boolean ok() {
            return exit == 0 && body.matches("rs[12]");
        }
    }

    @Test
    @Timeout(180)
    void stoppedNginxLeavesRotationAndReturnsWithNoFailedNewConnections() throws Exception {
        Path dir = Files.createDirectories(LAB.lab().repo().resolve("forwarder/target/it-logs"));
        Path conf = dir.resolve("director-health.keepalived.conf");
        Files.writeString(conf, """
                ! jvs HealthIT: keepalived.conf as an operator writes it
                global_defs {
                    router_id jvs-it
                }
                vrrp_instance VI_1 {
                    state MASTER
                    interface eth0
                    virtual_router_id 51
                    virtual_ipaddress {
                        %1$s
                    }
                }
                virtual_server %1$s 80 {
                    delay_loop 1
                    lb_algo rr
                    lb_kind DR
                    protocol TCP
                    real_server %2$s 80 {
                        weight 1
                        HTTP_GET {
                            url {
                                path /
                                status_code 200
                            }
                            connect_timeout 1
                            retry %4$d
                            delay_before_retry 0.5
                        }
                    }
                    real_server %3$s 80 {
                        weight 1
                        HTTP_GET {
                            url {
                                path /
                                status_code 200
                            }
                            connect_timeout 1
                            retry %4$d
                            delay_before_retry 0.5
                        }
                    }
                }
                """.formatted(Lab.VIP, Lab.rsIp(1), Lab.rsIp(2), RETRY));
        Path stop = dir.resolve("health-loop.stop");
        Files.deleteIfExists(stop);

        String fixed = LAB.lab().resetDirector();
        if (!fixed.isEmpty()) {
            System.out.println("[health] " + fixed);
        }
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        ForwarderProcess director = ForwarderProcess.start(LAB.lab(), "health", METRICS,
                List.of("--attach", "packet:eth0", "--keepalived", conf.toString(), "--metrics", METRICS));
        CompletableFuture<Exec.Result> loop = null;
        try {
            awaitMetric(director, "jvs_real_server_up", UP_RS1, v -> v == 1, 10_000, "rs1 up at start");
            assertTrue(director.logTail(200).contains("ignored (not implemented by jvs): router_id"),
                    "ignored keywords reported at start\n" + director.logTail(40));

            // new connections, one request each, for at most 90 s (bounded even if the test dies)
            String script = """
                    end=$((SECONDS+90))
                    while [ $SECONDS -lt $end ] && [ ! -e '%s' ]; do
                      t0=$(date +%%s%%3N); rc=0
                      body=$(curl -sS --connect-timeout 1 --max-time 2 -H 'Connection: close' http://%s/ 2>/dev/null) || rc=$?
                      t1=$(date +%%s%%3N)
                      echo "$t0 $t1 $rc ${body:-none}"
                    done
                    """.formatted(stop, Lab.VIP);
            loop = CompletableFuture.supplyAsync(() -> LAB.lab().sh(Duration.ofSeconds(120), Lab.CLIENT, script));
            Thread.sleep(2000);

            long nginx = nginxPid(1);
            long tStop = System.currentTimeMillis();
            ProcessHandle.of(nginx).orElseThrow().destroy(); // SIGTERM to exactly the lab's nginx master
            long tRemoved = awaitMetric(director, "jvs_real_server_up", UP_RS1, v -> v == 0,
                    DELAY_LOOP_MS * (RETRY + 1) + SLACK_MS, "rs1 out of rotation after its nginx stopped");
            assertTrue(director.metricValue("jvs_real_server_weight", UP_RS1).isEmpty(),
                    "rs1 removed from the service");
            long removalMs = tRemoved - tStop;
            Thread.sleep(3000);

            restartNginx(1);
            long tStart = System.currentTimeMillis();
            long tBack = awaitMetric(director, "jvs_real_server_up", UP_RS1, v -> v == 1,
                    DELAY_LOOP_MS + SLACK_MS, "rs1 back after its nginx restarted");
            assertEquals(1.0, director.metric("jvs_real_server_weight", UP_RS1), "rs1 back at its weight");
            Thread.sleep(3000);
            Files.writeString(stop, "");
            Exec.Result r = loop.get();
            r.requireOk();

            List<Request> all = new ArrayList<>();
            for (String line : r.stdout().strip().split("\n")) {
                String[] f = line.split(" ", 4);
                all.add(new Request(Long.parseLong(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[2]), f[3]));
            }
            List<Request> afterRemoval = all.stream().filter(q -> q.start() > tRemoved).toList();
            List<Request> failedAfter = afterRemoval.stream().filter(q -> !q.ok()).toList();
            long failedBetween = all.stream().filter(q -> q.start() >= tStop && q.start() <= tRemoved && !q.ok()).count();
            long rs1AfterReturn = all.stream().filter(q -> q.start() > tBack && q.body().equals("rs1")).count();
            System.out.printf(Locale.ROOT, "[health] %d requests; rs1 out %d ms after its nginx stopped (bound %d ms); "
                            + "%d failed before removal, %d of %d failed after; back %d ms after restart; %d served by rs1 since%n",
                    all.size(), removalMs, DELAY_LOOP_MS * (RETRY + 1) + SLACK_MS, failedBetween, failedAfter.size(),
                    afterRemoval.size(), tBack - tStart, rs1AfterReturn);
            assertTrue(afterRemoval.size() >= 20, "too few requests after removal: " + afterRemoval.size());
            assertTrue(failedAfter.isEmpty(), "requests failed after rs1 left rotation: "
                    + failedAfter.subList(0, Math.min(10, failedAfter.size())));
            assertTrue(rs1AfterReturn > 0, "rs1 served nothing after it came back");

            String log = director.logTail(400);
            assertEquals(1, count(log, "real server " + RS1 + " of TCP " + Lab.VIP + ":80 is down"), log);
            assertEquals(1, count(log, "real server " + RS1 + " of TCP " + Lab.VIP + ":80 is up"), log);
            assertEquals(1.0, director.metric("jvs_health_transitions_total", UP_RS1 + ",to=\"down\""));
            assertEquals(1.0, director.metric("jvs_health_transitions_total", UP_RS1 + ",to=\"up\""));
        } finally {
            Files.writeString(stop, "");
            if (loop != null) {
                loop.join();
            }
            if (!nginxAlive(1)) {
                restartNginx(1);
            }
            int rc = director.stop();
            System.out.println("[health] forwarder stopped, exit " + rc + "; log " + director.log());
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** Polls until the metric matches; returns the wall-clock time (ms) it was first seen matching. */
    private static long awaitMetric(ForwarderProcess d, String name, String labels, DoublePredicate want, long limitMs,
                                    String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + limitMs;
        OptionalDouble v = OptionalDouble.empty();
        while (System.currentTimeMillis() < deadline) {
            v = d.metricValue(name, labels);
            if (v.isPresent() && want.test(v.getAsDouble())) {
                return System.currentTimeMillis();
            }
            Thread.sleep(50);
        }
        throw new AssertionError(what + ": " + name + "{" + labels + "} was " + v + " after " + limitMs + " ms\n"
                + d.logTail(40));
    }

    private static Path rsDir(int rs) {
        return LAB.lab().state().resolve("rs" + rs);
    }

    /** The PID scripts/lab recorded for rs's nginx master, checked to be that nginx (as scripts/lab checks it). */
    private static long nginxPid(int rs) throws IOException {
        long pid = Long.parseLong(Files.readString(rsDir(rs).resolve("nginx.pid")).strip());
        String cmd = ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("");
        String raw = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        if (!raw.contains("nginx: master process") || !raw.contains("-c " + rsDir(rs).resolve("nginx.conf"))) {
            throw new AssertionError("PID " + pid + " from " + rsDir(rs) + "/nginx.pid is not the lab's nginx: " + raw
                    + " " + cmd);
        }
        return pid;
    }

    private static boolean nginxAlive(int rs) {
        try {
            nginxPid(rs);
            return true;
        } catch (IOException | AssertionError | NumberFormatException e) {
            return false;
        }
    }

    /** Starts rs's nginx as scripts/lab does (same config and prefix, so the lab's own checks and teardown see it). */
    private static void restartNginx(int rs) {
        Path d = rsDir(rs);
        long deadline = System.currentTimeMillis() + 10_000;
        while (nginxAlive(rs) && System.currentTimeMillis() < deadline) {
            sleepQuietly(50); // the old master is still exiting
        }
        LAB.lab().exec(Duration.ofSeconds(20), Lab.rsNamespace(rs), "nginx", "-q", "-c", d.resolve("nginx.conf").toString(),
                "-p", d + "/").requireOk();
        deadline = System.currentTimeMillis() + 5_000;
        while (!nginxAlive(rs) && System.currentTimeMillis() < deadline) {
            sleepQuietly(50); // the pid file appears once the master runs
        }
        if (!nginxAlive(rs)) {
            throw new UncheckedIOException(new IOException("nginx of rs" + rs + " did not start again"));
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
