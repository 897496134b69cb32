package io.jvs.forwarder.health;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.forwarder.service.ServiceSpec;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Runs the health checks of a {@link HealthConfig} and keeps the director's
 * real-server lists in line with them.
 *
 * <p>Threads: one health thread owns all state ({@link ServiceHealthState}s)
 * and the timers, one per checker, each on its own schedule; the probes
 * themselves (connects, HTTP requests, scripts) run on virtual threads and
 * hand their result back to the health thread. Nothing here runs on, or
 * blocks, the data path: a change goes through the control plane's apply
 * (ctl.ControlPlane, passed in as a function so that health checking does not
 * depend on the control side), which validates the whole configuration and
 * publishes one new snapshot
 * (existing connections keep flowing; removal and weight 0 only stop new ones).
 * A change the control plane refuses is logged and the running configuration
 * stays as it was.
 *
 * <p>Every transition (real server up/down, weight change, quorum lost or
 * gained) is logged once, as one line, and counted for
 * {@code jvs_real_server_up} / {@code jvs_health_transitions_total}. notify_up,
 * notify_down, quorum_up and quorum_down scripts run on their transitions;
 * with omega, notify_down/quorum_down also run when jvs stops.
 */
public final class HealthMonitor implements HealthSource, AutoCloseable {
    /** The health thread's timer; tasks run one at a time, in time order. */
    public interface Timer {
        void schedule(Runnable task, long delayMillis);
    }

    /** Seconds a notify script may run before it is killed. */
    static final long NOTIFY_TIMEOUT_SECONDS = 10;

    private final HealthConfig config;
    private final Function<CheckSpec, Probe> probes;
    private final Consumer<String> log;
    private final List<ServiceHealthState> states = new ArrayList<>();
    private final Map<String, ServiceSpec> baseSpecs = new HashMap<>();
    private volatile List<RealServerHealth> snapshot = List.of();
    private Consumer<UnaryOperator<ServiceConfig>> apply;
    private Timer timer;
    private Executor probeRunner;
    private ScheduledThreadPoolExecutor ownTimer;
    private ExecutorService ownRunner;
    private volatile boolean closed;

    /**
     * @param probes how a checker is carried out ({@link Probe#of} in production)
     * @param log    where transition lines go (one call per transition)
     */
    public HealthMonitor(HealthConfig config, Function<CheckSpec, Probe> probes, Consumer<String> log) {
        this.config = Objects.requireNonNull(config);
        this.probes = Objects.requireNonNull(probes);
        this.log = Objects.requireNonNull(log);
        for (HealthConfig.Service s : config.services()) {
            states.add(new ServiceHealthState(s));
        }
    }

    /**
     * {@code base} (every real server in, as keepalived.conf lists them) with
     * the starting state applied: alpha servers out (or at weight 0 with
     * inhibit_on_failure), the sorry server in where quorum starts lost.
     */
    public ServiceConfig initial(ServiceConfig base) {
        for (ServiceSpec s : base.services()) {
            baseSpecs.put(s.label(), s);
        }
        for (ServiceHealthState st : states) {
            if (!st.quorumUp()) {
                log.accept(st.config.name() + ": starting with quorum down (alive weight " + st.aliveWeight()
                        + " < " + (st.config.quorum() + st.config.hysteresis()) + ")"
                        + (st.config.sorryServer() != null ? "; sorry server " + st.config.sorryServer().endpoint()
                        + " in" : ""));
            }
        }
        refreshSnapshot();
        return withDests(base, states);
    }

    /**
     * Starts checking on its own health thread, applying changes through
     * {@code apply} (the director's ControlPlane::apply: validates and
     * publishes, or throws IllegalArgumentException with nothing changed).
     */
    public void start(Consumer<UnaryOperator<ServiceConfig>> apply) {
        ownTimer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "jvs-health");
            t.setDaemon(true);
            return t;
        });
        ownTimer.setRemoveOnCancelPolicy(true);
        ownRunner = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("jvs-check-", 0).factory());
        start(apply, (task, ms) -> {
            if (!closed) {
                ownTimer.schedule(task, ms, TimeUnit.MILLISECONDS);
            }
        }, ownRunner);
    }

    /**
     * Starts checking: every checker runs at once, then on its own schedule.
     * {@code initial} must have been called. Package-private use: tests with a
     * fake timer and an inline probe runner.
     */
    void start(Consumer<UnaryOperator<ServiceConfig>> apply, Timer timer, Executor probeRunner) {
        this.apply = Objects.requireNonNull(apply);
        this.timer = Objects.requireNonNull(timer);
        this.probeRunner = Objects.requireNonNull(probeRunner);
        for (ServiceHealthState st : states) {
            for (int i = 0; i < st.servers.length; i++) {
                for (int j = 0; j < st.servers[i].checkers.length; j++) {
                    int server = i;
                    int checker = j;
                    Probe probe = probes.apply(st.servers[i].config.checks().get(j));
                    timer.schedule(() -> runCheck(st, server, checker, probe), 0);
                }
            }
        }
    }

    private void runCheck(ServiceHealthState st, int server, int checker, Probe probe) {
        if (closed) {
            return;
        }
        probeRunner.execute(() -> {
            CheckResult r;
            try {
                r = probe.run();
            } catch (RuntimeException e) {
                r = CheckResult.failed("checker error: " + e);
            }
            CheckResult result = r;
            timer.schedule(() -> handle(st, server, checker, probe, result), 0);
        });
    }

    /** On the health thread: record, publish if needed, schedule the next check. */
    private void handle(ServiceHealthState st, int server, int checker, Probe probe, CheckResult r) {
        if (closed) {
            return;
        }
        ServiceHealthState.Server s = st.servers[server];
        boolean wasAlive = s.alive();
        boolean hadQuorum = st.quorumUp();
        if (st.record(server, checker, r, log)) {
            publish(st);
            refreshSnapshot();
        }
        if (wasAlive != s.alive()) {
            notify(s.alive() ? s.config.notifyUp() : s.config.notifyDown(), false);
        }
        if (hadQuorum != st.quorumUp()) {
            notify(st.quorumUp() ? st.config.quorumUp() : st.config.quorumDown(), false);
        }
        timer.schedule(() -> runCheck(st, server, checker, probe), s.checkers[checker].nextDelayMillis());
    }

    private void publish(ServiceHealthState st) {
        try {
            apply.accept(cfg -> withDests(cfg, List.of(st)));
        } catch (IllegalArgumentException e) {
            log.accept(st.config.name() + ": health change not applied, the running configuration is unchanged: "
                    + e.getMessage());
        }
    }

    /** {@code cfg} with the destinations of every service of {@code which} replaced by what their health says. */
    private static ServiceConfig withDests(ServiceConfig cfg, List<ServiceHealthState> which) {
        Map<String, ServiceHealthState> byLabel = new HashMap<>();
        for (ServiceHealthState st : which) {
            for (String label : st.config.labels()) {
                byLabel.put(label, st);
            }
        }
        List<ServiceSpec> out = new ArrayList<>(cfg.services().size());
        for (ServiceSpec s : cfg.services()) {
            ServiceHealthState st = byLabel.get(s.label());
            out.add(st == null ? s : s.withDests(st.dests(s)));
        }
        return new ServiceConfig(out, cfg.fwmarkRules(), cfg.timeouts());
    }

    private void refreshSnapshot() {
        List<RealServerHealth> out = new ArrayList<>();
        for (ServiceHealthState st : states) {
            for (String label : st.config.labels()) {
                ServiceSpec spec = baseSpecs.get(label);
                String service = label.replace(' ', '/');
                for (ServiceHealthState.Server s : st.servers) {
                    ServiceSpec.Dest d = spec == null || spec.isFwmark() ? s.config.dest()
                            : HealthConfig.forServicePort(s.config.dest(), spec.port());
                    out.add(new RealServerHealth(service, d.endpoint(), s.alive(), s.upTransitions,
                            s.downTransitions, s.lastTransition));
                }
            }
        }
        snapshot = List.copyOf(out);
    }

    @Override
    public List<RealServerHealth> realServerHealth() {
        return snapshot;
    }

    /** Runs a notify script without waiting for it (or, when stopping, waiting up to 1 s as keepalived does). */
    private void notify(List<String> argv, boolean stopping) {
        if (argv.isEmpty()) {
            return;
        }
        Process p;
        try {
            p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            log.accept("notify script " + argv.getFirst() + " cannot run: " + e.getMessage());
            return;
        }
        Runnable reap = () -> {
            try {
                if (!p.waitFor(stopping ? 1 : NOTIFY_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    log.accept("notify script " + argv.getFirst() + " killed after "
                            + (stopping ? 1 : NOTIFY_TIMEOUT_SECONDS) + " s");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        };
        if (stopping) {
            reap.run();
        } else {
            Thread.ofVirtual().name("jvs-notify").start(reap);
        }
    }

    /** Stops checking; with omega, runs the down notifications of what was up (as keepalived does on shutdown). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (ownTimer != null) {
            ownTimer.shutdownNow();
        }
        if (ownRunner != null) {
            ownRunner.shutdownNow();
        }
        for (ServiceHealthState st : states) {
            if (!st.config.omega()) {
                continue;
            }
            for (ServiceHealthState.Server s : st.servers) {
                if (s.alive()) {
                    notify(s.config.notifyDown(), true);
                }
            }
            if (st.quorumUp()) {
                notify(st.config.quorumDown(), true);
            }
        }
    }
}
