package io.jvs.forwarder;

import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.service.VirtualService;

/**
 * What the director refuses before a service table is published (the control plane's data-path
 * check, at start-up and on every change): what its data path cannot carry. Each check throws
 * IllegalArgumentException naming the service and real server; nothing here changes anything.
 */
final class DataPathChecks {
    private DataPathChecks() {
    }

    /** Validates what the data path cannot carry, before anything is attached. */
    static void validate(ServiceTable services) {
        for (VirtualService s : services.services()) {
            refuseIpv6(s);
            for (RealServer d : s.dests) {
                if (d.method == ForwardMethod.TUN && d.tunType == TunnelType.GRE) {
                    throw new IllegalArgumentException("real server " + d.endpoint() + " of " + s.label()
                            + ": tunnel type gre is not supported (ipip and gue are)");
                }
            }
        }
    }

    /**
     * THE place the director refuses what the IPv6 data path (pipeline.Ipv6Handler) cannot forward,
     * so that every accepted service is carried: it classifies by
     * jvs's IPv6 mark rules (fwmark services) and (protocol, VIP, port), schedules with persistence
     * templates, allow/deny lists, per-client limits and one-packet scheduling, and transmits by
     * DR, NAT and FULLNAT (behind the SYN proxy too) and TUN (ip6ip6, GUE over IPv6). A real
     * server of the other family is a TUN one (ServiceSpec refuses any other, in ipvsadm's words),
     * which both paths forward in packet mode as IPVS does (IPv4 in IPv6, IPv6 in IPv4, GUE over
     * either): nothing is left to refuse here; {@link #refuseMixedTun} names the modes that cannot.
     */
    static void refuseIpv6(VirtualService s) {
        for (RealServer d : s.dests) {
            if (d.ipv6 != s.ipv6 && d.method != ForwardMethod.TUN) {
                throw new IllegalArgumentException("real server " + d.endpoint() + " of " + s.label()
                        + ": Different address family is allowed only for tunneling servers");
            }
        }
    }

    /**
     * Refuses a TUN real server of the other family than its service's (IPVS's tunnels with a
     * different outer family), naming it, where the data path cannot carry it: {@code with}
     * names what is in the way (TAP mode: the kernel routes into the TAP only the VIPs and local
     * addresses, not the other family's tunnel endpoints' neighbour answers; XDP mode: its program
     * passes IPv6 to the kernel, NDP answers included).
     */
    static void refuseMixedTun(ServiceTable services, String with) {
        for (VirtualService s : services.services()) {
            for (RealServer d : s.dests) {
                if (d.ipv6 != s.ipv6) {
                    throw new IllegalArgumentException("real server " + d.endpoint() + " of " + s.label()
                            + ": a tunnel to a real server of the other family (IPv" + (d.ipv6 ? "4 in IPv6" : "6 in IPv4")
                            + ") is not forwarded with " + with);
                }
            }
        }
    }

    /**
     * Connection sync (IPVS's sync protocol has no field for the real server's family): as the
     * kernel, with a sync daemon running a real server of the other family is refused, naming it
     * (ip_vs_genl_set_cmd's -EINVAL, "Invalid argument"); {@link io.jvs.forwarder.sync.SyncDaemons}
     * refuses to start a daemon while one is configured (ip_vs_genl_new_daemon's -EINVAL).
     */
    static void refuseMixedWithSync(ServiceTable services, boolean syncRunning) {
        if (syncRunning) {
            refuseMixedTun(services, "a connection sync daemon running: Invalid argument (the sync protocol"
                    + " cannot carry the real server's family, as IPVS's)");
        }
    }

    /**
     * What the director runs with that the IPv6 path does not follow, refusing any IPv6 service,
     * naming it: {@code --attach xdp:} (the IPv6 path runs in packet and TAP mode: the XDP
     * program passes IPv6 to the kernel).
     *
     * @param with what is in the way, as the message says it (e.g. "--attach xdp")
     */
    static void refuseIpv6With(ServiceTable services, String with) {
        for (VirtualService s : services.services()) {
            if (s.ipv6) {
                throw new IllegalArgumentException(s.spec.label() + ": IPv6 services are not forwarded with " + with);
            }
        }
    }

    /**
     * TAP mode's checks beyond {@link #validate}: the IPv6 path forwards in TAP mode what it
     * forwards in packet mode (DR, NAT, FULLNAT and TUN over IPv6, address and fwmark services:
     * the kernel routes each IPv6 VIP, local address and /128 mark-rule destination into the
     * TAP, jvs sends by --lan), so only a host without IPv6 is in the way ({@link #refuseIpv6NoIpv6});
     * the mixed families are refused by {@link #refuseMixedTun} (they run in packet mode only).
     *
     * @param forwarding net.ipv6.conf.all.forwarding, null when the host has no IPv6
     */
    static void validateTap(ServiceTable services, String forwarding) {
        refuseIpv6NoIpv6(services, forwarding);
    }

    /**
     * TAP mode: the kernel forwards the IPv6 VIPs' packets into the TAP, which needs IPv6 in the
     * director's namespace (jvs turns its forwarding on with the first IPv6 address); on a host
     * booted without IPv6 ({@code forwarding} null: no net.ipv6 sysctls) IPv6 services are refused.
     */
    static void refuseIpv6NoIpv6(ServiceTable services, String forwarding) {
        if (forwarding == null) {
            refuseIpv6With(services, "--attach tap on a host without IPv6 (no /proc/sys/net/ipv6: the kernel"
                    + " cannot route IPv6 into the TAP)");
        }
    }

    /**
     * Packet mode: jvs answers NDP for an IPv6 VIP with the interface's own MAC, so the VIP's
     * packets reach the director's kernel too; with IPv6 forwarding on ({@code
     * net.ipv6.conf.all.forwarding}, which ip6_forward checks) it would forward them as well,
     * each twice. For IPv4 the director turns ip_forward off itself; for IPv6 it refuses the
     * service instead of changing the host's IPv6 (forwarding also decides whether it takes RAs).
     *
     * @param forwarding the sysctl's value, null when the host has no IPv6
     */
    static void refuseIpv6Forwarding(ServiceTable services, String forwarding) {
        if (!"0".equals(forwarding) && forwarding != null) {
            refuseIpv6With(services, "net.ipv6.conf.all.forwarding=" + forwarding
                    + " in the director's namespace (the kernel would forward the VIP's packets too; set it to 0)");
        }
    }

    /**
     * The ECMP profile (--announce-table): a NAT real server's replies go to its default gateway,
     * one director, while the router spreads the clients' packets over all of them; NAT is for a
     * VRRP pair. DR, TUN and FULLNAT (each director with its own local addresses) are fine.
     */
    static void validateEcmp(ServiceTable services) {
        for (VirtualService s : services.services()) {
            for (RealServer d : s.dests) {
                if (d.method == ForwardMethod.NAT) {
                    throw new IllegalArgumentException("real server " + d.endpoint() + " of " + s.label()
                            + ": NAT (-m) is refused with --announce-table (ECMP): the replies would reach one"
                            + " director, not the one holding the connection; use DR, TUN or FULLNAT, or a VRRP pair for NAT");
                }
            }
        }
    }

    /**
     * FULLNAT local addresses must be addresses only jvs answers for: were one an
     * address of the director's namespace, its kernel would also receive the real
     * servers' replies and reset them (no socket of its own matches).
     */
    static void validateLocalAddrs(ServiceTable services, int[] own) {
        for (int lip : services.localAddrs()) {
            for (int a : own) {
                if (a == lip) {
                    throw new IllegalArgumentException("local address " + Ipv4Address.toString(lip)
                            + " (--laddr) is an address of the director itself; FULLNAT needs addresses that only"
                            + " jvs answers for (the kernel would reset the replies to its own)");
                }
            }
        }
    }

    /**
     * As {@link #validateLocalAddrs} for IPv6 local addresses: none may be an IPv6 address of the
     * director's namespace (its kernel would take the real servers' replies and reset them).
     *
     * @param own the namespace's IPv6 addresses as hi, lo pairs
     */
    static void validateLocalAddrs6(ServiceTable services, long[] own) {
        long[] lips = services.localAddrs6();
        for (int i = 0; i + 1 < lips.length; i += 2) {
            for (int j = 0; j + 1 < own.length; j += 2) {
                if (own[j] == lips[i] && own[j + 1] == lips[i + 1]) {
                    throw new IllegalArgumentException("local address "
                            + new io.jvs.packet.Ipv6Address(lips[i], lips[i + 1])
                            + " (--laddr) is an address of the director itself; FULLNAT needs addresses that only"
                            + " jvs answers for (the kernel would reset the replies to its own)");
                }
            }
        }
    }

    /**
     * The checks that need the director's routing table: a TUN real server that
     * is new (not in {@code current}, the running table) must have a route (the
     * encapsulated packet is routed to it), else the change is refused naming it.
     * Servers already running are not re-checked, so a route that goes away does
     * not block unrelated changes. Before the director is attached there is no
     * routing table yet ({@link RouteTable#EMPTY}: nothing is checked); the director
     * checks the initial configuration once it is attached.
     */
    static void validateRoutes(ServiceTable services, RouteTable rt, ServiceTable current) {
        if (rt == RouteTable.EMPTY) {
            return;
        }
        for (VirtualService s : services.services()) {
            if (s.ipv6) {
                continue; // IPv4 routes only; refuseIpv6 leaves no TUN real server to an IPv6 service
            }
            VirtualService running = s.fwmark != 0 ? current.lookupFwmark(s.fwmark)
                    : current.lookup(s.proto, s.addr, s.port);
            for (RealServer d : s.dests) {
                RealServer was = running == null ? null : running.dest(d.addr, d.port);
                boolean known = was != null && was.method == ForwardMethod.TUN;
                if (d.method == ForwardMethod.TUN && !d.ipv6 && !known && rt.nextHop(d.addr) == 0) {
                    throw new IllegalArgumentException("real server " + d.endpoint() + " of " + s.label()
                            + ": TUN real server is unreachable (no route to " + Ipv4Address.toString(d.addr)
                            + " in the director's routing table)");
                }
            }
        }
    }
}
