package io.jvs.forwarder.service;

import io.jvs.forwarder.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the operator asked for: one virtual service (ipvsadm {@code -A}) and
 * its real servers ({@code -a}) in the order they were added. Pure
 * configuration, immutable, with no runtime state; {@link ServiceTableBuilder}
 * turns a list of these into a publishable {@link ServiceTable}.
 *
 * <p>Invariants (checked on construction, with ipvsadm's wording where it has
 * one): protocol TCP or UDP; service port 1..65535 (port 0 needs persistence,
 * which jvs does not do yet); scheduler name non-empty; no two destinations
 * with the same address and port ("Destination already exists").
 *
 * @param proto     {@link Protocol#TCP} or {@link Protocol#UDP}
 * @param addr      virtual IPv4 address, host order
 * @param port      virtual port
 * @param scheduler ipvsadm scheduler name ("rr", "wlc", ...), resolved when the table is built
 * @param dests     real servers in the order added (oldest first; the built
 *                  table lists them newest first, as IPVS does)
 */
public record ServiceSpec(int proto, int addr, int port, String scheduler, List<Dest> dests) {

    /** ipvsadm's default scheduler. */
    public static final String DEFAULT_SCHEDULER = "wlc";

    public ServiceSpec {
        if (proto != Protocol.TCP && proto != Protocol.UDP) {
            throw new IllegalArgumentException("protocol " + proto + " is neither TCP nor UDP");
        }
        if (port == 0) {
            throw new IllegalArgumentException("Zero port specified for non-persistent service");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range 1..65535");
        }
        Objects.requireNonNull(scheduler, "scheduler");
        if (scheduler.isBlank()) {
            throw new IllegalArgumentException("empty scheduler name");
        }
        dests = List.copyOf(dests);
        for (int i = 0; i < dests.size(); i++) {
            Dest d = dests.get(i);
            for (int j = 0; j < i; j++) {
                if (dests.get(j).sameEndpoint(d)) {
                    throw new IllegalArgumentException(
                            label(proto, addr, port) + " -r " + d.endpoint() + ": Destination already exists");
                }
            }
        }
    }

    /** A service with no real servers yet. */
    public ServiceSpec(int proto, int addr, int port, String scheduler) {
        this(proto, addr, port, scheduler, List.of());
    }

    /** This service with {@code dest} added after the others. */
    public ServiceSpec withDest(Dest dest) {
        List<Dest> more = new ArrayList<>(dests.size() + 1);
        more.addAll(dests);
        more.add(Objects.requireNonNull(dest));
        return new ServiceSpec(proto, addr, port, scheduler, more);
    }

    /** True for the same protocol, address and port (the identity of a virtual service). */
    public boolean sameService(int proto, int addr, int port) {
        return this.proto == proto && this.addr == addr && this.port == port;
    }

    /** "TCP 10.0.0.100:80", as ipvsadm names a service in its listing. */
    public String label() {
        return label(proto, addr, port);
    }

    static String label(int proto, int addr, int port) {
        return Protocol.name(proto) + " " + Ipv4Address.toString(addr) + ":" + port;
    }

    /**
     * One real server of a service as configured (ipvsadm {@code -a}).
     *
     * @param addr           real server IPv4 address, host order
     * @param port           real server port, 1..65535 (for DR and TUN the
     *                       service's port: ipvsadm forces it, the frame's port is never rewritten)
     * @param weight         0..65535; 0 = quiesced
     * @param method         forwarding method
     * @param upperThreshold -x: no new connections at or above this many; 0 = no limit
     * @param lowerThreshold -y: new connections again below this many; 0 = 3/4 of the upper
     */
    public record Dest(int addr, int port, int weight, ForwardMethod method, int upperThreshold,
                       int lowerThreshold) {
        public Dest {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("real server port " + port + " out of range 1..65535");
            }
            if (weight < 0 || weight > 65535) {
                throw new IllegalArgumentException("illegal weight specified: " + weight + " (expected 0..65535)");
            }
            Objects.requireNonNull(method, "method");
            if (upperThreshold < 0) {
                throw new IllegalArgumentException("illegal u_threshold specified: " + upperThreshold);
            }
            if (lowerThreshold < 0) {
                throw new IllegalArgumentException("illegal l_threshold specified: " + lowerThreshold);
            }
            // The kernel's check (ip_vs_add_dest: -ERANGE), which also applies when there is no upper.
            if (lowerThreshold > upperThreshold) {
                throw new IllegalArgumentException("lower threshold " + lowerThreshold
                        + " is higher than upper threshold " + upperThreshold);
            }
        }

        /** A destination without connection thresholds. */
        public Dest(int addr, int port, int weight, ForwardMethod method) {
            this(addr, port, weight, method, 0, 0);
        }

        public boolean sameEndpoint(Dest other) {
            return addr == other.addr && port == other.port;
        }

        /** "10.0.0.11:80" */
        public String endpoint() {
            return Ipv4Address.toString(addr) + ":" + port;
        }
    }
}
