package io.jvs.forwarder;

import io.jvs.forwarder.announce.Announcement;
import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.ctl.ipvsadm.ConfigFile;
import io.jvs.forwarder.ctl.server.DirectorControl;
import io.jvs.forwarder.ctl.server.ReloadSignal;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.config.ForwarderCommandLine;
import io.jvs.forwarder.config.UsageException;
import io.jvs.forwarder.ctl.keepalived.KeepalivedConf;
import io.jvs.forwarder.ctl.keepalived.LvsSyncDaemon;
import io.jvs.forwarder.ctl.keepalived.SyncFollowsVrrp;
import io.jvs.forwarder.health.HealthMonitor;
import io.jvs.forwarder.health.Probe;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.vrrp.VrrpConfig;

import io.jvs.forwarder.ctl.console.AuditLog;
import io.jvs.forwarder.ctl.console.ClusterStatus;
import io.jvs.forwarder.ctl.console.Console;
import io.jvs.forwarder.ctl.console.ConsoleSessions;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.List;

/**
 * jvs-forwarder: parses the command line and the config file completely
 * (a bad flag or line is a one-line error and exit status 2 or 1, before
 * anything is attached), starts the {@link Director}, and on SIGTERM/SIGINT
 * closes it, which removes everything it created.
 */
public final class Main {
    private Main() {
    }

    /** run() result when the director ran and was stopped by a signal: the JVM is already exiting. */
    private static final int STOPPED = -1;

    public static void main(String[] args) {
        int status = run(args);
        if (status != STOPPED) {
            System.exit(status);
        }
    }

    /**
     * The web console on the metrics port, once jvsadm is up: its changes go through the same jvsadm and
     * ControlPlane. High-availability state: each VRRP instance as a row (nothing without VRRP);
     * connection sync plugs in here too when the director runs it.
     */
    /** The key words derived from --synproxy-key FILE, or null (a random key) without it. */
    private static long[] synProxyKey(ForwarderCommandLine opts) throws ConfigException {
        if (opts.synProxyKey().isEmpty()) {
            return null;
        }
        java.nio.file.Path file = opts.synProxyKey().get();
        byte[] secret;
        try {
            secret = java.nio.file.Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file.toString(), 0, "--synproxy-key: no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new ConfigException(file.toString(), 0, "--synproxy-key: permission denied", e);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), 0, "--synproxy-key: cannot read it (" + e.getMessage() + ")", e);
        }
        try {
            return io.jvs.forwarder.conn.SynCookies.keyFromSecret(secret);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file.toString(), 0, "--synproxy-key: " + e.getMessage());
        } finally {
            java.util.Arrays.fill(secret, (byte) 0);
        }
    }

    private static void serveConsole(Director director, DirectorControl control, HealthSource health) {
        director.metricsServer().ifPresent(server -> {
            ConsoleSessions sessions = new ConsoleSessions(control.token().orElse(null), System::nanoTime,
                    new SecureRandom(), ConsoleSessions.DEFAULT_IDLE);
            ClusterStatus cluster = () -> director.vrrpStatus().vrrpStatus().instances().stream()
                    .map(i -> new ClusterStatus.Item("vrrp", i.name(), i.state().name(), "VRID " + i.vrid() + " v"
                            + i.version() + " on " + i.iface() + ", priority " + i.priority() + ", master "
                            + (i.master().isEmpty() ? "unknown" : i.master()) + ", "
                            + i.transitions() + " transition(s)"))
                    .toList();
            server.serve(new Console(control.jvsadm(), director.control()::table, health, cluster, sessions,
                    new AuditLog(AuditLog.DEFAULT_CAPACITY, Clock.systemUTC(), System.out::println)));
            System.out.println("jvs-forwarder: web console on " + director.metricsUrlIfServing().orElseThrow()
                    + Console.PAGE + (sessions.changesEnabled() ? " (changes after login with the control token)"
                    : " (read-only: no control token)"));
        });
    }

    static int run(String[] args) {
        ForwarderCommandLine opts;
        try {
            opts = ForwarderCommandLine.parse(args);
        } catch (UsageException e) {
            System.err.println("jvs-forwarder: " + e.getMessage());
            System.err.println("Try 'jvs-forwarder --help' for more information.");
            return 2;
        }
        switch (opts.action()) {
            case HELP -> {
                System.out.print(ForwarderCommandLine.usage());
                return 0;
            }
            case VERSION -> {
                System.out.println(ForwarderCommandLine.version());
                return 0;
            }
            case RUN -> { }
        }
        // --user and --control-group name accounts that must exist: checked before anything starts.
        io.jvs.sys.Privileges.Account account = null;
        try {
            if (opts.user().isPresent()) {
                account = LeastPrivilege.account(opts.user().get());
            }
            if (opts.controlGroup().isPresent() && io.jvs.sys.Privileges.group(opts.controlGroup().get()).isEmpty()) {
                throw new IOException("--control-group \"" + opts.controlGroup().get() + "\": no such group");
            }
        } catch (IOException e) {
            System.err.println("jvs-forwarder: " + e.getMessage());
            return 2;
        }
        ReloadSignal.install(); // before anything makes the director visible; see ReloadSignal
        // the kernel's CONFIG_IP_VS_MH_TAB_INDEX: one size for every service this director builds or checks
        SchedulerFactory schedulers = Schedulers.factory(opts.mhTableSize());
        Director.Settings settings;
        HealthMonitor health = null;
        VrrpConfig vrrp = VrrpConfig.NONE;
        LvsSyncDaemon lvsSync = null;
        try {
            ServiceConfig config = ServiceConfig.EMPTY;
            if (opts.config().isPresent()) {
                config = ConfigFile.parse(opts.config().get(), schedulers);
            } else if (opts.keepalived().isPresent()) {
                KeepalivedConf kc = KeepalivedConf.load(opts.keepalived().get(), schedulers);
                if (!kc.ignoredReport().isEmpty()) {
                    System.err.println("jvs-forwarder: " + kc.ignoredReport());
                }
                health = new HealthMonitor(kc.health(), Probe::of, line -> System.out.println("jvs-health: " + line));
                lvsSync = kc.syncDaemon();
                config = health.initial(kc.config());
                vrrp = kc.vrrp();
            }
            config = DirectorControl.savedOr(opts, config); // --save-to: what was running before a restart
            // validates everything before anything is attached
            Director.newControlPlane(config, opts.mhTableSize(), opts.announce().isPresent());
            boolean tap = opts.attach().kind() == ForwarderCommandLine.AttachKind.TAP;
            // Connection sync serves one connection table: keepalived's lvs_sync_daemon runs one worker.
            int workers = lvsSync == null ? opts.workers() : 1;
            if (lvsSync != null && opts.workersGiven() && opts.workers() > 1) {
                throw new ConfigException(opts.keepalived().orElseThrow().toString(), 0, "lvs_sync_daemon (connection"
                        + " sync) needs --workers 1, not " + opts.workers());
            }
            boolean xdp = opts.attach().kind() == ForwarderCommandLine.AttachKind.XDP;
            for (VrrpConfig.Instance c : vrrp.instances()) {
                if (c.ipv6() && (tap || xdp)) {
                    // its MASTER answers NS for its addresses from the data path, which sees NDP in packet mode only
                    throw new ConfigException(opts.keepalived().orElseThrow().toString(), 0, "vrrp_instance " + c.name()
                            + ": IPv6 instances are not run with " + (tap ? "--attach tap" : "--attach xdp")
                            + " (IPv6 VRRP instances run in packet mode only)");
                }
            }
            settings = new Director.Settings(
                    new Director.Attach(tap ? opts.attach().name() : null, tap ? opts.lans()
                            : opts.attachments().stream().map(ForwarderCommandLine.Attach::name).toList(),
                            opts.arpOn(), xdp ? opts.attachments().stream().map(ForwarderCommandLine.Attach::queue)
                            .toList() : List.of()),
                    config, opts.connMax(), opts.connMax6(), opts.ringMemoryMib(),
                    opts.metrics().orElse(null), opts.localPortLow(), opts.localPortHigh(), opts.mhTableSize(),
                    opts.connPolicy(), health != null ? health : HealthSource.NONE,
                    opts.metricsTlsCert().isPresent()
                            ? new Director.MetricsTls(opts.metricsTlsCert().get(), opts.metricsTlsKey().orElseThrow())
                            : null,
                    vrrp, opts.announce().isPresent(), workers, synProxyKey(opts), opts.kernelIngressDrop());
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("jvs-forwarder: " + e.getMessage());
            return 1;
        }
        String bird = null;
        if (opts.announce().isPresent()) {
            try {
                bird = Announcement.checkBird(opts.announce().get()); // nothing attached, nothing announced yet
            } catch (IOException e) {
                System.err.println("jvs-forwarder: --announce-table " + opts.announce().get().table() + ": "
                        + e.getMessage() + "; nothing announced");
                return 1;
            }
        }
        Director director;
        try {
            director = Director.start(settings);
        } catch (IOException | RuntimeException e) {
            System.err.println("jvs-forwarder: " + e.getMessage());
            return 1;
        }
        if (lvsSync != null) {
            // keepalived's lvs_sync_daemon: the sync role follows the VRRP instance's state (KeepalivedConf
            // has checked that the instance exists); the switch runs for as long as the director does.
            SyncFollowsVrrp.follow(lvsSync, director.syncDaemons(), director.vrrpStatus(), director::addVrrpListener,
                    line -> System.out.println("jvs-forwarder: " + line));
            System.out.println("jvs-forwarder: lvs_sync_daemon " + lvsSync.iface() + " follows VRRP instance "
                    + lvsSync.instance());
        }
        DirectorControl control;
        try {
            control = DirectorControl.start(opts, director.control(), director.dataPathView(), director.vrrpStatus());
        } catch (IOException | RuntimeException e) {
            director.close();
            System.err.println("jvs-forwarder: " + e.getMessage());
            return 1;
        }
        serveConsole(director, control, settings.health());
        Announcement announcement = null;
        if (opts.announce().isPresent()) {
            ForwarderCommandLine.Announce a = opts.announce().get();
            try {
                // before --user drops privileges (the TUN device); later route changes run on the event
                // loop, which keeps CAP_NET_ADMIN
                announcement = Announcement.start(a, director.control(), director::onPublish, director::onEventLoop,
                        director.exposition(), line -> System.out.println("jvs-announce: " + line));
            } catch (IOException | RuntimeException e) {
                control.close();
                director.close();
                System.err.println("jvs-forwarder: --announce-device " + a.device() + ": " + e.getMessage());
                return 1;
            }
            System.out.println("jvs-forwarder: ECMP: " + announcement.announced().size() + " VIP(s) in table "
                    + a.table() + " dev " + a.device() + " (proto " + ForwarderCommandLine.ANNOUNCE_PROTOCOL
                    + ") for " + bird + " at " + a.birdSocket() + "; drain " + a.drainSeconds() + " s on SIGTERM");
        }
        LeastPrivilege privilege = null;
        if (account != null) {
            try {
                privilege = LeastPrivilege.drop(director, account);
            } catch (IOException | RuntimeException e) {
                if (announcement != null) {
                    announcement.close();
                }
                control.close();
                director.close();
                System.err.println("jvs-forwarder: --user " + account.name() + ": " + e.getMessage());
                return 1;
            }
        }
        HealthMonitor checker = health;
        if (checker != null) {
            checker.start(director.control()::apply);
        }
        Announcement announced = announcement;
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable stop = () -> {
            if (announced != null) {
                announced.withdrawAndDrain(); // first: the router stops sending here while jvs still forwards
            }
            control.close();
            if (checker != null) {
                checker.close();
            }
            director.close();
            if (announced != null) {
                announced.close();
            }
        };
        LeastPrivilege kept = privilege;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (kept != null) {
                kept.runPrivileged(stop); // on jvs-admin: the namespace undo needs CAP_NET_ADMIN
                kept.close();
            } else {
                stop.run();
            }
            stopped.countDown();
        }, "jvs-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return STOPPED;
    }
}
