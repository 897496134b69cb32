package io.jvs.forwarder.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, workers: one director with {@code --workers 2} in packet mode, a DR, a NAT and a
 * FULLNAT service, and 2,016 short connections from eight client addresses (curl --interface),
 * then a 50 MiB download through each. The kernel's PACKET_FANOUT group runs the director's
 * classic BPF program: each connection must be counted by the worker this test predicts from the
 * documented hash of its client address, both workers must carry some, no packet may be dropped
 * as no_connection (a NAT reply or a FULLNAT reply to LIP:lport reaching a worker that does not own
 * the connection would be), and {@code jvsadm -L -n --stats --exact} must equal the sum of the
 * per-worker families read from /metrics. The same in TAP mode ({@code --attach tap:jvs0 --lan eth0
 * --workers 2}: a multi-queue TAP whose steering program is the fanout program in eBPF), and in
 * XDP mode ({@code --attach xdp:eth0 --workers 2}: the lab's director veth has two rx queues, the
 * bridge's side spreads frames over them by flow hash, so the director binds an AF_XDP socket per
 * queue and worker and its XDP program picks the worker by the same rule). Bad input
 * ({@code --workers 0}, a queue the interface does not have): one line, nothing attached.
 */
@Timeout(300)
class WorkersIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String LIP = "10.0.0.3";
    /** Extra client addresses, 10.0.1.20 .. 10.0.1.27: the documented hash puts 20 23 24 26 27 on worker 0, the rest on 1. */
    static final int FIRST_CLIENT = 20;
    static final int CLIENTS = 8;
    static final int PER_CLIENT_AND_SERVICE = 84;
    /** XDP mode: fewer connections (CI time); the same predictions, hence the same proof. */
    static final int XDP_PER_CLIENT_AND_SERVICE = 28;
    static final int[] PORTS = {80, 81, 82};

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);

    /** The fanout program's hash (docs: io.jvs.forwarder.io.FanoutProgram), written out here. */
    static int predictedWorker(String addr, int workers) {
        long a = 0;
        for (String octet : addr.split("\\.")) {
            a = a << 8 | Integer.parseInt(octet);
        }
        long x = (a ^ (a >>> 16)) & 0xffffffffL;
        long h = ((x * 0x9E3779B1L) & 0xffffffffL) >>> 16;
        return (int) (h % workers);
    }

    @Test
    void twoWorkersShareTheConnectionsAndEveryReplyReachesItsOwner() {
        twoWorkers("packet", List.of("--attach", "packet:eth0"), PER_CLIENT_AND_SERVICE);
    }

    /**
     * TAP mode: a multi-queue TAP, queue i read by worker i, and the director's steering program
     * (the fanout program in eBPF) choosing the queue of every frame the kernel routes into the
     * TAP, client packets and the NAT and FULLNAT replies it receives on --lan alike. Fewer
     * connections than packet mode (CI time); the same predictions, hence the same proof.
     */
    @Test
    void tapWithTwoWorkersSteersEveryConnectionToItsOwner() {
        twoWorkers("tap", List.of("--attach", "tap:jvs0", "--lan", "eth0"), PER_CLIENT_AND_SERVICE);
    }

    /**
     * XDP mode: frames of one connection arrive on both rx queues of the director's veth (the
     * sender hashes each direction's flow on its own), each queue has a socket per worker, and
     * the XDP program redirects each frame to its owner's socket of that queue. A reply
     * redirected to the wrong worker would be a no_connection drop; a queue without sockets
     * would pass its frames to the kernel (forwarding off: lost), failing connections.
     */
    @Test
    void xdpWithTwoWorkersRedirectsEveryConnectionToItsOwner() {
        twoWorkers("xdp", List.of("--attach", "xdp:eth0"), XDP_PER_CLIENT_AND_SERVICE);
    }

    /**
     * The steering program of a table without VIPs or local addresses, and of one with a NAT
     * service but no local address, has branches no path reaches, which the eBPF verifier
     * refuses unless the translation leaves them out: the director starts with no services,
     * takes a NAT service from jvsadm (a new program in the publish step) and forwards through it.
     */
    @Test
    void tapWithTwoWorkersStartsEmptyAndTakesANatService() {
        Lab lab = LAB.lab();
        lab.resetDirector();
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        ForwarderProcess director = ForwarderProcess.start(lab, "workers-tap-empty", METRICS,
                List.of("--attach", "tap:jvs0", "--lan", "eth0", "--workers", "2", "--metrics", METRICS));
        try {
            assertTrue(director.logTail(20).contains("2 workers"), director.logTail(20));
            jvsadm("-A", "-t", Lab.VIP + ":80", "-s", "rr");
            jvsadm("-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(1) + ":80", "-m");
            String body = lab.get("http://" + Lab.VIP + "/").strip();
            System.out.println("[workers-tap-empty] GET through the NAT service added later: " + body);
            assertEquals("rs1", body);
            assertFalse(director.logTail(50).contains("steering program"), director.logTail(50));
        } finally {
            int rc = director.stop();
            System.out.println("[workers-tap-empty] forwarder stopped, exit " + rc + "; log " + director.log());
        }
    }

    private void twoWorkers(String mode, List<String> attach, int perClientAndService) {
        Lab lab = LAB.lab();
        String fixed = lab.resetDirector();
        if (!fixed.isEmpty()) {
            System.out.println("[workers] " + fixed);
        }
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        Path conf = lab.itFile("workers.conf", """
                -A -t %1$s:80 -s rr
                -a -t %1$s:80 -r %3$s:80 -g -w 1
                -a -t %1$s:80 -r %4$s:80 -g -w 1
                -A -t %1$s:81 -s rr
                -a -t %1$s:81 -r %3$s:80 -m -w 1
                -a -t %1$s:81 -r %4$s:80 -m -w 1
                -A -t %1$s:82 -s rr --laddr %2$s
                -a -t %1$s:82 -r %3$s:80 --fullnat -w 1
                -a -t %1$s:82 -r %4$s:80 --fullnat -w 1
                """.formatted(Lab.VIP, LIP, Lab.rsIp(1), Lab.rsIp(2)));
        List<String> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            clients.add("10.0.1." + (FIRST_CLIENT + i));
        }
        long[] predicted = new long[2];
        for (String c : clients) {
            lab.ip(Lab.CLIENT, "addr", "add", c + "/24", "dev", "eth0").requireOk();
            predicted[predictedWorker(c, 2)] += (long) perClientAndService * PORTS.length;
        }
        assertTrue(predicted[0] > 0 && predicted[1] > 0, "the client addresses split over both workers");
        List<String> args = new ArrayList<>(attach);
        args.addAll(List.of("--workers", "2", "--config", conf.toString(), "--metrics", METRICS));
        ForwarderProcess director = ForwarderProcess.start(lab, "workers-" + mode, METRICS, args);
        try {
            assertTrue(director.logTail(20).contains("2 workers"), director.logTail(20));
            if (mode.equals("xdp")) {
                assertTrue(director.logTail(20).contains("queues 0-1"), "a socket on each of eth0's two rx queues: "
                        + director.logTail(20));
            }
            // Before any traffic, each worker has resolved both real servers (its own neighbour cache;
            // a worker learns only from replies to its own requests): a worker's first burst does not
            // wait behind an ARP request and overflow its queue as neigh_queue_full.
            double resolved = 0;
            for (int i = 0; i < 30 && resolved < 4; i++) {
                Lab.pause(100);
                resolved = Metrics.sum(director.samples(), "jvs_neighbour_entries", "").orElse(0);
            }
            assertTrue(resolved >= 4, "neighbour entries before any traffic: " + resolved
                    + " (2 workers x 2 real servers expected)");
            long started = System.nanoTime();
            List<String> bad = new ArrayList<>();
            int total = 0;
            for (int port : PORTS) {
                for (String c : clients) {
                    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--interface", c, "--connect-timeout", "5",
                            "--max-time", "8", "-H", "Connection: close", "-w", "~t~ %{http_code}\\n"));
                    for (int i = 0; i < perClientAndService; i++) {
                        cmd.add("http://" + Lab.VIP + ":" + port + "/");
                    }
                    Exec.Result r = lab.exec(Duration.ofSeconds(120), Lab.CLIENT, cmd.toArray(String[]::new));
                    int seen = 0;
                    for (String line : r.stdout().split("\n")) {
                        int at = line.indexOf("~t~ ");
                        if (at >= 0) {
                            seen++;
                            total++;
                            if (!line.substring(at + 4).trim().equals("200")) {
                                bad.add(c + " -> :" + port + " " + line.strip());
                            }
                        }
                    }
                    assertEquals(perClientAndService, seen, "curl from " + c + " to :" + port + " stopped early (exit "
                            + r.exitCode() + "): " + r.stderr());
                }
            }
            System.out.printf("[workers-" + mode + "] %d connections in %.1f s%n", total, (System.nanoTime() - started) / 1e9);
            assertTrue(bad.isEmpty(), bad.size() + " failed, first: " + bad.subList(0, Math.min(5, bad.size())));

            // 50 MiB through each method, from the client's own address
            String sha = lab.blobSha256();
            for (int port : PORTS) {
                double allocatedBefore = director.metric("jvs_event_loop_allocated_bytes_total", "");
                Lab.Download d = lab.download("http://" + Lab.VIP + ":" + port + "/blob", 60);
                double allocated = director.metric("jvs_event_loop_allocated_bytes_total", "") - allocatedBefore;
                System.out.printf("[workers-" + mode + "] 50 MiB via :%d at %.0f MB/s, the event loops allocated %.0f"
                        + " bytes%n", port, d.megabytesPerSecond(), allocated);
                assertEquals(200, d.httpCode(), ":" + port);
                assertEquals(Lab.BLOB_BYTES, d.bytes(), ":" + port);
                assertEquals(sha, d.sha256(), "50 MiB via :" + port + " byte for byte");
                predicted[predictedWorker(Lab.CLIENT_IP, 2)]++;
                if (mode.equals("xdp")) {
                    // over 35,000 frames each way: one byte per frame would be more (the timers allocate a few KB/s)
                    assertTrue(allocatedBefore >= 0 && allocated < 256 * 1024, "no allocation per packet on the XDP path"
                            + " with shared UMEMs: " + allocated + " bytes during 50 MiB via :" + port);
                }
            }

            Lab.pause(500); // the last FINs and ACKs
            String stats = jvsadm("-L", "-n", "--stats", "--exact");
            List<Metrics.Sample> samples = director.samples();
            assertEquals(stats, jvsadm("-L", "-n", "--stats", "--exact"), "the counters stood still while read");

            // every connection on the worker the hash of its client predicts
            long[] perWorker = new long[2];
            for (Metrics.Sample s : samples) {
                if (s.name().equals("jvs_worker_real_server_connections_total")) {
                    perWorker[Integer.parseInt(s.labels().get("worker"))] += (long) s.value();
                }
            }
            System.out.printf("[workers-" + mode + "] connections per worker %d / %d, predicted %d / %d%n",
                    perWorker[0], perWorker[1], predicted[0], predicted[1]);
            assertEquals(predicted[0], perWorker[0], "worker 0's connections");
            assertEquals(predicted[1], perWorker[1], "worker 1's connections");
            for (int w = 0; w < 2; w++) {
                assertTrue(Metrics.sum(samples, "jvs_worker_rx_frames_total", "worker=\"" + w + "\"").orElse(0) > 0,
                        "worker " + w + " received frames");
            }
            assertEquals(0.0, Metrics.sum(samples, "jvs_dropped_packets_total", "reason=\"no_connection\"").orElse(-1),
                    "no reply reached a worker that does not own its connection");
            assertEquals(0.0, Metrics.sum(samples, "jvs_dropped_packets_total", "reason=\"neigh_queue_full\"").orElse(0),
                    "no frame waited behind an unresolved neighbour long enough to be dropped");

            // -c lists every worker's table (entries may expire meanwhile: read it before and after)
            long listedBefore = jvsadm("-L", "-n", "-c").lines().filter(l -> l.startsWith("TCP ")).count();
            long entries = sum(director.samples(), "jvs_worker_connection_table_entries", "");
            long listedAfter = jvsadm("-L", "-n", "-c").lines().filter(l -> l.startsWith("TCP ")).count();
            System.out.printf("[workers-" + mode + "] jvsadm -c lists %d then %d connections; the workers' tables hold %d%n",
                    listedBefore, listedAfter, entries);
            assertTrue(listedBefore >= entries && entries >= listedAfter && listedAfter > 0,
                    "jvsadm -L -n -c lists every worker's connections");

            // jvsadm's per-real-server lines are the sum of the workers' shares
            Map<String, long[]> listed = statsLines(stats);
            assertEquals(6, listed.size(), stats);
            for (Map.Entry<String, long[]> e : listed.entrySet()) {
                String[] key = e.getKey().split(" ");
                String sel = "service=\"" + key[0] + "\",real_server=\"" + key[1] + "\"";
                long[] fromMetrics = {
                    sum(samples, "jvs_worker_real_server_connections_total", sel),
                    sum(samples, "jvs_worker_real_server_packets_total", sel + ",direction=\"in\""),
                    sum(samples, "jvs_worker_real_server_packets_total", sel + ",direction=\"out\""),
                    sum(samples, "jvs_worker_real_server_bytes_total", sel + ",direction=\"in\""),
                    sum(samples, "jvs_worker_real_server_bytes_total", sel + ",direction=\"out\""),
                };
                assertEquals(java.util.Arrays.toString(e.getValue()), java.util.Arrays.toString(fromMetrics),
                        e.getKey() + ": jvsadm --stats (Conns InPkts OutPkts InBytes OutBytes) vs the workers' sum");
                assertTrue(e.getValue()[0] > 0, e.getKey() + " carried connections");
            }
        } finally {
            int rc = director.stop();
            System.out.println("[workers-" + mode + "] forwarder stopped, exit " + rc + "; log " + director.log());
            for (String c : clients) {
                lab.ip(Lab.CLIENT, "addr", "del", c + "/24", "dev", "eth0");
            }
        }
    }

    @Test
    void badWorkerCountsAttachNothing() {
        Lab lab = LAB.lab();
        String forwardingBefore = lab.exec(Lab.DIRECTOR, "sysctl", "-n", "net.ipv4.ip_forward").requireOk().stdout();
        String linksBefore = lab.ip(Lab.DIRECTOR, "-br", "link").requireOk().stdout();
        String[][] cases = {
            {"--workers \"0\": expected a number of workers", "--attach", "packet:eth0", "--workers", "0"},
            {"--workers \"300\": expected a number of workers, 1..256", "--attach", "packet:eth0", "--workers", "300"},
        };
        for (String[] c : cases) {
            List<String> cmd = new ArrayList<>(List.of(lab.repo().resolve("bin/jvs-forwarder").toString()));
            cmd.addAll(List.of(c).subList(1, c.length));
            Exec.Result r = lab.exec(Duration.ofSeconds(60), Lab.DIRECTOR, cmd.toArray(String[]::new));
            // the usage-error form: the one line naming the item, then the --help hint
            String err = r.stderr().strip().lines().findFirst().orElse("");
            assertTrue(r.stderr().strip().lines().skip(1).allMatch(l -> l.startsWith("Try ")), r.stderr());
            System.out.println("[workers] " + String.join(" ", List.of(c).subList(1, c.length)) + " -> exit "
                    + r.exitCode() + ": " + err);
            assertEquals(2, r.exitCode(), r.describe());
            assertTrue(err.contains(c[0]), err);
        }
        // XDP with workers: a queue eth0 does not have (it has two) is refused before anything is attached
        List<String> cmd = List.of(lab.repo().resolve("bin/jvs-forwarder").toString(), "--attach", "xdp:eth0:2",
                "--workers", "2", "--metrics", "off", "--control", lab.state().resolve("workers-bad.sock").toString());
        Exec.Result r = lab.exec(Duration.ofSeconds(60), Lab.DIRECTOR, cmd.toArray(String[]::new));
        List<String> lines = (r.stdout() + r.stderr()).lines().filter(l -> !l.isBlank()).toList();
        System.out.println("[workers] --attach xdp:eth0:2 --workers 2 -> exit " + r.exitCode() + ": " + lines);
        assertEquals(1, r.exitCode(), r.describe());
        assertEquals(1, lines.size(), r.describe());
        assertTrue(lines.getFirst().contains("--attach xdp:eth0:2: eth0 has no rx queue 2 (it has 2; nothing attached)"),
                lines.getFirst());
        assertFalse(lab.ip(Lab.DIRECTOR, "-d", "link", "show").requireOk().stdout().contains("prog/xdp"),
                "no XDP program attached");
        assertEquals(forwardingBefore, lab.exec(Lab.DIRECTOR, "sysctl", "-n", "net.ipv4.ip_forward").requireOk().stdout(),
                "ip_forward untouched");
        assertEquals(linksBefore, lab.ip(Lab.DIRECTOR, "-br", "link").requireOk().stdout(), "no TAP created");
    }

    private static long sum(List<Metrics.Sample> samples, String name, String selector) {
        return (long) Metrics.sum(samples, name, selector).orElse(-1);
    }

    private static String jvsadm(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
        cmd.addAll(List.of(args));
        return LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new)).requireOk().stdout();
    }

    /** "TCP/VIP:PORT RIP:PORT" to {Conns, InPkts, OutPkts, InBytes, OutBytes} of each real-server line. */
    private static Map<String, long[]> statsLines(String stats) {
        Map<String, long[]> out = new LinkedHashMap<>();
        Pattern svc = Pattern.compile("^(TCP|UDP)  (\\S+)\\s+\\d+");
        Pattern rs = Pattern.compile("^  -> (\\S+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s*$");
        String service = null;
        for (String line : stats.split("\n")) {
            Matcher m = svc.matcher(line);
            if (m.find()) {
                service = m.group(1) + "/" + m.group(2);
                continue;
            }
            Matcher r = rs.matcher(line);
            if (r.find() && service != null) {
                out.put(service + " " + r.group(1), new long[]{Long.parseLong(r.group(2)), Long.parseLong(r.group(3)),
                    Long.parseLong(r.group(4)), Long.parseLong(r.group(5)), Long.parseLong(r.group(6))});
            }
        }
        return out;
    }
}
