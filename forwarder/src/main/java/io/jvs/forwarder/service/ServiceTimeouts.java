package io.jvs.forwarder.service;

/**
 * A service's own connection timeouts (a jvs extension: IPVS has only the global
 * {@code --set tcp tcpfin udp}, and a per-service timeout is what its users keep asking for).
 * Same three values with the same meaning, in seconds; 0 = the global value.
 *
 * @param tcp    ESTABLISHED
 * @param tcpFin FIN_WAIT
 * @param udp    every UDP connection of the service
 */
public record ServiceTimeouts(int tcp, int tcpFin, int udp) {
    /** No overrides: the global timeouts apply. */
    public static final ServiceTimeouts GLOBAL = new ServiceTimeouts(0, 0, 0);
    /** Same bound as ipvsadm's --set (31 days). */
    public static final int MAX_SECONDS = 86400 * 31;

    public ServiceTimeouts {
        check("tcp", tcp);
        check("tcpfin", tcpFin);
        check("udp", udp);
    }

    private static void check(String what, int v) {
        if (v < 0 || v > MAX_SECONDS) {
            throw new IllegalArgumentException("service " + what + " timeout " + v + " out of range 0.." + MAX_SECONDS);
        }
    }

    public boolean isGlobal() {
        return tcp == 0 && tcpFin == 0 && udp == 0;
    }
}
