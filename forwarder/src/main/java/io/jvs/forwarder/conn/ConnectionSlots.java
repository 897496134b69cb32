package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

/**
 * What the IPv4 and the IPv6 connection tables share, whatever the width of their keys: the
 * entry ids (a free stack, the high-water mark the sweep stops at), the family-independent
 * columns (expiry, TCP state, flags, service, real server, controlling template, the per-client
 * limit flag), the two open-addressing indexes (IN for client packets, OUT for replies; slots of
 * {@code hash << 32 | id + 1}, linear probing, deletion by backward shift), the claim log the
 * flood defence reclaims embryonic entries from, the expiry sweep, and ip_vs_unbind_dest's
 * accounting. A subclass holds its address columns, hashes its keys and probes the indexes itself
 * (the lookups are the hot path and compare its own columns).
 *
 * <p>Invariants: single-threaded (the owning event loop), allocation-free after construction.
 */
public abstract sealed class ConnectionSlots permits ConnectionTable, ConnectionTable6 {
    /** The id holds a connection. */
    static final int F_USED = 1;
    /** Counted among the real server's inactive connections (else active). */
    static final int F_INACTIVE = 2;

    final int capacity;
    final long[] expires;
    final byte[] states;
    final byte[] flags;
    final VirtualService[] services;
    final RealServer[] dests;
    /** The persistence template that placed the entry, or -1 (the kernel's cp->control). */
    final int[] controllers;
    /** Counted in {@link #clientLimits} for its service and client: released on removal. */
    final boolean[] limited;
    ClientLimits clientLimits;
    /** The worker that owns the table (its share of the DestStats counters). */
    final int worker;

    final long[] inIndex;
    final long[] outIndex;
    final int indexMask;

    /** Free ids: free[0 .. freeTop) with the next id to use at freeTop - 1. */
    private final int[] free;
    private int freeTop;
    /** Ids at or above this were never used: the sweeps stop there. */
    int highWater;
    int size;
    private int sweepCursor;

    // ---- embryonic reclaim: ids in the order they were claimed, each with its claim serial ----
    /** Claim serial of each id: a ring record of a recycled id is recognised as stale, and of two entries the newer is known. */
    final int[] serials;
    /** Ring of (serial << 32 | id) records, oldest at embHead; a power of two >= capacity. */
    private final long[] embryos;
    private long embHead;
    private long embTail;
    private int nextSerial;
    /** SplitMix64 state of {@link #randomDropEntry}'s picks. */
    private long dropSeed;

    ConnectionSlots(int capacity, int worker, long seed, String what) {
        if (capacity < 1 || capacity > ConnectionTable.MAX_CAPACITY) {
            throw new IllegalArgumentException(what + " capacity " + capacity + " out of range: expected 1.."
                    + ConnectionTable.MAX_CAPACITY);
        }
        this.capacity = capacity;
        this.worker = worker;
        expires = new long[capacity];
        states = new byte[capacity];
        flags = new byte[capacity];
        services = new VirtualService[capacity];
        dests = new RealServer[capacity];
        controllers = new int[capacity];
        java.util.Arrays.fill(controllers, -1); // every entry, however inserted, starts with none
        limited = new boolean[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            free[i] = capacity - 1 - i;
        }
        freeTop = capacity;
        serials = new int[capacity];
        embryos = new long[Integer.highestOneBit(Math.max(2, capacity * 2 - 1))]; // >= capacity, power of two
        dropSeed = seed ^ 0x2545F4914F6CDD1DL;
        int slots = Integer.highestOneBit(Math.max(2, capacity * 2 - 1)) << 1; // >= 2 * capacity, power of two
        inIndex = new long[slots];
        outIndex = new long[slots];
        indexMask = slots - 1;
    }

    public final int capacity() {
        return capacity;
    }

    public final int size() {
        return size;
    }

    /** Where entries marked {@link #markLimited} give their client's count back when they go. */
    public final void setClientLimits(ClientLimits limits) {
        this.clientLimits = limits;
    }

    /** The entry was counted in {@link ClientLimits} for its service and client: release it on removal. */
    public final void markLimited(int id) {
        limited[id] = true;
    }

    public final boolean isLive(int id) {
        return id >= 0 && id < capacity && (flags[id] & F_USED) != 0;
    }

    /** The entry's protocol ({@link Protocol#TCP}, {@link Protocol#UDP}). */
    public abstract int proto(int id);

    /** Unhashes a live entry, releases what it holds and frees its id ({@link #releaseId} last). */
    abstract void removeEntry(int id);

    /** Bytes of the index and claim-ring arrays (the per-entry columns are the subclass's sum). */
    final long indexBytes() {
        return 8L * (inIndex.length + outIndex.length + embryos.length);
    }

    // ------------------------------------------------------------------ ids and claims

    /** A free id for a new entry, counted in size; the caller has checked size < capacity. */
    final int takeId() {
        final int id = free[--freeTop];
        if (id >= highWater) {
            highWater = id + 1;
        }
        size++;
        return id;
    }

    /** Records a new claim of id: its serial, and a record for the embryonic reclaim. */
    final void recordClaim(int id) {
        final int serial = ++nextSerial;
        serials[id] = serial;
        if (embTail - embHead == embryos.length) {
            embHead++; // the oldest record goes; its entry is older than the last `capacity` claims
        }
        embryos[(int) (embTail++ & (embryos.length - 1))] = ((long) serial << 32) | id;
    }

    /** Of a candidate (or -1) and an entry, the one claimed last (serials wrap: compared by difference). */
    final int newer(int candidate, int id) {
        return candidate < 0 || serials[id] - serials[candidate] > 0 ? id : candidate;
    }

    /** Clears the family-independent columns of a removed entry and frees its id. */
    final void releaseId(int id) {
        flags[id] = 0;
        services[id] = null; // do not keep old snapshots reachable
        dests[id] = null;
        free[freeTop++] = id;
        size--;
    }

    /**
     * ip_vs_unbind_dest's accounting: the entry leaves its real server's active or inactive count,
     * and an overloaded server below its lower threshold (or 3/4 of its upper one, or with no
     * thresholds) takes connections again.
     */
    final void unbindDest(int id) {
        final RealServer dest = dests[id];
        final DestStats ds = dest.stats;
        if ((flags[id] & F_INACTIVE) != 0) {
            ds.addInactive(worker, -1);
        } else {
            ds.addActive(worker, -1);
        }
        final int total = ds.activeConns() + ds.inactConns();
        if (dest.lowerThreshold != 0) {
            if (total < dest.lowerThreshold) {
                ds.setOverloaded(false);
            }
        } else if (dest.upperThreshold != 0) {
            if ((long) total * 4 < (long) dest.upperThreshold * 3) {
                ds.setOverloaded(false);
            }
        } else if (ds.overloaded()) {
            ds.setOverloaded(false);
        }
    }

    /**
     * The active/inactive move of a TCP state change to {@code next} (ip_vs_set_state's
     * accounting): returns the flags with F_INACTIVE as the new state needs.
     */
    final int transition(DestStats ds, int f, int next) {
        final boolean inactive = (f & F_INACTIVE) != 0;
        final boolean active = TcpState.isActive(next);
        if (!inactive && !active) {
            ds.addActive(worker, -1);
            ds.addInactive(worker, 1);
            return f | F_INACTIVE;
        }
        if (inactive && active) {
            ds.addActive(worker, 1);
            ds.addInactive(worker, -1);
            return f & ~F_INACTIVE;
        }
        return f;
    }

    // ------------------------------------------------------------------ indexes

    final void indexAdd(long[] t, int h, int id) {
        final int m = indexMask;
        int i = h & m;
        while (t[i] != 0) {
            i = (i + 1) & m;
        }
        t[i] = ((long) h << 32) | (id + 1);
    }

    /** Finds id's slot from its home and deletes it by backward shift. */
    final void indexRemove(long[] t, int h, int id) {
        final int m = indexMask;
        final int tag = id + 1;
        int i = h & m;
        long s;
        while ((int) (s = t[i]) != tag) {
            if (s == 0) {
                throw new IllegalStateException("connection table index lost entry " + id);
            }
            i = (i + 1) & m;
        }
        int j = i;
        for (;;) {
            j = (j + 1) & m;
            s = t[j];
            if (s == 0) {
                break;
            }
            final int home = (int) (s >>> 32) & m;
            // s may fill the hole at i unless its home lies cyclically in (i, j]
            if (((j - home) & m) >= ((j - i) & m)) {
                t[i] = s;
                i = j;
            }
        }
        t[i] = 0;
    }

    // ------------------------------------------------------------------ removal, expiry, flood defence

    /** Removes a live entry (ip_vs_conn_expire's unhash + ip_vs_unbind_dest). */
    public final void remove(int id) {
        if (!isLive(id)) {
            throw new IllegalArgumentException("no live connection entry with id " + id);
        }
        removeEntry(id);
    }

    /**
     * Incremental sweep: examines up to maxScan entry ids, continuing where the previous call
     * stopped and wrapping at the highest id ever used, and removes those whose expiry time has
     * passed. Returns the number removed. A full pass takes ceil(ids in use / maxScan) calls;
     * entries that expire in between are still never returned by a lookup. Scanning is
     * sequential and cheap for entries that are not due (a flag and a long per id), so
     * maxScan = capacity * (interval between calls) / 1 s gives a pass per second; removal costs
     * about 250 ns per entry (two index deletions and the counters).
     */
    public final int expire(long nowNanos, int maxScan) {
        final int hw = highWater;
        if (size == 0 || hw == 0 || maxScan <= 0) {
            return 0;
        }
        final int n = Math.min(maxScan, hw);
        int c = sweepCursor;
        int removed = 0;
        for (int k = 0; k < n; k++) {
            if (c >= hw) {
                c = 0;
            }
            if ((flags[c] & F_USED) != 0 && nowNanos - expires[c] >= 0) {
                removeEntry(c);
                removed++;
            }
            c++;
        }
        sweepCursor = c;
        return removed;
    }

    /**
     * An embryonic entry: TCP, in SYN_RECV or SYNACK (the states ip_vs_random_dropentry drops
     * unconditionally): the client's SYN was seen, its handshake ACK never was.
     */
    public final boolean isEmbryonic(int id) {
        if ((flags[id] & F_USED) == 0 || proto(id) != Protocol.TCP) {
            return false;
        }
        final int st = states[id];
        return st == TcpState.SYN_RECV || st == TcpState.SYNACK;
    }

    /**
     * Makes room for a new connection in a full table by removing the oldest embryonic entry
     * (the one claimed longest ago that is still in SYN_RECV or SYNACK). Looks at no more than
     * {@code maxScan} claim records, oldest first, and forgets those it passes: records of
     * entries that have gone or become established (an entry never goes back to embryonic but
     * through a new SYN, which only a TIME_WAIT/CLOSE entry takes, and such a reused entry is a
     * new claim). An established, closing or UDP entry is never removed. Allocation-free.
     *
     * @return true when an entry was removed (size() is then below capacity())
     */
    public final boolean reclaimEmbryonic(int maxScan) {
        final int mask = embryos.length - 1;
        for (int k = 0; k < maxScan && embHead != embTail; k++) {
            final long r = embryos[(int) (embHead++ & mask)];
            final int id = (int) r;
            if (serials[id] == (int) (r >>> 32) && isEmbryonic(id)) {
                removeEntry(id);
                return true;
            }
        }
        return false;
    }

    /**
     * ip_vs_random_dropentry: looks at {@code capacity / 32} randomly chosen entry ids (the
     * kernel: that many random hash buckets, every second while drop_entry is on) and removes
     * the embryonic ones (TCP SYN_RECV, SYNACK) among them. Unlike the kernel, never an
     * ESTABLISHED or UDP entry (the kernel drops those too once idle for 60 s with at most 8
     * packets in, a rate per packet count): the defence must not cost a live connection.
     *
     * @return the number of entries removed
     */
    public final int randomDropEntry() {
        final int hw = highWater;
        if (hw == 0) {
            return 0;
        }
        final int n = Math.max(1, capacity >> 5);
        int removed = 0;
        for (int k = 0; k < n; k++) {
            long z = (dropSeed += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            final int id = (int) ((z >>> 1) % hw);
            if (isEmbryonic(id)) {
                removeEntry(id);
                removed++;
            }
        }
        return removed;
    }
}
