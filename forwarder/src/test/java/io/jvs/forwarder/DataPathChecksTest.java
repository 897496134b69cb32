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

    static ServiceTable table6(ServiceSpec spec) {
        return new ServiceTableBuilder(Schedulers::create).build(List.of(spec), ServiceTable.EMPTY);
    }

    static String refusal(ServiceTable t) {
        return assertThrows(IllegalArgumentException.class, () -> DataPathChecks.validate(t)).getMessage();
    }

    /**
     * IPv6 DR, NAT, FULLNAT and TUN (ipip, gue) address services pass; what the IPv6 path cannot forward is refused, one line
     * naming the service or real server.
     */
    @Test
    void ipv6DrNatFullNatAndTunPassWhatTheIpv6PathCannotForwardIsRefused() {
        io.jvs.packet.Ipv6Address vip = io.jvs.packet.Ipv6Address.parse("2001:db8::1");
        Dest dr = Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::11"), 80, 1, ForwardMethod.DR);
        Dest nat = Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::12"), 80, 1, ForwardMethod.NAT);
        ServiceSpec v6 = ServiceSpec.ipv6(Protocol.TCP, vip, 80, "rr", List.of(dr, nat));
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(v6)));
        Dest fullNat = Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::14"), 80, 1, ForwardMethod.FULLNAT);
        ServiceSpec fullNat6 = v6.withFullNat6(List.of(io.jvs.packet.Ipv6Address.parse("2001:db8::3")),
                io.jvs.forwarder.service.ClientAddressMode.TOA).withDest(fullNat);
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(fullNat6)), "FULLNAT real servers with IPv6 --laddr");
        long[] own = {0x2001_0db8_0000_0000L, 2};
        assertDoesNotThrow(() -> DataPathChecks.validateLocalAddrs6(table6(fullNat6), own));
        assertEquals("local address 2001:db8::3 (--laddr) is an address of the director itself; FULLNAT needs"
                + " addresses that only jvs answers for (the kernel would reset the replies to its own)",
                assertThrows(IllegalArgumentException.class, () -> DataPathChecks.validateLocalAddrs6(table6(fullNat6),
                        new long[] {0x2001_0db8_0000_0000L, 2, 0x2001_0db8_0000_0000L, 3})).getMessage());
        assertDoesNotThrow(() -> DataPathChecks.validateRoutes(table6(v6), new RouteTable(List.of(new Route(0x0a00_0000, 24, 0, 7, 0, 254)), 7), ServiceTable.EMPTY));

        assertDoesNotThrow(() -> DataPathChecks.validate(table6(v6.withPersistence(300, 64))), "persistence");
        io.jvs.forwarder.service.ClientPrefix net = io.jvs.forwarder.service.ClientPrefix.parse("2001:db8:1::/64");
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(v6.withClientPolicy(
                new io.jvs.forwarder.service.ClientPolicy(List.of(net), List.of(net), 0, 0, 0)))), "allow/deny lists");
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(v6.withClientPolicy(
                new io.jvs.forwarder.service.ClientPolicy(List.of(), List.of(), 5, 0, 0)))), "--conn-limit");
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(v6.withClientPolicy(
                new io.jvs.forwarder.service.ClientPolicy(List.of(), List.of(), 0, 10, 5)))), "--rate-limit");
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(ServiceSpec.ipv6(Protocol.TCP, vip, 80, "rr",
                List.of(nat)).withSynProxy(true))), "--synproxy on an IPv6 NAT service");
        // DR6 with --synproxy is refused as for IPv4, by the service model (ServiceSpec), one line:
        assertEquals("TCP [2001:db8::1]:80 -r [2001:db8::11]:80: --synproxy needs NAT or FULLNAT real servers (DR replies"
                + " bypass the director)", assertThrows(IllegalArgumentException.class, () -> ServiceSpec.ipv6(
                Protocol.TCP, vip, 80, "rr", List.of(dr)).withSynProxy(true)).getMessage());
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(ServiceSpec.ipv6(Protocol.UDP, vip, 53, "rr",
                List.of(dr)).withOnePacket(true))), "-o");
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(ServiceSpec.fwmark6(7, "rr").withDest(dr).withDest(nat)
                .withPersistence(300, 64))), "-f 7 -6 with DR and NAT real servers, persistent");
        Dest tunFwm = Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::13"), 0, 1, ForwardMethod.TUN);
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(ServiceSpec.fwmark6(7, "rr").withDest(tunFwm))),
                "-f 7 -6 with a TUN real server (ip6ip6)");
        Dest tun = Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::13"), 80, 1, ForwardMethod.TUN);
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(v6.withDest(tun))), "ip6ip6 real servers");
        Dest gue = new Dest(0, 80, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE, 6080, TunnelType.FLAG_CSUM,
                io.jvs.packet.Ipv6Address.parse("2001:db8::15"));
        assertDoesNotThrow(() -> DataPathChecks.validate(table6(v6.withDest(gue))), "GUE over IPv6 real servers");
        Dest gre = new Dest(0, 80, 1, ForwardMethod.TUN, 0, 0, TunnelType.GRE, 0, 0,
                io.jvs.packet.Ipv6Address.parse("2001:db8::16"));
        assertEquals("real server [2001:db8::16]:80 of TCP/[2001:db8::1]:80: tunnel type gre is not supported (ipip and gue"
                + " are)", refusal(table6(v6.withDest(gre))));
        assertEquals("real server 10.0.2.11:80 of TCP/[2001:db8::1]:80: an IPv6 service forwards to IPv6 real servers"
                + " only", refusal(table6(v6.withDest(new Dest(0x0a00_020b, 80, 1, ForwardMethod.TUN, 0, 0,
                TunnelType.IPIP, 0, 0)))));
        ServiceTable tun6 = table(Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::11"), 80, 1, ForwardMethod.TUN));
        assertEquals("real server [2001:db8::11]:80 of TCP/10.0.0.100:80: IPv6 real servers of an IPv4 service are"
                + " not forwarded (TUN with an IPv6 outer header)", refusal(tun6));
    }

    /**
     * keepalived's {@code virtual_server fwmark N} with {@code ip_family inet6} (NAT real servers,
     * persistence by /64) loads as an IPv6 fwmark service the director starts with: nothing refused.
     */
    @Test
    void keepalivedIpv6FwmarkVirtualServerStarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Files.writeString(dir.resolve("k.conf"), """
                virtual_server fwmark 5 {
                    ip_family inet6
                    lb_algo rr
                    lb_kind NAT
                    persistence_timeout 300
                    persistence_granularity 64
                    real_server 2001:db8::11 80 { weight 1 }
                    real_server 2001:db8::12 80 { weight 1 }
                }
                """);
        ServiceSpec spec = io.jvs.forwarder.ctl.keepalived.KeepalivedConf.load(dir.resolve("k.conf")).config()
                .services().getFirst();
        assertEquals("FWM 5 IPv6", spec.label());
        ServiceTable t = table6(spec);
        assertDoesNotThrow(() -> DataPathChecks.validate(t));
        assertEquals(2, t.lookupFwmark6(5).dests.length);
    }

    /** XDP, ECMP: an IPv6 service is refused naming what is in the way; IPv4 ones are not. */
    @Test
    void ipv6ServicesAreRefusedWithWhatTheIpv6PathDoesNotFollow() {
        ServiceTable v6 = table6(ServiceSpec.ipv6(Protocol.TCP, io.jvs.packet.Ipv6Address.parse("2001:db8::1"), 80,
                "rr", List.of()));
        assertEquals("TCP [2001:db8::1]:80: IPv6 services are not forwarded with --attach xdp (why)",
                assertThrows(IllegalArgumentException.class,
                        () -> DataPathChecks.refuseIpv6With(v6, "--attach xdp (why)")).getMessage());
        assertDoesNotThrow(() -> DataPathChecks.refuseIpv6With(table(tun(TunnelType.IPIP, 0)), "--attach xdp"));
    }

    /**
     * TAP mode forwards what packet mode does: IPv6 fwmark services and TUN over IPv6 (ip6ip6,
     * GUE) pass the director's TAP checks ({@link DataPathChecks#validate}, then
     * {@link DataPathChecks#validateTap}); what stays refused in TAP mode is the mixed families,
     * in one line naming the real server.
     */
    @Test
    void tapModeTakesIpv6FwmarkAndTunOverIpv6AndRefusesMixedFamilies() {
        io.jvs.packet.Ipv6Address vip = io.jvs.packet.Ipv6Address.parse("2001:db8::1");
        Dest tun = Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8:2::11"), 80, 1, ForwardMethod.TUN);
        Dest gue = new Dest(0, 80, 1, ForwardMethod.TUN, 0, 0, TunnelType.GUE, 6080, 0,
                io.jvs.packet.Ipv6Address.parse("2001:db8:2::12"));
        Dest dr = Dest.ipv6(io.jvs.packet.Ipv6Address.parse("2001:db8::11"), 80, 1, ForwardMethod.DR);
        for (ServiceTable t : List.of(
                table6(ServiceSpec.ipv6(Protocol.TCP, vip, 80, "rr", List.of(tun, gue))),
                table6(ServiceSpec.fwmark6(7, "rr").withDest(tun).withDest(gue)),
                table6(ServiceSpec.fwmark6(7, "rr").withDest(dr).withPersistence(300, 64)),
                table6(ServiceSpec.ipv6(Protocol.TCP, vip, 80, "rr", List.of(dr))),
                table(tun(TunnelType.IPIP, 0)))) {
            assertDoesNotThrow(() -> {
                DataPathChecks.validate(t);
                DataPathChecks.validateTap(t, "0");
            }, t.services().getFirst().label());
        }
        assertEquals("real server [2001:db8:2::11]:80 of TCP/10.0.0.100:80: IPv6 real servers of an IPv4 service are"
                + " not forwarded (TUN with an IPv6 outer header)", tapRefusal(table(tun)));
        assertEquals("real server 10.0.2.11:80 of TCP/[2001:db8::1]:80: an IPv6 service forwards to IPv6 real servers"
                + " only", tapRefusal(table6(ServiceSpec.ipv6(Protocol.TCP, vip, 80, "rr",
                List.of(tun(TunnelType.IPIP, 0))))));
    }

    /** The refusal of the director's TAP-mode checks (IPv6 on), in their order. */
    static String tapRefusal(ServiceTable t) {
        return assertThrows(IllegalArgumentException.class, () -> {
            DataPathChecks.validate(t);
            DataPathChecks.validateTap(t, "0");
        }).getMessage();
    }

    /** TAP mode routes IPv6 through the kernel: refused only on a host without IPv6 (no net.ipv6 sysctls). */
    @Test
    void tapModeRefusesIpv6OnlyWithoutIpv6() {
        ServiceTable v6 = table6(ServiceSpec.ipv6(Protocol.TCP, io.jvs.packet.Ipv6Address.parse("2001:db8::1"), 80,
                "rr", List.of()));
        assertEquals("TCP [2001:db8::1]:80: IPv6 services are not forwarded with --attach tap on a host without IPv6"
                        + " (no /proc/sys/net/ipv6: the kernel cannot route IPv6 into the TAP)",
                assertThrows(IllegalArgumentException.class, () -> DataPathChecks.refuseIpv6NoIpv6(v6, null))
                        .getMessage());
        assertDoesNotThrow(() -> DataPathChecks.refuseIpv6NoIpv6(v6, "0"));
        assertDoesNotThrow(() -> DataPathChecks.refuseIpv6NoIpv6(v6, "1"));
        assertDoesNotThrow(() -> DataPathChecks.refuseIpv6NoIpv6(table(tun(TunnelType.IPIP, 0)), null));
    }

    /** Packet mode with the kernel's IPv6 forwarding on would forward the VIP's packets twice: refused. */
    @Test
    void ipv6ServicesAreRefusedWhileTheKernelForwardsIpv6() {
        ServiceTable v6 = table6(ServiceSpec.ipv6(Protocol.TCP, io.jvs.packet.Ipv6Address.parse("2001:db8::1"), 80,
                "rr", List.of()));
        assertEquals("TCP [2001:db8::1]:80: IPv6 services are not forwarded with net.ipv6.conf.all.forwarding=1 in the"
                        + " director's namespace (the kernel would forward the VIP's packets too; set it to 0)",
                assertThrows(IllegalArgumentException.class, () -> DataPathChecks.refuseIpv6Forwarding(v6, "1"))
                        .getMessage());
        assertDoesNotThrow(() -> DataPathChecks.refuseIpv6Forwarding(v6, "0"));
        assertDoesNotThrow(() -> DataPathChecks.refuseIpv6Forwarding(v6, null));
        assertDoesNotThrow(() -> DataPathChecks.refuseIpv6Forwarding(table(tun(TunnelType.IPIP, 0)), "1"));
    }
}
