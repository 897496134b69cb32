package io.jvs.forwarder.ctl.mark;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import io.jvs.forwarder.ctl.ipvsadm.RoundTrip;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.util.ArrayList;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The iptables-style mark grammar ({@code --add-mark} words) on what the fuzzer writes: the parser
 * returns a rule or a {@link MarkRuleException} with a one-line message, nothing else; the same
 * words through jvsadm agree with it, and an added rule prints ({@code -S -n}) and re-parses to
 * the same configuration.
 */
class MarkRuleFuzzTest {
    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void addMark(byte[] input) {
        String line = new String(input, StandardCharsets.UTF_8);
        List<String> words = IpvsadmParser.words(line);
        FwmarkRule rule = null;
        String error = null;
        try {
            rule = MarkRuleParser.parse("add-mark", words);
            assertNotNull(rule);
        } catch (MarkRuleException e) {
            error = e.getMessage();
            assertNotNull(error);
            FuzzChecks.shortError("mark rule " + words, error, 1, line);
        }
        JvsadmHarness h = new JvsadmHarness();
        List<String> argv = new ArrayList<>();
        argv.add("--add-mark");
        argv.addAll(words);
        var r = h.jvsadm.run(argv, "");
        FuzzChecks.shortError("jvsadm --add-mark " + words, r.err(), 2, line);
        if (r.status() == 0) {
            assertEquals(1, h.control.config().fwmarkRules().size(), "one rule added");
            RoundTrip.check(h);
        }
    }
}
