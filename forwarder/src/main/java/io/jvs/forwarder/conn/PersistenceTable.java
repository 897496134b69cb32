package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

import java.security.SecureRandom;
import java.util.Objects;

/**
 * Persistence templates (IPVS's IP_VS_CONN_F_TEMPLATE entries, ip_vs_sched_persist): a client
 * network's affinity to one real server of a persistent service.
 *
 * <h2>Keys, as the kernel builds them</h2>
 * <ul>
 *   <li>persistent service on a port: (proto, client &amp; netmask, VIP, VPORT);</li>
 *   <li>port-0 service (persistent client connection, all ports): (proto, client &amp; netmask, VIP, 0);</li>
 *   <li>fwmark service: (0 = IPPROTO_IP, client &amp; netmask, mark, 0) — all marked traffic of a
 *       client network, whatever its ports (HTTP + HTTPS; FTP control + data).</li>
 * </ul>
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
 * Same contract as {@link ConnectionTable}: one owning event-loop thread, parallel primitive
 * arrays, one open-addressing index (fingerprint | id+1 per slot, linear probing, backward-shift
 * deletion), a free stack, no allocation after construction. 8+8+8+8+4+4+4+4 = 48 bytes per
 * template plus 16..32 bytes of index.
 */
public final class PersistenceTable {
    /** keyLo of an invalidated template: no key has proto 0xffff. */
    private static final int INVALID = -1;

    private final int capacity;
    /** snet << 32 | vkey (VIP or fwmark). */
    private final long[] keyHi;
    /** proto << 16 | vport. */
    private final int[] keyLo;
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
    private final long[] index;
    private final int indexMask;
    private final long seed;
    private final int worker;

    public PersistenceTable(int capacity) {
        this(capacity, 0);
    }

    /** The template table of worker {@code worker} (its share of each real server's PersistConn). */
    public PersistenceTable(int capacity, int worker) {
        this.worker = worker;
        if (capacity < 1 || capacity > ConnectionTable.MAX_CAPACITY) {
            throw new IllegalArgumentException("persistence table capacity " + capacity + " out of range");
        }
        this.capacity = capacity;
        keyHi = new long[capacity];
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

    /** Bytes held by this table's arrays (references as 4 bytes: compressed oops). */
    public long footprintBytes() {
        return (8 + 4 + 8 + 8 + 4 + 4 + 4 + 4) * (long) capacity + 8L * index.length;
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    /** The template key's protocol for a service: IPPROTO_IP (0) for fwmark services. */
    public static int keyProto(VirtualService svc) {
        return svc.fwmark != 0 ? 0 : svc.proto;
    }

    /** The template key's virtual part: the mark for fwmark services, else the VIP. */
    public static int keyVaddr(VirtualService svc, int vaddr) {
        return svc.fwmark != 0 ? svc.fwmark : vaddr;
    }

    /** The template key's port: 0 for fwmark and port-0 services, else the service port. */
    public static int keyVport(VirtualService svc) {
        return svc.fwmark != 0 ? 0 : svc.port;
    }

    private int hash(long hi, int lo) {
        long h = (hi ^ seed) * 0x9E3779B97F4A7C15L;
        h ^= (lo + (h >>> 29)) * 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    /**
     * The live template for this key at nowNanos, or -1. An expired template that still
     * controls connections is re-armed rather than returned as a miss (the kernel re-arms it).
     */
    public int lookup(int proto, int snet, int vkey, int vport, long nowNanos) {
        long hi = (long) snet << 32 | (vkey & 0xffffffffL);
        int lo = (proto & 0xff) << 16 | (vport & 0xffff);
        int h = hash(hi, lo);
        for (int i = h & indexMask; ; i = (i + 1) & indexMask) {
            long s = index[i];
            if (s == 0) {
                return -1;
            }
            if ((int) (s >>> 32) == h) {
                int id = (int) s - 1;
                if (keyHi[id] == hi && keyLo[id] == lo) {
                    if (nowNanos - expires[id] >= 0) {
                        if (controlled[id] == 0) {
                            removeEntry(id);
                            return -1;
                        }
                        expires[id] = nowNanos + timeouts[id];
                    }
                    return id;
                }
            }
        }
    }

    /**
     * Enters a template placing the key's client network on dest; -1 when the table is full.
     * Precondition: lookup missed for this key.
     */
    public int insert(int proto, int snet, int vkey, int vport, VirtualService svc, RealServer dest,
                      long timeoutNanos, long nowNanos) {
        Objects.requireNonNull(dest, "dest");
        if (size == capacity) {
            return -1;
        }
        int id = free[--freeTop];
        if (id >= highWater) {
            highWater = id + 1;
        }
        size++;
        long hi = (long) snet << 32 | (vkey & 0xffffffffL);
        int lo = (proto & 0xff) << 16 | (vport & 0xffff);
        keyHi[id] = hi;
        keyLo[id] = lo;
        timeouts[id] = timeoutNanos;
        expires[id] = nowNanos + timeoutNanos;
        controlled[id] = 0;
        dests[id] = dest;
        services[id] = svc;
        int h = hash(hi, lo);
        int i = h & indexMask;
        while (index[i] != 0) {
            i = (i + 1) & indexMask;
        }
        index[i] = (long) h << 32 | (id + 1L);
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

    public int proto(int id) {
        return keyLo[id] >>> 16;
    }

    public int clientNet(int id) {
        return (int) (keyHi[id] >>> 32);
    }

    /** The VIP, or the mark of a fwmark service's template. */
    public int vkey(int id) {
        return (int) keyHi[id];
    }

    public int vport(int id) {
        return keyLo[id] & 0xffff;
    }

    public boolean isLive(int id) {
        return id >= 0 && id < capacity && dests[id] != null;
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
        int h = hash(keyHi[id], keyLo[id]);
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
