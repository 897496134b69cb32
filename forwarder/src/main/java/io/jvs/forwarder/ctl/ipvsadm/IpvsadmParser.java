package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.StringToNumber;
import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmCommand.Command;
import io.jvs.forwarder.ctl.mark.MarkRuleException;
import io.jvs.forwarder.ctl.mark.MarkRuleParser;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTimeouts;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.sync.SyncSettings;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The one ipvsadm command-line parser: {@code jvsadm} arguments, each line of
 * a {@code -R} restore and each line of the config file go through
 * {@link #parse}. It follows ipvsadm 1.31's parse_options/process_options:
 * popt-style short clusters ({@code -Ln}), long options with a value after a
 * space or '=', {@code -p} with an optional timeout, the table of legal
 * command/option combinations with ipvsadm's own messages ("Illegal 'weight'
 * option with the 'add-service' command"), the same defaults (wlc, weight 1,
 * direct routing, /32, 300 s) and the same value checks and messages. A leading
 * {@code ipvsadm} or {@code jvsadm} word is skipped. Unlike ipvsadm, the
 * command may stand anywhere on the line (a superset).
 *
 * <p>jvs extensions, all long options: {@code --fullnat} (a FULLNAT real
 * server), {@code --laddr A[,B...]} and {@code --client-addr none|toa|proxy}
 * (FULLNAT service settings), {@code --state-timeout STATE SECONDS},
 * {@code -L --marks}, {@code -L --vrrp}, and fwmark rules in iptables' words:
 * {@code --add-mark|--delete-mark [-s NET[/N]] [-d NET[/N]] [-p tcp|udp] [--dport N[:M]] --set-mark MARK}.
 *
 * <p>Stateless and thread-safe. Host names in addresses are resolved through
 * {@link HostNames} (the system's resolver, as ipvsadm's gethostbyname), service
 * names of ports through {@link PortNames}.
 */
public final class IpvsadmParser {
    /** Forward resolution of the host names an address may be given as (ipvsadm's gethostbyname). */
    @FunctionalInterface
    public interface HostNames {
        /** The first IPv4 address {@code name} has, or empty when it has none (unknown, IPv6 only). */
        java.util.OptionalInt ipv4(String name);

        /** The JDK's resolver (/etc/hosts, then DNS). */
        HostNames SYSTEM = name -> {
            try {
                for (InetAddress a : InetAddress.getAllByName(name)) {
                    if (a instanceof Inet4Address v4) {
                        byte[] b = v4.getAddress();
                        return java.util.OptionalInt.of((b[0] & 0xff) << 24 | (b[1] & 0xff) << 16
                                | (b[2] & 0xff) << 8 | (b[3] & 0xff));
                    }
                }
            } catch (UnknownHostException e) {
                // no address: the caller's ipvsadm message
            }
            return java.util.OptionalInt.empty();
        };
    }

    // Option bits, in ipvsadm's optnames order (the bit number indexes OPTION_NAMES).
    public static final long OPT_NUMERIC = 1L;
    public static final long OPT_CONNECTION = 1L << 1;
    public static final long OPT_SERVICE = 1L << 2;
    public static final long OPT_SCHEDULER = 1L << 3;
    public static final long OPT_PERSISTENT = 1L << 4;
    public static final long OPT_NETMASK = 1L << 5;
    public static final long OPT_SERVER = 1L << 6;
    public static final long OPT_FORWARD = 1L << 7;
    public static final long OPT_WEIGHT = 1L << 8;
    public static final long OPT_UTHRESHOLD = 1L << 9;
    public static final long OPT_LTHRESHOLD = 1L << 10;
    public static final long OPT_MCAST = 1L << 11;
    public static final long OPT_TIMEOUT = 1L << 12;
    public static final long OPT_DAEMON = 1L << 13;
    public static final long OPT_STATS = 1L << 14;
    public static final long OPT_RATE = 1L << 15;
    public static final long OPT_THRESHOLDS = 1L << 16;
    public static final long OPT_PERSISTENTCONN = 1L << 17;
    public static final long OPT_NOSORT = 1L << 18;
    public static final long OPT_SYNCID = 1L << 19;
    public static final long OPT_EXACT = 1L << 20;
    public static final long OPT_ONEPACKET = 1L << 21;
    public static final long OPT_PERSISTENCE_ENGINE = 1L << 22;
    public static final long OPT_SCHED_FLAGS = 1L << 23;
    public static final long OPT_MCAST_GROUP = 1L << 24;
    public static final long OPT_MCAST_PORT = 1L << 25;
    public static final long OPT_MCAST_TTL = 1L << 26;
    public static final long OPT_SYNC_MAXLEN = 1L << 27;
    public static final long OPT_TUN_INFO = 1L << 28;
    public static final long OPT_TUN_TYPE = 1L << 29;
    public static final long OPT_TUN_PORT = 1L << 30;
    public static final long OPT_TUN_NOCSUM = 1L << 31;
    public static final long OPT_TUN_CSUM = 1L << 32;
    public static final long OPT_TUN_REMCSUM = 1L << 33;
    public static final long OPT_LADDR = 1L << 34;
    public static final long OPT_CLIENT_ADDR = 1L << 35;
    public static final long OPT_MARKS = 1L << 36;
    public static final long OPT_SVC_TIMEOUT = 1L << 37;
    public static final long OPT_VRRP = 1L << 38;
    public static final long OPT_SYNPROXY = 1L << 39;
    public static final long OPT_NO_SYNPROXY = 1L << 40;
    public static final long OPT_ALLOW = 1L << 41;
    public static final long OPT_DENY = 1L << 42;
    public static final long OPT_CONN_LIMIT = 1L << 43;
    public static final long OPT_RATE_LIMIT = 1L << 44;
    public static final long OPT_LIMITS = 1L << 45;

    private static final String[] OPTION_NAMES = {
        "numeric", "connection", "service-address", "scheduler", "persistent", "netmask", "real-server",
        "forwarding-method", "weight", "u-threshold", "l-threshold", "mcast-interface", "timeout", "daemon",
        "stats", "rate", "thresholds", "persistent-conn", "nosort", "syncid", "exact", "ops", "pe",
        "sched-flags", "mcast-group", "mcast-port", "mcast-ttl", "sync-maxlen", "tun-info", "tun-type",
        "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum", "laddr", "client-addr", "marks", "svc-timeout",
        "vrrp", "synproxy", "no-synproxy", "allow", "deny", "conn-limit", "rate-limit", "limits"};

    // Listing format bits (ipvsadm's FMT_*).
    public static final int FMT_NUMERIC = 0x0001;
    public static final int FMT_RULE = 0x0002;
    public static final int FMT_STATS = 0x0004;
    public static final int FMT_RATE = 0x0008;
    public static final int FMT_THRESHOLDS = 0x0010;
    public static final int FMT_PERSISTENTCONN = 0x0020;
    public static final int FMT_NOSORT = 0x0040;
    public static final int FMT_EXACT = 0x0080;
    public static final int FMT_TUN_INFO = 0x0100;

    /** ipvsadm's MAX_TIMEOUT (31 days). */
    public static final int MAX_TIMEOUT = 86400 * 31;

    /**
     * Legal combinations, ipvsadm's commands_v_options: '+' compulsory, 'x'
     * illegal, '1' exclusive, ' ' optional; one character per option bit.
     */
    private static final char[][] LEGAL = new char[Command.values().length][]; // by Command ordinal

    static {
        for (Command c : Command.values()) {
            char[] row = new char[OPTION_NAMES.length];
            java.util.Arrays.fill(row, 'x');
            LEGAL[c.ordinal()] = row;
        }
        legal(Command.ADD_SERVICE, '+', OPT_SERVICE);
        legal(Command.ADD_SERVICE, ' ', OPT_SCHEDULER, OPT_PERSISTENT, OPT_NETMASK, OPT_ONEPACKET,
                OPT_PERSISTENCE_ENGINE, OPT_SCHED_FLAGS, OPT_LADDR, OPT_CLIENT_ADDR, OPT_SVC_TIMEOUT,
                OPT_SYNPROXY, OPT_NO_SYNPROXY, OPT_ALLOW, OPT_DENY, OPT_CONN_LIMIT, OPT_RATE_LIMIT);
        LEGAL[Command.EDIT_SERVICE.ordinal()] = LEGAL[Command.ADD_SERVICE.ordinal()].clone();
        legal(Command.DELETE_SERVICE, '+', OPT_SERVICE);
        legal(Command.LIST, ' ', OPT_NUMERIC, OPT_STATS, OPT_RATE, OPT_THRESHOLDS, OPT_PERSISTENTCONN,
                OPT_NOSORT, OPT_SYNCID, OPT_EXACT, OPT_TUN_INFO);
        legal(Command.LIST, '1', OPT_CONNECTION, OPT_SERVICE, OPT_TIMEOUT, OPT_DAEMON, OPT_MARKS, OPT_VRRP,
                OPT_LIMITS);
        legal(Command.ADD_SERVER, '+', OPT_SERVICE, OPT_SERVER);
        legal(Command.ADD_SERVER, ' ', OPT_FORWARD, OPT_WEIGHT, OPT_UTHRESHOLD, OPT_LTHRESHOLD, OPT_TUN_TYPE,
                OPT_TUN_PORT, OPT_TUN_NOCSUM, OPT_TUN_CSUM, OPT_TUN_REMCSUM);
        LEGAL[Command.EDIT_SERVER.ordinal()] = LEGAL[Command.ADD_SERVER.ordinal()].clone();
        legal(Command.DELETE_SERVER, '+', OPT_SERVICE, OPT_SERVER);
        legal(Command.START_DAEMON, ' ', OPT_MCAST, OPT_SYNCID, OPT_MCAST_GROUP, OPT_MCAST_PORT, OPT_MCAST_TTL,
                OPT_SYNC_MAXLEN);
        legal(Command.STOP_DAEMON, ' ', OPT_SYNCID);
        legal(Command.SAVE, ' ', OPT_NUMERIC);
        legal(Command.ZERO, ' ', OPT_SERVICE);
    }

    private static void legal(Command c, char mark, long... opts) {
        for (long o : opts) {
            LEGAL[c.ordinal()][Long.numberOfTrailingZeros(o)] = mark;
        }
    }

    private enum Arg { NONE, REQUIRED, OPTIONAL }

    /** An option or command as written: short letter, long name, argument, what it sets. */
    private record Spec(char letter, String longName, Arg arg, Command command, long option) {
    }

    private static final Map<String, Spec> LONG = new HashMap<>();
    private static final Map<Character, Spec> SHORT = new HashMap<>();

    private static void spec(char letter, String longName, Arg arg, Command command, long option) {
        Spec s = new Spec(letter, longName, arg, command, option);
        if (longName != null) {
            LONG.put(longName, s);
        }
        if (letter != 0) {
            SHORT.put(letter, s);
        }
    }

    static {
        spec('A', "add-service", Arg.NONE, Command.ADD_SERVICE, 0);
        spec('E', "edit-service", Arg.NONE, Command.EDIT_SERVICE, 0);
        spec('D', "delete-service", Arg.NONE, Command.DELETE_SERVICE, 0);
        spec('C', "clear", Arg.NONE, Command.FLUSH, 0);
        spec('L', "list", Arg.NONE, Command.LIST, 0);
        spec('l', null, Arg.NONE, Command.LIST, 0);
        spec('Z', "zero", Arg.NONE, Command.ZERO, 0);
        spec('a', "add-server", Arg.NONE, Command.ADD_SERVER, 0);
        spec('e', "edit-server", Arg.NONE, Command.EDIT_SERVER, 0);
        spec('d', "delete-server", Arg.NONE, Command.DELETE_SERVER, 0);
        spec((char) 0, "set", Arg.NONE, Command.SET, 0);
        spec('h', "help", Arg.NONE, Command.HELP, 0);
        spec('v', "version", Arg.NONE, Command.VERSION, 0);
        spec('R', "restore", Arg.NONE, Command.RESTORE, 0);
        spec('S', "save", Arg.NONE, Command.SAVE, 0);
        spec((char) 0, "start-daemon", Arg.REQUIRED, Command.START_DAEMON, 0);
        spec((char) 0, "stop-daemon", Arg.REQUIRED, Command.STOP_DAEMON, 0);
        spec((char) 0, "state-timeout", Arg.NONE, Command.STATE_TIMEOUT, 0);
        spec((char) 0, "add-mark", Arg.NONE, Command.ADD_MARK, 0);
        spec((char) 0, "delete-mark", Arg.NONE, Command.DELETE_MARK, 0);

        spec('t', "tcp-service", Arg.REQUIRED, null, OPT_SERVICE);
        spec('u', "udp-service", Arg.REQUIRED, null, OPT_SERVICE);
        spec('f', "fwmark-service", Arg.REQUIRED, null, OPT_SERVICE);
        spec((char) 0, "sctp-service", Arg.REQUIRED, null, OPT_SERVICE);
        spec('s', "scheduler", Arg.REQUIRED, null, OPT_SCHEDULER);
        spec('p', "persistent", Arg.OPTIONAL, null, OPT_PERSISTENT);
        spec('M', "netmask", Arg.REQUIRED, null, OPT_NETMASK);
        spec('r', "real-server", Arg.REQUIRED, null, OPT_SERVER);
        spec('m', "masquerading", Arg.NONE, null, OPT_FORWARD);
        spec('i', "ipip", Arg.NONE, null, OPT_FORWARD);
        spec('g', "gatewaying", Arg.NONE, null, OPT_FORWARD);
        spec((char) 0, "fullnat", Arg.NONE, null, OPT_FORWARD);
        spec('w', "weight", Arg.REQUIRED, null, OPT_WEIGHT);
        spec('x', "u-threshold", Arg.REQUIRED, null, OPT_UTHRESHOLD);
        spec('y', "l-threshold", Arg.REQUIRED, null, OPT_LTHRESHOLD);
        spec('n', "numeric", Arg.NONE, null, OPT_NUMERIC);
        spec('c', "connection", Arg.NONE, null, OPT_CONNECTION);
        spec((char) 0, "mcast-interface", Arg.REQUIRED, null, OPT_MCAST);
        spec((char) 0, "syncid", Arg.REQUIRED, null, OPT_SYNCID);
        spec((char) 0, "timeout", Arg.NONE, null, OPT_TIMEOUT);
        spec((char) 0, "daemon", Arg.NONE, null, OPT_DAEMON);
        spec((char) 0, "stats", Arg.NONE, null, OPT_STATS);
        spec((char) 0, "rate", Arg.NONE, null, OPT_RATE);
        spec((char) 0, "thresholds", Arg.NONE, null, OPT_THRESHOLDS);
        spec((char) 0, "persistent-conn", Arg.NONE, null, OPT_PERSISTENTCONN);
        spec((char) 0, "nosort", Arg.NONE, null, OPT_NOSORT);
        spec((char) 0, "sort", Arg.NONE, null, 0);
        spec('X', "exact", Arg.NONE, null, OPT_EXACT);
        spec('6', "ipv6", Arg.NONE, null, 0);
        spec('o', "ops", Arg.NONE, null, OPT_ONEPACKET);
        spec((char) 0, "pe", Arg.REQUIRED, null, OPT_PERSISTENCE_ENGINE);
        spec('b', "sched-flags", Arg.REQUIRED, null, OPT_SCHED_FLAGS);
        spec((char) 0, "mcast-group", Arg.REQUIRED, null, OPT_MCAST_GROUP);
        spec((char) 0, "mcast-port", Arg.REQUIRED, null, OPT_MCAST_PORT);
        spec((char) 0, "mcast-ttl", Arg.REQUIRED, null, OPT_MCAST_TTL);
        spec((char) 0, "sync-maxlen", Arg.REQUIRED, null, OPT_SYNC_MAXLEN);
        spec((char) 0, "tun-info", Arg.NONE, null, OPT_TUN_INFO);
        spec((char) 0, "tun-type", Arg.REQUIRED, null, OPT_TUN_TYPE);
        spec((char) 0, "tun-port", Arg.REQUIRED, null, OPT_TUN_PORT);
        spec((char) 0, "tun-nocsum", Arg.NONE, null, OPT_TUN_NOCSUM);
        spec((char) 0, "tun-csum", Arg.NONE, null, OPT_TUN_CSUM);
        spec((char) 0, "tun-remcsum", Arg.NONE, null, OPT_TUN_REMCSUM);
        spec((char) 0, "laddr", Arg.REQUIRED, null, OPT_LADDR);
        spec((char) 0, "client-addr", Arg.REQUIRED, null, OPT_CLIENT_ADDR);
        spec((char) 0, "marks", Arg.NONE, null, OPT_MARKS);
        spec((char) 0, "vrrp", Arg.NONE, null, OPT_VRRP);
        spec((char) 0, "svc-timeout", Arg.REQUIRED, null, OPT_SVC_TIMEOUT);
        spec((char) 0, "synproxy", Arg.NONE, null, OPT_SYNPROXY);
        spec((char) 0, "no-synproxy", Arg.NONE, null, OPT_NO_SYNPROXY);
        spec((char) 0, "allow", Arg.REQUIRED, null, OPT_ALLOW);
        spec((char) 0, "deny", Arg.REQUIRED, null, OPT_DENY);
        spec((char) 0, "conn-limit", Arg.REQUIRED, null, OPT_CONN_LIMIT);
        spec((char) 0, "rate-limit", Arg.REQUIRED, null, OPT_RATE_LIMIT);
        spec((char) 0, "limits", Arg.NONE, null, OPT_LIMITS);
    }

    private final String program;
    /** Null: the system's table, read on first use (most command lines name no port by name). */
    private final PortNames ports;
    private final HostNames hosts;

    /**
     * @param program the name in "Try `jvsadm -h' ..." messages
     * @param ports   service names of ports; null for the system's table, read when a port is first named
     * @param hosts   host names of addresses
     */
    public IpvsadmParser(String program, PortNames ports, HostNames hosts) {
        this.program = program;
        this.ports = ports;
        this.hosts = java.util.Objects.requireNonNull(hosts);
    }

    public IpvsadmParser(String program, PortNames ports) {
        this(program, ports, HostNames.SYSTEM);
    }

    public IpvsadmParser(String program) {
        this(program, null);
    }

    /** "Try `jvsadm -h' or 'jvsadm --help' for more information." (ipvsadm's tryhelp_exit). */
    public String tryHelp() {
        return "Try `" + program + " -h' or '" + program + " --help' for more information.";
    }

    /** Splits a restore or config line into words: whitespace-separated, '#' to the end is a comment. */
    public static List<String> words(String line) {
        int hash = line.indexOf('#');
        String body = (hash >= 0 ? line.substring(0, hash) : line).strip();
        return body.isEmpty() ? List.of() : List.of(body.split("\\s+"));
    }

    /**
     * Parses one command line. No arguments at all means {@code -L} (ipvsadm
     * with no arguments lists the table).
     *
     * @throws IpvsadmException ipvsadm's message and exit status
     */
    public IpvsadmCommand parse(List<String> argv) throws IpvsadmException {
        List<String> tokens = new ArrayList<>(argv);
        if (!tokens.isEmpty() && (tokens.getFirst().equals("ipvsadm") || tokens.getFirst().equals("jvsadm"))) {
            tokens.removeFirst();
            if (tokens.isEmpty()) {
                throw new IpvsadmException(IpvsadmException.OPERATION, tryHelp());
            }
        }
        if (tokens.isEmpty()) {
            return new State().finish(Command.LIST);
        }
        if (tokens.getFirst().equals("--add-mark") || tokens.getFirst().equals("--delete-mark")) {
            return markCommand(tokens);
        }
        return new State().run(tokens);
    }

    // ------------------------------------------------------------------ ipvsadm commands

    private final class State {
        Command command;
        long options;
        int format;
        final List<String> args = new ArrayList<>();
        // raw values, interpreted once everything is known (as -b needs -s, -r needs the protocol)
        char serviceKind;
        String serviceText;
        String destText;
        String schedFlagsText;
        String scheduler;
        int persist;
        int mask = -1;
        /** -M after an IPv6 service: the prefix length (ipvsadm's svc.netmask for AF_INET6; 128 by default). */
        int prefix6 = 128;
        /** -6 after -f: an IPv6 fwmark service. */
        boolean fwmarkIpv6;
        boolean onePacket;
        ForwardMethod method = ForwardMethod.DR;
        int weight = 1;
        int upper;
        int lower;
        TunnelType tunType = TunnelType.IPIP;
        int tunPort;
        int tunFlags;
        /** {@code --laddr} as given: IPv4 or IPv6 addresses by the service's family, read in finish(). */
        String laddrText;
        List<Integer> laddrs;
        List<Ipv6Address> laddrs6;
        ClientAddressMode clientAddress;
        String daemonState;
        ServiceTimeouts svcTimeouts;
        List<io.jvs.forwarder.service.ClientPrefix> allow;
        List<io.jvs.forwarder.service.ClientPrefix> deny;
        Integer connLimit;
        Integer rateLimit;
        Integer rateBurst;
        String mcastInterface;
        int syncId;
        int mcastGroup;
        int mcastPort;
        int mcastTtl;
        int syncMaxLen;

        /** True until the first option: popt errors before any say only "Try ... -h". */
        boolean first = true;

        IpvsadmCommand run(List<String> tokens) throws IpvsadmException {
            for (int i = 0; i < tokens.size(); i++) {
                String tok = tokens.get(i);
                if (tok.equals("--")) {
                    args.addAll(tokens.subList(i + 1, tokens.size()));
                    break;
                }
                if (tok.startsWith("--")) {
                    int eq = tok.indexOf('=');
                    String name = eq > 2 ? tok.substring(2, eq) : tok.substring(2);
                    Spec s = LONG.get(name);
                    if (s == null) {
                        throw bad(first, tok, "unknown option");
                    }
                    String value = eq > 2 ? tok.substring(eq + 1) : null;
                    if (s.arg == Arg.NONE && value != null) {
                        throw bad(first, tok, "option does not take an argument");
                    }
                    if (value == null && s.arg != Arg.NONE) {
                        if (hasNext(tokens, i, s.arg)) {
                            value = tokens.get(++i);
                        } else if (s.arg == Arg.REQUIRED) {
                            throw bad(first, tok, "missing argument");
                        }
                    }
                    option(s, value);
                } else if (tok.length() > 1 && tok.charAt(0) == '-') {
                    for (int k = 1; k < tok.length(); k++) {
                        Spec s = SHORT.get(tok.charAt(k));
                        if (s == null) {
                            throw bad(first, "-" + tok.charAt(k), "unknown option");
                        }
                        String value = null;
                        if (s.arg != Arg.NONE) {
                            if (k + 1 < tok.length()) {
                                value = tok.substring(k + 1);
                            } else if (hasNext(tokens, i, s.arg)) {
                                value = tokens.get(++i);
                            } else if (s.arg == Arg.REQUIRED) {
                                throw bad(first, "-" + tok.charAt(k), "missing argument");
                            }
                            option(s, value);
                            break;
                        }
                        option(s, null);
                    }
                } else {
                    args.add(tok);
                }
            }
            if (command == null) {
                throw new IpvsadmException(IpvsadmException.OPERATION, tryHelp());
            }
            return finish(command);
        }

        private boolean hasNext(List<String> tokens, int i, Arg arg) {
            if (i + 1 >= tokens.size()) {
                return false;
            }
            // popt: an optional argument is never taken from a word that looks like an option
            return arg == Arg.REQUIRED || !tokens.get(i + 1).startsWith("-");
        }

        /** A popt error: before any command ipvsadm only says "Try ... -h"; after one, "OPT: reason". */
        private IpvsadmException bad(boolean first, String tok, String why) {
            return new IpvsadmException(IpvsadmException.OPERATION, first ? tryHelp() : tok + ": " + why);
        }

        private void setOption(long option) throws IpvsadmException {
            if ((options & option) != 0) {
                throw IpvsadmException.usage("multiple '" + OPTION_NAMES[Long.numberOfTrailingZeros(option)]
                        + "' options specified");
            }
            options |= option;
        }

        private void option(Spec s, String value) throws IpvsadmException {
            first = false;
            if (s.command != null) {
                if (command != null) {
                    throw IpvsadmException.usage("multiple commands specified");
                }
                command = s.command;
                if (s.command == Command.START_DAEMON || s.command == Command.STOP_DAEMON) {
                    if (!value.equals("master") && !value.equals("backup")) {
                        throw IpvsadmException.usage(s.command == Command.START_DAEMON
                                ? "illegal start-daemon parameter specified" : "illegal start_daemon specified");
                    }
                    daemonState = value;
                }
                return;
            }
            if (s.option != 0) {
                setOption(s.option);
            }
            switch (s.longName) {
                case "tcp-service", "udp-service", "fwmark-service" -> {
                    serviceKind = s.letter;
                    serviceText = value;
                    prefix6 = 128; // parse_service sets svc.netmask = 128 for an IPv6 address (-f: af = AF_INET)
                    fwmarkIpv6 = false;
                    if (s.letter == 'f') {
                        fwmark(value); // checked at once, as ipvsadm does
                    }
                }
                case "scheduler" -> scheduler = value;
                case "persistent" -> persist = value == null ? ServiceSpec.DEFAULT_PERSIST_TIMEOUT
                        : timeout(value, 1, MAX_TIMEOUT);
                case "netmask" -> {
                    // As ipvsadm: -M is a prefix length when the service given before it is IPv6.
                    if (serviceIsIpv6(serviceKind, serviceText, fwmarkIpv6)) {
                        int prefix = atoi(value);
                        if (prefix < 1 || prefix > 128) {
                            throw IpvsadmException.usage("illegal ipv6 netmask specified");
                        }
                        prefix6 = prefix;
                    } else {
                        mask = netmask(value);
                    }
                }
                case "real-server" -> destText = value;
                case "masquerading" -> method = ForwardMethod.NAT;
                case "ipip" -> method = ForwardMethod.TUN;
                case "gatewaying" -> method = ForwardMethod.DR;
                case "fullnat" -> method = ForwardMethod.FULLNAT;
                case "weight" -> weight = number(value, 0, 65535, "illegal weight specified");
                case "u-threshold" -> upper = number(value, 0, Integer.MAX_VALUE, "illegal u_threshold specified");
                case "l-threshold" -> lower = number(value, 0, Integer.MAX_VALUE, "illegal l_threshold specified");
                case "numeric" -> format |= FMT_NUMERIC;
                case "stats" -> format |= FMT_STATS;
                case "rate" -> format |= FMT_RATE;
                case "thresholds" -> format |= FMT_THRESHOLDS;
                case "persistent-conn" -> format |= FMT_PERSISTENTCONN;
                case "nosort" -> format |= FMT_NOSORT;
                case "exact" -> format |= FMT_EXACT;
                case "tun-info" -> format |= FMT_TUN_INFO;
                case "ops" -> onePacket = true;
                case "pe" -> throw IpvsadmException.usage("persistence engine `" + value
                        + "' is not supported by jvs yet (--pe)");
                case "ipv6" -> {
                    if (serviceKind != 'f') {
                        throw IpvsadmException.usage("-6 used before -f\n"); // ipvsadm's own blank line
                    }
                    fwmarkIpv6 = true;
                    prefix6 = 128; // ipvsadm: svc.netmask = 128 with svc.af
                }
                case "sctp-service" -> throw IpvsadmException.usage("SCTP is not supported by jvs yet (--sctp-service)");
                case "sched-flags" -> schedFlagsText = value;
                case "syncid" -> syncId = number(value, 0, 255, "illegal syncid specified");
                // strncpy(mcast_ifn, optarg, IP_VS_IFNAME_MAXLEN - 1)
                case "mcast-interface" -> mcastInterface = value.length() > 15 ? value.substring(0, 15) : value;
                case "mcast-group" -> mcastGroup = mcastGroup(value);
                case "mcast-port" -> mcastPort = number(value, 1, 65535, "illegal mcast-port specified");
                case "mcast-ttl" -> mcastTtl = number(value, 1, 255, "illegal mcast-ttl specified");
                case "sync-maxlen" -> syncMaxLen = number(value, 1, 65535 - 20 - 8, "illegal sync-maxlen specified");
                case "tun-type" -> {
                    if (!value.equals("ipip") && !value.equals("gue") && !value.equals("gre")) {
                        throw IpvsadmException.usage("illegal tunnel type specified");
                    }
                    tunType = TunnelType.of(value);
                }
                case "tun-port" -> tunPort = number(value, 1, 65535, "illegal tunnel port specified");
                case "tun-nocsum" -> tunFlags |= TunnelType.FLAG_NOCSUM;
                case "tun-csum" -> tunFlags |= TunnelType.FLAG_CSUM;
                case "tun-remcsum" -> tunFlags |= TunnelType.FLAG_REMCSUM;
                case "laddr" -> laddrText = value;
                case "client-addr" -> {
                    try {
                        clientAddress = ClientAddressMode.of(value);
                    } catch (IllegalArgumentException e) {
                        throw IpvsadmException.usage("illegal client address mode `" + value
                                + "' specified (expected none, toa or proxy)");
                    }
                }
                case "svc-timeout" -> svcTimeouts = serviceTimeouts(value);
                case "allow" -> allow = prefixes("--allow", value);
                case "deny" -> deny = prefixes("--deny", value);
                case "conn-limit" -> connLimit = number(value, 0, io.jvs.forwarder.service.ClientPolicy.MAX_LIMIT,
                        "illegal connection limit specified");
                case "rate-limit" -> {
                    int slash = value.indexOf('/');
                    int max = io.jvs.forwarder.service.ClientPolicy.MAX_LIMIT;
                    rateLimit = number(slash < 0 ? value : value.substring(0, slash), 0, max,
                            "illegal rate limit specified");
                    if (slash < 0) {
                        rateBurst = rateLimit == 0 ? 0 : rateLimit;
                    } else if (rateLimit == 0) {
                        throw IpvsadmException.usage("illegal rate limit specified (`" + value
                                + "'; a burst needs a rate: expected RATE[/BURST] with RATE 1.." + max + ")");
                    } else {
                        rateBurst = number(value.substring(slash + 1), 1, max, "illegal rate limit burst specified");
                    }
                }
                default -> { } // flags whose bit is all they carry (-c, --timeout, --daemon, --sort, ...)
            }
        }

        IpvsadmCommand finish(Command cmd) throws IpvsadmException {
            if (cmd == Command.HELP || cmd == Command.VERSION) {
                return build(cmd, 0, 0, 0, 0, 0, 0, null, null);
            }
            checkLegal(cmd);
            int proto = 0;
            int addr = 0;
            int port = 0;
            int mark = 0;
            Ipv6Address addr6 = null;
            if (serviceText != null) {
                if (serviceKind == 'f') {
                    mark = fwmark(serviceText);
                    if (fwmarkIpv6) {
                        addr6 = Ipv6Address.UNSPECIFIED;
                    }
                } else {
                    proto = serviceKind == 't' ? Protocol.TCP : Protocol.UDP;
                    Endpoint ap = endpoint(serviceText, proto, "illegal virtual server address[:port] specified");
                    addr = ap.addr();
                    addr6 = ap.ipv6();
                    port = ap.port() < 0 ? 0 : ap.port();
                }
            }
            if (addr6 != null) {
                if (mark == 0 && (cmd == Command.ADD_SERVICE || cmd == Command.EDIT_SERVICE)) {
                    vip6(addr6, "-" + serviceKind + " " + serviceText);
                }
                mask = prefix6;
                if (laddrText != null) {
                    laddrs6 = localAddrs6(laddrText);
                }
            } else if (laddrText != null) {
                laddrs = localAddrs(laddrText);
            }
            if (cmd == Command.ADD_SERVICE || cmd == Command.EDIT_SERVICE) {
                if (mark == 0 && port == 0 && persist == 0) {
                    throw IpvsadmException.usage("Zero port specified for non-persistent service");
                }
                if (onePacket && mark == 0 && proto != Protocol.UDP) {
                    throw IpvsadmException.usage("One-Packet Scheduling is only for UDP virtual services");
                }
                if ((options & OPT_SYNPROXY) != 0 && mark == 0 && proto != Protocol.TCP) {
                    throw IpvsadmException.usage("--synproxy is only for TCP virtual services");
                }
                if ((options & OPT_SYNPROXY) != 0 && (options & OPT_NO_SYNPROXY) != 0) {
                    throw IpvsadmException.usage("--synproxy and --no-synproxy conflict");
                }
                if (scheduler == null) {
                    scheduler = ServiceSpec.DEFAULT_SCHEDULER;
                }
            }
            int schedFlags = schedFlagsText == null ? 0 : schedFlags(scheduler, schedFlagsText);
            int destAddr = 0;
            int destPort = 0;
            Ipv6Address destAddr6 = null;
            if (destText != null) {
                Endpoint ap = endpoint(destText, proto, "illegal real server address[:port] specified");
                destAddr = ap.addr();
                destAddr6 = ap.ipv6();
                destPort = ap.port() < 0 ? port : ap.port();
                if ((cmd == Command.ADD_SERVER || cmd == Command.EDIT_SERVER)
                        && (destAddr6 != null) != (addr6 != null) && method != ForwardMethod.TUN) {
                    // process_options: "Tunneling allows different address family"
                    throw IpvsadmException.usage("Different address family is allowed only for tunneling servers");
                }
                if (destAddr6 != null && (cmd == Command.ADD_SERVER || cmd == Command.EDIT_SERVER)) {
                    realServer6(destAddr6, "-r " + destText);
                }
            }
            if (cmd == Command.ADD_SERVER || cmd == Command.EDIT_SERVER) {
                // DR and TUN cannot change the port: the destination port is the service's (not for fwmark).
                if (mark == 0 && (method == ForwardMethod.DR || method == ForwardMethod.TUN)) {
                    destPort = port;
                }
                long tunOpts = OPT_TUN_TYPE | OPT_TUN_PORT | OPT_TUN_NOCSUM | OPT_TUN_CSUM | OPT_TUN_REMCSUM;
                if ((options & tunOpts) != 0 && method != ForwardMethod.TUN) {
                    throw IpvsadmException.usage("Tunnel options conflict with forward method");
                }
                checkTunnel();
            }
            // -c may take --persistent-conn (pe columns); --timeout, --daemon, --marks and --vrrp take no format
            long noFormat = OPT_TIMEOUT | OPT_DAEMON | OPT_MARKS | OPT_VRRP;
            if (cmd == Command.LIST && ((options & (OPT_CONNECTION | noFormat)) != 0
                    && (options & (OPT_STATS | OPT_RATE | OPT_THRESHOLDS)) != 0
                    || (options & noFormat) != 0
                    && (options & OPT_PERSISTENTCONN) != 0)) {
                throw IpvsadmException.usage("options conflicts in the list command");
            }
            int[] timeouts = null;
            String state = null;
            int stateSeconds = 0;
            int used = 0;
            if (cmd == Command.SET) {
                if (args.size() < 3) {
                    throw IpvsadmException.usage("--set option requires 3 timeout values");
                }
                timeouts = new int[3];
                for (int i = 0; i < 3; i++) {
                    timeouts[i] = timeout(args.get(i), 0, MAX_TIMEOUT);
                }
                used = 3;
            } else if (cmd == Command.STATE_TIMEOUT) {
                if (args.size() < 2) {
                    throw IpvsadmException.usage("--state-timeout requires a TCP state name and seconds"
                            + " (e.g. --state-timeout time_wait 2)");
                }
                try {
                    state = TimeoutSettings.canonicalState(args.get(0));
                } catch (IllegalArgumentException e) {
                    throw IpvsadmException.usage(e.getMessage());
                }
                stateSeconds = timeout(args.get(1), 1, MAX_TIMEOUT);
                used = 2;
            }
            if (args.size() > used) {
                throw IpvsadmException.usage("unexpected argument " + args.get(used));
            }
            SyncSettings daemon = cmd == Command.START_DAEMON
                    ? new SyncSettings(mcastInterface == null || mcastInterface.isEmpty()
                            ? SyncSettings.DEFAULT_INTERFACE : mcastInterface,
                            syncId, mcastGroup, mcastPort, mcastTtl, syncMaxLen)
                    : null;
            return new IpvsadmCommand(cmd, options, proto, addr, port, mark, scheduler, schedFlags, persist, mask,
                    onePacket, laddrs, clientAddress, destAddr, destPort, method, weight, upper, lower, tunType,
                    tunPort, tunFlags, format, timeouts, state, stateSeconds, null, daemonState, svcTimeouts, daemon,
                    new ClientOptions(allow, deny, connLimit, rateLimit, rateBurst), addr6, destAddr6, laddrs6);
        }

        private IpvsadmCommand build(Command cmd, int proto, int addr, int port, int mark, int destAddr,
                                     int destPort, int[] timeouts, FwmarkRule rule) {
            return new IpvsadmCommand(cmd, options, proto, addr, port, mark, scheduler, 0, persist, mask,
                    onePacket, laddrs, clientAddress, destAddr, destPort, method, weight, upper, lower, tunType,
                    tunPort, tunFlags, format, timeouts, null, 0, rule, daemonState, svcTimeouts, null,
                    ClientOptions.NONE, null, null, null);
        }

        /**
         * --mcast-group: inet_pton and IN_MULTICAST for IPv4, ipvsadm's messages; an IPv6 group
         * (a ':' in it) is refused, jvs's sync runs over IPv4.
         */
        private int mcastGroup(String value) throws IpvsadmException {
            if (value.indexOf(':') >= 0) {
                throw IpvsadmException.usage("IPv6 is not supported by jvs yet (--mcast-group " + value + ")");
            }
            int a;
            try {
                a = io.jvs.packet.Ipv4Address.parse(value);
            } catch (IllegalArgumentException e) {
                throw IpvsadmException.usage("invalid IPv4 mcast-group `" + value + "'");
            }
            if ((a >>> 28) != 0xE) {
                throw IpvsadmException.usage("invalid IPv4 mcast-group `" + value + "'");
            }
            return a;
        }

        /** ipvsadm's generic_opt_check. */
        private void checkLegal(Command cmd) throws IpvsadmException {
            char[] row = LEGAL[cmd.ordinal()];
            int last = -1;
            for (int j = 0; j < OPTION_NAMES.length; j++) {
                boolean given = (options & (1L << j)) != 0;
                if (!given) {
                    if (row[j] == '+') {
                        throw IpvsadmException.usage("You need to supply the '" + OPTION_NAMES[j]
                                + "' option for the '" + cmd.ipvsadmName + "' command");
                    }
                } else {
                    if (row[j] == 'x') {
                        throw IpvsadmException.usage("Illegal '" + OPTION_NAMES[j] + "' option with the '"
                                + cmd.ipvsadmName + "' command");
                    }
                    if (row[j] == '1') {
                        if (last < 0) {
                            last = j;
                            continue;
                        }
                        throw IpvsadmException.usage("The option '" + OPTION_NAMES[j] + "' conflicts with the '"
                                + OPTION_NAMES[last] + "' option in the '" + cmd.ipvsadmName + "' command");
                    }
                }
            }
        }

        /**
         * ipvsadm's tunnel_opt_check over tunnel_types_v_options: ipip takes no
         * options; gue needs --tun-port and at most one checksum option; gre
         * takes no port, at most one of --tun-nocsum/--tun-csum.
         */
        private void checkTunnel() throws IpvsadmException {
            long[] opts = {OPT_TUN_PORT, OPT_TUN_NOCSUM, OPT_TUN_CSUM, OPT_TUN_REMCSUM};
            String row = switch (tunType) {
                case IPIP -> "xxxx";
                case GUE -> "+111";
                case GRE -> "x11x";
            };
            String type = tunType.ipvsadmName();
            long last = 0;
            for (int j = 0; j < opts.length; j++) {
                char rule = row.charAt(j);
                if ((options & opts[j]) == 0) {
                    if (rule == '+') {
                        throw IpvsadmException.usage("You need to supply the '" + name(opts[j])
                                + "' option for the '" + type + "' tunnel type");
                    }
                    continue;
                }
                if (rule == 'x') {
                    throw IpvsadmException.usage("Illegal '" + name(opts[j]) + "' option with the '" + type
                            + "' tunnel type");
                }
                if (rule == '1') {
                    if (last != 0) {
                        throw IpvsadmException.usage("The option '" + name(opts[j]) + "' conflicts with the '"
                                + name(last) + "' option in the '" + type + "' tunnel type");
                    }
                    last = opts[j];
                }
            }
        }
    }

    private static String name(long option) {
        return OPTION_NAMES[Long.numberOfTrailingZeros(option)];
    }

    // ------------------------------------------------------------------ values

    /** ipvsadm's string_to_number: a whole decimal in [min, max]. */
    static int number(String s, int min, int max, String message) throws IpvsadmException {
        Long v = StringToNumber.parse(s);
        if (v == null || v < min || v > max) {
            // ipvsadm's words first (scripts grep them), then the value and what was expected
            throw IpvsadmException.usage(message + " (`" + s + "'; expected " + min + ".." + max + ")");
        }
        return (int) (long) v;
    }


    private static int timeout(String s, int min, int max) throws IpvsadmException {
        Long v = StringToNumber.parse(s);
        if (v == null || v < min || v > max) {
            throw IpvsadmException.usage("invalid timeout value `" + s + "' specified (expected seconds " + min
                    + ".." + max + ")");
        }
        return (int) (long) v;
    }

    private static int fwmark(String s) throws IpvsadmException {
        Long v = StringToNumber.parse(s);
        if (v == null || v <= 0 || v > 0xffffffffL) {
            throw IpvsadmException.usage("invalid fwmark value `" + s + "' specified");
        }
        return (int) (long) v;
    }

    private static int netmask(String s) throws IpvsadmException {
        try {
            return Ipv4Address.parse(s);
        } catch (IllegalArgumentException e) {
            throw IpvsadmException.usage("illegal virtual server persistent mask specified (`" + s
                    + "'; expected e.g. 255.255.255.0)");
        }
    }

    /** parse_sched_flags: comma-separated names; sh-/mh- names only with their scheduler. */
    private static int schedFlags(String scheduler, String text) throws IpvsadmException {
        String sched = scheduler == null || scheduler.isEmpty() ? ServiceSpec.DEFAULT_SCHEDULER : scheduler;
        int flags = 0;
        for (String flag : text.split(",")) {
            switch (flag) {
                case "flag-1" -> flags |= ServiceSpec.SCHED_FLAG_1;
                case "flag-2" -> flags |= ServiceSpec.SCHED_FLAG_2;
                case "flag-3" -> flags |= ServiceSpec.SCHED_FLAG_3;
                case "sh-fallback", "sh-port", "mh-fallback", "mh-port" -> {
                    if (!sched.equals(flag.substring(0, 2))) {
                        throw IpvsadmException.usage("incompatible scheduler flag `" + flag + "'");
                    }
                    flags |= flag.endsWith("fallback") ? ServiceSpec.SCHED_FLAG_1 : ServiceSpec.SCHED_FLAG_2;
                }
                default -> throw IpvsadmException.usage("invalid scheduler flag `" + flag + "'");
            }
        }
        return flags;
    }

    /**
     * {@code --allow}/{@code --deny}: comma-separated prefixes (A.B.C.D[/LEN], host bits zero), or
     * {@code none} for an empty list; at most ClientPolicy.MAX_PREFIXES.
     */
    private static List<io.jvs.forwarder.service.ClientPrefix> prefixes(String option, String value)
            throws IpvsadmException {
        if (value.equals("none")) {
            return List.of();
        }
        String[] parts = value.split(",", -1);
        if (parts.length > io.jvs.forwarder.service.ClientPolicy.MAX_PREFIXES) {
            throw IpvsadmException.usage("too many prefixes in " + option + " (" + parts.length + "; at most "
                    + io.jvs.forwarder.service.ClientPolicy.MAX_PREFIXES + ")");
        }
        List<io.jvs.forwarder.service.ClientPrefix> out = new ArrayList<>(parts.length);
        for (String p : parts) {
            try {
                out.add(io.jvs.forwarder.service.ClientPrefix.parse(p));
            } catch (IllegalArgumentException e) {
                throw IpvsadmException.usage("illegal client prefix specified in " + option + " (" + e.getMessage()
                        + ")");
            }
        }
        return out;
    }

    /** {@code --svc-timeout TCP,TCPFIN,UDP}: seconds as --set takes them, 0 = the global value. */
    private static ServiceTimeouts serviceTimeouts(String text) throws IpvsadmException {
        String[] v = text.split(",", -1);
        String bad = "illegal service timeouts `" + text + "' specified (expected --svc-timeout TCP,TCPFIN,UDP in"
                + " seconds 0.." + MAX_TIMEOUT + ", 0 = the global value)";
        if (v.length != 3) {
            throw IpvsadmException.usage(bad);
        }
        int[] s = new int[3];
        for (int i = 0; i < 3; i++) {
            Long n = StringToNumber.parse(v[i]);
            if (n == null || n < 0 || n > MAX_TIMEOUT) {
                throw IpvsadmException.usage(bad);
            }
            s[i] = (int) (long) n;
        }
        return new ServiceTimeouts(s[0], s[1], s[2]);
    }

    private static List<Integer> localAddrs(String text) throws IpvsadmException {
        List<Integer> out = new ArrayList<>();
        for (String a : text.split(",", -1)) {
            try {
                int v = Ipv4Address.parse(a);
                if (out.contains(v)) {
                    throw IpvsadmException.usage("local address " + a + " given twice in --laddr");
                }
                out.add(v);
            } catch (IllegalArgumentException e) {
                throw IpvsadmException.usage("illegal local address `" + a
                        + "' specified (expected --laddr IPv4[,IPv4...])");
            }
        }
        return out;
    }

    /** {@code --laddr} of an IPv6 service: IPv6 addresses, comma-separated, each once. */
    private static List<Ipv6Address> localAddrs6(String text) throws IpvsadmException {
        List<Ipv6Address> out = new ArrayList<>();
        for (String a : text.split(",", -1)) {
            Ipv6Address v = Ipv6Address.tryParse(a);
            if (v == null) {
                throw IpvsadmException.usage("illegal local address `" + a
                        + "' specified (expected --laddr IPv6[,IPv6...] for an IPv6 service)");
            }
            if (out.contains(v)) {
                throw IpvsadmException.usage("local address " + a + " given twice in --laddr");
            }
            try {
                io.jvs.forwarder.service.ServiceSpec.checkLocalAddr6(v);
            } catch (IllegalArgumentException e) {
                throw IpvsadmException.usage(e.getMessage());
            }
            out.add(v);
        }
        return out;
    }

    /** What parse_service read: an IPv4 address (host order) or an IPv6 one, and the port or -1. */
    private record Endpoint(int addr, Ipv6Address ipv6, int port) {
    }

    /**
     * parse_service: {@code host[:port]}, {@code [ipv6]:port} or a bare IPv6 address, with a
     * numeric or named port, as ipvsadm 1.31 reads them: a leading '[' needs "]:" after the
     * address (else the address is illegal); text that inet_pton(AF_INET6) takes is IPv6 with
     * no port; anything else is IPv4 or a host name up to its last ':'. As there, a bracketed
     * IPv4 address ({@code [10.0.0.1]:80}) reads as the address alone: the ']' ended the text.
     */
    private Endpoint endpoint(String text, int proto, String ipvsadmMessage) throws IpvsadmException {
        String message = ipvsadmMessage + " (`" + text + "')";
        if (text.isEmpty() || text.chars().allMatch(Character::isDigit)) {
            throw IpvsadmException.usage(message);
        }
        String buf = text;
        String portText = null;
        if (buf.startsWith("[")) {
            int close = buf.indexOf(']');
            if (close < 0 || close + 1 >= buf.length() || buf.charAt(close + 1) != ':') {
                throw IpvsadmException.usage(message);
            }
            portText = buf.substring(close + 2);
            buf = buf.substring(1, close);
        }
        Ipv6Address v6 = Ipv6Address.tryParse(buf);
        int addr = 0;
        if (v6 == null) {
            int colon = buf.lastIndexOf(':');
            portText = colon < 0 ? null : buf.substring(colon + 1);
            addr = host(colon < 0 ? buf : buf.substring(0, colon), message);
        }
        if (portText == null) {
            return new Endpoint(addr, v6, -1);
        }
        Long n = StringToNumber.parse(portText);
        int port;
        if (n != null && n >= 0 && n <= 65535) {
            port = (int) (long) n;
        } else {
            port = (ports != null ? ports : PortNames.system()).port(portText, proto);
            if (port < 0) {
                throw IpvsadmException.usage(message);
            }
        }
        return new Endpoint(addr, v6, port);
    }

    /** True when the -t/-u/-f given so far makes an IPv6 service (ipvsadm's svc.af at that point). */
    private static boolean serviceIsIpv6(char serviceKind, String serviceText, boolean fwmarkIpv6) {
        if (serviceText == null) {
            return false;
        }
        if (serviceKind == 'f') {
            return fwmarkIpv6;
        }
        String t = serviceText;
        if (t.startsWith("[")) {
            int close = t.indexOf(']');
            t = close < 0 ? "" : t.substring(1, close);
        }
        return Ipv6Address.tryParse(t) != null;
    }

    /**
     * An IPv6 VIP jvs refuses (ipvsadm and the kernel take any address; these cannot work as a
     * VIP): one line naming the option, exit 2. Link-local: ipvsadm's inet_pton takes no zone
     * ({@code fe80::1%eth0} is already an illegal address), and a VIP scoped to one link is not
     * one jvs can announce.
     */
    private static void vip6(Ipv6Address a, String item) throws IpvsadmException {
        try {
            io.jvs.forwarder.service.ServiceSpec.checkVip6(a);
        } catch (IllegalArgumentException e) {
            throw IpvsadmException.usage(e.getMessage() + " (" + item + ")");
        }
    }

    /** An IPv6 real server address that cannot be one (unspecified, loopback, multicast), naming the option. */
    private static void realServer6(Ipv6Address a, String item) throws IpvsadmException {
        if (a.isUnspecified() || a.isLoopback() || a.isMulticast()) {
            throw IpvsadmException.usage("[" + a + "]: not a unicast real server address (" + item + ")");
        }
    }

    /** C's atoi: optional blanks and sign, then digits up to the first non-digit; 0 when none. */
    static int atoi(String s) {
        int i = 0;
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) >= '\t' && s.charAt(i) <= '\r')) {
            i++;
        }
        boolean negative = false;
        if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        long v = 0;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            v = Math.min(v * 10 + s.charAt(i) - '0', 1L << 32); // saturates: out of 1..128 either way
            i++;
        }
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, negative ? -v : v));
    }

    private int host(String host, String message) throws IpvsadmException {
        try {
            return Ipv4Address.parse(host);
        } catch (IllegalArgumentException notLiteral) {
            if (host.isEmpty() || !host.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '.' || c == '-')) {
                throw IpvsadmException.usage(message);
            }
            java.util.OptionalInt a = hosts.ipv4(host);
            if (a.isEmpty()) {
                throw IpvsadmException.usage(message);
            }
            return a.getAsInt();
        }
    }

    // ------------------------------------------------------------------ jvs: fwmark rules

    /** {@code --add-mark|--delete-mark ...}: the rule in iptables' words ({@link MarkRuleParser}). */
    private static IpvsadmCommand markCommand(List<String> tokens) throws IpvsadmException {
        Command cmd = tokens.getFirst().equals("--add-mark") ? Command.ADD_MARK : Command.DELETE_MARK;
        FwmarkRule rule;
        try {
            rule = MarkRuleParser.parse(tokens.getFirst(), tokens.subList(1, tokens.size()));
        } catch (MarkRuleException e) {
            throw IpvsadmException.usage(e.getMessage());
        }
        return new IpvsadmCommand(cmd, 0, 0, 0, 0, 0, null, 0, 0, -1, false, null, null, 0, 0,
                ForwardMethod.DR, 1, 0, 0, TunnelType.IPIP, 0, 0, 0, null, null, 0, rule, null, null, null, ClientOptions.NONE,
                null, null, null);
    }
}
