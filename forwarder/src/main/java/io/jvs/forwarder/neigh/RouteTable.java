package io.jvs.forwarder.neigh;

import io.jvs.sys.NativeException;
import io.jvs.sys.RtNetlink;

import java.util.Comparator;
import java.util.List;

/**
 * The director namespace's own IPv4 main routing table, read through rtnetlink
 * and kept as an immutable snapshot, so no route is configured twice: jvs asks
 * the kernel where a real server or a client is, and sends to that next hop on
 * its LAN port. Lookup is longest-prefix match over primitive arrays (a
 * director has a handful of routes), allocation-free.
 */
public final class RouteTable {
    public static final RouteTable EMPTY = new RouteTable(List.of(), 0);

    private final int[] dst;
    private final int[] mask;
    private final int[] gateway;
    private final boolean[] viaPort;

    /**
     * @param routes main-table routes
     * @param portIfindex the LAN port: routes through other interfaces are not reachable by jvs
     */
    public RouteTable(List<RtNetlink.Route> routes, int portIfindex) {
        List<RtNetlink.Route> sorted = routes.stream()
                .sorted(Comparator.comparingInt(RtNetlink.Route::dstLen).reversed()
                        .thenComparingInt(RtNetlink.Route::priority))
                .toList();
        int n = sorted.size();
        dst = new int[n];
        mask = new int[n];
        gateway = new int[n];
        viaPort = new boolean[n];
        for (int i = 0; i < n; i++) {
            RtNetlink.Route r = sorted.get(i);
            mask[i] = r.dstLen() == 0 ? 0 : -1 << (32 - r.dstLen());
            dst[i] = r.dst() & mask[i];
            gateway[i] = r.gateway();
            viaPort[i] = r.oif() == portIfindex;
        }
    }

    /** Reads the main table now. */
    public static RouteTable load(int portIfindex) throws NativeException {
        return new RouteTable(RtNetlink.routes(RtNetlink.RT_TABLE_MAIN), portIfindex);
    }

    /**
     * The next hop on the LAN port for a destination: the route's gateway, or
     * the destination itself when it is on-link; 0 when there is no route or
     * the route leaves through another interface.
     */
    public int nextHop(int addr) {
        for (int i = 0; i < dst.length; i++) {
            if ((addr & mask[i]) == dst[i]) {
                if (!viaPort[i]) {
                    return 0;
                }
                return gateway[i] != 0 ? gateway[i] : addr;
            }
        }
        return 0;
    }

    public int size() {
        return dst.length;
    }
}
