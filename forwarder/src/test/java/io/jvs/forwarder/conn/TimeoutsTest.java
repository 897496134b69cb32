package io.jvs.forwarder.conn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimeoutsTest {
    private final Timeouts d = Timeouts.DEFAULTS;

    @Test
    void kernelDefaults() {
        int[] expected = {2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120};
        for (int s = 0; s < TcpState.COUNT; s++) {
            assertEquals(expected[s], d.seconds(s), TcpState.name(s));
            assertEquals(expected[s] * 1_000_000_000L, d.nanos(s), TcpState.name(s));
        }
        assertEquals(300, d.udp());
        assertEquals(300_000_000_000L, d.udpNanos());
        assertEquals("Timeout (tcp tcpfin udp): 900 120 300", d.toString());
    }

    @Test
    void setTcpTcpfinUdp() {
        // ipvsadm --set 3600 60 30
        Timeouts t = d.withTcp(3600).withTcpFin(60).withUdp(30);
        assertEquals(3600, t.seconds(TcpState.ESTABLISHED));
        assertEquals(60, t.seconds(TcpState.FIN_WAIT));
        assertEquals(30, t.udp());
        assertEquals("Timeout (tcp tcpfin udp): 3600 60 30", t.toString());
        // nothing else moved
        for (int s = 0; s < TcpState.COUNT; s++) {
            if (s != TcpState.ESTABLISHED && s != TcpState.FIN_WAIT) {
                assertEquals(d.seconds(s), t.seconds(s));
            }
        }
        // immutable: the defaults are untouched
        assertEquals(900, d.tcp());
        assertEquals(120, d.tcpFin());
        assertEquals(300, d.udp());
    }

    @Test
    void zeroKeepsTheCurrentValue() {
        // ipvsadm --set 0 0 45 changes only udp
        Timeouts t = d.withTcp(1000).withTcp(0).withTcpFin(0).withUdp(45).withUdp(0);
        assertEquals(1000, t.tcp());
        assertEquals(120, t.tcpFin());
        assertEquals(45, t.udp());
        assertSame(d, d.withTcp(0).withTcpFin(0).withUdp(0));
    }

    @Test
    void outOfRangeSetValuesAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.withTcp(-1));
        assertTrue(e.getMessage().contains("tcp") && e.getMessage().contains("-1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> d.withTcpFin(-5));
        assertThrows(IllegalArgumentException.class, () -> d.withUdp(Timeouts.MAX_SECONDS + 1));
        assertEquals(Timeouts.MAX_SECONDS, d.withUdp(Timeouts.MAX_SECONDS).udp());
    }

    @Test
    void withStateSetsAnySingleState() {
        for (int s = 0; s < TcpState.COUNT; s++) {
            Timeouts t = d.withState(s, 7);
            for (int o = 0; o < TcpState.COUNT; o++) {
                assertEquals(o == s ? 7 : d.seconds(o), t.seconds(o));
            }
            assertEquals(7_000_000_000L, t.nanos(s));
        }
        Timeouts tw = d.withState(Timeouts.stateByName("time_wait"), 5);
        assertEquals(5, tw.seconds(TcpState.TIME_WAIT));
        assertThrows(IllegalArgumentException.class, () -> d.withState(11, 5));
        assertThrows(IllegalArgumentException.class, () -> d.withState(-1, 5));
        assertThrows(IllegalArgumentException.class, () -> d.withState(TcpState.CLOSE, 0));
    }

    @Test
    void stateByName() {
        assertEquals(TcpState.TIME_WAIT, Timeouts.stateByName("time_wait"));
        assertEquals(TcpState.TIME_WAIT, Timeouts.stateByName("TIME_WAIT"));
        assertEquals(TcpState.CLOSE_WAIT, Timeouts.stateByName("Close_Wait"));
        assertThrows(IllegalArgumentException.class, () -> Timeouts.stateByName("udp"));
    }

    @Test
    void valueEquality() {
        Timeouts a = d.withTcp(10);
        Timeouts b = d.withTcp(10);
        assertNotSame(a, b, "two instances, built alike");
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(d, d.withUdp(10));
    }
}
