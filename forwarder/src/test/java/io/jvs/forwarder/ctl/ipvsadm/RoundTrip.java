package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ServiceConfig;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The fuzz targets' print-and-re-parse property: {@code -S -n} of a configuration reads back as that configuration. */
public final class RoundTrip {
    private RoundTrip() {
    }

    /** {@code h}'s configuration, printed by {@code -S -n}, parsed as a file and restored by {@code -R}. */
    public static void check(JvsadmHarness h) {
        ServiceConfig config = h.control.config();
        String saved = h.out("-S -n");
        ServiceConfig parsed;
        try {
            parsed = ConfigFile.parse("-S", saved.lines().toList(), JvsadmHarness.SCHEDULERS);
        } catch (ConfigException e) {
            fail("-S -n does not parse back: " + e.getMessage() + "\n" + saved);
            return;
        }
        assertEquals(config, parsed, "-S -n parses back to the same configuration:\n" + saved);
        JvsadmHarness fresh = new JvsadmHarness();
        Jvsadm.Result r = fresh.jvsadm.run(List.of("-R"), saved);
        assertEquals(0, r.status(), () -> "-R of -S -n: " + r.err() + "\n" + saved);
        assertEquals(saved, fresh.out("-S -n"), "restored and saved again: the same text");
    }
}
