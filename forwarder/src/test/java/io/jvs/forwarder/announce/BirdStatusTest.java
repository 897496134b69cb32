package io.jvs.forwarder.announce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** BIRD 2.0.12's own words (captured from the lab's router, codes stripped as BirdControl strips them). */
class BirdStatusTest {
    static final List<String> PROTOCOLS = List.of(
            "Name       Proto      Table      State  Since         Info",
            "device1    Device     ---        up     06:23:17.813  ",
            "bfd1       BFD        ---        up     06:23:17.813  ",
            "kernel1    Kernel     master4    up     06:23:17.813  ",
            "director1  BGP        ---        up     06:23:22.018  Established   ",
            "director2  BGP        ---        start  06:24:36.920  Active        Socket: Connection refused",
            "director3  BGP        ---        up     2026-12-03 06:23:22  Established   ");
    static final List<String> BFD = List.of(
            "bfd1:",
            "IP address                Interface  State      Since         Interval  Timeout",
            "10.0.0.3                  eth1       Up         06:24:35.398    0.100    0.300",
            "10.0.0.5                  eth1       Down       06:23:18.570    1.000    0.000");

    @Test
    void bgpProtocolsAndTheirStateBfdSessionsAndNothingElse() {
        BirdStatus s = BirdStatus.parse(PROTOCOLS, BFD);
        assertTrue(s.reachable());
        assertEquals(List.of("director1", "director2", "director3"), s.bgp().stream().map(BirdStatus.BgpSession::protocol).toList());
        assertEquals(List.of(true, false, true), s.bgp().stream().map(BirdStatus.BgpSession::established).toList());
        assertEquals("Active Socket: Connection refused", s.bgp().get(1).info());
        assertEquals(List.of(new BirdStatus.BfdSession("10.0.0.3", "eth1", "Up"),
                new BirdStatus.BfdSession("10.0.0.5", "eth1", "Down")), s.bfd());
        assertTrue(s.bfd().get(0).up());
        assertFalse(s.bfd().get(1).up());
    }

    @Test
    void noBgpNoBfd() {
        BirdStatus s = BirdStatus.parse(PROTOCOLS.subList(0, 4), List.of());
        assertEquals(List.of(), s.bgp());
        assertEquals(List.of(), s.bfd());
    }
}
