package io.jvs.forwarder.ctl.server;

import io.jvs.forwarder.vrrp.VrrpStatus;
import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ForwarderCommandLine;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.ctl.ControlPlane;
import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.ctl.RateEstimator;
import io.jvs.forwarder.ctl.ipvsadm.ConfigFile;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmFormat;
import io.jvs.forwarder.ctl.ipvsadm.Jvsadm;
import io.jvs.forwarder.ctl.ipvsadm.RunningConfig;

import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.sched.Schedulers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The running director's control side, as jvs-forwarder wires it: the
 * control socket (and optional HTTP API) for jvsadm, the rate estimator's
 * 2-second sampler, saving the running configuration on every change
 * ({@code --save-to}), and reloading {@code --config} on SIGHUP. Each reload
 * is one {@link ControlPlane#apply}: the whole file is parsed and validated
 * first, a bad file changes nothing (and is reported on stderr), and a good
 * one replaces the configuration while services and real servers that stay
 * keep their counters and connections.
 */
public final class DirectorControl implements AutoCloseable {
    private final ControlPlane control;
    private final ControlServer server;
    private final ScheduledExecutorService sampler;
    private final Optional<Path> configFile;
    /** The director's schedulers (its --mh-table-size), for checking what jvsadm and reloads bring. */
    private final SchedulerFactory schedulers;
    private final Jvsadm jvsadm;
    private final Optional<String> token;

    private DirectorControl(ControlPlane control, ControlServer server, ScheduledExecutorService sampler,
                            Optional<Path> configFile, SchedulerFactory schedulers, Jvsadm jvsadm,
                            Optional<String> token) {
        this.jvsadm = jvsadm;
        this.token = token;
        this.control = control;
        this.server = server;
        this.sampler = sampler;
        this.configFile = configFile;
        this.schedulers = schedulers;
    }

    /**
     * The configuration to start with: the saved running configuration when
     * {@code --save-to} names a file that exists (what was running before a
     * restart), else {@code loaded} (from --config or --keepalived, or none).
     */
    public static ServiceConfig savedOr(ForwarderCommandLine opts, ServiceConfig loaded) throws ConfigException {
        if (opts.saveTo().isPresent() && Files.exists(opts.saveTo().get())) {
            System.out.println("jvs-forwarder: restoring the running configuration saved in " + opts.saveTo().get()
                    + (opts.config().isPresent() ? " (not " + opts.config().get() + "; SIGHUP re-reads that)" : ""));
            return ConfigFile.parse(opts.saveTo().get(), Schedulers.factory(opts.mhTableSize()));
        }
        return loaded;
    }

    /** Starts serving jvsadm for this director; throws with nothing left running on failure. */
    public static DirectorControl start(ForwarderCommandLine opts, ControlPlane control, DataPathView dataPath)
            throws IOException {
        return start(opts, control, dataPath, VrrpStatus.Source.NONE);
    }

    /** As above, with the VRRP states jvsadm -L --vrrp lists. */
    public static DirectorControl start(ForwarderCommandLine opts, ControlPlane control, DataPathView dataPath,
                                        VrrpStatus.Source vrrp) throws IOException {
        String token = null;
        if (opts.controlHttp().isPresent()) {
            token = token(opts);
        } else if (opts.controlTokenFile().isPresent() || System.getenv("JVS_CONTROL_TOKEN") != null) {
            token = token(opts); // the web console's login only
        }
        if (opts.saveTo().isPresent()) {
            RunningConfig running = new RunningConfig(opts.saveTo().get());
            control.onChange(c -> {
                try {
                    running.save(control.table(), c.timeouts());
                } catch (IOException e) {
                    System.err.println("jvs-forwarder: cannot save the running configuration to " + running.file()
                            + ": " + e.getMessage());
                }
            });
            running.save(control.table(), control.config().timeouts());
        }
        RateEstimator stats = new RateEstimator();
        SchedulerFactory schedulers = Schedulers.factory(opts.mhTableSize());
        Jvsadm jvsadm = new Jvsadm(control, dataPath, stats, schedulers, IpvsadmFormat.Names.system(), vrrp);
        ControlServer server = new ControlServer(jvsadm);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jvs-rate-estimator");
            t.setDaemon(true);
            return t;
        });
        try {
            int gid = -1;
            if (opts.controlGroup().isPresent()) {
                String name = opts.controlGroup().get();
                gid = io.jvs.sys.Privileges.group(name).orElseThrow(() -> new IOException(
                        "--control-group \"" + name + "\": no such group"));
            }
            server.listen(ControlSocketPath.resolve(opts.control().orElse(null)), gid);
            if (opts.controlHttp().isPresent()) {
                var at = server.listenHttp(opts.controlHttp().get(), token);
                System.out.println("jvs-forwarder: control API on http://" + at.getAddress().getHostAddress() + ":"
                        + at.getPort() + "/v1/jvsadm (bearer token)");
            }
        } catch (IOException | RuntimeException e) {
            server.close();
            sampler.shutdownNow();
            throw e;
        }
        sampler.scheduleAtFixedRate(() -> stats.sample(control.table()), RateEstimator.INTERVAL_SECONDS,
                RateEstimator.INTERVAL_SECONDS, TimeUnit.SECONDS);
        System.out.println("jvs-forwarder: jvsadm control socket " + server.socketPath());
        DirectorControl dc = new DirectorControl(control, server, sampler, opts.config(), schedulers, jvsadm,
                Optional.ofNullable(token));
        dc.onSighup();
        return dc;
    }

    private static String token(ForwarderCommandLine opts) throws IOException {
        String token;
        if (opts.controlTokenFile().isPresent()) {
            token = Files.readString(opts.controlTokenFile().get(), StandardCharsets.UTF_8).strip();
        } else {
            token = System.getenv("JVS_CONTROL_TOKEN");
        }
        if (token == null || token.isBlank()) {
            throw new IOException((opts.controlHttp().isPresent() ? "--control-http needs a bearer token"
                    : "the control token is empty") + ": --control-token-file FILE or JVS_CONTROL_TOKEN");
        }
        return token;
    }

    /** The jvsadm that serves the socket: the web console runs its changes through it too. */
    public Jvsadm jvsadm() {
        return jvsadm;
    }

    /** The control token (--control-token-file or $JVS_CONTROL_TOKEN), when one is configured. */
    public Optional<String> token() {
        return token;
    }

    private void onSighup() {
        ReloadSignal.onReload(this::reload);
    }

    /** Re-reads --config and applies it as one change; a bad file changes nothing. */
    public void reload() {
        if (configFile.isEmpty()) {
            System.err.println("jvs-forwarder: SIGHUP: no --config to re-read (re-reading --keepalived is not"
                    + " supported yet; jvsadm changes are live already)");
            return;
        }
        try {
            ServiceConfig next = ConfigFile.parse(configFile.get(), schedulers);
            control.apply(c -> next);
            System.out.println("jvs-forwarder: reloaded " + configFile.get() + ": " + next.services().size()
                    + " service(s)");
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("jvs-forwarder: reload of " + configFile.get() + " refused, configuration unchanged: "
                    + e.getMessage());
        }
    }

    @Override
    public void close() {
        sampler.shutdownNow();
        server.close();
    }
}
