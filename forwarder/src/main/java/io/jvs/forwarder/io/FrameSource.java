package io.jvs.forwarder.io;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;

/**
 * A receive fd that hands frames over in bursts. The frames of a burst stay
 * valid (their memory untouched by the kernel) until {@link #release()}, which
 * the channel calls after the burst's transmit flush, so transmit can send
 * straight from receive memory.
 */
public interface FrameSource extends AutoCloseable {
    /** The fd epoll watches. */
    int fd();

    /** Port name for logs and metrics ("eth0", "jvs0"). */
    String name();

    /**
     * Hands up to {@code budget} frames to the sink, pointing {@code ctx} at
     * each in turn. Returns how many were handed over; 0 when none is waiting.
     */
    int poll(PacketContext ctx, FrameSink sink, int budget);

    /** Returns the memory of every frame handed over since the last release. */
    void release();

    /** Kernel-side drops since the last call (ring full), or 0 where not known. */
    default long kernelDrops() {
        return 0;
    }

    @Override
    void close();

    /** Receives frames from {@link #poll}. */
    interface FrameSink {
        void frame(PacketContext ctx);

        /** A frame the source could not hand over (e.g. captured truncated). */
        void dropped(DropReason reason);
    }
}
