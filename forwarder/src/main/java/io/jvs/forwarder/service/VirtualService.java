package io.jvs.forwarder.service;

import java.util.List;

/**
 * A virtual service (VIP:port/proto, or fwmark) in one published snapshot.
 * Immutable but for the scheduler's own state (owned by the data-path thread)
 * and the runtime stats. A new snapshot creates a new scheduler, as IPVS
 * resets a scheduler's state when the destination list changes.
 */
public final class VirtualService {
    /** The configuration this was built from (listings, save, rebuilds). */
    public final ServiceSpec spec;
    public final int proto;
    public final int addr;
    public final int port;
    /**
     * An IPv6 service (address or {@code -f N -6}): its VIP as two longs, network order
     * ({@link io.jvs.packet.Ipv6Address#hi()}/{@code lo()}, 0 for a fwmark service); {@link #addr} is
     * then 0. Looked up by {@link ServiceTable#lookup6}, never by the IPv4 tables.
     */
    public final boolean ipv6;
    public final long addr6Hi;
    public final long addr6Lo;
    /** Unsigned firewall mark; 0 = an address service. */
    public final int fwmark;
    public final String schedulerName;
    public final int schedFlags;
    /** Persistence: template lifetime in nanoseconds (0 = not persistent) and client netmask. */
    public final long persistTimeoutNanos;
    public final int persistMask;
    public final boolean onePacket;
    /** FULLNAT local addresses (host order) and how the client address reaches the server. */
    private final int[] localAddrs;
    /** An IPv6 service's FULLNAT local addresses: [2i] high, [2i + 1] low 64 bits. */
    private final long[] localAddrs6;
    public final ClientAddressMode clientAddress;
    /** The service's own ESTABLISHED / FIN_WAIT / UDP timeouts in nanoseconds; 0 = the global one. */
    public final long tcpTimeoutNanos;
    public final long tcpFinTimeoutNanos;
    public final long udpTimeoutNanos;
    /** Destinations in IPVS list order: newest first, as the kernel's list_add puts them. */
    public final RealServer[] dests;
    public final Scheduler scheduler;
    public final DestStats stats;
    /** Some real server forwards by FULLNAT (sloppy_tcp then opens no connection: ConnectionHandler). */
    public final boolean hasFullNatDest;
    /** {@code --synproxy}: SYNs are answered with SYN cookies (pipeline.SynProxyHandler, xmit.SynProxy). */
    public final boolean synProxy;
    /** The service's identity across snapshots (proto, VIP, port, or the mark): per-client limits' key. */
    public final long key;
    /** Allow/deny lists compiled for lookup; a client is admitted when {@link #admits} says so. */
    public final PrefixSet allow;
    public final PrefixSet deny;
    /** An IPv6 service's allow/deny lists ({@link #admits6}); empty for IPv4 services. */
    public final PrefixSet6 allow6;
    public final PrefixSet6 deny6;
    /** Connections one client address may hold at once (0 = no limit). */
    public final int connLimit;
    /** New connections per client: GCRA emission interval and burst tolerance in ns (0 = no rate limit). */
    public final long rateIntervalNanos;
    public final long rateToleranceNanos;
    /** Any of the above is set. */
    public final boolean hasClientPolicy;

    public VirtualService(ServiceSpec spec, RealServer[] dests, Scheduler scheduler, DestStats stats) {
        this.spec = spec;
        this.proto = spec.proto();
        this.addr = spec.addr();
        this.port = spec.port();
        this.ipv6 = spec.isIpv6();
        this.addr6Hi = ipv6 ? spec.addr6().hi() : 0;
        this.addr6Lo = ipv6 ? spec.addr6().lo() : 0;
        this.fwmark = spec.fwmark();
        this.schedulerName = spec.scheduler();
        this.schedFlags = spec.schedFlags();
        this.persistTimeoutNanos = spec.persistTimeout() * 1_000_000_000L;
        this.persistMask = spec.persistMask();
        this.onePacket = spec.onePacket();
        this.localAddrs = spec.localAddrs().stream().mapToInt(Integer::intValue).toArray();
        this.localAddrs6 = spec.localAddrs6().stream()
                .flatMapToLong(a -> java.util.stream.LongStream.of(a.hi(), a.lo())).toArray();
        this.clientAddress = spec.clientAddress();
        this.tcpTimeoutNanos = spec.timeouts().tcp() * 1_000_000_000L;
        this.tcpFinTimeoutNanos = spec.timeouts().tcpFin() * 1_000_000_000L;
        this.udpTimeoutNanos = spec.timeouts().udp() * 1_000_000_000L;
        this.dests = dests;
        this.scheduler = scheduler;
        this.stats = stats;
        boolean fullNat = false;
        for (RealServer d : dests) {
            fullNat |= d.method == ForwardMethod.FULLNAT;
        }
        this.hasFullNatDest = fullNat;
        this.synProxy = spec.synProxy();
        // IPv6: the kernel's address fold stands for the VIP (the key only separates services' client counts)
        int keyAddr = ipv6 ? Scheduler.fold6(addr6Hi, addr6Lo) : spec.addr();
        this.key = (ipv6 ? 1L << 57 : 0) | (spec.fwmark() != 0 ? 1L << 56 | (spec.fwmark() & 0xffffffffL)
                : (long) spec.proto() << 48 | (keyAddr & 0xffffffffL) << 16 | spec.port());
        ClientPolicy cp = spec.clientPolicy();
        this.allow = ipv6 || cp.allow().isEmpty() ? PrefixSet.EMPTY : new PrefixSet(cp.allow());
        this.deny = ipv6 || cp.deny().isEmpty() ? PrefixSet.EMPTY : new PrefixSet(cp.deny());
        this.allow6 = !ipv6 || cp.allow().isEmpty() ? PrefixSet6.EMPTY : new PrefixSet6(cp.allow());
        this.deny6 = !ipv6 || cp.deny().isEmpty() ? PrefixSet6.EMPTY : new PrefixSet6(cp.deny());
        this.connLimit = cp.connLimit();
        this.rateIntervalNanos = cp.rate() == 0 ? 0 : 1_000_000_000L / cp.rate();
        this.rateToleranceNanos = cp.rate() == 0 ? 0 : (cp.burst() - 1) * rateIntervalNanos;
        this.hasClientPolicy = !cp.isNone();
    }

    /** Deny wins; a non-empty allow list admits only its clients. O(log n), allocation-free. */
    public boolean admits(int client) {
        return !deny.contains(client) && (allow.isEmpty() || allow.contains(client));
    }

    /** {@link #admits} for an IPv6 client (two longs, network order). O(log n), allocation-free. */
    public boolean admits6(long clientHi, long clientLo) {
        return !deny6.contains(clientHi, clientLo) && (allow6.isEmpty() || allow6.contains(clientHi, clientLo));
    }

    /** An address service with default settings (tests). */
    public VirtualService(int proto, int addr, int port, String schedulerName, RealServer[] dests,
                          Scheduler scheduler, DestStats stats) {
        this(new ServiceSpec(proto, addr, port, schedulerName), dests, scheduler, stats);
    }

    public boolean persistent() {
        return persistTimeoutNanos != 0;
    }

    public int localAddrCount() {
        return localAddrs.length;
    }

    public int localAddr(int i) {
        return localAddrs[i];
    }

    /** An IPv6 service's FULLNAT local addresses ({@code --laddr}). */
    public int localAddr6Count() {
        return localAddrs6.length / 2;
    }

    public long localAddr6Hi(int i) {
        return localAddrs6[2 * i];
    }

    public long localAddr6Lo(int i) {
        return localAddrs6[2 * i + 1];
    }

    public List<RealServer> destList() {
        return List.of(dests);
    }

    /** The IPv4 real server with this address and port, or null. */
    public RealServer dest(int rAddr, int rPort) {
        for (RealServer d : dests) {
            if (!d.ipv6 && d.addr == rAddr && d.port == rPort) {
                return d;
            }
        }
        return null;
    }

    /** The IPv6 real server with this address (two longs, network order) and port, or null. Allocation-free. */
    public RealServer dest6(long rHi, long rLo, int rPort) {
        for (RealServer d : dests) {
            if (d.ipv6 && d.addr6Hi == rHi && d.addr6Lo == rLo && d.port == rPort) {
                return d;
            }
        }
        return null;
    }

    /** The real server configured as {@code spec} (same family, address and port), or null. */
    public RealServer dest(ServiceSpec.Dest spec) {
        return spec.isIpv6() ? dest6(spec.addr6().hi(), spec.addr6().lo(), spec.port())
                : dest(spec.addr(), spec.port());
    }

    /**
     * "TCP/10.0.0.100:80", "TCP/[2001:db8::1]:80", "FWM/1" or "FWM/1/IPv6": the {@code service}
     * metric label.
     */
    public String label() {
        if (fwmark != 0) {
            return "FWM/" + Integer.toUnsignedString(fwmark) + (ipv6 ? "/IPv6" : "");
        }
        return Protocol.name(proto) + "/" + ServiceSpec.hostPort(addr, spec.addr6(), port);
    }

    @Override
    public String toString() {
        return label() + " " + schedulerName;
    }
}
