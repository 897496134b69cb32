package io.jvs.forwarder.sync;

/**
 * What the data path calls after accounting an inbound packet: the running master's
 * {@link SyncMaster}, or nothing when no master daemon runs. One volatile read per packet.
 */
public final class SyncHook {
    private volatile SyncMaster master;

    /** On the event loop: see {@link SyncMaster#inbound}. */
    public void inbound(int id, boolean created, boolean tmplCreated, long nowNanos) {
        SyncMaster m = master;
        if (m != null) {
            m.inbound(id, created, tmplCreated, nowNanos);
        }
    }

    /** On the event loop, after an inbound IPv6 packet: see {@link SyncMaster#inbound6}. */
    public void inbound6(int id, boolean created, boolean tmplCreated, long nowNanos) {
        SyncMaster m = master;
        if (m != null) {
            m.inbound6(id, created, tmplCreated, nowNanos);
        }
    }

    void master(SyncMaster m) {
        master = m;
    }
}
