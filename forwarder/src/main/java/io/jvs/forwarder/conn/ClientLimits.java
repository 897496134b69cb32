package io.jvs.forwarder.conn;

/**
 * Per-client state of services' limits, in two bounded tables keyed by (service key, client
 * address), allocated up front, allocation-free afterwards. Event loop only.
 *
 * <p>Client addresses are 128 bits wide (two longs, network order, as the IPv6 path reads them);
 * an IPv4 client is (0, its 32 bits). The service key carries the family
 * ({@link io.jvs.forwarder.service.VirtualService#key}), so an IPv4 client and the IPv6 address
 * ::a.b.c.d never share a count: one table serves both families. Per slot: service key 8, address
 * 16, count 4 bytes (28); per rate way: key 8, address 16, tat 8, used 1 (33).
 *
 * <ul>
 *   <li><b>Connection counts</b>: how many live connections each client holds per service, for
 *       {@code --conn-limit}. Open addressing with linear probing, at most {@code clients} keys
 *       (load factor 1/2), deletion by backward shift when a count drops to 0. Exact: a key exists
 *       exactly while the client holds a counted connection; when {@code clients} keys exist a new
 *       client is refused ({@link #TABLE_FULL}) rather than let past its limit.</li>
 *   <li><b>Rate buckets</b>: {@code --rate-limit}'s token bucket as GCRA (one "theoretical arrival
 *       time" per key: a connection is allowed when tat - now &lt;= (burst - 1) * interval, and then
 *       tat = max(tat, now) + interval). 4-way sets; a new key replaces the way with the earliest
 *       tat. A way with tat &lt;= now holds no state (a full bucket), so replacing it loses nothing;
 *       only when all four clients of a set are being limited at once does one of them start over
 *       with a full bucket.</li>
 * </ul>
 */
public final class ClientLimits {
    /** {@link #acquire} results. */
    public static final int OK = 0;
    public static final int LIMIT = 1;
    public static final int TABLE_FULL = 2;

    private static final int WAYS = 4;

    private final int maxKeys;
    private final long[] countSvc;
    private final long[] countHi;
    private final long[] countLo;
    private final int[] counts;
    private final int countMask;
    private int keys;

    private final long[] rateSvc;
    private final long[] rateHi;
    private final long[] rateLo;
    private final long[] tat;
    private final boolean[] rateUsed;
    private final int setMask;

    /** Room for {@code clients} clients holding counted connections, and as many rate buckets. */
    public ClientLimits(int clients) {
        if (clients < 1 || clients > 1 << 24) {
            throw new IllegalArgumentException("clients " + clients + " out of range 1.." + (1 << 24));
        }
        maxKeys = clients;
        int slots = Integer.highestOneBit(clients * 2 - 1) << 1;
        countSvc = new long[slots];
        countHi = new long[slots];
        countLo = new long[slots];
        counts = new int[slots];
        countMask = slots - 1;
        int sets = Math.max(1, Integer.highestOneBit(Math.max(1, clients / WAYS)));
        rateSvc = new long[sets * WAYS];
        rateHi = new long[sets * WAYS];
        rateLo = new long[sets * WAYS];
        tat = new long[sets * WAYS];
        rateUsed = new boolean[sets * WAYS];
        setMask = sets - 1;
    }

    /** The 128-bit key of an IPv4 client: (0, its 32 bits). */
    private static long v4(int addr) {
        return addr & 0xffffffffL;
    }

    private static int hash(long svc, long hi, long lo) {
        long h = (svc * 0x9E3779B97F4A7C15L) ^ (lo * 0xC2B2AE3D27D4EB4FL) ^ Long.rotateLeft(hi * 0x94D049BB133111EBL, 29);
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    // ------------------------------------------------------------------ connection counts

    /** Counts one more connection for the IPv4 client unless it holds {@code limit} already. */
    public int acquire(long svc, int addr, int limit) {
        return acquire(svc, 0, v4(addr), limit);
    }

    /** Counts one more connection for the client (128 bits) unless it holds {@code limit} already. */
    public int acquire(long svc, long hi, long lo, int limit) {
        int i = hash(svc, hi, lo) & countMask;
        while (counts[i] != 0) {
            if (countSvc[i] == svc && countLo[i] == lo && countHi[i] == hi) {
                if (counts[i] >= limit) {
                    return LIMIT;
                }
                counts[i]++;
                return OK;
            }
            i = (i + 1) & countMask;
        }
        if (keys == maxKeys) {
            return TABLE_FULL;
        }
        countSvc[i] = svc;
        countHi[i] = hi;
        countLo[i] = lo;
        counts[i] = 1;
        keys++;
        return OK;
    }

    /** One counted connection of the IPv4 client has gone. */
    public void release(long svc, int addr) {
        release(svc, 0, v4(addr));
    }

    /** One counted connection of the client (128 bits) has gone. */
    public void release(long svc, long hi, long lo) {
        int i = hash(svc, hi, lo) & countMask;
        while (counts[i] != 0) {
            if (countSvc[i] == svc && countLo[i] == lo && countHi[i] == hi) {
                if (--counts[i] == 0) {
                    keys--;
                    shiftBack(i);
                }
                return;
            }
            i = (i + 1) & countMask;
        }
        throw new IllegalStateException("no counted connection to release");
    }

    private void shiftBack(int i) {
        int j = i;
        for (;;) {
            j = (j + 1) & countMask;
            if (counts[j] == 0) {
                break;
            }
            int home = hash(countSvc[j], countHi[j], countLo[j]) & countMask;
            if (((j - home) & countMask) >= ((j - i) & countMask)) {
                countSvc[i] = countSvc[j];
                countHi[i] = countHi[j];
                countLo[i] = countLo[j];
                counts[i] = counts[j];
                i = j;
            }
        }
        counts[i] = 0;
    }

    /** The connections the IPv4 client holds (tests, listings). */
    public int count(long svc, int addr) {
        return count(svc, 0, v4(addr));
    }

    /** The connections the client (128 bits) holds (tests, listings). */
    public int count(long svc, long hi, long lo) {
        int i = hash(svc, hi, lo) & countMask;
        while (counts[i] != 0) {
            if (countSvc[i] == svc && countLo[i] == lo && countHi[i] == hi) {
                return counts[i];
            }
            i = (i + 1) & countMask;
        }
        return 0;
    }

    /** Clients holding counted connections. */
    public int clients() {
        return keys;
    }

    // ------------------------------------------------------------------ rate

    /** GCRA: may the IPv4 client open a connection now? Consumes a token when it may. */
    public boolean rateAllows(long svc, int addr, long intervalNanos, long toleranceNanos, long nowNanos) {
        return rateAllows(svc, 0, v4(addr), intervalNanos, toleranceNanos, nowNanos);
    }

    /** GCRA: may the client (128 bits) open a connection now? Consumes a token when it may. */
    public boolean rateAllows(long svc, long hi, long lo, long intervalNanos, long toleranceNanos, long nowNanos) {
        int base = (hash(svc, hi, lo) & setMask) * WAYS;
        int way = -1;
        int victim = -1;                 // an unused way first, else the earliest tat
        for (int k = base; k < base + WAYS; k++) {
            if (rateUsed[k]) {
                if (rateSvc[k] == svc && rateLo[k] == lo && rateHi[k] == hi) {
                    way = k;
                    break;
                }
                if (victim < 0 || rateUsed[victim] && tat[k] - tat[victim] < 0) {
                    victim = k;
                }
            } else if (victim < 0 || rateUsed[victim]) {
                victim = k;
            }
        }
        if (way < 0) {
            way = victim;
            rateUsed[way] = true;
            rateSvc[way] = svc;
            rateHi[way] = hi;
            rateLo[way] = lo;
            tat[way] = nowNanos;
        }
        long t = tat[way] - nowNanos < 0 ? nowNanos : tat[way];
        if (t - nowNanos > toleranceNanos) {
            return false;
        }
        tat[way] = t + intervalNanos;
        return true;
    }
}
