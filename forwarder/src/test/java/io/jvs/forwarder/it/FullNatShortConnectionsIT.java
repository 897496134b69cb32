package io.jvs.forwarder.it;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FULLNAT TAP regression test: short connections as wrk makes them in the benchmark (32 at
 * once, each a new TCP connection closed after one request, the real server closing first),
 * back to back, over TAP and then in packet mode. The benchmark saw FULLNAT's short
 * connections/s collapse from ~7,000 to a few hundred in some runs (issue 13): once a local port
 * came round again, the real server still held LIP:lport -> RIP:80 in TIME_WAIT and answered
 * about half of the new SYNs with an ACK of the old connection, and each such client waited out a
 * 1 s SYN retransmission (issue 20's cause, fixed by giving the real server increasing ISNs and
 * timestamps per tuple).
 *
 * <p>Bounded: a range of {@value #PORTS} local ports and 1 s state timeouts make every port come
 * round in seconds instead of after 64k connections; {@value #BATCHES} batches of
 * {@value #PER_BATCH} connections per mode (about half of them on a reused port). None may fail
 * or take a second, and no batch's rate may fall below a third of the fastest batch's.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(240)
class FullNatShortConnectionsIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String LIP = "10.0.0.3";
    static final int PORTS = 8192;
    static final int BATCHES = 4;
    static final int PER_BATCH = 4096;
    static final int PARALLEL = 32;

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);

    @Test
    @Order(1)
    void tapMode() {
        run("fullnat-short-tap", List.of("--attach", "tap:jvs0", "--lan", "eth0"));
    }

    @Test
    @Order(2)
    void packetMode() {
        run("fullnat-short-packet", List.of("--attach", "packet:eth0"));
    }

    private void run(String tag, List<String> attach) {
        String fixed = LAB.lab().resetDirector();
        if (!fixed.isEmpty()) {
            System.out.println("[" + tag + "] " + fixed);
        }
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        Path conf = LAB.lab().itFile(tag + ".conf", """
                -A -t %1$s:81 -s rr --laddr %2$s
                -a -t %1$s:81 -r %3$s:80 --fullnat -w 1
                -a -t %1$s:81 -r %4$s:80 --fullnat -w 1
                --state-timeout time_wait 1
                --state-timeout close 1
                --state-timeout fin_wait 1
                --state-timeout last_ack 1
                --state-timeout close_wait 1
                """.formatted(Lab.VIP, LIP, Lab.rsIp(1), Lab.rsIp(2)));
        List<String> args = new ArrayList<>(attach);
        // A small table: the expiry sweep passes over it within a second, so ports come back
        // soon after their connection's 1 s timeout.
        args.addAll(List.of("--config", conf.toString(), "--metrics", METRICS, "--conn-max", "16384",
                "--lport-range", "40000-" + (40000 + PORTS - 1)));
        ForwarderProcess director = ForwarderProcess.start(LAB.lab(), tag, METRICS, args);
        try {
            List<String> bad = new ArrayList<>();
            double[] rates = new double[BATCHES];
            int total = 0;
            double worst = 0;
            for (int b = 0; b < BATCHES; b++) {
                // curl's URL glob: PER_BATCH URLs, PARALLEL transfers at a time, each its own
                // connection (Connection: close), as wrk -c32 -H 'Connection: close' does.
                long t0 = System.nanoTime();
                Exec.Result r = LAB.lab().exec(Duration.ofSeconds(120), Lab.CLIENT, "curl", "-sS", "--parallel",
                        "--parallel-max", String.valueOf(PARALLEL), "--connect-timeout", "5", "--max-time", "8",
                        "-H", "Connection: close", "-w", "~t~ %{http_code} %{time_total}\\n",
                        "http://" + Lab.VIP + ":81/?b" + b + "=[1-" + PER_BATCH + "]");
                double seconds = (System.nanoTime() - t0) / 1e9;
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
                        bad.add("#" + total + " took " + f[1] + " s");
                    }
                }
                assertEquals(PER_BATCH, seen, "curl stopped early (exit " + r.exitCode() + "): " + r.stderr());
                rates[b] = PER_BATCH / seconds;
            }
            double best = 0;
            StringBuilder rateText = new StringBuilder();
            for (double rate : rates) {
                best = Math.max(best, rate);
                rateText.append(String.format(Locale.ROOT, " %.0f", rate));
            }
            System.out.printf(Locale.ROOT, "[%s] %d connections, %d at a time, through %d local ports: %d failed or"
                    + " slow, slowest %.3f s; connections/s per batch:%s%n", tag, total, PARALLEL, PORTS, bad.size(),
                    worst, rateText);
            assertTrue(bad.isEmpty(), bad.size() + " of " + total + " connections failed or took >= 1 s, first: "
                    + bad.subList(0, Math.min(8, bad.size())));
            for (int b = 0; b < BATCHES; b++) {
                assertTrue(rates[b] >= best / 3, "batch " + (b + 1) + " made " + Math.round(rates[b])
                        + " connections/s, the fastest " + Math.round(best) + ": the rate collapsed (" + rateText + ")");
            }
            assertEquals(0.0, director.metricValue("jvs_dropped_packets_total",
                    "reason=\"local_port_exhausted\"").orElse(0), "the range was never exhausted");
        } finally {
            int rc = director.stop();
            System.out.println("[" + tag + "] forwarder stopped, exit " + rc + "; log " + director.log());
        }
    }
}
