package io.jvs.forwarder.ctl.mark;

import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.Protocol;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The --add-mark grammar on its own: iptables' words in, a FwmarkRule or one line of error out. */
class MarkRuleParserTest {
    static FwmarkRule parse(String words) throws MarkRuleException {
        return MarkRuleParser.parse("--add-mark", List.of(words.split(" ")));
    }

    static String error(String command, String words) {
        return assertThrows(MarkRuleException.class,
                () -> MarkRuleParser.parse(command, words.isEmpty() ? List.of() : List.of(words.split(" "))))
                .getMessage();
    }

    static int ip(String a) {
        return Ipv4Address.parse(a);
    }

    @Test
    void readsShortAndLongFormsAndNameEqualsValue() throws MarkRuleException {
        FwmarkRule want = new FwmarkRule(ip("10.9.0.0"), 16, ip("10.0.0.100"), 32, Protocol.UDP, 53, 53, 7);
        assertEquals(want, parse("-s 10.9.0.0/16 -d 10.0.0.100 -p udp --dport 53 --set-mark 7"));
        assertEquals(want, parse("--source=10.9.0.0/16 --destination 10.0.0.100/32 --protocol=UDP"
                + " --destination-port=53 --set-mark=7"));
        assertEquals(want, parse("--set-mark 7 --dport 53 -p udp --dst 10.0.0.100 --src 10.9.0.0/16"),
                "any order");
    }

    @Test
    void defaultsAndRanges() throws MarkRuleException {
        assertEquals(new FwmarkRule(0, 0, 0, 0, 0, 0, 65535, 1), parse("--set-mark 1"), "everything");
        assertEquals(new FwmarkRule(0, 0, ip("10.0.0.0"), 24, Protocol.TCP, 10000, 20000, -1),
                parse("-d 10.0.0.77/24 -p tcp --dport 10000:20000 --set-mark 4294967295"),
                "host bits dropped; the largest mark is 2^32-1");
        assertEquals(new FwmarkRule(0, 0, 0, 0, 0, 0, 65535, 3), parse("-p all --set-mark 3"));
    }

    @Test
    void whatFwmarkRuleToStringPrintsReadsBack() throws MarkRuleException {
        FwmarkRule r = new FwmarkRule(ip("10.9.0.0"), 16, ip("10.0.0.100"), 32, Protocol.TCP, 21, 21, 1);
        assertEquals(r, parse(r.toString()));
    }

    static io.jvs.packet.Ipv6Address ip6(String a) {
        return io.jvs.packet.Ipv6Address.parse(a);
    }

    /**
     * ip6tables' rules: IPv6 networks (bare: /128), or -6 for a rule without networks; host bits
     * dropped; -S's text starts with -6 and reads back.
     */
    @Test
    void ipv6RulesByTheirNetworksOrMinus6() throws MarkRuleException {
        FwmarkRule r = parse("-s 2001:db8:1::77/64 -d 2001:db8::100 -p tcp --dport 80 --set-mark 5");
        assertEquals(true, r.isIpv6());
        assertEquals(new io.jvs.packet.Ipv6Address(0x2001_0db8_0001_0000L, 0), r.src6(), "cut to /64");
        assertEquals(64, r.srcPrefix());
        assertEquals(new io.jvs.packet.Ipv6Address(0x2001_0db8_0000_0000L, 0x100), r.dst6());
        assertEquals(128, r.dstPrefix(), "a bare IPv6 address is a /128");
        assertEquals("-6 -s 2001:db8:1::/64 -d 2001:db8::100/128 -p tcp --dport 80 --set-mark 5", r.toString());
        assertEquals(r, parse(r.toString()));
        FwmarkRule any6 = parse("-6 -p udp --dport 53 --set-mark 9");
        assertEquals(FwmarkRule.ipv6(ip6("::"), 0, ip6("::"), 0, Protocol.UDP, 53, 53, 9), any6);
        assertEquals("-6 -p udp --dport 53 --set-mark 9", any6.toString());
        assertEquals(any6, parse("--ipv6 -p udp --dport 53 --set-mark 9"));
        assertEquals(false, parse("-p udp --dport 53 --set-mark 9").isIpv6(), "no -6, no IPv6 network: iptables'");
        assertEquals(FwmarkRule.ipv6(ip6("::"), 0, ip6("2001:db8::"), 32, 0, 0, 65535, 1),
                parse("-d 2001:db8:ffff::1/32 --set-mark 1"));
    }

    @Test
    void ipv6ErrorsNameTheBadNetwork() {
        assertEquals("illegal network `2001:db8::/129' for -d (expected ADDRESS[/PREFIX])",
                error("--add-mark", "-d 2001:db8::/129 --set-mark 1"));
        assertEquals("illegal network `2001:db8:::1' for -d (expected ADDRESS[/PREFIX])",
                error("--add-mark", "-d 2001:db8:::1 --set-mark 1"));
        assertEquals("illegal network `10.0.0.100' for -d (expected an IPv6 ADDRESS[/PREFIX]: -6 is given)",
                error("--add-mark", "-6 -d 10.0.0.100 --set-mark 1"));
        assertEquals("illegal network `10.9.0.0/16' for -s (expected an IPv6 ADDRESS[/PREFIX]: the rule's other"
                + " network is IPv6)", error("--add-mark", "-s 10.9.0.0/16 -d 2001:db8::100 --set-mark 1"));
        assertEquals("multiple 'ipv6' options specified", error("--add-mark", "-6 --ipv6 --set-mark 1"));
    }

    @Test
    void errorsNameTheBadWordOrValue() {
        assertEquals("--add-mark: unexpected `-x' (expected -6, -s NET[/N], -d NET[/N], -p tcp|udp,"
                + " --dport PORT[:PORT] or --set-mark MARK)", error("--add-mark", "-x 1 --set-mark 1"));
        assertEquals("multiple 'destination' options specified",
                error("--add-mark", "-d 10.0.0.1 --dst 10.0.0.2 --set-mark 1"));
        assertEquals("--set-mark: missing argument", error("--add-mark", "--set-mark"));
        assertEquals("illegal protocol `sctp' specified (expected tcp, udp or all)",
                error("--add-mark", "-p sctp --set-mark 1"));
        assertEquals("illegal port range `90:80' specified (expected PORT or LOW:HIGH)",
                error("--add-mark", "-p tcp --dport 90:80 --set-mark 1"));
        assertEquals("illegal port range `70000' specified (expected PORT or LOW:HIGH) (`70000'; expected 0..65535)",
                error("--add-mark", "-p tcp --dport 70000 --set-mark 1"));
        assertEquals("--dport needs -p tcp or -p udp", error("--add-mark", "--dport 80 --set-mark 1"));
        assertEquals("illegal network `10.0.0.0/33' for -s (expected ADDRESS[/PREFIX])",
                error("--add-mark", "-s 10.0.0.0/33 --set-mark 1"));
        assertEquals("illegal network `10.0.0' for --destination (expected ADDRESS[/PREFIX])",
                error("--add-mark", "--destination=10.0.0 --set-mark 1"));
        assertEquals("invalid fwmark value `0' specified", error("--add-mark", "--set-mark 0"));
        assertEquals("invalid fwmark value `0x1' specified", error("--add-mark", "--set-mark 0x1"));
        assertEquals("You need to supply the 'set-mark' option for the 'delete-mark' command",
                error("--delete-mark", "-d 10.0.0.100"));
        assertEquals("You need to supply the 'set-mark' option for the 'add-mark' command", error("--add-mark", ""));
    }
}
