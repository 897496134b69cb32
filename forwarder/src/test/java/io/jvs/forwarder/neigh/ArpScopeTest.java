package io.jvs.forwarder.neigh;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.jvs.forwarder.neigh.RouteTableTest.ip;
import static io.jvs.forwarder.neigh.RouteTableTest.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where ARP for a VIP or local address is answered, on the two-NIC director: port 0 is the
 * external interface (ifindex 3, 10.0.0.0/24, default route), port 1 the internal one
 * (ifindex 4, 10.0.3.0/24); ifindex 9 is the TAP (TAP mode routes each VIP into it).
 */
class ArpScopeTest {
    static final int EXT = 3;
    static final int INT = 4;
    static final int TAP = 9;
    static final int VIP = ip(10, 0, 0, 100);
    static final int ROUTED_VIP = ip(192, 0, 2, 80);
    static final int LIP = ip(10, 0, 3, 200);

    final RouteTable routes = new RouteTable(List.of(
            route(0, 0, ip(10, 0, 0, 1), EXT),
            route(ip(10, 0, 0, 0), 24, 0, EXT),
            route(ip(10, 0, 3, 0), 24, 0, INT),
            route(VIP, 32, 0, TAP),
            route(ROUTED_VIP, 32, 0, TAP)), EXT, INT);

    @Test
    void aVipOnTheExternalSegmentIsAnsweredThereOnly() {
        assertTrue(ArpScope.BY_ROUTE.answersOn(VIP, 0, routes));
        assertFalse(ArpScope.BY_ROUTE.answersOn(VIP, 1, routes), "not on the servers' side");
    }

    @Test
    void aLocalAddressOnTheInternalSegmentIsAnsweredThereOnly() {
        assertFalse(ArpScope.BY_ROUTE.answersOn(LIP, 0, routes));
        assertTrue(ArpScope.BY_ROUTE.answersOn(LIP, 1, routes));
    }

    @Test
    void aRoutedVipFollowsTheDefaultRouteNotTheTap() {
        // The /32 into the TAP is not a segment jvs answers on: the default route's port is.
        assertTrue(ArpScope.BY_ROUTE.answersOn(ROUTED_VIP, 0, routes));
        assertFalse(ArpScope.BY_ROUTE.answersOn(ROUTED_VIP, 1, routes));
    }

    @Test
    void withNoRouteByAnyPortEveryPortAnswers() {
        RouteTable onlyInternal = new RouteTable(List.of(route(ip(10, 0, 3, 0), 24, 0, INT),
                route(ip(10, 0, 0, 0), 24, 0, TAP)), EXT, INT);
        // 10.0.0.100: covered only by a route into the TAP; nothing tells: as with one port, answer.
        assertTrue(ArpScope.BY_ROUTE.answersOn(VIP, 0, onlyInternal));
        assertTrue(ArpScope.BY_ROUTE.answersOn(VIP, 1, onlyInternal));
        assertTrue(ArpScope.BY_ROUTE.answersOn(VIP, 0, RouteTable.EMPTY));
    }

    @Test
    void arpOnOverridesTheRouteForItsAddressOnly() {
        ArpScope scope = new ArpScope(Map.of(VIP, 1L << 1));   // --arp-on 10.0.0.100=<port 1>
        assertFalse(scope.answersOn(VIP, 0, routes));
        assertTrue(scope.answersOn(VIP, 1, routes));
        // other addresses still by route
        assertTrue(scope.answersOn(ROUTED_VIP, 0, routes));
        assertFalse(scope.answersOn(LIP, 0, routes));
        ArpScope both = new ArpScope(Map.of(VIP, 0b11L));
        assertTrue(both.answersOn(VIP, 0, routes));
        assertTrue(both.answersOn(VIP, 1, routes));
        assertEquals(false, both.answersOn(VIP, 2, routes));
    }

    /** The same director over IPv6: 2001:db8::/64 outside (default route), 2001:db8:3::/64 inside, TAP /128s. */
    final RouteTable6 routes6 = new RouteTable6(List.of(
            RouteTable6Test.route("::", 0, "2001:db8::1", EXT),
            RouteTable6Test.route("2001:db8::", 64, "::", EXT),
            RouteTable6Test.route("2001:db8:3::", 64, "::", INT),
            RouteTable6Test.route("fe80::", 64, "::", EXT),
            RouteTable6Test.route("fe80::", 64, "::", INT),
            RouteTable6Test.route("2001:db8::100", 128, "::", TAP),
            RouteTable6Test.route("2001:db8:9::80", 128, "::", TAP)), EXT, INT);

    static boolean answers6(RouteTable6 rt, String addr, int port) {
        io.jvs.packet.Ipv6Address a = io.jvs.packet.Ipv6Address.parse(addr);
        return ArpScope.BY_ROUTE.answersOn6(a.hi(), a.lo(), port, rt);
    }

    @Test
    void ndpForAVip6OnTheExternalSegmentIsAnsweredThereOnly() {
        assertTrue(answers6(routes6, "2001:db8::100", 0));
        assertFalse(answers6(routes6, "2001:db8::100", 1), "not on the servers' side");
        // a local address on the servers' segment: there only
        assertFalse(answers6(routes6, "2001:db8:3::200", 0));
        assertTrue(answers6(routes6, "2001:db8:3::200", 1));
        // a routed VIP6 (its /128 into the TAP is no segment): the default route's port
        assertTrue(answers6(routes6, "2001:db8:9::80", 0));
        assertFalse(answers6(routes6, "2001:db8:9::80", 1));
    }

    @Test
    void ndpWithNoRouteByAnyPortIsAnsweredOnEveryPort() {
        RouteTable6 onlyInternal = new RouteTable6(List.of(RouteTable6Test.route("2001:db8:3::", 64, "::", INT),
                RouteTable6Test.route("2001:db8::", 64, "::", TAP)), EXT, INT);
        assertTrue(answers6(onlyInternal, "2001:db8::100", 0));
        assertTrue(answers6(onlyInternal, "2001:db8::100", 1));
        assertTrue(answers6(RouteTable6.EMPTY, "2001:db8::100", 1));
    }

    @Test
    void anOverrideWithoutPortsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ArpScope(Map.of(VIP, 0L)));
    }

}
