package io.jvs.forwarder.ctl.mark;

import io.jvs.forwarder.config.StringToNumber;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.Protocol;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * jvs's fwmark rules in iptables' words: what LVS users wrote as
 * {@code iptables -t mangle -A PREROUTING ... -j MARK --set-mark M} for a
 * fwmark service, given to jvsadm as
 * {@code --add-mark|--delete-mark [-6] [-s NET[/N]] [-d NET[/N]] [-p tcp|udp|all] [--dport N[:M]] --set-mark MARK}.
 * A rule is IPv4 (iptables') unless {@code -6} ({@code --ipv6}) is given or a network is IPv6
 * (ip6tables'): it then marks IPv6 packets only, for a {@code -f MARK -6} service; the two
 * networks of one rule are of one family. Long forms ({@code --source}, {@code --destination}, {@code --protocol},
 * {@code --destination-port}) and {@code --name=value} are read as iptables
 * reads them; each option at most once. {@link FwmarkRule#toString} prints
 * the same words, so {@code -S} output reads back.
 *
 * <p>Numbers are read as the rest of the ipvsadm command line reads them
 * (ipvsadm's string_to_number: whole decimals, optional sign), so a mark or
 * port is written the same way in {@code -f 1} and {@code --set-mark 1}.
 * Stateless.
 */
public final class MarkRuleParser {
    private MarkRuleParser() {
    }

    /**
     * Reads one rule.
     *
     * @param command the command word as written ({@code --add-mark} or {@code --delete-mark}), for messages
     * @param words   the words after it
     * @throws MarkRuleException naming the bad word or value
     */
    public static FwmarkRule parse(String command, List<String> words) throws MarkRuleException {
        Net src = null;
        Net dst = null;
        boolean ipv6 = false;
        int proto = 0;
        int low = 0;
        int high = 65535;
        long mark = -1;
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < words.size(); i++) {
            String tok = words.get(i);
            if (tok.equals("-6") || tok.equals("--ipv6")) {
                if (ipv6) {
                    throw new MarkRuleException("multiple 'ipv6' options specified");
                }
                ipv6 = true;
                continue;
            }
            String value = null;
            int eq = tok.indexOf('=');
            if (tok.startsWith("--") && eq > 2) {
                value = tok.substring(eq + 1);
                tok = tok.substring(0, eq);
            }
            String name = switch (tok) {
                case "-s", "--source", "--src" -> "source";
                case "-d", "--destination", "--dst" -> "destination";
                case "-p", "--protocol" -> "protocol";
                case "--dport", "--destination-port" -> "dport";
                case "--set-mark" -> "set-mark";
                default -> throw new MarkRuleException(command + ": unexpected `" + tok + "' (expected -6, -s NET[/N],"
                        + " -d NET[/N], -p tcp|udp, --dport PORT[:PORT] or --set-mark MARK)");
            };
            if (!seen.add(name)) {
                throw new MarkRuleException("multiple '" + name + "' options specified");
            }
            if (value == null) {
                if (i + 1 >= words.size()) {
                    throw new MarkRuleException(tok + ": missing argument");
                }
                value = words.get(++i);
            }
            switch (name) {
                case "source" -> src = network(value, tok);
                case "destination" -> dst = network(value, tok);
                case "protocol" -> proto = switch (value.toLowerCase(Locale.ROOT)) {
                    case "tcp" -> Protocol.TCP;
                    case "udp" -> Protocol.UDP;
                    case "all" -> 0;
                    default -> throw new MarkRuleException("illegal protocol `" + value
                            + "' specified (expected tcp, udp or all)");
                };
                case "dport" -> {
                    int colon = value.indexOf(':');
                    String bad = "illegal port range `" + value + "' specified (expected PORT or LOW:HIGH)";
                    low = port(colon < 0 ? value : value.substring(0, colon), bad);
                    high = colon < 0 ? low : port(value.substring(colon + 1), bad);
                    if (low > high) {
                        throw new MarkRuleException(bad);
                    }
                }
                default -> {
                    Long m = StringToNumber.parse(value);
                    if (m == null || m <= 0 || m > 0xffffffffL) {
                        throw new MarkRuleException("invalid fwmark value `" + value + "' specified");
                    }
                    mark = m;
                }
            }
        }
        if (mark < 0) {
            throw new MarkRuleException("You need to supply the 'set-mark' option for the '"
                    + command.substring(2) + "' command");
        }
        if (seen.contains("dport") && proto == 0) {
            throw new MarkRuleException("--dport needs -p tcp or -p udp");
        }
        boolean v6 = ipv6 || src != null && src.v6 != null || dst != null && dst.v6 != null;
        for (Net n : new Net[] {src, dst}) {
            if (n != null && (n.v6 != null) != v6) {
                throw new MarkRuleException("illegal network `" + n.text + "' for " + n.opt + " (expected an "
                        + (v6 ? "IPv6" : "IPv4") + " ADDRESS[/PREFIX]: " + (ipv6 ? "-6 is given"
                        : "the rule's other network is " + (v6 ? "IPv6" : "IPv4")) + ")");
            }
        }
        if (v6) {
            Ipv6Address any = new Ipv6Address(0, 0);
            return FwmarkRule.ipv6(src == null ? any : src.v6, src == null ? 0 : src.prefix,
                    dst == null ? any : dst.v6, dst == null ? 0 : dst.prefix, proto, low, high, (int) mark);
        }
        return new FwmarkRule(src == null ? 0 : src.v4, src == null ? 0 : src.prefix, dst == null ? 0 : dst.v4,
                dst == null ? 0 : dst.prefix, proto, low, high, (int) mark);
    }

    /** One -s/-d network as written: IPv4 ({@code v6} null) or IPv6, cut to its prefix. */
    private record Net(String text, String opt, int v4, Ipv6Address v6, int prefix) {
    }

    /** ADDRESS[/PREFIX], IPv4 (prefix 0..32, default 32) or IPv6 (a colon in it; 0..128, default 128). */
    private static Net network(String text, String opt) throws MarkRuleException {
        int slash = text.indexOf('/');
        String bad = "illegal network `" + text + "' for " + opt + " (expected ADDRESS[/PREFIX])";
        String addr = slash < 0 ? text : text.substring(0, slash);
        boolean v6 = addr.indexOf(':') >= 0;
        int max = v6 ? 128 : 32;
        try {
            Long len = slash < 0 ? Long.valueOf(max) : StringToNumber.parse(text.substring(slash + 1));
            if (len == null || len < 0 || len > max) {
                throw new MarkRuleException(bad);
            }
            int prefix = (int) (long) len;
            if (v6) {
                return new Net(text, opt, 0, Ipv6Address.parse(addr).prefix(prefix), prefix);
            }
            return new Net(text, opt, Ipv4Address.parse(addr) & FwmarkRule.mask(prefix), null, prefix);
        } catch (IllegalArgumentException e) {
            throw new MarkRuleException(bad);
        }
    }

    /** A port 0..65535; ipvsadm's words for a bad number: the message, then the value and the range. */
    private static int port(String s, String message) throws MarkRuleException {
        Long v = StringToNumber.parse(s);
        if (v == null || v < 0 || v > 65535) {
            throw new MarkRuleException(message + " (`" + s + "'; expected 0..65535)");
        }
        return (int) (long) v;
    }
}
