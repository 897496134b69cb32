package io.jvs.forwarder.neigh;

import io.jvs.sys.RtNetlink.Route;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RouteTableTest {
    static final int PORT = 7;
    static final int OTHER = 9;

    static int ip(int a, int b, int c, int d) {
        return a << 24 | b << 16 | c << 8 | d;
    }

    static Route route(int dst, int len, int gw, int oif) {
        return new Route(dst, len, gw, oif, 0, 254);
    }

    static final int GW = ip(10, 0, 0, 1);
    static final int GW2 = ip(10, 0, 0, 254);

    final RouteTable table = new RouteTable(List.of(
            route(0, 0, GW, PORT),                          // default via 10.0.0.1
            route(ip(10, 0, 0, 0), 24, 0, PORT),            // 10.0.0.0/24 on-link
            route(ip(172, 16, 0, 0), 12, GW2, PORT),        // 172.16/12 via 10.0.0.254
            route(ip(172, 16, 5, 0), 24, 0, OTHER),         // 172.16.5/24 via another interface
            route(ip(172, 16, 5, 128), 25, GW, PORT),       // more specific, back on the port
            route(ip(192, 168, 9, 0), 24, 0, OTHER)),       // another interface
            PORT);

    @Test
    void onLinkRouteReturnsTheDestinationItself() {
        assertEquals(ip(10, 0, 0, 11), table.nextHop(ip(10, 0, 0, 11)));
        assertEquals(ip(10, 0, 0, 255), table.nextHop(ip(10, 0, 0, 255)));
    }

    @Test
    void gatewayRouteReturnsTheGateway() {
        assertEquals(GW2, table.nextHop(ip(172, 20, 1, 1)));
    }

    @Test
    void longestPrefixWinsRegardlessOfInputOrder() {
        // /25 beats /24 (other interface) beats /12
        assertEquals(GW, table.nextHop(ip(172, 16, 5, 200)));
        assertEquals(0, table.nextHop(ip(172, 16, 5, 1)));
        assertEquals(GW2, table.nextHop(ip(172, 16, 6, 1)));
        // same routes, reversed order
        RouteTable reversed = new RouteTable(List.of(
                route(ip(172, 16, 5, 128), 25, GW, PORT),
                route(ip(172, 16, 5, 0), 24, 0, OTHER),
                route(ip(172, 16, 0, 0), 12, GW2, PORT),
                route(0, 0, GW, PORT)), PORT);
        assertEquals(GW, reversed.nextHop(ip(172, 16, 5, 200)));
        assertEquals(0, reversed.nextHop(ip(172, 16, 5, 1)));
        assertEquals(GW2, reversed.nextHop(ip(172, 16, 6, 1)));
        assertEquals(GW, reversed.nextHop(ip(8, 8, 8, 8)));
    }

    @Test
    void routeThroughAnotherInterfaceIsUnreachable() {
        assertEquals(0, table.nextHop(ip(192, 168, 9, 10)));
    }

    @Test
    void defaultRouteCatchesEverythingElse() {
        assertEquals(GW, table.nextHop(ip(8, 8, 8, 8)));
        assertEquals(GW, table.nextHop(ip(192, 168, 1, 5)));   // sign bit set
        assertEquals(GW, table.nextHop(ip(255, 255, 255, 254)));
    }

    @Test
    void noRouteIsZero() {
        RouteTable noDefault = new RouteTable(List.of(route(ip(10, 0, 0, 0), 24, 0, PORT)), PORT);
        assertEquals(0, noDefault.nextHop(ip(10, 0, 1, 1)));
        assertEquals(0, noDefault.nextHop(ip(192, 168, 1, 5)));
        assertEquals(ip(10, 0, 0, 42), noDefault.nextHop(ip(10, 0, 0, 42)));
        assertEquals(0, RouteTable.EMPTY.nextHop(ip(10, 0, 0, 1)));
        assertEquals(0, RouteTable.EMPTY.size());
    }

    @Test
    void hostRouteAndUnnormalisedDestination() {
        RouteTable t = new RouteTable(List.of(
                route(ip(10, 0, 0, 77), 24, 0, PORT),          // dst with host bits set: masked
                route(ip(10, 0, 0, 50), 32, GW2, PORT)), PORT);
        assertEquals(ip(10, 0, 0, 3), t.nextHop(ip(10, 0, 0, 3)));
        assertEquals(GW2, t.nextHop(ip(10, 0, 0, 50)));
        assertEquals(0, t.nextHop(ip(10, 0, 1, 50)));
        assertEquals(2, t.size());
    }

    @Test
    void defaultRouteViaAnotherInterfaceIsUnreachable() {
        RouteTable t = new RouteTable(List.of(
                route(0, 0, GW, OTHER),
                route(ip(10, 0, 0, 0), 24, 0, PORT)), PORT);
        assertEquals(0, t.nextHop(ip(8, 8, 8, 8)));
        assertEquals(ip(10, 0, 0, 9), t.nextHop(ip(10, 0, 0, 9)));
    }

    @Test
    void lowerPriorityMetricWinsAmongEqualPrefixes() {
        RouteTable t = new RouteTable(List.of(
                new Route(0, 0, GW2, PORT, 200, 254),
                new Route(0, 0, GW, PORT, 100, 254)), PORT);
        assertEquals(GW, t.nextHop(ip(8, 8, 8, 8)));
    }
}
