package io.jvs.forwarder.conn;

import java.util.Locale;

/**
 * IPVS TCP connection states as int constants, in the kernel's index order
 * ({@code IP_VS_TCP_S_*} in include/uapi/linux/ip_vs.h), with the names ipvsadm -c prints.
 */
public final class TcpState {
    public static final int NONE = 0;
    public static final int ESTABLISHED = 1;
    public static final int SYN_SENT = 2;
    public static final int SYN_RECV = 3;
    public static final int FIN_WAIT = 4;
    public static final int TIME_WAIT = 5;
    public static final int CLOSE = 6;
    public static final int CLOSE_WAIT = 7;
    public static final int LAST_ACK = 8;
    public static final int LISTEN = 9;
    public static final int SYNACK = 10;
    /** Number of states (IP_VS_TCP_S_LAST). */
    public static final int COUNT = 11;

    private static final String[] NAMES = {
        "NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
        "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK",
    };

    /**
     * Which states count as active connections: the kernel's {@code tcp_state_active_table}
     * (Linux &gt;= 4.8, commit be2cef49904b "ipvs: count pre-established TCP states as active"):
     * ESTABLISHED, SYN_SENT, SYN_RECV and SYNACK. Older kernels counted ESTABLISHED only.
     */
    private static final boolean[] ACTIVE = {
        false, true, true, true, false, false, false, false, false, false, true,
    };

    private TcpState() {
    }

    /** ipvsadm's name ("TIME_WAIT"); "ERR!" out of range, as the kernel's tcp_state_name. */
    public static String name(int state) {
        return state >= 0 && state < COUNT ? NAMES[state] : "ERR!";
    }

    /** True when a connection in this state is counted in the real server's activeconns. */
    public static boolean isActive(int state) {
        return state >= 0 && state < COUNT && ACTIVE[state];
    }

    /**
     * The state for a name, case-insensitive ("time_wait", "TIME_WAIT").
     *
     * @throws IllegalArgumentException naming the input and the accepted names
     */
    public static int byName(String name) {
        if (name != null) {
            String upper = name.toUpperCase(Locale.ROOT);
            for (int i = 0; i < COUNT; i++) {
                if (NAMES[i].equals(upper)) {
                    return i;
                }
            }
        }
        throw new IllegalArgumentException("unknown TCP state '" + name + "': expected one of "
                + String.join(", ", NAMES) + " (any case)");
    }
}
