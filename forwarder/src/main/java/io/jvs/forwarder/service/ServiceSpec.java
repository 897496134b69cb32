package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the operator asked for: one virtual service (ipvsadm {@code -A}) and
 * its real servers ({@code -a}) in the order they were added. Pure
 * configuration, immutable, with no runtime state; {@link ServiceTableBuilder}
 * turns a list of these into a publishable {@link ServiceTable}.
 *
 * <p>A service is either an address service (protocol, VIP, port: {@code -t}/{@code -u})
 * or a firewall-mark service ({@code -f N}: {@code fwmark != 0}, protocol,
 * address and port 0; packets get the mark from {@link FwmarkRule}s).
 *
 * <p>Invariants (checked on construction, with ipvsadm's or the kernel's
 * wording where they have one): protocol TCP or UDP for address services;
 * port 1..65535, or 0 only for a persistent service ("Zero port specified for
 * non-persistent service"); scheduler name non-empty; scheduler flags only
 * the three IP_VS_SVC_F_SCHED bits; persistence timeout >= 0 (0 = not
 * persistent) with a contiguous netmask; no two destinations with the same
 * address and port ("Destination already exists"); a FULLNAT destination
 * needs at least one local address.
 *
 * @param proto          {@link Protocol#TCP} or {@link Protocol#UDP}; 0 for a fwmark service
 * @param addr           virtual IPv4 address, host order; 0 for a fwmark service
 * @param port           virtual port; 0 = all ports (persistent services only) and for fwmark services
 * @param fwmark         firewall mark (unsigned), 0 = an address service
 * @param scheduler      ipvsadm scheduler name ("rr", "wlc", ...), resolved when the table is built
 * @param schedFlags     {@link #SCHED_FLAG_1} | {@link #SCHED_FLAG_2} | {@link #SCHED_FLAG_3}
 *                       (ipvsadm {@code -b}: sh-fallback/mh-fallback = 1, sh-port/mh-port = 2)
 * @param persistTimeout {@code -p} seconds, 0 = not persistent
 * @param persistMask    {@code -M} client netmask for persistence templates, host order (default /32)
 * @param onePacket      {@code -o}: UDP one-packet scheduling (no connection entry kept)
 * @param localAddrs     FULLNAT local addresses (LIP pool) of the director, host order
 * @param clientAddress  how FULLNAT real servers learn the client address
 * @param dests          real servers in the order added (oldest first; the built
 *                       table lists them newest first, as IPVS does)
 * @param timeouts       the service's own ESTABLISHED / FIN_WAIT / UDP timeouts (jvs extension)
 * @param synProxy       {@code --synproxy}: the director answers SYNs with SYN cookies and opens the
 *                       real server's side only for a client ACK with a valid cookie (jvs extension;
 *                       TCP or fwmark services whose real servers forward by NAT or FULLNAT)
 * @param clientPolicy   allow/deny prefixes and per-client limits (jvs extension)
 * @param addr6          null for an IPv4 service; for an IPv6 one its 128-bit VIP ({@code addr} is then 0),
 *                       or {@link Ipv6Address#UNSPECIFIED} for an IPv6 fwmark service ({@code -f N -6}), as the
 *                       kernel keeps {@code af = AF_INET6} with the address {@code ::}. An IPv6 service's
 *                       {@code persistMask} is a prefix length 1..128 (the kernel's netmask field for AF_INET6,
 *                       ipvsadm's {@code -M 64}), 128 by default.
 * @param localAddrs6    an IPv6 service's FULLNAT local addresses ({@code --laddr} with IPv6 addresses);
 *                       an IPv6 service has these and no {@code localAddrs}, an IPv4 one the reverse
 */
public record ServiceSpec(int proto, int addr, int port, int fwmark, String scheduler, int schedFlags,
                          int persistTimeout, int persistMask, boolean onePacket, List<Integer> localAddrs,
                          ClientAddressMode clientAddress, List<Dest> dests, ServiceTimeouts timeouts,
                          boolean synProxy, ClientPolicy clientPolicy, Ipv6Address addr6,
                          List<Ipv6Address> localAddrs6) {

    /** ipvsadm's default scheduler. */
    public static final String DEFAULT_SCHEDULER = "wlc";
    /** ipvsadm's default persistence timeout for a bare {@code -p}, seconds. */
    public static final int DEFAULT_PERSIST_TIMEOUT = 300;
    /** IP_VS_SVC_F_SCHED1/2/3: sh-fallback / mh-fallback, sh-port / mh-port, unused. */
    public static final int SCHED_FLAG_1 = 0x0008;
    public static final int SCHED_FLAG_2 = 0x0010;
    public static final int SCHED_FLAG_3 = 0x0020;
    public static final int SCHED_FLAGS = SCHED_FLAG_1 | SCHED_FLAG_2 | SCHED_FLAG_3;

    public ServiceSpec {
        if (fwmark != 0) {
            if (proto != 0 || addr != 0 || port != 0) {
                throw new IllegalArgumentException("a fwmark service has no protocol, address or port");
            }
        } else {
            if (proto != Protocol.TCP && proto != Protocol.UDP) {
                throw new IllegalArgumentException("protocol " + proto + " is neither TCP nor UDP");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " out of range 1..65535");
            }
            if (port == 0 && persistTimeout == 0) {
                throw new IllegalArgumentException("Zero port specified for non-persistent service");
            }
        }
        Objects.requireNonNull(scheduler, "scheduler");
        if (scheduler.isBlank()) {
            throw new IllegalArgumentException("empty scheduler name");
        }
        if ((schedFlags & ~SCHED_FLAGS) != 0) {
            throw new IllegalArgumentException("unknown scheduler flags 0x" + Integer.toHexString(schedFlags));
        }
        if (persistTimeout < 0) {
            throw new IllegalArgumentException("illegal persistence timeout " + persistTimeout);
        }
        if (addr6 != null) {
            if (fwmark == 0) {
                checkVip6(addr6);
            } else if (!addr6.isUnspecified()) {
                throw new IllegalArgumentException("an IPv6 fwmark service has the address ::");
            }
            if (addr != 0) {
                throw new IllegalArgumentException("an IPv6 service has no IPv4 address");
            }
            if (persistMask < 1 || persistMask > 128) {
                throw new IllegalArgumentException("illegal ipv6 netmask specified (" + persistMask
                        + "; expected a prefix length 1..128)");
            }
            if (!localAddrs.isEmpty()) {
                throw new IllegalArgumentException(label(proto, addr, port, fwmark, addr6)
                        + ": the local addresses (--laddr) of an IPv6 service are IPv6 addresses");
            }
            for (Ipv6Address lip : localAddrs6) {
                checkLocalAddr6(lip);
            }
        } else if (!localAddrs6.isEmpty()) {
            throw new IllegalArgumentException(label(proto, addr, port, fwmark, addr6)
                    + ": the local addresses (--laddr) of an IPv4 service are IPv4 addresses");
        } else if (persistMask == 0 || (~persistMask & (~persistMask + 1)) != 0) {
            throw new IllegalArgumentException("illegal netmask " + Ipv4Address.toString(persistMask)
                    + " (expected a contiguous mask such as 255.255.255.0)");
        }
        if (onePacket && proto != Protocol.UDP && fwmark == 0) {
            throw new IllegalArgumentException("One-Packet Scheduling only for UDP services");
        }
        localAddrs = List.copyOf(localAddrs);
        localAddrs6 = List.copyOf(localAddrs6);
        for (int i = 0; i < localAddrs6.size(); i++) {
            if (localAddrs6.indexOf(localAddrs6.get(i)) != i) {
                throw new IllegalArgumentException("local address " + localAddrs6.get(i) + " given twice in --laddr");
            }
        }
        Objects.requireNonNull(clientAddress, "clientAddress");
        Objects.requireNonNull(timeouts, "timeouts (use ServiceTimeouts.GLOBAL)");
        Objects.requireNonNull(clientPolicy, "clientPolicy (use ClientPolicy.NONE)");
        for (List<ClientPrefix> list : List.of(clientPolicy.allow(), clientPolicy.deny())) {
            for (ClientPrefix p : list) {
                if (p.isIpv6() != (addr6 != null)) {
                    // a client of the other family never reaches the service: the prefix could only mislead
                    throw new IllegalArgumentException(label(proto, addr, port, fwmark, addr6) + ": client prefix " + p
                            + " is " + (p.isIpv6() ? "IPv6" : "IPv4") + ", the service " + (addr6 != null ? "IPv6" : "IPv4"));
                }
            }
        }
        dests = List.copyOf(dests);
        for (int i = 0; i < dests.size(); i++) {
            Dest d = dests.get(i);
            for (int j = 0; j < i; j++) {
                if (dests.get(j).sameEndpoint(d)) {
                    throw new IllegalArgumentException(
                            label(proto, addr, port, fwmark, addr6) + " -r " + d.endpoint() + ": Destination already exists");
                }
            }
            if (d.method() == ForwardMethod.FULLNAT && localAddrs.isEmpty() && localAddrs6.isEmpty()) {
                throw new IllegalArgumentException(label(proto, addr, port, fwmark, addr6) + " -r " + d.endpoint()
                        + ": a FULLNAT real server needs the service's local addresses (--laddr)");
            }
            if (d.isIpv6() != (addr6 != null) && d.method() != ForwardMethod.TUN) {
                // ip_vs_ctl.c: a destination of the other family only as a tunnel (ipvsadm's words)
                throw new IllegalArgumentException(label(proto, addr, port, fwmark, addr6) + " -r " + d.endpoint()
                        + ": Different address family is allowed only for tunneling servers");
            }
            if (synProxy && (d.method() == ForwardMethod.DR || d.method() == ForwardMethod.TUN)) {
                // The server's replies would bypass the director, which must translate their
                // sequence numbers (its cookie ISN is not the server's).
                throw new IllegalArgumentException(label(proto, addr, port, fwmark, addr6) + " -r " + d.endpoint()
                        + ": --synproxy needs NAT or FULLNAT real servers (" + d.method().name()
                        + " replies bypass the director)");
            }
        }
        if (synProxy && fwmark == 0 && proto != Protocol.TCP) {
            throw new IllegalArgumentException(label(proto, addr, port, fwmark, addr6) + ": --synproxy is for TCP services");
        }
    }

    /** A service with all settings but IPv6 local addresses (none). */
    public ServiceSpec(int proto, int addr, int port, int fwmark, String scheduler, int schedFlags,
                       int persistTimeout, int persistMask, boolean onePacket, List<Integer> localAddrs,
                       ClientAddressMode clientAddress, List<Dest> dests, ServiceTimeouts timeouts,
                       boolean synProxy, ClientPolicy clientPolicy, Ipv6Address addr6) {
        this(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask, onePacket, localAddrs,
                clientAddress, dests, timeouts, synProxy, clientPolicy, addr6, List.of());
    }

    /** An IPv4 service with all settings. */
    public ServiceSpec(int proto, int addr, int port, int fwmark, String scheduler, int schedFlags,
                       int persistTimeout, int persistMask, boolean onePacket, List<Integer> localAddrs,
                       ClientAddressMode clientAddress, List<Dest> dests, ServiceTimeouts timeouts,
                       boolean synProxy, ClientPolicy clientPolicy) {
        this(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask, onePacket, localAddrs,
                clientAddress, dests, timeouts, synProxy, clientPolicy, null);
    }

    /** All settings but the client policy (none). */
    public ServiceSpec(int proto, int addr, int port, int fwmark, String scheduler, int schedFlags,
                       int persistTimeout, int persistMask, boolean onePacket, List<Integer> localAddrs,
                       ClientAddressMode clientAddress, List<Dest> dests, ServiceTimeouts timeouts,
                       boolean synProxy) {
        this(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask, onePacket, localAddrs,
                clientAddress, dests, timeouts, synProxy, ClientPolicy.NONE);
    }

    /** All settings but the SYN proxy (off). */
    public ServiceSpec(int proto, int addr, int port, int fwmark, String scheduler, int schedFlags,
                       int persistTimeout, int persistMask, boolean onePacket, List<Integer> localAddrs,
                       ClientAddressMode clientAddress, List<Dest> dests, ServiceTimeouts timeouts,
                       ClientPolicy clientPolicy) {
        this(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask, onePacket, localAddrs,
                clientAddress, dests, timeouts, false, clientPolicy);
    }

    /** All settings but the SYN proxy (off) and the client policy (none). */
    public ServiceSpec(int proto, int addr, int port, int fwmark, String scheduler, int schedFlags,
                       int persistTimeout, int persistMask, boolean onePacket, List<Integer> localAddrs,
                       ClientAddressMode clientAddress, List<Dest> dests, ServiceTimeouts timeouts) {
        this(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask, onePacket, localAddrs,
                clientAddress, dests, timeouts, false, ClientPolicy.NONE);
    }

    /** All settings but the service's own timeouts (the global ones apply). */
    public ServiceSpec(int proto, int addr, int port, int fwmark, String scheduler, int schedFlags,
                       int persistTimeout, int persistMask, boolean onePacket, List<Integer> localAddrs,
                       ClientAddressMode clientAddress, List<Dest> dests) {
        this(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask, onePacket, localAddrs,
                clientAddress, dests, ServiceTimeouts.GLOBAL);
    }

    /** An address service with no real servers, scheduler flags, persistence or FULLNAT settings. */
    public ServiceSpec(int proto, int addr, int port, String scheduler) {
        this(proto, addr, port, scheduler, List.of());
    }

    /** An address service with these real servers and default settings otherwise. */
    public ServiceSpec(int proto, int addr, int port, String scheduler, List<Dest> dests) {
        this(proto, addr, port, 0, scheduler, 0, 0, -1, false, List.of(), ClientAddressMode.NONE, dests);
    }

    /** An IPv6 address service ({@code -t [addr]:port}) with these real servers and default settings otherwise. */
    public static ServiceSpec ipv6(int proto, Ipv6Address vip, int port, String scheduler, List<Dest> dests) {
        return new ServiceSpec(proto, 0, port, 0, scheduler, 0, 0, 128, false, List.of(), ClientAddressMode.NONE,
                dests, ServiceTimeouts.GLOBAL, false, ClientPolicy.NONE, vip);
    }

    /** An IPv6 fwmark service ({@code -f mark -6}) with default settings. */
    public static ServiceSpec fwmark6(int mark, String scheduler) {
        return new ServiceSpec(0, 0, 0, mark, scheduler, 0, 0, 128, false, List.of(), ClientAddressMode.NONE,
                List.of(), ServiceTimeouts.GLOBAL, false, ClientPolicy.NONE, Ipv6Address.UNSPECIFIED);
    }

    /**
     * What an IPv6 VIP may not be (ip_vs_ctl.c takes any address; jvs refuses those a VIP cannot
     * work as): multicast, unspecified, loopback, link-local (a link-local VIP would need a zone
     * and answers on one link only), IPv4-mapped (an IPv4 service is written as IPv4).
     */
    public static void checkVip6(Ipv6Address a) {
        String why = a.isUnspecified() ? "the unspecified address" : a.isLoopback() ? "the loopback address"
                : a.isMulticast() ? "a multicast address" : a.isLinkLocal() ? "a link-local address (fe80::/10)"
                : a.isIpv4Mapped() ? "an IPv4-mapped address (write the IPv4 address)" : null;
        if (why != null) {
            throw new IllegalArgumentException("[" + a + "]: " + why + " cannot be a virtual service address");
        }
    }

    /**
     * What an IPv6 FULLNAT local address may not be: what a VIP may not be ({@link #checkVip6}'s
     * reasons; the real servers answer it through the director's NDP answers on the LAN).
     */
    public static void checkLocalAddr6(Ipv6Address a) {
        String why = a.isUnspecified() ? "the unspecified address" : a.isLoopback() ? "the loopback address"
                : a.isMulticast() ? "a multicast address" : a.isLinkLocal() ? "a link-local address (fe80::/10)"
                : a.isIpv4Mapped() ? "an IPv4-mapped address" : null;
        if (why != null) {
            throw new IllegalArgumentException("local address " + a + " (--laddr): " + why
                    + " cannot be a FULLNAT local address");
        }
    }

    /** A fwmark service ({@code -f mark}) with default settings. */
    public static ServiceSpec fwmark(int mark, String scheduler) {
        return new ServiceSpec(0, 0, 0, mark, scheduler, 0, 0, -1, false, List.of(), ClientAddressMode.NONE,
                List.of());
    }

    /** This service with {@code dest} added after the others. */
    public ServiceSpec withDest(Dest dest) {
        List<Dest> more = new ArrayList<>(dests.size() + 1);
        more.addAll(dests);
        more.add(Objects.requireNonNull(dest));
        return withDests(more);
    }

    public ServiceSpec withDests(List<Dest> newDests) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask,
                onePacket, localAddrs, clientAddress, newDests, timeouts, synProxy, clientPolicy, addr6, localAddrs6);
    }

    public ServiceSpec withScheduler(String newScheduler, int newSchedFlags) {
        return new ServiceSpec(proto, addr, port, fwmark, newScheduler, newSchedFlags, persistTimeout, persistMask,
                onePacket, localAddrs, clientAddress, dests, timeouts, synProxy, clientPolicy, addr6, localAddrs6);
    }

    /** {@code -p timeout -M mask}; timeout 0 = not persistent. */
    public ServiceSpec withPersistence(int timeout, int mask) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, timeout, mask, onePacket,
                localAddrs, clientAddress, dests, timeouts, synProxy, clientPolicy, addr6, localAddrs6);
    }

    public ServiceSpec withOnePacket(boolean ops) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask, ops,
                localAddrs, clientAddress, dests, timeouts, synProxy, clientPolicy, addr6, localAddrs6);
    }

    /** IPv4 FULLNAT local addresses and the client address mode. */
    public ServiceSpec withFullNat(List<Integer> newLocalAddrs, ClientAddressMode mode) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask,
                onePacket, newLocalAddrs, mode, dests, timeouts, synProxy, clientPolicy, addr6, localAddrs6);
    }

    /** IPv6 FULLNAT local addresses (an IPv6 service) and the client address mode. */
    public ServiceSpec withFullNat6(List<Ipv6Address> newLocalAddrs6, ClientAddressMode mode) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask,
                onePacket, localAddrs, mode, dests, timeouts, synProxy, clientPolicy, addr6, newLocalAddrs6);
    }

    /** The service's own timeouts ({@link ServiceTimeouts#GLOBAL} = none). */
    public ServiceSpec withTimeouts(ServiceTimeouts newTimeouts) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask,
                onePacket, localAddrs, clientAddress, dests, newTimeouts, synProxy, clientPolicy, addr6, localAddrs6);
    }

    /** {@code --synproxy} on or off. */
    public ServiceSpec withSynProxy(boolean on) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask,
                onePacket, localAddrs, clientAddress, dests, timeouts, on, clientPolicy, addr6, localAddrs6);
    }

    /** The service's allow/deny lists and per-client limits ({@link ClientPolicy#NONE} = none). */
    public ServiceSpec withClientPolicy(ClientPolicy newPolicy) {
        return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, persistMask,
                onePacket, localAddrs, clientAddress, dests, timeouts, synProxy, newPolicy, addr6, localAddrs6);
    }

    public boolean persistent() {
        return persistTimeout > 0;
    }

    public boolean isFwmark() {
        return fwmark != 0;
    }

    /** An IPv6 service (address or {@code -f N -6}). */
    public boolean isIpv6() {
        return addr6 != null;
    }

    /** True for the same protocol, address and port of an address service (the identity of a virtual service). */
    public boolean sameService(int proto, int addr, int port) {
        return fwmark == 0 && addr6 == null && this.proto == proto && this.addr == addr && this.port == port;
    }

    /** True for the same IPv6 address service (protocol, 128-bit VIP, port). */
    public boolean sameService6(int proto, Ipv6Address addr, int port) {
        return fwmark == 0 && addr.equals(addr6) && this.proto == proto && this.port == port;
    }

    /** True for the same identity: family and fwmark, or family, protocol, address and port. */
    public boolean sameService(ServiceSpec other) {
        return identity().equals(other.identity());
    }

    /** This service's {@link Identity}. */
    public Identity identity() {
        return Identity.of(addr6 != null, fwmark, proto, addr, addr6, port);
    }

    /**
     * A virtual service's identity as the kernel keys it, hashable: the family, then the fwmark,
     * or the protocol, address and port. Of a fwmark service only the family and mark count.
     */
    public record Identity(boolean ipv6, int fwmark, int proto, int addr, Ipv6Address addr6, int port) {
        /** The identity of a service (or a command naming one) with these fields; what does not count is zeroed. */
        public static Identity of(boolean ipv6, int fwmark, int proto, int addr, Ipv6Address addr6, int port) {
            return fwmark != 0 ? new Identity(ipv6, fwmark, 0, 0, null, 0)
                    : new Identity(ipv6, 0, proto, ipv6 ? 0 : addr, ipv6 ? addr6 : null, port);
        }
    }

    /** "TCP 10.0.0.100:80", "TCP [2001:db8::1]:80", "FWM 1" or "FWM 1 IPv6", as jvs names a service in its messages. */
    public String label() {
        return label(proto, addr, port, fwmark, addr6);
    }

    static String label(int proto, int addr, int port, int fwmark, Ipv6Address addr6) {
        if (fwmark != 0) {
            return "FWM " + Integer.toUnsignedString(fwmark) + (addr6 != null ? " IPv6" : "");
        }
        return Protocol.name(proto) + " " + hostPort(addr, addr6, port);
    }

    /** "10.0.0.1:80" or "[2001:db8::1]:80" (ipvsadm's numeric addrport_to_anyname). */
    public static String hostPort(int addr, Ipv6Address addr6, int port) {
        return addr6 == null ? Ipv4Address.toString(addr) + ":" + port : "[" + addr6 + "]:" + port;
    }

    /**
     * One real server of a service as configured (ipvsadm {@code -a}).
     *
     * @param addr           real server IPv4 address, host order
     * @param port           real server port, 0..65535 (for DR and TUN the
     *                       service's port: ipvsadm forces it, the frame's port is
     *                       never rewritten; 0 in a fwmark or port-0 service = the packet's port)
     * @param weight         0..65535; 0 = quiesced
     * @param method         forwarding method
     * @param upperThreshold -x: no new connections at or above this many; 0 = no limit
     * @param lowerThreshold -y: new connections again below this many; 0 = 3/4 of the upper
     * @param tunType        TUN encapsulation ({@code --tun-type}); IPIP unless the method is TUN
     * @param tunPort        GUE destination port ({@code --tun-port}), 0 for IPIP
     * @param tunFlags       {@link TunnelType#FLAG_CSUM} / {@link TunnelType#FLAG_REMCSUM} ({@code --tun-csum}...)
     * @param addr6          null for an IPv4 real server; else its IPv6 address ({@code addr} is then 0)
     */
    public record Dest(int addr, int port, int weight, ForwardMethod method, int upperThreshold,
                       int lowerThreshold, TunnelType tunType, int tunPort, int tunFlags, Ipv6Address addr6) {
        public Dest {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("real server port " + port + " out of range 0..65535");
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
            Objects.requireNonNull(tunType, "tunType");
            if (tunPort < 0 || tunPort > 65535) {
                throw new IllegalArgumentException("tunnel port " + tunPort + " out of range 1..65535");
            }
            if (method == ForwardMethod.TUN && tunType == TunnelType.GUE && tunPort == 0) {
                throw new IllegalArgumentException("GUE tunnel needs a port (--tun-port)");
            }
            if ((tunFlags & ~(TunnelType.FLAG_CSUM | TunnelType.FLAG_REMCSUM)) != 0
                    || tunFlags == (TunnelType.FLAG_CSUM | TunnelType.FLAG_REMCSUM)) {
                throw new IllegalArgumentException("illegal tunnel checksum flags " + tunFlags);
            }
            if (addr6 != null && addr != 0) {
                throw new IllegalArgumentException("an IPv6 real server has no IPv4 address");
            }
            if (addr6 != null && (addr6.isUnspecified() || addr6.isMulticast() || addr6.isLoopback())) {
                throw new IllegalArgumentException("[" + addr6 + "]: not a unicast real server address");
            }
        }

        /** An IPv4 real server with every setting. */
        public Dest(int addr, int port, int weight, ForwardMethod method, int upperThreshold, int lowerThreshold,
                    TunnelType tunType, int tunPort, int tunFlags) {
            this(addr, port, weight, method, upperThreshold, lowerThreshold, tunType, tunPort, tunFlags, null);
        }

        /** An IPv6 real server without thresholds, IPIP if tunnelled. */
        public static Dest ipv6(Ipv6Address addr, int port, int weight, ForwardMethod method) {
            return new Dest(0, port, weight, method, 0, 0, TunnelType.IPIP, 0, TunnelType.FLAG_NOCSUM, addr);
        }

        public boolean isIpv6() {
            return addr6 != null;
        }

        /** A destination with connection thresholds and IPIP if tunnelled. */
        public Dest(int addr, int port, int weight, ForwardMethod method, int upperThreshold, int lowerThreshold) {
            this(addr, port, weight, method, upperThreshold, lowerThreshold, TunnelType.IPIP, 0, TunnelType.FLAG_NOCSUM);
        }

        /** A destination without connection thresholds. */
        public Dest(int addr, int port, int weight, ForwardMethod method) {
            this(addr, port, weight, method, 0, 0);
        }

        public Dest withWeight(int newWeight) {
            return new Dest(addr, port, newWeight, method, upperThreshold, lowerThreshold, tunType, tunPort, tunFlags,
                    addr6);
        }

        public boolean sameEndpoint(Dest other) {
            return addr == other.addr && port == other.port && java.util.Objects.equals(addr6, other.addr6);
        }

        /** "10.0.0.11:80" or "[2001:db8::11]:80" */
        public String endpoint() {
            return hostPort(addr, addr6, port);
        }
    }
}
