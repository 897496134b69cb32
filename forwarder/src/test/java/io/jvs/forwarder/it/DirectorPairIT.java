package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Failover under load between two jvs directors: {@code scripts/lab up --directors 2}, the same
 * keepalived.conf shape on both (vrrp_instance VI_1 MASTER 150 on director1, BACKUP 100 on
 * director2, the VIP in virtual_ipaddress, advert_int 1 s), four rate-limited 20 MiB downloads
 * through the VIP, then {@code kill -9} of the MASTER.
 *
 * <ul>
 *   <li>DR with mh (mh-port) and {@code --sloppy-tcp 1}: director2 has never seen the four
 *       connections; sloppy TCP lets it schedule their next segments and mh sends each to the
 *       real server it was already on, so all four finish byte for byte. Beside it an IPv6 DR
 *       service on the VIP6, whose address is in the instance's virtual_ipaddress_excluded: the
 *       router's neighbour entry for it is director1's while director1 is MASTER (director2,
 *       BACKUP, neither answers NS nor sends an NA when it publishes the service), moves to
 *       director2 by its unsolicited NA on the takeover, and an IPv6 request then succeeds.</li>
 *   <li>NAT with connection sync ({@code lvs_sync_daemon eth0 VI_1}): the sync role follows VRRP
 *       (director1 master, director2 backup; after the kill director2 master), director2 holds
 *       the four connections when it takes over, and the real servers' gateway 10.0.0.254 (in
 *       virtual_ipaddress) follows the MASTER, so the replies reach it.</li>
 *   <li>FULLNAT with sync, the client's address by TOA and by PROXY v2 (nginx with
 *       proxy_protocol on both real servers): the local address 10.0.0.50 is in
 *       virtual_ipaddress too, the local ports and the PROXY v2 sequence offsets are synced.</li>
 * </ul>
 *
 * <p>Each run measures the gap from the kill to the first packet director2 forwards (tcpdump on
 * the real servers' and the router's LAN interfaces, frames whose source MAC is director2's), and
 * a client loop of short requests (one new connection each, 2 s bound) checks that new
 * connections fail only while that gap lasts. The gaps are appended to
 * {@code forwarder/target/it-logs/director-pair-gaps.txt}.
 */
@Timeout(300)
class DirectorPairIT {
    static final String D1 = Lab.PREFIX + "director1";
    static final String D2 = Lab.PREFIX + "director2";
    static final String MAC_D1 = "02:6a:76:00:00:02";
    static final String MAC_D2 = "02:6a:76:00:00:03";
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String VI = "instance=\"VI_1\"";
    static final long DOWNLOAD_BYTES = 20L * 1024 * 1024;
    static final int DOWNLOADS = 4;
    /** 20 MiB at 2 MiB/s: ~10 s per download, so the kill ~1.5 s in meets all four running. */
    static final String RATE = "2M";
    static final int MAX_SECONDS = 45;
    /** How long the client's loop of short requests runs, from just before the kill. */
    static final long PROBE_MS = 12_000;
    /** keepalived's master-down interval for the BACKUP (priority 100, advert_int 1 s). */
    static final long MASTER_DOWN_MS = 3000 + (256 - 100) * 1000L / 256;

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--directors", "2", "--no-bird", "--tun-servers", "0");

    static final String GATEWAY = "10.0.0.254";
    static final String VIP6 = "2001:db8::100";
    /** The real servers' IPv6 default gateway with two directors (scripts/lab: nat_gateway6). */
    static final String GATEWAY6 = "2001:db8::254";
    static final String URL6 = "http://[" + VIP6 + "]/";
    static final String LIP = "10.0.0.50";
    /** ipvsadm 1.31's -L --daemon with the kernel's defaults (veth MTU 1500: maxlen 1472), syncid = VRID 51. */
    static final String DAEMON_MASTER = "master sync daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n";
    static final String DAEMON_BACKUP = "backup sync daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n";

    ForwarderProcess master;
    ForwarderProcess backup;
    final List<Process> captures = new ArrayList<>();
    /** The real servers took the VIP6 (jvs-agent up): cleanUp takes it down. */
    boolean agent6Up;

    @RegisterExtension
    final DirectorLogOnFailure masterLog = new DirectorLogOnFailure(() -> master);
    @RegisterExtension
    final DirectorLogOnFailure backupLog = new DirectorLogOnFailure(() -> backup);

    @AfterEach
    void cleanUp() {
        for (Process p : captures) {
            p.destroy();
        }
        captures.clear();
        for (ForwarderProcess d : new ForwarderProcess[] {master, backup}) {
            if (d != null && d.isAlive()) {
                d.stop();
            }
        }
        if (agent6Up) {
            agent6Up = false;
            for (int rs = 1; rs <= 2; rs++) {
                LAB.lab().exec(Duration.ofSeconds(60), Lab.rsNamespace(rs), agent6(rs, "down")).requireOk();
            }
        }
    }

    /** jvs-agent's DR mode for the VIP6 on rsN (as ForwarderIT's IPv6 DR), journalled apart from the IPv4 agent. */
    private static String[] agent6(int rs, String command) {
        return new String[] {LAB.lab().repo().resolve("bin/jvs-agent").toString(), command, "--mode", "dr",
                "--vip", VIP6, "--iface", "eth0", "--state",
                LAB.lab().state().resolve("rs" + rs + "/agent6.state").toString()};
    }

    @AfterAll
    static void stopProxyNginx() {
        for (XmitIT.ProxyNginx n : PROXY_NGINX) {
            n.stop();
        }
        PROXY_NGINX.clear();
    }

    static final List<XmitIT.ProxyNginx> PROXY_NGINX = new ArrayList<>();

    @Test
    void drWithMhAndSloppyTcpEveryDownloadSurvivesTheMastersDeath() throws Exception {
        String services = """
                virtual_server 10.0.0.100 80 {
                    lb_algo mh
                    mh-port
                    lb_kind DR
                    protocol TCP
                    real_server 10.0.0.11 80 {
                        weight 1
                    }
                    real_server 10.0.0.12 80 {
                        weight 1
                    }
                }
                virtual_server 2001:db8::100 80 {
                    lb_algo rr
                    lb_kind DR
                    protocol TCP
                    real_server 2001:db8::11 80 {
                        weight 1
                    }
                    real_server 2001:db8::12 80 {
                        weight 1
                    }
                }
                """;
        Outcome o = failover(new Setup("dr", "", services, List.of("--sloppy-tcp", "1"), List.of(), 80, false, true,
                false));
        assertEquals(DOWNLOADS, o.intact(), o.toString());
        assertTrue(backup.metric("jvs_sloppy_accepted_total", "protocol=\"tcp\"") >= DOWNLOADS,
                "director2 took the running flows over by sloppy TCP: " + o);
    }

    @Test
    void natWithSyncEveryDownloadSurvivesTheMastersDeath() throws Exception {
        String services = """
                virtual_server 10.0.0.100 80 {
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                    real_server 10.0.0.11 80 {
                        weight 1
                    }
                    real_server 10.0.0.12 80 {
                        weight 1
                    }
                }
                """;
        Outcome o = failover(new Setup("nat", "        " + GATEWAY + "/24 dev eth0\n", services + """
                virtual_server 2001:db8::100 80 {
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                    real_server 2001:db8::11 80 {
                        weight 1
                    }
                    real_server 2001:db8::12 80 {
                        weight 1
                    }
                }
                """, List.of(), List.of(), 80, true, false, true));
        assertEquals(DOWNLOADS, o.intact(), o.toString());
        assertEquals("intact", o.results6(), "the IPv6 NAT download through the floating IPv6 gateway: " + o);
        assertEquals(0.0, backup.metric("jvs_sloppy_accepted_total", "protocol=\"tcp\""),
                "director2 knew the connections from sync, not by sloppy TCP");
    }

    @ParameterizedTest(name = "FULLNAT, client address by {0}")
    @ValueSource(strings = {"toa", "proxy"})
    void fullNatWithSyncEveryDownloadSurvivesTheMastersDeath(String clientAddr) throws Exception {
        boolean proxy = clientAddr.equals("proxy");
        if (proxy && PROXY_NGINX.isEmpty()) {
            PROXY_NGINX.add(XmitIT.ProxyNginx.start(LAB.lab(), 1));
            PROXY_NGINX.add(XmitIT.ProxyNginx.start(LAB.lab(), 2));
        }
        int rsPort = proxy ? XmitIT.PROXY_PORT : 80;
        // keepalived.conf has no FULLNAT (lb_kind NAT, DR, TUN): the services come from jvsadm, on both
        List<String> jvsadm = List.of(
                "-A -t " + Lab.VIP + ":81 -s rr --laddr " + LIP + " --client-addr " + clientAddr,
                "-a -t " + Lab.VIP + ":81 -r " + Lab.rsIp(1) + ":" + rsPort + " --fullnat -w 1",
                "-a -t " + Lab.VIP + ":81 -r " + Lab.rsIp(2) + ":" + rsPort + " --fullnat -w 1");
        Outcome o = failover(new Setup("fullnat-" + clientAddr, "        " + LIP + "/24 dev eth0\n", "", List.of(),
                jvsadm, 81, true, false, false));
        assertEquals(DOWNLOADS, o.intact(), o.toString());
        if (proxy) {
            long viaProxy = PROXY_NGINX.stream().flatMap(n -> n.log().stream())
                    .filter(l -> l.startsWith(Lab.CLIENT_IP + " " + LIP + " ")).count();
            assertTrue(viaProxy >= o.probes().stream().filter(Probe::ok).count(), "nginx logged the client's address "
                    + "from PROXY v2 for every request, through either director: " + viaProxy);
        }
    }

    // ---------------------------------------------------------------- the scenario

    /**
     * @param intact    downloads that completed byte for byte
     * @param gapMillis kill -9 of the master to the first packet director2 forwarded
     * @param masterMillis kill -9 to director2's metrics first showing it MASTER (polled every 50 ms)
     * @param probes    the client loop's requests
     */
    record Outcome(String method, int intact, List<String> results, long gapMillis, long masterMillis,
                   List<Probe> probes, String results6) {
        long failed() {
            return probes.stream().filter(p -> !p.ok()).count();
        }

        @Override
        public String toString() {
            return method + ": " + intact + "/" + DOWNLOADS + " downloads intact " + results
                    + (results6.isEmpty() ? "" : ", the IPv6 download " + results6) + ", gap " + gapMillis
                    + " ms (kill -9 -> first packet forwarded by director2; director2 MASTER after " + masterMillis
                    + " ms; keepalived's master-down interval " + MASTER_DOWN_MS + " ms), short requests: " + (probes.size() - failed()) + " ok, " + failed()
                    + " failed " + probes.stream().filter(p -> !p.ok()).toList();
        }
    }

    /** One short request of the client's loop: epoch ms at start and end, curl's exit and HTTP code. */
    record Probe(long start, long end, int curlExit, String httpCode) {
        boolean ok() {
            return curlExit == 0 && httpCode.equals("200");
        }

        static Probe parse(String line) {
            String[] f = line.strip().split(" ");
            return new Probe(Long.parseLong(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[2]), f.length > 3 ? f[3] : "");
        }
    }

    /**
     * One failover scenario.
     *
     * @param addresses virtual_ipaddress lines beyond the VIP (the NAT gateway, the FULLNAT local address)
     * @param services  keepalived.conf virtual_server blocks
     * @param jvsadm    jvsadm commands run on both directors after they started (services keepalived.conf cannot say)
     * @param sync      with {@code lvs_sync_daemon eth0 VI_1}
     * @param ipv6      the VIP6 in virtual_ipaddress_excluded, an IPv6 DR service on it in {@code services}
     * @param ipv6Nat   an IPv6 instance VI_6 (VRRPv3 over IPv6, in a sync group with VI_1) holding the VIP6
     *                  and the real servers' IPv6 gateway 2001:db8::254, an IPv6 NAT service on the VIP6 in
     *                  {@code services}, and one more download over IPv6 beside the four
     */
    record Setup(String method, String addresses, String services, List<String> extraArgs, List<String> jvsadm,
                 int port, boolean sync, boolean ipv6, boolean ipv6Nat) {
    }

    private Outcome failover(Setup setup) throws Exception {
        Lab lab = LAB.lab();
        String method = setup.method();
        int port = setup.port();
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        for (int rs = 1; rs <= 2; rs++) {
            lab.neighForget(Lab.rsNamespace(rs), GATEWAY, "eth0");
            lab.neighForget(Lab.rsNamespace(rs), LIP, "eth0");
            lab.neighForget(Lab.rsNamespace(rs), GATEWAY6, "eth0");
        }
        lab.neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
        long v6Started = System.nanoTime();
        if (setup.ipv6()) {
            lab.neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
            agent6Up = true;
            for (int rs = 1; rs <= 2; rs++) {
                lab.exec(Duration.ofSeconds(60), Lab.rsNamespace(rs), agent6(rs, "up")).requireOk();
            }
        }
        long v6Nanos = System.nanoTime() - v6Started;
        master = startDirector(D1, method + "-director1", "MASTER", 150, setup);
        awaitTrue(() -> vrrpState(master) == 2, MASTER_DOWN_MS + 3000, "director1 MASTER", master);
        v6Started = System.nanoTime();
        if (setup.ipv6()) {
            // the router solicits the VIP6 and director1, MASTER, answers
            assertTrue(Set.of("rs1", "rs2").contains(lab.get(URL6).strip()), "an IPv6 request through director1");
            assertEquals(Optional.of(MAC_D1), lab.neighMac(Lab.ROUTER, VIP6), "the router's entry for the VIP6");
        }
        v6Nanos += System.nanoTime() - v6Started;
        List<String> floating = floatingAddresses(setup);
        for (int rs = 1; rs <= 2; rs++) {
            for (String a : floating) {
                // the real servers resolve them by ARP (the MASTER answers); the connection itself goes nowhere
                lab.exec(Duration.ofSeconds(5), Lab.rsNamespace(rs), "curl", "-s", "--connect-timeout", "1",
                        "http://" + a + ":9/");
            }
        }
        backup = startDirector(D2, method + "-director2", "BACKUP", 100, setup);
        awaitTrue(() -> vrrpState(backup) == 1, 5000, "director2 BACKUP", backup);
        Lab.pause(1500); // director2 has heard adverts and stays BACKUP
        assertEquals(1.0, vrrpState(backup), "director2 stays BACKUP next to director1 at 150");
        for (int rs = 1; rs <= 2; rs++) {
            for (String a : floating) {
                // a BACKUP neither answers nor announces them: its services' publication must not pull them over
                assertEquals(Optional.of(MAC_D1), lab.neighMac(Lab.rsNamespace(rs), a),
                        "rs" + rs + "'s neighbour entry for " + a + " is director1's while it is MASTER");
            }
        }
        if (setup.ipv6()) {
            // director2 published the IPv6 service as BACKUP: no unsolicited NA pulled the VIP6 over
            assertEquals(Optional.of(MAC_D1), lab.neighMac(Lab.ROUTER, VIP6),
                    "the router's entry for the VIP6 is director1's while director2 is BACKUP");
        }
        if (setup.sync()) {
            // keepalived's lvs_sync_daemon: the MASTER's director sends, the BACKUP's receives (syncid = VRID 51)
            awaitTrue(() -> jvsadm(master, "-L", "--daemon").equals(DAEMON_MASTER), 3000, "director1 sync master", master);
            awaitTrue(() -> jvsadm(backup, "-L", "--daemon").equals(DAEMON_BACKUP), 3000, "director2 sync backup", backup);
        }

        String url = "http://" + Lab.VIP + (port == 80 ? "" : ":" + port) + "/blob";
        Path[] dumps = {capture(Lab.rsNamespace(1), "eth0", method + "-rs1"),
                capture(Lab.rsNamespace(2), "eth0", method + "-rs2"),
                capture(Lab.ROUTER, Lab.ROUTER_LAN_IFACE, method + "-router")};
        String want = Captures.sha256Prefix(lab.blobPath(), DOWNLOAD_BYTES);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Exec.Result>> downloads = new ArrayList<>();
            for (int i = 0; i < DOWNLOADS; i++) {
                downloads.add(pool.submit(() -> lab.sh(Duration.ofSeconds(MAX_SECONDS + 15), Lab.CLIENT,
                        "curl -sS --max-time " + MAX_SECONDS + " --limit-rate " + RATE + " -r 0-" + (DOWNLOAD_BYTES - 1)
                                + " " + url + " | sha256sum | cut -d' ' -f1")));
            }
            Future<Exec.Result> download6 = !setup.ipv6Nat() ? null : pool.submit(() -> lab.sh(
                    Duration.ofSeconds(MAX_SECONDS + 15), Lab.CLIENT, "curl -sS --max-time " + MAX_SECONDS
                            + " --limit-rate " + RATE + " -r 0-" + (DOWNLOAD_BYTES - 1) + " http://[" + VIP6 + "]/blob"
                            + " | sha256sum | cut -d' ' -f1"));
            awaitConnections(downloads, port);
            int synced = DOWNLOADS + (setup.ipv6Nat() ? 1 : 0);
            if (setup.sync()) {
                awaitTrue(() -> backup.metricValue("jvs_sync_installed_total", "action=\"new\"").orElse(0) >= synced,
                        5000, "director2 installed the " + synced + " synced connections", backup);
            }
            Future<Exec.Result> probeLoop = pool.submit(() -> lab.sh(Duration.ofMillis(PROBE_MS + 15_000), Lab.CLIENT,
                    probeScript("http://" + Lab.VIP + (port == 80 ? "" : ":" + port) + "/")));
            Lab.pause(1500); // well into the transfers, and the loop has had successes through director1
            for (Future<Exec.Result> d : downloads) {
                assertFalse(d.isDone(), () -> "a download ended before the kill: " + describe(d));
            }
            if (download6 != null) {
                assertFalse(download6.isDone(), () -> "the IPv6 download ended before the kill: " + describe(download6));
            }
            long killedAt = System.currentTimeMillis();
            assertEquals(137, master.kill(), "kill -9 of director1");
            awaitTrue(() -> vrrpState(backup) == 2, MASTER_DOWN_MS + 3000, "director2 MASTER", backup);
            long masterMillis = System.currentTimeMillis() - killedAt;
            if (setup.sync()) {
                awaitTrue(() -> jvsadm(backup, "-L", "--daemon").equals(DAEMON_MASTER), 3000,
                        "director2, now MASTER, runs the sync master and no backup", backup);
            }

            int intact = 0;
            List<String> results = new ArrayList<>();
            for (Future<Exec.Result> d : downloads) {
                Exec.Result r = d.get();
                boolean good = r.ok() && r.stdout().strip().equals(want);
                intact += good ? 1 : 0;
                results.add(good ? "intact" : r.ok() ? "sha256 " + r.stdout().strip() : r.stderr().strip());
            }
            String results6 = "";
            if (download6 != null) {
                Exec.Result r = download6.get();
                results6 = r.ok() && r.stdout().strip().equals(want) ? "intact"
                        : r.ok() ? "sha256 " + r.stdout().strip() : r.stderr().strip();
                // the real server of the IPv6 download resolved the gateway (the other may never have)
                Set<Optional<String>> gw6 = java.util.stream.Stream.of(lab.neighMac(Lab.rsNamespace(1), GATEWAY6),
                        lab.neighMac(Lab.rsNamespace(2), GATEWAY6)).filter(Optional::isPresent)
                        .collect(java.util.stream.Collectors.toSet());
                assertEquals(Set.of(Optional.of(MAC_D2)), gw6,
                        "the real servers' neighbour entries for the IPv6 gateway moved to director2 with VI_6");
            }
            Exec.Result loop = probeLoop.get();
            assertTrue(loop.ok(), loop.describe());
            List<Probe> probes = loop.stdout().lines().filter(l -> !l.isBlank()).map(Probe::parse).toList();
            long gap = Captures.firstPacketAfter(killedAt, dumps);
            for (int rs = 1; rs <= 2; rs++) {
                for (String a : floating) {
                    assertEquals(Optional.of(MAC_D2), lab.neighMac(Lab.rsNamespace(rs), a),
                            "rs" + rs + "'s neighbour entry for " + a + " moved to director2 with VRRP");
                }
            }
            v6Started = System.nanoTime();
            if (setup.ipv6()) {
                // director2's unsolicited NA on becoming MASTER (Override) moved the router's entry
                awaitTrue(() -> lab.neighMac(Lab.ROUTER, VIP6).equals(Optional.of(MAC_D2)), 3000,
                        "the router's entry for the VIP6 moved to director2 (" + lab.neighMac(Lab.ROUTER, VIP6)
                                + ")", backup);
                assertTrue(Set.of("rs1", "rs2").contains(lab.get(URL6).strip()), "an IPv6 request through director2");
                v6Nanos += System.nanoTime() - v6Started;
                System.out.println("DirectorPairIT " + method + ": the IPv6 checks took " + v6Nanos / 1_000_000
                        + " ms (agent up, two requests, neighbour lookups)");
            }
            Outcome o = new Outcome(method, intact, results, gap, masterMillis, probes, results6);
            System.out.println("DirectorPairIT " + o);
            record(o);
            assertTrue(gap > 0, "director2 forwarded something after the kill: " + o);
            checkProbes(o, killedAt);
            return o;
        }
    }

    /**
     * New connections fail only inside the gap: every failed request overlapped the interval from
     * the kill to director2's first forwarded packet, requests succeeded before it, and every
     * request that began after it succeeded.
     */
    private static void checkProbes(Outcome o, long killedAt) {
        long gapEnd = killedAt + o.gapMillis();
        List<Probe> before = o.probes().stream().filter(p -> p.end() < killedAt).toList();
        List<Probe> after = o.probes().stream().filter(p -> p.start() > gapEnd).toList();
        assertTrue(before.size() >= 3 && before.stream().allMatch(Probe::ok),
                "short requests through director1 before the kill all succeeded: " + before);
        assertTrue(after.size() >= 10, "the loop went on after the gap: " + o);
        assertEquals(List.of(), after.stream().filter(p -> !p.ok()).toList(),
                "every request begun after director2's first forwarded packet succeeded");
        for (Probe p : o.probes()) {
            if (!p.ok()) {
                assertTrue(p.end() >= killedAt && p.start() <= gapEnd,
                        "a failed request overlaps the gap [kill, kill + " + o.gapMillis() + " ms]: " + p);
            }
        }
    }

    /** A bounded loop of short GETs, each on a new connection: "start-ms end-ms curl-exit http-code" per line. */
    private static String probeScript(String url) {
        return "stop=$(( $(date +%s%3N) + " + PROBE_MS + " ))\n"
                + "while [ \"$(date +%s%3N)\" -lt \"$stop\" ]; do\n"
                + "  s=$(date +%s%3N); rc=0\n"
                + "  code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' " + url + ") || rc=$?\n"
                + "  echo \"$s $(date +%s%3N) $rc $code\"\n"
                + "  sleep 0.05\n"
                + "done\n";
    }

    /** The virtual_ipaddress entries beyond the VIP (the NAT gateway, the FULLNAT local address). */
    private static List<String> floatingAddresses(Setup setup) {
        return setup.addresses().lines().map(String::strip).filter(l -> !l.isEmpty()).map(l -> l.split("/")[0]).toList();
    }

    private ForwarderProcess startDirector(String ns, String name, String state, int priority, Setup setup) {
        Lab lab = LAB.lab();
        Path conf = lab.itFile("pair-" + name + ".keepalived.conf", keepalivedConf(state, priority, setup));
        List<String> args = new ArrayList<>(List.of("--attach", "packet:eth0", "--keepalived", conf.toString(),
                "--metrics", METRICS, "--control", controlSocket("pair-" + name).toString()));
        args.addAll(setup.extraArgs());
        ForwarderProcess d = ForwarderProcess.start(lab, ns, "pair-" + name, METRICS, args);
        for (String line : setup.jvsadm()) {
            jvsadm(d, line.split(" "));
        }
        return d;
    }

    private static Path controlSocket(String name) {
        return LAB.lab().repo().resolve("forwarder/target/it-logs/" + name + ".sock");
    }

    /** bin/jvsadm against director {@code d}'s control socket; fails on a non-zero exit. */
    private static String jvsadm(ForwarderProcess d, String... args) {
        String ns = d.name().endsWith("director1") ? D1 : D2;
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString(), "--control",
                controlSocket(d.name()).toString()));
        cmd.addAll(List.of(args));
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(20), ns, cmd.toArray(String[]::new));
        assertEquals(0, r.exitCode(), () -> "jvsadm " + String.join(" ", args) + "\n" + r.describe() + "\n"
                + d.logTail(30));
        return r.stdout();
    }

    /** The configuration both directors run; they differ only in state and priority. */
    static String keepalivedConf(String state, int priority, Setup setup) {
        return (setup.sync() ? "global_defs {\n    lvs_sync_daemon eth0 VI_1\n}\n" : "")
                + "vrrp_instance VI_1 {\n"
                + "    state " + state + "\n"
                + "    interface eth0\n"
                + "    virtual_router_id 51\n"
                + "    priority " + priority + "\n"
                + "    advert_int 1\n"
                + "    authentication {\n        auth_type PASS\n        auth_pass jvs-pair\n    }\n"
                + "    virtual_ipaddress {\n        10.0.0.100/24 dev eth0\n" + setup.addresses() + "    }\n"
                + (setup.ipv6() ? "    virtual_ipaddress_excluded {\n        " + VIP6 + "/64 dev eth0\n    }\n" : "")
                + "}\n" + (setup.ipv6Nat() ? ipv6Instance(state, priority) : "") + setup.services();
    }

    /** VI_6: VRRPv3 over IPv6 (its first address is IPv6) for the VIP6 and the IPv6 gateway, moving with VI_1. */
    static String ipv6Instance(String state, int priority) {
        return "vrrp_instance VI_6 {\n"
                + "    state " + state + "\n"
                + "    interface eth0\n"
                + "    virtual_router_id 61\n"
                + "    priority " + priority + "\n"
                + "    advert_int 1\n"
                + "    virtual_ipaddress {\n        " + VIP6 + "/64 dev eth0\n        " + GATEWAY6 + "/64 dev eth0\n"
                + "    }\n"
                + "}\n"
                + "vrrp_sync_group G1 {\n    group {\n        VI_1\n        VI_6\n    }\n}\n";
    }

    /** Waits until director1 has scheduled the downloads' connections. */
    private void awaitConnections(List<Future<Exec.Result>> downloads, int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String service = "service=\"TCP/" + Lab.VIP + ":" + port + "\"";
        while (master.metric("jvs_service_connections_total", service) < DOWNLOADS) {
            for (Future<Exec.Result> d : downloads) {
                assertFalse(d.isDone(), () -> "a download ended before its connection was seen: " + describe(d));
            }
            assertTrue(System.nanoTime() < deadline, "four connections to the VIP within 15 s\n" + master.logTail(30));
            Thread.sleep(100);
        }
    }

    /** tcpdump on {@code iface} in {@code ns}: TCP frames director2 sent (its MAC as source), epoch timestamps. */
    private Path capture(String ns, String iface, String name) throws Exception {
        Path out = LAB.lab().repo().resolve("forwarder/target/it-logs/pair-" + name + ".tcpdump");
        Process p = new ProcessBuilder(Lab.ip(), "netns", "exec", ns, "tcpdump", "-i", iface, "-nn", "-tt", "-q", "-l",
                "-s", "96", "ether src " + MAC_D2 + " and tcp")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(out.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        captures.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(out).contains("listening on")) {
            assertTrue(p.isAlive(), "tcpdump in " + ns + " exited: " + Files.readString(out));
            assertTrue(System.nanoTime() < deadline, "tcpdump in " + ns + " did not start: " + Files.readString(out));
            Thread.sleep(50);
        }
        return out;
    }

    private static void record(Outcome o) {
        Path p = LAB.lab().repo().resolve("forwarder/target/it-logs/director-pair-gaps.txt");
        try {
            Files.writeString(p, o.method() + " gap " + o.gapMillis() + " master " + o.masterMillis() + " " + o.intact() + "/" + DOWNLOADS + " failed-requests "
                    + o.failed() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double vrrpState(ForwarderProcess d) {
        return d.metricValue("jvs_vrrp_state", VI).orElse(-1);
    }

    private static String describe(Future<Exec.Result> done) {
        return done.state() == Future.State.SUCCESS ? done.resultNow().describe() : done.state().toString();
    }

    private static void awaitTrue(BooleanSupplier cond, long ms, String what, ForwarderProcess d) {
        long deadline = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < deadline) {
            if (cond.getAsBoolean()) {
                return;
            }
            Lab.pause(50);
        }
        throw new AssertionError(what + ": not within " + ms + " ms" + (d != null ? "\n" + d.logTail(30) : ""));
    }
}
