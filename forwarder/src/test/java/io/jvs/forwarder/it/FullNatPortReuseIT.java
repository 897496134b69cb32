package io.jvs.forwarder.it;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20's regression: FULLNAT local ports come round again long before the real server's
 * TIME_WAIT (60 s, it closes first) for the tuple LIP:lport -> RIP:80 ends — here forced by a
 * 8192-port range and 1 s state timeouts, in production by load or a director restart. The
 * tuple's next SYN then comes from an unrelated client connection; unless the director gives the
 * real server increasing ISNs and timestamps for the tuple, Linux answers about half of those SYNs
 * with an ACK of the old connection and the client waits out SYN retransmissions (1 s, 3 s, ...).
 *
 * <p>Short connections (real curl, real nginx, the server closing first) for longer than the
 * server's TIME_WAIT and its neighbour reachable time, in packet mode and then in TAP mode — the
 * second director starts while the first one's tuples are still in TIME_WAIT on the real servers
 * (a restart). Every connection must succeed, none may take a second.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(300)
class FullNatPortReuseIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String LIP = "10.0.0.3";
    static final int PORTS = 8192;
    /** Longer than Linux's TIME_WAIT (TCP_TIMEWAIT_LEN, 60 s) and its base reachable time (30 s). */
    static final Duration RUN = Duration.ofSeconds(65);

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);

    @Test
    @Order(1)
    void packetMode() {
        run("fullnat-reuse-packet", List.of("--attach", "packet:eth0"));
    }

    @Test
    @Order(2)
    void tapModeRightAfterARestart() {
        run("fullnat-reuse-tap", List.of("--attach", "tap:jvs0", "--lan", "eth0"));
    }

    private void run(String tag, List<String> attach) {
        ForwarderProcess director = FullNatPortDirector.start(LAB.lab(), tag, attach, LIP, PORTS, METRICS);
        try {
            int total = 0;
            int slow = 0;
            double worst = 0;
            List<String> bad = new ArrayList<>();
            long end = System.nanoTime() + RUN.toNanos();
            while (System.nanoTime() < end) {
                List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--connect-timeout", "5", "--max-time", "8",
                        "-H", "Connection: close", "-w", "~t~ %{http_code} %{time_total}\\n"));
                for (int i = 0; i < 200; i++) {
                    cmd.add("http://" + Lab.VIP + ":81/");
                }
                Exec.Result r = LAB.lab().exec(Duration.ofSeconds(120), Lab.CLIENT, cmd.toArray(String[]::new));
                int seen = 0;
                for (String line : r.stdout().split("\n")) {
                    int at = line.indexOf("~t~ ");
                    if (at < 0) {
                        continue;
                    }
                    String[] f = line.substring(at + 4).trim().split(" ");
                    double t = Double.parseDouble(f[1]);
                    seen++;
                    total++;
                    worst = Math.max(worst, t);
                    if (!f[0].equals("200")) {
                        bad.add("#" + total + " http " + f[0] + " after " + f[1] + " s");
                    } else if (t >= 1.0) {
                        slow++;
                        bad.add("#" + total + " took " + f[1] + " s");
                    }
                }
                assertEquals(200, seen, "curl stopped early (exit " + r.exitCode() + "): " + r.stderr());
            }
            double inUse = director.metric("jvs_local_ports_in_use", "");
            StringBuilder drops = new StringBuilder();
            for (Metrics.Sample m : director.samples()) {
                if ((m.name().equals("jvs_dropped_packets_total") || m.name().equals("jvs_port_kernel_drops_total"))
                        && m.value() > 0) {
                    drops.append(' ').append(m.name()).append('{').append(m.labelText()).append("}=")
                            .append((long) m.value());
                }
            }
            System.out.println("[" + tag + "] drops:" + (drops.isEmpty() ? " none" : drops));
            System.out.printf(Locale.ROOT, "[%s] %d connections over %d s through %d local ports: %d failed or slow, "
                            + "slowest %.3f s, ports in use at the end %.0f%n",
                    tag, total, RUN.toSeconds(), PORTS, bad.size(), worst, inUse);
            assertTrue(bad.isEmpty(), bad.size() + " of " + total + " connections failed or took >= 1 s ("
                    + slow + " slow), first: " + bad.subList(0, Math.min(8, bad.size())));
            assertTrue(total > 2 * PORTS, "the ports came round at least twice: " + total + " connections");
            assertEquals(0.0, director.metricValue("jvs_dropped_packets_total",
                    "reason=\"local_port_exhausted\"").orElse(0), "the range was never exhausted");
        } finally {
            int rc = director.stop();
            System.out.println("[" + tag + "] forwarder stopped, exit " + rc + "; log " + director.log());
        }
    }
}
