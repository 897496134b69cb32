package io.jvs.forwarder;

import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.sys.RtNetlink.Route;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What the director refuses before publishing: tunnels it cannot send, TUN real servers it cannot reach. */
class DataPathChecksTest {
    static final int VIP = 0x0a00_0064;
    static final int TS1 = 0x0a00_020b;     // 10.0.2.11

    static ServiceTable table(Dest d) {
        return new ServiceTableBuilder(Schedulers::create).build(List.of(new ServiceSpec(Protocol.TCP, VIP, 80, "rr", List.of(d))),
                ServiceTable.EMPTY);
    }

    static Dest tun(TunnelType type, int port) {
        return new Dest(TS1, 80, 1, ForwardMethod.TUN, 0, 0, type, port, 0);
    }

    @Test
    void ipipAndGueWithAPortPass() {
        assertDoesNotThrow(() -> DataPathChecks.validate(table(tun(TunnelType.IPIP, 0))));
        assertDoesNotThrow(() -> DataPathChecks.validate(table(tun(TunnelType.GUE, 6080))));
    }

    @Test
    void greIsRefusedNamingTheServer() {
        IllegalArgumentException gre = assertThrows(IllegalArgumentException.class,
                () -> DataPathChecks.validate(table(tun(TunnelType.GRE, 0))));
        assertEquals("real server 10.0.2.11:80 of TCP/10.0.0.100:80: tunnel type gre is not supported (ipip and gue are)",
                gre.getMessage());
    }

    @Test
    void theEcmpProfileRefusesNatAndTakesDrTunAndFullNat() {
        Dest nat = new Dest(0x0a00_000b, 80, 1, ForwardMethod.NAT, 0, 0, TunnelType.IPIP, 0, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataPathChecks.validateEcmp(table(nat)));
        assertEquals("real server 10.0.0.11:80 of TCP/10.0.0.100:80: NAT (-m) is refused with --announce-table (ECMP):"
                + " the replies would reach one director, not the one holding the connection; use DR, TUN or FULLNAT,"
                + " or a VRRP pair for NAT", e.getMessage());
        assertDoesNotThrow(() -> DataPathChecks.validate(table(nat)), "without the profile NAT is fine");
        assertDoesNotThrow(() -> DataPathChecks.validateEcmp(table(tun(TunnelType.IPIP, 0))));
        assertDoesNotThrow(() -> DataPathChecks.validateEcmp(table(
                new Dest(0x0a00_000b, 80, 1, ForwardMethod.DR, 0, 0, TunnelType.IPIP, 0, 0))));
    }

    @Test
    void aFullNatLocalAddressOfTheDirectorItselfIsRefused() {
        ServiceTable t = new ServiceTableBuilder(Schedulers::create).build(List.of(new ServiceSpec(Protocol.TCP, VIP, 80, 0, "rr", 0, 0,
                -1, false, List.of(0x0a00_0002), io.jvs.forwarder.service.ClientAddressMode.NONE,
                List.of(new Dest(0x0a00_000b, 80, 1, ForwardMethod.FULLNAT)))), ServiceTable.EMPTY);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataPathChecks.validateLocalAddrs(t, new int[]{0x7f00_0001, 0x0a00_0002}));
        assertEquals("local address 10.0.0.2 (--laddr) is an address of the director itself; FULLNAT needs"
                + " addresses that only jvs answers for (the kernel would reset the replies to its own)", e.getMessage());
        assertDoesNotThrow(() -> DataPathChecks.validateLocalAddrs(t, new int[]{0x7f00_0001, 0x0a00_0005}));
    }

    @Test
    void aTunRealServerWithoutARouteIsRefused() {
        RouteTable lanOnly = new RouteTable(List.of(new Route(0x0a00_0000, 24, 0, 7, 0, 254)), 7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataPathChecks.validateRoutes(table(tun(TunnelType.IPIP, 0)), lanOnly, ServiceTable.EMPTY));
        assertEquals("real server 10.0.2.11:80 of TCP/10.0.0.100:80: TUN real server is unreachable"
                + " (no route to 10.0.2.11 in the director's routing table)", e.getMessage());
        RouteTable withDefault = new RouteTable(List.of(new Route(0x0a00_0000, 24, 0, 7, 0, 254),
                new Route(0, 0, 0x0a00_0001, 7, 0, 254)), 7);
        assertDoesNotThrow(() -> DataPathChecks.validateRoutes(table(tun(TunnelType.IPIP, 0)), withDefault,
                ServiceTable.EMPTY));
        // DR and NAT real servers are not checked here (they are on the LAN by definition).
        assertDoesNotThrow(() -> DataPathChecks.validateRoutes(
                table(new Dest(TS1, 80, 1, ForwardMethod.DR)), lanOnly, ServiceTable.EMPTY));
        // A TUN server already running is not re-checked: losing a route must not block other changes.
        ServiceTable running = table(tun(TunnelType.IPIP, 0));
        assertDoesNotThrow(() -> DataPathChecks.validateRoutes(table(tun(TunnelType.IPIP, 0)), lanOnly, running));
    }

    /** Until the IPv6 data path is wired, the director refuses IPv6 services and real servers, naming them. */
    @Test
    void ipv6ServicesAndServersAreRefusedByTheDirector() {
        io.jvs.packet.Ipv6Address vip = io.jvs.packet.Ipv6Address.parse("2001:db8::1");
        ServiceTable v6 = new ServiceTableBuilder(Schedulers::create).build(List.of(ServiceSpec.ipv6(Protocol.TCP, vip,
                80, "rr", List.of())), ServiceTable.EMPTY);
        assertEquals("TCP [2001:db8::1]:80: IPv6 services are not forwarded yet",
                assertThrows(IllegalArgumentException.class, () -> DataPathChecks.validate(v6)).getMessage());
        ServiceTable mark6 = new ServiceTableBuilder(Schedulers::create).build(List.of(ServiceSpec.fwmark6(7, "rr")),
                ServiceTable.EMPTY);
        assertEquals("FWM 7 IPv6: IPv6 services are not forwarded yet",
                assertThrows(IllegalArgumentException.class, () -> DataPathChecks.validate(mark6)).getMessage());
        ServiceTable tun6 = table(Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::11"), 80, 1, ForwardMethod.TUN));
        assertEquals("real server [2001:db8::11]:80 of TCP/10.0.0.100:80: IPv6 real servers are not forwarded yet"
                        + " (TUN with an IPv6 outer header)",
                assertThrows(IllegalArgumentException.class, () -> DataPathChecks.validate(tun6)).getMessage());
    }
}
