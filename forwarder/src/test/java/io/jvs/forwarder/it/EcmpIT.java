package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * N active directors behind the router's ECMP route, announced over BGP by BIRD (issue 14):
 * {@code scripts/lab up --directors 4} runs BIRD on the router and every director; each jvs
 * runs with {@code --announce-table 200}, so its VIPs are routes that director's BIRD exports.
 *
 * <ul>
 *   <li>DR with mh (mh-port) and sloppy TCP on three directors: 12 rate-limited 20 MiB downloads
 *       (more while ECMP has left a director without one); {@code kill -9} of director3, a graceful stop (SIGTERM: withdraw, drain
 *       2 s) of director2, then director4 (running with no service until then) given the same
 *       configuration by one {@code jvsadm -R}: every download completes byte for byte,
 *       new connections fail only inside the measured detection gap after the kill and never
 *       after it (graceful stop included), and new flows reach director4.</li>
 *   <li>FULLNAT active-active on two directors, each with its own local address, configured with
 *       one {@code scripts/ecmp apply}: 200 requests, none failed, each director's local
 *       address in the real servers' logs as often as that director scheduled; the digests agree,
 *       and a change on one director is reported by {@code scripts/ecmp check} naming it.</li>
 *   <li>IPv6 in the same run: a FULLNAT service on the VIP6, each director with its own IPv6
 *       local address ({@code @LADDR6@}): each announces 2001:db8::100/128 (BGP's ipv6 channel,
 *       next hop its own IPv6 address), the router's route has both as next hops, 40 requests
 *       succeed and both directors schedule some, and a Neighbor Solicitation for the VIP6 gets
 *       no answer (the VIP is routed) while one for a director's local address does.</li>
 *   <li>BIRD not running: one line naming the socket, exit 1, nothing announced.</li>
 * </ul>
 * Measured times go to {@code forwarder/target/it-logs/ecmp-times.txt}.
 */
@Timeout(300)
class EcmpIT {
    static final int TABLE = 200;
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final long DOWNLOAD_BYTES = 20L * 1024 * 1024;
    static final int DOWNLOADS = 12;
    /** 20 MiB at 768 KiB/s: ~27 s, long enough for a kill, a graceful stop and a fourth director's addition. */
    static final String RATE = "768K";
    static final int MAX_SECONDS = 90;
    static final int DRAIN_SECONDS = 2;
    static final String SERVICE = "service=\"TCP/" + Lab.VIP + ":80\"";

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--directors", "4", "--tun-servers", "0");

    final ForwarderProcess[] directors = new ForwarderProcess[5];

    @RegisterExtension
    final DirectorLogOnFailure log1 = new DirectorLogOnFailure(() -> directors[1]);
    @RegisterExtension
    final DirectorLogOnFailure log2 = new DirectorLogOnFailure(() -> directors[2]);
    @RegisterExtension
    final DirectorLogOnFailure log3 = new DirectorLogOnFailure(() -> directors[3]);
    @RegisterExtension
    final DirectorLogOnFailure log4 = new DirectorLogOnFailure(() -> directors[4]);

    @AfterEach
    void stopDirectors() {
        for (ForwarderProcess d : directors) {
            if (d != null && d.isAlive()) {
                d.stop();
            }
        }
        awaitTrue(() -> nextHops().isEmpty(), 10_000, "no director announces the VIP after the test");
    }

    static String ns(int k) {
        return Lab.PREFIX + "director" + k;
    }

    static String ip(int k) {
        return "10.0.0." + (1 + k);
    }

    static Path birdSocket(int k) {
        return Lab.stateDir().resolve("bird").resolve(ns(k)).resolve("bird.ctl");
    }

    static Path controlSocket(int k) {
        return LAB.lab().repo().resolve("forwarder/target/it-logs/ecmp-director" + k + ".sock");
    }

    private ForwarderProcess start(int k, String configFile, String... extra) {
        List<String> args = new ArrayList<>(List.of("--attach", "packet:eth0", "--metrics", METRICS,
                "--control", controlSocket(k).toString(), "--announce-table", String.valueOf(TABLE),
                "--bird-socket", birdSocket(k).toString(), "--drain-time", String.valueOf(DRAIN_SECONDS)));
        if (configFile != null) {
            args.addAll(List.of("--config", configFile));
        }
        args.addAll(List.of(extra));
        return ForwarderProcess.start(LAB.lab(), ns(k), "ecmp-director" + k, METRICS, args);
    }

    /** The directors' addresses in the router's route for the VIP (its multipath next hops). */
    static Set<String> nextHops() {
        return nextHops("-4", Lab.VIP + "/32");
    }

    static final String VIP6 = "2001:db8::100";

    static String ip6(int k) {
        return "2001:db8::" + (1 + k);
    }

    /** The next hops of the router's route to dst in family ("-4", "-6"). */
    static Set<String> nextHops(String family, String dst) {
        String route = LAB.lab().ip(Lab.ROUTER, family, "route", "show", dst).requireOk().stdout();
        Set<String> hops = new TreeSet<>();
        Matcher m = Pattern.compile("via (\\S+)").matcher(route);
        while (m.find()) {
            hops.add(m.group(1));
        }
        return hops;
    }

    @Test
    void drThreeDirectorsSurviveAKillAGracefulStopAndAFourth() throws Exception {
        Lab lab = LAB.lab();
        Path conf = lab.itFile("ecmp-dr.conf", """
                -A -t 10.0.0.100:80 -s mh -b mh-port
                -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
                -a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1
                """);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            // one after the other (four JVMs starting at once on two busy cores outlast the start timeout);
            // director4 runs from the start with no service, so it announces nothing until it is given
            // the configuration (a director brought into service; its JVM start is not the test's clock)
            for (int k = 1; k <= 4; k++) {
                directors[k] = start(k, k == 4 ? null : conf.toString(), "--sloppy-tcp", "1");
            }
            awaitTrue(() -> nextHops().equals(Set.of(ip(1), ip(2), ip(3))), 20_000,
                    "the router's route for the VIP has the three directors as next hops");
            for (int k = 1; k <= 3; k++) {
                assertEquals(1.0, directors[k].metric("jvs_announced_vips", ""), "director" + k + " announces one VIP");
            }
            assertEquals(0.0, directors[4].metric("jvs_announced_vips", ""), "director4 serves nothing yet");

            String want = Captures.sha256Prefix(lab.blobPath(), DOWNLOAD_BYTES);
            List<Future<Exec.Result>> downloads = new ArrayList<>();
            // The router hashes each flow to a director; between namespaces the hash is the client
            // socket's random txhash (skb->l4_hash), so which director gets which download is chance:
            // 12 to start with, then one more at a time while a director has none (p = 2.3% per run).
            while (downloads.size() < DOWNLOADS
                    || (downloads.size() < DOWNLOADS + 8 && !everyDirectorHasOne(downloads.size()))) {
                downloads.add(pool.submit(() -> lab.sh(Duration.ofSeconds(MAX_SECONDS + 15), Lab.CLIENT,
                        "curl -sS --max-time " + MAX_SECONDS + " --limit-rate " + RATE
                                + " -r 0-" + (DOWNLOAD_BYTES - 1) + " http://" + Lab.VIP + "/blob"
                                + " | sha256sum | cut -d' ' -f1")));
                if (downloads.size() >= DOWNLOADS) {
                    int n = downloads.size();
                    awaitTrue(() -> connections(1) + connections(2) + connections(3) >= n, 15_000,
                            "the downloads' connections are scheduled");
                }
            }
            for (int k = 1; k <= 3; k++) {
                assertTrue(connections(k) >= 1, "director" + k + " carries a download: " + connections(1) + " "
                        + connections(2) + " " + connections(3));
            }
            String spread = (int) connections(1) + "/" + (int) connections(2) + "/" + (int) connections(3);
            long probeMs = 20_000;
            Future<Exec.Result> probeLoop = pool.submit(() -> lab.sh(Duration.ofMillis(probeMs + 20_000), Lab.CLIENT,
                    probeScript("http://" + Lab.VIP + "/", probeMs)));
            Lab.pause(1500);

            long killedAt = System.currentTimeMillis();
            assertEquals(137, directors[3].kill(), "kill -9 of director3");
            awaitTrue(() -> !nextHops().contains(ip(3)), 10_000, "the router drops director3 after its kill");
            long detectMs = System.currentTimeMillis() - killedAt;

            Lab.pause(1000);
            long termAt = System.currentTimeMillis();
            Future<Integer> stopping = pool.submit(() -> directors[2].stop());
            awaitTrue(() -> !nextHops().contains(ip(2)), 10_000, "the router drops director2 on its graceful stop");
            long withdrawMs = System.currentTimeMillis() - termAt;

            // a fourth director added under load: the same configuration, in one jvsadm -R
            long addAt = System.currentTimeMillis();
            Exec.Result add = lab.sh(Duration.ofSeconds(30), ns(4), lab.repo().resolve("bin/jvsadm") + " --control "
                    + controlSocket(4) + " -R < " + conf);
            assertEquals(0, add.exitCode(), add.describe());
            awaitTrue(() -> nextHops().contains(ip(4)), 10_000, "director4 is added to the route");
            long addMs = System.currentTimeMillis() - addAt;
            long running = downloads.stream().filter(d -> !d.isDone()).count();
            assertEquals(143, stopping.get(), "director2 exits as the JVM does on SIGTERM");
            long stoppedMs = System.currentTimeMillis() - termAt;
            assertTrue(directors[2].logTail(20).matches("(?s).*withdrew 1 VIP\\(s\\); drained [0-9]+ ms; [0-9]+ packet\\(s\\) for a VIP came"
                    + " after the withdrawal.*"), directors[2].logTail(20));
            // under load: downloads run while director4 joins (all of them on an idle machine; at load 20 on two
            // cores the kill, the drain and the addition can outlast a 20 s download)
            assertTrue(running >= 1, () -> "downloads still run when director4 comes in: "
                    + downloads.stream().filter(Future::isDone).map(EcmpIT::describe).toList());
            // new flows reach director4: 20 new connections over director1 and director4 (chance of none: 1e-6)
            double before = connections(4);
            for (int i = 0; i < 20; i++) {
                String body = lab.curl(Duration.ofSeconds(10), "-sS", "--max-time", "5", "http://" + Lab.VIP + "/")
                        .requireOk().stdout().strip();
                assertTrue(body.equals("rs1") || body.equals("rs2"), "a real server answered: " + body);
            }
            assertTrue(connections(4) > before, "director4 scheduled new flows: " + (connections(4) - before) + " of 20");

            int intact = 0;
            List<String> results = new ArrayList<>();
            for (Future<Exec.Result> d : downloads) {
                Exec.Result r = d.get();
                boolean good = r.ok() && r.stdout().strip().equals(want);
                intact += good ? 1 : 0;
                results.add(good ? "intact" : r.ok() ? "sha256 " + r.stdout().strip() : r.stderr().strip());
            }
            Exec.Result loop = probeLoop.get();
            assertTrue(loop.ok(), loop.describe());
            List<DirectorPairIT.Probe> probes = loop.stdout().lines().filter(l -> !l.isBlank())
                    .map(DirectorPairIT.Probe::parse).toList();
            double sloppy = directors[1].metric("jvs_sloppy_accepted_total", "protocol=\"tcp\"")
                    + directors[4].metric("jvs_sloppy_accepted_total", "protocol=\"tcp\"");
            String summary = downloads.size() + " downloads (directors 1/2/3: " + spread + "): " + intact + " intact " + results + "; kill -9 to the router's route without"
                    + " director3: " + detectMs + " ms; SIGTERM to the route without director2: " + withdrawMs
                    + " ms (exit after " + stoppedMs + " ms, drain " + DRAIN_SECONDS + " s); director4 configured to in"
                    + " the route: " + addMs + " ms, " + running + " downloads running then; probes: " + probes.size()
                    + ", failed " + probes.stream().filter(p -> !p.ok()).toList() + "; sloppy-accepted on director1+4: "
                    + sloppy;
            System.out.println("EcmpIT " + summary);
            record(summary);
            assertEquals(downloads.size(), intact, summary);
            // the killed and the stopped directors' flows went on through directors that never saw them begin
            assertTrue(sloppy >= 1, summary);
            long gapEnd = killedAt + detectMs;
            assertTrue(probes.stream().filter(p -> p.end() < killedAt).count() >= 3, "probes before the kill: " + summary);
            for (DirectorPairIT.Probe p : probes) {
                if (!p.ok()) {
                    assertTrue(p.end() >= killedAt && p.start() <= gapEnd,
                            "a failed new connection overlaps the detection gap [kill, kill + " + detectMs + " ms]: " + p);
                }
            }
            assertTrue(probes.stream().filter(p -> p.start() > termAt - 500 && p.end() < termAt + stoppedMs + 1000)
                    .allMatch(DirectorPairIT.Probe::ok), "no new connection failed around the graceful stop: " + summary);
        }
    }

    @Test
    void fullNatActiveActiveEachDirectorWithItsOwnLocalAddress() throws Exception {
        Lab lab = LAB.lab();
        for (int k = 1; k <= 2; k++) {
            directors[k] = start(k, null);
        }
        Path dirs = lab.itFile("ecmp-directors", "director1 control=" + controlSocket(1) + " metrics=http://" + METRICS
                + " netns=" + ns(1) + " laddr=10.0.0.51,2001:db8::51\n"
                + "director2 control=" + controlSocket(2) + " metrics=http://" + METRICS + " netns=" + ns(2)
                + " laddr=10.0.0.52,2001:db8::52\n");
        Path conf = lab.itFile("ecmp-fullnat.conf", """
                -A -t 10.0.0.100:81 -s mh -b mh-port --laddr @LADDR@
                -a -t 10.0.0.100:81 -r 10.0.0.11:80 --fullnat -w 1
                -a -t 10.0.0.100:81 -r 10.0.0.12:80 --fullnat -w 1
                -A -t [2001:db8::100]:81 -s mh -b mh-port --laddr @LADDR6@
                -a -t [2001:db8::100]:81 -r [2001:db8::11]:80 --fullnat -w 1
                -a -t [2001:db8::100]:81 -r [2001:db8::12]:80 --fullnat -w 1
                """);
        Exec.Result applied = Exec.run(Duration.ofSeconds(60),
                List.of(lab.repo().resolve("scripts/ecmp").toString(), "apply", dirs.toString(), conf.toString()));
        assertEquals(0, applied.exitCode(), applied.describe());
        assertTrue(applied.stdout().contains("2 director(s) agree"), applied.describe());
        awaitTrue(() -> nextHops().equals(Set.of(ip(1), ip(2))), 20_000, "both directors announce the VIP");
        int[] logged = {lab.accessLog(1).size(), lab.accessLog(2).size()};

        Exec.Result loop = lab.sh(Duration.ofSeconds(120), Lab.CLIENT, """
                ok=0; failed=0
                for i in $(seq 1 200); do
                  if [ "$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' http://10.0.0.100:81/)" = 200 ]; then
                    ok=$((ok + 1)); else failed=$((failed + 1)); fi
                done
                echo "$ok $failed"
                """).requireOk();
        assertEquals("200 0", loop.stdout().strip(), "200 requests, none failed");
        Map<String, Integer> byLocal = new LinkedHashMap<>(Map.of("10.0.0.51", 0, "10.0.0.52", 0));
        for (int rs = 1; rs <= 2; rs++) {
            for (String line : lab.accessLog(rs).subList(logged[rs - 1], lab.accessLog(rs).size())) {
                String from = line.split(" ")[1].split(":")[0];
                byLocal.merge(from, 1, Integer::sum);
            }
        }
        double c1 = directors[1].metric("jvs_service_connections_total", "service=\"TCP/" + Lab.VIP + ":81\"");
        double c2 = directors[2].metric("jvs_service_connections_total", "service=\"TCP/" + Lab.VIP + ":81\"");
        String summary = "real servers saw " + byLocal + "; director1 scheduled " + c1 + ", director2 " + c2;
        assertEquals(Map.of("10.0.0.51", (int) c1, "10.0.0.52", (int) c2), byLocal, summary);
        assertTrue(c1 > 0 && c2 > 0, "ECMP spread the 200 connections over both directors: " + summary);

        // IPv6: the VIP6 is a /128 from each director, reached by routing only
        long ipv6At = System.nanoTime();
        awaitTrue(() -> nextHops("-6", VIP6 + "/128").equals(Set.of(ip6(1), ip6(2))), 20_000,
                "the router's route for the VIP6 has both directors' IPv6 addresses as next hops");
        for (int k = 1; k <= 2; k++) {
            assertEquals(1.0, directors[k].metric("jvs_announced_vip", "vip=\"" + VIP6 + "\""), "director" + k);
        }
        Exec.Result loop6 = lab.sh(Duration.ofSeconds(90), Lab.CLIENT, """
                ok=0; failed=0
                for i in $(seq 1 40); do
                  if [ "$(curl -g -s -o /dev/null --max-time 3 -w '%{http_code}' http://[2001:db8::100]:81/)" = 200 ]; then
                    ok=$((ok + 1)); else failed=$((failed + 1)); fi
                done
                echo "$ok $failed"
                """).requireOk();
        String service6 = "service=\"TCP/[" + VIP6 + "]:81\"";
        double v1 = directors[1].metric("jvs_service_connections_total", service6);
        double v2 = directors[2].metric("jvs_service_connections_total", service6);
        String vipAnswers = solicit(VIP6);
        String lipAnswers = solicit("2001:db8::51");
        System.out.println("EcmpIT IPv6: " + loop6.stdout().strip() + " (ok failed); director1 scheduled " + v1
                + ", director2 " + v2 + "; NA for the VIP6 from [" + vipAnswers + "], for director1's LIP6 from ["
                + lipAnswers + "]; " + (System.nanoTime() - ipv6At) / 1_000_000 + " ms");
        assertEquals("40 0", loop6.stdout().strip(), "40 requests to the VIP6, none failed");
        assertTrue(v1 > 0 && v2 > 0, "ECMP spread the 40 IPv6 connections over both directors: " + v1 + " " + v2);
        assertEquals("", vipAnswers, "no director answers a Neighbor Solicitation for the VIP6 (it is routed)");
        assertEquals("02:6a:76:00:00:02", lipAnswers, "director1 answers for its own local address (control)");

        // bad input: one director's configuration differs -> named
        Exec.Result edit = lab.exec(Duration.ofSeconds(20), ns(2), lab.repo().resolve("bin/jvsadm").toString(),
                "--control", controlSocket(2).toString(), "-e", "-t", Lab.VIP + ":81", "-r", "10.0.0.12:80",
                "--fullnat", "-w", "3");
        assertEquals(0, edit.exitCode(), edit.describe());
        Exec.Result check = Exec.run(Duration.ofSeconds(30),
                List.of(lab.repo().resolve("scripts/ecmp").toString(), "check", dirs.toString()));
        assertEquals(1, check.exitCode(), check.describe());
        assertTrue(check.stderr().contains("ecmp: director2: configuration differs"), check.describe());
        assertFalse(check.stderr().contains("director1"), check.describe());
    }

    /** {@link Lab#solicit} from the router's LAN port. */
    private static String solicit(String target) {
        return LAB.lab().solicit(Lab.ROUTER, Lab.ROUTER_LAN_IFACE, target);
    }

    @Test
    void birdNotRunningIsOneLineAndNothingIsAnnounced() {
        Lab lab = LAB.lab();
        Path missing = Lab.stateDir().resolve("bird").resolve("no-such-bird.ctl");
        Exec.Result r = lab.exec(Duration.ofSeconds(60), ns(4), lab.repo().resolve("bin/jvs-forwarder").toString(),
                "--attach", "packet:eth0", "--metrics", "off", "--control", controlSocket(4).toString(),
                "--announce-table", String.valueOf(TABLE), "--bird-socket", missing.toString());
        assertEquals(1, r.exitCode(), r.describe());
        assertEquals("jvs-forwarder: --announce-table " + TABLE + ": BIRD is not running (no control socket " + missing
                + "); nothing announced\n", r.stderr(), r.describe());
        assertFalse(lab.ip(ns(4), "link", "show", "jvs-announce").ok(), "no announcement device");
        assertEquals("", lab.ip(ns(4), "route", "show", "table", "all", "proto", "77").stdout(), "no route of jvs's");
        assertEquals(Set.of(), nextHops(), "the router has no route for the VIP");
    }

    private static String describe(Future<Exec.Result> f) {
        try {
            Exec.Result r = f.get();
            return r.exitCode() + " " + r.stdout().strip() + " " + r.stderr().strip();
        } catch (Exception e) {
            return e.toString();
        }
    }

    private boolean everyDirectorHasOne(int scheduled) {
        return connections(1) >= 1 && connections(2) >= 1 && connections(3) >= 1;
    }

    private double connections(int k) {
        return directors[k].metricValue("jvs_service_connections_total", SERVICE).orElse(0);
    }

    /** A bounded loop of short GETs, each on a new connection: "start-ms end-ms curl-exit http-code" per line. */
    private static String probeScript(String url, long ms) {
        return "stop=$(( $(date +%s%3N) + " + ms + " ))\n"
                + "while [ \"$(date +%s%3N)\" -lt \"$stop\" ]; do\n"
                + "  s=$(date +%s%3N); rc=0\n"
                + "  code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' " + url + ") || rc=$?\n"
                + "  echo \"$s $(date +%s%3N) $rc $code\"\n"
                + "  sleep 0.05\n"
                + "done\n";
    }

    private static void record(String line) {
        try {
            Path f = LAB.lab().repo().resolve("forwarder/target/it-logs/ecmp-times.txt");
            Files.createDirectories(f.getParent());
            Files.writeString(f, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void awaitTrue(BooleanSupplier condition, long timeoutMs, String what) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, what + " within " + timeoutMs + " ms");
            Lab.pause(10);
        }
    }
}
