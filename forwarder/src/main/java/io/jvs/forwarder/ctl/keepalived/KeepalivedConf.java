package io.jvs.forwarder.ctl.keepalived;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.ctl.keepalived.KeepalivedReader.Node;
import io.jvs.forwarder.health.CheckSpec;
import io.jvs.forwarder.health.HealthConfig;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.vrrp.VrrpConfig;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * keepalived.conf as jvs runs it: the {@code virtual_server} and
 * {@code virtual_server_group} blocks become the director's
 * {@link ServiceConfig} (every real server in, with its configured weight)
 * plus the {@link HealthConfig} that the health checker drives from there;
 * {@code global_defs { lvs_timeouts ... }} becomes the connection timeouts.
 *
 * <p>Defaults are keepalived 2.x's (check/check_parser.c, check/check_api.c):
 * {@code delay_loop} 60 s, {@code connect_timeout} 5 s, {@code retry} 1
 * (MISC_CHECK 0), {@code delay_before_retry} 1 s (HTTP_GET/SSL_GET 3 s),
 * {@code misc_timeout} = delay_loop, a bare {@code persistence_timeout} 360 s
 * (IPVS_SVC_PERSISTENT_TIMEOUT), {@code quorum} 1, {@code hysteresis} 0,
 * {@code weight} 1, {@code protocol} TCP, {@code lvs_sched} wlc, {@code lvs_method}
 * NAT (keepalived's own default). Durations take decimals ({@code delay_loop 0.5}).
 * Checker settings are looked up checker, then real_server, then virtual_server.
 *
 * <p>{@code vrrp_instance} and {@code vrrp_sync_group} (with {@code global_defs { vrrp_version }})
 * become the {@link VrrpConfig} the director's VRRP router runs ({@link VrrpMapper}).
 *
 * <p>Keywords jvs does not act on ({@code global_defs} pieces, {@code vrrp_script},
 * {@code static_ipaddress}, SMTP alerts, checkers other than the four...) are
 * collected with their lines in {@link #ignored()} (to be reported once at
 * start). Anything malformed in what jvs does act on is a {@link ConfigException}
 * naming file and line. Nothing is returned half-parsed.
 *
 * @param config  the services, all real servers in at their configured weights
 * @param health  what to check and what failures do
 * @param vrrp    the VRRP instances and sync groups ({@link VrrpConfig#NONE} when there are none)
 * @param ignored "keyword (file:line)" for every statement jvs skipped, in file order
 * @param syncDaemon global_defs' {@code lvs_sync_daemon}, null without one
 */
public record KeepalivedConf(ServiceConfig config, HealthConfig health, VrrpConfig vrrp, List<String> ignored,
                             LvsSyncDaemon syncDaemon) {

    static final long DEFAULT_DELAY_LOOP_MS = 60_000;
    static final long DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
    static final int DEFAULT_RETRY = 1;
    static final int DEFAULT_MISC_RETRY = 0;
    static final long DEFAULT_DELAY_BEFORE_RETRY_MS = 1_000;
    static final long DEFAULT_HTTP_DELAY_BEFORE_RETRY_MS = 3_000;
    /** IPVS_SVC_PERSISTENT_TIMEOUT: keepalived's bare persistence_timeout, seconds. */
    public static final int DEFAULT_PERSISTENCE_TIMEOUT = 360;

    public KeepalivedConf {
        ignored = List.copyOf(ignored);
    }

    /** Reads {@code file} (and its includes), checking schedulers with {@link Schedulers#create}. */
    public static KeepalivedConf load(Path file) throws ConfigException {
        return load(file, Schedulers::create);
    }

    public static KeepalivedConf load(Path file, SchedulerFactory schedulers) throws ConfigException {
        return new Mapper(schedulers).map(KeepalivedReader.read(file));
    }

    /** One line for the log, or "" when nothing was ignored: "ignored (not implemented by jvs): KEYWORD (FILE:LINE), ...". */
    public String ignoredReport() {
        return ignored.isEmpty() ? "" : "keepalived.conf: ignored (not implemented by jvs): " + String.join(", ", ignored);
    }

    // ================================================================ mapping

    /** Checker settings given at one level (null = not given there). */
    private static final class Timing {
        Long delayLoop;
        Long connectTimeout;
        Integer retry;
        Long delayBeforeRetry;
        Boolean alpha;

        Timing over(Timing outer) {
            Timing t = new Timing();
            t.delayLoop = delayLoop != null ? delayLoop : outer.delayLoop;
            t.connectTimeout = connectTimeout != null ? connectTimeout : outer.connectTimeout;
            t.retry = retry != null ? retry : outer.retry;
            t.delayBeforeRetry = delayBeforeRetry != null ? delayBeforeRetry : outer.delayBeforeRetry;
            t.alpha = alpha != null ? alpha : outer.alpha;
            return t;
        }

        CheckSpec.Timing resolve(int defaultRetry, long defaultDelayBeforeRetry) {
            return new CheckSpec.Timing(delayLoop != null ? delayLoop : DEFAULT_DELAY_LOOP_MS,
                    connectTimeout != null ? connectTimeout : DEFAULT_CONNECT_TIMEOUT_MS,
                    retry != null ? retry : defaultRetry,
                    delayBeforeRetry != null ? delayBeforeRetry : defaultDelayBeforeRetry,
                    alpha != null && alpha);
        }

        /** True when {@code n} is a timing keyword (and records it). */
        boolean take(Node n, Mapper m) throws ConfigException {
            switch (n.keyword()) {
                case "delay_loop" -> delayLoop = m.millis(n, true);
                case "connect_timeout" -> connectTimeout = m.millis(n, true);
                case "retry", "nb_get_retry" -> retry = m.integer(n, 0, Integer.MAX_VALUE);
                case "delay_before_retry" -> delayBeforeRetry = m.millis(n, false);
                case "alpha" -> {
                    m.noArgs(n);
                    alpha = true;
                }
                default -> {
                    return false;
                }
            }
            return true;
        }
    }

    /** A virtual_server_group entry: IPv4 addresses in firstAddr..lastAddr, or IPv6 ones in first6..last6. */
    private record GroupEntry(int firstAddr, int lastAddr, int port, int fwmark, Ipv6Address first6,
                              Ipv6Address last6) {
        GroupEntry(int firstAddr, int lastAddr, int port, int fwmark) {
            this(firstAddr, lastAddr, port, fwmark, null, null);
        }

        static GroupEntry of(Ip first, Ip last, int port) {
            return new GroupEntry(first.v4(), last.v4(), port, 0, first.v6(), last.v6());
        }
    }

    /** An address of either family as keepalived.conf writes it: IPv4, or IPv6 when {@code v6} is non-null. */
    record Ip(int v4, Ipv6Address v6) {
    }

    private static final Set<String> IGNORED_CHECKERS = Set.of("SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK",
            "FILE_CHECK", "BFD_CHECK", "track_file");

    static final class Mapper {
        private final SchedulerFactory schedulers;
        private final List<String> ignored = new ArrayList<>();
        private final Map<String, List<GroupEntry>> groups = new HashMap<>();
        private final Map<String, Node> serviceAt = new LinkedHashMap<>();
        private final List<ServiceSpec> services = new ArrayList<>();
        private final List<HealthConfig.Service> health = new ArrayList<>();
        private TimeoutSettings timeouts = TimeoutSettings.DEFAULTS;
        private final VrrpMapper vrrp = new VrrpMapper(this);
        private LvsSyncDaemon syncDaemon;
        private Node syncDaemonAt;

        Mapper(SchedulerFactory schedulers) {
            this.schedulers = schedulers;
        }

        KeepalivedConf map(List<Node> top) throws ConfigException {
            for (Node n : top) {
                if (n.keyword().equals("virtual_server_group")) {
                    group(n);
                }
            }
            for (Node n : top) {
                if (n.keyword().equals("global_defs") && n.hasBlock()) {
                    for (Node g : n.children()) {
                        if (g.keyword().equals("vrrp_version")) {
                            vrrp.defaultVersion(g);
                        }
                    }
                }
            }
            for (Node n : top) {
                switch (n.keyword()) {
                    case "virtual_server_group" -> { }
                    case "virtual_server" -> virtualServer(n);
                    case "global_defs" -> globalDefs(n);
                    case "vrrp_instance" -> vrrp.instance(n);
                    case "vrrp_sync_group" -> vrrp.syncGroup(n);
                    default -> ignore(n);
                }
            }
            VrrpConfig vrrpConfig = vrrp.build();
            if (syncDaemon != null && vrrpConfig.instances().stream()
                    .noneMatch(i -> i.name().equals(syncDaemon.instance()))) {
                // keepalived only logs this and runs no sync daemon; jvs refuses to start half-configured
                throw err(syncDaemonAt, "lvs_sync_daemon: no vrrp_instance " + syncDaemon.instance()
                        + " (the sync role follows that instance's state)");
            }
            return new KeepalivedConf(new ServiceConfig(services, List.of(), timeouts), new HealthConfig(health),
                    vrrpConfig, ignored, syncDaemon);
        }

        void ignore(Node n) {
            String what = n.keyword() + (n.args().isEmpty() || !n.hasBlock() ? "" : " " + n.args().getFirst());
            ignored.add(what + " (" + n.where() + ")");
        }

        // ------------------------------------------------------------ global_defs

        void globalDefs(Node g) throws ConfigException {
            requireBlock(g);
            for (Node n : g.children()) {
                if (n.keyword().equals("vrrp_version")) {
                    continue; // read before everything else (VrrpMapper.defaultVersion)
                }
                if (n.keyword().equals("lvs_sync_daemon")) {
                    syncDaemon = lvsSyncDaemon(n);
                    syncDaemonAt = n;
                    continue;
                }
                if (!n.keyword().equals("lvs_timeouts")) {
                    ignore(n);
                    continue;
                }
                int tcp = 0;
                int tcpFin = 0;
                int udp = 0;
                List<String> a = n.args();
                if (a.isEmpty() || a.size() % 2 != 0) {
                    throw err(n, "lvs_timeouts expects pairs: tcp SECONDS tcpfin SECONDS udp SECONDS");
                }
                for (int i = 0; i < a.size(); i += 2) {
                    int v = parseInt(n, a.get(i + 1), 1, TimeoutSettings.MAX_SECONDS, "lvs_timeouts " + a.get(i));
                    switch (a.get(i)) {
                        case "tcp" -> tcp = v;
                        case "tcpfin" -> tcpFin = v;
                        case "udp" -> udp = v;
                        default -> throw err(n, "lvs_timeouts: unknown \"" + a.get(i) + "\" (expected tcp, tcpfin or udp)");
                    }
                }
                timeouts = new TimeoutSettings(tcp, tcpFin, udp, Map.of());
            }
        }

        /**
         * keepalived's lvs_syncd_handler: INTERFACE VRRP_INSTANCE, then the optional keyword pairs
         * (id 0-255, maxlen 1-65507, port 1-65535, ttl 1-255, group IPv4 multicast); a bare number
         * third is the old form of the id.
         */
        LvsSyncDaemon lvsSyncDaemon(Node n) throws ConfigException {
            List<String> a = n.args();
            if (a.size() < 2) {
                throw err(n, "lvs_sync_daemon needs an interface and a VRRP instance"
                        + " (lvs_sync_daemon IF INSTANCE [id N] [maxlen L] [port P] [ttl T] [group A])");
            }
            if (a.getFirst().length() > 15) {
                throw err(n, "lvs_sync_daemon: interface name \"" + a.getFirst() + "\" is longer than 15 characters");
            }
            int id = -1;
            int maxLen = 0;
            int port = 0;
            int ttl = 0;
            int group = 0;
            int i = 2;
            if (i < a.size() && !a.get(i).isEmpty() && Character.isDigit(a.get(i).charAt(0))) {
                id = parseInt(n, a.get(i++), 0, 255, "lvs_sync_daemon id");
            }
            for (; i < a.size(); i += 2) {
                String k = a.get(i);
                if (i + 1 >= a.size()) {
                    throw err(n, "lvs_sync_daemon: " + k + " needs a value");
                }
                String v = a.get(i + 1);
                switch (k) {
                    case "id" -> id = parseInt(n, v, 0, 255, "lvs_sync_daemon id");
                    case "maxlen" -> maxLen = parseInt(n, v, 1, 65535 - 20 - 8, "lvs_sync_daemon maxlen");
                    case "port" -> port = parseInt(n, v, 1, 65535, "lvs_sync_daemon port");
                    case "ttl" -> ttl = parseInt(n, v, 1, 255, "lvs_sync_daemon ttl");
                    case "group" -> {
                        try {
                            group = io.jvs.packet.Ipv4Address.parse(v);
                        } catch (IllegalArgumentException e) {
                            throw err(n, "lvs_sync_daemon group \"" + v + "\" is not an IPv4 address");
                        }
                        if ((group >>> 28) != 0xE) {
                            throw err(n, "lvs_sync_daemon group " + v + " is not a multicast address");
                        }
                    }
                    default -> throw err(n, "lvs_sync_daemon: unknown \"" + k
                            + "\" (expected id, maxlen, port, ttl or group)");
                }
            }
            return new LvsSyncDaemon(a.getFirst(), a.get(1), id, maxLen, port, ttl, group);
        }

        // ------------------------------------------------------------ virtual_server_group

        void group(Node g) throws ConfigException {
            requireBlock(g);
            if (g.args().size() != 1) {
                throw err(g, "virtual_server_group needs one name");
            }
            String name = g.args().getFirst();
            if (groups.containsKey(name)) {
                throw err(g, "virtual_server_group " + name + " defined twice");
            }
            List<GroupEntry> entries = new ArrayList<>();
            for (Node n : g.children()) {
                if (n.hasBlock()) {
                    throw err(n, "unexpected block in virtual_server_group " + name);
                }
                if (n.keyword().equals("fwmark")) {
                    if (n.args().size() != 1) {
                        throw err(n, "fwmark needs one mark");
                    }
                    entries.add(new GroupEntry(0, 0, 0, fwmark(n, n.args().getFirst())));
                    continue;
                }
                if (n.args().size() != 1) {
                    throw err(n, "group entry \"" + n.keyword() + "\": expected IP PORT, IP-LAST PORT or fwmark N");
                }
                String a = n.keyword();
                int dash = a.indexOf('-');
                Ip firstIp = ip(n, dash < 0 ? a : a.substring(0, dash));
                if (firstIp.v6() != null) {
                    // keepalived's inet_stor: an IPv6 range ends at a hex value of the last 16-bit group
                    Ipv6Address f = firstIp.v6();
                    Ipv6Address l = f;
                    if (dash >= 0) {
                        String end = a.substring(dash + 1);
                        int last16;
                        try {
                            last16 = end.isEmpty() || end.length() > 4 ? -1 : Integer.parseInt(end, 16);
                        } catch (NumberFormatException e) {
                            last16 = -1;
                        }
                        if (last16 < 0) {
                            throw err(n, "IPv6 address range end \"" + end + "\" is not a hex value 0..ffff");
                        }
                        if (last16 < (int) (f.lo() & 0xffff)) {
                            throw err(n, "address range " + a + " ends before it starts");
                        }
                        l = new Ipv6Address(f.hi(), (f.lo() & ~0xffffL) | last16);
                    }
                    entries.add(GroupEntry.of(firstIp, new Ip(0, l), port(n, n.args().getFirst(), true)));
                    continue;
                }
                int first = firstIp.v4();
                int last = first;
                if (dash >= 0) {
                    int lastOctet = parseInt(n, a.substring(dash + 1), 0, 255, "address range end");
                    last = (first & 0xffffff00) | lastOctet;
                    if (lastOctet < (first & 0xff)) {
                        throw err(n, "address range " + a + " ends before it starts");
                    }
                }
                entries.add(new GroupEntry(first, last, port(n, n.args().getFirst(), true), 0));
            }
            if (entries.isEmpty()) {
                throw err(g, "virtual_server_group " + name + " has no entries");
            }
            groups.put(name, entries);
        }

        // ------------------------------------------------------------ virtual_server

        void virtualServer(Node vs) throws ConfigException {
            requireBlock(vs);
            List<String> a = vs.args();
            List<GroupEntry> entries;
            String name;
            if (a.size() == 2 && a.get(0).equals("fwmark")) {
                entries = List.of(new GroupEntry(0, 0, 0, fwmark(vs, a.get(1))));
                name = "FWM " + Integer.toUnsignedString(entries.getFirst().fwmark());
            } else if (a.size() == 2 && a.get(0).equals("group")) {
                entries = groups.get(a.get(1));
                if (entries == null) {
                    throw err(vs, "virtual_server group " + a.get(1) + ": no virtual_server_group of that name");
                }
                name = "group " + a.get(1);
            } else if (a.size() == 2) {
                Ip addr = ip(vs, a.get(0));
                entries = List.of(GroupEntry.of(addr, addr, port(vs, a.get(1), true)));
                name = null;
            } else {
                throw err(vs, "virtual_server expects IP PORT, fwmark N or group NAME");
            }

            Timing timing = new Timing();
            String scheduler = ServiceSpec.DEFAULT_SCHEDULER;
            int schedFlags = 0;
            Method method = new Method(ForwardMethod.NAT, TunnelType.IPIP, 0, TunnelType.FLAG_NOCSUM);
            int persistTimeout = 0;
            int persistMask = -1;
            Integer granularity6 = null;
            boolean granularity = false;
            Boolean ipFamily6 = null;
            Node ipFamily = null;
            int proto = Protocol.TCP;
            boolean ops = false;
            boolean synProxy = false;
            long quorum = 1;
            long hysteresis = 0;
            boolean omega = false;
            boolean inhibit = false;
            Node sorry = null;
            boolean sorryInhibit = false;
            Method sorryMethod = null;
            List<String> quorumUp = List.of();
            List<String> quorumDown = List.of();
            String virtualHost = null;
            List<Node> realServers = new ArrayList<>();

            for (Node n : vs.children()) {
                if (timing.take(n, this)) {
                    continue;
                }
                switch (n.keyword()) {
                    case "lvs_sched", "lb_algo" -> {
                        scheduler = oneArg(n);
                        try {
                            schedulers.create(scheduler, 0, new RealServer[0]);
                        } catch (IllegalArgumentException e) {
                            throw err(n, "unknown scheduler \"" + scheduler + "\" (" + e.getMessage() + "; jvs has "
                                    + String.join(", ", Schedulers.NAMES) + ")");
                        }
                    }
                    case "lvs_method", "lb_kind" -> method = method(n);
                    case "persistence_timeout" -> persistTimeout = n.args().isEmpty() ? DEFAULT_PERSISTENCE_TIMEOUT
                            : parseInt(n, oneArg(n), 1, Integer.MAX_VALUE, "persistence_timeout");
                    case "ip_family" -> {
                        ipFamily = n;
                        ipFamily6 = switch (oneArg(n)) {
                            case "inet" -> false;
                            case "inet6" -> true;
                            default -> throw err(n, "unknown address family " + n.args().getFirst()
                                    + " (expected inet or inet6)");
                        };
                    }
                    case "persistence_granularity" -> {
                        granularity = true;
                        String g = oneArg(n);
                        if (!g.isEmpty() && g.length() <= 3 && g.chars().allMatch(Character::isDigit)) {
                            granularity6 = parseInt(n, g, 1, 128, "persistence_granularity (an IPv6 prefix length)");
                        } else {
                            persistMask = netmask(n, g);
                        }
                    }
                    case "protocol" -> proto = switch (oneArg(n).toUpperCase(Locale.ROOT)) {
                        case "TCP" -> Protocol.TCP;
                        case "UDP" -> Protocol.UDP;
                        default -> throw err(n, "protocol \"" + n.args().getFirst()
                                + "\" is not supported (expected TCP or UDP)");
                    };
                    case "ops" -> {
                        noArgs(n);
                        ops = true;
                    }
                    case "syn_proxy" -> { // DPVS's keepalived keyword (jvsadm --synproxy)
                        noArgs(n);
                        synProxy = true;
                    }
                    case "quorum" -> quorum = parseInt(n, oneArg(n), 0, Integer.MAX_VALUE, "quorum");
                    case "hysteresis" -> hysteresis = parseInt(n, oneArg(n), 0, Integer.MAX_VALUE, "hysteresis");
                    case "omega" -> {
                        noArgs(n);
                        omega = true;
                    }
                    case "inhibit_on_failure" -> {
                        noArgs(n);
                        inhibit = true;
                    }
                    case "sorry_server" -> sorry = n;
                    case "sorry_server_inhibit" -> {
                        noArgs(n);
                        sorryInhibit = true;
                    }
                    case "sorry_server_lvs_method" -> sorryMethod = method(n);
                    case "quorum_up" -> quorumUp = script(n);
                    case "quorum_down" -> quorumDown = script(n);
                    case "virtualhost" -> virtualHost = oneArg(n);
                    case "sh-port", "mh-port", "flag-2" -> schedFlags |= ServiceSpec.SCHED_FLAG_2;
                    case "sh-fallback", "mh-fallback", "flag-1" -> schedFlags |= ServiceSpec.SCHED_FLAG_1;
                    case "flag-3" -> schedFlags |= ServiceSpec.SCHED_FLAG_3;
                    case "real_server" -> realServers.add(n);
                    default -> ignore(n);
                }
            }

            // keepalived's pgr_handler: a granularity makes the service persistent (IPVS_SVC_PERSISTENT_TIMEOUT
            // unless persistence_timeout says otherwise), whichever of the two comes first.
            if (granularity && persistTimeout == 0) {
                persistTimeout = DEFAULT_PERSISTENCE_TIMEOUT;
            }
            int svcPort = entries.getFirst().fwmark() != 0 ? 0 : entries.getFirst().port();
            boolean anyFwmark = entries.stream().anyMatch(e -> e.fwmark() != 0);
            List<HealthConfig.RealServer> rsHealth = new ArrayList<>();
            List<ServiceSpec.Dest> dests = new ArrayList<>();
            for (Node rs : realServers) {
                HealthConfig.RealServer r = realServer(rs, method, svcPort, anyFwmark, timing, inhibit, virtualHost);
                for (ServiceSpec.Dest d : dests) {
                    if (d.sameEndpoint(r.dest())) {
                        throw err(rs, "real_server " + d.endpoint() + " given twice (Destination already exists)");
                    }
                }
                dests.add(r.dest());
                rsHealth.add(r);
            }
            ServiceSpec.Dest sorryDest = null;
            if (sorry != null) {
                if (sorry.args().isEmpty() || sorry.args().size() > 2) {
                    throw err(sorry, "sorry_server expects IP [PORT]");
                }
                Method m = sorryMethod != null ? sorryMethod : method;
                Ip addr = ip(sorry, sorry.args().get(0));
                int port = sorry.args().size() == 2 ? port(sorry, sorry.args().get(1), false) : svcPort;
                sorryDest = dest(sorry, addr, destPort(m.method, port, svcPort, anyFwmark), 1, m, 0, 0);
                boolean v6Service = entries.stream().anyMatch(e -> e.first6() != null);
                if (!anyFwmark && sorryDest.isIpv6() != v6Service && m.method != ForwardMethod.TUN) {
                    // checked here: the sorry server only joins the service when quorum is lost
                    throw err(sorry, "sorry_server " + sorryDest.endpoint()
                            + ": Different address family is allowed only for tunneling servers");
                }
                for (ServiceSpec.Dest d : dests) {
                    if (d.sameEndpoint(sorryDest)) {
                        throw err(sorry, "sorry_server " + d.endpoint() + " is also a real_server of this virtual_server");
                    }
                }
            }
            if (sorryInhibit && sorry == null) {
                throw err(vs, "sorry_server_inhibit without a sorry_server");
            }

            boolean anyV6 = entries.stream().anyMatch(e -> e.first6() != null);
            boolean anyV4 = entries.stream().anyMatch(e -> e.fwmark() == 0 && e.first6() == null);
            if (ipFamily6 != null && (ipFamily6 ? anyV4 : anyV6)) {
                throw err(ipFamily, "Virtual server specified family " + ipFamily.args().getFirst()
                        + " conflicts with server family");
            }
            boolean fwmark6 = anyFwmark && fwmarkFamilyIsIpv6(ipFamily6, granularity6, persistMask, dests, sorryDest);
            if (anyFwmark && persistMask != -1 && fwmark6) {
                throw err(vs, "persistence_granularity of an IPv6 virtual server is a prefix length 1..128");
            }
            if (anyFwmark && sorryDest != null && sorryDest.method() != ForwardMethod.TUN
                    && sorryDest.isIpv6() != fwmark6) {
                throw err(sorry, "sorry_server " + sorryDest.endpoint()
                        + ": Different address family is allowed only for tunneling servers");
            }
            if (granularity6 != null && (anyV4 || anyFwmark && !fwmark6)) {
                throw err(vs, "persistence_granularity " + granularity6 + " is an IPv6 prefix length; an IPv4"
                        + " virtual server takes a netmask (255.255.255.0)");
            }
            if (persistMask != -1 && anyV6) {
                throw err(vs, "persistence_granularity of an IPv6 virtual server is a prefix length 1..128");
            }
            List<String> labels = new ArrayList<>();
            // A granularity implies persistence (above), so every mask here belongs to a persistent service.
            int effectiveMask = persistTimeout > 0 ? persistMask : -1;
            int prefix6 = persistTimeout > 0 && granularity6 != null ? granularity6 : 128;
            for (GroupEntry e : entries) {
                if (e.fwmark() != 0) {
                    labels.add(add(vs, synProxy(vs, synProxy, spec(vs, 0, 0, null, 0, e.fwmark(), scheduler,
                            schedFlags, persistTimeout, fwmark6 ? prefix6 : effectiveMask, ops, dests,
                            fwmark6 ? Ipv6Address.UNSPECIFIED : null))));
                    continue;
                }
                List<ServiceSpec.Dest> own = new ArrayList<>(dests.size());
                for (ServiceSpec.Dest d : dests) {
                    own.add(HealthConfig.forServicePort(d, e.port()));
                }
                if (e.first6() != null) {
                    // persistence_granularity of an IPv6 service is a prefix length (keepalived, ipvsadm -M)
                    int prefix = prefix6;
                    for (long low = e.first6().lo(); Long.compareUnsigned(low, e.last6().lo()) <= 0; low++) {
                        labels.add(add(vs, synProxy(vs, synProxy, spec(vs, proto, 0,
                                new Ipv6Address(e.first6().hi(), low), e.port(), 0, scheduler, schedFlags,
                                persistTimeout, prefix, ops, own, null))));
                    }
                    continue;
                }
                for (long addr = e.firstAddr() & 0xffffffffL; addr <= (e.lastAddr() & 0xffffffffL); addr++) {
                    // spec(): what ServiceSpec refuses is a config error naming the virtual_server (port 0
                    // without persistence threw IllegalArgumentException out of load: KeepalivedFuzzTest)
                    labels.add(add(vs, synProxy(vs, synProxy, spec(vs, proto, (int) addr, null, e.port(), 0,
                            scheduler, schedFlags, persistTimeout, effectiveMask, ops, own, null))));
                }
            }
            health.add(new HealthConfig.Service(labels, name != null ? name : labels.getFirst(), rsHealth, sorryDest,
                    sorryInhibit, quorum, hysteresis, omega, quorumUp, quorumDown));
        }

        /**
         * A fwmark virtual_server's address family, as keepalived settles it (check_parser.c: ip_family,
         * pgr_handler, rs_end_handler, vs_end_handler): {@code ip_family} when given; else the form of
         * persistence_granularity (a netmask is IPv4, a prefix length IPv6); else the family of its
         * non-tunnelled real servers, then of a non-tunnelled sorry server; else, when every server is
         * tunnelled, their family if they all share one, and IPv4 otherwise. A non-tunnelled server of
         * the other family is then refused by the model ("Different address family ...").
         */
        static boolean fwmarkFamilyIsIpv6(Boolean ipFamily6, Integer granularity6, int persistMask,
                                          List<ServiceSpec.Dest> dests, ServiceSpec.Dest sorry) {
            if (ipFamily6 != null) {
                return ipFamily6;
            }
            if (granularity6 != null || persistMask != -1) {
                return granularity6 != null;
            }
            List<ServiceSpec.Dest> all = new ArrayList<>(dests);
            if (sorry != null) {
                all.add(sorry);
            }
            for (ServiceSpec.Dest d : all) {
                if (d.method() != ForwardMethod.TUN) {
                    return d.isIpv6();
                }
            }
            return !all.isEmpty() && all.stream().allMatch(ServiceSpec.Dest::isIpv6);
        }

        /** {@code syn_proxy}: refused, naming the real server, for DR and TUN (and UDP) services. */
        private ServiceSpec synProxy(Node vs, boolean on, ServiceSpec spec) throws ConfigException {
            if (!on) {
                return spec;
            }
            try {
                return spec.withSynProxy(true);
            } catch (IllegalArgumentException e) {
                throw err(vs, "syn_proxy: " + e.getMessage());
            }
        }

        /** An address or fwmark service of either family ({@code addr6} for IPv6), its model errors naming the node. */
        private ServiceSpec spec(Node vs, int proto, int addr, Ipv6Address addr6, int port, int fwmark, String scheduler,
                                 int schedFlags, int persistTimeout, int mask, boolean ops, List<ServiceSpec.Dest> dests,
                                 Ipv6Address fwmark6) throws ConfigException {
            try {
                return new ServiceSpec(proto, addr, port, fwmark, scheduler, schedFlags, persistTimeout, mask, ops,
                        List.of(), ClientAddressMode.NONE, dests, io.jvs.forwarder.service.ServiceTimeouts.GLOBAL,
                        false, io.jvs.forwarder.service.ClientPolicy.NONE, addr6 != null ? addr6 : fwmark6);
            } catch (IllegalArgumentException e) {
                throw err(vs, e.getMessage());
            }
        }

        private String add(Node vs, ServiceSpec spec) throws ConfigException {
            Node before = serviceAt.putIfAbsent(spec.label(), vs);
            if (before != null) {
                throw err(vs, spec.label() + " is already defined at " + before.where() + " (Service already exists)");
            }
            services.add(spec);
            return spec.label();
        }

        private ServiceSpec.Dest dest(Node n, Ip addr, int port, int weight, Method m, int upper, int lower)
                throws ConfigException {
            try {
                return new ServiceSpec.Dest(addr.v4(), port, weight, m.method, upper, lower, m.tunType, m.tunPort,
                        m.tunFlags, addr.v6());
            } catch (IllegalArgumentException e) {
                throw err(n, e.getMessage());
            }
        }

        /** ipvsadm's rule: a DR or TUN real server of an address service takes the service's port. */
        private static int destPort(ForwardMethod m, int port, int svcPort, boolean fwmark) {
            return !fwmark && (m == ForwardMethod.DR || m == ForwardMethod.TUN) ? svcPort : port;
        }

        // ------------------------------------------------------------ real_server

        HealthConfig.RealServer realServer(Node rs, Method vsMethod, int svcPort, boolean fwmark, Timing vsTiming,
                                           boolean vsInhibit, String virtualHost) throws ConfigException {
            if (rs.args().isEmpty() || rs.args().size() > 2) {
                throw err(rs, "real_server expects IP [PORT]");
            }
            Ip addr = ip(rs, rs.args().get(0));
            int port = rs.args().size() == 2 ? port(rs, rs.args().get(1), false) : svcPort;
            int weight = 1;
            int upper = 0;
            int lower = 0;
            boolean inhibit = vsInhibit;
            Method method = vsMethod;
            List<String> notifyUp = List.of();
            List<String> notifyDown = List.of();
            Timing timing = new Timing();
            List<Node> checkers = new ArrayList<>();
            for (Node n : rs.hasBlock() ? rs.children() : List.<Node>of()) {
                if (timing.take(n, this)) {
                    continue;
                }
                switch (n.keyword()) {
                    case "weight" -> weight = parseInt(n, oneArg(n), 0, 65535, "weight");
                    case "uthreshold" -> upper = parseInt(n, oneArg(n), 0, Integer.MAX_VALUE, "uthreshold");
                    case "lthreshold" -> lower = parseInt(n, oneArg(n), 0, Integer.MAX_VALUE, "lthreshold");
                    case "inhibit_on_failure" -> {
                        noArgs(n);
                        inhibit = true;
                    }
                    case "lvs_method" -> method = method(n);
                    case "notify_up" -> notifyUp = script(n);
                    case "notify_down" -> notifyDown = script(n);
                    case "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK" -> checkers.add(n);
                    default -> ignore(n);
                }
            }
            if (port == 0 && !fwmark) {
                throw err(rs, "real_server needs a port (the virtual server's is 0)");
            }
            Timing rsTiming = timing.over(vsTiming);
            int checkPort = port != 0 ? port : svcPort;
            List<CheckSpec> checks = new ArrayList<>();
            for (Node c : checkers) {
                checks.add(checker(c, addr, checkPort, rsTiming, virtualHost));
            }
            ServiceSpec.Dest d = dest(rs, addr, destPort(method.method, port, svcPort, fwmark), weight, method, upper, lower);
            return new HealthConfig.RealServer(d, checks, inhibit, notifyUp, notifyDown);
        }

        CheckSpec checker(Node c, Ip rsAddr, int rsPort, Timing rsTiming, String vsVirtualHost) throws ConfigException {
            Timing timing = new Timing();
            Ip addr = rsAddr;
            Integer port = null;
            List<CheckSpec.Url> urls = new ArrayList<>();
            String virtualHost = vsVirtualHost;
            List<String> misc = null;
            Long miscTimeout = null;
            boolean dynamic = false;
            String kind = c.keyword();
            boolean http = kind.equals("HTTP_GET") || kind.equals("SSL_GET");
            boolean isMisc = kind.equals("MISC_CHECK");
            for (Node n : c.hasBlock() ? c.children() : List.<Node>of()) {
                if (timing.take(n, this)) {
                    continue;
                }
                String k = n.keyword();
                if (!isMisc && k.equals("connect_ip")) {
                    addr = ip(n, oneArg(n));
                } else if (!isMisc && k.equals("connect_port")) {
                    port = port(n, oneArg(n), true);
                } else if (http && k.equals("url")) {
                    urls.add(url(n));
                } else if (http && k.equals("virtualhost")) {
                    virtualHost = oneArg(n);
                } else if (isMisc && k.equals("misc_path")) {
                    misc = script(n);
                } else if (isMisc && k.equals("misc_timeout")) {
                    miscTimeout = millis(n, true);
                } else if (isMisc && k.equals("misc_dynamic")) {
                    noArgs(n);
                    dynamic = true;
                } else {
                    ignore(n);
                }
            }
            Timing t = timing.over(rsTiming);
            int p = port != null ? port : rsPort;
            if (!isMisc && p == 0) {
                throw err(c, kind + " needs connect_port (the real server has no port)");
            }
            try {
                return switch (kind) {
                    case "TCP_CHECK" -> new CheckSpec.Tcp(addr.v4(), p, t.resolve(DEFAULT_RETRY, DEFAULT_DELAY_BEFORE_RETRY_MS),
                            addr.v6());
                    case "HTTP_GET", "SSL_GET" -> {
                        if (urls.isEmpty()) {
                            throw err(c, kind + " has no url { path ... } (keepalived would ignore the checker)");
                        }
                        yield new CheckSpec.Http(kind.equals("SSL_GET"), addr.v4(), p, virtualHost, urls,
                                t.resolve(DEFAULT_RETRY, DEFAULT_HTTP_DELAY_BEFORE_RETRY_MS), addr.v6());
                    }
                    default -> {
                        if (misc == null) {
                            throw err(c, "MISC_CHECK has no misc_path");
                        }
                        CheckSpec.Timing mt = t.resolve(DEFAULT_MISC_RETRY, DEFAULT_DELAY_BEFORE_RETRY_MS);
                        yield new CheckSpec.Misc(misc, miscTimeout != null ? miscTimeout : mt.delayLoopMillis(),
                                dynamic, mt);
                    }
                };
            } catch (IllegalArgumentException e) {
                throw err(c, e.getMessage());
            }
        }

        CheckSpec.Url url(Node u) throws ConfigException {
            requireBlock(u);
            String path = null;
            String digest = null;
            List<CheckSpec.StatusRange> codes = new ArrayList<>();
            for (Node n : u.children()) {
                switch (n.keyword()) {
                    case "path" -> path = oneArg(n);
                    case "digest" -> digest = oneArg(n);
                    case "status_code" -> {
                        if (n.args().isEmpty()) {
                            throw err(n, "status_code needs a code (200) or a range (200-299)");
                        }
                        for (String s : n.args()) {
                            int dash = s.indexOf('-');
                            int lo = parseInt(n, dash < 0 ? s : s.substring(0, dash), 100, 599, "status_code");
                            int hi = dash < 0 ? lo : parseInt(n, s.substring(dash + 1), 100, 599, "status_code");
                            if (hi < lo) {
                                throw err(n, "status_code range " + s + " ends before it starts");
                            }
                            codes.add(new CheckSpec.StatusRange(lo, hi));
                        }
                    }
                    default -> ignore(n);
                }
            }
            if (path == null) {
                throw err(u, "url without path");
            }
            if (!path.startsWith("/")) {
                throw err(u, "url path \"" + path + "\" must start with '/'");
            }
            try {
                return new CheckSpec.Url(path, codes, digest);
            } catch (IllegalArgumentException e) {
                throw err(u, e.getMessage());
            }
        }

        // ------------------------------------------------------------ values

        private record Method(ForwardMethod method, TunnelType tunType, int tunPort, int tunFlags) {
        }

        /** NAT | DR | TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]. */
        Method method(Node n) throws ConfigException {
            List<String> a = n.args();
            if (a.isEmpty()) {
                throw err(n, n.keyword() + " needs NAT, DR or TUN");
            }
            ForwardMethod m = switch (a.getFirst().toUpperCase(Locale.ROOT)) {
                case "NAT" -> ForwardMethod.NAT;
                case "DR" -> ForwardMethod.DR;
                case "TUN" -> ForwardMethod.TUN;
                default -> throw err(n, n.keyword() + " \"" + a.getFirst() + "\": expected NAT, DR or TUN");
            };
            TunnelType type = TunnelType.IPIP;
            int port = 0;
            int flags = TunnelType.FLAG_NOCSUM;
            if (m != ForwardMethod.TUN && a.size() > 1) {
                throw err(n, n.keyword() + " " + a.getFirst() + " takes no further words (\"" + a.get(1) + "\")");
            }
            for (int i = 1; i < a.size(); i++) {
                switch (a.get(i)) {
                    case "type" -> {
                        if (++i >= a.size()) {
                            throw err(n, "type needs ipip, gue or gre");
                        }
                        try {
                            type = TunnelType.of(a.get(i));
                        } catch (IllegalArgumentException e) {
                            throw err(n, e.getMessage());
                        }
                    }
                    case "port" -> {
                        if (++i >= a.size()) {
                            throw err(n, "port needs a number");
                        }
                        port = parseInt(n, a.get(i), 1, 65535, "tunnel port");
                    }
                    case "nocsum" -> flags = TunnelType.FLAG_NOCSUM;
                    case "csum" -> flags = TunnelType.FLAG_CSUM;
                    case "remcsum" -> flags = TunnelType.FLAG_REMCSUM;
                    default -> throw err(n, "TUN: unknown \"" + a.get(i) + "\" (expected type ipip|gue|gre, port N, "
                            + "nocsum, csum or remcsum)");
                }
            }
            if (type == TunnelType.GUE && port == 0) {
                throw err(n, "TUN type gue needs port N");
            }
            if (type != TunnelType.GUE && port != 0) {
                throw err(n, "port is for TUN type gue only");
            }
            return new Method(m, type, port, flags);
        }

        /**
         * An address of either family: text with a ':' is IPv6 (inet_pton; a zone or a link-local
         * address is refused naming the item, a VIP or server cannot be scoped to one link), else IPv4.
         */
        Ip ip(Node n, String text) throws ConfigException {
            if (text.indexOf(':') < 0) {
                return new Ip(address(n, text), null);
            }
            if (text.indexOf('%') >= 0) {
                throw err(n, "\"" + text + "\": a scoped IPv6 address (with a zone) cannot be a service or real server");
            }
            Ipv6Address a = Ipv6Address.tryParse(text);
            if (a == null) {
                throw err(n, "\"" + text + "\" is not an IPv6 address");
            }
            if (a.isLinkLocal()) {
                throw err(n, "\"" + text + "\": a link-local address (fe80::/10) needs a zone and serves one link;"
                        + " it cannot be a service or real server");
            }
            return new Ip(0, a);
        }

        int address(Node n, String text) throws ConfigException {
            if (text.indexOf(':') >= 0) {
                throw err(n, "\"" + text + "\": an IPv6 address where jvs takes IPv4 only");
            }
            try {
                return Ipv4Address.parse(text);
            } catch (IllegalArgumentException e) {
                throw err(n, "\"" + text + "\" is not an IPv4 address");
            }
        }

        int port(Node n, String text, boolean allowZero) throws ConfigException {
            return parseInt(n, text, allowZero ? 0 : 1, 65535, "port");
        }

        int fwmark(Node n, String text) throws ConfigException {
            long v = parseLong(n, text, 1, 0xffffffffL, "fwmark");
            return (int) v;
        }

        int netmask(Node n, String text) throws ConfigException {
            int mask;
            if (text.matches("/?\\d{1,2}")) {
                int prefix = parseInt(n, text.startsWith("/") ? text.substring(1) : text, 1, 32, "persistence_granularity");
                mask = -1 << (32 - prefix);
            } else {
                mask = address(n, text);
            }
            if (mask == 0 || (~mask & (~mask + 1)) != 0) {
                throw err(n, "persistence_granularity " + text + " is not a contiguous netmask (e.g. 255.255.255.0)");
            }
            return mask;
        }

        long millis(Node n, boolean positive) throws ConfigException {
            String s = oneArg(n);
            try {
                BigDecimal secs = new BigDecimal(s);
                long ms = secs.movePointRight(3).longValueExact();
                if (ms < 0 || (positive && ms == 0) || ms > 86_400_000L * 31) {
                    throw new ArithmeticException();
                }
                return ms;
            } catch (NumberFormatException | ArithmeticException e) {
                throw err(n, n.keyword() + " \"" + s + "\": expected seconds" + (positive ? " > 0" : "")
                        + " (decimals allowed, at most 3 places, at most 31 days)");
            }
        }

        int integer(Node n, int min, int max) throws ConfigException {
            return parseInt(n, oneArg(n), min, max, n.keyword());
        }

        int parseInt(Node n, String s, int min, int max, String what) throws ConfigException {
            return (int) parseLong(n, s, min, max, what);
        }

        long parseLong(Node n, String s, long min, long max, String what) throws ConfigException {
            if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(ch -> ch >= '0' && ch <= '9')
                    || Long.parseLong(s) < min || Long.parseLong(s) > max) {
                throw err(n, what + " \"" + s + "\": expected a number " + min + ".." + max);
            }
            return Long.parseLong(s);
        }

        String oneArg(Node n) throws ConfigException {
            if (n.args().size() != 1) {
                throw err(n, n.keyword() + " expects one value, got " + n.args().size());
            }
            if (n.hasBlock()) {
                throw err(n, n.keyword() + " takes no block");
            }
            return n.args().getFirst();
        }

        void noArgs(Node n) throws ConfigException {
            if (!n.args().isEmpty() || n.hasBlock()) {
                throw err(n, n.keyword() + " takes no value");
            }
        }

        /** A script with its arguments: the words (a quoted word is split on spaces, as keepalived splits it). */
        List<String> script(Node n) throws ConfigException {
            if (n.args().isEmpty() || n.hasBlock()) {
                throw err(n, n.keyword() + " needs a script (path and arguments)");
            }
            List<String> argv = new ArrayList<>();
            for (String a : n.args()) {
                for (String w : a.trim().split("\\s+")) {
                    if (!w.isEmpty()) {
                        argv.add(w);
                    }
                }
            }
            if (argv.isEmpty()) {
                throw err(n, n.keyword() + " needs a script (path and arguments)");
            }
            return argv;
        }

        void requireBlock(Node n) throws ConfigException {
            if (!n.hasBlock()) {
                throw err(n, n.keyword() + " needs a { ... } block");
            }
        }

        static ConfigException err(Node n, String detail) {
            return new ConfigException(n.file(), n.line(), detail);
        }
    }
}
