package io.jvs.forwarder.service;

import java.lang.invoke.VarHandle;

/**
 * Runtime counters of one real server (or one virtual service), one share per
 * worker ({@code --workers}). Invariant: only the event-loop thread of worker w
 * (the one that owns its connection table) writes share w; readers sum the shares
 * (other threads, metrics and control, with opaque
 * semantics and may see values a few packets old, never torn ones. It outlives
 * configuration snapshots: a new snapshot that keeps the same real server
 * reuses this object, so counters and active/inactive connection counts carry
 * over a weight change.
 */
public final class DestStats {
    /**
     * One worker's share: written by that worker's event loop only (plain fields, opaque
     * publication), summed by readers. Padded apart so two workers' writes do not share a line.
     */
    private static final class Slot {
        long p0, p1, p2, p3, p4, p5, p6;
        long conns;
        long inPkts;
        long outPkts;
        long inBytes;
        long outBytes;
        int activeConns;
        int inactConns;
        int persistConns;
        long q0, q1, q2, q3, q4, q5, q6;
    }

    private final Slot[] slots;
    // Written by any worker's bind/unbind (IPVS's thresholds over the summed counts); a boolean
    // store never tears, and the last writer saw the newest count.
    private boolean overloaded;
    // Written by the control plane on each publish, read by the data path for connections that
    // still point at an older snapshot's RealServer (whose weight field is stale).
    private volatile int liveWeight = -1;
    private volatile boolean removed;

    /** Counters for one worker. */
    public DestStats() {
        this(1);
    }

    /** Counters with one share per worker ({@code --workers}); worker w writes only share w. */
    public DestStats(int workers) {
        slots = new Slot[workers];
        for (int i = 0; i < workers; i++) {
            slots[i] = new Slot();
        }
    }

    /** How many workers' shares this has. */
    public int workers() {
        return slots.length;
    }

    public void connCreated() {
        connCreated(0);
    }

    public void connCreated(int worker) {
        slots[worker].conns++;
    }

    public void inPacket(int bytes) {
        inPacket(0, bytes);
    }

    public void inPacket(int worker, int bytes) {
        Slot s = slots[worker];
        s.inPkts++;
        s.inBytes += bytes;
    }

    public void outPacket(int bytes) {
        outPacket(0, bytes);
    }

    public void outPacket(int worker, int bytes) {
        Slot s = slots[worker];
        s.outPkts++;
        s.outBytes += bytes;
    }

    public void addActive(int delta) {
        addActive(0, delta);
    }

    public void addActive(int worker, int delta) {
        slots[worker].activeConns += delta;
    }

    public void addInactive(int delta) {
        addInactive(0, delta);
    }

    public void addInactive(int worker, int delta) {
        slots[worker].inactConns += delta;
    }

    /** Persistence templates pointing at this server (the kernel's persistconns). */
    public void addPersistent(int delta) {
        addPersistent(0, delta);
    }

    public void addPersistent(int worker, int delta) {
        slots[worker].persistConns += delta;
    }

    public int persistConnsVolatile() {
        VarHandle.acquireFence();
        int n = 0;
        for (Slot s : slots) {
            n += s.persistConns;
        }
        return n;
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

    /** ActiveConn over all workers (the schedulers' and thresholds' view; other workers' shares may lag). */
    public int activeConns() {
        int n = 0;
        for (Slot s : slots) {
            n += s.activeConns;
        }
        return n;
    }

    /** InActConn over all workers. */
    public int inactConns() {
        int n = 0;
        for (Slot s : slots) {
            n += s.inactConns;
        }
        return n;
    }

    // Readers on other threads: the values are monotonic or small ints; a
    // stale read is acceptable, a torn long is not (HotSpot x86_64 never tears
    // aligned longs, and these accessors keep the JIT from caching them).
    // Without an argument: the sum over the workers; with one, that worker's share.
    public long conns() {
        long n = 0;
        for (int w = 0; w < slots.length; w++) {
            n += conns(w);
        }
        return n;
    }

    public long conns(int worker) {
        VarHandle.acquireFence();
        return slots[worker].conns;
    }

    public long inPkts() {
        long n = 0;
        for (int w = 0; w < slots.length; w++) {
            n += inPkts(w);
        }
        return n;
    }

    public long inPkts(int worker) {
        VarHandle.acquireFence();
        return slots[worker].inPkts;
    }

    public long outPkts() {
        long n = 0;
        for (int w = 0; w < slots.length; w++) {
            n += outPkts(w);
        }
        return n;
    }

    public long outPkts(int worker) {
        VarHandle.acquireFence();
        return slots[worker].outPkts;
    }

    public long inBytes() {
        long n = 0;
        for (int w = 0; w < slots.length; w++) {
            n += inBytes(w);
        }
        return n;
    }

    public long inBytes(int worker) {
        VarHandle.acquireFence();
        return slots[worker].inBytes;
    }

    public long outBytes() {
        long n = 0;
        for (int w = 0; w < slots.length; w++) {
            n += outBytes(w);
        }
        return n;
    }

    public long outBytes(int worker) {
        VarHandle.acquireFence();
        return slots[worker].outBytes;
    }

    public int activeConnsVolatile() {
        VarHandle.acquireFence();
        return activeConns();
    }

    public int inactConnsVolatile() {
        VarHandle.acquireFence();
        return inactConns();
    }

    /** {@link #overloaded()} for readers on other threads (metrics, status page). */
    public boolean overloadedVolatile() {
        VarHandle.acquireFence();
        return overloaded;
    }
}
