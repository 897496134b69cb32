package io.jvs.forwarder.ctl.ipvsadm;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jvsadm -R} on text the fuzzer writes, onto a director that already has a service: the
 * restore is whole or nothing (a failure names its line in one line and leaves the configuration
 * exactly as it was), and what it leaves prints and re-parses to itself.
 */
class RestoreFuzzTest {
    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void restore(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        JvsadmHarness h = new JvsadmHarness();
        h.ok("-A -t 10.0.0.100:80 -s wrr");
        h.ok("-a -t 10.0.0.100:80 -r 10.0.0.11 -g -w 2");
        ServiceConfig before = h.control.config();
        Jvsadm.Result r = h.jvsadm.run(List.of("-R"), text);
        FuzzChecks.noStackTrace("-R stdout", r.out(), text);
        if (r.status() != 0) {
            FuzzChecks.shortError("-R", r.err(), 2, text);
            assertTrue(!r.err().isEmpty(), "a failed restore says why");
            assertEquals(before, h.control.config(), "nothing restored: " + r.err());
        }
        RoundTrip.check(h);
    }
}
