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
 * for an address no service has). With no VRRP configured both are empty and the data path
 * behaves as it always did.
 */
public final class VrrpGate {
    /** One snapshot; both arrays sorted, never written after construction. */
    public record Snapshot(int[] silent, int[] owned) {
        public static final Snapshot OPEN = new Snapshot(new int[0], new int[0]);

        public static Snapshot of(int[] silent, int[] owned) {
            int[] s = silent.clone();
            int[] o = owned.clone();
            Arrays.sort(s);
            Arrays.sort(o);
            return new Snapshot(s, o);
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
}
