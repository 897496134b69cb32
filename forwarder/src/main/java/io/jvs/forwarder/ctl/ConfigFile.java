package io.jvs.forwarder.ctl;

import io.jvs.forwarder.packet.Ipv4Address;
import io.jvs.forwarder.sched.Scheduler;
import io.jvs.forwarder.sched.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TunnelType;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads the director's service definition: a file of ipvsadm rules, so that
 * {@code ipvsadm-save -n} output can be pasted in as it is.
 *
 * <h2>Format</h2>
 * <pre>
 * # comments (from '#' to the end of the line) and blank lines are allowed;
 * # a leading word "ipvsadm" on a line is ignored.
 * -A -t 10.0.0.100:80 -s rr                      # add a virtual service
 * -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1    # add a real server to it
 * -A -u 10.0.0.100:53 -s wrr
 * -a -u 10.0.0.100:53 -r 10.0.0.21 -m -w 2 -x 1000 -y 800
 * --set 900 120 300                              # tcp tcpfin udp timeouts, seconds; 0 keeps the value
 * --state-timeout time_wait 2                    # jvs: one TCP state's timeout, seconds
 * </pre>
 * Commands (one per line, anywhere on it, as ipvsadm's option parser allows):
 * <dl>
 *   <dt>{@code -A}, {@code --add-service}</dt>
 *   <dd>{@code -t}/{@code --tcp-service} or {@code -u}/{@code --udp-service} ADDR:PORT;
 *       {@code -s}/{@code --scheduler} NAME (default wlc). The name is checked
 *       with the scheduler factory. FULLNAT services (jvs, as DPVS): {@code --laddr IP[,IP...]}
 *       the director's local addresses, {@code --client-addr none|toa|proxy} how real servers
 *       learn the client's address (TOA option, PROXY protocol v2 header).</dd>
 *   <dt>{@code -a}, {@code --add-server}</dt>
 *   <dd>the service ({@code -t}/{@code -u}, added on an earlier line);
 *       {@code -r}/{@code --real-server} ADDR[:PORT] (no port = the service's);
 *       forwarding method {@code -g}/{@code --gatewaying} (direct routing, the default),
 *       {@code -m}/{@code --masquerading} (NAT), {@code -i}/{@code --ipip} (tunnel:
 *       {@code --tun-type ipip|gue}, {@code --tun-port N} and {@code --tun-csum}/{@code --tun-nocsum}
 *       for gue, as ipvsadm 1.31) or {@code --fullnat} (jvs, as DPVS's ipvsadm; the service
 *       needs {@code --laddr});
 *       {@code -w}/{@code --weight} 0..65535 (default 1);
 *       {@code -x}/{@code --u-threshold} and {@code -y}/{@code --l-threshold}
 *       connection thresholds (default 0 = none; lower must not exceed upper).
 *       As ipvsadm does, a DR or tunnel real server's port is the service's
 *       port whatever was written (those methods never rewrite ports).</dd>
 *   <dt>{@code --set TCP TCPFIN UDP}</dt>
 *   <dd>ESTABLISHED, FIN_WAIT and UDP timeouts in seconds, 0..2678400; 0 keeps the value.</dd>
 *   <dt>{@code --state-timeout STATE SECONDS} (jvs extension)</dt>
 *   <dd>one TCP state's timeout, 1..2678400 s; STATE is one of NONE ESTABLISHED
 *       SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK,
 *       in any case. Later lines win over earlier ones, {@code --set} included.</dd>
 * </dl>
 * Long options also take {@code --name=value}. Addresses are IPv4 literals
 * (host names are not resolved: save with {@code ipvsadm-save -n}); ports are
 * numbers or one of a few well-known service names (http, https, domain, ...).
 * Not supported yet, and rejected by name: fwmark services ({@code -f}),
 * persistence ({@code -p}, {@code -M}), scheduler flags ({@code -b}),
 * {@code --pe}, one-packet scheduling ({@code -o}), IPv6, and any ipvsadm
 * command other than the four above.
 *
 * <h2>Errors</h2>
 * The first problem stops the parse with a {@link ConfigException} of one line
 * naming the file, the line and the bad item, with ipvsadm's own words in
 * parentheses where it has some, e.g. {@code jvs.conf:3: unknown scheduler "rrr"
 * (Scheduler or persistence engine not found)}. Nothing is half-applied: the
 * whole file is parsed into {@link ServiceSpec}s and checked (including a
 * trial build of every service) before anything is returned.
 */
public final class ConfigFile {
    private ConfigFile() {
    }

    /** Parses {@code file}, checking scheduler names with {@link Schedulers#create}. */
    public static ForwarderConfig parse(Path file) throws ConfigException {
        return parse(file, Schedulers::create);
    }

    /** Parses {@code file}, checking scheduler names with {@code schedulers}. */
    public static ForwarderConfig parse(Path file, SchedulerFactory schedulers)
            throws ConfigException {
        String source = file.toString();
        List<String> lines;
        try {
            lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new ConfigException(source, 0, "no such file", e);
        } catch (AccessDeniedException e) {
            throw new ConfigException(source, 0, "permission denied", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException(source, 0, "not UTF-8 text", e);
        } catch (IOException e) {
            throw new ConfigException(source, 0, "cannot read: " + e.getMessage(), e);
        }
        if (!lines.isEmpty() && lines.getFirst().startsWith("\uFEFF")) {
            lines.set(0, lines.getFirst().substring(1)); // a byte-order mark some editors write
        }
        return parse(source, lines, schedulers);
    }

    /**
     * Parses lines of text.
     *
     * @param source what to call them in messages (the file name)
     */
    public static ForwarderConfig parse(String source, List<String> lines,
                                        SchedulerFactory schedulers)
            throws ConfigException {
        return new Parser(source, Objects.requireNonNull(schedulers)).run(lines);
    }

    // ---------------------------------------------------------------- the option table

    private enum Kind {
        COMMAND, OPTION, UNSUPPORTED, NOT_FOR_CONFIG
    }

    /** What an option is for; options sharing a slot exclude each other. */
    private enum Opt {
        ADD_SERVICE(Kind.COMMAND, "-A", "--add-service", null, "command"),
        ADD_SERVER(Kind.COMMAND, "-a", "--add-server", null, "command"),
        SET(Kind.COMMAND, null, "--set", null, "command"),
        STATE_TIMEOUT(Kind.COMMAND, null, "--state-timeout", null, "command"),

        TCP(Kind.OPTION, "-t", "--tcp-service", "a service address (IP:PORT)", "service"),
        UDP(Kind.OPTION, "-u", "--udp-service", "a service address (IP:PORT)", "service"),
        SCHEDULER(Kind.OPTION, "-s", "--scheduler", "a scheduler name", "scheduler"),
        REAL_SERVER(Kind.OPTION, "-r", "--real-server", "a real server address (IP[:PORT])", "real-server"),
        GATEWAYING(Kind.OPTION, "-g", "--gatewaying", null, "forwarding-method"),
        MASQUERADING(Kind.OPTION, "-m", "--masquerading", null, "forwarding-method"),
        IPIP(Kind.OPTION, "-i", "--ipip", null, "forwarding-method"),
        FULLNAT(Kind.OPTION, null, "--fullnat", null, "forwarding-method"),
        LOCAL_ADDRESSES(Kind.OPTION, null, "--laddr", "local addresses (IP[,IP...])", "laddr"),
        CLIENT_ADDRESS(Kind.OPTION, null, "--client-addr", "none, toa or proxy", "client-addr"),
        WEIGHT(Kind.OPTION, "-w", "--weight", "a weight (0..65535)", "weight"),
        U_THRESHOLD(Kind.OPTION, "-x", "--u-threshold", "an upper connection threshold", "u-threshold"),
        L_THRESHOLD(Kind.OPTION, "-y", "--l-threshold", "a lower connection threshold", "l-threshold"),

        FWMARK(Kind.UNSUPPORTED, "-f", "--fwmark-service", "a fwmark", "service"),
        PERSISTENT(Kind.UNSUPPORTED, "-p", "--persistent", "", "persistent"),
        NETMASK(Kind.UNSUPPORTED, "-M", "--netmask", "a netmask", "netmask"),
        SCHED_FLAGS(Kind.UNSUPPORTED, "-b", "--sched-flags", "scheduler flags", "sched-flags"),
        PE(Kind.UNSUPPORTED, null, "--pe", "a persistence engine", "pe"),
        OPS(Kind.UNSUPPORTED, "-o", "--ops", null, "ops"),
        IPV6(Kind.UNSUPPORTED, "-6", "--ipv6", null, "ipv6"),
        TUN_TYPE(Kind.OPTION, null, "--tun-type", "a tunnel type", "tun-type"),
        TUN_PORT(Kind.OPTION, null, "--tun-port", "a tunnel port", "tun-port"),
        TUN_NOCSUM(Kind.OPTION, null, "--tun-nocsum", null, "tun-csum"),
        TUN_CSUM(Kind.OPTION, null, "--tun-csum", null, "tun-csum"),
        TUN_REMCSUM(Kind.UNSUPPORTED, null, "--tun-remcsum", null, "tun-csum"),

        EDIT_SERVICE(Kind.NOT_FOR_CONFIG, "-E", "--edit-service", null, "command"),
        DELETE_SERVICE(Kind.NOT_FOR_CONFIG, "-D", "--delete-service", null, "command"),
        CLEAR(Kind.NOT_FOR_CONFIG, "-C", "--clear", null, "command"),
        RESTORE(Kind.NOT_FOR_CONFIG, "-R", "--restore", null, "command"),
        SAVE(Kind.NOT_FOR_CONFIG, "-S", "--save", null, "command"),
        EDIT_SERVER(Kind.NOT_FOR_CONFIG, "-e", "--edit-server", null, "command"),
        DELETE_SERVER(Kind.NOT_FOR_CONFIG, "-d", "--delete-server", null, "command"),
        LIST(Kind.NOT_FOR_CONFIG, "-L", "--list", null, "command"),
        LIST_L(Kind.NOT_FOR_CONFIG, "-l", null, null, "command"),
        ZERO(Kind.NOT_FOR_CONFIG, "-Z", "--zero", null, "command"),
        START_DAEMON(Kind.NOT_FOR_CONFIG, null, "--start-daemon", "a daemon state", "command"),
        STOP_DAEMON(Kind.NOT_FOR_CONFIG, null, "--stop-daemon", "a daemon state", "command"),
        HELP(Kind.NOT_FOR_CONFIG, "-h", "--help", null, "command"),
        VERSION(Kind.NOT_FOR_CONFIG, "-v", "--version", null, "command");

        final Kind kind;
        final String shortName;
        final String longName;
        /** What the argument is, for "needs ..." messages; null = no argument; "" = optional argument. */
        final String arg;
        final String slot;

        Opt(Kind kind, String shortName, String longName, String arg, String slot) {
            this.kind = kind;
            this.shortName = shortName;
            this.longName = longName;
            this.arg = arg;
            this.slot = slot;
        }

        boolean takesArg() {
            return arg != null && !arg.isEmpty();
        }

        boolean optionalArg() {
            return arg != null && arg.isEmpty();
        }

        /** "-w (--weight)" */
        String display() {
            if (shortName == null) {
                return longName;
            }
            return longName == null ? shortName : shortName + " (" + longName + ")";
        }
    }

    private static final Map<String, Opt> BY_NAME = new HashMap<>();

    static {
        for (Opt o : Opt.values()) {
            if (o.shortName != null) {
                BY_NAME.put(o.shortName, o);
            }
            if (o.longName != null) {
                BY_NAME.put(o.longName, o);
            }
        }
    }

    /** Port names ipvsadm-save (without -n) prints for common services, as /etc/services has them. */
    private static final Map<String, Integer> PORT_NAMES = Map.ofEntries(
            Map.entry("ftp", 21), Map.entry("ssh", 22), Map.entry("telnet", 23), Map.entry("smtp", 25),
            Map.entry("domain", 53), Map.entry("http", 80), Map.entry("www", 80), Map.entry("pop3", 110),
            Map.entry("ntp", 123), Map.entry("imap", 143), Map.entry("imap2", 143), Map.entry("snmp", 161),
            Map.entry("ldap", 389), Map.entry("https", 443), Map.entry("submission", 587),
            Map.entry("ldaps", 636), Map.entry("imaps", 993), Map.entry("pop3s", 995),
            Map.entry("mysql", 3306), Map.entry("postgresql", 5432), Map.entry("http-alt", 8080));

    private static final String COMMANDS = "-A, -a, --set or --state-timeout";

    // ---------------------------------------------------------------- the parser

    /** One option as written on a line. */
    private record Given(Opt opt, String token, String value) {
    }

    private static final class PendingService {
        final int line;
        final int proto;
        final int addr;
        final int port;
        final String scheduler;
        final List<Integer> localAddrs;
        final ClientAddressMode clientAddress;
        final List<ServiceSpec.Dest> dests = new ArrayList<>();
        final Map<Long, Integer> destLines = new HashMap<>();

        PendingService(int line, int proto, int addr, int port, String scheduler, List<Integer> localAddrs,
                       ClientAddressMode clientAddress) {
            this.line = line;
            this.proto = proto;
            this.addr = addr;
            this.port = port;
            this.scheduler = scheduler;
            this.localAddrs = localAddrs;
            this.clientAddress = clientAddress;
        }

        String label() {
            return Protocol.name(proto) + " " + Ipv4Address.toString(addr) + ":" + port;
        }
    }

    private static final class Parser {
        private final String source;
        private final SchedulerFactory schedulers;
        private final Map<Long, PendingService> services = new LinkedHashMap<>();
        private int tcp;
        private int tcpFin;
        private int udp;
        private final Map<String, Integer> states = new LinkedHashMap<>();
        private int lineNo;

        Parser(String source, SchedulerFactory schedulers) {
            this.source = source;
            this.schedulers = schedulers;
        }

        ForwarderConfig run(List<String> lines) throws ConfigException {
            for (int i = 0; i < lines.size(); i++) {
                lineNo = i + 1;
                line(lines.get(i));
            }
            List<ServiceSpec> specs = new ArrayList<>(services.size());
            ServiceTableBuilder trial = new ServiceTableBuilder(schedulers);
            for (PendingService p : services.values()) {
                lineNo = p.line;
                ServiceSpec spec;
                try {
                    spec = new ServiceSpec(p.proto, p.addr, p.port, 0, p.scheduler, 0, 0, -1, false, p.localAddrs,
                            p.clientAddress, p.dests);
                    // What the wiring will do with it, so that it cannot fail there.
                    trial.build(List.of(spec), ServiceTable.EMPTY);
                } catch (IllegalArgumentException e) {
                    throw error(e.getMessage());
                }
                specs.add(spec);
            }
            TimeoutSettings timeouts;
            try {
                timeouts = new TimeoutSettings(tcp, tcpFin, udp, states);
            } catch (IllegalArgumentException e) {
                lineNo = 0;
                throw error(e.getMessage());
            }
            return new ForwarderConfig(specs, timeouts);
        }

        private ConfigException error(String detail) {
            return new ConfigException(source, lineNo, detail);
        }

        private void line(String text) throws ConfigException {
            int hash = text.indexOf('#');
            String body = (hash >= 0 ? text.substring(0, hash) : text).strip();
            if (body.isEmpty()) {
                return;
            }
            List<String> tokens = new ArrayList<>(List.of(body.split("\\s+")));
            if (tokens.getFirst().equals("ipvsadm")) {
                tokens.removeFirst();
                if (tokens.isEmpty()) {
                    throw error("\"ipvsadm\" without a command (expected " + COMMANDS + ")");
                }
            }

            // Lex the options, as popt would: a command anywhere, options in any order.
            Given command = null;
            Map<String, Given> bySlot = new HashMap<>();
            List<String> args = new ArrayList<>();
            for (int i = 0; i < tokens.size(); i++) {
                String tok = tokens.get(i);
                if (!looksLikeOption(tok)) {
                    args.add(tok);
                    continue;
                }
                String name = tok;
                String value = null;
                int eq = tok.indexOf('=');
                if (tok.startsWith("--") && eq > 2) {
                    name = tok.substring(0, eq);
                    value = tok.substring(eq + 1);
                }
                Opt opt = BY_NAME.get(name);
                if (opt == null) {
                    throw error("unknown option \"" + tok + "\"");
                }
                switch (opt.kind) {
                    case UNSUPPORTED -> throw error("option " + opt.display() + " is not supported yet");
                    case NOT_FOR_CONFIG -> throw error("command " + opt.display()
                            + " does not belong in a config file (expected " + COMMANDS + ")");
                    default -> {
                    }
                }
                if (opt.takesArg() && value == null) {
                    if (i + 1 >= tokens.size() || looksLikeOption(tokens.get(i + 1))) {
                        throw error("option " + name + " needs " + opt.arg);
                    }
                    value = tokens.get(++i);
                } else if (!opt.takesArg() && value != null) {
                    throw error("option " + name + " takes no value (got \"" + tok + "\")");
                }
                Given given = new Given(opt, name, value);
                if (opt.kind == Kind.COMMAND) {
                    if (command != null) {
                        throw error("more than one command: " + command.token + " and " + name
                                + " (multiple commands specified)");
                    }
                    command = given;
                    continue;
                }
                Given before = bySlot.putIfAbsent(opt.slot, given);
                if (before != null) {
                    throw error(before.opt == opt
                            ? "option " + name + " given twice"
                            : "options " + before.token + " and " + name + " conflict (multiple '"
                            + opt.slot + "' options specified)");
                }
            }
            if (command == null) {
                throw error("no command (expected " + COMMANDS + ")");
            }
            switch (command.opt) {
                case ADD_SERVICE -> addService(command, bySlot, args);
                case ADD_SERVER -> addServer(command, bySlot, args);
                case SET -> set(command, bySlot, args);
                case STATE_TIMEOUT -> stateTimeout(command, bySlot, args);
                default -> throw new AssertionError(command.opt);
            }
        }

        private static boolean looksLikeOption(String tok) {
            return tok.length() > 1 && tok.charAt(0) == '-' && !Character.isDigit(tok.charAt(1));
        }

        /** Rejects options the command does not take, and stray arguments when it takes none. */
        private void allow(Given command, Map<String, Given> bySlot, List<String> args, int maxArgs,
                           String... slots) throws ConfigException {
            for (Given g : bySlot.values()) {
                if (!List.of(slots).contains(g.opt.slot)) {
                    throw error("option " + g.token + " is not allowed with " + command.token);
                }
            }
            if (maxArgs == 0 && !args.isEmpty()) {
                throw error("unexpected argument \"" + args.getFirst() + "\"");
            }
        }

        private void addService(Given command, Map<String, Given> o, List<String> args) throws ConfigException {
            allow(command, o, args, 0, "service", "scheduler", "laddr", "client-addr");
            Given svc = requireService(command, o);
            int proto = svc.opt == Opt.TCP ? Protocol.TCP : Protocol.UDP;
            long[] ap = endpoint(svc, "virtual service");
            if (ap[1] <= 0) {
                throw error("virtual service \"" + svc.value + "\" has no port"
                        + " (Zero port specified for non-persistent service)");
            }
            int addr = (int) ap[0];
            int port = (int) ap[1];
            Given sched = o.get("scheduler");
            String name = sched == null ? ServiceSpec.DEFAULT_SCHEDULER : sched.value;
            try {
                Scheduler probe = schedulers.create(name, 0, new RealServer[0]);
                if (probe == null) {
                    throw new IllegalArgumentException("Scheduler or persistence engine not found");
                }
            } catch (IllegalArgumentException e) {
                throw error("unknown scheduler \"" + name + "\" (" + e.getMessage() + ")");
            }
            long key = key(proto, addr, port);
            PendingService before = services.get(key);
            if (before != null) {
                throw error(command.token + " for service " + before.label() + " which was already added on line "
                        + before.line + " (Service already exists)");
            }
            List<Integer> localAddrs = new ArrayList<>();
            Given laddr = o.get("laddr");
            if (laddr != null) {
                for (String a : laddr.value.split(",", -1)) {
                    try {
                        int lip = Ipv4Address.parse(a);
                        if (!localAddrs.contains(lip)) {
                            localAddrs.add(lip);
                        }
                    } catch (IllegalArgumentException e) {
                        throw error("illegal local address \"" + a + "\" in " + laddr.token + " \"" + laddr.value
                                + "\" (expected IPv4 addresses separated by commas, e.g. 10.0.0.3,10.0.0.4)");
                    }
                }
            }
            Given client = o.get("client-addr");
            ClientAddressMode mode = ClientAddressMode.NONE;
            if (client != null) {
                try {
                    mode = ClientAddressMode.of(client.value);
                } catch (IllegalArgumentException e) {
                    throw error(e.getMessage() + " for " + client.token);
                }
                if (localAddrs.isEmpty()) {
                    throw error(client.token + " is for FULLNAT services: give their local addresses with --laddr");
                }
            }
            services.put(key, new PendingService(lineNo, proto, addr, port, name, List.copyOf(localAddrs), mode));
        }

        private void addServer(Given command, Map<String, Given> o, List<String> args) throws ConfigException {
            allow(command, o, args, 0, "service", "real-server", "forwarding-method", "weight", "u-threshold",
                    "l-threshold", "tun-type", "tun-port", "tun-csum");
            Given svc = requireService(command, o);
            Given real = o.get("real-server");
            if (real == null) {
                throw error(command.token + " needs -r REAL-SERVER[:PORT]"
                        + " (You need to supply the 'real-server' option for the 'add-server' command)");
            }
            int proto = svc.opt == Opt.TCP ? Protocol.TCP : Protocol.UDP;
            long[] vp = endpoint(svc, "virtual service");
            if (vp[1] <= 0) {
                throw error("virtual service \"" + svc.value + "\" has no port"
                        + " (Zero port specified for non-persistent service)");
            }
            long[] rp = endpoint(real, "real server");
            PendingService service = services.get(key(proto, (int) vp[0], (int) vp[1]));
            if (service == null) {
                String label = Protocol.name(proto) + " " + Ipv4Address.toString((int) vp[0]) + ":" + vp[1];
                throw error(command.token + " for service " + label + " which was not added (Service not defined)");
            }

            Given fwd = o.get("forwarding-method");
            ForwardMethod method = fwd == null ? ForwardMethod.DR : switch (fwd.opt) {
                case MASQUERADING -> ForwardMethod.NAT;
                case IPIP -> ForwardMethod.TUN;
                case FULLNAT -> ForwardMethod.FULLNAT;
                default -> ForwardMethod.DR;
            };
            Given tunType = o.get("tun-type");
            Given tunPort = o.get("tun-port");
            Given tunCsum = o.get("tun-csum");
            for (Given g : new Given[]{tunType, tunPort, tunCsum}) {
                if (g != null && method != ForwardMethod.TUN) {
                    throw error("option " + g.token + " is only for tunnel real servers (-i)");
                }
            }
            TunnelType type = TunnelType.IPIP;
            if (tunType != null) {
                try {
                    type = TunnelType.of(tunType.value);
                } catch (IllegalArgumentException e) {
                    throw error(e.getMessage() + " for " + tunType.token);
                }
            }
            int tport = number(tunPort, 0, 1, 65535, "illegal tunnel port");
            if (type == TunnelType.GUE && tport == 0) {
                throw error("--tun-type gue needs --tun-port PORT (the real server's GUE port)");
            }
            if (type != TunnelType.GUE && (tunPort != null || tunCsum != null)) {
                throw error("option " + (tunPort != null ? tunPort : tunCsum).token + " is only for --tun-type gue");
            }
            int tflags = tunCsum == null ? TunnelType.FLAG_NOCSUM : switch (tunCsum.opt) {
                case TUN_CSUM -> TunnelType.FLAG_CSUM;
                default -> TunnelType.FLAG_NOCSUM;
            };
            int port;
            if (method == ForwardMethod.DR || method == ForwardMethod.TUN) {
                port = service.port; // as ipvsadm: these methods cannot change the port
            } else if (rp[1] < 0) {
                port = service.port;
            } else if (rp[1] == 0) {
                throw error("illegal real server port 0 in \"" + real.value + "\" (expected 1..65535)");
            } else {
                port = (int) rp[1];
            }
            int weight = number(o.get("weight"), 1, 0, 65535, "illegal weight");
            int upper = number(o.get("u-threshold"), 0, 0, Integer.MAX_VALUE, "illegal upper threshold");
            int lower = number(o.get("l-threshold"), 0, 0, Integer.MAX_VALUE, "illegal lower threshold");
            if (lower > upper) {
                throw error("lower threshold " + lower + " (-y) is higher than upper threshold " + upper
                        + " (-x; 0 = none)");
            }
            int addr = (int) rp[0];
            long destKey = (addr & 0xffffffffL) << 16 | port;
            Integer first = service.destLines.putIfAbsent(destKey, lineNo);
            if (first != null) {
                throw error(command.token + " -r " + Ipv4Address.toString(addr) + ":" + port + " for service "
                        + service.label() + " which already has it, added on line " + first
                        + " (Destination already exists)");
            }
            service.dests.add(new ServiceSpec.Dest(addr, port, weight, method, upper, lower, type, tport, tflags));
        }

        private void set(Given command, Map<String, Given> o, List<String> args) throws ConfigException {
            allow(command, o, args, 3);
            if (args.size() != 3) {
                throw error(command.token + " needs 3 values: tcp tcpfin udp, in seconds"
                        + " (--set option requires 3 timeout values)");
            }
            String[] what = {"tcp", "tcpfin", "udp"};
            int[] v = new int[3];
            for (int i = 0; i < 3; i++) {
                v[i] = seconds(args.get(i), what[i], 0, "; 0 keeps the current value");
            }
            if (v[0] > 0) {
                tcp = v[0];
                states.remove("ESTABLISHED");
            }
            if (v[1] > 0) {
                tcpFin = v[1];
                states.remove("FIN_WAIT");
            }
            if (v[2] > 0) {
                udp = v[2];
            }
        }

        private void stateTimeout(Given command, Map<String, Given> o, List<String> args) throws ConfigException {
            allow(command, o, args, 2);
            if (args.size() != 2) {
                throw error(command.token + " needs a TCP state name and seconds, e.g. "
                        + command.token + " time_wait 2");
            }
            String state;
            try {
                state = TimeoutSettings.canonicalState(args.get(0));
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
            int s = seconds(args.get(1), state, 1, "");
            states.remove(state); // re-insert: the latest line wins
            states.put(state, s);
        }

        private Given requireService(Given command, Map<String, Given> o) throws ConfigException {
            Given svc = o.get("service");
            if (svc == null) {
                throw error(command.token + " needs -t or -u with the virtual service address"
                        + " (You need to supply the 'service-address' option)");
            }
            return svc;
        }

        /** [address, port]; port -1 when none was written. */
        private long[] endpoint(Given g, String what) throws ConfigException {
            String text = g.value;
            if (text.startsWith("[") || text.indexOf(':') != text.lastIndexOf(':')) {
                throw error("IPv6 " + what + " \"" + text + "\" is not supported yet");
            }
            int colon = text.lastIndexOf(':');
            String host = colon < 0 ? text : text.substring(0, colon);
            int addr;
            try {
                addr = Ipv4Address.parse(host);
            } catch (IllegalArgumentException e) {
                throw error("illegal " + what + " address \"" + text + "\" (expected an IPv4 address"
                        + (what.equals("real server") ? "[:port]" : ":port") + ", e.g. "
                        + (what.equals("real server") ? "10.0.0.11:80" : "10.0.0.100:80")
                        + "; host names are not resolved)");
            }
            if (colon < 0) {
                return new long[]{addr, -1};
            }
            String p = text.substring(colon + 1);
            Integer port = PORT_NAMES.get(p);
            if (port == null) {
                port = parseInt(p, 0, 65535);
            }
            if (port == null) {
                throw error("illegal port \"" + p + "\" in " + what + " \"" + text
                        + "\" (expected 0..65535 or a service name such as http)");
            }
            return new long[]{addr & 0xffffffffL, port};
        }

        private int number(Given g, int dflt, int min, int max, String what) throws ConfigException {
            if (g == null) {
                return dflt;
            }
            Integer v = parseInt(g.value, min, max);
            if (v == null) {
                throw error(what + " \"" + g.value + "\" for " + g.token + " (expected " + min + ".." + max + ")");
            }
            return v;
        }

        private int seconds(String text, String what, int min, String note) throws ConfigException {
            Integer v = parseInt(text, min, TimeoutSettings.MAX_SECONDS);
            if (v == null) {
                throw error("invalid timeout value \"" + text + "\" for " + what + " (expected seconds " + min
                        + ".." + TimeoutSettings.MAX_SECONDS + note + ")");
            }
            return v;
        }

        /** A decimal in [min, max], or null. Digits only: no sign, no spaces, no hex. */
        private static Integer parseInt(String s, int min, int max) {
            if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return null;
            }
            long v = Long.parseLong(s);
            return v < min || v > max ? null : (int) v;
        }

        private static long key(int proto, int addr, int port) {
            return (long) proto << 48 | (addr & 0xffffffffL) << 16 | port;
        }
    }
}
