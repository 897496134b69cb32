package io.jvs.forwarder.health;

import io.jvs.forwarder.service.ServiceSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The health of one keepalived virtual_server and the real-server list it
 * implies, with keepalived's semantics (check/ipwrapper.c):
 *
 * <ul>
 *   <li>A real server is alive while none of its checkers is down (no
 *       checkers: always alive). With alpha its checkers start down, so it
 *       enters only after each has succeeded once.</li>
 *   <li>An alive server is in the service at its weight (the configured one,
 *       or the last misc_dynamic one). A dead one is removed, or stays at
 *       weight 0 with inhibit_on_failure (existing connections keep flowing
 *       either way; weight 0 and removal both stop new ones).</li>
 *   <li>Quorum: the alive weight sum. Starting state: up when the sum is at
 *       least quorum+hysteresis. Lost when the sum is 0 or below
 *       quorum-hysteresis; regained at quorum+hysteresis or more. While it is
 *       lost, the sorry server (if any) is the service's only live
 *       destination: alive real servers are taken out and come back together
 *       when quorum returns. With sorry_server_inhibit the sorry server stays
 *       in at weight 0 while not needed.</li>
 * </ul>
 * Pure state: no clock, no threads; {@link HealthMonitor} feeds it check
 * results on its one thread and publishes {@link #dests} through the control plane.
 */
final class ServiceHealthState {
    /** One real server's state. */
    static final class Server {
        final HealthConfig.RealServer config;
        final CheckerState[] checkers;
        int weight;
        long upTransitions;
        long downTransitions;
        /** Why it last went up or down, for the console; "" before its first transition. */
        String lastTransition = "";

        Server(HealthConfig.RealServer config) {
            this.config = config;
            this.checkers = new CheckerState[config.checks().size()];
            for (int i = 0; i < checkers.length; i++) {
                checkers[i] = new CheckerState(config.checks().get(i).timing());
            }
            this.weight = config.dest().weight();
        }

        boolean alive() {
            for (CheckerState c : checkers) {
                if (!c.up()) {
                    return false;
                }
            }
            return true;
        }

        String endpoint() {
            return config.dest().endpoint();
        }
    }

    final HealthConfig.Service config;
    final Server[] servers;
    private boolean quorumUp;

    ServiceHealthState(HealthConfig.Service config) {
        this.config = config;
        this.servers = new Server[config.realServers().size()];
        for (int i = 0; i < servers.length; i++) {
            servers[i] = new Server(config.realServers().get(i));
        }
        quorumUp = aliveWeight() >= config.quorum() + config.hysteresis();
    }

    boolean quorumUp() {
        return quorumUp;
    }

    /** The sorry server is what the service runs on now. */
    boolean sorryActive() {
        return !quorumUp && config.sorryServer() != null;
    }

    long aliveWeight() {
        long sum = 0;
        for (Server s : servers) {
            if (s.alive()) {
                sum += s.weight;
            }
        }
        return sum;
    }

    /**
     * Records one result of checker {@code checker} of server {@code server}.
     * Returns true when the service's destinations may have changed; every
     * transition is told to {@code log} once, as one line.
     */
    boolean record(int server, int checker, CheckResult result, Consumer<String> log) {
        Server s = servers[server];
        boolean wasAlive = s.alive();
        int oldWeight = s.weight;
        boolean changed = s.checkers[checker].record(result.up());
        if (result.up() && result.weight() != CheckResult.WEIGHT_UNCHANGED) {
            s.weight = result.weight();
        }
        boolean alive = s.alive();
        String what = s.config.checks().get(checker).kind();
        if (wasAlive != alive) {
            if (alive) {
                s.upTransitions++;
                s.lastTransition = "up (" + what + " " + result.detail() + ")";
                log.accept("real server " + s.endpoint() + " of " + config.name() + " is up (" + what + " "
                        + result.detail() + "), " + (s.config.inhibit() ? "weight restored to " : "added with weight ")
                        + s.weight);
            } else {
                s.downTransitions++;
                s.lastTransition = "down (" + what + ": " + result.detail() + ")";
                log.accept("real server " + s.endpoint() + " of " + config.name() + " is down (" + what + ": "
                        + result.detail() + "), " + (s.config.inhibit() ? "weight set to 0" : "removed"));
            }
        } else if (changed) {
            log.accept("real server " + s.endpoint() + " of " + config.name() + ": " + what + " "
                    + (s.checkers[checker].up() ? "up" : "down: " + result.detail())
                    + " (another checker keeps it " + (alive ? "up" : "down") + ")");
        }
        if (oldWeight != s.weight) {
            log.accept("real server " + s.endpoint() + " of " + config.name() + ": weight " + oldWeight + " -> "
                    + s.weight + " (misc_dynamic)");
        }
        boolean quorumChanged = updateQuorum(log);
        return wasAlive != alive || oldWeight != s.weight || quorumChanged;
    }

    private boolean updateQuorum(Consumer<String> log) {
        long sum = aliveWeight();
        if (!quorumUp && sum >= config.quorum() + config.hysteresis()) {
            quorumUp = true;
            log.accept(config.name() + ": gained quorum " + config.quorum() + "+" + config.hysteresis() + "="
                    + (config.quorum() + config.hysteresis()) + " <= " + sum
                    + (config.sorryServer() != null ? "; sorry server " + config.sorryServer().endpoint()
                    + " out, alive real servers back in" : ""));
            return true;
        }
        if (quorumUp && (sum == 0 || sum < config.quorum() - config.hysteresis())) {
            quorumUp = false;
            log.accept(config.name() + ": lost quorum " + config.quorum() + "-" + config.hysteresis() + "="
                    + (config.quorum() - config.hysteresis()) + " > " + sum
                    + (config.sorryServer() != null ? "; sorry server " + config.sorryServer().endpoint()
                    + " in, alive real servers out" : ""));
            return true;
        }
        return false;
    }

    /** The destinations {@code spec} (one of this virtual server's services) should have now, in config order. */
    List<ServiceSpec.Dest> dests(ServiceSpec spec) {
        List<ServiceSpec.Dest> out = new ArrayList<>(servers.length + 1);
        boolean sorry = sorryActive();
        for (Server s : servers) {
            if (s.alive() && !sorry) {
                out.add(adapt(s.config.dest().withWeight(s.weight), spec));
            } else if (!s.alive() && s.config.inhibit()) {
                out.add(adapt(s.config.dest().withWeight(0), spec));
            }
        }
        if (config.sorryServer() != null && (sorry || config.sorryInhibit())) {
            out.add(adapt(config.sorryServer().withWeight(sorry ? config.sorryServer().weight() : 0), spec));
        }
        return out;
    }

    private static ServiceSpec.Dest adapt(ServiceSpec.Dest d, ServiceSpec spec) {
        return spec.isFwmark() ? d : HealthConfig.forServicePort(d, spec.port());
    }
}
