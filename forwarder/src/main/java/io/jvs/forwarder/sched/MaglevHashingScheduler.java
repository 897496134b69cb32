package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;

import java.util.Arrays;

/**
 * Maglev hashing ("mh"), as net/netfilter/ipvs/ip_vs_mh.c.
 *
 * <p>Table (built once per instance, control thread; the kernel rebuilds on every add/del/upd
 * of a destination, which here is a new snapshot and so a new instance):
 * <ul>
 *   <li>M = a prime table size, {@link #DEFAULT_TABLE_SIZE} unless chosen from {@link #TABLE_SIZES}
 *       ({@code CONFIG_IP_VS_MH_TAB_INDEX}); more servers than M is an error, as in the kernel.</li>
 *   <li>hashkey(addr, port, offset, key) = hsiphash(u32 (offset + port + addr), key), host order,
 *       keys hash1 = {2654435761, 2654435761}, hash2 = {2654446892, 2654446892}
 *       ({@code generate_hash_secret}).</li>
 *   <li>Per server (list order): offset = hashkey(rs addr, rs port, 0, hash1) % M,
 *       skip = hashkey(rs addr, rs port, 0, hash2) % (M - 1) + 1.</li>
 *   <li>Weights: the server's last non-zero weight ({@link RealServer#lastWeight}, the kernel's
 *       {@code last_weight}), so quiescing a server to weight 0 keeps its slots and only makes it
 *       unavailable; g = gcd of the positive ones; rshift = max(0, fls(max / g) - TAB_BITS) with
 *       TAB_BITS = (index of M + 8) / 2; turns = ((w / g) &gt;&gt; rshift), or 1 if that is 0 and
 *       w != 0.</li>
 *   <li>Population ({@code ip_vs_mh_populate}): round after round over the list, each server with
 *       turns &gt; 0 claims {@code turns} slots in a row, each being the next free slot along its
 *       permutation offset, offset + skip, ... (mod M), until all M slots are taken.</li>
 * </ul>
 * Lookup: slot = hashkey(client addr, port, 0, hash1) % M, where port is the client's source
 * port only with mh-port ({@link #MH_PORT}), else 0. The slot's server if available (weight &gt;
 * 0 and not overloaded); else null, or with mh-fallback ({@link #MH_FALLBACK}) the first
 * available server at slot hashkey(addr, port, (ihash + i) % M, hash1) % M for i = 0..M-1
 * ({@code ip_vs_mh_get_fallback}). SCHED_FLAG_3 is accepted and ignored, as the kernel does.
 * Data-path thread only; {@link #schedule} does not allocate.
 */
public final class MaglevHashingScheduler implements Scheduler {
    /** IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F_SCHED1. */
    public static final int MH_FALLBACK = ServiceSpec.SCHED_FLAG_1;
    /** IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F_SCHED2. */
    public static final int MH_PORT = ServiceSpec.SCHED_FLAG_2;
    /** The kernel's {@code primes[]}: the table sizes it can be built with. */
    public static final int[] TABLE_SIZES = {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071};
    /** primes[CONFIG_IP_VS_MH_TAB_INDEX (12) - 8]. */
    public static final int DEFAULT_TABLE_SIZE = 4093;

    static final long HASH1_KEY = 2654435761L;
    static final long HASH2_KEY = 2654446892L;

    private final int size;
    private final RealServer[] lookup;
    private final boolean fallback;
    private final boolean usePort;

    public MaglevHashingScheduler(int schedFlags, RealServer[] dests) {
        this(schedFlags, dests, DEFAULT_TABLE_SIZE);
    }

    /**
     * @throws IllegalArgumentException if {@code tableSize} is not one of {@link #TABLE_SIZES}, or
     *         there are more servers than slots (the kernel's -EINVAL)
     */
    public MaglevHashingScheduler(int schedFlags, RealServer[] dests, int tableSize) {
        int index = checkTableSize(tableSize);
        if (dests.length > tableSize) {
            throw new IllegalArgumentException("mh: " + dests.length + " real servers do not fit a table of "
                    + tableSize + " (Invalid argument)");
        }
        this.size = tableSize;
        this.fallback = (schedFlags & MH_FALLBACK) != 0;
        this.usePort = (schedFlags & MH_PORT) != 0;
        this.lookup = new RealServer[tableSize];
        populate(dests, (index + 8) / 2);
    }

    /**
     * Index of {@code size} in {@link #TABLE_SIZES}.
     *
     * @throws IllegalArgumentException naming the allowed sizes if it is not one of them
     */
    public static int checkTableSize(int size) {
        int index = tableIndex(size);
        if (index < 0) {
            throw new IllegalArgumentException("mh table size " + size + " is not one of "
                    + Arrays.toString(TABLE_SIZES));
        }
        return index;
    }

    /** Index of {@code size} in {@link #TABLE_SIZES}, or -1. */
    public static int tableIndex(int size) {
        for (int i = 0; i < TABLE_SIZES.length; i++) {
            if (TABLE_SIZES[i] == size) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String name() {
        return "mh";
    }

    public int tableSize() {
        return size;
    }

    /** ip_vs_mh_hashkey for IPv4: hsiphash of the u32 sum offset + port + addr. */
    static int hashkey(int addr, int port, long key, int offset) {
        return KernelHash.hsiphash(offset + port + addr, key, key);
    }

    /** u32 % m for a hash that Java holds in a signed int. */
    private static int mod(int hash, int m) {
        return (int) ((hash & 0xffffffffL) % m);
    }

    private void populate(RealServer[] dests, int tabBits) {
        int n = dests.length;
        int g = 0;
        int max = 0;
        for (RealServer d : dests) {
            int w = d.lastWeight;
            if (w > 0) {
                g = g > 0 ? KernelHash.gcd(w, g) : w;
            }
            max = Math.max(max, w);
        }
        if (g < 1) {
            return; // no positive weight: an empty table, every lookup finds nothing
        }
        int rshift = Math.max(0, (32 - Integer.numberOfLeadingZeros(max / g)) - tabBits);
        int[] perm = new int[n];
        int[] skip = new int[n];
        int[] turns = new int[n];
        for (int i = 0; i < n; i++) {
            RealServer d = dests[i];
            perm[i] = mod(hashkey(d.hashAddr, d.port, HASH1_KEY, 0), size);
            skip[i] = mod(hashkey(d.hashAddr, d.port, HASH2_KEY, 0), size - 1) + 1;
            int lw = d.lastWeight;
            int t = (lw / g) >> rshift;
            turns[i] = t != 0 ? t : (lw != 0 ? 1 : 0);
        }
        boolean[] taken = new boolean[size];
        int filled = 0;
        while (true) {
            for (int i = 0; i < n; i++) {
                for (int t = 0; t < turns[i]; t++) {
                    int c = perm[i];
                    while (taken[c]) {
                        c += skip[i];
                        if (c >= size) {
                            c -= size;
                        }
                    }
                    perm[i] = c;
                    taken[c] = true;
                    lookup[c] = dests[i];
                    if (++filled == size) {
                        return;
                    }
                }
            }
        }
    }

    /** The server slot {@code i} holds (null when no server has a positive weight). */
    RealServer slot(int i) {
        return lookup[i];
    }

    @Override
    public RealServer schedule(int clientAddr, int clientPort, int destAddr, int destPort) {
        int port = usePort ? clientPort : 0;
        int ihash = mod(hashkey(clientAddr, port, HASH1_KEY, 0), size);
        RealServer d = lookup[ihash];
        if (d == null) {
            return null;
        }
        if (d.available()) {
            return d;
        }
        if (!fallback) {
            return null;
        }
        for (int offset = 0; offset < size; offset++) {
            int roffset = (int) (((long) offset + ihash) % size);
            d = lookup[mod(hashkey(clientAddr, port, HASH1_KEY, roffset), size)];
            if (d == null) {
                break;
            }
            if (d.available()) {
                return d;
            }
        }
        return null;
    }
}
