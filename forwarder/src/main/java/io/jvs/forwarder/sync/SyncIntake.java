package io.jvs.forwarder.sync;

import io.jvs.packet.IpvsSync;
import io.jvs.packet.SyncEntry;

import java.lang.foreign.MemorySegment;

/**
 * What the backup does with one received message from a source it accepts: checks and decodes it
 * whole ({@link IpvsSync#decode}), counts it, and queues each accepted entry for the
 * {@link SyncInstaller}. Every entry of a decoded message is counted as received and then either
 * queued, rejected by an entry-level reason, or dropped because the queue is full; a message that
 * fails a message-level check is counted under its reason and delivers nothing. Runs on the
 * receiver thread ({@link SyncReceiver}); allocation-free per message.
 */
final class SyncIntake {
    private final SyncQueue queue;
    private final SyncCounters counters;
    private final int syncId;
    private final SyncEntry scratch = new SyncEntry();
    private final IpvsSync.Visitor visitor;

    SyncIntake(SyncQueue queue, SyncCounters counters, int syncId) {
        this.queue = queue;
        this.counters = counters;
        this.syncId = syncId;
        this.visitor = new IpvsSync.Visitor() {
            @Override
            public void entry(SyncEntry x) {
                counters.receivedEntry();
                if (!queue.offer(x)) {
                    counters.dropped(SyncDrop.BACKUP_QUEUE_FULL);
                }
            }

            @Override
            public void rejected(SyncEntry x, IpvsSync.Reject why) {
                counters.receivedEntry();
                counters.rejected(why);
            }
        };
    }

    /** The message of {@code len} bytes at the start of {@code seg}; true when entries wait in the queue. */
    boolean take(MemorySegment seg, int len) {
        IpvsSync.Reject r = IpvsSync.decode(seg, 0, len, syncId, scratch, visitor);
        if (r != null) {
            counters.rejected(r);
        }
        return queue.size() > 0;
    }
}
