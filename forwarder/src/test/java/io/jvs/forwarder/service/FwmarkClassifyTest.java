package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fwmark rules and services in a published table, as IPVS finds a service for a packet. */
class FwmarkClassifyTest {
    static final int VIP = Ipv4Address.parse("10.0.0.100");
    static final int CLIENT = Ipv4Address.parse("10.0.1.2");

    static FwmarkRule rule(String dst, int prefix, int proto, int lo, int hi, int mark) {
        return new FwmarkRule(0, 0, Ipv4Address.parse(dst), prefix, proto, lo, hi, mark);
    }

    @Test
    void httpAndHttpsShareOneMarkFtpRangesAnother() {
        List<FwmarkRule> rules = List.of(
                rule("10.0.0.100", 32, Protocol.TCP, 80, 80, 1),
                rule("10.0.0.100", 32, Protocol.TCP, 443, 443, 1),
                rule("10.0.0.100", 32, Protocol.TCP, 21, 21, 2),
                rule("10.0.0.100", 32, Protocol.TCP, 10000, 20000, 2));
        ServiceTable t = new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(
                ServiceSpec.fwmark(1, "rr").withPersistence(1800, -1),
                ServiceSpec.fwmark(2, "rr").withPersistence(300, -1),
                new ServiceSpec(Protocol.TCP, VIP, 8080, "rr")), rules, ServiceTable.EMPTY);
        VirtualService web = t.lookupFwmark(1);
        VirtualService ftp = t.lookupFwmark(2);
        assertEquals("FWM/1", web.label());
        assertSame(web, t.classify(Protocol.TCP, CLIENT, VIP, 80));
        assertSame(web, t.classify(Protocol.TCP, CLIENT, VIP, 443));
        assertSame(ftp, t.classify(Protocol.TCP, CLIENT, VIP, 21));
        assertSame(ftp, t.classify(Protocol.TCP, CLIENT, VIP, 10000));
        assertSame(ftp, t.classify(Protocol.TCP, CLIENT, VIP, 20000));
        assertNull(t.classify(Protocol.TCP, CLIENT, VIP, 20001));
        assertNull(t.classify(Protocol.UDP, CLIENT, VIP, 80), "rule is tcp only");
        assertEquals("TCP/10.0.0.100:8080", t.classify(Protocol.TCP, CLIENT, VIP, 8080).label(),
                "unmarked packets fall back to address services");
        assertTrue(t.isVip(VIP));
    }

    @Test
    void markWithoutServiceFallsThroughAndIsNoVip() {
        ServiceTable t = new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(),
                List.of(rule("10.0.0.200", 32, 0, 0, 65535, 7)), ServiceTable.EMPTY);
        assertEquals(7, t.mark(Protocol.UDP, CLIENT, Ipv4Address.parse("10.0.0.200"), 53));
        assertNull(t.classify(Protocol.UDP, CLIENT, Ipv4Address.parse("10.0.0.200"), 53));
        assertFalse(t.isVip(Ipv4Address.parse("10.0.0.200")));
    }

    @Test
    void sourcePrefixAndFirstMatchWins() {
        List<FwmarkRule> rules = List.of(
                new FwmarkRule(Ipv4Address.parse("10.0.1.0"), 24, VIP, 32, 0, 0, 65535, 3),
                rule("10.0.0.0", 24, 0, 0, 65535, 4));
        ServiceTable t = new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(
                ServiceSpec.fwmark(3, "rr").withPersistence(60, -1), ServiceSpec.fwmark(4, "rr").withPersistence(60, -1)),
                rules, ServiceTable.EMPTY);
        assertEquals(3, t.mark(Protocol.TCP, CLIENT, VIP, 1));
        assertEquals(4, t.mark(Protocol.TCP, Ipv4Address.parse("192.0.2.1"), VIP, 1));
        assertEquals(4, t.mark(Protocol.TCP, CLIENT, Ipv4Address.parse("10.0.0.7"), 1));
        assertFalse(t.isVip(Ipv4Address.parse("10.0.0.7")), "a /24 rule does not make jvs answer ARP for the prefix");
    }

    @Test
    void badRulesAndDuplicateMarksAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> rule("10.0.0.100", 32, 0, 80, 80, 1));
        assertThrows(IllegalArgumentException.class, () -> rule("10.0.0.100", 33, Protocol.TCP, 80, 80, 1));
        assertThrows(IllegalArgumentException.class, () -> rule("10.0.0.100", 32, Protocol.TCP, 90, 80, 1));
        assertThrows(IllegalArgumentException.class, () -> rule("10.0.0.100", 32, Protocol.TCP, 80, 80, 0));
        assertEquals("-d 10.0.0.100/32 -p tcp --dport 10000:20000 --set-mark 2",
                rule("10.0.0.100", 32, Protocol.TCP, 10000, 20000, 2).toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new ServiceTableBuilder(TestSchedulers.FACTORY).build(List.of(ServiceSpec.fwmark(1, "rr"),
                        ServiceSpec.fwmark(1, "wrr")), List.of(), ServiceTable.EMPTY));
        assertTrue(e.getMessage().contains("Service already exists"), e.getMessage());
    }
}
