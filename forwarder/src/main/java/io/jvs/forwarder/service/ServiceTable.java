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
 *
 * <p>IPv6 services live beside the IPv4 ones, in tables of their own, so IPv4's keys and
 * lookups are unchanged: {@link #lookup6} probes an open-addressing table keyed by (protocol,
 * 128-bit VIP as two longs, port), {@link #classify6} adds IPVS's port-0 retry,
 * {@link #lookupFwmark6} finds {@code -f N -6} services (the kernel keys fwmark services by
 * family and mark, so an IPv4 and an IPv6 service may share a mark), and {@link #isVip6} tells
 * the neighbour code which IPv6 addresses are VIPs (NDP: the IPv6 address services' VIPs and
 * every /128 destination of an IPv6 rule whose mark has an IPv6 service). IPv6 fwmark rules
 * ({@link FwmarkRule#isIpv6}) are kept apart from IPv4's: {@link #mark6} tries them on IPv6
 * packets, {@link #mark} IPv4's on IPv4 packets. All allocation-free.
 */
public final class ServiceTable implements Ipv6ServiceLookup {
    public static final ServiceTable EMPTY = new ServiceTable(List.of());

    private final VirtualService[] services;
    private final long[] keys;            // 0 = empty slot; key = proto<<48 | addr<<16 | port, +1 to avoid 0
    private final VirtualService[] slots;
    private final int mask;
    private final int[] vips;             // sorted, distinct
    private final int[] localAddrs;       // FULLNAT local addresses of all services: sorted, distinct
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
    // IPv6 address services: open addressing over (hi, lo, proto<<16|port); meta 0 = empty slot
    private final long[] keys6Hi;
    private final long[] keys6Lo;
    private final int[] keys6Meta;        // 1 << 24 | proto << 16 | port
    private final VirtualService[] slots6;
    private final int mask6;
    private final boolean portZero6;
    private final long[] vips6;           // distinct IPv6 VIPs as hi, lo pairs, sorted unsigned
    private final long[] localAddrs6;     // distinct IPv6 FULLNAT local addresses, hi, lo pairs, sorted unsigned
    private final int[] marks6;           // IPv6 fwmark services: sorted marks ...
    private final VirtualService[] markServices6; // ... and their services
    // IPv6 rules, in order: networks as (hi, lo) pairs and their masks, the rest as for IPv4
    private final long[] rule6Src;
    private final long[] rule6SrcMask;
    private final long[] rule6Dst;
    private final long[] rule6DstMask;
    private final int[] rule6Proto;
    private final int[] rule6PortLow;
    private final int[] rule6PortHigh;
    private final int[] rule6Mark;

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
        VirtualService[] byMark = Arrays.stream(services).filter(s -> s.fwmark != 0 && !s.ipv6)
                .sorted((a, b) -> Integer.compare(a.fwmark, b.fwmark)).toArray(VirtualService[]::new);
        this.marks = new int[byMark.length];
        this.markServices = byMark;
        for (int i = 0; i < byMark.length; i++) {
            marks[i] = byMark[i].fwmark;
            if (i > 0 && marks[i] == marks[i - 1]) {
                throw new IllegalArgumentException("Service already exists: " + byMark[i].label());
            }
        }
        VirtualService[] byMark6 = Arrays.stream(services).filter(s -> s.fwmark != 0 && s.ipv6)
                .sorted((a, b) -> Integer.compare(a.fwmark, b.fwmark)).toArray(VirtualService[]::new);
        this.marks6 = new int[byMark6.length];
        this.markServices6 = byMark6;
        for (int i = 0; i < byMark6.length; i++) {
            marks6[i] = byMark6[i].fwmark;
            if (i > 0 && marks6[i] == marks6[i - 1]) {
                throw new IllegalArgumentException("Service already exists: " + byMark6[i].label());
            }
        }
        VirtualService[] v6 = Arrays.stream(services).filter(s -> s.fwmark == 0 && s.ipv6)
                .toArray(VirtualService[]::new);
        int cap6 = Integer.highestOneBit(Math.max(4, v6.length * 4) - 1) << 1;
        this.keys6Hi = new long[cap6];
        this.keys6Lo = new long[cap6];
        this.keys6Meta = new int[cap6];
        this.slots6 = new VirtualService[cap6];
        this.mask6 = cap6 - 1;
        for (VirtualService s : v6) {
            int meta = meta6(s.proto, s.port);
            int i = slot6(s.addr6Hi, s.addr6Lo, meta);
            while (keys6Meta[i] != 0) {
                if (keys6Meta[i] == meta && keys6Hi[i] == s.addr6Hi && keys6Lo[i] == s.addr6Lo) {
                    throw new IllegalArgumentException("Service already exists: " + s.label());
                }
                i = (i + 1) & mask6;
            }
            keys6Hi[i] = s.addr6Hi;
            keys6Lo[i] = s.addr6Lo;
            keys6Meta[i] = meta;
            slots6[i] = s;
        }
        this.portZero6 = Arrays.stream(v6).anyMatch(s -> s.port == 0);
        List<FwmarkRule> rules6 = rules.stream().filter(FwmarkRule::isIpv6).toList();
        int n6 = rules6.size();
        rule6Src = new long[2 * n6];
        rule6SrcMask = new long[2 * n6];
        rule6Dst = new long[2 * n6];
        rule6DstMask = new long[2 * n6];
        rule6Proto = new int[n6];
        rule6PortLow = new int[n6];
        rule6PortHigh = new int[n6];
        rule6Mark = new int[n6];
        for (int i = 0; i < n6; i++) {
            FwmarkRule r = rules6.get(i);
            rule6Src[2 * i] = r.src6().hi();
            rule6Src[2 * i + 1] = r.src6().lo();
            rule6SrcMask[2 * i] = mask6Hi(r.srcPrefix());
            rule6SrcMask[2 * i + 1] = mask6Lo(r.srcPrefix());
            rule6Dst[2 * i] = r.dst6().hi();
            rule6Dst[2 * i + 1] = r.dst6().lo();
            rule6DstMask[2 * i] = mask6Hi(r.dstPrefix());
            rule6DstMask[2 * i + 1] = mask6Lo(r.dstPrefix());
            rule6Proto[i] = r.proto();
            rule6PortLow[i] = r.dportLow();
            rule6PortHigh[i] = r.dportHigh();
            rule6Mark[i] = r.mark();
        }
        // NDP answers for each /128 rule destination whose mark has an IPv6 service, as ARP for IPv4's /32
        this.vips6 = sortedPairs(java.util.stream.Stream.concat(
                Arrays.stream(v6).map(s -> new long[] {s.addr6Hi, s.addr6Lo}),
                rules6.stream().filter(r -> r.dstPrefix() == 128 && lookupFwmark6(r.mark()) != null)
                        .map(r -> new long[] {r.dst6().hi(), r.dst6().lo()})));
        this.localAddrs6 = sortedPairs(Arrays.stream(services).flatMap(s -> java.util.stream.IntStream
                .range(0, s.localAddr6Count()).mapToObj(i -> new long[] {s.localAddr6Hi(i), s.localAddr6Lo(i)})));
        for (VirtualService s : services) {
            if (s.fwmark != 0 || s.ipv6) {
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
        this.portZero = Arrays.stream(services).anyMatch(s -> s.fwmark == 0 && !s.ipv6 && s.port == 0);
        List<FwmarkRule> rules4 = rules.stream().filter(r -> !r.isIpv6()).toList();
        int n = rules4.size();
        ruleSrc = new int[n];
        ruleSrcMask = new int[n];
        ruleDst = new int[n];
        ruleDstMask = new int[n];
        ruleProto = new int[n];
        rulePortLow = new int[n];
        rulePortHigh = new int[n];
        ruleMark = new int[n];
        for (int i = 0; i < n; i++) {
            FwmarkRule r = rules4.get(i);
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
                Arrays.stream(services).filter(s -> s.fwmark == 0 && !s.ipv6).mapToInt(s -> s.addr),
                rules4.stream().filter(r -> r.dstPrefix() == 32 && lookupFwmark(r.mark()) != null)
                        .mapToInt(FwmarkRule::dstAddr))
                .distinct().sorted().toArray();
        this.localAddrs = Arrays.stream(services)
                .flatMapToInt(s -> java.util.stream.IntStream.range(0, s.localAddrCount()).map(s::localAddr))
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

    private static int meta6(int proto, int port) {
        return 1 << 24 | (proto & 0xff) << 16 | (port & 0xffff);
    }

    private int slot6(long hi, long lo, int meta) {
        long h = (hi * 0x9E3779B97F4A7C15L) ^ Long.rotateLeft(lo * 0xC2B2AE3D27D4EB4FL, 31) ^ meta;
        h *= 0x9E3779B97F4A7C15L;
        return (int) (h >>> 40) & mask6;
    }

    private static int compareUnsigned128(long[] a, long[] b) {
        int c = Long.compareUnsigned(a[0], b[0]);
        return c != 0 ? c : Long.compareUnsigned(a[1], b[1]);
    }

    /**
     * The IPv6 address service for proto / VIP (high and low 64 bits, network order, as
     * {@code Ipv6Header} reads them) / port, or null. Allocation-free.
     */
    public VirtualService lookup6(int proto, long addrHi, long addrLo, int port) {
        int meta = meta6(proto, port);
        int i = slot6(addrHi, addrLo, meta);
        int cur;
        while ((cur = keys6Meta[i]) != 0) {
            if (cur == meta && keys6Hi[i] == addrHi && keys6Lo[i] == addrLo) {
                return slots6[i];
            }
            i = (i + 1) & mask6;
        }
        return null;
    }

    private static long mask6Hi(int prefix) {
        return prefix == 0 ? 0 : prefix >= 64 ? -1L : -1L << (64 - prefix);
    }

    private static long mask6Lo(int prefix) {
        return prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix);
    }

    /**
     * The address service an IPv6 packet to (proto, dst, dport) belongs to, as ip_vs_service_find
     * does for AF_INET6 with no mark: the address service for (proto, dst, dport), else the port-0
     * service of (proto, dst), else null. Allocation-free.
     */
    @Override
    public VirtualService classify6(int proto, long dstHi, long dstLo, int dport) {
        VirtualService s = lookup6(proto, dstHi, dstLo, dport);
        if (s == null && portZero6) {
            s = lookup6(proto, dstHi, dstLo, 0);
        }
        return s;
    }

    /**
     * The service an IPv6 packet belongs to, as for IPv4 ({@link #classify}): the IPv6 fwmark
     * service ({@code -f mark -6}) when an IPv6 rule marks the packet and its mark has one, else
     * {@link #classify6(int, long, long, int)}. Allocation-free.
     */
    @Override
    public VirtualService classify6(int proto, long srcHi, long srcLo, long dstHi, long dstLo, int dport) {
        if (rule6Mark.length != 0) {
            int m = mark6(proto, srcHi, srcLo, dstHi, dstLo, dport);
            if (m != 0) {
                VirtualService s = lookupFwmark6(m);
                if (s != null) {
                    return s;
                }
            }
        }
        return classify6(proto, dstHi, dstLo, dport);
    }

    /** The mark of the first IPv6 rule this IPv6 packet matches, or 0. Allocation-free. */
    public int mark6(int proto, long srcHi, long srcLo, long dstHi, long dstLo, int dport) {
        for (int i = 0; i < rule6Mark.length; i++) {
            int j = 2 * i;
            if ((dstLo & rule6DstMask[j + 1]) == rule6Dst[j + 1] && (dstHi & rule6DstMask[j]) == rule6Dst[j]
                    && (srcLo & rule6SrcMask[j + 1]) == rule6Src[j + 1] && (srcHi & rule6SrcMask[j]) == rule6Src[j]
                    && (rule6Proto[i] == 0 || rule6Proto[i] == proto)
                    && dport >= rule6PortLow[i] && dport <= rule6PortHigh[i]) {
                return rule6Mark[i];
            }
        }
        return 0;
    }

    /** The IPv6 fwmark service ({@code -f mark -6}) for this mark, or null. Allocation-free. */
    public VirtualService lookupFwmark6(int mark) {
        int i = Arrays.binarySearch(marks6, mark);
        return i >= 0 ? markServices6[i] : null;
    }

    /** True when this IPv6 address is the VIP of some IPv6 address service (NDP answers for it). */
    @Override
    public boolean isVip6(long hi, long lo) {
        return contains128(vips6, hi, lo);
    }

    /** True when this IPv6 address is a FULLNAT local address ({@code --laddr}) of some IPv6 service. */
    @Override
    public boolean isLocalAddr6(long hi, long lo) {
        return contains128(localAddrs6, hi, lo);
    }

    /** Binary search of sorted hi, lo pairs. */
    private static boolean contains128(long[] pairs, long hi, long lo) {
        int low = 0;
        int high = pairs.length / 2 - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int c = Long.compareUnsigned(pairs[2 * mid], hi);
            if (c == 0) {
                c = Long.compareUnsigned(pairs[2 * mid + 1], lo);
            }
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

    /** Distinct 128-bit addresses, sorted unsigned, as hi, lo pairs. */
    private static long[] sortedPairs(java.util.stream.Stream<long[]> addrs) {
        long[][] sorted = addrs.sorted(ServiceTable::compareUnsigned128).toArray(long[][]::new);
        long[] pairs = new long[sorted.length * 2];
        int distinct = 0;
        for (long[] v : sorted) {
            if (distinct == 0 || pairs[2 * distinct - 2] != v[0] || pairs[2 * distinct - 1] != v[1]) {
                pairs[2 * distinct] = v[0];
                pairs[2 * distinct + 1] = v[1];
                distinct++;
            }
        }
        return Arrays.copyOf(pairs, 2 * distinct);
    }

    @Override
    public long destHi(RealServer dest) {
        return dest.addr6Hi;
    }

    @Override
    public long destLo(RealServer dest) {
        return dest.addr6Lo;
    }

    /** The addresses NDP answers for: the IPv6 VIPs, then the IPv6 FULLNAT local addresses. */
    @Override
    public long[] ownedAddresses6() {
        long[] all = Arrays.copyOf(vips6, vips6.length + localAddrs6.length);
        System.arraycopy(localAddrs6, 0, all, vips6.length, localAddrs6.length);
        return all;
    }

    /** Distinct IPv6 FULLNAT local addresses, sorted, as hi/lo pairs ({@code [2i]}, {@code [2i+1]}). A copy. */
    public long[] localAddrs6() {
        return localAddrs6.clone();
    }

    /** Distinct IPv6 VIPs, sorted, as hi/lo pairs ({@code [2i]}, {@code [2i+1]}). A copy. */
    public long[] vips6() {
        return vips6.clone();
    }

    /** Some service is IPv6 (address or fwmark). */
    public boolean hasIpv6() {
        return vips6.length != 0 || marks6.length != 0;
    }

    /** The IPv4 fwmark service for this mark, or null. Allocation-free. */
    public VirtualService lookupFwmark(int mark) {
        int i = Arrays.binarySearch(marks, mark);
        return i >= 0 ? markServices[i] : null;
    }

    /** The mark of the first IPv4 rule this IPv4 packet matches, or 0. Allocation-free. */
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

    /** True for a FULLNAT local address (LIP) of some service: jvs answers ARP for it and takes its replies. */
    public boolean isLocalAddr(int addr) {
        return Arrays.binarySearch(localAddrs, addr) >= 0;
    }

    /** Distinct FULLNAT local addresses, sorted. A copy. */
    public int[] localAddrs() {
        return localAddrs.clone();
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
