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
 * neither answers NS for them nor forwards for them. With no VRRP configured all are empty and
 * the data path behaves as it always did.
 */
public final class VrrpGate {
    /** One snapshot; every array sorted, never written after construction. */
    public record Snapshot(int[] silent, int[] owned, long[] silent6) {
        public static final Snapshot OPEN = new Snapshot(new int[0], new int[0], new long[0]);

        public static Snapshot of(int[] silent, int[] owned) {
            return of(silent, owned, new long[0]);
        }

        /** {@code silent6}: (hi, lo) pairs in any order. */
        public static Snapshot of(int[] silent, int[] owned, long[] silent6) {
            int[] s = silent.clone();
            int[] o = owned.clone();
            Arrays.sort(s);
            Arrays.sort(o);
            if ((silent6.length & 1) != 0) {
                throw new IllegalArgumentException("silent6: (hi, lo) pairs");
            }
            long[][] pairs = new long[silent6.length / 2][];
            for (int i = 0; i < pairs.length; i++) {
                pairs[i] = new long[] {silent6[2 * i], silent6[2 * i + 1]};
            }
            Arrays.sort(pairs, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
            long[] s6 = new long[silent6.length];
            for (int i = 0; i < pairs.length; i++) {
                s6[2 * i] = pairs[i][0];
                s6[2 * i + 1] = pairs[i][1];
            }
            return new Snapshot(s, o, s6);
        }

        /** A binary search over the (hi, lo) pairs: no allocation. */
        public boolean silent6(long hi, long lo) {
            int low = 0;
            int high = silent6.length / 2 - 1;
            while (low <= high) {
                int mid = (low + high) >>> 1;
                long h = silent6[2 * mid];
                int c = h != hi ? Long.compare(h, hi) : Long.compare(silent6[2 * mid + 1], lo);
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
}
