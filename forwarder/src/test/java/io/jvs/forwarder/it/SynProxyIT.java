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
 *
 * <p>IPv6 (issues 15 and 16), in the same director: {@code -t [2001:db8::100]:80 --synproxy} with
 * NAT real servers, 200 requests and a 50 MiB download byte for byte (and through {@code :81}, FULLNAT
 * with {@code --laddr 2001:db8::3}, 100 requests and the download); spoofed-source IPv6 ACKs with
 * bad cookies (a raw-socket sender in the client: hping3 has no IPv6) counted and never reaching a
 * real server (an ip6 nftables counter in each real server's namespace stays 0); and a paced
 * spoofed IPv6 SYN flood at a NAT service without the proxy ({@code [2001:db8::100]:8080}), three
 * times the IPv6 connection table, while 100 new connections are opened: at least 95 succeed because
 * a full IPv6 table gives its oldest embryonic (SYN_RECV) entry up for a new connection.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(240)
class SynProxyIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String LIP = "10.0.0.3";
    static final long DOWNLOAD = 20L * 1024 * 1024;
    static final String NFT_TABLE = "jvs_synproxy_it";
    static final String VIP6 = "2001:db8::100";
    /** The IPv6 connection table's size in this director: --conn-max 16384 over 2 workers / 16, at least 1024. */
    static final int TABLE6 = 1024;
    /**
     * A spoofed-source TCP sender over IPv6 (hping3 has none): count segments with one flag (S or A)
     * to [vip]:port at rate per second, each from a random address in 2001:db8:9::/48 (a prefix the
     * lab does not route) and a random port, sequence and acknowledgement; the IPv6 header written
     * here (IPPROTO_RAW implies IPV6_HDRINCL), the TCP checksum over the pseudo-header.
     */
    static final String RAW6 = """
            import os, random, socket, struct, sys, time
            vip, port, flag, count, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
            dst = socket.inet_pton(socket.AF_INET6, vip)
            fl = {'S': 0x02, 'A': 0x10}[flag]
            def csum(b):
                v = sum(struct.unpack('!%dH' % (len(b) // 2), b))
                while v >> 16:
                    v = (v & 0xffff) + (v >> 16)
                return ~v & 0xffff
            r = random.Random(os.getpid())
            t0 = time.monotonic()
            sent = 0
            for i in range(count):
                src = bytes.fromhex('20010db80009') + r.randbytes(10)
                tcp = struct.pack('!HHIIBBHHH', r.randrange(1024, 65536), port, r.getrandbits(32),
                                  r.getrandbits(32) if fl == 0x10 else 0, 5 << 4, fl, 64240, 0, 0)
                c = csum(src + dst + struct.pack('!IxxxB', 20, 6) + tcp)
                tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
                s.sendto(struct.pack('!IHBB', 6 << 28, 20, 6, 64) + src + dst + tcp, (vip, 0))
                sent += 1
                delay = t0 + (i + 1) / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            print(sent)
            """;

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
                -A -t [%5$s]:80 -s rr --synproxy
                -a -t [%5$s]:80 -r [2001:db8::11]:80 -m -w 1
                -a -t [%5$s]:80 -r [2001:db8::12]:80 -m -w 1
                -A -t [%5$s]:81 -s rr --laddr 2001:db8::3 --synproxy
                -a -t [%5$s]:81 -r [2001:db8::11]:80 --fullnat -w 1
                -a -t [%5$s]:81 -r [2001:db8::12]:80 --fullnat -w 1
                -A -t [%5$s]:8080 -s rr
                -a -t [%5$s]:8080 -r [2001:db8::11]:80 -m -w 1
                -a -t [%5$s]:8080 -r [2001:db8::12]:80 -m -w 1
                """.formatted(Lab.VIP, LIP, Lab.rsIp(1), Lab.rsIp(2), VIP6));
        Path key = LAB.lab().itFile("synproxy.key", "a secret both directors of a pair read\n");
        args = List.of("--attach", "packet:eth0", "--config", conf.toString(), "--metrics", METRICS,
                "--synproxy-key", key.toString(), "--conn-max", "16384");
        director = ForwarderProcess.start(LAB.lab(), "synproxy", METRICS, args);
        for (int rs = 1; rs <= 2; rs++) {
            LAB.lab().sh(Duration.ofSeconds(10), Lab.rsNamespace(rs), """
                    nft delete table ip %1$s 2>/dev/null || true
                    nft add table ip %1$s
                    nft add chain ip %1$s in '{ type filter hook prerouting priority -300; }'
                    nft add rule ip %1$s in tcp dport 80 counter
                    nft delete table ip6 %1$s 2>/dev/null || true
                    nft add table ip6 %1$s
                    nft add chain ip6 %1$s in '{ type filter hook prerouting priority -300; }'
                    nft add rule ip6 %1$s in tcp dport 80 counter
                    """.formatted(NFT_TABLE)).requireOk();
        }
    }

    @AfterAll
    static void stop() {
        for (int rs = 1; rs <= 2; rs++) {
            LAB.lab().sh(Duration.ofSeconds(10), Lab.rsNamespace(rs), "nft delete table ip " + NFT_TABLE + " || true; "
                    + "nft delete table ip6 " + NFT_TABLE + " || true");
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

    @Test
    @Order(4)
    void nat6() {
        String url = "http://[" + VIP6 + "]/";
        double spliced0 = director.metric("jvs_synproxy_total", "event=\"spliced\"");
        double synAcks0 = director.metric("jvs_synproxy_total", "event=\"syn_ack\"");
        List<Lab.Transfer> t = LAB.lab().getRepeatedly(url, 200, Duration.ofSeconds(120), "-g", "-H",
                "Connection: close");
        long ok = t.stream().filter(Lab.Transfer::ok).count();
        double spliced = director.metric("jvs_synproxy_total", "event=\"spliced\"") - spliced0;
        double synAcks = director.metric("jvs_synproxy_total", "event=\"syn_ack\"") - synAcks0;
        System.out.printf(Locale.ROOT, "[synproxy nat6] 200 x GET %s: %d ok; %.0f cookie SYN-ACKs, %.0f spliced%n",
                url, ok, synAcks, spliced);
        assertEquals(200, ok, "nat6: requests through the IPv6 SYN proxy; first failure: "
                + t.stream().filter(x -> !x.ok()).findFirst().map(Object::toString).orElse("none"));
        assertTrue(spliced >= 200, "nat6: every connection spliced by the proxy: " + spliced);

        Lab.Download via = LAB.lab().download(url + "blob", 60);
        System.out.printf(Locale.ROOT, "[synproxy nat6] GET %sblob 50 MiB: %.1f MB/s%n", url, via.megabytesPerSecond());
        assertEquals(200, via.httpCode(), "nat6 download status");
        assertEquals(Lab.BLOB_BYTES, via.bytes(), "nat6 download bytes");
        assertEquals(LAB.lab().blobSha256(), via.sha256(), "nat6 download sha256");

        // Spoofed IPv6 ACKs with bad cookies: counted, and nothing reaches a real server.
        long[] before = rsCounters("ip6");
        double bad0 = director.metric("jvs_dropped_packets_total", "reason=\"synproxy_bad_cookie\"");
        Exec.Result acks = LAB.lab().exec(Duration.ofSeconds(30), Lab.CLIENT, "/usr/bin/python3", "-c", RAW6, VIP6,
                "80", "A", "3000", "5000");
        Lab.pause(500);
        double bad = director.metric("jvs_dropped_packets_total", "reason=\"synproxy_bad_cookie\"") - bad0;
        long[] after = rsCounters("ip6");
        System.out.printf(Locale.ROOT, "[synproxy nat6] %s spoofed IPv6 ACKs sent: %.0f dropped as synproxy_bad_cookie;"
                + " packets to port 80 at rs1 %d, rs2 %d%n", acks.stdout().strip(), bad, after[0] - before[0],
                after[1] - before[1]);
        assertEquals("3000", acks.stdout().strip(), acks.describe());
        assertTrue(bad >= 2900, "nat6: the spoofed ACKs reached the director, counted as bad cookies: " + bad);
        assertEquals(0, after[0] - before[0], "nat6: packets that reached rs1 during the ACK flood");
        assertEquals(0, after[1] - before[1], "nat6: packets that reached rs2 during the ACK flood");
    }

    /**
     * A paced spoofed IPv6 SYN flood three times the size of the IPv6 connection table at a service
     * without the proxy: every SYN makes a SYN_RECV entry, so the table is full within the first
     * two seconds; a new connection then takes the place of the oldest embryonic entry (counted as
     * jvs_embryonic_removed_total{by="reclaim"}) instead of being refused as table_full.
     */
    /** FULLNAT over IPv6 behind the proxy ([2001:db8::100]:81, --laddr 2001:db8::3): the two translations composed. */
    @Test
    @Order(5)
    void fullNat6() {
        String url = "http://[" + VIP6 + "]:81/";
        double spliced0 = director.metric("jvs_synproxy_total", "event=\"spliced\"");
        List<Lab.Transfer> t = LAB.lab().getRepeatedly(url, 100, Duration.ofSeconds(120), "-g", "-H",
                "Connection: close");
        long ok = t.stream().filter(Lab.Transfer::ok).count();
        double spliced = director.metric("jvs_synproxy_total", "event=\"spliced\"") - spliced0;
        Lab.Download via = LAB.lab().download(url + "blob", 60);
        System.out.printf(Locale.ROOT, "[synproxy fullnat6] 100 x GET %s: %d ok, %.0f spliced; 50 MiB: %.1f MB/s%n",
                url, ok, spliced, via.megabytesPerSecond());
        assertEquals(100, ok, "fullnat6: requests through the IPv6 SYN proxy; first failure: "
                + t.stream().filter(x -> !x.ok()).findFirst().map(Object::toString).orElse("none"));
        assertTrue(spliced >= 100, "fullnat6: every connection spliced by the proxy: " + spliced);
        assertEquals(200, via.httpCode(), "fullnat6 download status");
        assertEquals(Lab.BLOB_BYTES, via.bytes(), "fullnat6 download bytes");
        assertEquals(LAB.lab().blobSha256(), via.sha256(), "fullnat6 download sha256");
    }

    @Test
    @Order(6)
    void ipv6SynFloodLargerThanTheTable() throws Exception {
        String url = "http://[" + VIP6 + "]:8080/";
        double reclaimed0 = director.metric("jvs_embryonic_removed_total", "by=\"reclaim\"");
        double full0 = director.metric("jvs_dropped_packets_total", "reason=\"table_full\"");
        Process flood = new ProcessBuilder("ip", "netns", "exec", Lab.CLIENT, "/usr/bin/python3", "-c", RAW6, VIP6,
                "8080", "S", Integer.toString(3 * TABLE6), "600")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-g", "--connect-timeout", "10", "--max-time", "15",
                "-H", "Connection: close", "-w", "~c~ %{http_code}\\n"));
        String out;
        try {
            // the table is full in under two seconds at 600 SYNs a second (the flood's own SYNs then
            // reclaim its oldest entries, or, were there no reclaim, are refused); then the legitimate clients
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (director.metric("jvs_embryonic_removed_total", "by=\"reclaim\"") == reclaimed0
                    && director.metric("jvs_dropped_packets_total", "reason=\"table_full\"") == full0) {
                assertTrue(System.nanoTime() < deadline, "the IPv6 flood never filled the table");
                Thread.sleep(100);
            }
            for (int i = 0; i < 100; i++) {
                cmd.add(url);
            }
            out = LAB.lab().exec(Duration.ofSeconds(150), Lab.CLIENT, cmd.toArray(String[]::new)).stdout();
            flood.waitFor(30, java.util.concurrent.TimeUnit.SECONDS); // all of it: about 5 s at 600 a second
        } finally {
            flood.destroy(); // by its own PID (already gone unless it hung)
            flood.waitFor();
        }
        int good = 0;
        Matcher m = Pattern.compile("~c~ (\\d+)").matcher(out);
        while (m.find()) {
            if (m.group(1).equals("200")) {
                good++;
            }
        }
        double reclaimed = director.metric("jvs_embryonic_removed_total", "by=\"reclaim\"") - reclaimed0;
        double full = director.metric("jvs_dropped_packets_total", "reason=\"table_full\"") - full0;
        System.out.printf(Locale.ROOT, "[synproxy ipv6 flood] %d of 100 new connections succeeded during a spoofed"
                + " SYN flood of %d at 600/s; %.0f embryonic entries reclaimed, %.0f table_full%n", good, 3 * TABLE6,
                reclaimed, full);
        // (a few table_full are the reclaim's first scans passing the earlier tests' TIME_WAIT entries: 64 claim
        // records at most per new connection, as for IPv4)
        assertTrue(reclaimed >= TABLE6, "the flood overflowed the IPv6 table, its embryonic entries reclaimed: "
                + reclaimed);
        assertTrue(good >= 95, good + " of 100 IPv6 connections during the flood");
    }

    /** The nftables counters (packets to TCP port 80) of rs1 and rs2. */
    private static long[] rsCounters() {
        return rsCounters("ip");
    }

    /** The nftables counters (packets to TCP port 80) of rs1 and rs2 in the table of this family (ip, ip6). */
    private static long[] rsCounters(String family) {
        long[] c = new long[2];
        for (int rs = 1; rs <= 2; rs++) {
            String text = LAB.lab().exec(Lab.rsNamespace(rs), "nft", "list", "chain", family, NFT_TABLE, "in")
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
