package io.jvs.forwarder.ctl.keepalived;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import io.jvs.forwarder.ctl.ipvsadm.RoundTrip;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The keepalived.conf reader on text the fuzzer writes (an included file beside it, so
 * {@code include} is exercised; include patterns are kept inside the fuzz directory). Properties:
 * it loads or throws a {@link ConfigException} whose message is one line naming file and line,
 * never anything else; a loaded configuration, applied to a director, prints ({@code -S -n}) and
 * re-parses to itself.
 */
class KeepalivedFuzzTest {
    private static final int ROUND_TRIP_MAX_SERVICES = 1_000;
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("jvs-keepalived-fuzz");
            DIR.toFile().deleteOnExit();
            Files.writeString(DIR.resolve("rs.inc"), "real_server 10.0.0.12 80 {\n weight 2\n TCP_CHECK {\n"
                    + " connect_timeout 2\n }\n}\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void read(byte[] input) throws IOException {
        String text = new String(input, StandardCharsets.UTF_8);
        // An include may name only files in the fuzz directory (no /dev/zero, no ../..).
        String confined = text.replace("/", "_").replace("..", "__").replace("include", "include ./");
        Path file = DIR.resolve("keepalived.conf");
        Files.writeString(file, confined);
        KeepalivedConf conf;
        try {
            conf = KeepalivedConf.load(file);
        } catch (ConfigException e) {
            assertNotNull(e.getMessage());
            FuzzChecks.shortError("keepalived.conf", e.getMessage(), 1, confined);
            return;
        }
        FuzzChecks.noStackTrace("ignored keywords", conf.ignoredReport(), confined);
        JvsadmHarness h = new JvsadmHarness();
        try {
            h.control.apply(old -> conf.config());
        } catch (IllegalArgumentException e) {
            FuzzChecks.shortError("applying keepalived.conf", e.getMessage(), 1, confined);
            return;
        }
        assertEquals(conf.config(), h.control.config());
        if (conf.config().services().size() > ROUND_TRIP_MAX_SERVICES) {
            // A group range expands to up to 65,535 services: instrumented, their round trip takes
            // seconds, and mutations of such an input kept the fuzzer at ~70 executions/s.
            // KeepalivedConfTest.aGroupRangeOf63731AddressesSavesAndRestores covers that size.
            return;
        }
        RoundTrip.check(h);
    }
}
