package io.jvs.forwarder.service;

import java.util.Arrays;

/**
 * Which addresses VRRP says this director must stay silent for, and which addresses it owns
 * beyond the service VIPs, published by the VRRP thread as one immutable snapshot and read by
 * the data path once per ARP request and once per classified packet (a volatile read and a
 * binary search over a sorted int array: no allocation).
 *
 * <p>{@code silent}: the addresses of every instance that is not MASTER (BACKUP, FAULT, not
 * started yet): the director neither answers ARP for them nor forwards for them.
 * {@code owned}: the virtual_ipaddress entries of MASTER instances that are not service VIPs:
 * the director answers ARP for them as for its own (and nothing else: it carries no traffic
 * for an address no service has). {@code silent6}: the IPv6 addresses (virtual_ipaddress_excluded)
 * of every instance that is not MASTER, as (hi, lo) pairs sorted by hi then lo: the IPv6 path
 * neither answers NS for them nor forwards for them. {@code owned6}: the virtual_ipaddress entries
 * of MASTER IPv6 instances (VRRPv3 over IPv6), (hi, lo) pairs sorted the same way: the director
 * answers NS for them as for its own addresses (a floating IPv6 gateway for NAT real servers),
 * as {@code owned} is for IPv4. With no VRRP configured all are empty and the data path behaves
 * as it always did.
 */
public final class VrrpGate {
    /** One snapshot; every array sorted, never written after construction. */
    public record Snapshot(int[] silent, int[] owned, long[] silent6, long[] owned6) {
        public static final Snapshot OPEN = new Snapshot(new int[0], new int[0], new long[0], new long[0]);

        public static Snapshot of(int[] silent, int[] owned) {
            return of(silent, owned, new long[0]);
        }

        public static Snapshot of(int[] silent, int[] owned, long[] silent6) {
            return of(silent, owned, silent6, new long[0]);
        }

        /** {@code silent6}, {@code owned6}: (hi, lo) pairs in any order. */
        public static Snapshot of(int[] silent, int[] owned, long[] silent6, long[] owned6) {
            int[] s = silent.clone();
            int[] o = owned.clone();
            Arrays.sort(s);
            Arrays.sort(o);
            return new Snapshot(s, o, sortedPairs(silent6, "silent6"), sortedPairs(owned6, "owned6"));
        }

        private static long[] sortedPairs(long[] in, String what) {
            if ((in.length & 1) != 0) {
                throw new IllegalArgumentException(what + ": (hi, lo) pairs");
            }
            long[][] pairs = new long[in.length / 2][];
            for (int i = 0; i < pairs.length; i++) {
                pairs[i] = new long[] {in[2 * i], in[2 * i + 1]};
            }
            Arrays.sort(pairs, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
            long[] out = new long[in.length];
            for (int i = 0; i < pairs.length; i++) {
                out[2 * i] = pairs[i][0];
                out[2 * i + 1] = pairs[i][1];
            }
            return out;
        }

        public boolean silent6(long hi, long lo) {
            return contains(silent6, hi, lo);
        }

        public boolean owned6(long hi, long lo) {
            return contains(owned6, hi, lo);
        }

        /** A binary search over the (hi, lo) pairs: no allocation. */
        private static boolean contains(long[] sorted, long hi, long lo) {
            int low = 0;
            int high = sorted.length / 2 - 1;
            while (low <= high) {
                int mid = (low + high) >>> 1;
                long h = sorted[2 * mid];
                int c = h != hi ? Long.compare(h, hi) : Long.compare(sorted[2 * mid + 1], lo);
                if (c < 0) {
                    low = mid + 1;
                } else if (c > 0) {
                    high = mid - 1;
                } else {
                    return true;
                }
            }
            return false;
        }

        public boolean silent(int addr) {
            return silent.length != 0 && Arrays.binarySearch(silent, addr) >= 0;
        }

        public boolean owned(int addr) {
            return owned.length != 0 && Arrays.binarySearch(owned, addr) >= 0;
        }
    }

    private volatile Snapshot current = Snapshot.OPEN;

    public Snapshot current() {
        return current;
    }

    public void publish(Snapshot s) {
        current = s;
    }

    /** True when the data path must stay silent for {@code addr} (VRRP BACKUP or FAULT for it). */
    public boolean silent(int addr) {
        return current.silent(addr);
    }

    public boolean owned(int addr) {
        return current.owned(addr);
    }

    /** True when the IPv6 data path must stay silent for hi:lo (VRRP BACKUP or FAULT for it). */
    public boolean silent6(long hi, long lo) {
        return current.silent6(hi, lo);
    }

    /** True when hi:lo is an IPv6 virtual_ipaddress of an instance this director is MASTER of. */
    public boolean owned6(long hi, long lo) {
        return current.owned6(hi, lo);
    }
}
