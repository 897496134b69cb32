package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;

/**
 * One real server of one virtual service, as configured (immutable) plus the
 * runtime {@link DestStats} that survive snapshot changes.
 */
public final class RealServer {
    /** Address and port, host byte order ints (port 0..65535). */
    public final int addr;
    public final int port;
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
        this.lastWeight = lastWeight;
        this.spec = spec;
        this.addr = spec.addr();
        this.port = spec.port();
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

    /** "10.0.0.11:80" */
    public String endpoint() {
        return Ipv4Address.toString(addr) + ":" + port;
    }

    @Override
    public String toString() {
        return endpoint() + " " + method + " w=" + weight;
    }
}
