package io.jvs.forwarder.sync;

/**
 * Why the sync daemons did not send or install something, besides the codec's checks
 * ({@link io.jvs.packet.IpvsSync.Reject}); {@link #label} is the metric's reason.
 */
public enum SyncDrop {
    /** Master: the queue from the data path to the sender was full (the data path never waits). */
    QUEUE_FULL("queue_full"),
    /** Master: the kernel refused the datagram. */
    SEND_ERROR("send_error"),
    /** Backup: the sender is not in a subnet of the mcast interface (the protocol has no authentication). */
    FOREIGN_SOURCE("foreign_source"),
    /** Backup: the queue from the receiver to the data path was full. */
    BACKUP_QUEUE_FULL("backup_queue_full"),
    /** Backup: no virtual service here for the entry's (protocol, VIP, port) or fwmark. */
    NO_SERVICE("no_service"),
    /** Backup: the service has no such real server here (IPVS would keep an unbound entry; jvs cannot forward one). */
    NO_DEST("no_dest"),
    /** Backup: the connection or template table is full. */
    TABLE_FULL("table_full"),
    /** Backup: the FULLNAT local port is held by another entry here. */
    LOCAL_PORT_TAKEN("local_port_taken"),
    /** Backup: a FULLNAT real server's entry without jvs's FULLNAT option. */
    FULLNAT_OPTION_MISSING("fullnat_option_missing"),
    /** Backup: the update of a connection that was already replaced (ip_vs_proc_conn ignores it). */
    STALE("stale");

    private final String label;

    SyncDrop(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
