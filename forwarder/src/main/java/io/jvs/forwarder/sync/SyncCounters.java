package io.jvs.forwarder.sync;

import io.jvs.packet.IpvsSync;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;

/**
 * The sync daemons' counters (jvs_sync_*): messages and connections sent and received, entries
 * installed, and everything not sent or installed by reason. Written by the event loop, the
 * sender and the receiver threads (atomic adds, no allocation), read at scrape time.
 */
public final class SyncCounters {
    private static final IpvsSync.Reject[] REJECTS = IpvsSync.Reject.values();
    private static final SyncDrop[] DROPS = SyncDrop.values();

    private final AtomicLongArray rejects = new AtomicLongArray(REJECTS.length);
    private final AtomicLongArray drops = new AtomicLongArray(DROPS.length);
    /** sent messages, sent entries, received messages, received entries, installed, updated. */
    private final AtomicLongArray totals = new AtomicLongArray(6);
    private volatile IntSupplier masterQueueDepth = () -> 0;
    private volatile IntSupplier backupQueueDepth = () -> 0;

    public void rejected(IpvsSync.Reject r) {
        rejects.incrementAndGet(r.ordinal());
    }

    public void dropped(SyncDrop d) {
        drops.incrementAndGet(d.ordinal());
    }

    public void sent(int entries) {
        totals.incrementAndGet(0);
        totals.addAndGet(1, entries);
    }

    public void receivedMessage() {
        totals.incrementAndGet(2);
    }

    public void receivedEntry() {
        totals.incrementAndGet(3);
    }

    public void installed() {
        totals.incrementAndGet(4);
    }

    public void updated() {
        totals.incrementAndGet(5);
    }

    public long sentMessages() {
        return totals.get(0);
    }

    public long sentConnections() {
        return totals.get(1);
    }

    public long receivedMessages() {
        return totals.get(2);
    }

    public long receivedConnections() {
        return totals.get(3);
    }

    public long installedConnections() {
        return totals.get(4);
    }

    public long updatedConnections() {
        return totals.get(5);
    }

    public long rejects(IpvsSync.Reject r) {
        return rejects.get(r.ordinal());
    }

    public long drops(SyncDrop d) {
        return drops.get(d.ordinal());
    }

    void queues(IntSupplier master, IntSupplier backup) {
        if (master != null) {
            masterQueueDepth = master;
        }
        if (backup != null) {
            backupQueueDepth = backup;
        }
    }

    /** Entries waiting for the sender (master). */
    public int masterQueueDepth() {
        return masterQueueDepth.getAsInt();
    }

    /** Entries waiting for the data path to install them (backup). */
    public int backupQueueDepth() {
        return backupQueueDepth.getAsInt();
    }
}
