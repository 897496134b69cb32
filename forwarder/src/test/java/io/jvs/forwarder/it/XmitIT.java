package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End-to-end TUN and FULLNAT with real kernel TCP, real nginx and the real
 * director: IPIP and GUE to the second segment's real servers (tsN, which
 * decapsulate with jvs-agent), FULLNAT to rsN with the client's address passed
 * by PROXY v2 (a second nginx on rs1 with {@code listen ... proxy_protocol}) and
 * by TOA (seen in the SYN on rs2's wire), bulk transfers byte for byte, and
 * the local port pool running out.
 */
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
class XmitIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String LIP1 = "10.0.0.3";
    static final String LIP2 = "10.0.0.4";
    static final int PROXY_PORT = 8081;
    static final Duration LOAD_LIMIT = Duration.ofSeconds(90);

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--tun-servers", "2");
    static ProxyNginx proxyNginx;

    @BeforeAll
    static void tunSegmentAndProxy() {
        for (int ts = 1; ts <= 2; ts++) {
            LAB.lab().exec(tsNamespace(ts), "true").requireOk(); // the TUN segment is part of the lab
        }
        proxyNginx = ProxyNginx.start(LAB.lab(), 1);
    }

    @AfterAll
    static void stopProxy() {
        if (proxyNginx != null) {
            proxyNginx.stop();
        }
    }

    static String tsNamespace(int ts) {
        return Lab.PREFIX + "ts" + ts;
    }

    static String tsIp(int ts) {
        return "10.0.2.1" + ts;
    }

    /** One forwarder for a group of tests. */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    @Timeout(180)
    abstract static class Scenario {
        final String tag;
        ForwarderProcess director;

        @RegisterExtension
        final DirectorLogOnFailure logOnFailure = new DirectorLogOnFailure(() -> director);

        Scenario(String tag) {
            this.tag = tag;
        }

        abstract String config();

        List<String> extraArgs() {
            return List.of();
        }

        List<String> attachArgs() {
            return List.of("--attach", "packet:eth0");
        }

        /** The VIP as a URL and a metrics label have it: IPv6 in brackets. */
        String vipHost() {
            return Lab.VIP;
        }

        @BeforeAll
        void startDirector() {
            String fixed = LAB.lab().resetDirector();
            if (!fixed.isEmpty()) {
                say("%s", fixed);
            }
            LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
            Path conf = LAB.lab().itFile("director-" + tag + ".conf", config());
            List<String> args = new ArrayList<>(attachArgs());
            args.addAll(List.of("--config", conf.toString(), "--metrics", METRICS));
            args.addAll(extraArgs());
            director = ForwarderProcess.start(LAB.lab(), tag, METRICS, args);
        }

        @AfterAll
        void stopDirector() {
            if (director != null) {
                int rc = director.stop();
                say("forwarder stopped, exit %d; log %s", rc, director.log());
            }
        }

        void say(String fmt, Object... args) {
            System.out.println("[" + tag + "] " + String.format(Locale.ROOT, fmt, args));
        }

        double allocated() {
            return director.metric("jvs_event_loop_allocated_bytes_total", "");
        }

        /**
         * The event loop's allocation counter, shown to be live before a window over it means
         * anything: its once-a-second housekeeping (route table refresh, ring statistics)
         * allocates a few KB, so the counter must rise within a few seconds. A counter that
         * stands still (a constant, or -1 where the JVM does not count) fails here instead of
         * passing every bound. Returns the risen value: the window's start.
         */
        double liveAllocationBaseline() {
            double first = allocated();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            double now = first;
            while (now <= first && System.nanoTime() < deadline) {
                Lab.pause(200);
                now = allocated();
            }
            assertTrue(first >= 0 && now > first, "jvs_event_loop_allocated_bytes_total is live: " + first
                    + " and 5 s later " + now);
            return now;
        }

        /** Packets of the service on VIP:port counted in one direction ("in" from clients, "out" from servers). */
        double servicePackets(int port, String direction) {
            return director.metric("jvs_service_packets_total",
                    "service=\"TCP/" + vipHost() + ":" + port + "\",direction=\"" + direction + "\"");
        }

        /** As {@link #servicePackets}, in bytes. */
        double serviceBytes(int port, String direction) {
            return director.metric("jvs_service_bytes_total",
                    "service=\"TCP/" + Lab.VIP + ":" + port + "\",direction=\"" + direction + "\"");
        }

        /**
         * A 50 MiB download through VIP:port that must not cross the director on its way back
         * (DR, TUN): sha256 checked, no packet from a real server counted by jvs (ipvsadm's
         * OutPkts 0), and the director's LAN interface received far less than the 50 MiB (only
         * the client's ACKs), whatever jvs's counters say.
         */
        void downloadBypassingTheDirector(int port) {
            double outBefore = servicePackets(port, "out");
            double inBefore = servicePackets(port, "in");
            long rxBefore = directorRxBytes();
            Lab.Download down = LAB.lab().download("http://" + vipHost() + (port == 80 ? "" : ":" + port) + "/blob", 120);
            long rx = directorRxBytes() - rxBefore;
            double out = servicePackets(port, "out") - outBefore;
            double in = servicePackets(port, "in") - inBefore;
            say("download: %d bytes, %.0f MB/s; service packets in %.0f out %.0f; director eth0 received %d bytes",
                    down.bytes(), down.megabytesPerSecond(), in, out, rx);
            assertEquals(200, down.httpCode());
            assertEquals(Lab.BLOB_BYTES, down.bytes());
            assertEquals(LAB.lab().blobSha256(), down.sha256(), "sha256 of the download");
            assertTrue(in > 100, "the client's ACKs crossed the director: " + in);
            assertEquals(0.0, out, "replies bypass the director: OutPkts");
            assertTrue(rx < Lab.BLOB_BYTES / 10, "the director's eth0 saw " + rx + " bytes during a "
                    + Lab.BLOB_BYTES + "-byte download: the replies went past it");
        }

        /** A 50 MiB upload through VIP:port; returns the sha256 of what one of the servers stored. */
        String uploadTo(int port, String name, List<Path> candidates) throws IOException {
            Lab.Upload up = LAB.lab().upload("http://" + vipHost() + (port == 80 ? "" : ":" + port) + "/upload/" + name,
                    LAB.lab().blobPath(), 120);
            say("upload: %d bytes, %.0f MB/s", up.bytes(), up.megabytesPerSecond());
            assertEquals(201, up.httpCode());
            assertEquals(Lab.BLOB_BYTES, up.bytes());
            List<Path> stored = candidates.stream().filter(Files::exists).toList();
            try {
                assertEquals(1, stored.size(), "exactly one real server stored " + name + ": " + stored);
                return Lab.sha256(stored.getFirst());
            } finally {
                for (Path p : stored) {
                    Files.deleteIfExists(p);
                }
            }
        }

        double drops(String reason) {
            return director.metricValue("jvs_dropped_packets_total", "reason=\"" + reason + "\"").orElse(0);
        }

        /**
         * n GETs of url over IPv6, a new connection each, from jvs-client: none fails, each comes from
         * {@code remote} and the bodies follow {@code order} exactly, cycling (rr).
         */
        void getInOrder6(String url, int n, List<String> order, String remote) {
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly(url, n, LOAD_LIMIT, "-g", "-H", "Connection: close");
            List<String> wrong = new ArrayList<>();
            Map<String, Integer> per = new TreeMap<>();
            for (Lab.Transfer t : ts) {
                per.merge(t.body(), 1, Integer::sum);
                String want = order.get(t.index() % order.size());
                if (!t.ok() || t.numConnects() != 1 || !t.body().equals(want) || !t.remote().equals(remote)) {
                    wrong.add("#" + t.index() + ": '" + t.body() + "' http " + t.httpCode() + " curl exit "
                            + t.curlExit() + " -> " + t.remote() + ", expected '" + want + "'");
                }
            }
            say("%d x GET %s: %s", n, url, per);
            assertEquals(n, ts.size(), "curl stopped early at #" + (ts.size() - 1) + ": " + ts.getLast());
            assertTrue(wrong.isEmpty(), wrong.size() + " transfers off the rr sequence; first: "
                    + wrong.subList(0, Math.min(10, wrong.size())));
        }

        /** n GETs, a new connection each, from jvs-client; asserts zero failures; returns bodies per server. */
        Map<String, Integer> getMany(String url, int n, String userAgent) {
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly(url, n, LOAD_LIMIT, "-H", "Connection: close",
                    "-A", userAgent);
            Map<String, Integer> per = new TreeMap<>();
            List<String> bad = new ArrayList<>();
            for (Lab.Transfer t : ts) {
                per.merge(t.body(), 1, Integer::sum);
                if (!t.ok() || t.numConnects() != 1) {
                    bad.add("#" + t.index() + " http " + t.httpCode() + " curl exit " + t.curlExit());
                }
            }
            say("%d x GET %s: %s", n, url, per);
            assertEquals(n, ts.size(), "curl stopped early at #" + (ts.size() - 1) + ": " + ts.getLast());
            assertTrue(bad.isEmpty(), bad.size() + " failed transfers, first: " + bad.subList(0, Math.min(5, bad.size())));
            return per;
        }
    }

    /** Bytes the director namespace's eth0 (its LAN interface) received so far, by the kernel's count. */
    static long directorRxBytes() {
        return Long.parseLong(LAB.lab().exec(Lab.DIRECTOR, "cat", "/sys/class/net/eth0/statistics/rx_bytes").requireOk()
                .stdout().strip());
    }

    // ------------------------------------------------------------------ TUN

    @Nested
    @Order(1)
    @DisplayName("TUN, IPIP to ts1 and ts2 (jvs-agent decapsulates)")
    class TunIpip extends Scenario {
        TunIpip() {
            super("tun-ipip");
        }

        @Override
        String config() {
            return """
                    -A -t %1$s:80 -s rr
                    -a -t %1$s:80 -r %2$s -i -w 1
                    -a -t %1$s:80 -r %3$s -i -w 1
                    """.formatted(Lab.VIP, tsIp(1), tsIp(2));
        }

        @Test
        @Order(1)
        @DisplayName("200 HTTP requests, zero failures, rr over ts2, ts1")
        void twoHundredRequests() {
            Map<String, Integer> per = getMany("http://" + Lab.VIP + "/", 200, "jvs-it-tun-ipip");
            assertEquals(Map.of("ts1", 100, "ts2", 100), per);
        }

        @Test
        @Order(2)
        @DisplayName("a 50 MiB upload arrives byte for byte (GSO super-frames segmented, path MTU found)")
        void uploadByteForByte() throws IOException {
            String name = "xmit-ipip-" + System.nanoTime();
            // Forget any path MTU the client learned before, so this upload has to find it.
            LAB.lab().exec(Lab.CLIENT, Lab.ip(), "route", "flush", "cache").requireOk();
            double before = liveAllocationBaseline();
            Lab.Upload up = LAB.lab().upload("http://" + Lab.VIP + "/upload/" + name, LAB.lab().blobPath(), 120);
            double grew = allocated() - before;
            say("upload through IPIP: %d bytes, %.0f MB/s, frag_needed drops %.0f, event loop allocated %.0f bytes",
                    up.bytes(), up.megabytesPerSecond(), drops("frag_needed"), grew);
            assertTrue(grew < 256 * 1024, "no allocation per packet (software GSO included): " + grew + " bytes");
            assertEquals(201, up.httpCode());
            Path stored = null;
            for (int ts = 1; ts <= 2; ts++) {
                Path p = LAB.lab().state().resolve("ts" + ts + "/upload/" + name);
                if (Files.exists(p)) {
                    stored = p;
                }
            }
            assertTrue(stored != null, "the upload landed on ts1 or ts2");
            try {
                assertEquals(LAB.lab().blobSha256(), Lab.sha256(stored), "sha256 of what the real server stored");
            } finally {
                Files.deleteIfExists(stored);
            }
            assertTrue(drops("frag_needed") >= 1, "1500-byte segments + 20 > MTU: the client was told the MTU");
            String route = LAB.lab().exec(Lab.CLIENT, Lab.ip(), "route", "get", Lab.VIP).requireOk().stdout();
            assertTrue(route.contains("mtu 1480"), "the client's path MTU to the VIP is 1500 - 20: " + route);
        }

        @Test
        @Order(3)
        @DisplayName("a 50 MiB download: replies go from ts1/ts2 straight to the client (OutPkts 0, not through the director)")
        void downloadBypassesTheDirector() {
            downloadBypassingTheDirector(80);
        }
    }

    @Nested
    @Order(2)
    @DisplayName("TUN, GUE (UDP 6080) to ts1 and ts2, with and without the outer checksum")
    class TunGue extends Scenario {
        TunGue() {
            super("tun-gue");
        }

        @Override
        String config() {
            return """
                    -A -t %1$s:80 -s rr
                    -a -t %1$s:80 -r %2$s -i --tun-type gue --tun-port 6080 -w 1
                    -a -t %1$s:80 -r %3$s -i --tun-type gue --tun-port 6080 --tun-csum -w 1
                    """.formatted(Lab.VIP, tsIp(1), tsIp(2));
        }

        @Test
        @Order(1)
        @DisplayName("200 HTTP requests, zero failures, rr over ts2, ts1")
        void twoHundredRequests() {
            Map<String, Integer> per = getMany("http://" + Lab.VIP + "/", 200, "jvs-it-tun-gue");
            assertEquals(Map.of("ts1", 100, "ts2", 100), per);
        }

        @Test
        @Order(2)
        @DisplayName("50 MiB down (replies bypass the director, OutPkts 0) and up (GUE-encapsulated segments) byte for byte")
        void bulkBothWays() throws IOException {
            downloadBypassingTheDirector(80);
            String name = "xmit-gue-" + System.nanoTime();
            LAB.lab().exec(Lab.CLIENT, Lab.ip(), "route", "flush", "cache").requireOk();
            double before = liveAllocationBaseline();
            String sha = uploadTo(80, name, List.of(LAB.lab().state().resolve("ts1/upload/" + name),
                    LAB.lab().state().resolve("ts2/upload/" + name)));
            double grew = allocated() - before;
            say("upload through GUE: event loop allocated %.0f bytes", grew);
            assertEquals(LAB.lab().blobSha256(), sha, "sha256 of what the real server stored");
            assertTrue(grew < 256 * 1024, "no allocation per packet (software GSO + GUE): " + grew + " bytes");
            assertEquals(0.0, servicePackets(80, "out"), "no reply crossed the director");
        }
    }

    /**
     * TUN over IPv6 (the lab's TUN segment is dual stack): [2001:db8::100]:80 to ts1 by ip6ip6
     * and to ts2 by GUE over IPv6 (UDP 6080, checksum 0); the agents decapsulate in userspace
     * and the real servers answer the client from the VIP through the router. Both tunnels
     * cost more than the 1500-byte LAN allows for a full-sized client segment: the client
     * learns the tunnel's MTU from jvs's Packet Too Big (1460 ip6ip6, 1448 GUE).
     */
    @Nested
    @Order(3)
    @DisplayName("TUN over IPv6: ip6ip6 to ts1, GUE over IPv6 to ts2 (jvs-agent decapsulates)")
    class Tun6 extends Scenario {
        static final String VIP6 = "2001:db8::100";

        Tun6() {
            super("tun6");
        }

        static String tsIp6(int ts) {
            return "2001:db8:2::1" + ts;
        }

        @Override
        String vipHost() {
            return "[" + VIP6 + "]";
        }

        @Override
        String config() {
            return """
                    -A -t [%1$s]:80 -s rr
                    -a -t [%1$s]:80 -r [%2$s]:80 -i -w 1
                    -a -t [%1$s]:80 -r [%3$s]:80 -i --tun-type gue --tun-port 6080 -w 1
                    """.formatted(VIP6, tsIp6(1), tsIp6(2));
        }

        @Test
        @Order(1)
        @DisplayName("200 HTTP requests over IPv6, zero failures, exact rr order ts2, ts1, ...")
        void twoHundredRequestsInRoundRobinOrder() {
            getInOrder6("http://[" + VIP6 + "]/", 200, List.of("ts2", "ts1"), VIP6 + ":80");
        }

        @Test
        @Order(2)
        @DisplayName("a 50 MiB download: replies go from the real server straight to the client (OutPkts 0)")
        void downloadBypassesTheDirector() {
            downloadBypassingTheDirector(80);
        }

        @Test
        @Order(3)
        @DisplayName("a 50 MiB upload byte for byte; jvs's Packet Too Big gives the client the tunnel's MTU")
        void uploadLearnsTheTunnelsMtu() throws IOException {
            String name = "xmit-tun6-" + System.nanoTime();
            LAB.lab().exec(Lab.CLIENT, Lab.ip(), "-6", "route", "flush", "cache").requireOk();
            double tooBigBefore = drops("packet_too_big");
            // (No allocation bound here: Tun6PipelineTest counts 0 bytes per packet; the event loop's
            // housekeeping over the upload's duration would make a bound a matter of machine speed.)
            double before = allocated();
            // rr: the 200th request went to ts1, the download to ts2: this upload goes to ts1, by ip6ip6.
            String sha = uploadTo(80, name, List.of(LAB.lab().state().resolve("ts1/upload/" + name)));
            double grew = allocated() - before;
            double tooBig = drops("packet_too_big") - tooBigBefore;
            String route = LAB.lab().exec(Lab.CLIENT, Lab.ip(), "-6", "route", "get", VIP6).requireOk().stdout().strip();
            say("upload through TUN6: packet_too_big +%.0f, event loop allocated %.0f bytes; client: %s", tooBig, grew,
                    route);
            assertEquals(LAB.lab().blobSha256(), sha, "sha256 of what the real server stored");
            assertTrue(tooBig >= 1, "full-sized segments + the tunnel > 1500: dropped as packet_too_big");
            assertTrue(route.contains(" mtu 1460 "), "the client's path MTU to the VIP is 1500 - 40 (ip6ip6): " + route);
        }
    }

    /**
     * TUN to real servers of the other family (IPVS's tunnels with an outer family other than the
     * service's): 10.0.0.100:80 to ts1 by IPv4 in IPv6 (next header 4) and to ts2 by GUE over IPv6,
     * [2001:db8::100]:80 to ts1 by IPv6 in IPv4 (protocol 41) and to ts2 by GUE over IPv4; the
     * agents decapsulate in userspace (their sockets for the other family's outer header) and the
     * real servers answer each client in its own family straight through the router. Path MTU in
     * the client's family: the IPv4 client learns 1500 - 40 from jvs's ICMPv4 frag-needed, the
     * IPv6 one 1500 - 20 from its ICMPv6 Packet Too Big.
     */
    @Nested
    @Order(3)
    @DisplayName("TUN to the other family: IPv4 service to IPv6 real servers, IPv6 service to IPv4 ones")
    class MixedTun extends Scenario {
        static final String VIP6 = Tun6.VIP6;
        /** Which VIP the inherited helpers (download, upload, metrics labels) use. */
        String host = Lab.VIP;

        MixedTun() {
            super("tun-mixed");
        }

        @Override
        String vipHost() {
            return host;
        }

        @Override
        String config() {
            return """
                    -A -t %1$s:80 -s rr
                    -a -t %1$s:80 -r [%2$s]:80 -i -w 1
                    -a -t %1$s:80 -r [%3$s]:80 -i --tun-type gue --tun-port 6080 -w 1
                    -A -t [%4$s]:80 -s rr
                    -a -t [%4$s]:80 -r %5$s:80 -i -w 1
                    -a -t [%4$s]:80 -r %6$s:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 1
                    """.formatted(Lab.VIP, Tun6.tsIp6(1), Tun6.tsIp6(2), VIP6, tsIp(1), tsIp(2));
        }

        /** 200 GETs to url, each answered by the server rr gives it (ts2, ts1, ...) from remote, zero failures. */
        void twoHundredInOrder(String url, String remote, String... curlArgs) {
            List<String> args = new ArrayList<>(List.of(curlArgs));
            args.addAll(List.of("-H", "Connection: close"));
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly(url, 200, LOAD_LIMIT, args.toArray(String[]::new));
            List<String> wrong = new ArrayList<>();
            Map<String, Integer> per = new TreeMap<>();
            for (Lab.Transfer t : ts) {
                per.merge(t.body(), 1, Integer::sum);
                String want = t.index() % 2 == 0 ? "ts2" : "ts1";
                if (!t.ok() || t.numConnects() != 1 || !t.body().equals(want) || !t.remote().equals(remote)) {
                    wrong.add("#" + t.index() + ": '" + t.body() + "' http " + t.httpCode() + " curl exit "
                            + t.curlExit() + " -> " + t.remote() + ", expected '" + want + "'");
                }
            }
            say("200 x GET %s: %s", url, per);
            assertEquals(200, ts.size(), "curl stopped early at #" + (ts.size() - 1) + ": " + ts.getLast());
            assertTrue(wrong.isEmpty(), wrong.size() + " transfers off the rr sequence; first: "
                    + wrong.subList(0, Math.min(10, wrong.size())));
        }

        @Test
        @Order(1)
        @DisplayName("IPv4 service, IPv6 tunnels: 200 GETs in exact rr order, 50 MiB down and up byte for byte")
        void ipv4ServiceOverIpv6Tunnels() throws IOException {
            host = Lab.VIP;
            twoHundredInOrder("http://" + Lab.VIP + "/", Lab.VIP + ":80");
            // rr: the 201st connection (the download) goes to ts2 by GUE over IPv6, the upload to ts1 by IPv4 in IPv6
            downloadBypassingTheDirector(80);
            LAB.lab().exec(Lab.CLIENT, Lab.ip(), "route", "flush", "cache").requireOk();
            double fragNeeded = drops("frag_needed");
            String name = "xmit-mixed4-" + System.nanoTime();
            String sha = uploadTo(80, name, List.of(LAB.lab().state().resolve("ts1/upload/" + name)));
            String route = LAB.lab().exec(Lab.CLIENT, Lab.ip(), "route", "get", Lab.VIP).requireOk().stdout().strip();
            say("upload through IPv4 in IPv6: frag_needed +%.0f; client: %s", drops("frag_needed") - fragNeeded, route);
            assertEquals(LAB.lab().blobSha256(), sha, "sha256 of what ts1 stored");
            assertTrue(drops("frag_needed") > fragNeeded, "full-sized segments + 40 > 1500: ICMPv4 frag-needed");
            assertTrue(route.contains(" mtu 1460"), "the IPv4 client's path MTU to the VIP is 1500 - 40 (IPv6 outer): "
                    + route);
        }

        @Test
        @Order(2)
        @DisplayName("IPv6 service, IPv4 tunnels: 200 GETs in exact rr order, 50 MiB down and up byte for byte")
        void ipv6ServiceOverIpv4Tunnels() throws IOException {
            host = "[" + VIP6 + "]";
            twoHundredInOrder("http://[" + VIP6 + "]/", VIP6 + ":80", "-g");
            downloadBypassingTheDirector(80);
            LAB.lab().exec(Lab.CLIENT, Lab.ip(), "-6", "route", "flush", "cache").requireOk();
            double tooBig = drops("packet_too_big");
            String name = "xmit-mixed6-" + System.nanoTime();
            String sha = uploadTo(80, name, List.of(LAB.lab().state().resolve("ts1/upload/" + name)));
            String route = LAB.lab().exec(Lab.CLIENT, Lab.ip(), "-6", "route", "get", VIP6).requireOk().stdout().strip();
            say("upload through IPv6 in IPv4: packet_too_big +%.0f; client: %s", drops("packet_too_big") - tooBig, route);
            assertEquals(LAB.lab().blobSha256(), sha, "sha256 of what ts1 stored");
            assertTrue(drops("packet_too_big") > tooBig, "full-sized segments + 20 > 1500: ICMPv6 Packet Too Big");
            assertTrue(route.contains(" mtu 1480 "), "the IPv6 client's path MTU to the VIP is 1500 - 20 (IPv4 outer): "
                    + route);
            assertEquals(0.0, drops("no_route"), "nothing refused on the way");
        }
    }

    // ------------------------------------------------------------------ FULLNAT

    @Nested
    @Order(3)
    @DisplayName("FULLNAT: plain, PROXY v2 and TOA services")
    class FullNat extends Scenario {
        FullNat() {
            super("fullnat");
        }

        @Override
        String config() {
            return """
                    -A -t %1$s:80 -s rr --laddr %2$s,%3$s
                    -a -t %1$s:80 -r %4$s:80 --fullnat -w 1
                    -a -t %1$s:80 -r %5$s:80 --fullnat -w 1
                    -A -t %1$s:81 -s rr --laddr %2$s --client-addr proxy
                    -a -t %1$s:81 -r %4$s:%6$d --fullnat -w 1
                    -A -t %1$s:82 -s rr --laddr %3$s --client-addr toa
                    -a -t %1$s:82 -r %5$s:80 --fullnat -w 1
                    --state-timeout time_wait 2
                    """.formatted(Lab.VIP, LIP1, LIP2, Lab.rsIp(1), Lab.rsIp(2), PROXY_PORT);
        }

        @Test
        @Order(1)
        @DisplayName("200 HTTP requests, zero failures; the real servers see the local addresses")
        void twoHundredRequests() {
            String ua = "jvs-it-fullnat-" + System.nanoTime();
            Map<String, Integer> per = getMany("http://" + Lab.VIP + "/", 200, ua);
            assertEquals(Map.of("rs1", 100, "rs2", 100), per);
            List<String> seen = new ArrayList<>();
            for (int rs = 1; rs <= 2; rs++) {
                for (String line : LAB.lab().accessLog(rs)) {
                    if (line.contains(ua)) {
                        seen.add(line.split(" ")[1].split(":")[0]);
                    }
                }
            }
            assertEquals(200, seen.size(), "every request in the real servers' logs");
            assertTrue(seen.stream().allMatch(a -> a.equals(LIP1) || a.equals(LIP2)),
                    "peer address is a local address: " + new java.util.TreeSet<>(seen));
        }

        @Test
        @Order(2)
        @DisplayName("plain FULLNAT: 50 MiB down and up byte for byte, both ways through the director")
        void plainBulkBothWays() throws IOException {
            double outBefore = serviceBytes(80, "out");
            Lab.Download down = LAB.lab().download("http://" + Lab.VIP + "/blob", 120);
            double out = serviceBytes(80, "out") - outBefore;
            say("download through FULLNAT: %d bytes, %.0f MB/s; OutBytes +%.0f", down.bytes(),
                    down.megabytesPerSecond(), out);
            assertEquals(200, down.httpCode());
            assertEquals(Lab.BLOB_BYTES, down.bytes());
            assertEquals(LAB.lab().blobSha256(), down.sha256(), "sha256 of the download");
            assertTrue(out > Lab.BLOB_BYTES, "the replies crossed the director (OutBytes " + out + ")");
            String name = "xmit-fullnat-" + System.nanoTime();
            assertEquals(LAB.lab().blobSha256(), uploadTo(80, name, List.of(LAB.lab().uploadedFile(1, name),
                    LAB.lab().uploadedFile(2, name))), "sha256 of what the real server stored");
        }

        @Test
        @Order(3)
        @DisplayName("PROXY v2: 200 requests, nginx logs the client namespace's address for each")
        void proxyProtocolCarriesTheClient() {
            String ua = "jvs-it-proxy-" + System.nanoTime();
            Map<String, Integer> per = getMany("http://" + Lab.VIP + ":81/", 200, ua);
            assertEquals(Map.of("rs1-proxy", 200), per);
            List<String> lines = proxyNginx.log().stream().filter(l -> l.contains(ua)).toList();
            assertEquals(200, lines.size(), "every request logged");
            for (String l : lines) {
                String[] f = l.split(" ");
                assertEquals(Lab.CLIENT_IP, f[0], "proxy_protocol_addr: " + l);
                assertEquals(LIP1, f[1], "the TCP peer is the local address: " + l);
            }
        }

        @Test
        @Order(4)
        @DisplayName("PROXY v2: 50 MiB down and up byte for byte (sequence numbers shifted right)")
        void proxyBulkBothWays() throws IOException {
            double before = liveAllocationBaseline();
            Lab.Download down = LAB.lab().download("http://" + Lab.VIP + ":81/blob", 120);
            double grew = allocated() - before;
            say("download through FULLNAT+PROXY: %d bytes, %.0f MB/s; event loop allocated %.0f bytes meanwhile",
                    down.bytes(), down.megabytesPerSecond(), grew);
            // ~36,000 frames each way; the loop's only allocations are its once-a-second housekeeping.
            assertTrue(grew < 256 * 1024, "no allocation per packet: " + grew + " bytes");
            assertEquals(200, down.httpCode());
            assertEquals(Lab.BLOB_BYTES, down.bytes());
            assertEquals(LAB.lab().blobSha256(), down.sha256(), "sha256 of the download");
            String name = "xmit-proxy-" + System.nanoTime();
            Lab.Upload up = LAB.lab().upload("http://" + Lab.VIP + ":81/upload/" + name, LAB.lab().blobPath(), 120);
            say("upload through FULLNAT+PROXY: %d bytes, %.0f MB/s", up.bytes(), up.megabytesPerSecond());
            assertEquals(201, up.httpCode());
            Path stored = proxyNginx.dir.resolve("upload/" + name);
            try {
                assertEquals(LAB.lab().blobSha256(), Lab.sha256(stored), "sha256 of what nginx stored");
            } finally {
                Files.deleteIfExists(stored);
            }
        }

        @Test
        @Order(5)
        @DisplayName("TOA: the SYN rs2 receives carries option 254 with the client's address")
        void toaInTheSyn() throws Exception {
            List<String> cmd = List.of(Lab.ip(), "netns", "exec", Lab.rsNamespace(2), "timeout", "20", "tcpdump",
                    "-i", "eth0", "-c", "1", "-nn", "-x", "-l",
                    "tcp[tcpflags] & tcp-syn != 0 and src host " + LIP2 + " and dst port 80");
            Path out = LAB.lab().repo().resolve("forwarder/target/it-logs/toa-tcpdump.txt");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(out.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!Files.readString(out).contains("listening on") && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals("rs2", LAB.lab().get("http://" + Lab.VIP + ":82/").strip());
                assertTrue(p.waitFor(15, TimeUnit.SECONDS), "tcpdump saw a SYN");
            } finally {
                if (p.isAlive()) {
                    p.destroy();
                }
            }
            String dump = Files.readString(out);
            StringBuilder hex = new StringBuilder();
            for (String line : dump.split("\n")) {
                int tab = line.indexOf("0x");
                if (line.strip().startsWith("0x") && line.indexOf(':') > tab) {
                    hex.append(line.substring(line.indexOf(':') + 1).replaceAll("\\s", ""));
                }
            }
            // kind 254, length 8, client port, 10.0.1.2
            assertTrue(Pattern.compile("fe08[0-9a-f]{4}0a000102").matcher(hex).find(),
                    "TOA option in the SYN:\n" + dump);
        }
    }

    @Nested
    @Order(4)
    @DisplayName("ICMP: a NAT real server's port-unreachable reaches the client rewritten")
    class IcmpNat extends Scenario {
        IcmpNat() {
            super("icmp-nat");
        }

        @Override
        String config() {
            // Nothing listens on UDP 9999 on rs1: its kernel answers ICMP port unreachable,
            // quoting client -> rs1:9999, towards the client through the director.
            return """
                    -A -u %1$s:53 -s rr
                    -a -u %1$s:53 -r %2$s:9999 -m -w 1
                    """.formatted(Lab.VIP, Lab.rsIp(1));
        }

        @Test
        @DisplayName("a connected UDP socket on the client gets ECONNREFUSED (the quote names VIP:53)")
        void portUnreachableIsRewritten() {
            // The client's kernel hands the error to the socket only if the quoted packet is
            // exactly what it sent: client:port -> VIP:53.
            String py = """
                    import socket
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.settimeout(3)
                    s.connect(("%s", 53))
                    s.send(b"hello")
                    try:
                        s.recv(100)
                        print("answer")
                    except ConnectionRefusedError:
                        print("refused")
                    except socket.timeout:
                        print("timeout")
                    """.formatted(Lab.VIP);
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(15), Lab.CLIENT, "/usr/bin/python3", "-c", py);
            say("client socket: %s", r.stdout().strip());
            assertEquals("refused", r.stdout().strip(), r.describe());
            assertEquals(0.0, drops("icmp_untracked"));
        }
    }

    @Nested
    @Order(5)
    @DisplayName("TAP attachment: TUN (IPIP, GUE) and FULLNAT (TOA) from TAP slots")
    class TapTunFullNat extends Scenario {
        TapTunFullNat() {
            super("tap-tun-fullnat");
        }

        @Override
        List<String> attachArgs() {
            return List.of("--attach", "tap:jvs0", "--lan", "eth0");
        }

        @Override
        String config() {
            return """
                    -A -t %1$s:80 -s rr
                    -a -t %1$s:80 -r %2$s -i -w 1
                    -a -t %1$s:80 -r %3$s -i --tun-type gue --tun-port 6080 -w 1
                    -A -t %1$s:81 -s rr --laddr %4$s --client-addr toa
                    -a -t %1$s:81 -r %5$s:80 --fullnat -w 1
                    -a -t %1$s:81 -r %6$s:80 --fullnat -w 1
                    """.formatted(Lab.VIP, tsIp(1), tsIp(2), LIP1, Lab.rsIp(1), Lab.rsIp(2));
        }

        @Test
        @Order(1)
        @DisplayName("200 requests through TUN, zero failures")
        void tun() {
            assertEquals(Map.of("ts1", 100, "ts2", 100), getMany("http://" + Lab.VIP + "/", 200, "jvs-it-tap-tun"));
        }

        @Test
        @Order(2)
        @DisplayName("200 requests through FULLNAT, zero failures (replies to the local address routed into the TAP)")
        void fullNat() {
            assertEquals(Map.of("rs1", 100, "rs2", 100),
                    getMany("http://" + Lab.VIP + ":81/", 200, "jvs-it-tap-fullnat"));
        }

        @Test
        @Order(3)
        @DisplayName("FULLNAT from TAP slots: 50 MiB down and up byte for byte")
        void fullNatBulkBothWays() throws IOException {
            Lab.Download down = LAB.lab().download("http://" + Lab.VIP + ":81/blob", 120);
            say("download through FULLNAT (TAP): %d bytes, %.0f MB/s", down.bytes(), down.megabytesPerSecond());
            assertEquals(200, down.httpCode());
            assertEquals(Lab.BLOB_BYTES, down.bytes());
            assertEquals(LAB.lab().blobSha256(), down.sha256(), "sha256 of the download");
            String name = "xmit-tap-fullnat-" + System.nanoTime();
            double framesBefore = director.metric("jvs_port_rx_frames_total", "port=\"jvs0\"");
            double bytesBefore = director.metric("jvs_port_rx_bytes_total", "port=\"jvs0\"");
            assertEquals(LAB.lab().blobSha256(), uploadTo(81, name, List.of(LAB.lab().uploadedFile(1, name),
                    LAB.lab().uploadedFile(2, name))), "sha256 of what the real server stored");
            // The client's TCP hands the kernel 64 KiB super-frames (TSO on its veth). With
            // IFF_VNET_HDR and TUNSETOFFLOAD they reach jvs whole; without, the kernel segments
            // them before the TAP and no frame read is larger than the TAP's 1500-byte MTU.
            double frames = director.metric("jvs_port_rx_frames_total", "port=\"jvs0\"") - framesBefore;
            double bytes = director.metric("jvs_port_rx_bytes_total", "port=\"jvs0\"") - bytesBefore;
            say("upload into the TAP: %.0f frames, %.0f bytes, %.0f bytes per frame", frames, bytes, bytes / frames);
            assertTrue(bytes >= Lab.BLOB_BYTES, "the upload crossed the TAP: " + bytes + " bytes");
            assertTrue(bytes / frames > 3000, "GSO super-frames came through the TAP: " + (bytes / frames)
                    + " bytes per frame over " + frames + " frames");
        }
    }

    /**
     * TUN over IPv6 in TAP mode: the kernel routes the VIP6's packets into jvs0 (the /128 jvs adds
     * with the first IPv6 address), jvs encapsulates (ip6ip6 to ts1, GUE over IPv6 to ts2) and sends
     * by eth0; an IPv6 fwmark service (-f 5 -6, its TUN real servers, [VIP6]:8080 marked by
     * --add-mark -6) takes the marked connections. With --workers 2: a multi-queue TAP whose
     * steering program gives all IPv6 to worker 0.
     */
    @Nested
    @Order(5)
    @DisplayName("TAP attachment: TUN over IPv6 (ip6ip6 to ts1, GUE over IPv6 to ts2) and an IPv6 fwmark service")
    class TapTun6 extends Scenario {
        static final String VIP6 = Tun6.VIP6;
        static final int MARK = 5;
        static final int MARKED_PORT = 8080;
        /** An address of the LAN no host has: the crafted NS's source, so only jvs's answer to it goes there. */
        static final String PROBE6 = "2001:db8::99";
        /** {@link Lab#ipv6State} of the director namespace before the forwarder started. */
        String namespaceBefore;

        TapTun6() {
            super("tap-tun6");
        }

        @Override
        List<String> attachArgs() {
            return List.of("--attach", "tap:jvs0", "--lan", "eth0", "--workers", "2");
        }

        @Override
        String vipHost() {
            return "[" + VIP6 + "]";
        }

        @Override
        String config() {
            return """
                    -A -t [%1$s]:80 -s rr
                    -a -t [%1$s]:80 -r [%2$s]:80 -i -w 1
                    -a -t [%1$s]:80 -r [%3$s]:80 -i --tun-type gue --tun-port 6080 -w 1
                    -A -f %4$d -6 -s rr
                    -a -f %4$d -6 -r [%2$s]:%5$d -i -w 1
                    -a -f %4$d -6 -r [%3$s]:%5$d -i --tun-type gue --tun-port 6080 -w 1
                    --add-mark -6 -d %1$s/128 -p tcp --dport %5$d --set-mark %4$d
                    """.formatted(VIP6, Tun6.tsIp6(1), Tun6.tsIp6(2), MARK, MARKED_PORT);
        }

        @BeforeAll
        @Override
        void startDirector() {
            LAB.lab().resetDirector();
            LAB.lab().neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
            namespaceBefore = LAB.lab().ipv6State(Lab.DIRECTOR);
            super.startDirector();
        }

        @Test
        @Order(1)
        @DisplayName("an echo request to the VIP6 is answered; the router's NS for it with the director's eth0 MAC")
        void echoAndNeighbourSolicitationAnswered() {
            // A raw ICMPv6 socket (the kernel fills in the checksum): jvs answers the echo it gets
            // through the TAP. The router resolves the VIP6 first: its NS is answered on eth0.
            String py = """
                    import socket, time
                    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
                    s.settimeout(1)
                    got = 0
                    for seq in range(3):
                        s.sendto(bytes([128, 0, 0, 0, 0x4a, 0x76, 0, seq]) + b"jvs-tap-tun6", ("%s", 0))
                        end = time.time() + 2
                        while time.time() < end:
                            try:
                                b, a = s.recvfrom(2048)
                            except socket.timeout:
                                continue
                            if b[0] == 129 and b[4:8] == bytes([0x4a, 0x76, 0, seq]) and b[8:] == b"jvs-tap-tun6":
                                got += 1
                                break
                    print("replies %%d" %% got)
                    """.formatted(VIP6);
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), Lab.CLIENT, "/usr/bin/python3", "-c", py);
            String directorMac = LAB.lab().macOf(Lab.DIRECTOR, "eth0");
            Lab.Neighbour n = LAB.lab().neigh(Lab.ROUTER, VIP6)
                    .orElseThrow(() -> new AssertionError(Lab.ROUTER + " has no neighbour entry for " + VIP6));
            say("3 echo requests to %s: %s; router's neighbour %s (director eth0 %s)", VIP6, r.stdout().strip(), n,
                    directorMac);
            assertEquals("replies 3", r.stdout().strip(), r.describe());
            assertEquals(directorMac, n.mac(), Lab.ROUTER + "'s MAC for " + VIP6 + " (state " + n.state() + ")");
        }

        @Test
        @Order(2)
        @DisplayName("an NS for the VIP6 behind a hop-by-hop header (Router Alert, as MLD sends) is answered")
        void neighbourSolicitationBehindHopByHopAnswered() {
            // Written by hand on the router's LAN port: IPv6 (hop limit 255) + hop-by-hop (Router Alert,
            // PadN) + NS for the VIP6 to its solicited-node group, from PROBE6 with the router's MAC as
            // its link-layer address. jvs's NDP-only ring on eth0 must take it; its NA goes to PROBE6.
            String routerMac = LAB.lab().macOf(Lab.ROUTER, Lab.ROUTER_LAN_IFACE);
            String py = """
                    import socket, struct, time
                    def csum(b):
                        s = sum(struct.unpack("!%%dH" %% (len(b) // 2), b))
                        while s >> 16:
                            s = (s & 0xffff) + (s >> 16)
                        return ~s & 0xffff
                    mac = bytes.fromhex("%1$s".replace(":", ""))
                    src = socket.inet_pton(socket.AF_INET6, "%2$s")
                    tgt = socket.inet_pton(socket.AF_INET6, "%3$s")
                    dst = bytes.fromhex("ff0200000000000000000001ff") + tgt[13:]
                    ns = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + tgt + bytes([1, 1]) + mac
                    c = csum(src + dst + struct.pack("!I", len(ns)) + bytes([0, 0, 0, 58]) + ns)
                    ns = ns[:2] + struct.pack("!H", c) + ns[4:]
                    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])
                    ip6 = struct.pack("!IHBB", 0x60000000, len(hbh) + len(ns), 0, 255) + src + dst
                    frame = bytes([0x33, 0x33]) + dst[12:] + mac + bytes([0x86, 0xdd]) + ip6 + hbh + ns
                    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
                    s.bind(("%4$s", 0))
                    s.settimeout(0.2)
                    answer = "none"
                    for attempt in range(3):
                        s.send(frame)
                        end = time.time() + 1
                        while time.time() < end and answer == "none":
                            try:
                                f = s.recv(2048)
                            except socket.timeout:
                                continue
                            if len(f) >= 78 and f[20] == 58 and f[54] == 136 and f[38:54] == src and f[62:78] == tgt:
                                answer = "NA from " + ":".join("%%02x" %% x for x in f[6:12])
                        if answer != "none":
                            break
                    print(answer)
                    """.formatted(routerMac, PROBE6, VIP6, Lab.ROUTER_LAN_IFACE);
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), Lab.ROUTER, "/usr/bin/python3", "-c", py);
            String directorMac = LAB.lab().macOf(Lab.DIRECTOR, "eth0");
            say("NS for %s behind a hop-by-hop header: %s (director eth0 %s)", VIP6, r.stdout().strip(), directorMac);
            assertEquals("NA from " + directorMac, r.stdout().strip(), r.describe());
        }

        @Test
        @Order(3)
        @DisplayName("200 HTTP requests over IPv6 through the TAP, zero failures, exact rr order ts2, ts1, ...")
        void twoHundredRequestsInRoundRobinOrder() {
            getInOrder6("http://[" + VIP6 + "]/", 200, List.of("ts2", "ts1"), VIP6 + ":80");
        }

        @Test
        @Order(4)
        @DisplayName("a 50 MiB download: replies go from the real server straight to the client (OutPkts 0)")
        void downloadBypassesTheDirector() {
            downloadBypassingTheDirector(80);
        }

        @Test
        @Order(5)
        @DisplayName("a 50 MiB upload through the TAP byte for byte; jvs's Packet Too Big gives the client the tunnel's MTU")
        void uploadLearnsTheTunnelsMtu() throws IOException {
            String name = "xmit-tap-tun6-" + System.nanoTime();
            LAB.lab().exec(Lab.CLIENT, Lab.ip(), "-6", "route", "flush", "cache").requireOk();
            double tooBigBefore = drops("packet_too_big");
            double tapBefore = director.metric("jvs_port_rx_bytes_total", "port=\"jvs0\"");
            // rr: the 200th request went to ts1, the download to ts2: this upload goes to ts1, by ip6ip6.
            String sha = uploadTo(80, name, List.of(LAB.lab().state().resolve("ts1/upload/" + name)));
            double tooBig = drops("packet_too_big") - tooBigBefore;
            double tap = director.metric("jvs_port_rx_bytes_total", "port=\"jvs0\"") - tapBefore;
            String route = LAB.lab().exec(Lab.CLIENT, Lab.ip(), "-6", "route", "get", VIP6).requireOk().stdout().strip();
            say("upload through the TAP and ip6ip6: packet_too_big +%.0f, %.0f bytes read from jvs0; client: %s",
                    tooBig, tap, route);
            assertEquals(LAB.lab().blobSha256(), sha, "sha256 of what the real server stored");
            assertTrue(tap >= Lab.BLOB_BYTES, "the upload came through the TAP: " + tap + " bytes");
            assertTrue(tooBig >= 1, "full-sized segments + the tunnel > 1500: dropped as packet_too_big");
            assertTrue(route.contains(" mtu 1460 "), "the client's path MTU to the VIP is 1500 - 40 (ip6ip6): " + route);
        }

        @Test
        @Order(6)
        @DisplayName("the IPv6 fwmark service takes [VIP6]:8080, marked by --add-mark -6: 20 connections in exact rr order")
        void fwmarkServiceTakesTheMarkedConnectionsInRoundRobin() {
            // No address service has port 8080: only the mark rule classifies these connections.
            String fwm = "service=\"FWM/" + MARK + "/IPv6\"";
            double before = director.metric("jvs_service_connections_total", fwm);
            getInOrder6("http://[" + VIP6 + "]:" + MARKED_PORT + "/", 20, List.of("ts2", "ts1"),
                    VIP6 + ":" + MARKED_PORT);
            double scheduled = director.metric("jvs_service_connections_total", fwm) - before;
            say("FWM %d IPv6: +%.0f connections", MARK, scheduled);
            assertEquals(20.0, scheduled, "the 20 connections were the fwmark service's");
        }

        @Test
        @Order(7)
        @DisplayName("eth0's rings took NDP and ARP only (the VIP6's packets came through the TAP)")
        void eth0RingsSawNeighbourMessagesOnly() {
            double lan = director.metric("jvs_port_rx_bytes_total", "port=\"eth0\"");
            say("received by jvs from eth0's ARP and NDP rings: %.0f bytes", lan);
            assertTrue(lan < 1 << 20, "eth0's rings took ARP and NDP, not the VIP6's packets: " + lan);
        }

        @Test
        @Order(8)
        @DisplayName("stopping the forwarder puts back IPv6 forwarding, the IPv6 routes and rules exactly")
        void stopRestoresTheIpv6Namespace() {
            String running = LAB.lab().ipv6State(Lab.DIRECTOR);
            say("director namespace while running:%n%s", running);
            assertTrue(running.startsWith("forwarding=1\n"), "IPv6 forwarding on while running: " + running);
            assertTrue(running.contains(VIP6 + " dev jvs0"), "the VIP6 routed into the TAP: " + running);
            director.stop(); // SIGTERM; throws unless the forwarder exits within the grace period
            assertEquals(namespaceBefore, LAB.lab().ipv6State(Lab.DIRECTOR),
                    "the director namespace after the forwarder stopped");
        }
    }

    @Nested
    @Order(6)
    @DisplayName("Bad input through jvsadm: unreachable TUN server, FULLNAT without or with an own local address")
    class BadInput extends Scenario {
        BadInput() {
            super("bad-input");
        }

        @Override
        String config() {
            return """
                    -A -t %1$s:80 -s rr
                    -a -t %1$s:80 -r %2$s -i -w 1
                    """.formatted(Lab.VIP, tsIp(1));
        }

        Exec.Result jvsadm(String... args) {
            List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
            cmd.addAll(List.of(args));
            return LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new));
        }

        void refused(String mentions, String... args) {
            Exec.Result r = jvsadm(args);
            say("jvsadm %s -> exit %d: %s", String.join(" ", args), r.exitCode(), r.stderr().strip());
            assertTrue(r.exitCode() != 0, "refused: " + r.describe());
            assertEquals(1, r.stderr().strip().lines().count(), "one line: " + r.stderr());
            assertTrue(r.stderr().contains(mentions), "names " + mentions + ": " + r.stderr());
        }

        @Test
        @DisplayName("each is refused with one line naming it; the running table is unchanged and keeps serving")
        void refusedWholeAndNothingHalfApplied() {
            // the configuration (-S), not -L: the probes below add connections to the counts
            String before = jvsadm("-S", "-n").requireOk().stdout();
            LAB.lab().exec(Lab.DIRECTOR, Lab.ip(), "route", "del", "default").requireOk();
            try {
                awaitNoRouteToTheTunSegment();
                refused("10.0.2.12", "-a", "-t", Lab.VIP + ":80", "-r", tsIp(2), "-i");
                // A server that is already running is not re-checked: other changes still go through.
                jvsadm("-e", "-t", Lab.VIP + ":80", "-r", tsIp(1), "-i", "-w", "2").requireOk();
                jvsadm("-e", "-t", Lab.VIP + ":80", "-r", tsIp(1), "-i", "-w", "1").requireOk();
            } finally {
                LAB.lab().exec(Lab.DIRECTOR, Lab.ip(), "route", "add", "default", "via", Lab.ROUTER_LAN_IP).requireOk();
            }
            refused("--laddr", "-A", "-t", Lab.VIP + ":81", "-s", "rr", "--laddr", Lab.DIRECTOR_IP);
            refused("--laddr", "-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(1), "--fullnat");
            assertEquals(before, jvsadm("-S", "-n").requireOk().stdout(), "nothing half-applied");
            // Serving again once the director has re-read the restored route (every second).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            Exec.Result r;
            do {
                r = LAB.lab().curl(Duration.ofSeconds(5), "-sS", "--connect-timeout", "1", "--max-time", "2",
                        "http://" + Lab.VIP + "/");
            } while (!r.ok() && System.nanoTime() < deadline);
            assertTrue(r.ok(), "still serving: " + r.describe());
            assertEquals("ts1", r.stdout().strip(), "still serving");
        }

        /**
         * Waits until the director's own route table has lost the way to the TUN segment: it
         * re-reads the namespace's routes every second, and until then a new TUN real server
         * would still be accepted. The signal is the data path's: a request to the TUN service
         * is dropped as no_route.
         */
        void awaitNoRouteToTheTunSegment() {
            double before = drops("no_route");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (drops("no_route") <= before) {
                assertTrue(System.nanoTime() < deadline, "no no_route drop within 15 s of removing the default route");
                LAB.lab().curl(Duration.ofSeconds(5), "-s", "--connect-timeout", "1", "--max-time", "1",
                        "http://" + Lab.VIP + "/"); // fails once the route is gone: that is the point
            }
        }
    }

    @Nested
    @Order(7)
    @DisplayName("FULLNAT: a pool of 4 local ports runs out cleanly and recovers")
    class FullNatExhaustion extends Scenario {
        FullNatExhaustion() {
            super("fullnat-exhaustion");
        }

        @Override
        String config() {
            return """
                    -A -t %1$s:80 -s rr --laddr %2$s
                    -a -t %1$s:80 -r %3$s:80 --fullnat -w 1
                    --state-timeout time_wait 1
                    --state-timeout fin_wait 1
                    --state-timeout close 1
                    --state-timeout close_wait 1
                    --state-timeout last_ack 1
                    """.formatted(Lab.VIP, LIP1, Lab.rsIp(1));
        }

        @Override
        List<String> extraArgs() {
            // one worker: with N workers each owns an N-th of the range (README --workers),
            // and this test's one client address lands on one worker
            return List.of("--lport-range", "40000-40003", "--workers", "1");
        }

        @Test
        @Order(1)
        @DisplayName("4 held connections take the 4 ports; the 5th is refused and counted; freed ports serve again")
        void exhaustion() throws Exception {
            // Four connections held open from jvs-client (one bash, ours to end by PID).
            String hold = "for i in 1 2 3 4; do exec {fd}<>/dev/tcp/" + Lab.VIP + "/80; done; echo held; sleep 60";
            Process holder = new ProcessBuilder(Lab.ip(), "netns", "exec", Lab.CLIENT, "bash", "-c", hold)
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            try {
                String first = new String(holder.getInputStream().readNBytes(5));
                assertEquals("held\n", first, "four connections opened");
                Exec.Result fifth = LAB.lab().curl(Duration.ofSeconds(10), "-sS", "--connect-timeout", "2", "--max-time", "3",
                        "http://" + Lab.VIP + "/");
                assertFalse(fifth.ok(), "a fifth connection gets no local port: " + fifth.describe());
                assertTrue(drops("local_port_exhausted") >= 1, "refusals counted under local_port_exhausted");
                assertEquals(4.0, director.metric("jvs_local_ports_in_use", ""), "all four ports held");
                assertTrue(director.isAlive(), "the director keeps running");
            } finally {
                holder.destroy();
                holder.waitFor(5, TimeUnit.SECONDS);
            }
            // The held connections close; their ports come back after the short state timeouts.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            Exec.Result again;
            do {
                Thread.sleep(500);
                again = LAB.lab().curl(Duration.ofSeconds(10), "-sS", "--connect-timeout", "2", "--max-time", "3",
                        "http://" + Lab.VIP + "/");
            } while (!again.ok() && System.nanoTime() < deadline);
            assertTrue(again.ok(), "served again once ports were freed: " + again.describe());
            assertEquals("rs1", again.stdout().strip());
        }
    }

    // ------------------------------------------------------------------ nginx with proxy_protocol

    /** A second nginx on a real server, listening with proxy_protocol; started and stopped by these tests. */
    static final class ProxyNginx {
        final Path dir;
        final String ns;
        private final long pid;

        private ProxyNginx(Path dir, String ns, long pid) {
            this.dir = dir;
            this.ns = ns;
            this.pid = pid;
        }

        static ProxyNginx start(Lab lab, int rs) {
            return start(lab, rs, Lab.rsIp(rs) + ":" + PROXY_PORT, "proxy-nginx-rs" + rs);
        }

        /** As above, listening on {@code listen} (nginx's form: {@code [2001:db8::11]:8081} for IPv6). */
        static ProxyNginx start(Lab lab, int rs, String listen, String name) {
            Path dir = lab.repo().resolve("forwarder/target/it-logs/" + name).toAbsolutePath();
            String conf = """
                    user root root;
                    worker_processes 1;
                    pid %1$s/nginx.pid;
                    error_log %1$s/error.log warn;
                    events { worker_connections 1024; }
                    http {
                        default_type application/octet-stream;
                        log_format proxy '$proxy_protocol_addr $remote_addr "$http_user_agent" $status';
                        access_log %1$s/access.log proxy;
                        client_body_temp_path %1$s/tmp;
                        client_max_body_size 256m;
                        sendfile on;
                        server {
                            listen %2$s proxy_protocol;
                            location = / { default_type text/plain; return 200 "rs%4$d-proxy\\n"; }
                            location = /blob { alias %5$s; }
                            location /upload/ { root %1$s; dav_methods PUT; create_full_put_path on; }
                        }
                    }
                    """.formatted(dir, listen, 0, rs, lab.blobPath());
            try {
                Files.createDirectories(dir.resolve("tmp"));
                Files.createDirectories(dir.resolve("upload"));
                Files.deleteIfExists(dir.resolve("access.log"));
                Files.writeString(dir.resolve("nginx.conf"), conf);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            String ns = Lab.rsNamespace(rs);
            lab.exec(ns, "nginx", "-c", dir.resolve("nginx.conf").toString(), "-p", dir + "/").requireOk();
            try {
                long pid = Long.parseLong(Files.readString(dir.resolve("nginx.pid")).strip());
                return new ProxyNginx(dir, ns, pid);
            } catch (IOException e) {
                throw new UncheckedIOException("nginx with proxy_protocol wrote no pid file", e);
            }
        }

        List<String> log() {
            try {
                return Files.readAllLines(dir.resolve("access.log"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** Stops exactly the nginx this started (its master, by PID; the workers follow). */
        void stop() {
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroy();
                try {
                    h.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            });
        }
    }
}
