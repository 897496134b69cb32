package io.jvs.forwarder.neigh;

import io.jvs.sys.NativeException;
import io.jvs.sys.RtNetlink;

import java.util.Comparator;
import java.util.List;

/**
 * The director namespace's own IPv4 main routing table, read through rtnetlink
 * and kept as an immutable snapshot, so no route is configured twice: jvs asks
 * the kernel where a real server or a client is, and sends to that next hop by
 * the port (attached interface) the route leaves by. Each route is mapped to its
 * port number when the snapshot is built, so a lookup is a longest-prefix match
 * over primitive arrays (a director has a handful of routes), allocation-free.
 */
public final class RouteTable {
    public static final RouteTable EMPTY = new RouteTable(List.of());

    private final int[] dst;
    private final int[] mask;
    private final int[] gateway;
    /** The port each route leaves by (index into the ports given), -1: an interface jvs is not attached to. */
    private final int[] port;

    /**
     * @param routes main-table routes
     * @param portIfindexes the interface index of each port, by port number: routes through
     *                      other interfaces are not reachable by jvs
     */
    public RouteTable(List<RtNetlink.Route> routes, int... portIfindexes) {
        List<RtNetlink.Route> sorted = routes.stream()
                .sorted(Comparator.comparingInt(RtNetlink.Route::dstLen).reversed()
                        .thenComparingInt(RtNetlink.Route::priority))
                .toList();
        int n = sorted.size();
        dst = new int[n];
        mask = new int[n];
        gateway = new int[n];
        port = new int[n];
        for (int i = 0; i < n; i++) {
            RtNetlink.Route r = sorted.get(i);
            mask[i] = r.dstLen() == 0 ? 0 : -1 << (32 - r.dstLen());
            dst[i] = r.dst() & mask[i];
            gateway[i] = r.gateway();
            port[i] = -1;
            for (int p = 0; p < portIfindexes.length; p++) {
                if (r.oif() == portIfindexes[p]) {
                    port[i] = p;
                    break;
                }
            }
        }
    }

    /** Reads the main table now. */
    public static RouteTable load(int... portIfindexes) throws NativeException {
        return new RouteTable(RtNetlink.routes(RtNetlink.RT_TABLE_MAIN), portIfindexes);
    }

    /** The route the kernel would take to addr (longest prefix), or -1 when there is none. */
    public int lookup(int addr) {
        for (int i = 0; i < dst.length; i++) {
            if ((addr & mask[i]) == dst[i]) {
                return i;
            }
        }
        return -1;
    }

    /** The port route {@code route} (from {@link #lookup}) leaves by; -1 when it is not one of jvs's. */
    public int port(int route) {
        return port[route];
    }

    /** The next hop of route {@code route} towards addr: its gateway, or addr itself when on-link. */
    public int hop(int route, int addr) {
        return gateway[route] != 0 ? gateway[route] : addr;
    }

    /**
     * The next hop by one of jvs's ports for a destination: the route's gateway, or
     * the destination itself when it is on-link; 0 when there is no route or
     * the route leaves through an interface jvs is not attached to.
     */
    public int nextHop(int addr) {
        int r = lookup(addr);
        return r < 0 || port[r] < 0 ? 0 : hop(r, addr);
    }

    /**
     * The port whose segment holds addr, for ARP: the longest prefix among the routes that
     * leave by one of jvs's ports (a route into the TAP, or by another interface, is not a
     * segment jvs answers on); -1 when none does.
     */
    public int segmentPort(int addr) {
        for (int i = 0; i < dst.length; i++) {
            if (port[i] >= 0 && (addr & mask[i]) == dst[i]) {
                return port[i];
            }
        }
        return -1;
    }

    /** The gateway of route {@code route}; 0 when it is on-link. */
    public int gateway(int route) {
        return gateway[route];
    }

    public int size() {
        return dst.length;
    }
}
