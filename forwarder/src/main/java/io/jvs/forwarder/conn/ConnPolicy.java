package io.jvs.forwarder.conn;

/**
 * The IPVS sysctls that decide what happens to connections and templates whose real server is
 * gone or quiesced, and which packets may open a connection
 * (Documentation/networking/ipvs-sysctl.rst), with the kernel's defaults.
 *
 * @param expireNodestConn        expire_nodest_conn: a packet of a connection whose real server
 *                                was removed expires the connection at once (else it is dropped
 *                                until the connection times out). A new SYN on such a
 *                                connection is rescheduled either way (jvs: see ConnectionHandler).
 * @param expireQuiescentTemplate expire_quiescent_template: a persistence template pointing at a
 *                                weight-0 server is dropped on its next use, so the client is
 *                                rescheduled (else persistence keeps feeding the drained server).
 * @param sloppyTcp               sloppy_tcp: any TCP segment without RST of an unknown connection
 *                                is scheduled and creates an entry (tcp_conn_schedule's
 *                                {@code th->rst || !(sysctl_sloppy_tcp(ipvs) || th->syn)}), not
 *                                only a SYN; the entry then takes the state the kernel's TCP table
 *                                gives that segment from NONE. jvs exempts services with a FULLNAT
 *                                real server (see ConnectionHandler).
 * @param defense                 drop_entry, drop_packet, secure_tcp, amemthresh, am_droprate
 *                                (the flood defence, {@link Defense})
 */
public record ConnPolicy(boolean expireNodestConn, boolean expireQuiescentTemplate, boolean sloppyTcp,
                         DefenseSettings defense) {
    public static final ConnPolicy DEFAULTS = new ConnPolicy(false, false, false);

    public ConnPolicy {
        java.util.Objects.requireNonNull(defense, "defense");
    }

    /** These sysctls with the defence off (the kernel's defaults). */
    public ConnPolicy(boolean expireNodestConn, boolean expireQuiescentTemplate, boolean sloppyTcp) {
        this(expireNodestConn, expireQuiescentTemplate, sloppyTcp, DefenseSettings.OFF);
    }
}
