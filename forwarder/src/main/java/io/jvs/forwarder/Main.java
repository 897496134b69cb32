package io.jvs.forwarder;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.ctl.ipvsadm.ConfigFile;
import io.jvs.forwarder.ctl.server.DirectorControl;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.config.ForwarderCommandLine;
import io.jvs.forwarder.config.UsageException;
import io.jvs.forwarder.ctl.keepalived.KeepalivedConf;
import io.jvs.forwarder.ctl.keepalived.LvsSyncDaemon;
import io.jvs.forwarder.health.HealthMonitor;
import io.jvs.forwarder.health.Probe;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

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
        // the kernel's CONFIG_IP_VS_MH_TAB_INDEX: one size for every service this director builds or checks
        SchedulerFactory schedulers = Schedulers.factory(opts.mhTableSize());
        Director.Settings settings;
        HealthMonitor health = null;
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
            }
            config = DirectorControl.savedOr(opts, config); // --save-to: what was running before a restart
            Director.newControlPlane(config, opts.mhTableSize()); // validates everything before anything is attached
            boolean tap = opts.attach().kind() == ForwarderCommandLine.AttachKind.TAP;
            settings = new Director.Settings(
                    new Director.Attach(tap, opts.attach().name(), opts.lan().orElse(null)),
                    config, opts.connMax(), opts.ringFrames(),
                    opts.metrics().orElse(null), opts.localPortLow(), opts.localPortHigh(), opts.mhTableSize(),
                    opts.connPolicy(), health != null ? health : HealthSource.NONE);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("jvs-forwarder: " + e.getMessage());
            return 1;
        }
        Director director;
        try {
            director = Director.start(settings);
        } catch (IOException | RuntimeException e) {
            System.err.println("jvs-forwarder: " + e.getMessage());
            return 1;
        }
        if (lvsSync != null) {
            // keepalived drives the role from the VRRP instance's state (SyncDaemons.switchRole is the
            // glue point for the VRRP state listener); until a VRRP instance reports, neither daemon runs.
            // An id not given is the instance's virtual_router_id in keepalived: 0 here until VRRP tells it.
            director.syncDaemons().keepalived(lvsSync.settings(0));
            System.out.println("jvs-forwarder: lvs_sync_daemon " + lvsSync.iface() + " follows VRRP instance "
                    + lvsSync.instance() + " (role none until it reports a state)");
        }
        DirectorControl control;
        try {
            control = DirectorControl.start(opts, director.control(), director.dataPathView());
        } catch (IOException | RuntimeException e) {
            director.close();
            System.err.println("jvs-forwarder: " + e.getMessage());
            return 1;
        }
        HealthMonitor checker = health;
        if (checker != null) {
            checker.start(director.control()::apply);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            control.close();
            if (checker != null) {
                checker.close();
            }
            director.close();
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
