package io.jvs.forwarder.ctl.ipvsadm;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * jvsadm's argv parser and the commands behind it, on command lines the fuzzer writes (one per
 * line, up to eight in a row against one control plane; a {@code -R} reads the lines after it). Properties: a
 * failure has a status, an ipvsadm-style message of at most two lines and no stack trace; a
 * success leaves a configuration that {@code -S -n} prints and that printed text parses back to the
 * very same configuration (and restores into an empty director to the same text).
 */
class IpvsadmFuzzTest {
    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void commands(byte[] input) {
        // One command line per text line (at most 8); a restore reads the lines after it as its stdin.
        List<String> lines = new String(input, StandardCharsets.UTF_8).lines().toList();
        JvsadmHarness h = new JvsadmHarness();
        for (int i = 0; i < lines.size() && i < 8; i++) {
            String line = lines.get(i);
            boolean restore = line.contains("-R") || line.contains("--restore");
            String stdin = restore ? String.join("\n", lines.subList(i + 1, lines.size())) + "\n" : "";
            List<String> argv = IpvsadmParser.words(line);
            ServiceConfig before = h.control.config();
            Jvsadm.Result r = h.jvsadm.run(argv, stdin);
            FuzzChecks.noStackTrace("stdout of " + argv, r.out(), line + stdin);
            if (r.status() != 0) {
                assertFalse(r.err().isEmpty(), "a failure says why: " + argv);
                FuzzChecks.shortError("jvsadm " + argv, r.err(), 2, line + stdin);
                if (!restore) {
                    assertEquals(before, h.control.config(), "a failed command changes nothing: " + argv);
                }
            }
            if (restore) {
                break;
            }
        }
        RoundTrip.check(h);
    }
}
