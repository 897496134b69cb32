package io.jvs.forwarder.announce;

import io.jvs.forwarder.config.ForwarderCommandLine;
import io.jvs.forwarder.ctl.ControlPlane;
import io.jvs.forwarder.metrics.PrometheusExposition;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The ECMP profile at run time (--announce-table): the VIP routes BIRD exports ({@link VipRoutes}),
 * kept equal to the served VIPs of every published snapshot; a poll of BIRD's state every second
 * on thread {@code jvs-bird} (for the metrics and the status line); the metrics; and the graceful
 * stop: withdraw, keep forwarding for --drain-time, counting the packets for a VIP that still came.
 */
public final class Announcement {
    private final ForwarderCommandLine.Announce settings;
    private final VipRoutes routes;
    private final BirdControl bird;
    private final ControlPlane control;
    private final Consumer<String> log;
    private final ScheduledExecutorService poller;
    private volatile BirdStatus status = BirdStatus.UNKNOWN;
    private volatile String digest;

    private Announcement(ForwarderCommandLine.Announce settings, VipRoutes routes, ControlPlane control,
                         Consumer<String> log) {
        this.settings = settings;
        this.routes = routes;
        this.bird = new BirdControl(settings.birdSocket());
        this.control = control;
        this.log = log;
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jvs-bird");
            t.setDaemon(true);
            return t;
        });
        this.digest = ConfigDigest.of(control.table(), control.config().timeouts());
    }

    /**
     * Checked before anything is attached: BIRD answers on its control socket. The one-line
     * IOException says BIRD is not installed or not running, naming the socket.
     */
    public static String checkBird(ForwarderCommandLine.Announce settings) throws IOException {
        String greeting = new BirdControl(settings.birdSocket()).check();
        return greeting.endsWith(" ready.") ? greeting.substring(0, greeting.length() - " ready.".length()) : greeting;
    }

    /**
     * Starts announcing what {@code control} serves now and after every change ({@code onPublish}
     * registers a listener on the published snapshots; {@code privileged} runs the route change on
     * a thread that keeps CAP_NET_ADMIN under --user: the event loop); registers the metrics.
     */
    public static Announcement start(ForwarderCommandLine.Announce settings, ControlPlane control,
                                     Consumer<Consumer<ServiceTable>> onPublish, Consumer<Runnable> privileged,
                                     Optional<PrometheusExposition> exposition, Consumer<String> log) throws IOException {
        VipRoutes routes = VipRoutes.open(settings, log);
        Announcement a = new Announcement(settings, routes, control, log);
        onPublish.accept(table -> {
            privileged.accept(() -> routes.update(table));
            a.digest = ConfigDigest.of(table, control.config().timeouts());
        });
        routes.update(control.table());
        exposition.ifPresent(e -> e.register(new EcmpMetrics(routes::announcedText, () -> a.status, () -> a.digest)));
        a.poller.scheduleWithFixedDelay(a::poll, 0, 1, TimeUnit.SECONDS);
        return a;
    }

    private void poll() {
        try {
            List<String> protocols = bird.command("show protocols");
            List<String> bfd;
            try {
                bfd = bird.command("show bfd sessions");
            } catch (IOException e) {
                bfd = List.of(); // no BFD protocol configured: BIRD says so, and there are no sessions
            }
            BirdStatus next = BirdStatus.parse(protocols, bfd);
            if (!status.reachable()) {
                log.accept("BIRD at " + bird.socket() + ": " + describe(next));
            }
            status = next;
        } catch (IOException | RuntimeException e) {
            if (status.reachable() || status == BirdStatus.UNKNOWN) {
                log.accept("BIRD at " + bird.socket() + " does not answer: " + e.getMessage());
            }
            status = new BirdStatus(false, List.of(), List.of());
        }
    }

    private static String describe(BirdStatus s) {
        return s.bgp().size() + " BGP session(s) ("
                + String.join(", ", s.bgp().stream().map(b -> b.protocol() + " " + (b.established() ? "Established"
                : b.state() + " " + b.info())).toList()) + "), " + s.bfd().size() + " BFD session(s)";
    }

    public BirdStatus status() {
        return status;
    }

    /** The VIPs announced now, IPv4 then IPv6, as text. */
    public List<String> announced() {
        return routes.announcedText();
    }

    /**
     * Graceful stop, first part: withdraw every VIP, then keep forwarding for --drain-time while
     * watching the services' inbound packet counters; logs when the last packet for a VIP came
     * (the withdrawal-to-zero-traffic time). The caller then closes the data path.
     */
    public void withdrawAndDrain() {
        long first = inPackets();
        long t0 = System.nanoTime();
        int n = routes.withdrawAll();
        long drainNanos = TimeUnit.SECONDS.toNanos(settings.drainSeconds());
        long last = first;
        long lastAt = t0;
        boolean interrupted = false;
        while (System.nanoTime() - t0 < drainNanos) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                interrupted = true; // the drain is the point of a graceful stop: finish it
            }
            long p = inPackets();
            if (p != last) {
                last = p;
                lastAt = System.nanoTime();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        log.accept("withdrew " + n + " VIP(s); drained " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
                + " ms; " + (last - first) + " packet(s) for a VIP came after the withdrawal, the last "
                + TimeUnit.NANOSECONDS.toMillis(lastAt - t0) + " ms after it");
    }

    private long inPackets() {
        long n = 0;
        ServiceTable t = control.table();
        for (VirtualService s : t.services()) {
            for (RealServer d : s.dests) {
                n += d.stats.inPkts();
            }
        }
        return n;
    }

    /** Stops polling and closes the device (anything still announced goes with it). */
    public void close() {
        poller.shutdownNow();
        routes.close();
    }
}
