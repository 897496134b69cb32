package io.jvs.forwarder.io;

import java.lang.foreign.MemorySegment;

/**
 * Where forwarded frames are queued for transmit: each starts with its
 * 10-byte virtio_net_hdr. Memory handed to {@link #add} must stay untouched
 * until {@link #flush()}.
 */
public interface TxQueue extends AutoCloseable {
    /** Queues len bytes at seg[off] (virtio_net_hdr followed by the frame). */
    void add(MemorySegment seg, long off, int len);

    /** Sends everything queued. */
    void flush();

    @Override
    void close();
}
