package io.jvs.forwarder.xmit;

import io.jvs.forwarder.io.TxQueue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TxQueue} for tests: copies each queued frame (virtio_net_hdr + frame)
 * when it is added, so later reuse of the memory cannot change what was "sent".
 * {@link #queued} holds frames added since the last flush, {@link #sent} all
 * frames handed to a flush, in order.
 */
public final class CapturingTxQueue implements TxQueue {
    public final List<byte[]> queued = new ArrayList<>();
    public final List<byte[]> sent = new ArrayList<>();
    public int flushes;
    public boolean closed;

    @Override
    public void add(MemorySegment seg, long off, int len) {
        queued.add(seg.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE));
    }

    @Override
    public void flush() {
        sent.addAll(queued);
        queued.clear();
        flushes++;
    }

    /** Every frame added so far (sent, then still queued), without the virtio_net_hdr. */
    public List<byte[]> frames() {
        List<byte[]> all = new ArrayList<>(sent.size() + queued.size());
        for (byte[] b : sent) {
            all.add(java.util.Arrays.copyOfRange(b, 10, b.length));
        }
        for (byte[] b : queued) {
            all.add(java.util.Arrays.copyOfRange(b, 10, b.length));
        }
        return all;
    }

    public int total() {
        return sent.size() + queued.size();
    }

    public void clear() {
        sent.clear();
        queued.clear();
    }

    @Override
    public void close() {
        closed = true;
    }
}
