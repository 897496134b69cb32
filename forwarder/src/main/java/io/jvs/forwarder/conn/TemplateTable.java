package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

import java.security.SecureRandom;
import java.util.Objects;

/**
 * What persistence templates are whatever the family of their key: the lifetime rules, the
 * index, the free stack and the persistconns accounting, shared by {@link PersistenceTable}
 * (IPv4 keys) and {@link PersistenceTable6} (IPv6 keys), which add only their key arrays, its
 * hash and its comparison.
 *
 * <h2>Lifetime</h2>
 * A template expires its service's persistence timeout after it was last used to place a new
 * connection (ip_vs_conn_put re-arms the timer), but never while a connection it placed is
 * still in the connection table (n_control; ip_vs_conn_expire re-arms a controlling
 * template). A template whose real server was removed is dropped on its next use and a new one
 * scheduled; one whose real server has weight 0 is kept unless expire_quiescent_template is on
 * (ip_vs_check_template) — that is IPVS behaviour users rely on for draining.
 *
 * <h2>Layout and threading</h2>
 * One owning event-loop thread, parallel primitive arrays, one open-addressing index
 * (fingerprint | id+1 per slot, linear probing, backward-shift deletion), a free stack, no
 * allocation after construction. Here 4+8+8+4+4+4+4 = 36 bytes per template plus 16..32 bytes
 * of index; the key arrays of the subclass come on top.
 */
public abstract class TemplateTable {
    /** {@link #keyLo} of an invalidated template: no key has proto 0xffff. */
    static final int INVALID = -1;

    final int capacity;
    /** proto << 16 | vport, {@link #INVALID} once invalidated (both families). */
    final int[] keyLo;
    private final long[] expires;
    private final long[] timeouts;
    private final int[] controlled;
    private final RealServer[] dests;
    private final VirtualService[] services;
    private final int[] free;
    private int freeTop;
    private int highWater;
    private int size;
    private int sweepCursor;
    final long[] index;
    final int indexMask;
    /** The hash's per-table seed. */
    final long seed;
    private final int worker;

    TemplateTable(int capacity, int worker) {
        this.worker = worker;
        if (capacity < 1 || capacity > ConnectionTable.MAX_CAPACITY) {
            throw new IllegalArgumentException("persistence table capacity " + capacity + " out of range");
        }
        this.capacity = capacity;
        keyLo = new int[capacity];
        expires = new long[capacity];
        timeouts = new long[capacity];
        controlled = new int[capacity];
        dests = new RealServer[capacity];
        services = new VirtualService[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            free[i] = capacity - 1 - i;
        }
        freeTop = capacity;
        int slots = Integer.highestOneBit(capacity * 2 - 1) << 1;
        index = new long[slots];
        indexMask = slots - 1;
        seed = new SecureRandom().nextLong();
    }

    /** The hash of live, valid template id's key (as its lookup computed it). */
    abstract int hashOf(int id);

    /** Bytes of the shared arrays (references as 4 bytes: compressed oops). */
    long sharedFootprintBytes() {
        return (4 + 8 + 8 + 4 + 4 + 4 + 4) * (long) capacity + 8L * index.length;
    }

    /** Bytes held by this table's arrays. */
    public abstract long footprintBytes();

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    static int keyLo(int proto, int vport) {
        return (proto & 0xff) << 16 | (vport & 0xffff);
    }

    /**
     * A lookup found template id for its key: returns it, re-armed when due but still
     * controlling connections (the kernel re-arms it), or -1 after removing it when due and
     * controlling none.
     */
    final int found(int id, long nowNanos) {
        if (nowNanos - expires[id] >= 0) {
            if (controlled[id] == 0) {
                removeEntry(id);
                return -1;
            }
            expires[id] = nowNanos + timeouts[id];
        }
        return id;
    }

    /** Takes a free id for a new template, or -1 when the table is full. The subclass then fills its key and calls {@link #link}. */
    final int allocate() {
        if (size == capacity) {
            return -1;
        }
        int id = free[--freeTop];
        if (id >= highWater) {
            highWater = id + 1;
        }
        size++;
        return id;
    }

    /** Completes an {@link #allocate}d template whose key arrays (and {@link #keyLo}) are set. */
    final int link(int id, int hash, VirtualService svc, RealServer dest, long timeoutNanos, long nowNanos) {
        Objects.requireNonNull(dest, "dest");
        timeouts[id] = timeoutNanos;
        expires[id] = nowNanos + timeoutNanos;
        controlled[id] = 0;
        dests[id] = dest;
        services[id] = svc;
        int i = hash & indexMask;
        while (index[i] != 0) {
            i = (i + 1) & indexMask;
        }
        index[i] = (long) hash << 32 | (id + 1L);
        dest.stats.addPersistent(worker, 1);
        return id;
    }

    /** A new connection was placed by this template: re-arm it (ip_vs_conn_put) and count the control. */
    public void controlAdded(int id, long nowNanos) {
        expires[id] = nowNanos + timeouts[id];
        controlled[id]++;
    }

    /**
     * A master's sync of a template held here (ip_vs_proc_conn): it expires timeoutNanos from now
     * and keeps that timeout when re-armed. Its real server stays (ip_vs_ct_in_get does not compare it).
     */
    public void applySync(int id, long timeoutNanos, long nowNanos) {
        timeouts[id] = timeoutNanos;
        expires[id] = nowNanos + timeoutNanos;
    }

    /** A connection this template placed left the connection table. */
    public void controlRemoved(int id) {
        if (controlled[id] > 0 && --controlled[id] == 0 && keyLo[id] == INVALID) {
            free(id);
        }
    }

    public RealServer dest(int id) {
        return dests[id];
    }

    public VirtualService service(int id) {
        return services[id];
    }

    public int controlledCount(int id) {
        return controlled[id];
    }

    public long expiresAtNanos(int id) {
        return expires[id];
    }

    /** The key's protocol (0 = IPPROTO_IP for fwmark services; 0xffff once invalidated). */
    public int proto(int id) {
        return keyLo[id] >>> 16;
    }

    public int vport(int id) {
        return keyLo[id] & 0xffff;
    }

    public boolean isLive(int id) {
        return id >= 0 && id < capacity && dests[id] != null;
    }

    /** Live and reachable (not invalidated): what a listing shows. */
    public boolean isValid(int id) {
        return isLive(id) && keyLo[id] != INVALID;
    }

    /**
     * Makes a template unreachable now (its real server was removed, or it points at a quiesced
     * server under expire_quiescent_template), as ip_vs_check_template rehashes it to a dead key:
     * the next lookup misses and schedules afresh. While it still controls connections the
     * entry stays allocated (those connections refer to it) and is freed when the last one goes.
     */
    public void invalidate(int id, long nowNanos) {
        if (!isLive(id)) {
            throw new IllegalArgumentException("template " + id + " is not live");
        }
        if (keyLo[id] == INVALID) {
            return;
        }
        indexRemove(id);
        keyLo[id] = INVALID;
        expires[id] = nowNanos;
        if (controlled[id] == 0) {
            free(id);
        }
    }

    /**
     * Incremental sweep like {@link ConnectionTable#expire}: removes due templates that control
     * no connection, re-arms due ones that still do.
     */
    public int expire(long nowNanos, int maxScan) {
        int hw = highWater;
        if (size == 0 || maxScan <= 0) {
            return 0;
        }
        int n = Math.min(maxScan, hw);
        int c = sweepCursor;
        int removed = 0;
        for (int k = 0; k < n; k++) {
            if (c >= hw) {
                c = 0;
            }
            if (dests[c] != null && nowNanos - expires[c] >= 0) {
                if (controlled[c] == 0) {
                    removeEntry(c);
                    removed++;
                } else {
                    expires[c] = nowNanos + timeouts[c];
                }
            }
            c++;
        }
        sweepCursor = c;
        return removed;
    }

    /** Visits every live template in id order (control plane, on the owning thread). */
    public void forEach(java.util.function.IntConsumer visitor) {
        for (int id = 0; id < highWater; id++) {
            if (dests[id] != null) {
                visitor.accept(id);
            }
        }
    }

    private void removeEntry(int id) {
        if (keyLo[id] != INVALID) {
            indexRemove(id);
        }
        free(id);
    }

    private void indexRemove(int id) {
        int h = hashOf(id);
        int i = h & indexMask;
        long want = (long) h << 32 | (id + 1L);
        while (index[i] != want) {
            i = (i + 1) & indexMask;
        }
        // Backward-shift deletion: pull later members of the probe chain into the hole.
        int hole = i;
        for (int j = (hole + 1) & indexMask; index[j] != 0; j = (j + 1) & indexMask) {
            int home = (int) (index[j] >>> 32) & indexMask;
            if (((j - home) & indexMask) >= ((j - hole) & indexMask)) {
                index[hole] = index[j];
                hole = j;
            }
        }
        index[hole] = 0;
    }

    private void free(int id) {
        dests[id].stats.addPersistent(worker, -1);
        dests[id] = null;
        services[id] = null;
        controlled[id] = 0;
        free[freeTop++] = id;
        size--;
    }
}
