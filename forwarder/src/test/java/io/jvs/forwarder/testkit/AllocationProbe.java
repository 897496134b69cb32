package io.jvs.forwarder.testkit;

import java.lang.management.ManagementFactory;

/**
 * Bytes allocated by the current thread (HotSpot's per-thread counter, what
 * {@code jvs_event_loop_allocated_bytes_total} reads on the event loop), for the "does not
 * allocate" tests. The counter is -1 when the JVM does not account allocations, and a window
 * over a counter that never moves reads 0 bytes whatever the code does; so {@link #start()}
 * first shows that the counter is live — it rises by at least a known allocation — and only
 * then returns the baseline. A test that cannot measure fails; it never passes or skips.
 */
public final class AllocationProbe {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int KNOWN = 64 * 1024;
    /** Where the known allocation goes, so the JIT cannot drop it. */
    public static volatile Object sink;

    private AllocationProbe() {
    }

    /**
     * Fails unless this thread's allocations are counted, then returns the counter: the
     * baseline for {@link #since(long)}.
     */
    public static long start() {
        if (!THREADS.isThreadAllocatedMemorySupported()) {
            throw new AssertionError("this JVM does not count allocations per thread: the test cannot measure");
        }
        if (!THREADS.isThreadAllocatedMemoryEnabled()) {
            THREADS.setThreadAllocatedMemoryEnabled(true);
        }
        long before = allocatedBytes();
        sink = new byte[KNOWN];
        long grew = allocatedBytes() - before;
        sink = null;
        if (before < 0 || grew < KNOWN) {
            throw new AssertionError("the allocation counter is not live: " + before + " before, +" + grew
                    + " bytes after allocating " + KNOWN);
        }
        return allocatedBytes();
    }

    /** Bytes this thread allocated since {@code baseline} (from {@link #start()}). */
    public static long since(long baseline) {
        return allocatedBytes() - baseline;
    }

    /** The raw counter; use {@link #start()} for a baseline. */
    public static long allocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }
}
