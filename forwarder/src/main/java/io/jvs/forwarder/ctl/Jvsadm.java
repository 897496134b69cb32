package io.jvs.forwarder.ctl;

import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;

import java.util.List;
import java.util.Objects;

/**
 * Runs jvsadm command lines against a running director, as ipvsadm runs
 * them against the kernel: parse ({@link IpvsadmParser}), then either change
 * the configuration through {@link ControlPlane#apply} (validated whole,
 * published as one snapshot; a failure changes nothing) or print a listing
 * ({@link IpvsadmFormat}). The result carries ipvsadm's stdout, stderr and
 * exit status. {@code -R} applies all its lines as one change.
 *
 * <p>Thread-safe: configuration changes serialize in the control plane;
 * listings read the published snapshot and copy connections out on the data
 * path's thread ({@link DataPathView}).
 */
public final class Jvsadm {
    /** At most this many connections are listed by {@code -c}; the rest are counted on stderr. */
    public static final int MAX_LISTED_CONNECTIONS = 100_000;

    /** What ipvsadm would have printed, and its exit status. */
    public record Result(int status, String out, String err) {
        static Result ok(String out) {
            return new Result(0, out, "");
        }

        static Result error(IpvsadmException e) {
            return new Result(e.status(), "", e.getMessage() + "\n");
        }
    }

    private final ControlPlane control;
    private final DataPathView dataPath;
    private final StatsBook stats;
    private final SchedulerFactory schedulers;
    private final IpvsadmParser parser;
    private final IpvsadmFormat format;

    public Jvsadm(ControlPlane control, DataPathView dataPath, StatsBook stats, SchedulerFactory schedulers,
                  IpvsadmFormat.Names names) {
        this.control = Objects.requireNonNull(control);
        this.dataPath = Objects.requireNonNull(dataPath);
        this.stats = Objects.requireNonNull(stats);
        this.schedulers = Objects.requireNonNull(schedulers);
        this.parser = new IpvsadmParser("jvsadm");
        this.format = new IpvsadmFormat(stats, names);
    }

    /** A jvsadm for a director with the standard schedulers and the system's name resolution. */
    public Jvsadm(ControlPlane control, DataPathView dataPath, StatsBook stats) {
        this(control, dataPath, stats, Schedulers::create, IpvsadmFormat.Names.system());
    }

    public StatsBook stats() {
        return stats;
    }

    /**
     * Runs one command line.
     *
     * @param argv  the arguments after the program name
     * @param stdin what {@code -R} reads (ignored otherwise)
     */
    public Result run(List<String> argv, String stdin) {
        IpvsadmCommand cmd;
        try {
            cmd = parser.parse(argv);
        } catch (IpvsadmException e) {
            return Result.error(e);
        }
        try {
            return execute(cmd, stdin);
        } catch (IpvsadmException e) {
            return Result.error(e);
        }
    }

    private Result execute(IpvsadmCommand cmd, String stdin) throws IpvsadmException {
        return switch (cmd.command()) {
            case HELP -> Result.ok(usage());
            case VERSION -> Result.ok(version() + "\n");
            case LIST -> list(cmd);
            case SAVE -> Result.ok(format.save(control.table(), control.config().timeouts(), cmd.format()));
            case RESTORE -> restore(stdin);
            case ZERO -> zero(cmd);
            case START_DAEMON, STOP_DAEMON -> throw IpvsadmException.operation(
                    "Operation not supported: jvs has no connection sync daemon yet (--" + cmd.command().ipvsadmName
                            + ")");
            default -> {
                change(c -> ConfigEditor.apply(c, cmd, schedulers));
                yield Result.ok("");
            }
        };
    }

    /** A change as a function that may fail with ipvsadm's answer. */
    @FunctionalInterface
    private interface Change {
        ForwarderConfig apply(ForwarderConfig current) throws IpvsadmException;
    }

    /** Carries a checked failure out of ControlPlane.apply's UnaryOperator. */
    private static final class Failed extends RuntimeException {
        final IpvsadmException cause;

        Failed(IpvsadmException cause) {
            super(cause.getMessage(), null, false, false);
            this.cause = cause;
        }
    }

    private void change(Change change) throws IpvsadmException {
        try {
            control.apply(current -> {
                try {
                    return change.apply(current);
                } catch (IpvsadmException e) {
                    throw new Failed(e);
                }
            });
        } catch (Failed f) {
            throw f.cause;
        } catch (IllegalArgumentException e) {
            // the whole-config validation (table build, data path checks)
            throw IpvsadmException.operation(e.getMessage());
        }
    }

    private Result restore(String stdin) throws IpvsadmException {
        List<String> lines = (stdin == null ? "" : stdin).lines().toList();
        change(current -> {
            try {
                return ConfigFile.apply("-R: line", lines, schedulers, current);
            } catch (ConfigException e) {
                int status = e.getCause() instanceof IpvsadmException ie ? ie.status() : IpvsadmException.OPERATION;
                throw new IpvsadmException(status, e.getMessage().replaceFirst("^-R: line:(\\d+):", "line $1:")
                        + " (nothing restored)");
            }
        });
        return Result.ok("");
    }

    private Result zero(IpvsadmCommand cmd) throws IpvsadmException {
        ServiceTable t = control.table();
        if (cmd.has(IpvsadmParser.OPT_SERVICE)) {
            VirtualService s = find(t, cmd);
            if (s == null) {
                throw IpvsadmException.operation("No such service");
            }
            stats.zero(s);
        } else {
            for (VirtualService s : t.services()) {
                stats.zero(s);
            }
        }
        return Result.ok("");
    }

    private static VirtualService find(ServiceTable t, IpvsadmCommand cmd) {
        return cmd.isFwmark() ? t.lookupFwmark(cmd.fwmark()) : t.lookup(cmd.proto(), cmd.addr(), cmd.port());
    }

    private Result list(IpvsadmCommand cmd) throws IpvsadmException {
        int fmt = cmd.format();
        if (cmd.has(IpvsadmParser.OPT_CONNECTION)) {
            DataPathView.Connections c;
            try {
                c = dataPath.connections(MAX_LISTED_CONNECTIONS);
            } catch (IllegalStateException e) {
                throw new IpvsadmException(IpvsadmException.LIST, "cannot list connections: " + e.getMessage());
            }
            String err = c.total() > c.entries().size()
                    ? "jvsadm: listed " + c.entries().size() + " of " + c.total() + " connections (the first "
                    + MAX_LISTED_CONNECTIONS + " in table order)\n" : "";
            return new Result(0, format.connections(c.entries(), fmt), err);
        }
        if (cmd.has(IpvsadmParser.OPT_SERVICE)) {
            VirtualService s = find(control.table(), cmd);
            if (s == null) {
                throw new IpvsadmException(IpvsadmException.LIST, "No such service");
            }
            return Result.ok(format.listService(s, fmt));
        }
        if (cmd.has(IpvsadmParser.OPT_TIMEOUT)) {
            var t = ControlPlane.timeouts(control.config().timeouts());
            return Result.ok(IpvsadmFormat.timeouts(t.tcp(), t.tcpFin(), t.udp()));
        }
        if (cmd.has(IpvsadmParser.OPT_DAEMON)) {
            return Result.ok(""); // no sync daemon runs: ipvsadm prints nothing
        }
        if (cmd.has(IpvsadmParser.OPT_MARKS)) {
            return Result.ok(IpvsadmFormat.marks(control.table().fwmarkRules()));
        }
        return Result.ok(format.listAll(control.table(), dataPath.connectionCapacity(), fmt));
    }

    /** ipvsadm's version line, for jvsadm. */
    public static String version() {
        String v = Jvsadm.class.getPackage().getImplementationVersion();
        return "jvsadm " + (v == null ? "v0.1.0" : "v" + v) + " (ipvsadm v1.31 compatible, IPVS v"
                + IpvsadmFormat.IPVS_VERSION + ")";
    }

    /** ipvsadm 1.31's usage text for jvsadm, with jvs's extensions. */
    public static String usage() {
        String p = "jvsadm";
        return version() + "\n" + """
                Usage:
                  %1$s -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
                        [-o] [--laddr address[,address...]] [--client-addr none|toa|proxy]
                        [--svc-timeout tcp,tcpfin,udp]
                  %1$s -D virtual-service
                  %1$s -C
                  %1$s -R
                  %1$s -S [-n]
                  %1$s -a|e virtual-service -r server-address [options]
                  %1$s -d virtual-service -r server-address
                  %1$s -L|l [virtual-service] [options]
                  %1$s -Z [virtual-service]
                  %1$s --set tcp tcpfin udp
                  %1$s --state-timeout state seconds
                  %1$s --add-mark|--delete-mark [-s net[/len]] [-d net[/len]] [-p tcp|udp] [--dport port[:port]] --set-mark mark
                  %1$s --start-daemon {master|backup} [daemon-options]
                  %1$s --stop-daemon {master|backup}
                  %1$s -h

                Commands:
                Either long or short options are allowed.
                  --add-service     -A        add virtual service with options
                  --edit-service    -E        edit virtual service with options
                  --delete-service  -D        delete virtual service
                  --clear           -C        clear the whole table
                  --restore         -R        restore rules from stdin
                  --save            -S        save rules to stdout
                  --add-server      -a        add real server with options
                  --edit-server     -e        edit real server with options
                  --delete-server   -d        delete real server
                  --list            -L|-l     list the table
                  --zero            -Z        zero counters in a service or all services
                  --set tcp tcpfin udp        set connection timeout values
                  --state-timeout state secs  set one TCP state's timeout (jvs)
                  --add-mark                  add a fwmark rule (jvs; what iptables -j MARK did)
                  --delete-mark               delete a fwmark rule (jvs)
                  --start-daemon              start connection sync daemon (not supported yet)
                  --stop-daemon               stop connection sync daemon (not supported yet)
                  --help            -h        display this help message

                virtual-service:
                  --tcp-service|-t  service-address   service-address is host[:port]
                  --udp-service|-u  service-address   service-address is host[:port]
                  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

                Options:
                  --scheduler    -s scheduler         one of %2$s,
                                                      the default scheduler is wlc.
                  --persistent   -p [timeout]         persistent service
                  --netmask      -M netmask           persistent granularity mask
                  --real-server  -r server-address    server-address is host (and port)
                  --gatewaying   -g                   gatewaying (direct routing) (default)
                  --ipip         -i                   ipip encapsulation (tunneling)
                  --masquerading -m                   masquerading (NAT)
                  --fullnat                           full NAT (jvs): needs the service's --laddr
                  --tun-type      type                one of ipip|gue|gre,
                                                      the default tunnel type is ipip.
                  --tun-port      port                tunnel destination port
                  --tun-nocsum                        tunnel encapsulation without checksum
                  --tun-csum                          tunnel encapsulation with checksum
                  --tun-remcsum                       tunnel encapsulation with remote checksum
                  --weight       -w weight            capacity of real server
                  --u-threshold  -x uthreshold        upper threshold of connections
                  --l-threshold  -y lthreshold        lower threshold of connections
                  --laddr        address[,address]    FULLNAT local addresses of the director (jvs)
                  --client-addr  none|toa|proxy       how FULLNAT servers learn the client (jvs)
                  --svc-timeout  tcp,tcpfin,udp       the service's own timeouts, 0 = global (jvs)
                  --connection   -c                   output of current IPVS connections
                  --timeout                           output of timeout (tcp tcpfin udp)
                  --daemon                            output of daemon information
                  --stats                             output of statistics information
                  --rate                              output of rate information
                  --exact                             expand numbers (display exact values)
                  --thresholds                        output of thresholds information
                  --persistent-conn                   output of persistent connection info
                  --tun-info                          output of tunnel information
                  --marks                             output of fwmark rules (jvs)
                  --nosort                            disable sorting output of service/server entries
                  --sort                              does nothing, for backwards compatibility
                  --ops          -o                   one-packet scheduling
                  --numeric      -n                   numeric output of addresses and ports
                  --sched-flags  -b flags             scheduler flags (comma-separated)

                The director: /run/jvs/control.sock (inside a named network namespace
                /run/jvs/NETNS/control.sock); the JVS_CONTROL environment variable or
                --control PATH (first argument) names another.
                """.formatted(p, String.join("|", Schedulers.NAMES));
    }
}
