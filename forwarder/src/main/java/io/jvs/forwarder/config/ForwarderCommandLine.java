package io.jvs.forwarder.config;

import io.jvs.forwarder.conn.LocalPorts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.sched.MaglevHashingScheduler;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The director's command line ({@code jvs-forwarder}), parsed and checked.
 * Immutable. {@link #parse} either returns a complete, valid set of options or
 * throws {@link UsageException} with one line naming the bad flag or value
 * and what was expected; see {@link #usage()} for the flags. Values may follow
 * their flag as the next argument or after '=' ({@code --conn-max=65536}).
 * {@code -h}/{@code --help} and {@code --version} stop parsing and need
 * nothing else; printing is the caller's job ({@link #action()}).
 */
public final class ForwarderCommandLine {
    /** What the program should do. */
    public enum Action {
        /** Run the director. */
        RUN,
        /** Print {@link #usage()} and exit 0. */
        HELP,
        /** Print {@link #version()} and exit 0. */
        VERSION
    }

    /** How the director receives and sends frames. */
    public enum AttachKind {
        /** AF_PACKET sockets with rings on an existing interface. */
        PACKET,
        /** A TAP device. */
        TAP,
        /** An XDP program and an AF_XDP socket on one rx queue of an existing interface. */
        XDP
    }

    /**
     * {@code --attach packet:IFACE}, {@code --attach tap:NAME} or {@code --attach xdp:IFACE[:QUEUE]}
     * ({@code queue}: the rx queue of xdp, {@link #EVERY_QUEUE} when not given; 0 for the other kinds).
     */
    public record Attach(AttachKind kind, String name, int queue) {
        /** xdp:IFACE without a queue: every rx queue of the interface. */
        public static final int EVERY_QUEUE = -1;

        public Attach {
            Objects.requireNonNull(kind);
            Objects.requireNonNull(name);
        }

        public Attach(AttachKind kind, String name) {
            this(kind, name, 0);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case PACKET -> "packet:" + name;
                case TAP -> "tap:" + name;
                case XDP -> "xdp:" + name + (queue == EVERY_QUEUE ? "" : ":" + queue);
            };
        }
    }

    public static final int DEFAULT_CONN_MAX = 1 << 20;
    public static final int MAX_CONN_MAX = 64 << 20;
    /** MiB of RX ring per attached interface in packet mode (2 KiB slots at MTU 1500: 16,384 frames). */
    public static final int DEFAULT_RING_MEMORY_MIB = 32;
    public static final int MIN_RING_MEMORY_MIB = 1;
    public static final int MAX_RING_MEMORY_MIB = 1024;
    /** 127.0.0.1:9110: only local scrapers (or a proxy) until the operator says otherwise. */
    public static final InetSocketAddress DEFAULT_METRICS =
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 9110);

    private static final String PROGRAM = "jvs-forwarder";

    private final Action action;
    private final List<Attach> attachments;
    private final List<String> lans;
    /** --arp-on: VIP or local address to the interfaces that answer ARP for it, in the order given. */
    private Map<Integer, List<String>> arpOn = Map.of();
    private final Path config;
    private final Path keepalived;
    private final InetSocketAddress metrics;
    private final int connMax;
    /** --conn-max6: the IPv6 connection table's size (0: not given, a sixteenth of --conn-max). */
    private int connMax6;
    private final int ringMemoryMib;
    /** --kernel-ingress-drop: packet mode's tcx program dropping the kernel's copy of frames to jvs's addresses. */
    private boolean kernelIngressDrop = true;
    private int localPortLow = LocalPorts.DEFAULT_LOW;
    /** IPVS's expire_nodest_conn, expire_quiescent_template and sloppy_tcp sysctls (0 = kernel default). */
    private boolean expireNodestConn;
    private boolean expireQuiescentTemplate;
    private boolean sloppyTcp;
    /** IPVS's drop_entry, drop_packet, secure_tcp, amemthresh, am_droprate. */
    private io.jvs.forwarder.conn.DefenseSettings defense = io.jvs.forwarder.conn.DefenseSettings.OFF;
    private int localPortHigh = LocalPorts.DEFAULT_HIGH;
    private final int mhTableSize;
    /** --workers: event loops, each with its own ring per interface (packet mode) and tables. */
    private int workers = 1;
    private boolean workersGiven;
    /** Control API settings (null = not given). */
    private String control;
    private InetSocketAddress controlHttp;
    private Path controlTokenFile;
    private Path metricsTlsCert;
    private Path metricsTlsKey;
    private Path synProxyKey;
    private Path saveTo;
    private String user;
    private String controlGroup;
    /** --announce-table etc.: the ECMP profile (VIPs announced through BIRD); null = not announcing. */
    private Announce announce;

    private ForwarderCommandLine(Action action, List<Attach> attachments, List<String> lans, Path config,
                             Path keepalived, InetSocketAddress metrics, int connMax, int ringMemoryMib, int mhTableSize) {
        this.action = action;
        this.attachments = attachments;
        this.lans = lans;
        this.config = config;
        this.keepalived = keepalived;
        this.metrics = metrics;
        this.connMax = connMax;
        this.ringMemoryMib = ringMemoryMib;
        this.mhTableSize = mhTableSize;
    }

    public Action action() {
        return action;
    }

    /** The first attachment (all are of its kind); null only when {@link #action()} is not RUN. */
    public Attach attach() {
        return attachments == null ? null : attachments.getFirst();
    }

    /** Every --attach, in the order given: several packet:IFACE, or one tap:NAME. */
    public List<Attach> attachments() {
        return attachments;
    }

    /** TAP mode's first LAN interface for transmit and ARP. */
    public Optional<String> lan() {
        return lans == null || lans.isEmpty() ? Optional.empty() : Optional.of(lans.getFirst());
    }

    /** TAP mode: every --lan, in the order given (the interfaces frames leave by). */
    public List<String> lans() {
        return lans;
    }

    /** --arp-on: a VIP or FULLNAT local address to the attached interfaces that answer ARP for it. */
    public Map<Integer, List<String>> arpOn() {
        return arpOn;
    }

    /** The config file; empty = run with no services. */
    public Optional<Path> config() {
        return Optional.ofNullable(config);
    }

    /**
     * {@code --keepalived FILE}: services and health checks from a keepalived.conf;
     * exclusive with {@link #config()} (one source of services).
     */
    public Optional<Path> keepalived() {
        return Optional.ofNullable(keepalived);
    }

    /** Where to serve metrics; empty = {@code --metrics off}. */
    public Optional<InetSocketAddress> metrics() {
        return Optional.ofNullable(metrics);
    }

    /** Most connection-table entries. */
    public int connMax() {
        return connMax;
    }

    /**
     * Most IPv6 connection-table entries (--conn-max6; default a sixteenth of --conn-max, at least
     * 1024): one table on worker 0, which takes all IPv6.
     */
    public int connMax6() {
        return connMax6 != 0 ? connMax6 : Math.max(1024, connMax / 16);
    }

    /** FULLNAT: lowest local port handed out on each local address ({@code --lport-range LOW-HIGH}). */
    public int localPortLow() {
        return localPortLow;
    }

    /** FULLNAT: highest local port handed out on each local address. */
    public int localPortHigh() {
        return localPortHigh;
    }

    /**
     * {@code --workers N}: data-path workers (default: the online CPUs, capped by what the
     * attachment allows: packet mode 256 rings per PACKET_FANOUT group and one --lport-range
     * port per worker; a TAP 256 queues, the kernel's MAX_TAP_QUEUES, and 1 with --user; XDP 1).
     */
    public int workers() {
        return workers;
    }

    /** Whether --workers was given (else {@link #workers()} is the default). */
    public boolean workersGiven() {
        return workersGiven;
    }

    /** Most workers packet mode allows (members of one PACKET_FANOUT group, the kernel's default). */
    public static final int MAX_WORKERS = io.jvs.sys.AfPacket.FANOUT_DEFAULT_MAX_MEMBERS;

    /** MiB of each AF_PACKET RX ring (packet mode). */
    public boolean kernelIngressDrop() {
        return kernelIngressDrop;
    }

    public int ringMemoryMib() {
        return ringMemoryMib;
    }

    /** {@code --control PATH}: the control socket; empty = $JVS_CONTROL or the default. */
    public Optional<String> control() {
        return Optional.ofNullable(control);
    }

    /** {@code --control-http ADDR:PORT}: the HTTP control API; empty = none. */
    public Optional<InetSocketAddress> controlHttp() {
        return Optional.ofNullable(controlHttp);
    }

    /** {@code --metrics-tls-cert FILE}: PEM certificate chain; with the key, the metrics port serves HTTPS. */
    public Optional<Path> metricsTlsCert() {
        return Optional.ofNullable(metricsTlsCert);
    }

    /** {@code --metrics-tls-key FILE}: the PKCS#8 PEM private key of {@link #metricsTlsCert()}. */
    public Optional<Path> metricsTlsKey() {
        return Optional.ofNullable(metricsTlsKey);
    }

    /**
     * {@code --synproxy-key FILE}: the secret the SYN proxy's cookie key is derived from; empty = a
     * random key per start. Directors that take over each other's clients (a VRRP pair, ECMP
     * directors) read the same file, so a cookie one of them sent is valid at the other.
     */
    public Optional<Path> synProxyKey() {
        return Optional.ofNullable(synProxyKey);
    }

    /**
     * {@code --control-token-file FILE}: the control token (else $JVS_CONTROL_TOKEN): the HTTP API's
     * bearer token, and what the web console's login asks for (without one, the console is read-only).
     */
    public Optional<Path> controlTokenFile() {
        return Optional.ofNullable(controlTokenFile);
    }

    /** {@code --save-to FILE}: the running configuration, saved on every change and loaded at start. */
    public Optional<Path> saveTo() {
        return Optional.ofNullable(saveTo);
    }

    /** {@code --user NAME}: who the director runs as once everything is open (looked up by Main). */
    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    /** {@code --control-group NAME}: the control socket's group (mode 0660). */
    public Optional<String> controlGroup() {
        return Optional.ofNullable(controlGroup);
    }

    /** Slots of every mh (Maglev) scheduler's table: a prime the kernel offers (default 4093). */
    /** The IPVS sysctls jvs honours, as a connection policy. */
    public io.jvs.forwarder.conn.ConnPolicy connPolicy() {
        return new io.jvs.forwarder.conn.ConnPolicy(expireNodestConn, expireQuiescentTemplate, sloppyTcp, defense);
    }

    public int mhTableSize() {
        return mhTableSize;
    }

    /**
     * The ECMP profile: jvs keeps a /32 route for every VIP it serves in kernel routing table
     * {@code table} (protocol {@link #ANNOUNCE_PROTOCOL}, through the TUN device {@code device}, which the
     * kernel deletes with its routes when jvs dies), for the BIRD at {@code birdSocket} to export;
     * on SIGTERM the routes go first, then jvs keeps forwarding for {@code drainSeconds}, then exits.
     */
    public record Announce(int table, String device, Path birdSocket, int drainSeconds) {
    }

    /** The kernel route protocol number of jvs's announcement routes (ip route ... proto 77). */
    public static final int ANNOUNCE_PROTOCOL = 77;
    public static final String DEFAULT_ANNOUNCE_DEVICE = "jvs-announce";
    public static final Path DEFAULT_BIRD_SOCKET = Path.of("/run/bird/bird.ctl");
    public static final int DEFAULT_DRAIN_SECONDS = 2;

    /** --announce-table: the ECMP profile, when given. */
    public Optional<Announce> announce() {
        return Optional.ofNullable(announce);
    }

    /**
     * Parses the command line.
     *
     * @throws UsageException one line naming the bad flag or value and what was expected
     */
    public static ForwarderCommandLine parse(String... args) throws UsageException {
        List<Attach> attachments = new ArrayList<>();
        List<String> lans = new ArrayList<>();
        Map<Integer, List<String>> arpOn = new LinkedHashMap<>();
        Path config = null;
        Path keepalived = null;
        InetSocketAddress metrics = DEFAULT_METRICS;
        int connMax = DEFAULT_CONN_MAX;
        int connMax6 = 0;
        int ringMemoryMib = DEFAULT_RING_MEMORY_MIB;
        boolean kernelIngressDrop = true;
        int[] lports = {LocalPorts.DEFAULT_LOW, LocalPorts.DEFAULT_HIGH};
        boolean expireNodest = false;
        boolean expireQuiescent = false;
        boolean sloppyTcp = false;
        io.jvs.forwarder.conn.DefenseSettings d0 = io.jvs.forwarder.conn.DefenseSettings.OFF;
        int dropEntry = d0.dropEntry();
        int dropPacket = d0.dropPacket();
        int secureTcp = d0.secureTcp();
        int amemthresh = d0.amemthresh();
        int amDroprate = d0.amDroprate();
        String control = null;
        InetSocketAddress controlHttp = null;
        Path controlTokenFile = null;
        Path metricsTlsCert = null;
        Path metricsTlsKey = null;
        Path synProxyKey = null;
        Path saveTo = null;
        String user = null;
        String controlGroup = null;
        int announceTable = 0;
        String announceDevice = DEFAULT_ANNOUNCE_DEVICE;
        Path birdSocket = DEFAULT_BIRD_SOCKET;
        int drainSeconds = DEFAULT_DRAIN_SECONDS;
        int mhTableSize = MaglevHashingScheduler.DEFAULT_TABLE_SIZE;
        int workers = 0; // 0: not given
        Set<String> seen = new HashSet<>();

        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                return new ForwarderCommandLine(Action.HELP, null, null, null, null, null, 0, 0, 0);
            }
            if (arg.equals("--version")) {
                return new ForwarderCommandLine(Action.VERSION, null, null, null, null, null, 0, 0, 0);
            }
            if (!arg.startsWith("-")) {
                throw new UsageException("unexpected argument \"" + arg + "\" (all settings are --flags)");
            }
            String flag = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 2) {
                flag = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (!FLAGS.contains(flag)) {
                throw new UsageException("unknown option \"" + flag + "\" (see --help)");
            }
            if (!seen.add(flag) && !REPEATABLE.contains(flag)) {
                throw new UsageException(flag + " given twice");
            }
            if (value == null) {
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new UsageException(flag + " needs a value: " + expected(flag));
                }
                value = args[++i];
            }
            switch (flag) {
                case "--attach" -> {
                    Attach a = attach(value);
                    if (attachments.stream().anyMatch(o -> o.kind() == a.kind() && o.name().equals(a.name()))) {
                        throw new UsageException("--attach " + a + " given twice: one attachment per interface");
                    }
                    attachments.add(a);
                }
                case "--lan" -> {
                    String lan = interfaceName(flag, value);
                    if (lans.contains(lan)) {
                        throw new UsageException("--lan " + lan + " given twice: one port per interface");
                    }
                    lans.add(lan);
                }
                case "--arp-on" -> arpOn(value, arpOn);
                case "--config" -> config = path(flag, value);
                case "--keepalived" -> keepalived = path(flag, value);
                case "--control" -> control = path(flag, value).toString();
                case "--control-http" -> controlHttp = metricsAddress(flag, value);
                case "--control-token-file" -> controlTokenFile = path(flag, value);
                case "--save-to" -> saveTo = path(flag, value);
                case "--user" -> user = accountName(flag, value);
                case "--control-group" -> controlGroup = accountName(flag, value);
                case "--metrics" -> metrics = metricsAddress(flag, value);
                case "--metrics-tls-cert" -> metricsTlsCert = path(flag, value);
                case "--metrics-tls-key" -> metricsTlsKey = path(flag, value);
                case "--synproxy-key" -> synProxyKey = path(flag, value);
                case "--conn-max" -> connMax = number(flag, value, 1, MAX_CONN_MAX);
                case "--conn-max6" -> connMax6 = number(flag, value, 1, MAX_CONN_MAX);
                case "--ring-memory" -> ringMemoryMib = number(flag, value, MIN_RING_MEMORY_MIB, MAX_RING_MEMORY_MIB);
                case "--kernel-ingress-drop" -> kernelIngressDrop = number(flag, value, 0, 1) == 1;
                case "--lport-range" -> lports = portRange(flag, value);
                case "--workers" -> workers = number(flag, value, 1, MAX_WORKERS);
                case "--announce-table" -> {
                    announceTable = number(flag, value, 1, 252); // 253..255 are default, main, local
                }
                case "--announce-device" -> announceDevice = interfaceName(flag, value);
                case "--bird-socket" -> birdSocket = path(flag, value);
                case "--drain-time" -> drainSeconds = number(flag, value, 0, 3600);
                case "--expire-nodest-conn" -> expireNodest = number(flag, value, 0, 1) == 1;
                case "--expire-quiescent-template" -> expireQuiescent = number(flag, value, 0, 1) == 1;
                case "--sloppy-tcp" -> sloppyTcp = number(flag, value, 0, 1) == 1;
                case "--drop-entry" -> dropEntry = number(flag, value, 0, 3);
                case "--drop-packet" -> dropPacket = number(flag, value, 0, 3);
                case "--secure-tcp" -> secureTcp = number(flag, value, 0, 3);
                case "--amemthresh" -> amemthresh = number(flag, value, 0, MAX_CONN_MAX);
                case "--am-droprate" -> amDroprate = number(flag, value, 0, Integer.MAX_VALUE);
                // Named so that whoever looks for it learns why it is not there: the kernel has
                // sloppy_tcp and sloppy_sctp (INIT), and nothing for UDP, whose every datagram of
                // an unknown flow already opens a connection (jvs does not do SCTP).
                case "--sloppy-udp" -> throw new UsageException("--sloppy-udp: IPVS has no sloppy_udp "
                        + "(only sloppy_tcp and sloppy_sctp); every UDP datagram of an unknown flow is "
                        + "scheduled already, as in the kernel");
                case "--mh-table-size" -> {
                    mhTableSize = number(flag, value, 1, Integer.MAX_VALUE);
                    if (MaglevHashingScheduler.tableIndex(mhTableSize) < 0) {
                        throw new UsageException("--mh-table-size " + value + ": expected " + expected(flag));
                    }
                }
                default -> throw new AssertionError(flag);
            }
        }
        if (attachments.isEmpty()) {
            throw new UsageException("--attach is required: " + expected("--attach"));
        }
        Attach attach = attachments.getFirst();
        checkAttachments(attachments, lans, arpOn);
        if (!lans.isEmpty() && attach.kind() != AttachKind.TAP) {
            throw new UsageException("--lan is for --attach tap:NAME (packet mode sends on " + attach.name() + ")");
        }
        if (seen.contains("--kernel-ingress-drop") && attach.kind() != AttachKind.PACKET) {
            throw new UsageException("--kernel-ingress-drop is for --attach packet:IFACE (" + (attach.kind() == AttachKind.TAP
                    ? "in TAP mode the kernel routes the frames into the TAP" : "the XDP program already keeps them from the kernel")
                    + ")");
        }
        if (seen.contains("--ring-memory") && attach.kind() != AttachKind.PACKET) {
            throw new UsageException("--ring-memory is for --attach packet:IFACE (" + (attach.kind() == AttachKind.TAP
                    ? "a TAP device has no ring" : "an AF_XDP socket sizes its own rings") + ")");
        }
        int lportCount = lports[1] - lports[0] + 1;
        boolean workersGiven = workers != 0;
        if (workers == 0) {
            // the online CPUs, capped by the attachment: XDP one (a socket per rx queue) unless --workers
            // says more; a TAP run with --user
            // keeps no CAP_BPF to reload its steering program, so it stays single-queue
            workers = attach.kind() == AttachKind.XDP || (attach.kind() == AttachKind.TAP && user != null) ? 1
                    : Math.min(Runtime.getRuntime().availableProcessors(), Math.min(MAX_WORKERS, lportCount));
        } else if (workers > lportCount) {
            throw new UsageException("--workers " + workers + ": more than the " + lportCount + " ports of --lport-range"
                    + " (each worker owns a slice of them)");
        }
        if (user != null && workers > 1 && attach.kind() != AttachKind.PACKET) {
            // every configuration change loads a new steering (XDP) program, and bpf() needs CAP_BPF
            // (kernel.unprivileged_bpf_disabled), which no thread keeps after --user
            throw new UsageException("--user " + user + ": --attach " + attach + " with --workers " + workers
                    + " loads its " + (attach.kind() == AttachKind.TAP ? "TAP steering" : "XDP") + " program on every"
                    + " change, which needs CAP_BPF; run it as root or with --workers 1");
        }
        if (config != null && keepalived != null) {
            throw new UsageException("--config and --keepalived are exclusive: the services come from one file");
        }
        if ((metricsTlsCert == null) != (metricsTlsKey == null)) {
            throw new UsageException("--metrics-tls-cert and --metrics-tls-key go together (a PEM certificate"
                    + " chain and its private key)");
        }
        if (metricsTlsCert != null && metrics == null) {
            throw new UsageException("--metrics-tls-cert is for the metrics port, and --metrics is off");
        }
        if (announceTable == 0) {
            for (String f : List.of("--announce-device", "--bird-socket", "--drain-time")) {
                if (seen.contains(f)) {
                    throw new UsageException(f + " is for the ECMP profile, and --announce-table is not given");
                }
            }
        }
        ForwarderCommandLine o = new ForwarderCommandLine(Action.RUN, List.copyOf(attachments), List.copyOf(lans),
                config, keepalived, metrics, connMax, ringMemoryMib, mhTableSize);
        o.arpOn = Collections.unmodifiableMap(arpOn);
        o.control = control;
        o.controlHttp = controlHttp;
        o.controlTokenFile = controlTokenFile;
        o.metricsTlsCert = metricsTlsCert;
        o.metricsTlsKey = metricsTlsKey;
        o.synProxyKey = synProxyKey;
        o.saveTo = saveTo;
        o.user = user;
        o.controlGroup = controlGroup;
        o.workers = workers;
        o.workersGiven = workersGiven;
        o.connMax6 = connMax6;
        o.localPortLow = lports[0];
        o.localPortHigh = lports[1];
        o.expireNodestConn = expireNodest;
        o.expireQuiescentTemplate = expireQuiescent;
        o.sloppyTcp = sloppyTcp;
        o.kernelIngressDrop = kernelIngressDrop;
        o.defense = new io.jvs.forwarder.conn.DefenseSettings(dropEntry, dropPacket, secureTcp, amemthresh, amDroprate);
        o.announce = announceTable == 0 ? null
                : new Announce(announceTable, announceDevice, birdSocket, drainSeconds);
        return o;
    }

    /** A user or group name as the password and group databases take it (the lookup is Main's). */
    private static String accountName(String flag, String value) throws UsageException {
        if (value.isEmpty() || value.length() > 256 || value.chars().anyMatch(c -> c <= ' ' || c == ':' || c == '/')) {
            throw new UsageException(flag + " \"" + value + "\": expected " + expected(flag));
        }
        return value;
    }

    private static int[] portRange(String flag, String value) throws UsageException {
        int dash = value.indexOf('-');
        if (dash > 0) {
            try {
                int low = Integer.parseInt(value.substring(0, dash));
                int high = Integer.parseInt(value.substring(dash + 1));
                if (low >= 1 && high <= 65535 && low <= high) {
                    return new int[]{low, high};
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new UsageException(flag + " \"" + value + "\": expected " + expected(flag));
    }

    /** Flags that may be given more than once (each adds one). */
    /** rx queues an XDP attachment may name (the XSKMAP's size: io.XdpRedirect). */
    private static final int MAX_XDP_QUEUE = 64;
    private static final Set<String> REPEATABLE = Set.of("--attach", "--lan", "--arp-on");

    /** Most interfaces one director attaches to (ports of the data path: DataPathCounters.MAX_PORTS, a TAP included). */
    public static final int MAX_INTERFACES = DataPathCounters.MAX_PORTS - 1;

    private static final Set<String> FLAGS = Set.of("--attach", "--lan", "--arp-on", "--config", "--keepalived", "--metrics", "--metrics-tls-cert", "--metrics-tls-key", "--synproxy-key", "--conn-max", "--conn-max6",
            "--ring-memory", "--kernel-ingress-drop", "--mh-table-size", "--control", "--control-http", "--control-token-file", "--save-to",
            "--lport-range", "--workers", "--user", "--control-group", "--expire-nodest-conn", "--expire-quiescent-template", "--sloppy-tcp", "--sloppy-udp",
            "--drop-entry", "--drop-packet", "--secure-tcp", "--amemthresh", "--am-droprate",
            "--announce-table", "--announce-device", "--bird-socket", "--drain-time");

    private static String expected(String flag) {
        return switch (flag) {
            case "--attach" -> "packet:IFACE, tap:NAME or xdp:IFACE[:QUEUE]";
            case "--lan" -> "an interface name";
            case "--arp-on" -> "ADDR=IFACE (a VIP or local address and an attached interface)";
            case "--config" -> "a file of ipvsadm rules";
            case "--keepalived" -> "a keepalived.conf";
            case "--control" -> "the control socket's path";
            case "--control-http" -> "ADDR:PORT (e.g. 127.0.0.1:9120)";
            case "--control-token-file" -> "a file holding the control token";
            case "--metrics-tls-cert" -> "a PEM certificate (chain) file";
            case "--metrics-tls-key" -> "a PKCS#8 PEM private key file";
            case "--synproxy-key" -> "a file of at least 16 secret bytes (the SYN proxy's cookie key)";
            case "--save-to" -> "a file for the running configuration";
            case "--user" -> "a user name to run as once everything is open";
            case "--control-group" -> "a group name whose members may use the control socket";
            case "--metrics" -> "ADDR:PORT (e.g. 127.0.0.1:9110, [::1]:9110) or off";
            case "--conn-max", "--conn-max6" -> "a number of connections, 1.." + MAX_CONN_MAX;
            case "--ring-memory" -> "MiB, " + MIN_RING_MEMORY_MIB + ".." + MAX_RING_MEMORY_MIB;
            case "--lport-range" -> "LOW-HIGH within 1-65535, e.g. 1024-65535";
            case "--workers" -> "a number of workers, 1.." + MAX_WORKERS;
            case "--expire-nodest-conn", "--expire-quiescent-template", "--sloppy-tcp", "--sloppy-udp",
                    "--kernel-ingress-drop" -> "0 or 1";
            case "--drop-entry", "--drop-packet", "--secure-tcp" -> "0, 1, 2 or 3 (off, automatic, automatic and on, always)";
            case "--amemthresh" -> "a number of free connection-table entries, 0.." + MAX_CONN_MAX;
            case "--am-droprate" -> "a rate 0..2147483647 (one new connection in N dropped)";
            case "--announce-table" -> "a kernel routing table number, 1..252";
            case "--announce-device" -> "an interface name (the TUN device the announcement routes use)";
            case "--bird-socket" -> "the path of BIRD's control socket";
            case "--drain-time" -> "seconds, 0..3600";
            case "--mh-table-size" -> "one of the kernel's mh table primes "
                    + Arrays.toString(MaglevHashingScheduler.TABLE_SIZES).replace(" ", "");
            default -> throw new AssertionError(flag);
        };
    }

    /**
     * Which attachments mix: several packet:IFACE (each interface receives and sends), or
     * one tap:NAME with one or more --lan (the kernel receives on the interfaces and routes
     * into the TAP; jvs sends by the --lan interfaces). Not two TAPs (the one TAP carries
     * everything routed to jvs) and not a TAP with packet attachments (the kernel would
     * receive on an interface jvs also reads: every frame handled twice).
     */
    private static void checkAttachments(List<Attach> attachments, List<String> lans,
                                         Map<Integer, List<String>> arpOn) throws UsageException {
        Attach first = attachments.getFirst();
        for (Attach a : attachments) {
            if (a.kind() != first.kind() && (a.kind() == AttachKind.XDP || first.kind() == AttachKind.XDP)) {
                throw new UsageException("--attach " + first + " and --attach " + a + " do not mix: every"
                        + " attachment of a director is xdp:, or none is");
            }
        }
        long taps = attachments.stream().filter(a -> a.kind() == AttachKind.TAP).count();
        if (taps > 0 && taps < attachments.size()) {
            throw new UsageException("--attach " + attachments.stream().filter(a -> a.kind() == AttachKind.TAP)
                    .findFirst().orElseThrow() + " and --attach " + attachments.stream()
                    .filter(a -> a.kind() == AttachKind.PACKET).findFirst().orElseThrow()
                    + " do not mix: in TAP mode name the interfaces frames leave by with --lan IFACE");
        }
        if (taps > 1) {
            throw new UsageException("--attach " + attachments.get(1) + ": one tap:NAME only (it carries all "
                    + "traffic routed to jvs); name the interfaces frames leave by with --lan IFACE");
        }
        if (first.kind() == AttachKind.TAP && lans.contains(first.name())) {
            throw new UsageException("--lan " + first.name() + " is the TAP device itself: --lan names an interface"
                    + " frames leave by");
        }
        List<String> interfaces = first.kind() == AttachKind.TAP ? lans
                : attachments.stream().map(Attach::name).toList();
        if (interfaces.size() > MAX_INTERFACES) {
            throw new UsageException((first.kind() == AttachKind.TAP ? "--lan" : "--attach") + " given "
                    + interfaces.size() + " times: at most " + MAX_INTERFACES + " interfaces");
        }
        for (Map.Entry<Integer, List<String>> e : arpOn.entrySet()) {
            for (String iface : e.getValue()) {
                if (!interfaces.contains(iface)) {
                    throw new UsageException("--arp-on " + Ipv4Address.toString(e.getKey()) + "=" + iface + ": "
                            + iface + " is not attached (" + (first.kind() == AttachKind.TAP
                            ? "--lan IFACE" : "--attach packet:IFACE") + ")");
                }
            }
        }
    }

    /** --arp-on ADDR=IFACE: adds IFACE to ADDR's interfaces (a repeat of the same pair is an error). */
    private static void arpOn(String value, Map<Integer, List<String>> arpOn) throws UsageException {
        int eq = value.indexOf('=');
        if (eq < 0) {
            throw new UsageException("--arp-on \"" + value + "\": expected " + expected("--arp-on"));
        }
        int addr;
        try {
            addr = Ipv4Address.parse(value.substring(0, eq));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--arp-on \"" + value + "\": expected " + expected("--arp-on"));
        }
        String iface = interfaceName("--arp-on", value.substring(eq + 1));
        List<String> ifaces = arpOn.computeIfAbsent(addr, a -> new ArrayList<>());
        if (ifaces.contains(iface)) {
            throw new UsageException("--arp-on " + value + " given twice");
        }
        ifaces.add(iface);
    }

    private static Attach attach(String value) throws UsageException {
        int colon = value.indexOf(':');
        String kind = colon < 0 ? value : value.substring(0, colon);
        AttachKind k = switch (kind) {
            case "packet" -> AttachKind.PACKET;
            case "tap" -> AttachKind.TAP;
            case "xdp" -> AttachKind.XDP;
            default -> throw new UsageException("--attach \"" + value + "\": expected " + expected("--attach"));
        };
        if (colon < 0) {
            throw new UsageException("--attach \"" + value + "\": expected " + expected("--attach"));
        }
        String rest = value.substring(colon + 1);
        int queue = k == AttachKind.XDP ? Attach.EVERY_QUEUE : 0;
        int qColon = rest.indexOf(':');
        if (k == AttachKind.XDP && qColon >= 0) {
            String q = rest.substring(qColon + 1);
            try {
                queue = q.matches("[0-9]{1,3}") ? Integer.parseInt(q) : -1;
            } catch (NumberFormatException e) {
                queue = -1;
            }
            if (queue < 0 || queue >= MAX_XDP_QUEUE) {
                throw new UsageException("--attach \"" + value + "\": queue \"" + q + "\" is not a number from 0 to "
                        + (MAX_XDP_QUEUE - 1));
            }
            rest = rest.substring(0, qColon);
        }
        return new Attach(k, interfaceName("--attach " + kind + ":", rest), queue);
    }

    /** A Linux interface name as dev_valid_name() accepts it. */
    private static String interfaceName(String what, String name) throws UsageException {
        boolean ok = !name.isEmpty() && name.length() < 16 && !name.equals(".") && !name.equals("..")
                && name.chars().allMatch(c -> c > ' ' && c < 0x7f && c != '/' && c != ':');
        if (!ok) {
            throw new UsageException(what + (what.endsWith(":") ? "" : " ") + "\"" + name
                    + "\": not an interface name (1-15 characters, no '/', ':' or spaces)");
        }
        return name;
    }

    private static Path path(String flag, String value) throws UsageException {
        if (value.isEmpty()) {
            throw new UsageException(flag + " needs a value: " + expected(flag));
        }
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new UsageException(flag + " \"" + value + "\": not a file name (" + e.getReason() + ")");
        }
    }

    private static InetSocketAddress metricsAddress(String flag, String value) throws UsageException {
        if (value.equals("off") && flag.equals("--metrics")) {
            return null;
        }
        String bad = flag + " \"" + value + "\": expected " + expected(flag);
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new UsageException(bad);
        }
        String host = value.substring(0, colon);
        Integer port = parseInt(value.substring(colon + 1), 1, 65535);
        if (port == null) {
            throw new UsageException(flag + " \"" + value + "\": port must be 1..65535");
        }
        InetAddress addr;
        try {
            if (host.startsWith("[") && host.endsWith("]")) {
                addr = InetAddress.ofLiteral(host.substring(1, host.length() - 1));
                if (addr.getAddress().length != 16) {
                    throw new UsageException(bad);
                }
            } else {
                int v4 = Ipv4Address.parse(host);
                addr = InetAddress.getByAddress(new byte[]{
                        (byte) (v4 >>> 24), (byte) (v4 >>> 16), (byte) (v4 >>> 8), (byte) v4});
            }
        } catch (IllegalArgumentException | UnknownHostException e) {
            throw new UsageException(bad);
        }
        return new InetSocketAddress(addr, port);
    }

    private static int number(String flag, String value, int min, int max) throws UsageException {
        Integer v = parseInt(value, min, max);
        if (v == null) {
            throw new UsageException(flag + " \"" + value + "\": expected " + expected(flag));
        }
        return v;
    }

    private static Integer parseInt(String s, int min, int max) {
        if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        long v = Long.parseLong(s);
        return v < min || v > max ? null : (int) v;
    }

    /** "jvs-forwarder 0.1.0 (Java 25.0.3)"; "development build" when not run from a versioned jar. */
    public static String version() {
        String v = ForwarderCommandLine.class.getPackage().getImplementationVersion();
        return PROGRAM + " " + (v == null ? "development build" : v) + " (Java " + Runtime.version() + ")";
    }

    /** The --help text. */
    public static String usage() {
        return """
                Usage: %1$s --attach packet:IFACE... | --attach tap:NAME --lan IFACE... [options]
                       %1$s --attach xdp:IFACE[:QUEUE]... [options]

                jvs director: load-balances the virtual services of --config across their
                real servers, as Linux Virtual Server (IPVS) does, in userspace.

                Attachment (required):
                  --attach packet:IFACE   receive and send on interface IFACE (AF_PACKET rings);
                                          repeat for each interface (e.g. external and internal)
                  --attach tap:NAME       receive on TAP device NAME (once; the kernel routes
                                          VIP traffic and NAT replies into it)
                  --attach xdp:IFACE[:QUEUE]  receive and send on IFACE's rx queue QUEUE
                                          (default: every rx queue) through an XDP program
                                          and AF_XDP sockets (driver-mode XDP, one socket
                                          per queue and worker); repeat for each interface
                  --lan IFACE             TAP mode: an interface frames leave by and ARP is
                                          answered on; repeat for each (not with packet:)
                  --arp-on ADDR=IFACE     answer ARP for VIP or local address ADDR on IFACE
                                          (repeatable); default: the interface whose route
                                          covers ADDR, every interface when none does

                Options:
                  --config FILE           services, real servers and timeouts as ipvsadm rules
                                          (ipvsadm-save -n output works); none = no services
                  --keepalived FILE       services and health checks from a keepalived.conf
                                          (virtual_server blocks; not with --config)
                  --metrics ADDR:PORT     Prometheus endpoint, http://ADDR:PORT/metrics, the
                                          status page (/) and the web console (/console)
                                          (default 127.0.0.1:9110; "off" disables it)
                  --metrics-tls-cert FILE  serve that port over HTTPS: PEM certificate chain
                  --metrics-tls-key FILE   and its PKCS#8 PEM private key
                  --control PATH          control socket for jvsadm (default $JVS_CONTROL, else
                                          /run/jvs/control.sock; /run/jvs/NETNS/control.sock
                                          inside a named network namespace)
                  --control-http ADDR:PORT  HTTP control API (POST /v1/jvsadm), bearer token
                                          from --control-token-file or $JVS_CONTROL_TOKEN
                  --control-token-file FILE  the control token: the HTTP API's bearer token and
                                          the web console's login (without a token the
                                          console is read-only)
                  --save-to FILE          save the running configuration here on every change
                                          (jvsadm -S form); loaded at start when it exists
                  --user NAME             once its sockets, rings and TAP are open, run as this
                                          user, keeping only CAP_NET_ADMIN (routes for new VIPs
                                          in TAP mode, the namespace undo at exit), with
                                          no_new_privs (the --save-to directory must be its)
                  --control-group NAME    the control socket belongs to this group, mode 0660:
                                          its members may run jvsadm (default: root only, 0600)
                  --conn-max N            connection table size, 1..%2$d (default %3$d)
                  --conn-max6 N           IPv6 connection table size (default --conn-max / 16,
                                          at least 1024)
                  --ring-memory MIB       packet mode: RX ring memory per interface and
                                          worker, %4$d..%5$d (default %6$d: 16384 frames at MTU 1500)
                  --kernel-ingress-drop 0|1  packet mode: keep the kernel's IP stack from
                                          receiving the frames jvs forwards for its VIPs
                                          and local addresses (default 1; a tcx program)
                  --lport-range LOW-HIGH  FULLNAT: local ports per local address
                                          (default 1024-65535)
                  --workers N             data-path event loops, each with its own ring per
                                          interface (one PACKET_FANOUT group) and tables;
                                          packet and tap 1..256 (default: online CPUs; tap
                                          with --user 1; more than 1: one TAP queue each), xdp
                                          1..256 (default 1; its program picks the worker)
                  --expire-nodest-conn 0|1  IPVS sysctl: expire a removed server's connections on
                                          their next packet (default 0: drop those packets)
                  --expire-quiescent-template 0|1  IPVS sysctl: drop persistence templates of
                                          weight-0 servers (default 0: persistence keeps them)
                  --sloppy-tcp 0|1        IPVS sysctl: any TCP segment but a RST may open a
                                          connection, not only a SYN, so a restarted or new
                                          director keeps DR/TUN/NAT flows on their server with a
                                          consistent-hash scheduler (mh, sh, dh); services with
                                          a FULLNAT server are exempt (default 0)
                  --drop-entry 0..3       IPVS sysctl, SYN flood defence: while on, every second
                                          drop the embryonic (SYN_RECV, SYNACK) entries among a
                                          random 1/32 of the table; 1 = on while fewer than
                                          --amemthresh entries are free (then 2), 3 = always
                  --drop-packet 0..3      IPVS sysctl: while on, refuse one new connection in
                                          amemthresh/(amemthresh-free) (level 3: --am-droprate)
                  --secure-tcp 0..3       IPVS sysctl: while on, TCP uses the kernel's
                                          tcp_states_dos tables
                  --amemthresh N          the automatic levels' trigger: free connection-table
                                          entries (default 1024)
                  --am-droprate N         --drop-packet 3's rate (default 10)
                                          (whatever these say, a full table gives up its oldest
                                          embryonic entry for a new connection, never another)
                  --synproxy-key FILE     the SYN proxy's cookie key, derived from the file's
                                          bytes (at least 16): give the directors of a VRRP
                                          pair or an ECMP group the same file (default: a
                                          random key per start)
                  --mh-table-size PRIME   slots of each mh (Maglev) scheduler table: 251 509 1021
                                          2039 4093 8191 16381 32749 65521 131071 (default 4093)

                ECMP profile (N active directors behind a router's multipath, announced by BIRD):
                  --announce-table N      keep a /32 route for every VIP this director serves (a
                                          /128 for an IPv6 one) in kernel table N (1..252, proto
                                          77, dev --announce-device) for BIRD's kernel protocols
                                          to learn and export over BGP; refuses NAT services; ARP
                                          and NDP for VIPs are left unanswered
                  --announce-device NAME  the TUN device of those routes (default jvs-announce):
                                          the kernel deletes it and its routes when jvs dies
                  --bird-socket PATH      BIRD's control socket: must answer at start; BGP and BFD
                                          state for the metrics (default /run/bird/bird.ctl)
                  --drain-time SECONDS    on SIGTERM: withdraw the routes, keep forwarding this
                                          long, then exit (0..3600, default 2)
                  -h, --help              print this help and exit
                  --version               print the version and exit

                Config file lines:
                  -A -t|-u VIP:PORT [-s SCHEDULER]                          (default scheduler wlc)
                  -a -t|-u VIP:PORT -r RIP[:PORT] [-g|-m|-i] [-w WEIGHT] [-x UPPER] [-y LOWER]
                     -i [--tun-type ipip|gue --tun-port N [--tun-csum]] | --fullnat
                  -A ... --laddr LIP[,LIP...] [--client-addr none|toa|proxy]   (FULLNAT)
                  --set TCP TCPFIN UDP                                      (seconds; 0 keeps)
                  --state-timeout STATE SECONDS                             (e.g. time_wait 2)
                  (every jvsadm command that changes the configuration; see jvsadm -h)

                SIGHUP re-reads --config and applies the difference.
                """.formatted(PROGRAM, MAX_CONN_MAX, DEFAULT_CONN_MAX, MIN_RING_MEMORY_MIB, MAX_RING_MEMORY_MIB,
                DEFAULT_RING_MEMORY_MIB);
    }

    @Override
    public String toString() {
        return switch (action) {
            case HELP -> "--help";
            case VERSION -> "--version";
            case RUN -> String.join(" ", attachments.stream().map(a -> "--attach " + a).toList())
                    + String.join("", lans.stream().map(l -> " --lan " + l).toList())
                    + String.join("", arpOn.entrySet().stream().flatMap(e -> e.getValue().stream()
                            .map(i -> " --arp-on " + Ipv4Address.toString(e.getKey()) + "=" + i)).toList())
                    + (config == null ? "" : " --config " + config)
                    + " --metrics " + (metrics == null ? "off" : metricsText(metrics))
                    + " --conn-max " + connMax
                    + (connMax6 == 0 ? "" : " --conn-max6 " + connMax6)
                    + (attach().kind() == AttachKind.PACKET ? " --ring-memory " + ringMemoryMib : "")
                    + (mhTableSize == MaglevHashingScheduler.DEFAULT_TABLE_SIZE ? ""
                    : " --mh-table-size " + mhTableSize);
        };
    }

    private static String metricsText(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
