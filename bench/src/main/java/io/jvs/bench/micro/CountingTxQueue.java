package io.jvs.bench.micro;

import io.jvs.forwarder.io.TxQueue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A {@link TxQueue} that sends nothing: it counts frames and reads one byte of each (so the write is not dead). */
final class CountingTxQueue implements TxQueue {
    long frames;
    long flushes;
    long sink;

    @Override
    public void add(MemorySegment seg, long off, int len) {
        frames++;
        sink += seg.get(ValueLayout.JAVA_BYTE, off + 10 + 5) + len; // last byte of the destination MAC
    }

    @Override
    public void flush() {
        flushes++;
    }

    @Override
    public void close() {
    }
}
