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
     * THE place the director refuses IPv6 (issue 16): the model, jvsadm, -S/-R, the config file
     * and keepalived.conf hold and print IPv6 services and real servers, but the data path does
     * not forward IPv6 yet, so a director must not accept a service it would silently drop.
     * The IPv6 data path's wiring (ServiceTable.classify6 / lookup6 / isVip6, Scheduler.schedule6)
     * removes this method, or narrows it to what it still cannot forward.
     */
    static void refuseIpv6(VirtualService s) {
        if (s.ipv6) {
            throw new IllegalArgumentException(s.spec.label() + ": IPv6 services are not forwarded yet");
        }
        for (RealServer d : s.dests) {
            if (d.ipv6) {
                throw new IllegalArgumentException("real server " + d.endpoint() + " of " + s.label()
                        + ": IPv6 real servers are not forwarded yet (TUN with an IPv6 outer header)");
            }
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
            VirtualService running = s.fwmark != 0 ? current.lookupFwmark(s.fwmark)
                    : current.lookup(s.proto, s.addr, s.port);
            for (RealServer d : s.dests) {
                RealServer was = running == null ? null : running.dest(d.addr, d.port);
                boolean known = was != null && was.method == ForwardMethod.TUN;
                if (d.method == ForwardMethod.TUN && !known && rt.nextHop(d.addr) == 0) {
                    throw new IllegalArgumentException("real server " + d.endpoint() + " of " + s.label()
                            + ": TUN real server is unreachable (no route to " + Ipv4Address.toString(d.addr)
                            + " in the director's routing table)");
                }
            }
        }
    }
}
