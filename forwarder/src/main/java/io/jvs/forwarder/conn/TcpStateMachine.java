package io.jvs.forwarder.conn;

import io.jvs.packet.TcpHeader;

import static io.jvs.forwarder.conn.TcpState.CLOSE;

/**
 * The IPVS TCP state tables ({@code tcp_states[]} in net/netfilter/ipvs/ip_vs_proto_tcp.c,
 * current mainline; {@code tcp_states_dos[]} for secure_tcp) and the row choice of {@code tcp_state_idx()}.
 *
 * <p>Row by flag priority: RST, else SYN, else FIN, else ACK. A segment with none of these
 * four flags has no row: {@code set_tcp_state} then keeps its default {@code new_state =
 * IP_VS_TCP_S_CLOSE}, so the connection moves to CLOSE whatever its state (reproduced here).
 *
 * <p>Difference from pre-4.x kernels (and from descriptions of IPVS written from them):
 * an ACK in state NONE goes to ESTABLISHED (not CLOSE) in the INPUT and INPUT-ONLY tables
 * (verified in a 4.4-era tree, 4.19 and current mainline; a 2.6.39/3.0-era tree has CLOSE).
 * Every other cell matches the reference.
 *
 * <p>Stateless and allocation-free.
 */
public final class TcpStateMachine {
    /** Client to server, once the director has seen a reply (NAT/FULLNAT). */
    public static final int INPUT = 0;
    /** Server to client. */
    public static final int OUTPUT = 1;
    /** Client to server while no reply has been seen (always so for DR/TUN). */
    public static final int INPUT_ONLY = 2;

    /** Row indexes, in the kernel's order. */
    static final int ROW_SYN = 0;
    static final int ROW_FIN = 1;
    static final int ROW_ACK = 2;
    static final int ROW_RST = 3;

    private static final int NO = TcpState.NONE;
    private static final int ES = TcpState.ESTABLISHED;
    private static final int SS = TcpState.SYN_SENT;
    private static final int SR = TcpState.SYN_RECV;
    private static final int FW = TcpState.FIN_WAIT;
    private static final int TW = TcpState.TIME_WAIT;
    private static final int CL = TcpState.CLOSE;
    private static final int CW = TcpState.CLOSE_WAIT;
    private static final int LA = TcpState.LAST_ACK;
    private static final int LI = TcpState.LISTEN;
    private static final int SA = TcpState.SYNACK;

    // Same layout as the kernel source: [table][row][current state].
    private static final int[][][] TABLES = {
        { // INPUT
            //       NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
            /*syn*/ {SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR},
            /*fin*/ {CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW},
            /*ack*/ {ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES},
            /*rst*/ {CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR},
        },
        { // OUTPUT
            /*syn*/ {SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR},
            /*fin*/ {TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW},
            /*ack*/ {ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES},
            /*rst*/ {CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL},
        },
        { // INPUT-ONLY
            /*syn*/ {SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR},
            /*fin*/ {CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW},
            /*ack*/ {ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES},
            /*rst*/ {CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL},
        },
    };

    /**
     * {@code tcp_states_dos[]}: the tables secure_tcp switches to (tcp_timeout_change) while the
     * defence is on (levels 2 and 3). INPUT: an ACK in SYN_RECV stays SYN_RECV until the real
     * server's reply has been seen, so a spoofed three-way handshake cannot make a NAT entry
     * ESTABLISHED (and so long-lived); INPUT-ONLY (DR/TUN): a SYN from NONE goes to SYNACK.
     */
    private static final int[][][] DOS_TABLES = {
        { // INPUT
            //       NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
            /*syn*/ {SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA},
            /*fin*/ {CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA},
            /*ack*/ {ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA},
            /*rst*/ {CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL},
        },
        { // OUTPUT
            /*syn*/ {SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA},
            /*fin*/ {TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW},
            /*ack*/ {ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES},
            /*rst*/ {CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL},
        },
        { // INPUT-ONLY
            /*syn*/ {SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA},
            /*fin*/ {CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW},
            /*ack*/ {ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES},
            /*rst*/ {CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL},
        },
    };

    /** Flattened [table * 4 + row] * COUNT + state; the secure_tcp tables follow at DOS_OFFSET. */
    private static final int DOS_OFFSET = 3 * 4 * TcpState.COUNT;
    private static final byte[] NEXT = new byte[2 * DOS_OFFSET];

    static {
        for (int t = 0; t < 3; t++) {
            for (int r = 0; r < 4; r++) {
                for (int s = 0; s < TcpState.COUNT; s++) {
                    NEXT[(t * 4 + r) * TcpState.COUNT + s] = (byte) TABLES[t][r][s];
                    NEXT[DOS_OFFSET + (t * 4 + r) * TcpState.COUNT + s] = (byte) DOS_TABLES[t][r][s];
                }
            }
        }
    }

    private TcpStateMachine() {
    }

    /** The kernel's tcp_state_idx: the row for these flags, or -1 when none of RST/SYN/FIN/ACK is set. */
    public static int row(int tcpFlags) {
        if ((tcpFlags & TcpHeader.RST) != 0) {
            return ROW_RST;
        }
        if ((tcpFlags & TcpHeader.SYN) != 0) {
            return ROW_SYN;
        }
        if ((tcpFlags & TcpHeader.FIN) != 0) {
            return ROW_FIN;
        }
        if ((tcpFlags & TcpHeader.ACK) != 0) {
            return ROW_ACK;
        }
        return -1;
    }

    /**
     * The next state.
     *
     * @param table    {@link #INPUT}, {@link #OUTPUT} or {@link #INPUT_ONLY}
     * @param tcpFlags the TCP flags byte
     * @param state    the current {@link TcpState}
     */
    public static int next(int table, int tcpFlags, int state) {
        int row = row(tcpFlags);
        if (row < 0) {
            return CLOSE;
        }
        return NEXT[(table * 4 + row) * TcpState.COUNT + state];
    }

    /** The next state from {@code tcp_states_dos[]} when {@code secure} (secure_tcp on), else as {@link #next(int, int, int)}. */
    public static int next(int table, int tcpFlags, int state, boolean secure) {
        int row = row(tcpFlags);
        if (row < 0) {
            return CLOSE;
        }
        return NEXT[(secure ? DOS_OFFSET : 0) + (table * 4 + row) * TcpState.COUNT + state];
    }
}
