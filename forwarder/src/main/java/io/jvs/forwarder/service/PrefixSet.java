package io.jvs.forwarder.service;

import java.util.Arrays;
import java.util.List;

/**
 * A set of IPv4 prefixes compiled for the data path: the prefixes' address ranges sorted and
 * merged into disjoint ranges, so {@link #contains} is one binary search over two int arrays,
 * O(log n) and allocation-free, whatever the prefixes overlap. 100,000 prefixes take at most
 * 800 KB and 17 probes. Built on the control side (per snapshot), read by the event loop.
 */
public final class PrefixSet {
    public static final PrefixSet EMPTY = new PrefixSet(List.of());

    /** Range starts and ends, biased by 0x80000000 so that signed int order is address order. */
    private final int[] lo;
    private final int[] hi;

    public PrefixSet(List<ClientPrefix> prefixes) {
        int n = prefixes.size();
        long[] ranges = new long[n];
        for (int i = 0; i < n; i++) {
            ClientPrefix p = prefixes.get(i);
            // sort key: first address in the high half, last in the low half (both unsigned 32-bit),
            // with the sign bit flipped so that a signed sort is the unsigned order
            ranges[i] = (p.first() << 32 | p.last()) ^ Long.MIN_VALUE;
        }
        Arrays.sort(ranges);
        for (int i = 0; i < n; i++) {
            ranges[i] ^= Long.MIN_VALUE;
        }
        long[] first = new long[n];
        long[] last = new long[n];
        int m = 0;
        for (long r : ranges) {
            long f = r >>> 32;
            long e = r & 0xffffffffL;
            if (m > 0 && f <= last[m - 1] + 1) {          // overlaps or touches the previous range
                last[m - 1] = Math.max(last[m - 1], e);
                continue;
            }
            first[m] = f;
            last[m] = e;
            m++;
        }
        int[] l = new int[m];
        int[] h = new int[m];
        for (int i = 0; i < m; i++) {
            l[i] = (int) first[i] ^ Integer.MIN_VALUE;
            h[i] = (int) last[i] ^ Integer.MIN_VALUE;
        }
        this.lo = l;
        this.hi = h;
    }

    /** True when addr (host order) lies in one of the prefixes. */
    public boolean contains(int addr) {
        final int a = addr ^ Integer.MIN_VALUE;
        final int[] l = lo;
        int low = 0;
        int high = l.length - 1;
        while (low <= high) {            // the last range starting at or below a
            int mid = (low + high) >>> 1;
            if (l[mid] <= a) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return high >= 0 && a <= hi[high];
    }

    public boolean isEmpty() {
        return lo.length == 0;
    }

    /** Disjoint ranges after merging (tests, listings). */
    public int ranges() {
        return lo.length;
    }
}
