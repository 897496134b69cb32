package io.jvs.forwarder.conn;

/**
 * What either family's connection table ({@link ConnectionTable}, {@link ConnectionTable6}) tells
 * about an entry apart from its addresses, whose width differs: ports, state, timeouts, activity,
 * the template that placed it, and the SYN proxy and FULLNAT state ({@link SynProxyState}). The
 * connection sync's master reads both tables through it, so its rules exist once. Event-loop
 * thread only.
 */
public interface ConnectionEntries extends SynProxyState {
    /** The number of entry ids (0 .. capacity - 1). */
    int capacity();

    int proto(int id);

    int state(int id);

    /** The full timeout of {@code state} for this entry (its service's TCP/UDP timeouts first). */
    long stateTimeoutNanos(int id, int state);

    int cport(int id);

    int vport(int id);

    int dport(int id);

    /** FULLNAT: the local port towards the real server. */
    int lport(int id);

    boolean isActive(int id);

    /** A reply has been seen (false: IP_VS_CONN_F_NOOUTPUT). */
    boolean outputSeen(int id);

    long expiresAtNanos(int id);

    /** The id of the persistence template that placed it in {@link #templates()}, or -1. */
    int controller(int id);

    TemplateTable templates();
}
