package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.ctl.ControlPlane;
import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.ctl.RateEstimator;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.service.ServiceTableBuilder;

import io.jvs.forwarder.sync.SyncControl;
import io.jvs.forwarder.sync.SyncDaemons;
import io.jvs.forwarder.sync.SyncException;
import io.jvs.forwarder.sync.SyncRole;
import io.jvs.forwarder.sync.SyncSettings;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A jvsadm over an in-process control plane (no data path), with name resolution from a fixed
 * table instead of DNS: rs1.lab is 10.0.0.11 both ways, no other name resolves (the fuzz targets
 * write random host names, each a DNS query costing more than all the rest of an input).
 */
public final class JvsadmHarness {
    /**
     * The director's own scheduler factory (every IPVS name, checked with the service's flags) with
     * the smallest mh table the kernel can be built with (251, {@code --mh-table-size}): every
     * change rebuilds the table, and filling the default 4,093 slots was a tenth of a fuzz input.
     */
    static final SchedulerFactory SCHEDULERS = io.jvs.forwarder.sched.Schedulers.factory(251);

    /** Names as a resolver without DNS would give them: rs1.lab for 10.0.0.11, numbers otherwise. */
    static final IpvsadmFormat.Names NAMES = new IpvsadmFormat.Names() {
        @Override
        public String host(int addr) {
            return addr == Ipv4Address.parse("10.0.0.11") ? "rs1.lab" : Ipv4Address.toString(addr);
        }

        @Override
        public String port(int port, int proto) {
            return port == 80 ? "http" : Integer.toString(port);
        }

        @Override
        public String host6(io.jvs.packet.Ipv6Address addr) {
            return addr.equals(io.jvs.packet.Ipv6Address.parse("2001:db8::11")) ? "rs6.lab" : addr.toString();
        }
    };

    /** The forward half of {@link #NAMES}: rs1.lab, nothing else. */
    static final IpvsadmParser.HostNames HOSTS = name -> name.equals("rs1.lab")
            ? java.util.OptionalInt.of(Ipv4Address.parse("10.0.0.11")) : java.util.OptionalInt.empty();

    public final ControlPlane control;
    final RateEstimator stats = new RateEstimator();
    public final Jvsadm jvsadm;
    List<DataPathView.Connection> connections = new ArrayList<>();
    final FakeSyncDaemons daemons = new FakeSyncDaemons();

    /**
     * The kernel's answers to start/stop (start_sync_thread, stop_sync_thread) without sockets, for
     * a host with interfaces eth0 (MTU 1500) and sync0 (MTU 9000).
     */
    static final class FakeSyncDaemons implements SyncControl {
        private final Map<String, Integer> mtus = Map.of("eth0", 1500, "sync0", 9000);
        private final Map<SyncRole, SyncDaemons.Daemon> running = new EnumMap<>(SyncRole.class);

        @Override
        public void start(SyncRole role, SyncSettings settings) throws SyncException {
            if (running.containsKey(role)) {
                throw new SyncException("Daemon has already run");
            }
            Integer mtu = mtus.get(settings.iface());
            if (mtu == null) {
                throw new SyncException("No such device");
            }
            running.put(role, new SyncDaemons.Daemon(role, settings.effective(role, mtu)));
        }

        @Override
        public void stop(SyncRole role) throws SyncException {
            if (running.remove(role) == null) {
                throw new SyncException("No daemon is running");
            }
        }

        @Override
        public List<SyncDaemons.Daemon> list() {
            return List.copyOf(running.values()); // EnumMap: MASTER before BACKUP
        }
    }

    public JvsadmHarness() {
        this(t -> { });
    }

    JvsadmHarness(java.util.function.Consumer<io.jvs.forwarder.service.ServiceTable> dataPathCheck) {
        control = new ControlPlane(ServiceConfig.EMPTY, new ServiceTableBuilder(SCHEDULERS), dataPathCheck);
        DataPathView view = new DataPathView() {
            @Override
            public int connectionCapacity() {
                return 4096;
            }

            @Override
            public Connections connections(int max) {
                return new Connections(connections.subList(0, Math.min(max, connections.size())),
                        connections.size());
            }

            @Override
            public SyncControl syncDaemons() {
                return daemons;
            }
        };
        jvsadm = new Jvsadm(control, view, stats, SCHEDULERS, NAMES, io.jvs.forwarder.vrrp.VrrpStatus.Source.NONE, HOSTS);
    }

    /** Runs one command line (words split on spaces) with no stdin. */
    Jvsadm.Result run(String line) {
        return run(line, "");
    }

    Jvsadm.Result run(String line, String stdin) {
        List<String> argv = line.isBlank() ? List.of() : List.of(line.trim().split("\\s+"));
        return jvsadm.run(argv, stdin);
    }

    /** Runs a command that must succeed silently (a change). */
    public void ok(String line) {
        Jvsadm.Result r = run(line);
        assertEquals(new Jvsadm.Result(0, "", ""), r, "jvsadm " + line);
    }

    /** Runs a listing that must succeed and returns its stdout. */
    public String out(String line) {
        Jvsadm.Result r = run(line);
        assertEquals(0, r.status(), () -> "jvsadm " + line + ": " + r.err());
        assertEquals("", r.err(), "jvsadm " + line);
        return r.out();
    }

    /** Runs a command that must fail with this status and message. */
    void fails(String line, int status, String message) {
        Jvsadm.Result r = run(line);
        assertEquals(new Jvsadm.Result(status, "", message + "\n"), r, "jvsadm " + line);
    }
}
