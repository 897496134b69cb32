package io.jvs.forwarder.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** --lport-range: FULLNAT's local ports per local address. */
class ForwarderCommandLineXmitTest {
    @Test
    void defaultsToTheUnprivilegedPorts() throws UsageException {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0");
        assertEquals(1024, o.localPortLow());
        assertEquals(65535, o.localPortHigh());
    }

    @Test
    void takesARange() throws UsageException {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--lport-range", "40000-40003");
        assertEquals(40000, o.localPortLow());
        assertEquals(40003, o.localPortHigh());
        assertEquals(5, ForwarderCommandLine.parse("--attach", "packet:eth0", "--lport-range=5-5").localPortHigh());
    }

    @Test
    void badRangesAreOneLineErrors() {
        for (String bad : new String[]{"0-10", "10-65536", "20-10", "x-10", "100", "-5"}) {
            UsageException e = assertThrows(UsageException.class,
                    () -> ForwarderCommandLine.parse("--attach", "packet:eth0", "--lport-range=" + bad));
            assertEquals("--lport-range \"" + bad + "\": expected LOW-HIGH within 1-65535, e.g. 1024-65535",
                    e.getMessage());
        }
    }
}
