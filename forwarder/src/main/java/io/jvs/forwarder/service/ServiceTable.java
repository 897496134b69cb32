package io.jvs.forwarder.service;

import java.util.Arrays;
import java.util.List;

/**
 * One immutable snapshot of every virtual service, published by the control
 * plane with a single volatile write ({@link ServiceRegistry}) and only read by
 * the data path. Lookup by (proto, VIP, port) is an open-addressing probe over
 * primitive keys: no allocation.
 */
public final class ServiceTable {
    public static final ServiceTable EMPTY = new ServiceTable(List.of());

    private final VirtualService[] services;
    private final long[] keys;            // 0 = empty slot; key = proto<<48 | addr<<16 | port, +1 to avoid 0
    private final VirtualService[] slots;
    private final int mask;
    private final int[] vips;             // sorted, distinct

    public ServiceTable(List<VirtualService> list) {
        this.services = list.toArray(new VirtualService[0]);
        int cap = Integer.highestOneBit(Math.max(4, services.length * 4) - 1) << 1;
        this.keys = new long[cap];
        this.slots = new VirtualService[cap];
        this.mask = cap - 1;
        for (VirtualService s : services) {
            long k = key(s.proto, s.addr, s.port);
            int i = slot(k);
            while (keys[i] != 0) {
                if (keys[i] == k) {
                    throw new IllegalArgumentException("Service already exists: " + s.label());
                }
                i = (i + 1) & mask;
            }
            keys[i] = k;
            slots[i] = s;
        }
        this.vips = Arrays.stream(services).mapToInt(s -> s.addr).distinct().sorted().toArray();
    }

    private static long key(int proto, int addr, int port) {
        return (((long) proto & 0xff) << 48 | ((long) addr & 0xffffffffL) << 16 | (port & 0xffff)) + 1;
    }

    private int slot(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** The service for proto/VIP/port, or null. Allocation-free. */
    public VirtualService lookup(int proto, int addr, int port) {
        long k = key(proto, addr, port);
        int i = slot(k);
        long cur;
        while ((cur = keys[i]) != 0) {
            if (cur == k) {
                return slots[i];
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    /** True when some service listens on this address (ARP is answered for it). */
    public boolean isVip(int addr) {
        return Arrays.binarySearch(vips, addr) >= 0;
    }

    /** Distinct VIPs, sorted. A copy. */
    public int[] vips() {
        return vips.clone();
    }

    public List<VirtualService> services() {
        return List.of(services);
    }
}
