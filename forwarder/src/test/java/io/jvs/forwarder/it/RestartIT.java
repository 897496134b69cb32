package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A director killed with {@code kill -9} and started again from its {@code --save-to} file
 * about a second later, while four rate-limited 20 MiB DR downloads run through the VIP
 * (mh with mh-port, so the four flows spread over both real servers). The restarted director
 * has an empty connection table: every segment it sees is of a connection it never saw begin.
 *
 * <ul>
 *   <li>With {@code --sloppy-tcp 1} it schedules those segments (mh picks the server each flow
 *       was already on) and all four downloads finish byte for byte; the test reports the gap
 *       from the kill to the first client segment a real server receives afterwards.</li>
 *   <li>With sloppy TCP off (IPVS's default) it drops them ({@code no_connection}) and the
 *       downloads are lost: the same scenario fails, so the first test can.</li>
 * </ul>
 */
@Timeout(300)
class RestartIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String SERVICE = Lab.VIP + ":80";
    static final long DOWNLOAD_BYTES = 20L * 1024 * 1024;
    static final int DOWNLOADS = 4;
    /** Per download: 20 MiB at 2 MiB/s is ~10 s, so the kill at ~2.5 s meets all four running. */
    static final String RATE = "2M";
    static final int MAX_SECONDS = 45;

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);
    ForwarderProcess director;
    final List<Process> captures = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Process p : captures) {
            p.destroy();
        }
        if (director != null && director.isAlive()) {
            director.stop();
        }
        director = null;
        LAB.lab().resetDirector();
    }

    @Test
    void withSloppyTcpEveryDownloadSurvivesAKillAndRestart() throws Exception {
        Outcome o = killAndRestartDuringDownloads("sloppy", "1");
        assertEquals(DOWNLOADS, o.intact(), o.toString());
        // Each running flow was re-entered once, by a segment other than a SYN, and none was dropped.
        assertEquals(DOWNLOADS, director.metric("jvs_sloppy_accepted_total", "protocol=\"tcp\""), o.toString());
        assertEquals(0, director.metric("jvs_dropped_packets_total", "reason=\"no_connection\""), o.toString());
        assertTrue(o.gapMillis() > 0, o.toString());
    }

    @Test
    void withoutSloppyTcpTheRestartedDirectorDropsTheRunningDownloads() throws Exception {
        Outcome o = killAndRestartDuringDownloads("strict", "0");
        assertTrue(o.intact() < DOWNLOADS, "sloppy TCP off: downloads are lost: " + o);
        assertTrue(director.metric("jvs_dropped_packets_total", "reason=\"no_connection\"") > 0, o.toString());
        assertEquals(0, director.metric("jvs_sloppy_accepted_total", "protocol=\"tcp\""), o.toString());
    }

    /**
     * @param gapMillis     kill -9 to the first client segment a real server received afterwards
     * @param startedMillis kill -9 to the restarted director answering on its metrics port
     */
    record Outcome(int intact, List<String> results, long gapMillis, long startedMillis) {
    }

    private Outcome killAndRestartDuringDownloads(String name, String sloppy) throws Exception {
        Path saved = stateDir().resolve(name + ".conf");
        Files.deleteIfExists(saved);
        List<String> args = List.of("--attach", "packet:eth0", "--metrics", METRICS, "--save-to", saved.toString(),
                "--sloppy-tcp", sloppy);
        director = ForwarderProcess.start(LAB.lab(), "restart-" + name, METRICS, args);
        ok("-A", "-t", SERVICE, "-s", "mh", "-b", "mh-port");
        ok("-a", "-t", SERVICE, "-r", Lab.rsIp(1), "-g", "-w", "1");
        ok("-a", "-t", SERVICE, "-r", Lab.rsIp(2), "-g", "-w", "1");
        assertTrue(Files.readString(saved).contains("-A -t " + SERVICE + " -s mh -b mh-port"), Files.readString(saved));

        Path[] dumps = {capture(1, name), capture(2, name)};
        String want = Captures.sha256Prefix(LAB.lab().blobPath(), DOWNLOAD_BYTES);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Exec.Result>> downloads = new ArrayList<>();
            for (int i = 0; i < DOWNLOADS; i++) {
                downloads.add(pool.submit(() -> LAB.lab().sh(Duration.ofSeconds(MAX_SECONDS + 15), Lab.CLIENT,
                        "curl -sS --max-time " + MAX_SECONDS + " --limit-rate " + RATE + " -r 0-" + (DOWNLOAD_BYTES - 1)
                                + " http://" + SERVICE + "/blob | sha256sum | cut -d' ' -f1")));
            }
            awaitConnections(downloads);
            Lab.pause(1500);   // well into the transfers
            for (Future<Exec.Result> d : downloads) {
                assertFalse(d.isDone(), () -> "a download ended before the kill: " + describe(d));
            }
            long killedAt = System.currentTimeMillis();
            assertEquals(137, director.kill(), "kill -9");
            Lab.pause(1000);
            director = ForwarderProcess.start(LAB.lab(), "restart-" + name + "-again", METRICS, args);
            long startedMillis = System.currentTimeMillis() - killedAt;
            assertEquals(Files.readString(saved).lines().filter(l -> !l.startsWith("#")).map(l -> l + "\n")
                    .reduce("", String::concat), ok("-S", "-n"), "the restarted director runs the saved configuration");

            int intact = 0;
            List<String> results = new ArrayList<>();
            for (Future<Exec.Result> d : downloads) {
                Exec.Result r = d.get();
                boolean good = r.ok() && r.stdout().strip().equals(want);
                intact += good ? 1 : 0;
                results.add(good ? "intact" : r.ok() ? "sha256 " + r.stdout().strip() : r.stderr().strip());
            }
            Outcome o = new Outcome(intact, results, Captures.firstPacketAfter(killedAt, dumps), startedMillis);
            System.out.println("restart (" + name + ", --sloppy-tcp " + sloppy + "): " + o);
            LAB.lab().itFile("restart-" + name + ".txt", o + "\n");
            return o;
        }
    }

    private static String describe(Future<Exec.Result> done) {
        return done.state() == Future.State.SUCCESS ? done.resultNow().describe() : done.state().toString();
    }

    /** Waits until the director has scheduled all four downloads' connections. */
    private void awaitConnections(List<Future<Exec.Result>> downloads) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (director.metric("jvs_service_connections_total", "service=\"TCP/" + SERVICE + "\"") < DOWNLOADS) {
            for (Future<Exec.Result> d : downloads) {
                assertFalse(d.isDone(), () -> "a download ended before its connection was seen: " + describe(d));
            }
            assertTrue(System.nanoTime() < deadline, "four connections to the VIP within 15 s\n" + director.logTail(30));
            Thread.sleep(100);
        }
    }

    /**
     * tcpdump in real server {@code rs}'s namespace: every client segment to the VIP that
     * arrives there (DR: each one was forwarded by the director), with epoch timestamps.
     */
    private Path capture(int rs, String name) throws Exception {
        Path out = LAB.lab().repo().resolve("forwarder/target/it-logs/restart-" + name + "-rs" + rs + ".tcpdump");
        Process p = new ProcessBuilder(Lab.ip(), "netns", "exec", Lab.rsNamespace(rs), "tcpdump", "-i", "eth0",
                "-nn", "-tt", "-q", "-l", "-s", "96",
                "tcp and src host " + Lab.CLIENT_IP + " and dst host " + Lab.VIP + " and dst port 80")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(out.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        captures.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(out).contains("listening on")) {
            assertTrue(p.isAlive(), "tcpdump in rs" + rs + " exited: " + Files.readString(out));
            assertTrue(System.nanoTime() < deadline, "tcpdump in rs" + rs + " did not start: " + Files.readString(out));
            Thread.sleep(50);
        }
        return out;
    }

    private Path stateDir() throws IOException {
        Path d = LAB.lab().repo().resolve("forwarder/target/it-state/" + Lab.PREFIX + "restart");
        Files.createDirectories(d);
        return d;
    }

    private String ok(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
        cmd.addAll(List.of(args));
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new));
        assertEquals(0, r.exitCode(), () -> "jvsadm " + String.join(" ", args) + "\n" + r.describe()
                + "\n" + director.logTail(40));
        return r.stdout();
    }
}
