package io.jvs.forwarder.neigh;

import io.jvs.sys.RtNetlink.Route;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    // ---- two ports (the two-NIC director): which port a frame leaves by

    static final int EXT = 3;   // port 0: external, 10.0.0.0/24, default route
    static final int INT = 4;   // port 1: internal, 10.0.3.0/24, the real servers' segment
    static final int TAP = 9;   // not a port: TAP mode's routes into the TAP

    final RouteTable twoNic = new RouteTable(List.of(
            route(0, 0, GW, EXT),                           // default via 10.0.0.1 dev eth0
            route(ip(10, 0, 0, 0), 24, 0, EXT),             // 10.0.0.0/24 dev eth0
            route(ip(10, 0, 3, 0), 24, 0, INT),             // 10.0.3.0/24 dev eth1
            route(ip(172, 16, 0, 0), 16, ip(10, 0, 3, 254), INT), // more servers behind a router inside
            route(ip(10, 0, 0, 100), 32, 0, TAP)),          // the VIP into the TAP
            EXT, INT);

    /** The port and next hop a frame to addr leaves by, as NextHopSender reads them. */
    static int[] egress(RouteTable t, int addr) {
        int r = t.lookup(addr);
        return r < 0 ? new int[] {-1, 0} : new int[] {t.port(r), t.port(r) < 0 ? 0 : t.hop(r, addr)};
    }

    @Test
    void aRealServerOnThePrivateSegmentIsReachedByThePrivatePortOnLink() {
        assertArrayEquals(new int[] {1, ip(10, 0, 3, 11)}, egress(twoNic, ip(10, 0, 3, 11)));
        assertArrayEquals(new int[] {1, ip(10, 0, 3, 254)}, egress(twoNic, ip(172, 16, 9, 9)));
    }

    @Test
    void aClientIsReachedByTheExternalPortThroughTheRouter() {
        assertArrayEquals(new int[] {0, GW}, egress(twoNic, ip(10, 0, 1, 2)));
        assertArrayEquals(new int[] {0, ip(10, 0, 0, 7)}, egress(twoNic, ip(10, 0, 0, 7)));
    }

    @Test
    void aRouteByAnInterfaceThatIsNotAPortHasNoEgress() {
        assertEquals(-1, egress(twoNic, ip(10, 0, 0, 100))[0]);
        assertEquals(0, twoNic.nextHop(ip(10, 0, 0, 100)));
        assertEquals(-1, new RouteTable(List.of(route(ip(10, 0, 3, 0), 24, 0, INT)), EXT).lookup(ip(10, 0, 1, 2)));
    }

    @Test
    void portNumbersFollowTheOrderThePortsAreGivenIn() {
        RouteTable swapped = new RouteTable(List.of(route(0, 0, GW, EXT), route(ip(10, 0, 3, 0), 24, 0, INT)),
                INT, EXT);
        assertEquals(0, egress(swapped, ip(10, 0, 3, 11))[0]);
        assertEquals(1, egress(swapped, ip(8, 8, 8, 8))[0]);
    }

    @Test
    void segmentPortSkipsRoutesThatAreNotPorts() {
        assertEquals(0, twoNic.segmentPort(ip(10, 0, 0, 100)), "the /32 into the TAP is skipped");
        assertEquals(1, twoNic.segmentPort(ip(10, 0, 3, 200)));
        assertEquals(-1, new RouteTable(List.of(route(ip(10, 0, 0, 0), 24, 0, TAP)), EXT, INT)
                .segmentPort(ip(10, 0, 0, 100)));
    }

    @Test
    void choosingTheEgressPortAllocatesNothing() {
        int[] dsts = {ip(10, 0, 3, 11), ip(10, 0, 1, 2), ip(172, 16, 9, 9), ip(10, 0, 0, 100)};
        long sink = 0;
        for (int i = 0; i < 20_000; i++) {
            int r = twoNic.lookup(dsts[i & 3]);
            sink += r < 0 ? 0 : twoNic.port(r) + twoNic.hop(r, dsts[i & 3]) + twoNic.segmentPort(dsts[i & 3]);
        }
        long before = io.jvs.forwarder.testkit.AllocationProbe.start();
        for (int i = 0; i < 200_000; i++) {
            int r = twoNic.lookup(dsts[i & 3]);
            sink += r < 0 ? 0 : twoNic.port(r) + twoNic.hop(r, dsts[i & 3]) + twoNic.segmentPort(dsts[i & 3]);
        }
        long allocated = io.jvs.forwarder.testkit.AllocationProbe.since(before);
        assertTrue(sink != 0);
        assertEquals(0, allocated, "bytes allocated by 200,000 egress choices");
    }
}
