package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The IPv6 lookups the data path will call: beside IPv4's, never confused with them. */
class ServiceTableIpv6Test {
    static final Ipv6Address VIP = Ipv6Address.parse("2001:db8::1");
    static final Ipv6Address OTHER = Ipv6Address.parse("2001:db8::1:0:0:1"); // same low word as VIP

    static ServiceTable table(ServiceSpec... specs) {
        return new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(specs), ServiceTable.EMPTY);
    }

    @Test
    void lookup6FindsByProtocolAddressAndPortAndNothingElse() {
        ServiceTable t = table(ServiceSpec.ipv6(Protocol.TCP, VIP, 80, "rr", List.of()),
                ServiceSpec.ipv6(Protocol.UDP, VIP, 53, "rr", List.of()),
                new ServiceSpec(Protocol.TCP, 1, 80, "rr"));
        VirtualService s = t.lookup6(Protocol.TCP, VIP.hi(), VIP.lo(), 80);
        assertEquals("TCP/[2001:db8::1]:80", s.label());
        assertSame(t.lookup6(Protocol.UDP, VIP.hi(), VIP.lo(), 53), t.classify6(Protocol.UDP, VIP.hi(), VIP.lo(), 53));
        assertNull(t.lookup6(Protocol.UDP, VIP.hi(), VIP.lo(), 80));
        assertNull(t.lookup6(Protocol.TCP, VIP.hi(), VIP.lo(), 81));
        assertNull(t.lookup6(Protocol.TCP, OTHER.hi(), OTHER.lo(), 80));
        assertNull(t.lookup6(Protocol.TCP, 0, 1, 80), "::1 is not the IPv4 service 0.0.0.1");
        assertNull(t.lookup(Protocol.TCP, 0, 80), "an IPv6 service is not in the IPv4 table");
        assertEquals(Ipv4Address.toString(1), Ipv4Address.toString(t.lookup(Protocol.TCP, 1, 80).addr));
        assertTrue(t.isVip6(VIP.hi(), VIP.lo()));
        assertFalse(t.isVip6(OTHER.hi(), OTHER.lo()));
        assertEquals(2, t.vips6().length, "one distinct VIP");
        assertFalse(t.isVip(0), "no IPv4 VIP 0.0.0.0 from the IPv6 services");
    }

    @Test
    void portZeroAndFwmarkByFamilyAndDuplicates() {
        ServiceTable t = table(new ServiceSpec(Protocol.TCP, 0, 0, 0, "rr", 0, 300, 64, false, List.of(),
                        ClientAddressMode.NONE, List.of(), ServiceTimeouts.GLOBAL, false, ClientPolicy.NONE, VIP),
                ServiceSpec.fwmark6(7, "rr"), ServiceSpec.fwmark(7, "wlc"));
        assertEquals(0, t.classify6(Protocol.TCP, VIP.hi(), VIP.lo(), 443).port);
        assertEquals("rr", t.lookupFwmark6(7).schedulerName);
        assertEquals("wlc", t.lookupFwmark(7).schedulerName);
        assertThrows(IllegalArgumentException.class, () -> table(ServiceSpec.ipv6(Protocol.TCP, VIP, 80, "rr", List.of()),
                ServiceSpec.ipv6(Protocol.TCP, VIP, 80, "wlc", List.of())));
    }

    @Test
    void lookupsAllocateNothing() {
        ServiceTable t = table(ServiceSpec.ipv6(Protocol.TCP, VIP, 80, "rr", List.of()));
        long hi = VIP.hi();
        long lo = VIP.lo();
        int hits = 0;
        for (int i = 0; i < 20_000; i++) {
            hits += t.classify6(Protocol.TCP, hi, lo, 80) != null && t.isVip6(hi, lo) ? 1 : 0;
        }
        long before = io.jvs.forwarder.testkit.AllocationProbe.start();
        for (int i = 0; i < 100_000; i++) {
            hits += t.classify6(Protocol.TCP, hi, lo, 80 + (i & 1)) != null && t.isVip6(hi, lo + (i & 1)) ? 1 : 0;
            hits += t.lookupFwmark6(7) != null ? 1 : 0;
        }
        long allocated = io.jvs.forwarder.testkit.AllocationProbe.since(before);
        assertEquals(70_000, hits);
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes in 100k IPv6 lookups");
    }
}
