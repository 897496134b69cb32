package io.jvs.agent;

import io.jvs.agent.AgentOptions.UsageException;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** IPv6 VIPs and directors on the agent's command line; every refusal one line naming the item. */
class AgentOptionsIpv6Test {

    static AgentOptions parse(String... args) throws UsageException {
        return AgentOptions.parse(args, Map.of());
    }

    static String refused(String... args) {
        return assertThrows(UsageException.class, () -> parse(args)).getMessage();
    }

    @Test
    void ipv6VipsAreSplitFromIpv4OnesInEitherForm() throws Exception {
        AgentOptions o = parse("up", "--mode", "dr", "--vip", "2001:DB8::100, [2001:db8::0:101],10.0.0.100,2001:db8::100");
        assertEquals(List.of(0x0a000064), o.vips());
        assertEquals(List.of(new Ipv6Address(0x20010db800000000L, 0x100L), new Ipv6Address(0x20010db800000000L, 0x101L)),
                o.vips6());
        assertEquals(true, o.ipv6());
        AgentOptions v4 = parse("up", "--mode", "dr", "--vip", "10.0.0.100");
        assertEquals(false, v4.ipv6());
        assertEquals(List.of(), v4.vips6());
    }

    @Test
    void natTakesOneDirectorPerFamilyAndALinkLocalOneOnlyWithItsZone() throws Exception {
        AgentOptions both = parse("up", "--mode", "nat", "--director", "10.9.0.2,2001:db8:9::2");
        assertEquals(List.of(0x0a090002), both.directors());
        assertEquals(List.of(new Ipv6Address(0x20010db800090000L, 2L)), both.directors6());
        assertEquals(Optional.empty(), both.directorZone());
        AgentOptions ll = parse("up", "--mode", "nat", "--director", "fe80::1%eth0");
        assertEquals(List.of(new Ipv6Address(0xfe80000000000000L, 1L)), ll.directors6());
        assertEquals(Optional.of("eth0"), ll.directorZone());
        assertEquals("--director: mode nat needs exactly one director per address family (the default gateway)",
                refused("up", "--mode", "nat", "--director", "2001:db8:9::2,2001:db8:9::3"));
        assertEquals("--director: 'fe80::1' is link-local without a zone: name its interface, e.g. fe80::1%eth0",
                refused("up", "--mode", "nat", "--director", "fe80::1"));
        assertEquals("--director: 'fe80::1%eth0' is link-local: only mode nat takes one (a gateway); tunnel sources "
                + "are global addresses", refused("up", "--mode", "tun", "--vip", "2001:db8::100", "--director", "fe80::1%eth0"));
    }

    @Test
    void badIpv6AddressesAreOneLineNamingTheItem() {
        String[][] cases = {
                {"--vip", "fe80::100", "--vip: 'fe80::100' is link-local: a VIP is a global address"},
                {"--vip", "fe80::100%eth0", "--vip: 'fe80::100%eth0' is link-local: a VIP is a global address"},
                {"--vip", "2001:db8::100%eth0", "--vip: '2001:db8::100%eth0' has a zone but is not link-local (drop %eth0)"},
                {"--vip", "fe80::1%", "--vip: 'fe80::1%' has an empty or malformed zone (an interface name)"},
                {"--vip", "2001:db8:::100", "--vip: '2001:db8:::100' is not an IPv6 address"},
                {"--vip", "2001:db8::1::2", "--vip: '2001:db8::1::2' is not an IPv6 address"},
                {"--vip", "2001:db8::10000", "--vip: '2001:db8::10000' is not an IPv6 address"},
                {"--vip", "[2001:db8::100", "--vip: '[2001:db8::100' has unbalanced brackets"},
                {"--vip", "2001:db8::100]", "--vip: '2001:db8::100]' has unbalanced brackets"},
                {"--vip", "[]", "--vip: '[]' has unbalanced brackets"},
                {"--vip", "ff02::1", "--vip: 'ff02::1' is not a unicast address"},
                {"--vip", "::", "--vip: '::' is not a unicast address"},
                {"--vip", "::1", "--vip: '::1' is not a unicast address"},
                {"--vip", "::ffff:10.0.0.1", "--vip: '::ffff:10.0.0.1' is IPv4-mapped: write it as 10.0.0.1"},
        };
        for (String[] c : cases) {
            String m = refused("up", "--mode", "dr", c[0], c[1]);
            assertEquals(c[2], m, c[1]);
            assertEquals(1, m.lines().count(), c[1]);
        }
    }

    @Test
    void metricsListenOnAnIpv6AddressInBrackets() throws Exception {
        AgentOptions o = parse("run", "--mode", "tun", "--vip", "2001:db8::100", "--director", "2001:db8:9::2",
                "--metrics", "[::1]:9121");
        assertEquals(java.net.InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
                o.metrics().orElseThrow().getAddress());
        assertEquals(9121, o.metrics().orElseThrow().getPort());
        assertEquals("--metrics: '::1' is not an IPv4 address (an IPv6 address goes in brackets: [::1]:9120)",
                refused("run", "--mode", "dr", "--vip", "2001:db8::100", "--metrics", "::1:9121"));
        assertEquals("--metrics: '[fe80::1]:9121' is not [IPv6]:PORT with a usable address",
                refused("run", "--mode", "dr", "--vip", "2001:db8::100", "--metrics", "[fe80::1]:9121"));
    }
}
