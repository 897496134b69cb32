package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/jvsadm against a running bin/jvs-forwarder in the lab's director
 * namespace, over the control socket it finds with no flags
 * (/run/jvs/NETNS/control.sock): a director started empty takes a DR
 * service from jvsadm, real HTTP crosses the VIP, and -L -n, --stats, -c,
 * -Z, -e and -S show it; the running configuration saved on every change
 * brings a restarted director back as it was; SIGHUP re-reads --config
 * while a long transfer keeps flowing; a VIP removed and added again is
 * announced again, in packet and in TAP mode.
 */
@Timeout(300)
class JvsadmIT {
    static final String VIP_URL = "http://" + Lab.VIP + "/";
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String TITLE = "Prot LocalAddress:Port Scheduler Flags\n"
            + "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);
    ForwarderProcess director;

    @AfterEach
    void stopDirector() {
        ForwarderProcess.stopAndResetLab(director, LAB.lab());
        director = null;
    }

    Path stateDir() throws IOException {
        Path d = LAB.lab().repo().resolve("forwarder/target/it-state/" + Lab.PREFIX + "jvsadm");
        Files.createDirectories(d);
        return d;
    }

    ForwarderProcess start(String name, String... extra) {
        List<String> args = new ArrayList<>(List.of("--attach", "packet:eth0", "--metrics", METRICS));
        args.addAll(List.of(extra));
        return ForwarderProcess.start(LAB.lab(), name, METRICS, args);
    }

    Exec.Result jvsadm(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
        cmd.addAll(List.of(args));
        return LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new));
    }

    String ok(String... args) {
        Exec.Result r = jvsadm(args);
        assertEquals(0, r.exitCode(), () -> "jvsadm " + String.join(" ", args) + "\n" + r.describe()
                + "\n" + director.logTail(40));
        return r.stdout();
    }

    @Test
    void emptyDirectorTakesItsServicesFromJvsadmAndComesBackAfterARestart() throws IOException {
        Path saved = stateDir().resolve("running.conf");
        Files.deleteIfExists(saved);
        director = start("jvsadm", "--save-to", saved.toString());
        String banner = "IP Virtual Server version 1.2.1 (size=1048576)\n";
        assertEquals(banner + TITLE, ok("-L", "-n"), "an empty director, like a fresh ip_vs");

        ok("-A", "-t", Lab.VIP + ":80", "-s", "rr");
        ok("-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(1), "-g", "-w", "1");
        ok("-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(2), "-g", "-w", "1");
        Exec.Result dup = jvsadm("-A", "-t", Lab.VIP + ":80");
        assertEquals(255, dup.exitCode());
        assertEquals("Service already exists\n", dup.stderr());
        Exec.Result usage = jvsadm("-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(1), "-w", "x");
        assertEquals(2, usage.exitCode());
        assertEquals("illegal weight specified (`x'; expected 0..65535)\n", usage.stderr());

        int n = 20;
        List<Lab.Transfer> ts = LAB.lab().getRepeatedly(VIP_URL, n, Duration.ofSeconds(60), "-H", "Connection: close");
        assertEquals(n, ts.size());
        assertTrue(ts.stream().allMatch(t -> t.ok() && t.numConnects() == 1), ts.toString());
        assertEquals(n / 2, ts.stream().filter(t -> t.body().equals("rs1")).count(), "rr alternates: " + ts);

        // -L -n: the shape of ipvsadm's listing, and every connection counted as active or inactive
        String list = ok("-L", "-n");
        Pattern destLine = Pattern.compile("  -> (10\\.0\\.0\\.1[12]:80) +Route   1      (\\d+) +(\\d+) +\n");
        assertTrue(list.startsWith(banner + TITLE + "TCP  10.0.0.100:80 rr\n"), list);
        Matcher m = destLine.matcher(list);
        int conns = 0;
        int lines = 0;
        while (m.find()) {
            lines++;
            conns += Integer.parseInt(m.group(2)) + Integer.parseInt(m.group(3));
            assertEquals(String.format("  -> %-28s %-7s %-6d %-10s %-10s\n", m.group(1), "Route", 1, m.group(2),
                    m.group(3)), m.group(), "ipvsadm's column widths");
        }
        assertEquals(2, lines, list);
        assertEquals(n, conns, "entries still in the table (TIME_WAIT/CLOSE): " + list);

        // --stats: 20 connections, packets in from clients, none out (DR)
        String stats = ok("-L", "-n", "--stats");
        Matcher svc = Pattern.compile("TCP  10\\.0\\.0\\.100:80 +(\\d+) +(\\d+) +(\\d+) +(\\d+) +(\\d+)\n").matcher(stats);
        assertTrue(svc.find(), stats);
        assertEquals(n, Integer.parseInt(svc.group(1)), stats);
        assertTrue(Long.parseLong(svc.group(2)) >= 5L * n, "at least SYN, ACK, request, FIN, ACK each: " + stats);
        assertEquals("0", svc.group(3), "DR: replies bypass the director");
        assertEquals(String.format("%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n", "Prot LocalAddress:Port",
                "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"), stats.lines().skip(1).limit(2)
                .map(l -> l + "\n").reduce("", String::concat));
        Matcher rs = Pattern.compile("  -> 10\\.0\\.0\\.1[12]:80 +(\\d+) ").matcher(stats);
        while (rs.find()) {
            assertEquals(n / 2, Integer.parseInt(rs.group(1)), stats);
        }

        // -c: one row per connection, ipvsadm's columns and state names
        String c = ok("-L", "-n", "-c");
        List<String> rows = c.lines().toList();
        assertEquals("IPVS connection entries", rows.get(0));
        assertEquals("pro expire state       source             virtual            destination", rows.get(1));
        Pattern row = Pattern.compile("TCP \\d\\d:\\d\\d  (FIN_WAIT|TIME_WAIT|CLOSE|CLOSE_WAIT|ESTABLISHED|SYN_RECV) "
                + "+10\\.0\\.1\\.2:\\d+ +10\\.0\\.0\\.100:80 +10\\.0\\.0\\.1[12]:80");
        assertEquals(n, rows.size() - 2, c);
        for (String r : rows.subList(2, rows.size())) {
            assertTrue(row.matcher(r).matches(), "row: " + r);
        }
        assertEquals("Timeout (tcp tcpfin udp): 900 120 300\n", ok("-L", "--timeout"));

        // -Z zeroes what jvsadm shows, not the data path's counters (metrics keep counting)
        ok("-Z");
        assertTrue(ok("-L", "-n", "--stats").contains(String.format("%-33s%9d%9d%9d%9d%9d\n", "TCP  10.0.0.100:80",
                0, 0, 0, 0, 0)));
        assertEquals(n, (int) director.metric("jvs_service_connections_total", "service=\"TCP/10.0.0.100:80\""));

        // -e: weight 0 quiesces rs2 for new connections
        ok("-e", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(2), "-g", "-w", "0");
        List<Lab.Transfer> after = LAB.lab().getRepeatedly(VIP_URL, 6, Duration.ofSeconds(60), "-H", "Connection: close");
        assertTrue(after.stream().allMatch(t -> t.ok() && t.body().equals("rs1")), after.toString());

        // -E makes it persistent: -c lists the client's template (state NONE, port 0), --persistent-conn counts it
        ok("-E", "-t", Lab.VIP + ":80", "-s", "rr", "-p", "60");
        assertTrue(LAB.lab().getRepeatedly(VIP_URL, 2, Duration.ofSeconds(60), "-H", "Connection: close").stream()
                .allMatch(t -> t.ok() && t.body().equals("rs1")));
        String withTemplate = ok("-L", "-n", "-c");
        assertTrue(Pattern.compile("(?m)^TCP \\d\\d:\\d\\d  NONE        10\\.0\\.1\\.2:0         10\\.0\\.0\\.100:80      "
                + "10\\.0\\.0\\.11:80$").matcher(withTemplate).find(), withTemplate);
        String pc = ok("-L", "-n", "--persistent-conn");
        assertTrue(pc.contains(String.format("  -> %-28s %-9d %-11d ", "10.0.0.11:80", 1, 1)), pc);

        // the running configuration was saved on every change: a restart comes back as it was
        String save = ok("-S", "-n");
        assertEquals("-A -t 10.0.0.100:80 -s rr -p 60\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n"
                + "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 0\n", save);
        assertEquals("# jvs running configuration, written on every change (jvsadm -S -n form)\n" + save,
                Files.readString(saved));
        assertEquals(143, director.stop());
        LAB.lab().resetDirector();
        director = start("jvsadm-restart", "--save-to", saved.toString());
        assertEquals(save, ok("-S", "-n"));
        assertTrue(LAB.lab().getRepeatedly(VIP_URL, 4, Duration.ofSeconds(60), "-H", "Connection: close").stream()
                .allMatch(t -> t.ok() && t.body().equals("rs1")));
    }

    /**
     * A VIP whose service is removed and added again is announced again (a gratuitous ARP, as when
     * it was first published): while it was gone it may have moved to another director, whose MAC
     * the router would otherwise keep. The router's entry points at another MAC while the VIP is
     * gone; with no traffic, only the re-added service's announcement can put it back.
     */
    @Test
    void aVipRemovedAndAddedAgainIsAnnouncedAgain() throws Exception {
        director = start("jvsadm-reannounce");
        ok("-A", "-t", Lab.VIP + ":80", "-s", "rr");
        ok("-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(1) + ":80", "-g");
        ok("-D", "-t", Lab.VIP + ":80");
        pointRouterElsewhere();
        ok("-A", "-t", Lab.VIP + ":80", "-s", "rr");
        assertRouterLearnsTheDirectorsMac();
    }

    /**
     * The same in TAP mode ({@code --attach tap:jvs0 --lan eth0}), where the kernel routes the VIP
     * into the TAP: the route made when the VIP was first published stays while it is gone, so the
     * re-added service is announced again and forwards at once, with no second route (a second
     * {@code RTM_NEWROUTE} would fail with EEXIST and be reported on stderr).
     */
    @Test
    void aTapVipRemovedAndAddedAgainIsAnnouncedAndForwardsAgain() throws Exception {
        director = ForwarderProcess.start(LAB.lab(), "jvsadm-reannounce-tap", METRICS,
                List.of("--attach", "tap:jvs0", "--lan", "eth0", "--metrics", METRICS));
        ok("-A", "-t", Lab.VIP + ":80", "-s", "rr");
        ok("-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(1) + ":80", "-g");
        assertTrue(LAB.lab().getRepeatedly(VIP_URL, 2, Duration.ofSeconds(30), "-H", "Connection: close").stream()
                .allMatch(t -> t.ok() && t.body().equals("rs1")), "before the removal");
        ok("-D", "-t", Lab.VIP + ":80");
        pointRouterElsewhere();
        ok("-A", "-t", Lab.VIP + ":80", "-s", "rr");
        ok("-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(2) + ":80", "-g");
        assertRouterLearnsTheDirectorsMac();
        List<Lab.Transfer> after = LAB.lab().getRepeatedly(VIP_URL, 2, Duration.ofSeconds(30), "-H", "Connection: close");
        assertTrue(after.stream().allMatch(t -> t.ok() && t.body().equals("rs2")), "after the re-add: " + after);
        String log = Files.readString(director.log());
        assertFalse(log.contains("into jvs0 failed"), director.logTail(20));
    }

    /** While the VIP is gone the router's entry for it names a MAC no lab host has (as if it had moved). */
    private static void pointRouterElsewhere() throws InterruptedException {
        String elsewhere = "02:6a:76:00:00:99";
        LAB.lab().ip(Lab.ROUTER, "neigh", "replace", Lab.VIP, "lladdr", elsewhere, "dev", Lab.ROUTER_LAN_IFACE,
                "nud", "stale").requireOk();
        Thread.sleep(1500); // past the entry's locktime (1 s)
    }

    /** With no traffic, only the re-added service's gratuitous ARP can set the router's entry back within 5 s. */
    private static void assertRouterLearnsTheDirectorsMac() throws InterruptedException {
        String directorMac = LAB.lab().macOf(Lab.DIRECTOR, "eth0");
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String seen = LAB.lab().neighMac(Lab.ROUTER, Lab.VIP).orElse(null);
        while (!directorMac.equals(seen) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            seen = LAB.lab().neighMac(Lab.ROUTER, Lab.VIP).orElse(null);
        }
        assertEquals(directorMac, seen, "the router's MAC for the VIP after the service came back");
    }

    @Test
    void sighupReloadsTheConfigFileWhileATransferKeepsFlowing() throws Exception {
        Path conf = stateDir().resolve("jvs.conf");
        Files.writeString(conf, "-A -t 10.0.0.100:80 -s wrr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -g -w 1\n");
        // started as operators often do, under nohup: SIGHUP ignored at exec must still reload
        director = ForwarderProcess.start(LAB.lab(), Lab.DIRECTOR, "jvsadm-sighup", METRICS, List.of("nohup"),
                List.of("--attach", "packet:eth0", "--metrics", METRICS, "--config", conf.toString()));
        assertEquals("-A -t 10.0.0.100:80 -s wrr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n", ok("-S", "-n"));

        // 50 MiB at 5 MiB/s, ~10 s: the transfer spans the reloads (asserted before each one)
        CompletableFuture<Exec.Result> transfer = CompletableFuture.supplyAsync(() -> LAB.lab().sh(Duration.ofSeconds(90),
                Lab.CLIENT, "curl -sS --max-time 60 --limit-rate 5M " + VIP_URL + "blob | sha256sum | cut -d' ' -f1"));
        awaitConnection(transfer);

        // a bad file is refused whole: nothing changes
        Files.writeString(conf, "-A -t 10.0.0.100:80 -s wrr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -g -w 1\n"
                + "-a -t 10.0.0.100:80 -r 10.0.0.12 -g -w 99999\n");
        assertFalse(transfer.isDone(), "the transfer is still running at the first SIGHUP: " + doneOrNot(transfer));
        hup();
        waitForLog("reload of " + conf + " refused, configuration unchanged: " + conf
                + ":3: illegal weight specified (`99999'; expected 0..65535)");
        assertEquals("-A -t 10.0.0.100:80 -s wrr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n", ok("-S", "-n"));

        // add a server and change a weight
        Files.writeString(conf, "-A -t 10.0.0.100:80 -s wrr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -g -w 3\n"
                + "-a -t 10.0.0.100:80 -r 10.0.0.12 -g -w 2\n");
        assertFalse(transfer.isDone(), "the transfer is still running at the second SIGHUP: " + doneOrNot(transfer));
        hup();
        waitForLog("reloaded " + conf + ": 1 service(s)");
        assertEquals("-A -t 10.0.0.100:80 -s wrr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3\n"
                + "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 2\n", ok("-S", "-n"));
        assertFalse(transfer.isDone(), "the transfer outlived both reloads: " + doneOrNot(transfer));
        Exec.Result done = transfer.get();
        assertTrue(done.ok(), done.describe());
        assertEquals(LAB.lab().blobSha256(), done.stdout().strip(), "the transfer crossed both reloads intact");
        List<Lab.Transfer> ts = LAB.lab().getRepeatedly(VIP_URL, 10, Duration.ofSeconds(60), "-H", "Connection: close");
        assertTrue(ts.stream().allMatch(Lab.Transfer::ok), ts.toString());
        assertTrue(ts.stream().anyMatch(t -> t.body().equals("rs2")), "the new server takes connections: " + ts);
    }

    /**
     * Waits until the transfer's connection is in the director's table (the service counted it),
     * so the reloads that follow meet a flowing transfer, not one still starting.
     */
    private void awaitConnection(CompletableFuture<Exec.Result> transfer) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (director.metric("jvs_service_connections_total", "service=\"TCP/10.0.0.100:80\"") < 1) {
            assertFalse(transfer.isDone(), "the transfer ended before its connection was seen: " + doneOrNot(transfer));
            assertTrue(System.nanoTime() < deadline, "no connection to the VIP within 15 s");
            Thread.sleep(100);
        }
    }

    private static String doneOrNot(CompletableFuture<Exec.Result> transfer) {
        return transfer.isDone() ? transfer.join().describe() : "running";
    }

    private void hup() {
        Exec.run(Duration.ofSeconds(5), List.of("kill", "-HUP", Long.toString(director.pid()))).requireOk();
    }

    private void waitForLog(String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.readString(director.log()).contains(text)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not in the director's log within 15 s: " + text + "\n" + director.logTail(30));
    }
}
