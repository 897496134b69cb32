package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.ctl.ControlPlane;
import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.ctl.RateEstimator;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.sync.SyncDaemons;
import io.jvs.forwarder.sync.SyncException;
import io.jvs.forwarder.sync.SyncRole;
import io.jvs.forwarder.vrrp.VrrpStatus;

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
    private final RateEstimator stats;
    private final SchedulerFactory schedulers;
    private final IpvsadmParser parser;
    private final IpvsadmFormat format;
    private final VrrpStatus.Source vrrp;

    public Jvsadm(ControlPlane control, DataPathView dataPath, RateEstimator stats, SchedulerFactory schedulers,
                  IpvsadmFormat.Names names) {
        this(control, dataPath, stats, schedulers, names, VrrpStatus.Source.NONE);
    }

    /** @param vrrp what {@code -L --vrrp} lists */
    public Jvsadm(ControlPlane control, DataPathView dataPath, RateEstimator stats, SchedulerFactory schedulers,
                  IpvsadmFormat.Names names, VrrpStatus.Source vrrp) {
        this(control, dataPath, stats, schedulers, names, vrrp, IpvsadmParser.HostNames.SYSTEM);
    }

    /**
     * @param names what listings print for addresses and ports
     * @param hosts what host names given for addresses (in commands and {@code -R} lines) resolve to
     */
    public Jvsadm(ControlPlane control, DataPathView dataPath, RateEstimator stats, SchedulerFactory schedulers,
                  IpvsadmFormat.Names names, VrrpStatus.Source vrrp, IpvsadmParser.HostNames hosts) {
        this.vrrp = Objects.requireNonNull(vrrp);
        this.control = Objects.requireNonNull(control);
        this.dataPath = Objects.requireNonNull(dataPath);
        this.stats = Objects.requireNonNull(stats);
        this.schedulers = Objects.requireNonNull(schedulers);
        this.parser = new IpvsadmParser("jvsadm", null, hosts);
        this.format = new IpvsadmFormat(stats, names);
    }

    /** A jvsadm for a director with the standard schedulers and the system's name resolution. */
    public Jvsadm(ControlPlane control, DataPathView dataPath, RateEstimator stats) {
        this(control, dataPath, stats, Schedulers::create, IpvsadmFormat.Names.system());
    }

    public RateEstimator stats() {
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

    /**
     * Runs one command line that must parse as {@code only} (the web console: each form is one kind of
     * change, so a value that happens to parse as another command, e.g. {@code --clear}, is refused
     * rather than run). Parsed once, by the same parser as {@link #run}.
     */
    public Result runOnly(IpvsadmCommand.Command only, List<String> argv) {
        IpvsadmCommand cmd;
        try {
            cmd = parser.parse(argv);
            if (cmd.command() != only) {
                return new Result(IpvsadmException.OPERATION, "", "jvs: this form runs --" + only.ipvsadmName
                        + " only, not --" + cmd.command().ipvsadmName + "\n");
            }
            return execute(cmd, "");
        } catch (IpvsadmException e) {
            return Result.error(e);
        }
    }

    private Result execute(IpvsadmCommand cmd, String stdin) throws IpvsadmException {
        return switch (cmd.command()) {
            case HELP -> Result.ok(JvsadmHelp.usage());
            case VERSION -> Result.ok(JvsadmHelp.version() + "\n");
            case LIST -> list(cmd);
            case SAVE -> Result.ok(format.save(control.table(), control.config().timeouts(), cmd.format()));
            case RESTORE -> restore(stdin);
            case ZERO -> zero(cmd);
            case START_DAEMON, STOP_DAEMON -> daemon(cmd);
            default -> {
                change(c -> ConfigEditor.apply(c, cmd, schedulers));
                yield Result.ok("");
            }
        };
    }

    /** --start-daemon / --stop-daemon: libipvs's answer for a failure, exit status 255 as ipvsadm's. */
    private Result daemon(IpvsadmCommand cmd) throws IpvsadmException {
        SyncRole role = "master".equals(cmd.daemonState()) ? SyncRole.MASTER : SyncRole.BACKUP;
        try {
            if (cmd.command() == IpvsadmCommand.Command.START_DAEMON) {
                dataPath.syncDaemons().start(role, cmd.daemon());
            } else {
                dataPath.syncDaemons().stop(role);
            }
        } catch (SyncException e) {
            throw IpvsadmException.operation(e.getMessage());
        }
        return Result.ok("");
    }

    /** A change as a function that may fail with ipvsadm's answer. */
    @FunctionalInterface
    private interface Change {
        ServiceConfig apply(ServiceConfig current) throws IpvsadmException;
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
                return ConfigFile.apply("-R: line", lines, schedulers, current, parser);
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
        if (cmd.isIpv6()) {
            return cmd.isFwmark() ? t.lookupFwmark6(cmd.fwmark())
                    : t.lookup6(cmd.proto(), cmd.addr6().hi(), cmd.addr6().lo(), cmd.port());
        }
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
            StringBuilder b = new StringBuilder();
            for (SyncDaemons.Daemon d : dataPath.syncDaemons().list()) {
                b.append(SyncDaemons.format(d));
            }
            return Result.ok(b.toString());
        }
        if (cmd.has(IpvsadmParser.OPT_VRRP)) {
            return Result.ok(IpvsadmFormat.vrrp(vrrp.vrrpStatus()));
        }
        if (cmd.has(IpvsadmParser.OPT_LIMITS)) {
            return Result.ok(IpvsadmFormat.limits(control.table().services()));
        }
        if (cmd.has(IpvsadmParser.OPT_MARKS)) {
            return Result.ok(IpvsadmFormat.marks(control.table().fwmarkRules()));
        }
        return Result.ok(format.listAll(control.table(), dataPath.connectionCapacity(), fmt));
    }
}
