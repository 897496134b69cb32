package io.jvs.forwarder.service;

import java.util.Arrays;
import java.util.List;

/**
 * One immutable snapshot of every virtual service and fwmark rule, published
 * by the control plane with a single volatile write ({@link ServiceRegistry})
 * and only read by the data path. Lookups are open-addressing probes over
 * primitive keys and a scan of primitive rule arrays: no allocation.
 *
 * <p>Invariants: at most one address service per (proto, VIP, port) and one
 * fwmark service per mark; {@link #isVip} is true for every address-service
 * VIP and for every /32 destination of a rule whose mark has a service (those
 * are the addresses jvs answers ARP for).
 */
public final class ServiceTable {
    public static final ServiceTable EMPTY = new ServiceTable(List.of());

    private final VirtualService[] services;
    private final long[] keys;            // 0 = empty slot; key = proto<<48 | addr<<16 | port, +1 to avoid 0
    private final VirtualService[] slots;
    private final int mask;
    private final int[] vips;             // sorted, distinct
    /** Some address service has port 0 (IPVS's nullsvc_counter): a miss retries with port 0. */
    private final boolean portZero;
    private final List<FwmarkRule> rules;
    // Rules as parallel primitive arrays, in order: first match wins.
    private final int[] ruleSrc;
    private final int[] ruleSrcMask;
    private final int[] ruleDst;
    private final int[] ruleDstMask;
    private final int[] ruleProto;
    private final int[] rulePortLow;
    private final int[] rulePortHigh;
    private final int[] ruleMark;
    private final int[] marks;            // fwmark services: sorted marks (signed order) ...
    private final VirtualService[] markServices; // ... and their services

    public ServiceTable(List<VirtualService> list) {
        this(list, List.of());
    }

    public ServiceTable(List<VirtualService> list, List<FwmarkRule> fwmarkRules) {
        this.services = list.toArray(new VirtualService[0]);
        this.rules = List.copyOf(fwmarkRules);
        int cap = Integer.highestOneBit(Math.max(4, services.length * 4) - 1) << 1;
        this.keys = new long[cap];
        this.slots = new VirtualService[cap];
        this.mask = cap - 1;
        VirtualService[] byMark = Arrays.stream(services).filter(s -> s.fwmark != 0)
                .sorted((a, b) -> Integer.compare(a.fwmark, b.fwmark)).toArray(VirtualService[]::new);
        this.marks = new int[byMark.length];
        this.markServices = byMark;
        for (int i = 0; i < byMark.length; i++) {
            marks[i] = byMark[i].fwmark;
            if (i > 0 && marks[i] == marks[i - 1]) {
                throw new IllegalArgumentException("Service already exists: " + byMark[i].label());
            }
        }
        for (VirtualService s : services) {
            if (s.fwmark != 0) {
                continue;
            }
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
        this.portZero = Arrays.stream(services).anyMatch(s -> s.fwmark == 0 && s.port == 0);
        int n = rules.size();
        ruleSrc = new int[n];
        ruleSrcMask = new int[n];
        ruleDst = new int[n];
        ruleDstMask = new int[n];
        ruleProto = new int[n];
        rulePortLow = new int[n];
        rulePortHigh = new int[n];
        ruleMark = new int[n];
        for (int i = 0; i < n; i++) {
            FwmarkRule r = rules.get(i);
            ruleSrc[i] = r.srcAddr();
            ruleSrcMask[i] = FwmarkRule.mask(r.srcPrefix());
            ruleDst[i] = r.dstAddr();
            ruleDstMask[i] = FwmarkRule.mask(r.dstPrefix());
            ruleProto[i] = r.proto();
            rulePortLow[i] = r.dportLow();
            rulePortHigh[i] = r.dportHigh();
            ruleMark[i] = r.mark();
        }
        this.vips = java.util.stream.IntStream.concat(
                Arrays.stream(services).filter(s -> s.fwmark == 0).mapToInt(s -> s.addr),
                rules.stream().filter(r -> r.dstPrefix() == 32 && lookupFwmark(r.mark()) != null)
                        .mapToInt(FwmarkRule::dstAddr))
                .distinct().sorted().toArray();
    }

    private static long key(int proto, int addr, int port) {
        return (((long) proto & 0xff) << 48 | ((long) addr & 0xffffffffL) << 16 | (port & 0xffff)) + 1;
    }

    private int slot(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask;
    }

    /** The address service for proto/VIP/port, or null. Allocation-free. */
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

    /** The fwmark service for this mark, or null. Allocation-free. */
    public VirtualService lookupFwmark(int mark) {
        int i = Arrays.binarySearch(marks, mark);
        return i >= 0 ? markServices[i] : null;
    }

    /** The mark of the first rule this packet matches, or 0. Allocation-free. */
    public int mark(int proto, int src, int dst, int dport) {
        for (int i = 0; i < ruleMark.length; i++) {
            if ((src & ruleSrcMask[i]) == ruleSrc[i] && (dst & ruleDstMask[i]) == ruleDst[i]
                    && (ruleProto[i] == 0 || ruleProto[i] == proto)
                    && dport >= rulePortLow[i] && dport <= rulePortHigh[i]) {
                return ruleMark[i];
            }
        }
        return 0;
    }

    /**
     * The service a packet belongs to, as IPVS finds it: a fwmark service
     * when a rule marks the packet and that mark has a service, else the
     * address service for (proto, dst, dport), else the port-0 (all ports) service of
     * (proto, dst), else null (ip_vs_service_find).
     */
    public VirtualService classify(int proto, int src, int dst, int dport) {
        if (ruleMark.length != 0) {
            int m = mark(proto, src, dst, dport);
            if (m != 0) {
                VirtualService s = lookupFwmark(m);
                if (s != null) {
                    return s;
                }
            }
        }
        VirtualService s = lookup(proto, dst, dport);
        if (s == null && portZero) {
            s = lookup(proto, dst, 0);
        }
        return s;
    }

    /** True when jvs answers for this address (ARP): a service VIP or a /32 fwmark rule destination. */
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

    /**
     * Control plane, after this table was validated and before it is published: tells every
     * real server's runtime state its configured weight here, and marks the servers of
     * {@code previous} that this table no longer has as removed (connections that still point
     * at them are then "no destination" connections, as IPVS's unavailable dests).
     */
    public void commitDestStates(ServiceTable previous) {
        java.util.Set<DestStats> kept = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (VirtualService s : services) {
            for (RealServer d : s.dests) {
                d.stats.setConfigured(d.weight, false);
                kept.add(d.stats);
            }
        }
        for (VirtualService s : previous.services) {
            for (RealServer d : s.dests) {
                if (!kept.contains(d.stats)) {
                    d.stats.setConfigured(d.weight, true);
                }
            }
        }
    }

    public List<FwmarkRule> fwmarkRules() {
        return rules;
    }
}
