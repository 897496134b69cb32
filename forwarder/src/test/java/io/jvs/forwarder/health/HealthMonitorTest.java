package io.jvs.forwarder.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * keepalived's health semantics on a fake clock: probes answer from a script
 * the test controls, the timer only moves when the test advances it, and
 * every change lands in a config held by the test (as ControlPlane.apply would).
 */
class HealthMonitorTest {
    static final int VIP = Ipv4Address.parse("10.0.0.100");
    static final String LABEL = "TCP 10.0.0.100:80";

    /** A timer on a fake clock: tasks run in due order when {@link #advanceTo} passes them. */
    static final class FakeTimer implements HealthMonitor.Timer {
        record Task(long due, long seq, Runnable run) {
        }

        final PriorityQueue<Task> queue = new PriorityQueue<>((a, b) -> a.due != b.due ? Long.compare(a.due, b.due)
                : Long.compare(a.seq, b.seq));
        long now;
        long seq;

        @Override
        public void schedule(Runnable task, long delayMillis) {
            queue.add(new Task(now + delayMillis, seq++, task));
        }

        void advanceTo(long t) {
            while (!queue.isEmpty() && queue.peek().due() <= t) {
                Task k = queue.poll();
                now = k.due();
                k.run().run();
            }
            now = t;
        }
    }

    /** Probe results by real server address, switchable by the test; every run is recorded with its time. */
    final Map<Integer, Boolean> healthy = new HashMap<>();
    final Map<Integer, Integer> dynamicWeight = new HashMap<>();
    final List<String> log = new ArrayList<>();
    final FakeTimer timer = new FakeTimer();
    ServiceConfig current;
    int applies;

    Probe probe(CheckSpec spec) {
        int addr = switch (spec) {
            case CheckSpec.Tcp t -> t.addr();
            case CheckSpec.Http h -> h.addr();
            case CheckSpec.Misc m -> Ipv4Address.parse(m.command().get(1));
        };
        return () -> {
            if (!healthy.getOrDefault(addr, true)) {
                return CheckResult.failed("refused");
            }
            Integer w = dynamicWeight.get(addr);
            return w == null ? CheckResult.ok() : CheckResult.ok(w);
        };
    }

    static ServiceSpec.Dest dest(String addr, int weight) {
        return new ServiceSpec.Dest(Ipv4Address.parse(addr), 80, weight, ForwardMethod.DR);
    }

    static CheckSpec tcp(String addr, CheckSpec.Timing t) {
        return new CheckSpec.Tcp(Ipv4Address.parse(addr), 80, t);
    }

    static HealthConfig.RealServer rs(String addr, int weight, boolean inhibit, CheckSpec... checks) {
        return new HealthConfig.RealServer(dest(addr, weight), List.of(checks), inhibit, List.of(), List.of());
    }

    HealthMonitor start(HealthConfig.Service svc) {
        List<ServiceSpec.Dest> all = svc.realServers().stream().map(HealthConfig.RealServer::dest).toList();
        ServiceConfig base = new ServiceConfig(List.of(new ServiceSpec(Protocol.TCP, VIP, 80, "rr", all)),
                io.jvs.forwarder.config.TimeoutSettings.DEFAULTS);
        HealthMonitor m = new HealthMonitor(new HealthConfig(List.of(svc)), this::probe, log::add);
        current = m.initial(base);
        m.start(op -> {
            current = op.apply(current);
            applies++;
        }, timer, Runnable::run);
        return m;
    }

    static HealthConfig.Service service(List<HealthConfig.RealServer> servers, ServiceSpec.Dest sorry, long quorum,
                                        long hysteresis) {
        return new HealthConfig.Service(List.of(LABEL), LABEL, servers, sorry, false, quorum, hysteresis, false,
                List.of(), List.of());
    }

    /** "10.0.0.11:80 w3" for each destination of the service now. */
    List<String> dests() {
        return current.services().getFirst().dests().stream().map(d -> d.endpoint() + " w" + d.weight()).toList();
    }

    @Test
    void failureRemovesAfterRetriesAndOneSuccessRestores() {
        // delay_loop 6 s, retry 2, delay_before_retry 1 s
        CheckSpec.Timing t = new CheckSpec.Timing(6000, 1000, 2, 1000, false);
        HealthMonitor m = start(service(List.of(rs("10.0.0.11", 3, false, tcp("10.0.0.11", t)),
                rs("10.0.0.12", 1, false, tcp("10.0.0.12", t))), null, 1, 0));
        timer.advanceTo(0);
        assertEquals(List.of("10.0.0.11:80 w3", "10.0.0.12:80 w1"), dests());
        assertEquals(0, applies);

        timer.advanceTo(10_000);
        healthy.put(Ipv4Address.parse("10.0.0.11"), false);
        // checks at 12 s (fail, retry 1), 13 s (retry 2), 14 s (down)
        timer.advanceTo(13_999);
        assertEquals(List.of("10.0.0.11:80 w3", "10.0.0.12:80 w1"), dests(), "still in while retries remain");
        timer.advanceTo(14_000);
        assertEquals(List.of("10.0.0.12:80 w1"), dests());
        assertEquals(1, applies);
        assertEquals(1, log.stream().filter(l -> l.contains("10.0.0.11:80") && l.contains("is down")).count(), log.toString());
        String down = m.realServerHealth().getFirst().lastTransition();
        assertTrue(down.startsWith("down (TCP_CHECK: "), down);

        // down: checked every delay_loop (20 s), no retries; back on the first success
        healthy.put(Ipv4Address.parse("10.0.0.11"), true);
        timer.advanceTo(19_999);
        assertEquals(List.of("10.0.0.12:80 w1"), dests());
        timer.advanceTo(20_000);
        assertEquals(List.of("10.0.0.11:80 w3", "10.0.0.12:80 w1"), dests());
        assertEquals(2, applies);

        HealthSource.RealServerHealth h = m.realServerHealth().getFirst();
        assertEquals(new HealthSource.RealServerHealth("TCP/10.0.0.100:80", "10.0.0.11:80", true, 1, 1,
                "up (TCP_CHECK ok)"), h);
        m.close();
    }

    @Test
    void aBlipShorterThanTheRetriesIsDamped() {
        CheckSpec.Timing t = new CheckSpec.Timing(2000, 1000, 2, 500, false);
        start(service(List.of(rs("10.0.0.11", 1, false, tcp("10.0.0.11", t))), null, 1, 0));
        int a = Ipv4Address.parse("10.0.0.11");
        timer.advanceTo(0); // first check: ok; the next runs at 2 s
        long lastOk = 0;
        for (int round = 0; round < 5; round++) {
            healthy.put(a, false); // the check at +2 s and its retry at +2.5 s fail (2 failures, retry 2)
            timer.advanceTo(lastOk + 2500);
            healthy.put(a, true); // the second retry at +3 s succeeds
            timer.advanceTo(lastOk + 3000);
            lastOk += 3000;
        }
        assertEquals(0, applies, log.toString());
        assertTrue(log.isEmpty(), log.toString());
        assertEquals(List.of("10.0.0.11:80 w1"), dests());

        healthy.put(a, false); // a third consecutive failure does take it out
        timer.advanceTo(lastOk + 3000);
        assertEquals(List.of(), dests());
        assertEquals(1, applies, log.toString());
    }

    @Test
    void inhibitOnFailureKeepsTheServerAtWeightZero() {
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 0, 1000, false);
        start(service(List.of(rs("10.0.0.11", 5, true, tcp("10.0.0.11", t)), rs("10.0.0.12", 1, false)), null, 1, 0));
        healthy.put(Ipv4Address.parse("10.0.0.11"), false);
        timer.advanceTo(0);
        assertEquals(List.of("10.0.0.11:80 w0", "10.0.0.12:80 w1"), dests());
        healthy.put(Ipv4Address.parse("10.0.0.11"), true);
        timer.advanceTo(1000);
        assertEquals(List.of("10.0.0.11:80 w5", "10.0.0.12:80 w1"), dests());
    }

    @Test
    void alphaStartsDownUntilTheFirstSuccess() {
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 1, 1000, true);
        start(service(List.of(rs("10.0.0.11", 2, false, tcp("10.0.0.11", t)), rs("10.0.0.12", 1, true,
                tcp("10.0.0.12", t))), null, 1, 0));
        healthy.put(Ipv4Address.parse("10.0.0.11"), false);
        assertEquals(List.of("10.0.0.12:80 w0"), dests(), "before any check: alpha servers are out (inhibit: weight 0)");
        timer.advanceTo(0);
        assertEquals(List.of("10.0.0.12:80 w1"), dests());
        timer.advanceTo(5000);
        assertEquals(List.of("10.0.0.12:80 w1"), dests(), "a failing alpha server never entered");
        healthy.put(Ipv4Address.parse("10.0.0.11"), true);
        timer.advanceTo(6000);
        assertEquals(List.of("10.0.0.11:80 w2", "10.0.0.12:80 w1"), dests());
    }

    @Test
    void sorryServerReplacesTheAliveServersWhileQuorumIsLostWithHysteresis() {
        // weights 3, 2, 2; quorum 5, hysteresis 1: lost below 4 (or at 0), regained at 6 or more
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 0, 1000, false);
        start(service(List.of(rs("10.0.0.11", 3, false, tcp("10.0.0.11", t)),
                rs("10.0.0.12", 2, false, tcp("10.0.0.12", t)), rs("10.0.0.13", 2, false, tcp("10.0.0.13", t))),
                dest("10.0.0.99", 1), 5, 1));
        timer.advanceTo(0);
        assertEquals(List.of("10.0.0.11:80 w3", "10.0.0.12:80 w2", "10.0.0.13:80 w2"), dests());

        healthy.put(Ipv4Address.parse("10.0.0.13"), false); // 5 alive: still >= 4
        timer.advanceTo(1000);
        assertEquals(List.of("10.0.0.11:80 w3", "10.0.0.12:80 w2"), dests());

        healthy.put(Ipv4Address.parse("10.0.0.12"), false); // 3 alive: < 4, quorum lost
        timer.advanceTo(2000);
        assertEquals(List.of("10.0.0.99:80 w1"), dests(), "sorry server alone while quorum is lost");
        assertTrue(log.stream().anyMatch(l -> l.contains("lost quorum")), log.toString());

        healthy.put(Ipv4Address.parse("10.0.0.12"), true); // 5 alive: not yet 6
        timer.advanceTo(3000);
        assertEquals(List.of("10.0.0.99:80 w1"), dests(), "hysteresis: 5 < quorum+hysteresis");

        healthy.put(Ipv4Address.parse("10.0.0.13"), true); // 7: regained
        timer.advanceTo(4000);
        assertEquals(List.of("10.0.0.11:80 w3", "10.0.0.12:80 w2", "10.0.0.13:80 w2"), dests());
        assertTrue(log.stream().anyMatch(l -> l.contains("gained quorum")), log.toString());
    }

    @Test
    void quorumLostAtStartPutsTheSorryServerIn() {
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 0, 1000, true);
        start(service(List.of(rs("10.0.0.11", 1, false, tcp("10.0.0.11", t))), dest("10.0.0.99", 1), 1, 0));
        assertEquals(List.of("10.0.0.99:80 w1"), dests());
        timer.advanceTo(0);
        assertEquals(List.of("10.0.0.11:80 w1"), dests());
    }

    @Test
    void miscDynamicSetsTheWeight() {
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 0, 1000, false);
        CheckSpec misc = new CheckSpec.Misc(List.of("/bin/check", "10.0.0.11"), 1000, true, t);
        start(service(List.of(rs("10.0.0.11", 1, false, misc)), null, 1, 0));
        dynamicWeight.put(Ipv4Address.parse("10.0.0.11"), 7);
        timer.advanceTo(0);
        assertEquals(List.of("10.0.0.11:80 w7"), dests());
        assertTrue(log.stream().anyMatch(l -> l.contains("weight 1 -> 7")), log.toString());
    }

    @Test
    void aChangeTheControlPlaneRefusesIsLoggedAndStateKeepsGoing() {
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 0, 1000, false);
        List<ServiceSpec.Dest> all = List.of(dest("10.0.0.11", 1));
        ServiceConfig base = new ServiceConfig(List.of(new ServiceSpec(Protocol.TCP, VIP, 80, "rr", all)),
                io.jvs.forwarder.config.TimeoutSettings.DEFAULTS);
        HealthMonitor m = new HealthMonitor(new HealthConfig(List.of(service(
                List.of(rs("10.0.0.11", 1, false, tcp("10.0.0.11", t))), null, 1, 0))), this::probe, log::add);
        current = m.initial(base);
        UnaryOperator<ServiceConfig> refuse = c -> {
            throw new IllegalArgumentException("refused by validation");
        };
        m.start(op -> current = refuse.apply(op.apply(current)), timer, Runnable::run);
        healthy.put(Ipv4Address.parse("10.0.0.11"), false);
        timer.advanceTo(0);
        assertEquals(List.of("10.0.0.11:80 w1"), dests(), "unchanged");
        assertTrue(log.stream().anyMatch(l -> l.contains("not applied") && l.contains("refused by validation")),
                log.toString());
        assertEquals(false, m.realServerHealth().getFirst().up());
    }

    @Test
    void omegaRunsDownNotificationsWhenStopping(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("down");
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 0, 1000, false);
        HealthConfig.RealServer r = new HealthConfig.RealServer(dest("10.0.0.11", 1),
                List.of(tcp("10.0.0.11", t)), false, List.of(), List.of("/usr/bin/touch", marker.toString()));
        HealthMonitor m = start(new HealthConfig.Service(List.of(LABEL), LABEL, List.of(r), null, false, 1, 0, true,
                List.of(), List.of()));
        timer.advanceTo(0);
        m.close();
        assertTrue(Files.exists(marker), "notify_down ran on stop (omega)");
    }

    @Test
    void notifyDownRunsOnTheTransition(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("down");
        CheckSpec.Timing t = new CheckSpec.Timing(1000, 1000, 0, 1000, false);
        HealthConfig.RealServer r = new HealthConfig.RealServer(dest("10.0.0.11", 1),
                List.of(tcp("10.0.0.11", t)), false, List.of(), List.of("/usr/bin/touch", marker.toString()));
        start(new HealthConfig.Service(List.of(LABEL), LABEL, List.of(r), null, false, 1, 0, false, List.of(),
                List.of()));
        healthy.put(Ipv4Address.parse("10.0.0.11"), false);
        timer.advanceTo(0);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!Files.exists(marker) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(marker), "notify_down ran");
    }
}
