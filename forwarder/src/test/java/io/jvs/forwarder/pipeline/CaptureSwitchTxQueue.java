package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.io.TxQueue;
import io.jvs.forwarder.xmit.CapturingTxQueue;

import java.lang.foreign.MemorySegment;

/**
 * The IPv6 pipeline tests' transmit queue: captures into a {@link CapturingTxQueue} while
 * {@link #capture}, else only counts the frames (the allocation tests: capturing copies).
 */
final class CaptureSwitchTxQueue implements TxQueue {
    private final CapturingTxQueue tx;
    boolean capture = true;
    long counted;

    CaptureSwitchTxQueue(CapturingTxQueue tx) {
        this.tx = tx;
    }

    @Override
    public void add(MemorySegment s, long off, int len) {
        if (capture) {
            tx.add(s, off, len);
        } else {
            counted++;
        }
    }

    @Override
    public void flush() {
        if (capture) {
            tx.flush();
        }
    }

    @Override
    public void close() {
        tx.close();
    }
}
