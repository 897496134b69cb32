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
 * repeatable), which then replaces the route's answer for that address.
 *
 * <p>Immutable; {@link #answersOn} is allocation-free (a linear scan of a few overrides).
 */
public final class ArpScope {
    /** No overrides: the routes decide. */
    public static final ArpScope BY_ROUTE = new ArpScope(Map.of());

    private final int[] addrs;
    private final long[] portMasks;

    /** @param overrides address to the bitmask of port numbers that answer for it (bit p = port p) */
    public ArpScope(Map<Integer, Long> overrides) {
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
}
