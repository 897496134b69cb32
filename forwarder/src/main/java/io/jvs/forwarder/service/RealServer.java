package io.jvs.forwarder.service;

/**
 * One real server of one virtual service, as configured (immutable) plus the
 * runtime {@link DestStats} that survive snapshot changes.
 */
public final class RealServer {
    /** Address and port, host byte order ints (port 0..65535). */
    public final int addr;
    public final int port;
    /** An IPv6 real server: its address as two longs, network order; {@link #addr} is then 0. */
    public final boolean ipv6;
    public final long addr6Hi;
    public final long addr6Lo;
    /**
     * The address as the kernel's schedulers hash it for this server's service ({@code addr_fold} of
     * ip_vs_mh.c's permutation, which folds by the service's family): for an IPv6 service the XOR of
     * the four 32-bit words of the address ({@link Scheduler#fold6}; an IPv4 server of such a service,
     * read through the union, folds to its own address); for an IPv4 service the address, or for an
     * IPv6 tunnel server the first 32-bit word (the union's {@code ip}).
     */
    public final int hashAddr;
    /** IPVS weight, 0..65535; 0 = quiesced: no new connections, existing ones keep flowing. */
    public final int weight;
    /**
     * The kernel's {@code last_weight}: the weight when added, then the latest non-zero weight
     * ({@code __ip_vs_update_dest}), so a server quiesced to 0 remembers what it had. The mh
     * scheduler builds its table from it.
     */
    public final int lastWeight;
    public final ForwardMethod method;
    /** -x / -y connection thresholds; 0 = none. */
    public final int upperThreshold;
    public final int lowerThreshold;
    /** TUN only: encapsulation, GUE port, checksum flags ({@link TunnelType#FLAG_CSUM}...). */
    public final TunnelType tunType;
    public final int tunPort;
    public final int tunFlags;
    /** The configuration this was built from (for listings and save). */
    public final ServiceSpec.Dest spec;
    public final DestStats stats;

    public RealServer(ServiceSpec.Dest spec, DestStats stats) {
        this(spec, stats, spec.weight());
    }

    /** A real server whose {@link #lastWeight} is {@code lastWeight} (a kept server set to weight 0). */
    public RealServer(ServiceSpec.Dest spec, DestStats stats, int lastWeight) {
        this(spec, stats, lastWeight, false);
    }

    /** As above, a server of a service of the given family ({@link #hashAddr}). */
    public RealServer(ServiceSpec.Dest spec, DestStats stats, int lastWeight, boolean ipv6Service) {
        this.lastWeight = lastWeight;
        this.spec = spec;
        this.addr = spec.addr();
        this.port = spec.port();
        this.ipv6 = spec.isIpv6();
        this.addr6Hi = ipv6 ? spec.addr6().hi() : 0;
        this.addr6Lo = ipv6 ? spec.addr6().lo() : 0;
        this.hashAddr = !ipv6 ? addr : ipv6Service ? Scheduler.fold6(addr6Hi, addr6Lo) : (int) (addr6Hi >>> 32);
        this.weight = spec.weight();
        this.method = spec.method();
        this.upperThreshold = spec.upperThreshold();
        this.lowerThreshold = spec.lowerThreshold();
        this.tunType = spec.tunType();
        this.tunPort = spec.tunPort();
        this.tunFlags = spec.tunFlags();
        this.stats = stats;
    }

    public RealServer(int addr, int port, int weight, ForwardMethod method, int upperThreshold,
                      int lowerThreshold, DestStats stats) {
        this(new ServiceSpec.Dest(addr, port, weight, method, upperThreshold, lowerThreshold), stats);
    }

    /** May take new connections: positive weight and not over its upper threshold. */
    public boolean available() {
        return weight > 0 && !stats.overloaded();
    }

    /** "10.0.0.11:80" or "[2001:db8::11]:80" */
    public String endpoint() {
        return spec.endpoint();
    }

    @Override
    public String toString() {
        return endpoint() + " " + method + " w=" + weight;
    }
}
