package io.jvs.forwarder.health;

import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.ServiceSpec;

import java.util.List;
import java.util.Objects;

/**
 * What is health-checked, as keepalived.conf says it: per virtual server (or
 * per {@code virtual_server group}, whose entries share one health state) the
 * real servers with their checkers, the quorum settings and the sorry server.
 * Immutable.
 *
 * @param services one entry per keepalived {@code virtual_server} block
 */
public record HealthConfig(List<Service> services) {
    public static final HealthConfig NONE = new HealthConfig(List.of());

    public HealthConfig {
        services = List.copyOf(services);
    }

    /**
     * {@code d} as a real server of an address service on {@code port}: a DR
     * or TUN real server takes the service's port (ipvsadm's rule; those
     * methods never rewrite ports), a NAT one keeps its own.
     */
    public static ServiceSpec.Dest forServicePort(ServiceSpec.Dest d, int port) {
        if (d.method() != ForwardMethod.DR && d.method() != ForwardMethod.TUN || d.port() == port) {
            return d;
        }
        return new ServiceSpec.Dest(d.addr(), port, d.weight(), d.method(), d.upperThreshold(), d.lowerThreshold(),
                d.tunType(), d.tunPort(), d.tunFlags(), d.addr6());
    }

    /**
     * One keepalived virtual_server.
     *
     * @param labels      the jvs services it stands for ({@link ServiceSpec#label()}: one, or a group's entries)
     * @param name        how logs name it ("TCP 10.0.0.100:80", "group web")
     * @param realServers in config order
     * @param sorryServer added when quorum is lost, null = none
     * @param sorryInhibit sorry_server_inhibit: the sorry server stays in at weight 0 while quorum holds
     * @param quorum      least alive weight sum (default 1)
     * @param hysteresis  quorum is lost below quorum-hysteresis and regained at quorum+hysteresis
     * @param omega       run down notifications when jvs stops
     * @param quorumUp    notify script (argv) when quorum is gained, empty = none
     * @param quorumDown  notify script (argv) when quorum is lost, empty = none
     */
    public record Service(List<String> labels, String name, List<RealServer> realServers,
                          ServiceSpec.Dest sorryServer, boolean sorryInhibit, long quorum, long hysteresis, boolean omega,
                          List<String> quorumUp, List<String> quorumDown) {
        public Service {
            labels = List.copyOf(labels);
            Objects.requireNonNull(name);
            realServers = List.copyOf(realServers);
            if (quorum < 0 || hysteresis < 0) {
                throw new IllegalArgumentException("quorum and hysteresis must not be negative");
            }
            quorumUp = List.copyOf(quorumUp);
            quorumDown = List.copyOf(quorumDown);
        }
    }

    /**
     * One real_server: its configured destination (weight = configured weight),
     * its checkers (none = always alive), what a failure does.
     *
     * @param inhibit    inhibit_on_failure: a down server stays with weight 0 instead of being removed
     * @param notifyUp   notify_up script (argv), empty = none
     * @param notifyDown notify_down script (argv), empty = none
     */
    public record RealServer(ServiceSpec.Dest dest, List<CheckSpec> checks, boolean inhibit, List<String> notifyUp,
                             List<String> notifyDown) {
        public RealServer {
            Objects.requireNonNull(dest);
            checks = List.copyOf(checks);
            notifyUp = List.copyOf(notifyUp);
            notifyDown = List.copyOf(notifyDown);
        }
    }
}
