package io.jvs.forwarder.conn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TcpStateTest {
    @Test
    void indexOrderAndIpvsadmNames() {
        String[] expected = {"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
            "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK"};
        assertEquals(expected.length, TcpState.COUNT);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], TcpState.name(i));
        }
        assertEquals(0, TcpState.NONE);
        assertEquals(1, TcpState.ESTABLISHED);
        assertEquals(5, TcpState.TIME_WAIT);
        assertEquals(10, TcpState.SYNACK);
        assertEquals("ERR!", TcpState.name(11));
        assertEquals("ERR!", TcpState.name(-1));
    }

    @Test
    void byNameIsCaseInsensitive() {
        assertEquals(TcpState.TIME_WAIT, TcpState.byName("time_wait"));
        assertEquals(TcpState.TIME_WAIT, TcpState.byName("TIME_WAIT"));
        assertEquals(TcpState.SYNACK, TcpState.byName("SynAck"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TcpState.byName("timewait"));
        assertTrue(e.getMessage().contains("'timewait'") && e.getMessage().contains("TIME_WAIT"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TcpState.byName(null));
    }

    @Test
    void activeStatesAreTheMainlineOnes() {
        // tcp_state_active_table (Linux >= 4.8): ES, SS, SR, SA
        for (int s = 0; s < TcpState.COUNT; s++) {
            boolean expected = s == TcpState.ESTABLISHED || s == TcpState.SYN_SENT
                    || s == TcpState.SYN_RECV || s == TcpState.SYNACK;
            assertEquals(expected, TcpState.isActive(s), TcpState.name(s));
        }
        assertFalse(TcpState.isActive(99));
    }
}
