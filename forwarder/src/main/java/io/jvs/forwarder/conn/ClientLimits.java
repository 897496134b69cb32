package io.jvs.forwarder.conn;

/**
 * Per-client state of services' limits, in two bounded tables keyed by (service key, client
 * address), allocated up front, allocation-free afterwards. Event loop only.
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
    private final int[] countAddr;
    private final int[] counts;
    private final int countMask;
    private int keys;

    private final long[] rateSvc;
    private final int[] rateAddr;
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
        countAddr = new int[slots];
        counts = new int[slots];
        countMask = slots - 1;
        int sets = Math.max(1, Integer.highestOneBit(Math.max(1, clients / WAYS)));
        rateSvc = new long[sets * WAYS];
        rateAddr = new int[sets * WAYS];
        tat = new long[sets * WAYS];
        rateUsed = new boolean[sets * WAYS];
        setMask = sets - 1;
    }

    private static int hash(long svc, int addr) {
        long h = (svc * 0x9E3779B97F4A7C15L) ^ (addr * 0xC2B2AE3D27D4EB4FL);
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    // ------------------------------------------------------------------ connection counts

    /** Counts one more connection for the client unless it holds {@code limit} already. */
    public int acquire(long svc, int addr, int limit) {
        int i = hash(svc, addr) & countMask;
        while (counts[i] != 0) {
            if (countSvc[i] == svc && countAddr[i] == addr) {
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
        countAddr[i] = addr;
        counts[i] = 1;
        keys++;
        return OK;
    }

    /** One counted connection of the client has gone. */
    public void release(long svc, int addr) {
        int i = hash(svc, addr) & countMask;
        while (counts[i] != 0) {
            if (countSvc[i] == svc && countAddr[i] == addr) {
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
            int home = hash(countSvc[j], countAddr[j]) & countMask;
            if (((j - home) & countMask) >= ((j - i) & countMask)) {
                countSvc[i] = countSvc[j];
                countAddr[i] = countAddr[j];
                counts[i] = counts[j];
                i = j;
            }
        }
        counts[i] = 0;
    }

    /** The connections the client holds (tests, listings). */
    public int count(long svc, int addr) {
        int i = hash(svc, addr) & countMask;
        while (counts[i] != 0) {
            if (countSvc[i] == svc && countAddr[i] == addr) {
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

    /** GCRA: may the client open a connection now? Consumes a token when it may. */
    public boolean rateAllows(long svc, int addr, long intervalNanos, long toleranceNanos, long nowNanos) {
        int base = (hash(svc, addr) & setMask) * WAYS;
        int way = -1;
        int victim = -1;                 // an unused way first, else the earliest tat
        for (int k = base; k < base + WAYS; k++) {
            if (rateUsed[k]) {
                if (rateSvc[k] == svc && rateAddr[k] == addr) {
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
            rateAddr[way] = addr;
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
