package io.jvs.forwarder.service;

import io.jvs.forwarder.packet.Ipv4Address;

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
    public final ForwardMethod method;
    /** -x / -y connection thresholds; 0 = none. */
    public final int upperThreshold;
    public final int lowerThreshold;
    public final DestStats stats;

    public RealServer(int addr, int port, int weight, ForwardMethod method, int upperThreshold,
                      int lowerThreshold, DestStats stats) {
        if (weight < 0 || weight > 65535) {
            throw new IllegalArgumentException("weight " + weight + " out of range 0..65535");
        }
        this.addr = addr;
        this.port = port;
        this.weight = weight;
        this.method = method;
        this.upperThreshold = upperThreshold;
        this.lowerThreshold = lowerThreshold;
        this.stats = stats;
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
