package io.jvs.forwarder.conn;

import io.jvs.packet.TcpHeader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.jvs.packet.TcpHeader.ACK;
import static io.jvs.packet.TcpHeader.FIN;
import static io.jvs.forwarder.conn.TcpStateMachine.INPUT;
import static io.jvs.forwarder.conn.TcpStateMachine.INPUT_ONLY;
import static io.jvs.forwarder.conn.TcpStateMachine.OUTPUT;
import static io.jvs.packet.TcpHeader.PSH;
import static io.jvs.packet.TcpHeader.RST;
import static io.jvs.packet.TcpHeader.SYN;
import static io.jvs.packet.TcpHeader.URG;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every cell of the three tables, encoded here independently of the implementation, one row
 * per flag and one column per current state, checked against ip_vs_proto_tcp.c tcp_states[]
 * of current mainline. The two cells marked (*) differ from pre-4.x kernels (and descriptions
 * written from them): ack in NONE is ES now (INPUT and INPUT-ONLY), it was CL.
 */
class TcpStateMachineTest {
    private static final String COLUMNS = "NO ES SS SR FW TW CL CW LA LI SA";

    private static final String[][] INPUT_TABLE = {
        {"syn", "SR ES ES SR SR SR SR SR SR SR SR"},
        {"fin", "CL CW SS TW TW TW CL CW LA LI TW"},
        {"ack", "ES ES SS ES FW TW CL CW CL LI ES"}, // (*) NO: ES
        {"rst", "CL CL CL SR CL CL CL CL LA LI SR"},
    };
    private static final String[][] OUTPUT_TABLE = {
        {"syn", "SS ES SS SR SS SS SS SS SS LI SR"},
        {"fin", "TW FW SS TW FW TW CL TW LA LI TW"},
        {"ack", "ES ES SS ES FW TW CL CW LA ES ES"},
        {"rst", "CL CL SS CL CL TW CL CL CL CL CL"},
    };
    private static final String[][] INPUT_ONLY_TABLE = {
        {"syn", "SR ES ES SR SR SR SR SR SR SR SR"},
        {"fin", "CL FW SS TW FW TW CL CW LA LI TW"},
        {"ack", "ES ES SS ES FW TW CL CW CL LI ES"}, // (*) NO: ES
        {"rst", "CL CL CL SR CL CL CL CL LA LI CL"},
    };

    private static int abbrev(String s) {
        int i = List.of(COLUMNS.split(" ")).indexOf(s);
        if (i < 0) {
            throw new IllegalArgumentException(s);
        }
        return i;
    }

    private static int flag(String row) {
        return switch (row) {
            case "syn" -> SYN;
            case "fin" -> FIN;
            case "ack" -> ACK;
            case "rst" -> RST;
            default -> throw new IllegalArgumentException(row);
        };
    }

    static Stream<Arguments> cells() {
        List<Arguments> out = new ArrayList<>();
        Object[][] tables = {{"INPUT", INPUT, INPUT_TABLE}, {"OUTPUT", OUTPUT, OUTPUT_TABLE},
            {"INPUT-ONLY", INPUT_ONLY, INPUT_ONLY_TABLE}};
        for (Object[] t : tables) {
            for (String[] row : (String[][]) t[2]) {
                String[] next = row[1].split(" ");
                for (int state = 0; state < TcpState.COUNT; state++) {
                    out.add(Arguments.of(t[0], t[1], row[0], TcpState.name(state), state, abbrev(next[state])));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {2} in {3}")
    @MethodSource("cells")
    void transition(String tableName, int table, String row, String stateName, int state, int expected) {
        assertEquals(TcpState.name(expected), TcpState.name(TcpStateMachine.next(table, flag(row), state)));
    }

    @Test
    void allCellsCovered() {
        assertEquals(3 * 4 * 11, cells().count());
    }

    @Test
    void noFlagMeansClose() {
        // tcp_state_idx() == -1: set_tcp_state keeps new_state = IP_VS_TCP_S_CLOSE
        for (int table : new int[] {INPUT, OUTPUT, INPUT_ONLY}) {
            for (int state = 0; state < TcpState.COUNT; state++) {
                assertEquals(TcpState.CLOSE, TcpStateMachine.next(table, 0, state));
                assertEquals(TcpState.CLOSE, TcpStateMachine.next(table, PSH, state));
                assertEquals(TcpState.CLOSE, TcpStateMachine.next(table, URG | PSH, state));
            }
        }
    }

    @Test
    void flagPriorityRstSynFinAck() {
        assertEquals(TcpStateMachine.ROW_RST, TcpStateMachine.row(RST | SYN | FIN | ACK));
        assertEquals(TcpStateMachine.ROW_RST, TcpStateMachine.row(RST | ACK));
        assertEquals(TcpStateMachine.ROW_SYN, TcpStateMachine.row(SYN | FIN | ACK));
        assertEquals(TcpStateMachine.ROW_SYN, TcpStateMachine.row(SYN | ACK));
        assertEquals(TcpStateMachine.ROW_FIN, TcpStateMachine.row(FIN | ACK | PSH));
        assertEquals(TcpStateMachine.ROW_ACK, TcpStateMachine.row(ACK | PSH | URG));
        assertEquals(-1, TcpStateMachine.row(PSH | URG));
        // as transitions: RST|ACK from ES on INPUT is the rst row (CL), not ack (ES)
        assertEquals(TcpState.CLOSE, TcpStateMachine.next(INPUT, RST | ACK, TcpState.ESTABLISHED));
        // SYN|ACK on OUTPUT from NONE is the syn row (SS), not ack (ES)
        assertEquals(TcpState.SYN_SENT, TcpStateMachine.next(OUTPUT, SYN | ACK, TcpState.NONE));
        // FIN|ACK on INPUT from ES is the fin row (CW), not ack (ES)
        assertEquals(TcpState.CLOSE_WAIT, TcpStateMachine.next(INPUT, FIN | ACK, TcpState.ESTABLISHED));
        // SYN|FIN on INPUT-ONLY from ES: syn row (ES), not fin (FW)
        assertEquals(TcpState.ESTABLISHED, TcpStateMachine.next(INPUT_ONLY, SYN | FIN, TcpState.ESTABLISHED));
    }
}
