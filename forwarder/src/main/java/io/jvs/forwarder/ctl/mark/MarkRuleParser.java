package io.jvs.forwarder.ctl.mark;

import io.jvs.forwarder.config.StringToNumber;
import io.jvs.packet.Ipv4Address;
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
 * {@code --add-mark|--delete-mark [-s NET[/N]] [-d NET[/N]] [-p tcp|udp|all] [--dport N[:M]] --set-mark MARK}.
 * Long forms ({@code --source}, {@code --destination}, {@code --protocol},
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
        int[] src = {0, 0};
        int[] dst = {0, 0};
        int proto = 0;
        int low = 0;
        int high = 65535;
        long mark = -1;
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < words.size(); i++) {
            String tok = words.get(i);
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
                default -> throw new MarkRuleException(command + ": unexpected `" + tok + "' (expected -s NET[/N],"
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
        return new FwmarkRule(src[0], src[1], dst[0], dst[1], proto, low, high, (int) mark);
    }

    /** ADDRESS[/PREFIX] as [network, prefix]. */
    private static int[] network(String text, String opt) throws MarkRuleException {
        int slash = text.indexOf('/');
        String bad = "illegal network `" + text + "' for " + opt + " (expected ADDRESS[/PREFIX])";
        try {
            int addr = Ipv4Address.parse(slash < 0 ? text : text.substring(0, slash));
            Long len = slash < 0 ? Long.valueOf(32) : StringToNumber.parse(text.substring(slash + 1));
            if (len == null || len < 0 || len > 32) {
                throw new MarkRuleException(bad);
            }
            int prefix = (int) (long) len;
            return new int[]{addr & FwmarkRule.mask(prefix), prefix};
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
