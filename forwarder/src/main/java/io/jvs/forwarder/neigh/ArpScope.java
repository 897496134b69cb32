package io.jvs.forwarder.neigh;

import io.jvs.packet.Ipv4Address;

import java.util.Map;
import java.util.TreeMap;

/**
 * On which ports jvs answers ARP for (and announces) a VIP or FULLNAT local address: where
 * its clients are. By default the routing table tells: the port whose segment holds the
 * address ({@link RouteTable#segmentPort}: a VIP on the external segment is answered there
 * and nowhere else; a routed VIP, by the port of the default route); when no route by one
 * of jvs's ports covers it, on every port (with one port: always there, as before). An
 * operator whose routes do not tell names the ports per address ({@code --arp-on ADDR=IFACE},
 * repeatable), which then replaces the route's answer for that address. NDP for an IPv6 VIP or
 * local address is scoped the same way by the IPv6 routes ({@link #answersOn6}).
 *
 * <p>Immutable; {@link #answersOn} is allocation-free (a linear scan of a few overrides).
 */
public final class ArpScope {
    /** No overrides: the routes decide. */
    public static final ArpScope BY_ROUTE = new ArpScope(Map.of());

    private final int[] addrs;
    private final long[] portMasks;
    /**
     * The ECMP profile (--announce-table): VIPs are reached by the router's routes to the
     * directors' own addresses, so no director answers ARP for them (all would, and the LAN would
     * follow the last one); FULLNAT local addresses are each director's own and still answered.
     */
    private final boolean vipsRouted;

    /** @param overrides address to the bitmask of port numbers that answer for it (bit p = port p) */
    public ArpScope(Map<Integer, Long> overrides) {
        this(overrides, false);
    }

    private ArpScope(Map<Integer, Long> overrides, boolean vipsRouted) {
        this.vipsRouted = vipsRouted;
        Map<Integer, Long> sorted = new TreeMap<>(overrides);
        addrs = new int[sorted.size()];
        portMasks = new long[sorted.size()];
        int i = 0;
        for (Map.Entry<Integer, Long> e : sorted.entrySet()) {
            if (e.getValue() == 0) {
                throw new IllegalArgumentException("ARP scope of " + Ipv4Address.toString(e.getKey()) + ": no port");
            }
            addrs[i] = e.getKey();
            portMasks[i++] = e.getValue();
        }
    }

    /** This scope, with VIPs left to routing (the ECMP profile): see {@link #vipsRouted()}. */
    public ArpScope withRoutedVips() {
        Map<Integer, Long> m = new TreeMap<>();
        for (int i = 0; i < addrs.length; i++) {
            m.put(addrs[i], portMasks[i]);
        }
        return new ArpScope(m, true);
    }

    /** True in the ECMP profile: ARP for a VIP is never answered nor announced. */
    public boolean vipsRouted() {
        return vipsRouted;
    }

    /** Whether jvs answers ARP requests for addr (and announces it) on port {@code port}. */
    public boolean answersOn(int addr, int port, RouteTable routes) {
        for (int i = 0; i < addrs.length; i++) {
            if (addrs[i] == addr) {
                return (portMasks[i] & (1L << port)) != 0;
            }
        }
        int p = routes.segmentPort(addr);
        return p < 0 || p == port;
    }

    /**
     * Whether jvs answers Neighbor Solicitations for the IPv6 address (hi, lo) (and sends its
     * unsolicited NAs) on port {@code port}: by the IPv6 routes as {@link #answersOn} is by the
     * IPv4 ones (--arp-on names IPv4 addresses only).
     */
    public boolean answersOn6(long hi, long lo, int port, RouteTable6 routes) {
        int p = routes.segmentPort(hi, lo);
        return p < 0 || p == port;
    }
}
