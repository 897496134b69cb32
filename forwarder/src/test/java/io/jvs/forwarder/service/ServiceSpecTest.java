package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceSpecTest {
    private static final int VIP = Ipv4Address.parse("10.0.0.100");
    private static final int RS = Ipv4Address.parse("10.0.0.11");

    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void isImmutableAndKeepsOrder() {
        List<ServiceSpec.Dest> list = new ArrayList<>();
        list.add(new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR));
        ServiceSpec s = new ServiceSpec(Protocol.TCP, VIP, 80, "rr", list);
        list.add(new ServiceSpec.Dest(RS + 1, 80, 1, ForwardMethod.DR));
        assertEquals(1, s.dests().size());
        assertThrows(UnsupportedOperationException.class, () -> s.dests().add(null));
        ServiceSpec t = s.withDest(new ServiceSpec.Dest(RS + 1, 80, 2, ForwardMethod.TUN));
        assertEquals(1, s.dests().size());
        assertEquals(List.of(RS, RS + 1), t.dests().stream().map(ServiceSpec.Dest::addr).toList());
        assertEquals("TCP 10.0.0.100:80", t.label());
        assertEquals("10.0.0.11:80", t.dests().getFirst().endpoint());
        assertTrue(t.sameService(Protocol.TCP, VIP, 80));
    }

    /**
     * A service's identity is what the kernel keys it by: family and fwmark, or family, protocol,
     * address and port; nothing else (scheduler, persistence, servers) counts.
     */
    @Test
    void identityIsFamilyAndMarkOrFamilyProtocolAddressAndPort() {
        io.jvs.packet.Ipv6Address v6 = io.jvs.packet.Ipv6Address.parse("2001:db8::100");
        ServiceSpec tcp = new ServiceSpec(Protocol.TCP, VIP, 80, "rr");
        assertTrue(tcp.sameService(new ServiceSpec(Protocol.TCP, VIP, 80, "wlc").withPersistence(300, -1)
                .withDest(new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR))));
        assertEquals(tcp.identity(), new ServiceSpec(Protocol.TCP, VIP, 80, "sh").identity());
        assertFalse(tcp.sameService(new ServiceSpec(Protocol.UDP, VIP, 80, "rr")), "another protocol");
        assertFalse(tcp.sameService(new ServiceSpec(Protocol.TCP, VIP, 81, "rr")), "another port");
        assertFalse(tcp.sameService(new ServiceSpec(Protocol.TCP, VIP + 1, 80, "rr")), "another address");
        ServiceSpec tcp6 = ServiceSpec.ipv6(Protocol.TCP, v6, 80, "rr", List.of());
        assertTrue(tcp6.sameService(ServiceSpec.ipv6(Protocol.TCP, v6, 80, "wrr", List.of())));
        assertFalse(tcp6.sameService(ServiceSpec.ipv6(Protocol.TCP, io.jvs.packet.Ipv6Address.parse("2001:db8::101"),
                80, "rr", List.of())), "another IPv6 address");
        assertFalse(tcp6.sameService(tcp), "another family");
        assertTrue(ServiceSpec.fwmark(7, "rr").sameService(ServiceSpec.fwmark(7, "lc")));
        assertFalse(ServiceSpec.fwmark(7, "rr").sameService(ServiceSpec.fwmark(8, "rr")), "another mark");
        assertFalse(ServiceSpec.fwmark(7, "rr").sameService(ServiceSpec.fwmark6(7, "rr")), "-f 7 and -f 7 -6");
        assertEquals(new ServiceSpec.Identity(true, 7, 0, 0, null, 0), ServiceSpec.fwmark6(7, "rr").identity());
        assertEquals(new ServiceSpec.Identity(false, 0, Protocol.TCP, VIP, null, 80), tcp.identity());
        assertEquals(new ServiceSpec.Identity(true, 0, Protocol.TCP, 0, v6, 80), tcp6.identity());
    }

    @Test
    void rejectsBadServices() {
        assertEquals("Zero port specified for non-persistent service",
                error(() -> new ServiceSpec(Protocol.TCP, VIP, 0, "rr")));
        assertTrue(error(() -> new ServiceSpec(Protocol.TCP, VIP, 65536, "rr")).contains("65536"));
        assertTrue(error(() -> new ServiceSpec(Protocol.ICMP, VIP, 80, "rr")).contains("neither TCP nor UDP"));
        assertEquals("empty scheduler name", error(() -> new ServiceSpec(Protocol.TCP, VIP, 80, " ")));
    }

    @Test
    void rejectsDuplicateDestinations() {
        ServiceSpec s = new ServiceSpec(Protocol.UDP, VIP, 53, "rr")
                .withDest(new ServiceSpec.Dest(RS, 53, 1, ForwardMethod.DR));
        assertEquals("UDP 10.0.0.100:53 -r 10.0.0.11:53: Destination already exists",
                error(() -> s.withDest(new ServiceSpec.Dest(RS, 53, 9, ForwardMethod.NAT))));
        // Same address, another port: a different destination.
        s.withDest(new ServiceSpec.Dest(RS, 5353, 1, ForwardMethod.NAT));
    }

    @Test
    void rejectsBadDestinations() {
        assertEquals("illegal weight specified: 65536 (expected 0..65535)",
                error(() -> new ServiceSpec.Dest(RS, 80, 65536, ForwardMethod.DR)));
        assertEquals("illegal weight specified: -1 (expected 0..65535)",
                error(() -> new ServiceSpec.Dest(RS, 80, -1, ForwardMethod.DR)));
        assertTrue(error(() -> new ServiceSpec.Dest(RS, 65536, 1, ForwardMethod.DR)).contains("port 65536"));
        new ServiceSpec.Dest(RS, 0, 1, ForwardMethod.DR); // port 0: the packet's port (fwmark, port-0 services)
        assertEquals("lower threshold 5 is higher than upper threshold 0",
                error(() -> new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR, 0, 5)));
        assertEquals("illegal u_threshold specified: -1",
                error(() -> new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR, -1, 0)));
        new ServiceSpec.Dest(RS, 80, 0, ForwardMethod.DR, 100, 100); // weight 0 and lower == upper are fine
    }

    @Test
    void persistenceFwmarkAndFullNatRules() {
        int vip = 0x0a000064;
        assertEquals("Zero port specified for non-persistent service",
                error(() -> new ServiceSpec(Protocol.TCP, vip, 0, "rr")));
        ServiceSpec pcc = new ServiceSpec(Protocol.TCP, vip, 80, "rr").withPersistence(300, -1);
        assertTrue(pcc.persistent());
        new ServiceSpec(Protocol.TCP, vip, 0, 0, "rr", 0, 300, -1, false, java.util.List.of(),
                ClientAddressMode.NONE, java.util.List.of()); // port 0 with persistence is fine
        assertTrue(error(() -> pcc.withPersistence(300, 0xff00ff00)).startsWith("illegal netmask 255.0.255.0"));
        assertEquals("One-Packet Scheduling only for UDP services",
                error(() -> new ServiceSpec(Protocol.TCP, vip, 80, "rr").withOnePacket(true)));
        ServiceSpec fwm = ServiceSpec.fwmark(1, "sh");
        assertEquals("FWM 1", fwm.label());
        assertTrue(fwm.isFwmark());
        assertTrue(fwm.sameService(ServiceSpec.fwmark(1, "rr")));
        assertEquals("FWM 4294967295", ServiceSpec.fwmark(-1, "rr").label());
        assertTrue(error(() -> new ServiceSpec(Protocol.TCP, vip, 80, "rr")
                .withDest(new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.FULLNAT))).contains("--laddr"));
        new ServiceSpec(Protocol.TCP, vip, 80, "rr").withFullNat(java.util.List.of(0x0a000003), ClientAddressMode.TOA)
                .withDest(new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.FULLNAT));
        assertEquals("GUE tunnel needs a port (--tun-port)", error(() -> new ServiceSpec.Dest(RS, 80, 1,
                ForwardMethod.TUN, 0, 0, TunnelType.GUE, 0, 0)));
        assertEquals("unknown scheduler flags 0x1", error(() -> new ServiceSpec(Protocol.TCP, vip, 80, "sh")
                .withScheduler("sh", 1)));
    }
}
