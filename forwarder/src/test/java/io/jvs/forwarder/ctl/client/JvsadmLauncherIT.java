package io.jvs.forwarder.ctl.client;

import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import io.jvs.forwarder.ctl.server.ControlServer;
import io.jvs.forwarder.it.Exec;
import io.jvs.forwarder.it.Lab;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/jvsadm as it is run, against a director's control server in this JVM
 * (no lab needed): the AOT cache the build made is one the launcher can use,
 * and a missing, stale or broken cache changes nothing but the start time:
 * same stdout, stderr and exit status, and no word from the JVM about it.
 */
class JvsadmLauncherIT {
    static final Path REPO = Lab.repoRoot();
    static final Path BUILT_CACHE = REPO.resolve("forwarder/target/jvsadm.aot");
    static final Path JAR = REPO.resolve("forwarder/target/jvs-forwarder.jar");

    @TempDir
    Path dir;

    final JvsadmHarness h = new JvsadmHarness();
    ControlServer server;
    Path socket;

    @BeforeEach
    void director() throws IOException {
        server = new ControlServer(h.jvsadm);
        socket = dir.resolve("control.sock");
        server.listen(socket);
        h.ok("-A -t 10.0.0.100:80 -s rr");
        h.ok("-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 2");
    }

    @AfterEach
    void close() {
        server.close();
    }

    Exec.Result jvsadm(Path cache, String javaOpts, String... args) {
        List<String> cmd = new ArrayList<>(List.of("env", "JVSADM_AOT_CACHE=" + cache, "JVSADM_JAVA_OPTS=" + javaOpts,
                REPO.resolve("bin/jvsadm").toString(), "--control", socket.toString()));
        cmd.addAll(List.of(args));
        return Exec.run(Duration.ofSeconds(60), cmd);
    }

    @Test
    void theCacheTheBuildMadeIsOneThisLauncherCanUse() {
        assertTrue(Files.isRegularFile(BUILT_CACHE), "the package phase makes " + BUILT_CACHE);
        // AOTMode=on: the JVM refuses to start unless it can use the cache (same JDK, flags and jar)
        Exec.Result r = jvsadm(BUILT_CACHE, "-XX:AOTMode=on", "-L", "-n");
        assertEquals(0, r.exitCode(), r::describe);
        assertEquals(h.out("-L -n"), r.stdout());
        assertEquals("", r.stderr());
    }

    @Test
    void aMissingStaleOrBrokenCacheChangesNothingButTheStartTime() throws IOException {
        Path missing = dir.resolve("missing.aot");
        Path broken = dir.resolve("broken.aot");
        byte[] noise = new byte[1 << 16];
        new Random(42).nextBytes(noise);
        Files.write(broken, noise);
        Path stale = dir.resolve("stale.aot");
        Files.copy(BUILT_CACHE, stale);
        Files.setLastModifiedTime(stale, FileTime.fromMillis(Files.getLastModifiedTime(JAR).toMillis() - 60_000));
        String listing = h.out("-L -n");
        for (Path cache : List.of(BUILT_CACHE, missing, broken, stale)) {
            Exec.Result l = jvsadm(cache, "", "-L", "-n");
            assertEquals(0, l.exitCode(), () -> cache + "\n" + l.describe());
            assertEquals(listing, l.stdout(), cache::toString);
            assertEquals("", l.stderr(), cache::toString);
            Exec.Result bad = jvsadm(cache, "", "-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11", "-w", "x");
            assertEquals(2, bad.exitCode(), () -> cache + "\n" + bad.describe());
            assertEquals("", bad.stdout(), cache::toString);
            assertEquals("illegal weight specified (`x'; expected 0..65535)\n", bad.stderr(), cache::toString);
        }
    }
}
