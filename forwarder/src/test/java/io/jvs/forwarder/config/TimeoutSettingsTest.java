package io.jvs.forwarder.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TimeoutSettingsTest {

    @Test
    void canonicalStateNames() {
        for (String s : TimeoutSettings.TCP_STATES) {
            assertEquals(s, TimeoutSettings.canonicalState(s.toLowerCase()));
        }
        assertEquals("SYNACK", TimeoutSettings.canonicalState("SynAck"));
        assertEquals(11, TimeoutSettings.TCP_STATES.size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TimeoutSettings.canonicalState("TIME-WAIT"));
        assertEquals("unknown TCP state \"TIME-WAIT\" (expected one of NONE ESTABLISHED SYN_SENT SYN_RECV "
                + "FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK)", e.getMessage());
    }

    @Test
    void statesAreCanonicalAndInKernelOrder() {
        TimeoutSettings t = new TimeoutSettings(0, 0, 0, Map.of("time_wait", 2, "none", 1, "Established", 600));
        assertEquals(List.of("NONE", "ESTABLISHED", "TIME_WAIT"), List.copyOf(t.states().keySet()));
        assertEquals(t, new TimeoutSettings(0, 0, 0, Map.of("TIME_WAIT", 2, "NONE", 1, "ESTABLISHED", 600)));
    }

    @Test
    void mergedTcpTable() {
        TimeoutSettings t = new TimeoutSettings(900, 120, 300, Map.of("FIN_WAIT", 60, "TIME_WAIT", 2));
        assertEquals(Map.of("ESTABLISHED", 900, "FIN_WAIT", 60, "TIME_WAIT", 2), t.tcpStateTimeouts());
        assertEquals(Map.of(), TimeoutSettings.DEFAULTS.tcpStateTimeouts());
        assertEquals(Map.of("ESTABLISHED", 5), new TimeoutSettings(5, 0, 9, Map.of()).tcpStateTimeouts());
    }

    @Test
    void rejectsBadValues() {
        assertThrows(IllegalArgumentException.class, () -> new TimeoutSettings(-1, 0, 0, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new TimeoutSettings(0, 0, 2678401, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new TimeoutSettings(0, 0, 0, Map.of("CLOSE", 0)));
        assertThrows(IllegalArgumentException.class, () -> new TimeoutSettings(0, 0, 0, Map.of("SHUT", 5)));
        assertThrows(IllegalArgumentException.class,
                () -> new TimeoutSettings(0, 0, 0, Map.of("close", 5, "CLOSE", 6)));
    }
}
