package io.jvs.forwarder.ctl;

import io.jvs.forwarder.sync.SyncControl;

import java.util.List;

/**
 * What jvsadm reads from the running data path besides the published
 * snapshot: the connection table, copied out on the data path's own thread
 * (its structures are single-writer and must not be read from another).
 */
public interface DataPathView {
    /** The connection table's capacity (the {@code size=} of ipvsadm's banner). */
    int connectionCapacity();

    /**
     * Copies at most {@code max} live connection entries, on the data path's
     * thread, and counts all of them.
     *
     * @throws IllegalStateException when the data path does not answer in time
     */
    Connections connections(int max);

    /** The director's connection sync daemons (--start-daemon, --stop-daemon, -L --daemon). */
    SyncControl syncDaemons();

    /** One connection entry as {@code /proc/net/ip_vs_conn} shows it. */
    record Connection(int proto, int caddr, int cport, int vaddr, int vport, int daddr, int dport, String state,
                      long expiresSeconds, io.jvs.packet.Ipv6Address caddr6, io.jvs.packet.Ipv6Address vaddr6,
                      io.jvs.packet.Ipv6Address daddr6) {
        /** An IPv4 connection. */
        public Connection(int proto, int caddr, int cport, int vaddr, int vport, int daddr, int dport, String state,
                          long expiresSeconds) {
            this(proto, caddr, cport, vaddr, vport, daddr, dport, state, expiresSeconds, null, null, null);
        }

        /**
         * An IPv6 connection (client and virtual address IPv6); the real server's address is
         * {@code daddr6}, or the IPv4 {@code daddr} of a mixed-family tunnel server when that is null.
         */
        public static Connection ipv6(int proto, io.jvs.packet.Ipv6Address caddr, int cport,
                                      io.jvs.packet.Ipv6Address vaddr, int vport, io.jvs.packet.Ipv6Address daddr,
                                      int dport, String state, long expiresSeconds) {
            return new Connection(proto, 0, cport, 0, vport, 0, dport, state, expiresSeconds, caddr, vaddr, daddr);
        }
    }

    /** Up to the requested number of entries, and how many there were in all. */
    record Connections(List<Connection> entries, int total) {
        public Connections {
            entries = List.copyOf(entries);
        }
    }
}
