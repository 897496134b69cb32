package io.jvs.forwarder.neigh;

import io.jvs.packet.Ipv6Address;
import io.jvs.sys.RtNetlink.Route6;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The IPv6 route snapshot: longest prefix over both halves, gateway or on-link, the port by interface. */
class RouteTable6Test {
    static Route6 route(String dst, int len, String gw, int oif) {
        Ipv6Address d = Ipv6Address.parse(dst);
        Ipv6Address g = Ipv6Address.parse(gw);
        return new Route6(d.hi(), d.lo(), len, g.hi(), g.lo(), oif, 1024, 254);
    }

    final RouteTable6 rt = new RouteTable6(List.of(
            route("::", 0, "fe80::1", 7),
            route("2001:db8::", 64, "::", 7),
            route("2001:db8::80", 121, "2001:db8::fe", 9),
            route("2001:db8:5::", 48, "::", 3),
            route("ff00::", 8, "::", 7)), 7, 9);

    int[] hop(String a) {
        Ipv6Address x = Ipv6Address.parse(a);
        int r = rt.lookup(x.hi(), x.lo());
        if (r < 0) {
            return new int[] {-9, 0};
        }
        Ipv6Address h = new Ipv6Address(rt.hopHi(r, x.hi(), x.lo()), rt.hopLo(r, x.hi(), x.lo()));
        return new int[] {rt.port(r), h.toString().hashCode()};
    }

    @Test
    void longestPrefixWinsAcrossTheLowHalf() {
        Ipv6Address a = Ipv6Address.parse("2001:db8::85");
        int r = rt.lookup(a.hi(), a.lo());
        assertEquals(1, rt.port(r), "the /121 by the second port");
        assertEquals("2001:db8::fe", new Ipv6Address(rt.hopHi(r, a.hi(), a.lo()), rt.hopLo(r, a.hi(), a.lo())).toString());
        Ipv6Address b = Ipv6Address.parse("2001:db8::100");
        r = rt.lookup(b.hi(), b.lo());
        assertEquals(0, rt.port(r), "outside the /121: the on-link /64");
        assertEquals("2001:db8::100", new Ipv6Address(rt.hopHi(r, b.hi(), b.lo()), rt.hopLo(r, b.hi(), b.lo())).toString());
        Ipv6Address c = Ipv6Address.parse("2001:db9::1");
        r = rt.lookup(c.hi(), c.lo());
        assertEquals("fe80::1", new Ipv6Address(rt.hopHi(r, c.hi(), c.lo()), rt.hopLo(r, c.hi(), c.lo())).toString());
        Ipv6Address d = Ipv6Address.parse("2001:db8:5::1");
        assertEquals(-1, rt.port(rt.lookup(d.hi(), d.lo())), "by an interface jvs is not attached to");
        assertEquals(4, rt.size(), "the multicast route is left out");
    }
}
