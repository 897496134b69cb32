package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SYN proxy (issue 15) in the lab: a NAT and a FULLNAT service with {@code --synproxy} in
 * front of the real nginx servers, kernel TCP in jvs-client through the VIP. For each: 200 HTTP
 * requests without a failure; a 20 MiB download byte for byte; spoofed-source ACKs with bad
 * cookies (hping3 -A --rand-source) counted as synproxy_bad_cookie and never reaching a real
 * server (an nftables counter in each real server's namespace stays 0); and a spoofed-source SYN
 * flood (hping3 -S --flood --rand-source, a few seconds) while 100 new connections are opened:
 * at least 95 succeed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(240)
class SynProxyIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String LIP = "10.0.0.3";
    static final long DOWNLOAD = 20L * 1024 * 1024;
    static final String NFT_TABLE = "jvs_synproxy_it";

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);
    static ForwarderProcess director;
    /** The director's arguments, kept to start it again (with the same --synproxy-key file). */
    static List<String> args;

    @BeforeAll
    static void start() {
        String fixed = LAB.lab().resetDirector();
        if (!fixed.isEmpty()) {
            System.out.println("[synproxy] " + fixed);
        }
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        Path conf = LAB.lab().itFile("synproxy.conf", """
                -A -t %1$s:80 -s rr --synproxy
                -a -t %1$s:80 -r %3$s:80 -m -w 1
                -a -t %1$s:80 -r %4$s:80 -m -w 1
                -A -t %1$s:81 -s rr --laddr %2$s --synproxy
                -a -t %1$s:81 -r %3$s:80 --fullnat -w 1
                -a -t %1$s:81 -r %4$s:80 --fullnat -w 1
                """.formatted(Lab.VIP, LIP, Lab.rsIp(1), Lab.rsIp(2)));
        Path key = LAB.lab().itFile("synproxy.key", "a secret both directors of a pair read\n");
        args = List.of("--attach", "packet:eth0", "--config", conf.toString(), "--metrics", METRICS,
                "--synproxy-key", key.toString());
        director = ForwarderProcess.start(LAB.lab(), "synproxy", METRICS, args);
        for (int rs = 1; rs <= 2; rs++) {
            LAB.lab().sh(Duration.ofSeconds(10), Lab.rsNamespace(rs), """
                    nft delete table ip %1$s 2>/dev/null || true
                    nft add table ip %1$s
                    nft add chain ip %1$s in '{ type filter hook prerouting priority -300; }'
                    nft add rule ip %1$s in tcp dport 80 counter
                    """.formatted(NFT_TABLE)).requireOk();
        }
    }

    @AfterAll
    static void stop() {
        for (int rs = 1; rs <= 2; rs++) {
            LAB.lab().sh(Duration.ofSeconds(10), Lab.rsNamespace(rs), "nft delete table ip " + NFT_TABLE + " || true");
        }
        if (director != null) {
            int rc = director.stop();
            System.out.println("[synproxy] forwarder stopped, exit " + rc + "; log " + director.log());
        }
    }

    @Test
    @Order(1)
    void nat() throws Exception {
        service(80, "nat");
    }

    @Test
    @Order(2)
    void fullNat() throws Exception {
        service(81, "fullnat");
    }

    private void service(int port, String tag) throws Exception {
        String url = "http://" + Lab.VIP + ":" + port + "/";
        double spliced0 = director.metric("jvs_synproxy_total", "event=\"spliced\"");

        // 200 requests, a new connection each.
        List<Lab.Transfer> t = LAB.lab().getRepeatedly(url, 200, Duration.ofSeconds(120), "-H", "Connection: close");
        long ok = t.stream().filter(Lab.Transfer::ok).count();
        assertEquals(200, ok, tag + ": requests through the SYN proxy; first failure: "
                + t.stream().filter(x -> !x.ok()).findFirst().map(Object::toString).orElse("none"));
        assertTrue(director.metric("jvs_synproxy_total", "event=\"spliced\"") - spliced0 >= 200,
                tag + ": every connection spliced by the proxy");

        // 20 MiB, byte for byte.
        Exec.Result dl = LAB.lab().sh(Duration.ofSeconds(90), Lab.CLIENT,
                "curl -sS --fail --connect-timeout 3 --max-time 60 -r 0-" + (DOWNLOAD - 1) + " '" + url
                        + "blob' | tee >(wc -c >&2) | sha256sum | cut -d' ' -f1");
        assertTrue(dl.ok(), dl.describe());
        assertEquals(Captures.sha256Prefix(LAB.lab().blobPath(), DOWNLOAD), dl.stdout().strip(),
                tag + ": sha256 of the 20 MiB download (bytes: " + dl.stderr().strip() + ")");

        // Spoofed ACKs with bad cookies: counted, and nothing reaches a real server.
        long[] before = rsCounters();
        double bad0 = director.metric("jvs_dropped_packets_total", "reason=\"synproxy_bad_cookie\"");
        Exec.Result acks = LAB.lab().exec(Duration.ofSeconds(30), Lab.CLIENT, "hping3", "-q", "-A", "--rand-source",
                "-p", Integer.toString(port), "-c", "3000", "-i", "u300", Lab.VIP);
        Lab.pause(500);
        double bad = director.metric("jvs_dropped_packets_total", "reason=\"synproxy_bad_cookie\"") - bad0;
        long[] after = rsCounters();
        System.out.printf(Locale.ROOT, "[synproxy %s] 3000 spoofed ACKs sent (hping3 exit %d): %.0f dropped as "
                + "synproxy_bad_cookie; packets to port 80 at rs1 %d, rs2 %d%n", tag, acks.exitCode(), bad,
                after[0] - before[0], after[1] - before[1]);
        assertTrue(bad >= 1500, tag + ": the spoofed ACKs reached the director, counted as bad cookies: " + bad);
        assertEquals(0, after[0] - before[0], tag + ": packets that reached rs1 during the ACK flood");
        assertEquals(0, after[1] - before[1], tag + ": packets that reached rs2 during the ACK flood");

        // A spoofed-source SYN flood while 100 new connections are opened.
        double synAcks0 = director.metric("jvs_synproxy_total", "event=\"syn_ack\"");
        double ring0 = kernelDrops();
        Process flood = new ProcessBuilder("ip", "netns", "exec", Lab.CLIENT, "timeout", "40", "hping3", "-q", "-S",
                "--flood", "--rand-source", "-p", Integer.toString(port), Lab.VIP)
                .redirectOutput(ProcessBuilder.Redirect.to(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.to(new File("/dev/null")))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "--connect-timeout", "10", "--max-time", "15",
                "-H", "Connection: close", "-w", "~c~ %{http_code} %{time_connect}\\n"));
        long flooded;
        String out;
        try {
            Lab.pause(1000);
            for (int i = 0; i < 100; i++) {
                cmd.add(url);
            }
            long t0 = System.nanoTime();
            out = LAB.lab().exec(Duration.ofSeconds(150), Lab.CLIENT, cmd.toArray(String[]::new)).stdout();
            flooded = (System.nanoTime() - t0) / 1_000_000;
        } finally {
            flood.destroy(); // by its own PID: ip netns exec -> timeout -> hping3, all SIGTERMed by timeout's group
            flood.waitFor();
        }
        int good = 0;
        double slowest = 0;
        Matcher m = Pattern.compile("~c~ (\\d+) ([0-9.]+)").matcher(out);
        while (m.find()) {
            if (m.group(1).equals("200")) {
                good++;
            }
            slowest = Math.max(slowest, Double.parseDouble(m.group(2)));
        }
        double synAcks = director.metric("jvs_synproxy_total", "event=\"syn_ack\"") - synAcks0;
        System.out.printf(Locale.ROOT, "[synproxy %s] SYN flood: %d of 100 new connections succeeded in %d ms "
                + "(slowest connect %.3f s); %.0f SYN-ACKs with cookies sent, %.0f frames dropped by the ring, "
                + "%d connections in the table after%n", tag, good, flooded, slowest, synAcks,
                kernelDrops() - ring0, (long) director.metric("jvs_connection_table_entries", ""));
        assertTrue(synAcks > 1000, tag + ": the flood reached the director: " + synAcks + " cookies");
        assertTrue(good >= 95, tag + ": " + good + " of 100 connections during the flood");
    }

    /**
     * --synproxy-key: a director started with the same key file accepts the cookies the one before
     * it sent (as the backup of a VRRP pair or another ECMP director would). The client's ACK and
     * request are held back (nftables in the client) while the director that answered its SYN is
     * replaced; once let through, the client's retransmitted request carries the old cookie to the
     * new director, which opens the connection from it: the request succeeds.
     */
    @Test
    @Order(3)
    void aCookieFromTheDirectorBeforeARestartIsValidAfterIt() throws Exception {
        Lab lab = LAB.lab();
        String table = NFT_TABLE + "_hold";
        lab.sh(Duration.ofSeconds(10), Lab.CLIENT, """
                nft delete table ip %1$s 2>/dev/null || true
                nft add table ip %1$s
                nft add chain ip %1$s out '{ type filter hook output priority 0; }'
                nft add rule ip %1$s out ip daddr %2$s tcp dport 80 'tcp flags != syn' counter drop
                """.formatted(table, Lab.VIP)).requireOk();
        Process curl = null;
        try {
            double synAcks0 = director.metric("jvs_synproxy_total", "event=\"syn_ack\"");
            curl = new ProcessBuilder("ip", "netns", "exec", Lab.CLIENT, "curl", "-s", "--max-time", "40", "-o",
                    "/dev/null", "-w", "%{http_code}", "-H", "Connection: close", "http://" + Lab.VIP + "/")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (director.metric("jvs_synproxy_total", "event=\"syn_ack\"") == synAcks0) {
                assertTrue(System.nanoTime() < deadline, "the SYN was never answered");
                Thread.sleep(50);
            }
            Thread.sleep(300); // the client's ACK and request: dropped in its own namespace
            double bad0 = director.metric("jvs_dropped_packets_total", "reason=\"synproxy_bad_cookie\"");
            System.out.println("[synproxy] restart: first director exit " + director.stop() + " (bad cookies "
                    + bad0 + ")");
            director = ForwarderProcess.start(lab, "synproxy-2", METRICS, args);
            lab.sh(Duration.ofSeconds(10), Lab.CLIENT, "nft delete table ip " + table).requireOk();
            String code = new String(curl.getInputStream().readAllBytes()).strip();
            curl.waitFor();
            System.out.printf(Locale.ROOT, "[synproxy] cookie across a restart: HTTP %s; opened %.0f, bad cookies %.0f%n",
                    code, director.metric("jvs_synproxy_total", "event=\"opened\""),
                    director.metric("jvs_dropped_packets_total", "reason=\"synproxy_bad_cookie\""));
            assertEquals("200", code, "the request behind a cookie of the previous director");
            assertEquals(0, director.metric("jvs_dropped_packets_total", "reason=\"synproxy_bad_cookie\""));
            assertEquals(1, director.metric("jvs_synproxy_total", "event=\"opened\""),
                    "the new director opened the connection from the old cookie");
        } finally {
            if (curl != null) {
                curl.destroy();
            }
            lab.sh(Duration.ofSeconds(10), Lab.CLIENT, "nft delete table ip " + table + " 2>/dev/null || true");
        }
    }

    /** The nftables counters (packets to TCP port 80) of rs1 and rs2. */
    private static long[] rsCounters() {
        long[] c = new long[2];
        for (int rs = 1; rs <= 2; rs++) {
            String text = LAB.lab().exec(Lab.rsNamespace(rs), "nft", "list", "chain", "ip", NFT_TABLE, "in")
                    .requireOk().stdout();
            Matcher m = Pattern.compile("counter packets (\\d+)").matcher(text);
            assertTrue(m.find(), text);
            c[rs - 1] = Long.parseLong(m.group(1));
        }
        return c;
    }

    private static double kernelDrops() {
        return director.samples().stream().filter(s -> s.name().equals("jvs_port_kernel_drops_total"))
                .mapToDouble(Metrics.Sample::value).sum();
    }
}
