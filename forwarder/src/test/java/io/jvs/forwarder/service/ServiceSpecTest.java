package io.jvs.forwarder.service;

import io.jvs.forwarder.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        assertTrue(error(() -> new ServiceSpec.Dest(RS, 0, 1, ForwardMethod.DR)).contains("port 0"));
        assertEquals("lower threshold 5 is higher than upper threshold 0",
                error(() -> new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR, 0, 5)));
        assertEquals("illegal u_threshold specified: -1",
                error(() -> new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR, -1, 0)));
        new ServiceSpec.Dest(RS, 80, 0, ForwardMethod.DR, 100, 100); // weight 0 and lower == upper are fine
    }
}
