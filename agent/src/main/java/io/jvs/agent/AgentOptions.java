package io.jvs.agent;

import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Inet;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's command line, parsed completely before anything is touched.
 * Every error is a {@link UsageException} whose message names the bad item.
 */
public record AgentOptions(Command command, Mode mode, List<Integer> vips, List<Integer> directors,
                           Optional<String> iface, boolean fix, int guePort, String tunDevice, Path state,
                           Optional<InetSocketAddress> metrics, Optional<String> user,
                           List<Ipv6Address> vips6, List<Ipv6Address> directors6, Optional<String> directorZone) {

    public enum Command { UP, DOWN, CHECK, RUN, HELP }

    /** What the real server takes part in; see README "Real servers: jvs-agent". */
    public enum Mode {
        DR, TUN, NAT, FULLNAT;

        static Mode parse(String s) throws UsageException {
            return switch (s) {
                case "dr" -> DR;
                case "tun" -> TUN;
                case "nat" -> NAT;
                case "fullnat" -> FULLNAT;
                default -> throw new UsageException("--mode: unknown mode '" + s + "' (expected dr, tun, nat or fullnat)");
            };
        }

        public String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static final int DEFAULT_GUE_PORT = 6080;
    public static final String DEFAULT_TUN_DEVICE = "jvs-tun0";
    public static final String DEFAULT_STATE = "/run/jvs-agent/state";
    public static final String DEFAULT_METRICS = "127.0.0.1:9120";

    /** A usage error: one line naming the item; exit status 2. */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }

    public static String usage() {
        return """
                Usage: jvs-agent up|down|check|run [options]
                  up      configure this real server for --mode (idempotent; every change is journalled first)
                  down    undo exactly what up changed, from the state file (also after a crash)
                  check   print PASS/FAIL per requirement of --mode with the fix; exit 1 on any FAIL
                  run     up, serve /health and /metrics (and decapsulate for tun), down on SIGTERM
                Options:
                  --mode dr|tun|nat|fullnat   what the server takes part in (up, check, run)
                  --vip A[,B...]              the virtual IPs (dr, tun), IPv4 and/or IPv6 (2001:db8::100)
                  --director D[,E...]         director addresses: allowed tunnel sources (tun), gateway (nat:
                                              one per family; a link-local one with its zone, fe80::1%eth0)
                  --iface IF                  the server's LAN interface (default: the default route's)
                  --fix                       nat: set the default route via the director (else only warn)
                  --gue-port N                tun: UDP port for GUE (default 6080, 0 = no GUE)
                  --tun-dev NAME              tun without kernel ipip: the TUN device (default jvs-tun0)
                  --state FILE                undo journal (default $JVS_AGENT_STATE or /run/jvs-agent/state)
                  --metrics ADDR:PORT|off     run: /health and /metrics (default 127.0.0.1:9120; IPv6: [::1]:9120)
                  --user NAME                 run: drop to this user once everything is open (README)
                """;
    }

    public static AgentOptions parse(String[] args, Map<String, String> env) throws UsageException {
        if (args.length == 0) {
            throw new UsageException("missing command (expected up, down, check or run)");
        }
        Command cmd = switch (args[0]) {
            case "up" -> Command.UP;
            case "down" -> Command.DOWN;
            case "check" -> Command.CHECK;
            case "run" -> Command.RUN;
            case "-h", "--help", "help" -> Command.HELP;
            default -> throw new UsageException("unknown command '" + args[0] + "' (expected up, down, check or run)");
        };
        Mode mode = null;
        List<Integer> vips = List.of();
        List<Integer> directors = List.of();
        List<Ipv6Address> vips6 = List.of();
        List<Ipv6Address> directors6 = List.of();
        String directorZone = null;
        String iface = null;
        boolean fix = false;
        int guePort = DEFAULT_GUE_PORT;
        String tunDev = DEFAULT_TUN_DEVICE;
        String stateEnv = env.get("JVS_AGENT_STATE");
        Path state = Path.of(stateEnv == null || stateEnv.isBlank() ? DEFAULT_STATE : stateEnv);
        String metrics = DEFAULT_METRICS;
        String user = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String flag = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                flag = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (flag.equals("--fix")) {
                fix = true;
                continue;
            }
            if (flag.equals("-h") || flag.equals("--help")) {
                cmd = Command.HELP;
                continue;
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException(flag + ": missing value");
                }
                value = args[++i];
            }
            switch (flag) {
                case "--mode" -> mode = Mode.parse(value);
                case "--vip" -> {
                    Addresses parsed = addresses("--vip", value, false);
                    vips = parsed.v4();
                    vips6 = parsed.v6();
                }
                case "--director" -> {
                    Addresses parsed = addresses("--director", value, true);
                    directors = parsed.v4();
                    directors6 = parsed.v6();
                    directorZone = parsed.zone();
                }
                case "--iface" -> {
                    if (value.isEmpty() || value.length() > 15 || value.contains("/") || value.contains(" ")) {
                        throw new UsageException("--iface: '" + value + "' is not an interface name");
                    }
                    iface = value;
                }
                case "--gue-port" -> guePort = port("--gue-port", value, true);
                case "--tun-dev" -> {
                    if (!value.matches("[A-Za-z0-9_.-]{1,15}")) {
                        throw new UsageException("--tun-dev: '" + value + "' is not a device name (1-15 of [A-Za-z0-9_.-])");
                    }
                    tunDev = value;
                }
                case "--state" -> {
                    if (value.isEmpty()) {
                        throw new UsageException("--state: empty path");
                    }
                    state = Path.of(value);
                }
                case "--metrics" -> metrics = value;
                case "--user" -> {
                    if (value.isEmpty()) {
                        throw new UsageException("--user: empty name");
                    }
                    user = value;
                }
                default -> throw new UsageException("unknown option '" + flag + "' (see jvs-agent --help)");
            }
        }
        Optional<InetSocketAddress> metricsAddr = Optional.empty();
        if (!metrics.equals("off")) {
            int c = metrics.lastIndexOf(':');
            if (c <= 0) {
                throw new UsageException("--metrics: '" + metrics + "' is not ADDR:PORT or off");
            }
            String host = metrics.substring(0, c);
            if (host.startsWith("[") && host.endsWith("]") && host.length() > 2) {
                // [IPv6]:PORT, as ipvsadm writes an IPv6 service: [::1]:9120, or [::]:9120 for every address
                host = host.substring(1, host.length() - 1);
                Ipv6Address a = Ipv6Address.tryParse(host);
                if (a == null || a.isMulticast() || a.isLinkLocal() || a.isIpv4Mapped()) {
                    throw new UsageException("--metrics: '" + metrics + "' is not [IPv6]:PORT with a usable address");
                }
            } else {
                try {
                    Inet.parse(host);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--metrics: " + e.getMessage()
                            + (host.indexOf(':') >= 0 ? " (an IPv6 address goes in brackets: [::1]:9120)" : ""));
                }
            }
            metricsAddr = Optional.of(new InetSocketAddress(host, port("--metrics", metrics.substring(c + 1), false)));
        }
        if (cmd == Command.UP || cmd == Command.CHECK || cmd == Command.RUN) {
            if (mode == null) {
                throw new UsageException("--mode: missing (expected dr, tun, nat or fullnat)");
            }
            if ((mode == Mode.DR || mode == Mode.TUN) && vips.isEmpty() && vips6.isEmpty()) {
                throw new UsageException("--vip: missing (mode " + mode.word() + " needs the virtual IPs)");
            }
            if (mode == Mode.TUN && directors.isEmpty() && directors6.isEmpty()) {
                throw new UsageException("--director: missing (mode tun accepts tunnelled packets only from the directors)");
            }
            if (mode == Mode.NAT && (directors.size() > 1 || directors6.size() > 1
                    || directors.isEmpty() && directors6.isEmpty())) {
                throw new UsageException("--director: mode nat needs exactly one director per address family "
                        + "(the default gateway)");
            }
            if (directorZone != null && mode != Mode.NAT) {
                throw new UsageException("--director: '" + directors6.get(0) + "%" + directorZone
                        + "' is link-local: only mode nat takes one (a gateway); tunnel sources are global addresses");
            }
        }
        if (fix && mode != Mode.NAT) {
            throw new UsageException("--fix: only mode nat has something to fix (the default route)");
        }
        if (user != null && cmd != Command.RUN && cmd != Command.HELP) {
            throw new UsageException("--user: only run drops privileges (up, down and check end at once)");
        }
        return new AgentOptions(cmd, mode, vips, directors, Optional.ofNullable(iface), fix, guePort, tunDev, state,
                metricsAddr, Optional.ofNullable(user), vips6, directors6, Optional.ofNullable(directorZone));
    }

    /** Whether the options name any IPv6 VIP or director. */
    public boolean ipv6() {
        return !vips6.isEmpty() || !directors6.isEmpty();
    }

    /** A list of addresses split by family; zone: the one link-local director's interface (nat), else null. */
    record Addresses(List<Integer> v4, List<Ipv6Address> v6, String zone) {
    }

    /**
     * A comma-separated list of IPv4 and IPv6 addresses (an IPv6 one bare or in brackets). Only a
     * director may be link-local, and then only with its zone (the interface it is reached through,
     * fe80::1%eth0), as a NAT gateway; a VIP is a global unicast address.
     */
    static Addresses addresses(String flag, String value, boolean linkLocalOk) throws UsageException {
        List<Integer> v4 = new ArrayList<>();
        List<Ipv6Address> v6 = new ArrayList<>();
        String zone = null;
        for (String raw : value.split(",", -1)) {
            String s = raw.trim();
            if (s.indexOf(':') < 0 && s.indexOf('[') < 0 && s.indexOf('%') < 0) {
                int a;
                try {
                    a = Inet.parse(s);
                } catch (IllegalArgumentException e) {
                    throw new UsageException(flag + ": " + e.getMessage());
                }
                if (a == 0 || (a >>> 24) == 127 || (a >>> 28) >= 14) {
                    throw new UsageException(flag + ": '" + s + "' is not a unicast address");
                }
                if (!v4.contains(a)) {
                    v4.add(a);
                }
                continue;
            }
            String t = s;
            if (t.startsWith("[") || t.endsWith("]")) {
                if (!(t.startsWith("[") && t.endsWith("]")) || t.length() < 3) {
                    throw new UsageException(flag + ": '" + s + "' has unbalanced brackets");
                }
                t = t.substring(1, t.length() - 1);
            }
            String z = null;
            int pct = t.indexOf('%');
            if (pct >= 0) {
                z = t.substring(pct + 1);
                t = t.substring(0, pct);
                if (z.isEmpty() || z.length() > 15 || !z.matches("[A-Za-z0-9_.:-]+")) {
                    throw new UsageException(flag + ": '" + s + "' has an empty or malformed zone (an interface name)");
                }
            }
            Ipv6Address a = Ipv6Address.tryParse(t);
            if (a == null) {
                throw new UsageException(flag + ": '" + s + "' is not an IPv6 address");
            }
            if (a.isIpv4Mapped()) {
                throw new UsageException(flag + ": '" + s + "' is IPv4-mapped: write it as " + Inet.format(a.ipv4()));
            }
            if (a.isUnspecified() || a.isLoopback() || a.isMulticast()) {
                throw new UsageException(flag + ": '" + s + "' is not a unicast address");
            }
            if (a.isLinkLocal()) {
                if (!linkLocalOk) {
                    throw new UsageException(flag + ": '" + s + "' is link-local: a VIP is a global address");
                }
                if (z == null) {
                    throw new UsageException(flag + ": '" + s + "' is link-local without a zone: name its interface, "
                            + "e.g. " + t + "%eth0");
                }
                if (zone != null && !zone.equals(z)) {
                    throw new UsageException(flag + ": '" + s + "': one link-local director only");
                }
                zone = z;
            } else if (z != null) {
                throw new UsageException(flag + ": '" + s + "' has a zone but is not link-local (drop %" + z + ")");
            }
            if (!v6.contains(a)) {
                v6.add(a);
            }
        }
        return new Addresses(List.copyOf(v4), List.copyOf(v6), zone);
    }

    private static int port(String flag, String v, boolean zeroOk) throws UsageException {
        int p;
        try {
            p = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(flag + ": '" + v + "' is not a port");
        }
        if (p < (zeroOk ? 0 : 1) || p > 65535) {
            throw new UsageException(flag + ": '" + v + "' is not a port (" + (zeroOk ? 0 : 1) + "..65535)");
        }
        return p;
    }
}
