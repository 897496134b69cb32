package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * What every header view shares: the memory it is wrapped over and the
 * absolute offset of its first byte. A view is re-pointed per frame by its
 * own {@code wrap}, which returns the concrete view for chaining.
 */
abstract class Flyweight {
    MemorySegment seg;
    long off;

    final void bind(MemorySegment seg, long off) {
        this.seg = seg;
        this.off = off;
    }

    public final MemorySegment segment() {
        return seg;
    }

    public final long offset() {
        return off;
    }
}
