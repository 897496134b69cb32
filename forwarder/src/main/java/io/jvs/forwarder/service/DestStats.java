package io.jvs.forwarder.service;

import java.lang.invoke.VarHandle;

/**
 * Runtime counters of one real server (or one virtual service), owned by the
 * data-path thread. Invariant: only the event-loop thread that owns the
 * connection table writes; other threads (metrics, control) read with opaque
 * semantics and may see values a few packets old, never torn ones. It outlives
 * configuration snapshots: a new snapshot that keeps the same real server
 * reuses this object, so counters and active/inactive connection counts carry
 * over a weight change.
 */
public final class DestStats {
    // Written by the data path only. Plain fields with opaque publication.
    private long conns;
    private long inPkts;
    private long outPkts;
    private long inBytes;
    private long outBytes;
    private int activeConns;
    private int inactConns;
    private int persistConns;
    private boolean overloaded;
    // Written by the control plane on each publish, read by the data path for connections that
    // still point at an older snapshot's RealServer (whose weight field is stale).
    private volatile int liveWeight = -1;
    private volatile boolean removed;

    public void connCreated() {
        conns++;
    }

    public void inPacket(int bytes) {
        inPkts++;
        inBytes += bytes;
    }

    public void outPacket(int bytes) {
        outPkts++;
        outBytes += bytes;
    }

    public void addActive(int delta) {
        activeConns += delta;
    }

    public void addInactive(int delta) {
        inactConns += delta;
    }

    /** Persistence templates pointing at this server (the kernel's persistconns). */
    public void addPersistent(int delta) {
        persistConns += delta;
    }

    public int persistConnsVolatile() {
        VarHandle.acquireFence();
        return persistConns;
    }

    /**
     * Control plane, after a snapshot is validated and before it is published: this server's
     * configured weight in it, or removed = no longer in its service (IP_VS_DEST_F_AVAILABLE
     * cleared). Data path reads: {@link #removed()}, {@link #quiesced()}.
     */
    public void setConfigured(int weight, boolean removed) {
        this.liveWeight = weight;
        this.removed = removed;
    }

    /** The server left its service (it no longer takes connections, old ones are "no dest"). */
    public boolean removed() {
        return removed;
    }

    /** The server's current configured weight is 0. */
    public boolean quiesced() {
        return liveWeight == 0;
    }

    /** IP_VS_DEST_F_OVERLOAD: set and cleared by the connection thresholds. */
    public boolean overloaded() {
        return overloaded;
    }

    public void setOverloaded(boolean overloaded) {
        this.overloaded = overloaded;
    }

    public int activeConns() {
        return activeConns;
    }

    public int inactConns() {
        return inactConns;
    }

    // Readers on other threads: the values are monotonic or small ints; a
    // stale read is acceptable, a torn long is not (HotSpot x86_64 never tears
    // aligned longs, and these accessors keep the JIT from caching them).
    public long conns() {
        VarHandle.acquireFence();
        return conns;
    }

    public long inPkts() {
        VarHandle.acquireFence();
        return inPkts;
    }

    public long outPkts() {
        VarHandle.acquireFence();
        return outPkts;
    }

    public long inBytes() {
        VarHandle.acquireFence();
        return inBytes;
    }

    public long outBytes() {
        VarHandle.acquireFence();
        return outBytes;
    }

    public int activeConnsVolatile() {
        VarHandle.acquireFence();
        return activeConns;
    }

    public int inactConnsVolatile() {
        VarHandle.acquireFence();
        return inactConns;
    }

    /** {@link #overloaded()} for readers on other threads (metrics, status page). */
    public boolean overloadedVolatile() {
        VarHandle.acquireFence();
        return overloaded;
    }
}
