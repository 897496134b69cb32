package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ServiceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The running configuration is saved on every change and loads back into the same configuration. */
class RunningConfigTest {
    @TempDir
    Path dir;

    @Test
    void savedOnEveryChangeAtomicallyAndLoadsBack() throws Exception {
        JvsadmHarness h = new JvsadmHarness();
        RunningConfig running = new RunningConfig(dir.resolve("state/running.conf"));
        h.control.onChange(c -> {
            try {
                running.save(h.control.table(), c.timeouts());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        h.ok("-A -t 10.0.0.100:80 -s rr");
        assertEquals("# jvs running configuration, written on every change (jvsadm -S -n form)\n"
                + "-A -t 10.0.0.100:80 -s rr\n", Files.readString(running.file()));
        h.ok("-a -t 10.0.0.100:80 -r 10.0.0.11 -w 3");
        h.ok("--add-mark -d 10.0.0.200 -p udp --set-mark 5");
        h.ok("-A -f 5 -s wrr");
        h.ok("--state-timeout close 3");
        h.fails("-A -f 5", 255, "Service already exists");
        String text = Files.readString(running.file());
        assertEquals("# jvs running configuration, written on every change (jvsadm -S -n form)\n"
                + h.out("-S -n"), text);
        assertFalse(Files.exists(dir.resolve("state/.running.conf.tmp")), "the temporary file was renamed");
        ServiceConfig loaded = ConfigFile.parse(running.file(), JvsadmHarness.SCHEDULERS);
        assertEquals(h.control.config(), loaded);
        assertTrue(text.contains("--state-timeout close 3\n"));
    }
}
