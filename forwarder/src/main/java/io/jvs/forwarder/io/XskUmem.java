package io.jvs.forwarder.io;

import io.jvs.sys.AfXdp;
import io.jvs.sys.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The UMEM of one rx queue of an interface, with the queue's fill and completion rings,
 * shared by the AF_XDP sockets bound to that queue (one per worker; the first registers the
 * UMEM and owns the two rings, the others bind with XDP_SHARED_UMEM). The kernel keeps one
 * fill and one completion ring per (UMEM, device, queue): the workers of a queue share them,
 * and the chunk bookkeeping with them, under one spin lock, which each worker takes once per
 * burst ({@link XskSocket#release()}) and once per {@link #SPARE} copies, never per frame.
 *
 * <p>Every chunk is at any time in exactly one place: the free stack, the fill ring, held by
 * one worker's current burst ({@link #inBurst}), a worker's spare stack (for copies), or a TX
 * ring until the completion ring hands it back ({@link #inTx}). A chunk the kernel delivers to
 * worker A's socket is marked by A alone, A being its only holder; the completion of a chunk
 * A sent may be read by worker B (any socket of the queue may drain the shared completion
 * ring): B frees it only if A has released its burst, and A's release frees it only if it has
 * completed, both decided under the lock. A's marks precede (in A's program order) the TX
 * producer store whose release ordering the kernel observes before completing the chunk.
 */
final class XskUmem {
    static final int CHUNK = XskSocket.CHUNK;
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    /** Chunks kept out of the fill ring for copies (frames from elsewhere). */
    private static final int TX_RESERVE = 512;
    /** Chunks a worker takes at once for its copies. */
    static final int SPARE = 64;

    final int chunks;
    final MemorySegment umem;
    /** The socket that registered the UMEM and whose fd maps the fill and completion rings. */
    final int primaryFd;
    private final Arena arena;
    private final AfXdp.Ring fill;
    private final AfXdp.Ring comp;
    /** The lock: a spin lock (a contended ReentrantLock allocates a queue node; this path may not allocate). */
    private volatile int locked;
    private static final VarHandle LOCKED;

    static {
        try {
            LOCKED = java.lang.invoke.MethodHandles.lookup().findVarHandle(XskUmem.class, "locked", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private final int[] free;
    private int freeCount;
    final boolean[] inTx;
    final boolean[] inBurst;
    private int fillProd;
    private int compCons;
    private int users;
    private final Libc.Errno errno;

    XskUmem(int chunks, MemorySegment umem, Arena arena, int primaryFd, AfXdp.Ring fill, AfXdp.Ring comp) {
        this.chunks = chunks;
        this.umem = umem;
        this.arena = arena;
        this.primaryFd = primaryFd;
        this.fill = fill;
        this.comp = comp;
        this.free = new int[chunks];
        this.inTx = new boolean[chunks];
        this.inBurst = new boolean[chunks];
        this.errno = new Libc.Errno(arena);
        for (int i = chunks - 1; i >= 0; i--) {
            free[freeCount++] = i;
        }
        fillProd = (int) U32.getAcquire(fill.map(), fill.producer());
        compCons = (int) U32.getAcquire(comp.map(), comp.consumer());
        users = 1;
    }

    private void lock() {
        int spins = 0;
        while (!LOCKED.compareAndSet(this, 0, 1)) {
            if (++spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();   // the holder may have lost its core (more threads than cores)
            }
        }
    }

    private void unlock() {
        LOCKED.setRelease(this, 0);
    }

    /** One more socket uses this UMEM (a worker's, bound with XDP_SHARED_UMEM). */
    void addUser() {
        lock();
        try {
            users++;
        } finally {
            unlock();
        }
    }

    /**
     * Under the lock: the burst's chunks that were not queued for transmit go back to the free
     * stack, completed chunks too, and the fill ring is topped up (kicking the kernel if it asks).
     */
    void release(int[] held, int heldCount) {
        lock();
        try {
            for (int i = 0; i < heldCount; i++) {
                int c = held[i];
                inBurst[c] = false;
                if (!inTx[c]) {
                    free[freeCount++] = c;
                }
            }
            reclaim();
            refill();
        } finally {
            unlock();
        }
    }

    /** Under the lock: up to {@code want} free chunks (completions reclaimed first) into spare; how many. */
    int take(int[] spare, int at, int want) {
        lock();
        try {
            reclaim();
            int n = Math.min(want, freeCount);
            for (int i = 0; i < n; i++) {
                spare[at + i] = free[--freeCount];
            }
            return n;
        } finally {
            unlock();
        }
    }

    /** Chunks back from a closing worker's spare stack. */
    void giveBack(int[] spare, int count) {
        lock();
        try {
            for (int i = 0; i < count; i++) {
                free[freeCount++] = spare[i];
            }
        } finally {
            unlock();
        }
    }

    /** Fills the fill ring at start (under the lock, as always). */
    void initialFill() {
        lock();
        try {
            refill();
        } finally {
            unlock();
        }
    }

    private void refill() {
        MemorySegment map = fill.map();
        int room = fill.size() - (fillProd - (int) U32.getAcquire(map, fill.consumer()));
        int n = Math.min(room, freeCount - TX_RESERVE);
        if (n > 0) {
            int mask = fill.size() - 1;
            for (int i = 0; i < n; i++) {
                int c = free[--freeCount];
                map.set(ValueLayout.JAVA_LONG, fill.desc() + (long) ((fillProd + i) & mask) * 8, (long) c * CHUNK);
            }
            fillProd += n;
            U32.setRelease(map, fill.producer(), fillProd);
        }
        if (((int) U32.getAcquire(map, fill.flags()) & AfXdp.XDP_RING_NEED_WAKEUP) != 0) {
            Libc.recvfrom(errno, primaryFd, MemorySegment.NULL, 0, Libc.MSG_DONTWAIT, MemorySegment.NULL,
                    MemorySegment.NULL);
        }
    }

    /** Chunks the kernel has sent go back to the free stack, unless a burst still holds them. */
    private void reclaim() {
        MemorySegment map = comp.map();
        int done = (int) U32.getAcquire(map, comp.producer()) - compCons;
        if (done == 0) {
            return;
        }
        int mask = comp.size() - 1;
        for (int i = 0; i < done; i++) {
            long addr = map.get(ValueLayout.JAVA_LONG, comp.desc() + (long) ((compCons + i) & mask) * 8);
            int c = (int) (addr / CHUNK);
            inTx[c] = false;
            if (!inBurst[c]) {   // else its holder's release frees it: copy mode completes inside sendto, mid-burst
                free[freeCount++] = c;
            }
        }
        compCons += done;
        U32.setRelease(map, comp.consumer(), compCons);
    }

    /**
     * A socket of this UMEM closes; the last one unmaps the fill and completion rings, closes
     * the primary fd and frees the UMEM. True when it was the last.
     */
    boolean closeUser() {
        lock();
        try {
            if (--users > 0) {
                return false;
            }
        } finally {
            unlock();
        }
        Libc.munmap(fill.map());
        Libc.munmap(comp.map());
        Libc.close(primaryFd);
        arena.close();
        return true;
    }
}
