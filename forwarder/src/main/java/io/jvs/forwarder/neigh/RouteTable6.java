package io.jvs.forwarder.neigh;

import io.jvs.packet.Ipv6Header;
import io.jvs.sys.NativeException;
import io.jvs.sys.RtNetlink;

import java.util.Comparator;
import java.util.List;

/**
 * The director namespace's IPv6 main routing table (rtnetlink RTM_GETROUTE, AF_INET6), as
 * {@link RouteTable} is for IPv4: an immutable snapshot, longest prefix first, each route
 * mapped to the port it leaves by when the snapshot is built, so the next hop and its port are
 * a scan over primitive arrays and an array index: allocation-free. Multicast destinations
 * (ff00::/8, which the kernel lists as unicast routes of the main table) are left out: jvs
 * never forwards to a multicast group.
 */
public final class RouteTable6 {
    public static final RouteTable6 EMPTY = new RouteTable6(List.of());

    private final long[] dstHi;
    private final long[] dstLo;
    private final long[] maskHi;
    private final long[] maskLo;
    private final long[] gwHi;
    private final long[] gwLo;
    private final int[] port;

    /**
     * @param routes        main-table IPv6 routes
     * @param portIfindexes the interface index of each port, by port number
     */
    public RouteTable6(List<RtNetlink.Route6> routes, int... portIfindexes) {
        List<RtNetlink.Route6> sorted = routes.stream()
                .filter(r -> !(r.dstLen() >= 8 && Ipv6Header.isMulticast(r.dstHi())))
                .sorted(Comparator.comparingInt(RtNetlink.Route6::dstLen).reversed()
                        .thenComparingInt(RtNetlink.Route6::priority))
                .toList();
        int n = sorted.size();
        dstHi = new long[n];
        dstLo = new long[n];
        maskHi = new long[n];
        maskLo = new long[n];
        gwHi = new long[n];
        gwLo = new long[n];
        port = new int[n];
        for (int i = 0; i < n; i++) {
            RtNetlink.Route6 r = sorted.get(i);
            int len = r.dstLen();
            maskHi[i] = len == 0 ? 0 : len >= 64 ? -1L : -1L << (64 - len);
            maskLo[i] = len <= 64 ? 0 : len >= 128 ? -1L : -1L << (128 - len);
            dstHi[i] = r.dstHi() & maskHi[i];
            dstLo[i] = r.dstLo() & maskLo[i];
            gwHi[i] = r.gatewayHi();
            gwLo[i] = r.gatewayLo();
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
    public static RouteTable6 load(int... portIfindexes) throws NativeException {
        return new RouteTable6(RtNetlink.routes6(RtNetlink.RT_TABLE_MAIN), portIfindexes);
    }

    /** The route the kernel would take to (hi, lo) (longest prefix), or -1 when there is none. */
    public int lookup(long hi, long lo) {
        for (int i = 0; i < dstHi.length; i++) {
            if ((hi & maskHi[i]) == dstHi[i] && (lo & maskLo[i]) == dstLo[i]) {
                return i;
            }
        }
        return -1;
    }

    /** The port route {@code route} leaves by; -1 when it is not one of jvs's. */
    public int port(int route) {
        return port[route];
    }

    /**
     * The port of the longest route by one of jvs's ports that covers (hi, lo): the segment an
     * address is on, or the port of the route it is reached by (as {@link RouteTable#segmentPort}
     * for IPv4); routes by other interfaces (a TAP) are skipped; -1 when none covers it.
     */
    public int segmentPort(long hi, long lo) {
        for (int i = 0; i < dstHi.length; i++) {
            if (port[i] >= 0 && (hi & maskHi[i]) == dstHi[i] && (lo & maskLo[i]) == dstLo[i]) {
                return port[i];
            }
        }
        return -1;
    }

    /** High half of the next hop of {@code route} towards (hi, lo): its gateway, or the destination when on-link. */
    public long hopHi(int route, long hi, long lo) {
        return gwHi[route] != 0 || gwLo[route] != 0 ? gwHi[route] : hi;
    }

    /** Low half of the next hop, as {@link #hopHi}. */
    public long hopLo(int route, long hi, long lo) {
        return gwHi[route] != 0 || gwLo[route] != 0 ? gwLo[route] : lo;
    }

    public int size() {
        return dstHi.length;
    }
}
