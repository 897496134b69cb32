package io.jvs.forwarder.packet;

import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Inet;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPv6 text forms against glibc: every row below was produced by Python's
 * socket.inet_pton/inet_ntop (glibc 2.x's inet_pton6/inet_ntop6) on this machine,
 * not by the code under test.
 */
class Ipv6AddressTest {
    /** input | what inet_ntop prints for inet_pton's bytes | high 64 bits | low 64 bits. */
    private static final String[] GLIBC_ACCEPTS = {
        "::|::|0000000000000000|0000000000000000",
        "::1|::1|0000000000000000|0000000000000001",
        "1::|1::|0001000000000000|0000000000000000",
        "2001:db8::1|2001:db8::1|20010db800000000|0000000000000001",
        "2001:DB8:0:0:0:0:0:1|2001:db8::1|20010db800000000|0000000000000001",
        "2001:db8:0:1:1:1:1:1|2001:db8:0:1:1:1:1:1|20010db800000001|0001000100010001",
        "2001:db8::1:0:0:1|2001:db8::1:0:0:1|20010db800000000|0001000000000001",
        "2001:0:0:1::1|2001:0:0:1::1|2001000000000001|0000000000000001",
        "fe80::ff:fe00:a|fe80::ff:fe00:a|fe80000000000000|000000fffe00000a",
        "::ffff:1.2.3.4|::ffff:1.2.3.4|0000000000000000|0000ffff01020304",
        "::ffff:0102:0304|::ffff:1.2.3.4|0000000000000000|0000ffff01020304",
        "::1.2.3.4|::1.2.3.4|0000000000000000|0000000001020304",
        "::0.0.0.1|::1|0000000000000000|0000000000000001",
        "::ffff:0:1.2.3.4|::ffff:0:102:304|0000000000000000|ffff000001020304",
        "1:2:3:4:5:6:1.2.3.4|1:2:3:4:5:6:102:304|0001000200030004|0005000601020304",
        "0:0:0:0:0:0:0:0|::|0000000000000000|0000000000000000",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|ffffffffffffffff|ffffffffffffffff",
        "2001:db8:0:0:1:0:0:1|2001:db8::1:0:0:1|20010db800000000|0001000000000001",
        "1:0:0:2:0:0:0:3|1:0:0:2::3|0001000000000002|0000000000000003",
        "::ffff:0:0|::ffff:0.0.0.0|0000000000000000|0000ffff00000000",
        "::fffe:1.2.3.4|::fffe:102:304|0000000000000000|0000fffe01020304",
        "64:ff9b::1.2.3.4|64:ff9b::102:304|0064ff9b00000000|0000000001020304",
        "0:0:0:0:0:ffff:a00:1|::ffff:10.0.0.1|0000000000000000|0000ffff0a000001",
        "1::2:3:4:5:6:7|1:0:2:3:4:5:6:7|0001000000020003|0004000500060007",
        "::2:3:4:5:6:7:8|0:2:3:4:5:6:7:8|0000000200030004|0005000600070008",
        "1:2:3:4:5:6:7::|1:2:3:4:5:6:7:0|0001000200030004|0005000600070000",
    };

    /** Text glibc's inet_pton(AF_INET6) returns 0 for. */
    private static final String[] GLIBC_REFUSES = {
        "", ":", ":::", "1:::2", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:", "::1:", "g::",
        "1:2:3:4:5:6:7:8::", "::1.2.3.04", "::1.2.3", "::1.2.3.4.5", "1.2.3.4", "::1.2.3.4:5", "[::1]",
        "::256.1.1.1", "1::2:3:4:5:6:7:8", " ::1", "::1%eth0", "::01234", "1:2:3:4:5:6:7:1.2.3.4",
        "::ffff:1.2.3.4x",
    };

    @Test
    void parsesAndPrintsAsGlibc() {
        for (String row : GLIBC_ACCEPTS) {
            String[] f = row.split("\\|", -1);
            Ipv6Address a = Ipv6Address.parse(f[0]);
            assertEquals(Long.parseUnsignedLong(f[2], 16), a.hi(), f[0]);
            assertEquals(Long.parseUnsignedLong(f[3], 16), a.lo(), f[0]);
            assertEquals(f[1], a.toString(), f[0]);
            assertEquals(a, Ipv6Address.parse(a.toString()), "what it prints parses back: " + f[0]);
        }
    }

    @Test
    void refusesWhatGlibcRefuses() {
        for (String text : GLIBC_REFUSES) {
            assertNull(Ipv6Address.tryParse(text), "'" + text + "'");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv6Address.parse("1::2::3"));
        assertEquals("not an IPv6 address: 1::2::3", e.getMessage());
    }

    @Test
    void classifiesAndMasks() {
        assertTrue(Ipv6Address.parse("fe80::1").isLinkLocal());
        assertTrue(Ipv6Address.parse("febf::1").isLinkLocal());
        assertFalse(Ipv6Address.parse("fec0::1").isLinkLocal());
        assertTrue(Ipv6Address.parse("ff02::1:ff00:b").isMulticast());
        assertFalse(Ipv6Address.parse("fe80::1").isMulticast());
        assertTrue(Ipv6Address.parse("::").isUnspecified());
        assertTrue(Ipv6Address.parse("::1").isLoopback());
        assertTrue(Ipv6Address.parse("::ffff:10.0.0.1").isIpv4Mapped());
        assertFalse(Ipv6Address.parse("::10.0.0.1").isIpv4Mapped());
        assertEquals(0x0a000001, Ipv6Address.parse("::ffff:10.0.0.1").ipv4());
        assertEquals(Ipv6Address.parse("::ffff:192.168.0.1"), Ipv6Address.mapped(0xC0A8_0001));
        Ipv6Address a = Ipv6Address.parse("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
        assertEquals("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", a.prefix(128).toString());
        assertEquals("2001:db8:aaaa:bbbb:cccc:dddd:eeee:fff0", a.prefix(124).toString());
        assertEquals("2001:db8:aaaa:bbbb::", a.prefix(64).toString());
        assertEquals("2001:db8:aaaa:bb80::", a.prefix(57).toString());
        assertEquals("2001:db8::", a.prefix(32).toString());
        assertEquals("2000::", a.prefix(3).toString());
        assertEquals("::", a.prefix(0).toString());
        assertThrows(IllegalArgumentException.class, () -> a.prefix(129));
    }

    @Test
    void oneDottedQuadParserForBothIpv4Classes() {
        assertEquals(0x0a000001, Ipv4Address.parse("10.0.0.1"));
        assertEquals(0x0a000001, Inet.parse("10.0.0.1"));
        assertEquals(0x0a000001, Ipv4Address.parse("010.0.0.01"), "the project's IPv4 parser reads leading zeros");
        assertEquals(-1, Ipv4Address.tryParse("010.0.0.1", 0, 9, false), "inet_pton4 does not");
        assertEquals(0xFFFFFFFFL, Ipv4Address.tryParse("255.255.255.255", 0, 15, false));
        for (String bad : new String[]{"", "1.2.3", "1.2.3.4.", ".1.2.3", "1..2.3", "256.1.1.1", "1.2.3.4.5",
                "+1.2.3.4", "1.2.3.0004", "a.b.c.d", "1.2.3.4 "}) {
            assertEquals(-1, Ipv4Address.tryParse(bad, 0, bad.length(), true), "'" + bad + "'");
            assertEquals("not an IPv4 address: " + bad,
                    assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse(bad)).getMessage());
            assertEquals("'" + bad + "' is not an IPv4 address",
                    assertThrows(IllegalArgumentException.class, () -> Inet.parse(bad)).getMessage());
        }
        assertEquals("10.0.0.1", Inet.format(0x0a000001));
    }
}
