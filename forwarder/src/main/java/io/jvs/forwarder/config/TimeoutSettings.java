package io.jvs.forwarder.config;

import io.jvs.forwarder.ctl.ipvsadm.ConfigFile;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Connection timeouts a config file asks for, as plain values: the wiring
 * code applies them to the connection table's timeouts. Nothing here knows
 * the defaults; a value that is not set keeps whatever default applies.
 *
 * <p>Semantics, as ipvsadm and the kernel have them:
 * <ul>
 *   <li>{@code tcp}, {@code tcpFin}, {@code udp}: ipvsadm {@code --set tcp tcpfin udp}
 *       in seconds; {@code tcp} is the ESTABLISHED timeout, {@code tcpFin} the
 *       FIN_WAIT one, {@code udp} every UDP connection's; 0 = not set (keep).</li>
 *   <li>{@code states}: jvs's {@code --state-timeout NAME SECONDS}, by canonical
 *       (upper-case) TCP state name, in {@link #TCP_STATES} order; values 1..{@value #MAX_SECONDS}.</li>
 * </ul>
 * The two describe the same table: {@link #tcpStateTimeouts()} merges them,
 * {@code states} winning. {@link ConfigFile} keeps file order meaningful by
 * dropping an ESTABLISHED/FIN_WAIT override that a later {@code --set} replaces.
 */
public record TimeoutSettings(int tcp, int tcpFin, int udp, Map<String, Integer> states) {

    /** The kernel's TCP states, in its index order (ip_vs_proto_tcp.c). */
    public static final List<String> TCP_STATES = List.of("NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
            "FIN_WAIT", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK");

    /** ipvsadm's MAX_TIMEOUT: 31 days, in seconds. */
    public static final int MAX_SECONDS = 86400 * 31;

    /** Nothing set: every default applies. */
    public static final TimeoutSettings DEFAULTS = new TimeoutSettings(0, 0, 0, Map.of());

    public TimeoutSettings {
        checkSet("tcp", tcp);
        checkSet("tcpfin", tcpFin);
        checkSet("udp", udp);
        Map<String, Integer> ordered = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : states.entrySet()) {
            String name = canonicalState(e.getKey());
            int seconds = e.getValue();
            if (seconds < 1 || seconds > MAX_SECONDS) {
                throw new IllegalArgumentException("timeout " + seconds + " for " + name
                        + " out of range 1.." + MAX_SECONDS);
            }
            if (ordered.put(name, seconds) != null) {
                throw new IllegalArgumentException("state " + name + " given twice");
            }
        }
        Map<String, Integer> sorted = new LinkedHashMap<>();
        for (String s : TCP_STATES) {
            if (ordered.containsKey(s)) {
                sorted.put(s, ordered.get(s));
            }
        }
        states = Collections.unmodifiableMap(sorted);
    }

    private static void checkSet(String what, int seconds) {
        if (seconds < 0 || seconds > MAX_SECONDS) {
            throw new IllegalArgumentException(what + " timeout " + seconds + " out of range 0.." + MAX_SECONDS);
        }
    }

    /**
     * The canonical name of a TCP state, matched case-insensitively.
     *
     * @throws IllegalArgumentException naming the bad name and the valid ones
     */
    public static String canonicalState(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        if (!TCP_STATES.contains(upper)) {
            throw new IllegalArgumentException("unknown TCP state \"" + name + "\" (expected one of "
                    + String.join(" ", TCP_STATES) + ")");
        }
        return upper;
    }

    /**
     * Every TCP state timeout this asks for, by state name in {@link #TCP_STATES}
     * order: ESTABLISHED from {@code tcp}, FIN_WAIT from {@code tcpFin} (when
     * set), then the per-state values on top.
     */
    public Map<String, Integer> tcpStateTimeouts() {
        Map<String, Integer> merged = new LinkedHashMap<>();
        for (String s : TCP_STATES) {
            Integer v = states.get(s);
            if (v == null && s.equals("ESTABLISHED") && tcp > 0) {
                v = tcp;
            }
            if (v == null && s.equals("FIN_WAIT") && tcpFin > 0) {
                v = tcpFin;
            }
            if (v != null) {
                merged.put(s, v);
            }
        }
        return Collections.unmodifiableMap(merged);
    }
}
