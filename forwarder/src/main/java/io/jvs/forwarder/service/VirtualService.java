package io.jvs.forwarder.service;

import io.jvs.forwarder.packet.Ipv4Address;
import io.jvs.forwarder.sched.Scheduler;

import java.util.List;

/**
 * A virtual service (VIP:port/proto) in one published snapshot. Immutable but
 * for the scheduler's own cursor state (owned by the data-path thread) and the
 * runtime stats. A new snapshot creates a new scheduler, as IPVS resets a
 * scheduler's state when the destination list changes.
 */
public final class VirtualService {
    public final int proto;
    public final int addr;
    public final int port;
    public final String schedulerName;
    /** Destinations in IPVS list order: newest first, as the kernel's list_add puts them. */
    public final RealServer[] dests;
    public final Scheduler scheduler;
    public final DestStats stats;

    public VirtualService(int proto, int addr, int port, String schedulerName, RealServer[] dests,
                          Scheduler scheduler, DestStats stats) {
        this.proto = proto;
        this.addr = addr;
        this.port = port;
        this.schedulerName = schedulerName;
        this.dests = dests;
        this.scheduler = scheduler;
        this.stats = stats;
    }

    public List<RealServer> destList() {
        return List.of(dests);
    }

    /** The real server with this address and port, or null. */
    public RealServer dest(int rAddr, int rPort) {
        for (RealServer d : dests) {
            if (d.addr == rAddr && d.port == rPort) {
                return d;
            }
        }
        return null;
    }

    /** "TCP/10.0.0.100:80": the {@code service} metric label. */
    public String label() {
        return Protocol.name(proto) + "/" + Ipv4Address.toString(addr) + ":" + port;
    }

    @Override
    public String toString() {
        return label() + " " + schedulerName;
    }
}
