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

    /**
     * IPv6 mark rules (ip6tables') classify IPv6 packets to the IPv6 fwmark service before address
     * services, first match wins; IPv4 rules never mark IPv6 packets nor the reverse; NDP answers
     * for a /128 rule destination whose mark has an IPv6 service, not for a shorter one or one
     * whose mark has none (as ARP for IPv4's /32).
     */
    @Test
    void ipv6MarkRulesClassifyIpv6PacketsOnly() {
        Ipv6Address fwmVip = Ipv6Address.parse("2001:db8::200");
        Ipv6Address client = Ipv6Address.parse("2001:db8:1::2");
        Ipv6Address stranger = Ipv6Address.parse("2001:db8:2::2");
        int vip4 = Ipv4Address.parse("10.0.0.100");
        List<FwmarkRule> rules = List.of(
                new FwmarkRule(0, 0, vip4, 32, Protocol.TCP, 80, 80, 5),                       // IPv4: mark 5
                FwmarkRule.ipv6(Ipv6Address.parse("2001:db8:1::"), 64, VIP, 128, Protocol.TCP, 80, 80, 6),
                FwmarkRule.ipv6(new Ipv6Address(0, 0), 0, fwmVip, 128, Protocol.TCP, 80, 81, 5),
                FwmarkRule.ipv6(new Ipv6Address(0, 0), 0, Ipv6Address.parse("2001:db8::300"), 127, 0, 0, 65535, 5),
                FwmarkRule.ipv6(new Ipv6Address(0, 0), 0, Ipv6Address.parse("2001:db8::400"), 128, 0, 0, 65535, 8));
        ServiceTable t = new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(
                ServiceSpec.ipv6(Protocol.TCP, VIP, 80, "rr", List.of()),
                ServiceSpec.fwmark6(5, "rr"), ServiceSpec.fwmark6(6, "wlc"), ServiceSpec.fwmark(5, "wlc"),
                new ServiceSpec(Protocol.TCP, vip4, 80, "rr")), rules, ServiceTable.EMPTY);
        assertEquals("FWM/6/IPv6", t.classify6(Protocol.TCP, client.hi(), client.lo(), VIP.hi(), VIP.lo(), 80).label(),
                "the client's /64 to [VIP]:80: mark 6 before the address service");
        assertEquals("TCP/[2001:db8::1]:80", t.classify6(Protocol.TCP, stranger.hi(), stranger.lo(), VIP.hi(), VIP.lo(),
                80).label(), "another /64: no rule, the address service");
        assertEquals("FWM/5/IPv6", t.classify6(Protocol.TCP, stranger.hi(), stranger.lo(), fwmVip.hi(), fwmVip.lo(),
                81).label(), "the IPv6 service of mark 5, not the IPv4 one");
        assertNull(t.classify6(Protocol.UDP, stranger.hi(), stranger.lo(), fwmVip.hi(), fwmVip.lo(), 81), "udp: no rule");
        assertNull(t.classify6(Protocol.TCP, stranger.hi(), stranger.lo(), fwmVip.hi(), fwmVip.lo(), 82), "port 82: none");
        assertEquals(0, t.mark6(Protocol.TCP, 0, 0, 0, vip4 & 0xffffffffL, 80), "::10.0.0.100 is not the IPv4 rule's");
        assertEquals(6, t.mark6(Protocol.TCP, client.hi(), client.lo(), VIP.hi(), VIP.lo(), 80));
        assertEquals(5, t.mark(Protocol.TCP, 1, vip4, 80), "IPv4 packets see IPv4 rules only");
        assertEquals("FWM/5", t.classify(Protocol.TCP, 1, vip4, 80).label());
        assertTrue(t.isVip6(fwmVip.hi(), fwmVip.lo()), "a /128 rule destination with an IPv6 service");
        assertFalse(t.isVip6(fwmVip.hi(), fwmVip.lo() + 1));
        Ipv6Address net127 = Ipv6Address.parse("2001:db8::300");
        assertFalse(t.isVip6(net127.hi(), net127.lo()), "a /127 is a network, not a VIP");
        Ipv6Address noService = Ipv6Address.parse("2001:db8::400");
        assertFalse(t.isVip6(noService.hi(), noService.lo()), "mark 8 has no service");
        assertTrue(t.isVip(vip4));
        assertEquals(4, t.vips6().length, "VIP and the /128 of mark 5: two addresses");
        long before = io.jvs.forwarder.testkit.AllocationProbe.start();
        int hits = 0;
        for (int i = 0; i < 100_000; i++) {
            hits += t.classify6(Protocol.TCP, client.hi(), client.lo() + (i & 1), fwmVip.hi(), fwmVip.lo(), 80 + (i & 3))
                    != null ? 1 : 0;
        }
        long allocated = io.jvs.forwarder.testkit.AllocationProbe.since(before);
        assertEquals(50_000, hits, "ports 80 and 81 of four");
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes in 100k IPv6 classifications");
    }
}
