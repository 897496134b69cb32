package io.jvs.forwarder.service;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A set of IPv6 prefixes compiled for the data path, as {@link PrefixSet} is for IPv4: the
 * prefixes' 128-bit address ranges sorted and merged into disjoint ranges, so {@link #contains}
 * is one binary search (unsigned 128-bit comparisons over four long arrays), O(log n) and
 * allocation-free. Built on the control side (per snapshot), read by the event loop.
 */
public final class PrefixSet6 {
    public static final PrefixSet6 EMPTY = new PrefixSet6(List.of());

    /** Range starts (hi, lo) and ends (hi, lo), unsigned, in address order. */
    private final long[] firstHi;
    private final long[] firstLo;
    private final long[] lastHi;
    private final long[] lastLo;

    /** @param prefixes IPv6 prefixes ({@link ClientPrefix#isIpv6()}); IPv4 ones are refused */
    public PrefixSet6(List<ClientPrefix> prefixes) {
        List<long[]> ranges = new ArrayList<>(prefixes.size());
        for (ClientPrefix p : prefixes) {
            if (!p.isIpv6()) {
                throw new IllegalArgumentException(p + ": an IPv4 prefix in an IPv6 prefix set");
            }
            long hi = p.addr6().hi();
            long lo = p.addr6().lo();
            int len = p.len();
            long hostHi = len >= 64 ? 0 : len == 0 ? -1L : -1L >>> len;
            long hostLo = len >= 128 ? 0 : len <= 64 ? -1L : -1L >>> (len - 64);
            ranges.add(new long[] {hi, lo, hi | hostHi, lo | hostLo});
        }
        ranges.sort(Comparator.<long[]>comparingLong(r -> r[0] ^ Long.MIN_VALUE).thenComparingLong(r -> r[1] ^ Long.MIN_VALUE));
        List<long[]> merged = new ArrayList<>(ranges.size());
        for (long[] r : ranges) {
            long[] prev = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (prev != null && touches(prev[2], prev[3], r[0], r[1])) {
                if (cmp(r[2], r[3], prev[2], prev[3]) > 0) {
                    prev[2] = r[2];
                    prev[3] = r[3];
                }
                continue;
            }
            merged.add(r.clone());
        }
        int m = merged.size();
        firstHi = new long[m];
        firstLo = new long[m];
        lastHi = new long[m];
        lastLo = new long[m];
        for (int i = 0; i < m; i++) {
            long[] r = merged.get(i);
            firstHi[i] = r[0];
            firstLo[i] = r[1];
            lastHi[i] = r[2];
            lastLo[i] = r[3];
        }
    }

    /** Unsigned 128-bit comparison. */
    private static int cmp(long aHi, long aLo, long bHi, long bLo) {
        int c = Long.compareUnsigned(aHi, bHi);
        return c != 0 ? c : Long.compareUnsigned(aLo, bLo);
    }

    /** The range ending at (endHi, endLo) overlaps or touches one starting at (startHi, startLo): start <= end + 1. */
    private static boolean touches(long endHi, long endLo, long startHi, long startLo) {
        if (cmp(startHi, startLo, endHi, endLo) <= 0) {
            return true;
        }
        if (endHi == -1L && endLo == -1L) {
            return true; // the end is the last address: nothing lies beyond it
        }
        long nLo = endLo + 1;
        long nHi = nLo == 0 ? endHi + 1 : endHi;
        return nHi == startHi && nLo == startLo;
    }

    /** True when the address (two longs, network order) lies in one of the prefixes. */
    public boolean contains(long hi, long lo) {
        final long[] fh = firstHi;
        final long[] fl = firstLo;
        int low = 0;
        int high = fh.length - 1;
        while (low <= high) {            // the last range starting at or below the address
            int mid = (low + high) >>> 1;
            int c = Long.compareUnsigned(fh[mid], hi);
            if (c < 0 || c == 0 && Long.compareUnsigned(fl[mid], lo) <= 0) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return high >= 0 && cmp(hi, lo, lastHi[high], lastLo[high]) <= 0;
    }

    public boolean isEmpty() {
        return firstHi.length == 0;
    }

    /** Disjoint ranges after merging (tests). */
    public int ranges() {
        return firstHi.length;
    }
}
