package io.jvs.forwarder.conn;

import java.util.Arrays;

/**
 * Connection timeouts in seconds: one per TCP state plus UDP. Immutable; the
 * {@code with*} methods return a changed copy. Defaults are the kernel's
 * ({@code tcp_timeouts[]} in ip_vs_proto_tcp.c, {@code udp_timeouts[]} in ip_vs_proto_udp.c).
 *
 * <p>ipvsadm {@code --set tcp tcpfin udp} maps to {@link #withTcp}, {@link #withTcpFin} and
 * {@link #withUdp}: ESTABLISHED, FIN_WAIT and UDP, where 0 keeps the current value
 * (ip_vs_set_timeout). The upper bound is the kernel's INT_MAX / HZ for HZ = 1000.
 */
public final class Timeouts {
    /** Largest accepted value: INT_MAX / HZ with HZ = 1000. */
    public static final int MAX_SECONDS = Integer.MAX_VALUE / 1000;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** NONE 2, ESTABLISHED 900, SYN_SENT 120, SYN_RECV 60, FIN_WAIT 120, TIME_WAIT 120,
     *  CLOSE 10, CLOSE_WAIT 60, LAST_ACK 30, LISTEN 120, SYNACK 120; UDP 300. */
    public static final Timeouts DEFAULTS =
            new Timeouts(new int[] {2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120}, 300);

    private final int[] tcp;
    private final int udp;
    private final long[] tcpNanos;
    private final long udpNanos;

    private Timeouts(int[] tcp, int udp) {
        this.tcp = tcp;
        this.udp = udp;
        this.tcpNanos = new long[tcp.length];
        for (int i = 0; i < tcp.length; i++) {
            tcpNanos[i] = tcp[i] * NANOS_PER_SECOND;
        }
        this.udpNanos = udp * NANOS_PER_SECOND;
    }

    /** Seconds for a TCP state. */
    public int seconds(int state) {
        return tcp[state];
    }

    /** Nanoseconds for a TCP state (precomputed). */
    public long nanos(int state) {
        return tcpNanos[state];
    }

    /** The ESTABLISHED timeout: ipvsadm's "tcp". */
    public int tcp() {
        return tcp[TcpState.ESTABLISHED];
    }

    /** The FIN_WAIT timeout: ipvsadm's "tcpfin". */
    public int tcpFin() {
        return tcp[TcpState.FIN_WAIT];
    }

    /** The UDP timeout. */
    public int udp() {
        return udp;
    }

    public long udpNanos() {
        return udpNanos;
    }

    /** --set tcp: ESTABLISHED; 0 keeps the current value. */
    public Timeouts withTcp(int seconds) {
        checkSet(seconds, "tcp");
        return seconds == 0 ? this : withTcpState(TcpState.ESTABLISHED, seconds);
    }

    /** --set tcpfin: FIN_WAIT; 0 keeps the current value. */
    public Timeouts withTcpFin(int seconds) {
        checkSet(seconds, "tcpfin");
        return seconds == 0 ? this : withTcpState(TcpState.FIN_WAIT, seconds);
    }

    /** --set udp; 0 keeps the current value. */
    public Timeouts withUdp(int seconds) {
        checkSet(seconds, "udp");
        return seconds == 0 ? this : new Timeouts(tcp.clone(), seconds);
    }

    /** Any single TCP state, 1..{@link #MAX_SECONDS} seconds. */
    public Timeouts withState(int state, int seconds) {
        if (state < 0 || state >= TcpState.COUNT) {
            throw new IllegalArgumentException("TCP state " + state + " out of range: expected 0.."
                    + (TcpState.COUNT - 1));
        }
        if (seconds < 1 || seconds > MAX_SECONDS) {
            throw new IllegalArgumentException("timeout for " + TcpState.name(state) + " " + seconds
                    + " out of range: expected 1.." + MAX_SECONDS + " seconds");
        }
        return withTcpState(state, seconds);
    }

    /** The state for a name, case-insensitive ("time_wait", "TIME_WAIT"). */
    public static int stateByName(String name) {
        return TcpState.byName(name);
    }

    private Timeouts withTcpState(int state, int seconds) {
        int[] copy = tcp.clone();
        copy[state] = seconds;
        return new Timeouts(copy, udp);
    }

    private static void checkSet(int seconds, String what) {
        if (seconds < 0 || seconds > MAX_SECONDS) {
            throw new IllegalArgumentException(what + " timeout " + seconds
                    + " out of range: expected 0 (keep the current value) or 1.." + MAX_SECONDS + " seconds");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Timeouts t && t.udp == udp && Arrays.equals(t.tcp, tcp);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tcp) * 31 + udp;
    }

    /** As ipvsadm --list --timeout prints it. */
    @Override
    public String toString() {
        return "Timeout (tcp tcpfin udp): " + tcp() + " " + tcpFin() + " " + udp;
    }
}
