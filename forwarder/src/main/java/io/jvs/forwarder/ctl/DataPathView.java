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
                      long expiresSeconds) {
    }

    /** Up to the requested number of entries, and how many there were in all. */
    record Connections(List<Connection> entries, int total) {
        public Connections {
            entries = List.copyOf(entries);
        }
    }
}
