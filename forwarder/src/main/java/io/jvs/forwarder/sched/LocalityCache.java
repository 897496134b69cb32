package io.jvs.forwarder.sched;

/**
 * The destination-address cache of lblc and lblcr: destination IPv4 address -&gt; an ordered set
 * of real servers (indices into the scheduler's server array), with the kernel's lastuse /
 * lastmod times and its garbage collection ({@code ip_vs_lblc(r)_check_expire}).
 *
 * <p>Layout and invariants:
 * <ul>
 *   <li>Open addressing with linear probing over {@code slots} (a power of two); the home slot
 *       of an address is {@code hash_32(addr, bits)}. Deletion shifts the following entries of the
 *       run back (no tombstones), so a lookup stops at the first empty slot.</li>
 *   <li>At most {@code 3/4 * slots} entries. When full, or when the member pool is empty, an
 *       insertion does nothing and the caller still gets its server: the kernel's behaviour when
 *       kmalloc fails ("If we fail to create a cache entry, we'll just use the valid dest").</li>
 *   <li>Set members live in one preallocated pool of linked elements, newest first (the kernel's
 *       {@code list_add_rcu}); freed elements go back to a free list. Nothing is allocated after
 *       construction.</li>
 *   <li>Times are {@link System#nanoTime()} values supplied by the caller, compared by
 *       subtraction. GC runs from {@link #maybeCheckExpire} at most once per
 *       {@link #CHECK_EXPIRE_INTERVAL} (the kernel's periodic timer), or from {@link #checkExpire}
 *       directly: every 30th run is a full check dropping entries unused for {@code expiration}
 *       (lblc(r)_expiration, 24 h); otherwise, only while there are more than {@link #MAX_SIZE}
 *       entries, entries unused for {@link #ENTRY_TIMEOUT} (6 min) are dropped from a rover
 *       position until (entries - MAX_SIZE) * 4/3 (at most MAX_SIZE/2) are gone.</li>
 * </ul>
 * An IPv6 service's cache ({@code wide}) also keeps each entry's full 128-bit address: the
 * kernel hashes an IPv6 address by its fold ({@code ip6[0]^ip6[1]^ip6[2]^ip6[3]}) but compares
 * whole addresses ({@code ip_vs_addr_equal}), so two addresses with one fold are two entries.
 * An IPv4 cache has no such arrays.
 * Owned by one scheduler on one data-path thread; not thread-safe.
 */
final class LocalityCache {
    static final long SECOND = 1_000_000_000L;
    /** CHECK_EXPIRE_INTERVAL (60*HZ). */
    static final long CHECK_EXPIRE_INTERVAL = 60 * SECOND;
    /** ENTRY_TIMEOUT (6*60*HZ). */
    static final long ENTRY_TIMEOUT = 6 * 60 * SECOND;
    /** DEFAULT_EXPIRATION (24*60*60*HZ), the lblc_expiration / lblcr_expiration sysctls. */
    static final long DEFAULT_EXPIRATION = 24 * 60 * 60 * SECOND;
    /** COUNT_FOR_FULL_EXPIRATION. */
    static final int COUNT_FOR_FULL_EXPIRATION = 30;
    /** tbl->max_size = IP_VS_LBLC_TAB_SIZE (1024) * 16: above it the periodic GC starts collecting. */
    static final int MAX_SIZE = 1024 * 16;
    /** Default slot count: room for 3/2 * MAX_SIZE entries at a 3/4 load. */
    static final int DEFAULT_SLOTS = 32768;

    private static final int NONE = -1;

    private final int mask;
    private final int bits;
    private final int maxEntries;
    private final long expiration;
    private final boolean[] used;
    private final int[] keys;
    /** Wide (IPv6) caches only: the entry's address, high and low 64 bits; null for IPv4. */
    private final long[] keysHi;
    private final long[] keysLo;
    private final long[] lastUse;
    private final long[] lastMod;
    private final int[] setSize;
    private final int[] setHead;
    private final int[] elemDest;
    private final int[] elemNext;
    private int freeElem;
    private int entries;
    private long nextCheck;
    private int rover;
    private int counter = 1;

    /**
     * @param slots      a power of two &gt;= 2
     * @param poolSize   set members that can exist at once
     * @param expiration the full check's age limit (nanoseconds)
     * @param now        creation time: the first GC is due one interval later
     */
    LocalityCache(int slots, int poolSize, long expiration, long now) {
        this(slots, poolSize, expiration, now, false);
    }

    /** As above; {@code wide}: an IPv6 service's cache, keyed by 128-bit addresses. */
    LocalityCache(int slots, int poolSize, long expiration, long now, boolean wide) {
        if (slots < 2 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two >= 2: " + slots);
        }
        this.mask = slots - 1;
        this.bits = Integer.numberOfTrailingZeros(slots);
        this.maxEntries = slots - slots / 4;
        this.expiration = expiration;
        used = new boolean[slots];
        keys = new int[slots];
        keysHi = wide ? new long[slots] : null;
        keysLo = wide ? new long[slots] : null;
        lastUse = new long[slots];
        lastMod = new long[slots];
        setSize = new int[slots];
        setHead = new int[slots];
        elemDest = new int[poolSize];
        elemNext = new int[poolSize];
        for (int i = 0; i < poolSize; i++) {
            elemNext[i] = i + 1 < poolSize ? i + 1 : NONE;
        }
        freeElem = poolSize > 0 ? 0 : NONE;
        nextCheck = now + CHECK_EXPIRE_INTERVAL;
    }

    int entries() {
        return entries;
    }

    int capacity() {
        return maxEntries;
    }

    private int home(int addr) {
        return KernelHash.hash32(addr, bits);
    }

    /** The slot holding {@code addr}, or -1. */
    int find(int addr) {
        return find(addr, 0, 0);
    }

    /**
     * The slot holding the address whose fold (IPv4: the address) is {@code addr} and, in a wide
     * cache, whose 128 bits are {@code hi}/{@code lo}; or -1.
     */
    int find(int addr, long hi, long lo) {
        for (int i = home(addr); used[i]; i = (i + 1) & mask) {
            if (keys[i] == addr && (keysHi == null || keysHi[i] == hi && keysLo[i] == lo)) {
                return i;
            }
        }
        return NONE;
    }

    /** A new entry for {@code addr} (not present) with an empty set, lastuse = now; -1 when full. */
    int insert(int addr, long now) {
        return insert(addr, 0, 0, now);
    }

    /** As {@link #insert(int, long)}, a wide cache also keeping the 128-bit address. */
    int insert(int addr, long hi, long lo, long now) {
        if (entries >= maxEntries) {
            return NONE;
        }
        int i = home(addr);
        while (used[i]) {
            i = (i + 1) & mask;
        }
        used[i] = true;
        keys[i] = addr;
        if (keysHi != null) {
            keysHi[i] = hi;
            keysLo[i] = lo;
        }
        lastUse[i] = now;
        lastMod[i] = now;
        setSize[i] = 0;
        setHead[i] = NONE;
        entries++;
        return i;
    }

    void touch(int slot, long now) {
        lastUse[slot] = now;
    }

    long lastMod(int slot) {
        return lastMod[slot];
    }

    int setSize(int slot) {
        return setSize[slot];
    }

    /** First member element of the slot's set (newest first), or -1. */
    int first(int slot) {
        return setHead[slot];
    }

    /** The element after {@code elem}, or -1. */
    int next(int elem) {
        return elemNext[elem];
    }

    /** The server index an element holds. */
    int dest(int elem) {
        return elemDest[elem];
    }

    /**
     * ip_vs_dest_set_insert: adds {@code dest} at the head of the set and sets lastmod = now;
     * with {@code check}, nothing happens if it is already a member. False if the pool is empty.
     */
    boolean addMember(int slot, int dest, boolean check, long now) {
        if (check) {
            for (int e = setHead[slot]; e != NONE; e = elemNext[e]) {
                if (elemDest[e] == dest) {
                    return true;
                }
            }
        }
        int e = freeElem;
        if (e == NONE) {
            return false;
        }
        freeElem = elemNext[e];
        elemDest[e] = dest;
        elemNext[e] = setHead[slot];
        setHead[slot] = e;
        setSize[slot]++;
        lastMod[slot] = now;
        return true;
    }

    /** ip_vs_dest_set_erase: removes {@code dest} from the set (lastmod = now) if it is a member. */
    void eraseMember(int slot, int dest, long now) {
        int prev = NONE;
        for (int e = setHead[slot]; e != NONE; prev = e, e = elemNext[e]) {
            if (elemDest[e] == dest) {
                if (prev == NONE) {
                    setHead[slot] = elemNext[e];
                } else {
                    elemNext[prev] = elemNext[e];
                }
                elemNext[e] = freeElem;
                freeElem = e;
                setSize[slot]--;
                lastMod[slot] = now;
                return;
            }
        }
    }

    /** Empties the slot's set, returning its elements to the pool. */
    void clearMembers(int slot) {
        int e = setHead[slot];
        while (e != NONE) {
            int next = elemNext[e];
            elemNext[e] = freeElem;
            freeElem = e;
            e = next;
        }
        setHead[slot] = NONE;
        setSize[slot] = 0;
    }

    /** Deletes the entry in {@code slot}, shifting the rest of its probe run back. */
    void remove(int slot) {
        clearMembers(slot);
        int hole = slot;
        for (int j = (slot + 1) & mask; used[j]; j = (j + 1) & mask) {
            int h = home(keys[j]);
            // j may fill the hole unless its home lies cyclically in (hole, j]
            if (((j - h) & mask) >= ((j - hole) & mask)) {
                used[hole] = true;
                keys[hole] = keys[j];
                if (keysHi != null) {
                    keysHi[hole] = keysHi[j];
                    keysLo[hole] = keysLo[j];
                }
                lastUse[hole] = lastUse[j];
                lastMod[hole] = lastMod[j];
                setSize[hole] = setSize[j];
                setHead[hole] = setHead[j];
                hole = j;
            }
        }
        used[hole] = false;
        setHead[hole] = NONE;
        setSize[hole] = 0;
        entries--;
    }

    /** Runs {@link #checkExpire} if the periodic interval has passed since the last run. */
    void maybeCheckExpire(long now) {
        if (now - nextCheck >= 0) {
            checkExpire(now);
        }
    }

    /** One run of the kernel's periodic check (ip_vs_lblc_check_expire); the next is due an interval later. */
    void checkExpire(long now) {
        nextCheck = now + CHECK_EXPIRE_INTERVAL;
        if (counter % COUNT_FOR_FULL_EXPIRATION == 0) {
            expireOlderThan(now, expiration, Integer.MAX_VALUE);
            counter = 1;
            return;
        }
        if (entries <= MAX_SIZE) {
            counter++;
            return;
        }
        int goal = (entries - MAX_SIZE) * 4 / 3;
        expireOlderThan(now, ENTRY_TIMEOUT, Math.min(goal, MAX_SIZE / 2));
    }

    /** From the rover on, drops entries with now - lastuse &gt;= age until {@code goal} are gone or all were seen. */
    private void expireOlderThan(long now, long age, int goal) {
        int j = rover;
        for (int i = 0; i <= mask && goal > 0; i++) {
            j = (j + 1) & mask;
            // a removal shifts a later entry into j: look at j again
            while (used[j] && now - lastUse[j] >= age && goal > 0) {
                remove(j);
                goal--;
            }
        }
        rover = j;
    }
}
