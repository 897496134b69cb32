package io.jvs.forwarder;

import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.DefenseSettings;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.io.FanoutProgram;
import io.jvs.forwarder.io.TapDevice;
import io.jvs.forwarder.io.TapSteering;
import io.jvs.forwarder.io.FrameSource;
import io.jvs.forwarder.io.PacketChannel;
import io.jvs.forwarder.io.PacketRxRing;
import io.jvs.forwarder.io.PacketTxQueue;
import io.jvs.forwarder.io.TxQueue;
import io.jvs.forwarder.io.IngressDrop;
import io.jvs.forwarder.io.XdpRedirect;
import io.jvs.forwarder.io.XskPort;
import io.jvs.forwarder.io.XskSocket;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.metrics.MetricsServer;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.forwarder.metrics.PrometheusExposition;
import io.jvs.forwarder.metrics.StatusPage;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.neigh.RouteTable6;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.service.Ipv6ServiceLookup;
import io.jvs.forwarder.pipeline.DataPath;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.sync.SyncDaemons;
import io.jvs.forwarder.sync.SyncPolicy;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.ctl.ControlPlane;
import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VrrpGate;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.vrrp.VrrpConfig;
import io.jvs.forwarder.vrrp.VrrpRouter;
import io.jvs.forwarder.vrrp.VrrpStateListener;
import io.jvs.forwarder.vrrp.VrrpStatus;
import io.jvs.sys.AfPacket;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.NetDevice;
import io.jvs.sys.RtNetlink;
import io.jvs.forwarder.conn.LocalPorts;
import io.jvs.forwarder.io.LanPorts;
import io.jvs.forwarder.neigh.ArpScope;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The running director's lifecycle: attaches to the network, wires each attachment's
 * pipeline ({@link DataPath}) on one epoll event loop, runs the timers, serves metrics,
 * and on close stops all that and puts back everything it changed in the namespace
 * ({@link DirectorNamespace}: routes, rules, sysctls, the TAP). The start-up checks are
 * {@link DataPathChecks}, the connection listing for jvsadm is {@link ConnectionListing}.
 *
 * <p>One event-loop thread owns the connection table, the neighbour cache and
 * the transmit queues; the control plane only publishes service snapshots.
 */
public final class Director implements AutoCloseable {
    private static final int BURST = 256;
    /** The TAP attachment's ARP-only rings: 64 frames of 2 KiB. */
    private static final int ARP_RING_MEMORY = 64 * 2048;

    /** The metrics port's TLS certificate chain and private key (PEM files). */
    public record MetricsTls(java.nio.file.Path certificateChain, java.nio.file.Path privateKey) {
    }

    /**
     * What to attach to.
     *
     * @param tap        TAP mode: the TAP device's name; null in packet mode
     * @param interfaces the ports, in order (port numbers): packet mode, every attached interface
     *                   (each receives and sends); TAP mode, every --lan interface (each sends and
     *                   answers ARP; the kernel receives)
     * @param arpOn      --arp-on: VIP or local address to the interfaces that answer ARP for it
     * @param xdpQueues  XDP mode: the rx queue of each interface (same order), -1 for every rx
     *                   queue; empty otherwise
     */
    public record Attach(String tap, List<String> interfaces, Map<Integer, List<String>> arpOn,
                         List<Integer> xdpQueues) {
        public Attach {
            interfaces = List.copyOf(interfaces);
            arpOn = Map.copyOf(arpOn);
            xdpQueues = List.copyOf(xdpQueues);
            if (!xdpQueues.isEmpty() && (tap != null || xdpQueues.size() != interfaces.size())) {
                throw new IllegalArgumentException("XDP mode: one queue per interface, no TAP");
            }
        }

        /** Packet or TAP mode. */
        public Attach(String tap, List<String> interfaces, Map<Integer, List<String>> arpOn) {
            this(tap, interfaces, arpOn, List.of());
        }

        public boolean isTap() {
            return tap != null;
        }

        public boolean isXdp() {
            return !xdpQueues.isEmpty();
        }
    }

    /** One interface as found before anything is attached: what its port is made of. */
    /** ip6Hi/ip6Lo: the interface's IPv6 address NDP solicits from (a global one, else its link-local, else EUI-64's). */
    private record Interface(String name, int ifindex, long mac, int addr, int mtu, long ip6Hi, long ip6Lo) {
    }

    /**
     * Settings the director starts with.
     *
     * @param mhTableSize slots of every mh (Maglev) table, one of MaglevHashingScheduler.TABLE_SIZES
     * @param connPolicy  the IPVS sysctls expire_nodest_conn / expire_quiescent_template
     * @param health      where jvs_real_server_up and jvs_health_transitions_total come from
     * @param metricsTls  PEM certificate chain and key for HTTPS on the metrics port, or null for HTTP
     * @param vrrp        the VRRP instances to run ({@link VrrpConfig#NONE}: none, the director answers for every VIP)
     * @param ecmp        the ECMP profile (--announce-table): VIPs are routed to the director (no ARP for them)
     *                    and NAT services are refused (their replies must come back to the director that
     *                    holds the connection, which ECMP does not promise)
     * @param synCookieKey the SYN proxy's cookie key (two words, from --synproxy-key), or null for a random one
     */
    public record Settings(Attach attach, ServiceConfig config, int connMax, int connMax6, int ringMemoryMib,
                           InetSocketAddress metrics, int localPortLow, int localPortHigh, int mhTableSize,
                           ConnPolicy connPolicy, HealthSource health, MetricsTls metricsTls, VrrpConfig vrrp,
                           boolean ecmp, int workers, long[] synCookieKey, boolean kernelIngressDrop) {
        public Settings {
            if (workers < 1) {
                throw new IllegalArgumentException("workers: " + workers);
            }
            java.util.Objects.requireNonNull(connPolicy, "connPolicy");
            java.util.Objects.requireNonNull(health, "health");
            java.util.Objects.requireNonNull(vrrp, "vrrp");
        }
    }

    private final Settings settings;
    private final ServiceRegistry registry = new ServiceRegistry();
    private final ControlPlane control;
    /** What the director changes in its namespace, journalled; set once attached. */
    private DirectorNamespace namespace;
    /**
     * One per --workers: an event loop with its own connection table, counters, neighbour caches,
     * transmit queues and rings (each worker is single-writer over all of them).
     */
    private static final class Worker {
        final int index;
        final EventLoop loop;
        final List<PacketChannel> channels = new ArrayList<>();
        ConnectionTable conns;
        DataPathCounters counters;
        LanPorts ports;
        /** One per port, by port number. */
        NeighbourCache[] neighbours = new NeighbourCache[0];
        /** NDP, one per port, on the same ports as {@link #neighbours}. */
        NeighbourCache6[] neighbours6 = new NeighbourCache6[0];
        ConnectionTable6 conns6;
        DataPath dataPath;

        Worker(int index, EventLoop loop) {
            this.index = index;
            this.loop = loop;
        }
    }

    private final List<Worker> workers = new ArrayList<>();
    /** Per interface: one ring of its PACKET_FANOUT group (with --workers 2 or more), to set its program through. */
    private final List<PacketRxRing> fanoutGroups = new ArrayList<>();
    /** TAP mode with --workers 2 or more: queue 0 of the multi-queue TAP, to set its steering program through. */
    private TapDevice steeredTap;
    private MultiThreadIoEventLoopGroup group;
    /** Worker 0's: announcements, the publication hook, VRRP and sync run there. */
    private EventLoop loop;
    private LanPorts ports;
    private NeighbourCache[] neighbours = new NeighbourCache[0];
    private ArpScope arpScope = ArpScope.BY_ROUTE;
    private ConnectionTable conns;
    /** The sum over the workers' counters. */
    private DataPathCounters counters;
    private volatile SyncDaemons sync;
    private MetricsServer metrics;
    private PrometheusExposition exposition;
    private volatile RouteTable routes = RouteTable.EMPTY;
    private volatile RouteTable6 routes6 = RouteTable6.EMPTY;
    /**
     * The published IPv6 services the data path reads per IPv6 packet: the registry's current
     * snapshot (a ServiceTable is an Ipv6ServiceLookup), one volatile read as for IPv4.
     */
    private final java.util.function.Supplier<Ipv6ServiceLookup> services6 = registry::current;
    /**
     * Worker 0's ring per interface that NDP arrives on, which holds the solicited-node memberships:
     * packet mode's ETH_P_ALL ring, TAP mode's NDP-only one on each --lan.
     */
    private final List<PacketRxRing> ndpRings = new ArrayList<>();
    /** TAP mode: net.ipv6.conf.all.forwarding is on (worker 0's loop only). */
    private boolean tapForwarding6;
    /** IPv6 addresses announced and joined so far (hi, lo). */
    private final Set<io.jvs.packet.Ipv6Address> announced6 = new HashSet<>();
    /** The namespace's own IPv4 addresses (FULLNAT local addresses must not be one); empty until attached. */
    private volatile int[] ownAddrs = new int[0];
    /** The namespace's IPv6 addresses (hi, lo pairs): no IPv6 --laddr may be one of them. */
    private volatile long[] ownAddrs6 = new long[0];
    /**
     * The last snapshot's IPv4 VIPs and local addresses (worker 0's loop): those in the XDP and
     * ingress-drop maps, and announced; one not in it is new and announced when published.
     */
    private Set<Integer> owned = Set.of();
    /** The IPv6 addresses in the ingress-drop maps: the last snapshot's (worker 0's loop). */
    private Set<io.jvs.packet.Ipv6Address> owned6 = Set.of();
    private final VrrpGate vrrpGate = new VrrpGate();
    private VrrpRouter vrrp;
    /** Packet mode: each interface's ingress drop of the kernel's copy (by port number; empty when off or unavailable). */
    private final List<IngressDrop> ingressDrops = new ArrayList<>();
    /** XDP mode: each interface's program (by port number); empty otherwise. */
    private final List<XdpRedirect> xdp = new ArrayList<>();
    /** XDP mode: the rx queues bound on each interface (by port number). */
    private final List<int[]> xdpQueues = new ArrayList<>();
    /** XDP mode: worker 0's socket of each bound queue, by port number: the other workers' share its UMEM. */
    private final List<XskSocket[]> xdpFirst = new ArrayList<>();
    private boolean closed;

    private Director(Settings settings) {
        this.settings = settings;
        this.control = new ControlPlane(settings.config(),
                new ServiceTableBuilder(Schedulers.factory(settings.mhTableSize()), settings.workers()), table -> {
            DataPathChecks.validate(table);
            SyncDaemons daemons = sync;
            DataPathChecks.refuseMixedWithSync(table, daemons != null && daemons.running());
            if (settings.attach().isXdp()) {
                DataPathChecks.refuseMixedTun(table, "--attach xdp (TUN to the other family runs in packet mode only)");
                DataPathChecks.refuseIpv6With(table, "--attach xdp (the IPv6 path runs in packet and TAP mode only)");
            } else if (settings.attach().isTap()) {
                DataPathChecks.refuseMixedTun(table, "--attach tap (TUN to the other family runs in packet mode only)");
                // the kernel routes IPv6 into the TAP: jvs turns its IPv6 forwarding on (published6)
                DataPathChecks.validateTap(table, ipv6Forwarding());
            } else {
                DataPathChecks.refuseIpv6Forwarding(table, ipv6Forwarding());
            }
            if (settings.workers() > 1) {
                fanoutProgram(table); // refuses a table whose program would not fit
            }
            if (settings.ecmp()) {
                DataPathChecks.validateEcmp(table);
            }
            DataPathChecks.validateRoutes(table, routes, registry.current());
            DataPathChecks.validateLocalAddrs(table, ownAddrs);
            DataPathChecks.validateLocalAddrs6(table, ownAddrs6);
        });
    }

    /** net.ipv6.conf.all.forwarding in this namespace, null on a host without IPv6. */
    private static String ipv6Forwarding() {
        try {
            return io.jvs.sys.Sysctl.get("net.ipv6.conf.all.forwarding");
        } catch (IOException e) {
            return null; // no /proc/sys/net/ipv6: booted with ipv6.disable=1
        }
    }

    /**
     * A control plane for this config with the data path's checks and mh table size;
     * throws IllegalArgumentException if invalid.
     */
    public static ControlPlane newControlPlane(ServiceConfig config, int mhTableSize) {
        return newControlPlane(config, mhTableSize, false);
    }

    /** As above, with the ECMP profile's check (no NAT service) when {@code ecmp}. */
    public static ControlPlane newControlPlane(ServiceConfig config, int mhTableSize, boolean ecmp) {
        return new ControlPlane(config, new ServiceTableBuilder(Schedulers.factory(mhTableSize)), table -> {
            DataPathChecks.validate(table);
            if (ecmp) {
                DataPathChecks.validateEcmp(table);
            }
        });
    }

    /** Calls {@code listener} with every snapshot published from now on (on the publishing thread). */
    public void onPublish(java.util.function.Consumer<ServiceTable> listener) {
        registry.onPublish(listener);
    }

    /** The Prometheus exposition of the metrics port, when metrics are on (for collectors added later). */
    public Optional<PrometheusExposition> exposition() {
        return Optional.ofNullable(exposition);
    }

    /** Where configuration changes go (jvsadm, health checks): validated whole, published as one snapshot. */
    public ControlPlane control() {
        return control;
    }

    public ServiceRegistry registry() {
        return registry;
    }

    public DataPathCounters counters() {
        return counters;
    }

    /** The VRRP instances' states ({@link VrrpStatus#NONE} without VRRP). */
    public VrrpStatus.Source vrrpStatus() {
        VrrpRouter r = vrrp;
        return r != null ? r : VrrpStatus.Source.NONE;
    }

    /**
     * Adds a listener told of every VRRP state change (the hook keepalived's lvs_sync_daemon
     * needs); ignored without VRRP.
     */
    public void addVrrpListener(VrrpStateListener l) {
        if (vrrp != null) {
            vrrp.addListener(l);
        }
    }

    /** What jvsadm reads from the data path (the connection listing, -c). */
    public DataPathView dataPathView() {
        return new ConnectionListing(workers.stream().map(w -> w.loop).toList(),
                workers.stream().map(w -> w.conns).toList(), workers.stream().map(w -> w.conns6).toList(), sync);
    }

    /** The connection sync daemons (jvsadm --start-daemon; keepalived's lvs_sync_daemon). */
    public SyncDaemons syncDaemons() {
        return sync;
    }

    /** Attaches and starts forwarding; on failure undoes whatever was done and rethrows. */
    public static Director start(Settings settings) throws IOException {
        Director d = new Director(settings);
        try {
            d.open();
            return d;
        } catch (IOException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    private void open() throws IOException {
        Attach at = settings.attach();
        // Every interface is looked at before anything is changed or opened: an unknown one, or
        // one without an IPv4 address (its ARP sender), ends the start with nothing attached.
        List<Interface> ifaces = new ArrayList<>();
        for (String name : at.isTap() && at.interfaces().isEmpty() ? lanRequired() : at.interfaces()) {
            ifaces.add(inspect(name));
        }
        int[] ifindexes = ifaces.stream().mapToInt(Interface::ifindex).toArray();
        arpScope = arpScope(at, ifaces);
        if (settings.ecmp()) {
            arpScope = arpScope.withRoutedVips();
        }
        if (at.isXdp()) {
            // Queues checked and programs through the verifier before anything is changed.
            int[] rxQueues = new int[ifaces.size()];
            for (int i = 0; i < ifaces.size(); i++) {
                rxQueues[i] = rxQueues(ifaces.get(i).name(), at.xdpQueues().get(i));
                int q = at.xdpQueues().get(i);
                xdpQueues.add(q >= 0 ? new int[]{q} : java.util.stream.IntStream.range(0, rxQueues[i]).toArray());
            }
            for (int i = 0; i < ifaces.size(); i++) {
                Interface f = ifaces.get(i);
                try {
                    // with several workers the program carries the fanout program's worker choice
                    xdp.add(XdpRedirect.load(f.name(), rxQueues[i], settings.workers(),
                            settings.workers() > 1 ? fanoutProgram(control.table()) : null));
                } catch (NativeException e) {
                    throw new IOException("--attach xdp:" + f.name() + ": " + e.getMessage() + " (nothing attached)", e);
                }
            }
        }

        // Packet mode: the kernel must not forward what jvs forwards (it would be sent twice).
        // TAP mode: the kernel routes VIP traffic into the TAP and NAT replies too.
        namespace = new DirectorNamespace(at.tap(), ifaces.stream().map(Interface::name).toList());
        namespace.sysctl("net.ipv4.ip_forward", at.isTap() ? "1" : "0");

        List<String> portNames = new ArrayList<>(ifaces.stream().map(Interface::name).toList());
        if (at.isTap()) {
            portNames.add(at.tap());
        }
        int n = settings.workers();
        group = new MultiThreadIoEventLoopGroup(n, EpollIoHandler.newFactory());
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (io.netty.util.concurrent.EventExecutor e : group) {
            workers.add(new Worker(workers.size(), (EventLoop) e));
        }
        DataPathCounters[] perWorker = new DataPathCounters[n];
        for (Worker w : workers) {
            openWorker(w, ifaces, portNames);
            perWorker[w.index] = w.counters;
        }
        Worker first = workers.getFirst();
        loop = first.loop;
        ports = first.ports;
        neighbours = first.neighbours;
        conns = first.conns;
        counters = n == 1 ? first.counters : DataPathCounters.total(perWorker);
        if (n > 1) {
            counters.connectionTable(() -> workers.stream().mapToInt(w -> w.conns.size() + w.conns6.size()).sum(),
                    () -> workers.stream().mapToInt(w -> w.conns.capacity()).sum());
            counters.localPortsInUse(() -> workers.stream()
                    .mapToInt(w -> w.conns.localPorts().inUse() + w.conns6.localPorts().inUse()).sum());
            counters.neighbourEntries(() -> workers.stream().mapToInt(w -> w.counters.neighbourEntries()).sum());
            counters.eventLoopAllocatedBytes(() -> workers.stream()
                    .mapToLong(w -> w.counters.eventLoopAllocatedBytes()).sum());
        }
        for (Worker w : workers) {
            long loopThread = w.loop.submit(() -> Thread.currentThread().threadId()).syncUninterruptibly().getNow();
            w.counters.eventLoopAllocatedBytes(() -> threads.getThreadAllocatedBytes(loopThread));
        }
        routes = RouteTable.load(ifindexes);
        routes6 = loadRoutes6(ifindexes, RouteTable6.EMPTY);
        ownAddrs = RtNetlink.addresses().stream().mapToInt(RtNetlink.Address::addr).toArray();
        ownAddrs6 = addresses6().stream().flatMapToLong(a -> java.util.stream.LongStream.of(a.hi(), a.lo())).toArray();
        try {
            DataPathChecks.validateLocalAddrs(control.table(), ownAddrs);
            DataPathChecks.validateLocalAddrs6(control.table(), ownAddrs6);
            DataPathChecks.validateRoutes(control.table(), routes, ServiceTable.EMPTY);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }

        // the sync daemons' installs run on the event loop, which owns the tables; with several
        // workers the connections live in several tables, which one daemon does not serve
        sync = new SyncDaemons(conns, first.conns6, registry, task -> loop.execute(task), SyncPolicy.DEFAULTS);
        if (n > 1) {
            sync.refuseStart("connection sync needs --workers 1 (this director runs " + n + " workers)");
        }
        ConnPolicy workerPolicy = workerPolicy(settings.connPolicy(), n);
        // One SYN cookie key for every worker: a client whose packets the fanout program moves to
        // another worker (a new persistence mask) between its SYN and its ACK still has a valid cookie.
        // With --synproxy-key the key comes from that file: another director given the same file
        // (the VRRP backup, an ECMP peer) accepts the cookies this one sent.
        java.security.SecureRandom random = new java.security.SecureRandom();
        long cookieKey0 = settings.synCookieKey() != null ? settings.synCookieKey()[0] : random.nextLong();
        long cookieKey1 = settings.synCookieKey() != null ? settings.synCookieKey()[1] : random.nextLong();
        for (Worker w : workers) {
            DataPath.Builder b = DataPath.builder().services(registry).connections(w.conns).neighbours(w.neighbours)
                    .routes(() -> routes).arpScope(arpScope).counters(w.counters).connPolicy(workerPolicy)
                    .vrrp(vrrpGate).synCookieKey(cookieKey0, cookieKey1)
                    .services6(services6).connections6(w.conns6).neighbours6(w.neighbours6).routes6(() -> routes6);
            if (w.index == 0) {
                b.sync(sync.hook());
            }
            w.dataPath = b.build();
        }
        if (n > 1) {
            // jvs_defense_level: an automatic level is up as soon as one worker's table runs short
            counters.defenseLevels(() -> maxDefenseLevel(0), () -> maxDefenseLevel(1), () -> maxDefenseLevel(2));
        }

        if (!settings.vrrp().isEmpty()) {
            // Before any attachment: the gate is closed for every VRRP address until its instance is MASTER.
            List<RtNetlink.Address> addrs = RtNetlink.addresses();
            vrrp = new VrrpRouter(settings.vrrp(), vrrpGate, (vips, vips6) -> loop.execute(() -> {
                for (int a : vips) {
                    announce(a);
                }
                for (int i = 0; i + 1 < vips6.length; i += 2) {
                    first.dataPath.announce6(vips6[i], vips6[i + 1]); // published ones only
                }
                ports.flush();
            }), line -> System.out.println("jvs-vrrp: " + line),
                    ifindex -> addrs.stream().filter(a -> a.ifindex() == ifindex).mapToInt(RtNetlink.Address::addr)
                            .findFirst().orElse(0));
        }
        if (at.isTap() && n == 1) {
            attach(first, namespace.createTap(BURST), ifaces.size(), 0, true);
            for (int i = 0; i < ifaces.size(); i++) {
                attach(first, PacketRxRing.open(ifaces.get(i).name(), ARP_RING_MEMORY, ifaces.get(i).mtu(),
                        AfPacket.ETH_P_ARP), i, i, true);
                attachNdp(first, ifaces.get(i), i);
            }
        } else if (at.isTap()) {
            // A multi-queue TAP, queue i read by worker i. The kernel puts each frame it routes into
            // the TAP (client packets to VIPs and local addresses, NAT replies from --lan) on the queue
            // its steering program picks: the fanout program's choice, for the configuration at start
            // here, then again in every publish step before the new table becomes visible.
            for (Worker w : workers) {
                TapDevice q = namespace.createTapQueue(w.index, BURST);
                if (w.index == 0) {
                    // the kernel's verifier sees the steering program once here: a refusal ends the start
                    try {
                        q.steer(TapSteering.of(fanoutProgram(control.table())));
                    } catch (NativeException e) {
                        q.close();
                        throw new IOException("--attach tap:" + at.tap() + " --workers " + n + ": " + e.getMessage()
                                + " (nothing attached)", e);
                    }
                    steeredTap = q;
                }
                attach(w, q, ifaces.size(), 0, w.index == 0);
                for (int i = 0; i < ifaces.size(); i++) {
                    // worker 0 answers ARP on --lan; the others resolve their own next hops from it
                    attach(w, PacketRxRing.open(ifaces.get(i).name(), ARP_RING_MEMORY, ifaces.get(i).mtu(),
                            AfPacket.ETH_P_ARP), i, i, w.index == 0);
                    if (w.index == 0) {
                        attachNdp(w, ifaces.get(i), i); // the steering program gives worker 0 all IPv6
                    }
                }
            }
        } else if (at.isXdp()) {
            // XDP redirects what jvs owns and passes the rest, ARP replies included: jvs learns
            // its neighbours from an ARP-only ring beside the socket, as in TAP mode. Each worker
            // reads its socket of every bound queue (the program picks the worker, ARP requests
            // to worker 0, which answers) and an ARP ring of its own (its own next hops).
            List<RtNetlink.Address> own = RtNetlink.addresses();
            for (int i = 0; i < ifaces.size(); i++) {
                for (Worker w : workers) {
                    for (XskSocket s : ((XskPort) w.ports.get(i).txQueue()).sockets()) {
                        attach(w, s, i, i, w.index == 0);
                    }
                    attach(w, PacketRxRing.open(ifaces.get(i).name(), ARP_RING_MEMORY, ifaces.get(i).mtu(),
                            AfPacket.ETH_P_ARP), i, i, w.index == 0);
                }
                XdpRedirect x = xdp.get(i);
                for (RtNetlink.Address a : own) {
                    x.put(a.addr(), XdpRedirect.LOCAL);
                    if (a.prefixLen() < 31) {
                        x.put(a.addr() | (int) (0xffffffffL >>> a.prefixLen()), XdpRedirect.LOCAL);
                    }
                }
                try {
                    x.attach(ifaces.get(i).ifindex());
                } catch (NativeException e) {
                    throw new IOException("--attach xdp:" + ifaces.get(i).name() + ": " + e.getMessage()
                            + (e.errno() == EOPNOTSUPP ? " (the driver has no native XDP)" : "")
                            + " (nothing attached)", e);
                }
            }
        } else {
            for (int i = 0; i < ifaces.size(); i++) {
                String name = ifaces.get(i).name();
                int mtu = ifaces.get(i).mtu();
                int fanoutId = 0;
                for (Worker w : workers) {
                    PacketRxRing ring = PacketRxRing.open(name, (long) settings.ringMemoryMib() << 20, mtu, AfPacket.ETH_P_ALL);
                    if (n > 1) {
                        // One PACKET_FANOUT_CBPF group per interface; the first ring makes it (the kernel
                        // picks its id), the others join it. Until the first program is set (below, when
                        // the control plane publishes) the kernel hands every frame to worker 0.
                        try {
                            if (w.index == 0) {
                                AfPacket.joinFanout(ring.fd(), 0, AfPacket.PACKET_FANOUT_CBPF,
                                        AfPacket.PACKET_FANOUT_FLAG_UNIQUEID | AfPacket.PACKET_FANOUT_FLAG_IGNORE_OUTGOING);
                                fanoutId = AfPacket.fanoutGroupId(ring.fd());
                                fanoutGroups.add(ring);
                            } else {
                                AfPacket.joinFanout(ring.fd(), fanoutId, AfPacket.PACKET_FANOUT_CBPF,
                                        AfPacket.PACKET_FANOUT_FLAG_IGNORE_OUTGOING);
                            }
                        } catch (NativeException e) {
                            ring.close();
                            throw new IOException("interface " + name + ": PACKET_FANOUT for worker " + w.index
                                    + ": " + e.getMessage() + " (nothing attached)", e);
                        }
                    }
                    attach(w, ring, i, i, true);
                    if (w.index == 0) {
                        ndpRings.add(ring); // the fanout program gives all non-IPv4 (NDP included) to worker 0
                    }
                    if (n > 1 && w.index > 0) {
                        // The fanout program gives all ARP to worker 0, which answers; the other workers
                        // resolve their own next hops, so each also listens to the interface's ARP.
                        attach(w, PacketRxRing.open(name, ARP_RING_MEMORY, mtu, AfPacket.ETH_P_ARP), i, i, false);
                        // And to NDP (learning only): an IPv4 service's packets reach every worker, and
                        // TUN to its IPv6 real servers resolves their next hops from each.
                        attach(w, PacketRxRing.openNdp(name, ARP_RING_MEMORY, mtu), i, i, false);
                    }
                }
                if (settings.kernelIngressDrop()) {
                    attachIngressDrop(ifaces.get(i));
                }
            }
        }

        registry.onPublish(table -> loop.execute(() -> published(table)));
        control.attach(new ControlPlane.Sink() {
            @Override
            public void publish(ServiceTable table) {
                // The program first: a new VIP's first packets already reach their client's worker.
                setFanoutProgram(table);
                registry.publish(table);
            }

            @Override
            public void timeouts(Timeouts timeouts) {
                // Each connection table is its event loop's: change it there.
                for (Worker w : workers) {
                    w.loop.execute(() -> {
                        w.conns.setTimeouts(timeouts);
                        w.conns6.setTimeouts(timeouts);
                    });
                }
            }
        });

        for (Worker w : workers) {
            w.loop.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                w.conns.expire(now, Math.max(4096, w.conns.capacity() / 50));
                w.conns.templates().expire(now, Math.max(1024, w.conns.templates().capacity() / 50));
                w.conns6.expire(now, Math.max(1024, w.conns6.capacity() / 50));
                w.conns6.templates().expire(now, Math.max(1024, w.conns6.templates().capacity() / 50));
            }, 100, 100, TimeUnit.MILLISECONDS);
            w.loop.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                for (NeighbourCache c : w.neighbours) {
                    c.tick(now);
                }
                for (NeighbourCache6 c : w.neighbours6) {
                    c.tick(now);
                }
                w.ports.flush();
            }, 250, 250, TimeUnit.MILLISECONDS);
            w.loop.scheduleAtFixedRate(() -> {
                for (PacketChannel c : w.channels) {
                    long drops = c.source().kernelDrops();
                    if (drops > 0) {
                        w.counters.addKernelDrops(c.portId(), drops);
                    }
                }
                // the defence guards the worker's own table: its free entries, its embryonic entries
                w.dataPath.defenseTick();
                if (w.index == 0) {
                    try {
                        routes = RouteTable.load(ifindexes);
                        routes6 = loadRoutes6(ifindexes, routes6);
                    } catch (NativeException e) {
                        System.err.println("jvs: route refresh failed, keeping the previous table: " + e.getMessage());
                    }
                }
            }, 1, 1, TimeUnit.SECONDS);
        }

        if (settings.metrics() != null) {
            HealthSource health = settings.health();
            exposition = new PrometheusExposition(registry, counters, health, vrrpStatus(),
                    sync.counters());
            if (n > 1) {
                exposition.perWorker(perWorker);
            }
            metrics = new MetricsServer(settings.metrics(), exposition,
                    new StatusPage(registry, counters, health, vrrpStatus(), System::nanoTime));
            if (settings.metricsTls() != null) {
                metrics.useTls(settings.metricsTls().certificateChain(), settings.metricsTls().privateKey());
            }
            metrics.start();
        }
        if (vrrp != null) {
            vrrp.start();
        }
        System.out.println("jvs-forwarder: " + (at.isTap() ? "tap:" + at.tap() + " lan " : at.isXdp() ? "xdp:" : "packet:")
                + String.join(", ", ifaces.stream().map(f -> f.name() + " mac " + NetDevice.formatMac(f.mac())
                        + " addr " + Ipv4Address.toString(f.addr()) + xdpMode(f)).toList())
                + (n > 1 ? ", " + n + " workers" : "")
                + ", " + control.table().services().size() + " service(s)"
                + (vrrp != null ? ", " + settings.vrrp().instances().size() + " VRRP instance(s)" : "")
                + (metrics != null ? ", metrics on " + metricsUrl() + "/metrics"
                        + ", status page on " + metricsUrl() + "/" : ""));
    }

    /** "http://ADDR:PORT" (https with TLS) of the metrics port; empty when metrics are off. */
    public Optional<String> metricsUrlIfServing() {
        return metrics == null ? Optional.empty() : Optional.of(metricsUrl());
    }

    private String metricsUrl() {
        return (metrics.tls() ? "https://" : "http://") + hostPort(metrics.localAddress());
    }

    /** The metrics port's server (status page, console routes), when metrics are on. */
    public Optional<MetricsServer> metricsServer() {
        return Optional.ofNullable(metrics);
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private static final int EOPNOTSUPP = 95;

    /** " queue Q (AF_XDP copy mode)" (" queues 0-1 ...") for an XDP port, else "". */
    private String xdpMode(Interface f) {
        for (int i = 0; i < ports.size(); i++) {
            if (ports.get(i).ifindex == f.ifindex() && ports.get(i).txQueue() instanceof XskPort p) {
                XskSocket[] s = p.sockets();
                return (s.length == 1 ? " queue " + s[0].queue()
                        : " queues " + s[0].queue() + "-" + s[s.length - 1].queue())
                        + " (AF_XDP " + (s[0].zeroCopy() ? "zero-copy" : "copy") + " mode)";
            }
        }
        return "";
    }

    /**
     * Worker w's AF_XDP socket of every bound queue of interface i, each entered in its
     * program's XSKMAP at (queue, worker): worker 0's own the queues' UMEMs, the others' share them.
     */
    private XskPort openXsk(Worker w, int i, Interface f, PacketTxQueue.TxListener listener) throws IOException {
        int[] queues = xdpQueues.get(i);
        XdpRedirect prog = xdp.get(i);
        if (w.index == 0) {
            xdpFirst.add(new XskSocket[queues.length]);
        }
        XskSocket[] mine = new XskSocket[queues.length];
        try {
            for (int k = 0; k < queues.length; k++) {
                try {
                    mine[k] = w.index == 0 ? XskSocket.open(f.name(), f.ifindex(), queues[k], listener)
                            : XskSocket.openShared(xdpFirst.get(i)[k], f.ifindex(), listener);
                } catch (NativeException e) {
                    throw new IOException("--attach xdp:" + f.name() + ":" + queues[k] + ": " + e.getMessage()
                            + (w.index > 0 ? " (worker " + w.index + ")" : "") + " (nothing attached)", e);
                }
                if (w.index == 0) {
                    xdpFirst.get(i)[k] = mine[k];
                }
                try {
                    prog.socket(queues[k], w.index, mine[k].fd());
                } catch (NativeException e) {
                    throw new IOException("--attach xdp:" + f.name() + ":" + queues[k] + ": " + e.getMessage()
                            + " (nothing attached)", e);
                }
            }
        } catch (IOException e) {
            for (XskSocket s : mine) {
                if (s != null) {
                    s.close();
                }
            }
            throw e;
        }
        return new XskPort(mine);
    }

    /**
     * How many rx queues an XDP-attached interface has (sysfs lists them); a given queue must
     * be one of them, and no more than the XSKMAP holds.
     */
    private static int rxQueues(String name, int queue) throws IOException {
        java.nio.file.Path dir = java.nio.file.Path.of("/sys/class/net", name, "queues");
        int rxQueues;
        try (var s = java.nio.file.Files.list(dir)) {
            rxQueues = (int) s.filter(p -> p.getFileName().toString().startsWith("rx-")).count();
        } catch (IOException e) {
            rxQueues = Math.max(1, queue + 1); // no sysfs view of it: bind will say
        }
        if (queue >= rxQueues) {
            throw new IOException("--attach xdp:" + name + ":" + queue + ": " + name + " has no rx queue " + queue
                    + " (it has " + rxQueues + "; nothing attached)");
        }
        if (rxQueues > XdpRedirect.maxQueues()) {
            throw new IOException("--attach xdp:" + name + ": " + name + " has " + rxQueues + " rx queues, more than the "
                    + XdpRedirect.maxQueues() + " jvs binds (name one: xdp:" + name + ":QUEUE; nothing attached)");
        }
        return rxQueues;
    }

    /** TAP mode without --lan: refused (--lan names where frames leave and ARP is answered). */
    private static List<String> lanRequired() throws IOException {
        throw new IOException("--attach tap: needs --lan IFACE (the interface frames leave on)");
    }

    /** Index, MAC, first IPv4 address and MTU of an interface; a one-line IOException if it has none of them. */
    private static Interface inspect(String name) throws IOException {
        int index;
        try {
            index = Libc.ifNameToIndex(name);
        } catch (NativeException e) {
            throw new IOException("interface " + name + ": no such interface (nothing attached)", e);
        }
        int addr = RtNetlink.addresses().stream().filter(a -> a.ifindex() == index)
                .mapToInt(RtNetlink.Address::addr).findFirst()
                .orElseThrow(() -> new IOException("interface " + name
                        + " has no IPv4 address (needed as ARP sender; nothing attached)"));
        long mac = NetDevice.macAddress(name);
        long ip6Hi = NeighbourCache6.LINK_LOCAL_HI;
        long ip6Lo = NeighbourCache6.linkLocalLo(mac);
        int best = -1; // 2: global, 1: link-local
        for (RtNetlink.Address6 a : addresses6()) {
            int rank = a.ifindex() != index ? -1 : a.scope() == RtNetlink.SCOPE_UNIVERSE ? 2
                    : a.scope() == RtNetlink.SCOPE_LINK ? 1 : -1;
            if (rank > best) {
                best = rank;
                ip6Hi = a.hi();
                ip6Lo = a.lo();
            }
        }
        return new Interface(name, index, mac, addr, NetDevice.mtu(name), ip6Hi, ip6Lo);
    }

    /**
     * The IPv6 main table, or {@code otherwise} when it cannot be read: on a host without IPv6
     * (booted with ipv6.disable=1, the AF_INET6 dump is refused) the IPv6 path has no route and
     * IPv4 runs as before; a refresh that fails keeps the previous table.
     */
    private static RouteTable6 loadRoutes6(int[] ifindexes, RouteTable6 otherwise) {
        try {
            return RouteTable6.load(ifindexes);
        } catch (NativeException e) {
            return otherwise;
        }
    }

    /** The IPv6 addresses, or none on a host without IPv6 (see {@link #loadRoutes6}). */
    private static List<RtNetlink.Address6> addresses6() {
        try {
            return RtNetlink.addresses6();
        } catch (NativeException e) {
            return List.of();
        }
    }

    /** --arp-on as port bitmasks (the names were checked against the attached ones by the command line). */
    private static ArpScope arpScope(Attach at, List<Interface> ifaces) throws IOException {
        Map<Integer, Long> masks = new HashMap<>();
        for (Map.Entry<Integer, List<String>> e : at.arpOn().entrySet()) {
            long mask = 0;
            for (String name : e.getValue()) {
                int p = -1;
                for (int i = 0; i < ifaces.size(); i++) {
                    if (ifaces.get(i).name().equals(name)) {
                        p = i;
                    }
                }
                if (p < 0) {
                    throw new IOException("--arp-on " + Ipv4Address.toString(e.getKey()) + "=" + name + ": "
                            + name + " is not attached");
                }
                mask |= 1L << p;
            }
            masks.put(e.getKey(), mask);
        }
        return masks.isEmpty() ? ArpScope.BY_ROUTE : new ArpScope(masks);
    }

    /**
     * Wires one attachment through worker {@code w}'s data path on its event loop: frames it
     * receives are counted on port {@code portId}, ARP it receives belongs to port {@code arpPort}
     * (answered there when {@code answersArp}, else only learnt from).
     */
    private void attach(Worker w, FrameSource source, int portId, int arpPort, boolean answersArp)
            throws IOException {
        DataPathCounters c = w.counters;
        PacketChannel ch = new PacketChannel(source, portId, BURST, new PacketChannel.ReadListener() {
            @Override
            public void frameReceived(int port, int bytes) {
                c.rx(port, bytes);
            }

            @Override
            public void dropped(int port, DropReason reason) {
                c.drop(reason);
            }

            @Override
            public void burst(int port, int frames, long busyNanos) {
                c.busy(busyNanos);
                c.rxBatch(frames);
            }
        });
        w.dataPath.wire(ch.pipeline(), arpPort, answersArp);
        try {
            w.loop.register(ch).syncUninterruptibly();
        } catch (RuntimeException e) {
            source.close();
            throw new IOException("registering " + source.name() + " with epoll: " + e.getMessage(), e);
        }
        w.channels.add(ch);
    }

    /**
     * TAP mode: worker 0's NDP-only ring on --lan interface i (port i), as the ARP-only ring is for
     * ARP: the NS for IPv6 VIPs and local addresses are answered there (their packets then reach the
     * kernel, which routes them into the TAP) and the NAs to jvs's own NS resolve the next hops
     * IPv6 frames leave for.
     */
    private void attachNdp(Worker w, Interface f, int port) throws IOException {
        PacketRxRing ring = PacketRxRing.openNdp(f.name(), ARP_RING_MEMORY, f.mtu());
        attach(w, ring, port, port, true);
        ndpRings.add(ring);
    }

    /**
     * Worker w's own connection table (its slice of --conn-max and of --lport-range), counters,
     * and per port a transmit queue and neighbour cache.
     */
    private void openWorker(Worker w, List<Interface> ifaces, List<String> portNames) throws IOException {
        int n = settings.workers();
        DataPathCounters c = new DataPathCounters(portNames.toArray(new String[0]));
        w.counters = c;
        int low = settings.localPortLow();
        int high = settings.localPortHigh();
        w.conns = new ConnectionTable(Math.max(1, settings.connMax() / n),
                ControlPlane.timeouts(settings.config().timeouts()), System::nanoTime,
                new LocalPorts(FanoutProgram.sliceLow(w.index, n, low, high), FanoutProgram.sliceHigh(w.index, n, low, high)),
                w.index);
        // IPv6 connections in a table of their own (an IPv4 entry stays as small as it was) of
        // --conn-max6 entries on worker 0: the fanout program (and the TAP's steering) sends every
        // IPv6 frame there; the other workers' tables stay at the minimum, never filled.
        // FULLNAT's IPv6 local ports: the whole --lport-range, not a worker's slice, for the same reason.
        w.conns6 = new ConnectionTable6(w.index == 0 ? settings.connMax6() : 1024,
                ControlPlane.timeouts(settings.config().timeouts()), w.index, new LocalPorts(low, high));
        ConnectionTable t = w.conns;
        ConnectionTable6 t6 = w.conns6;
        // entries and capacity both count both families (--conn-max and worker 0's --conn-max6)
        c.connectionTable(() -> t.size() + t6.size(), () -> t.capacity() + (w.index == 0 ? t6.capacity() : 0));
        LocalPorts localPorts = t.localPorts();
        LocalPorts localPorts6 = t6.localPorts();
        c.localPortsInUse(() -> localPorts.inUse() + localPorts6.inUse());
        w.ports = new LanPorts();
        w.neighbours = new NeighbourCache[ifaces.size()];
        w.neighbours6 = new NeighbourCache6[ifaces.size()];
        for (int i = 0; i < ifaces.size(); i++) {
            Interface f = ifaces.get(i);
            int portId = i;
            PacketTxQueue.TxListener txListener = new PacketTxQueue.TxListener() {
                @Override
                public void sent(int frames, long bytes, int batchSize) {
                    c.tx(portId, frames, bytes);
                    c.txBatch(batchSize);
                }

                @Override
                public void failed(int frames) {
                    for (int k = 0; k < frames; k++) {
                        c.drop(DropReason.TX_ERROR);
                    }
                }
            };
            Attach at = settings.attach();
            TxQueue tx = at.isXdp() ? openXsk(w, i, f, txListener)
                    : PacketTxQueue.open(f.name(), 1024, txListener);
            w.neighbours[i] = new NeighbourCache(w.ports.add(f.name(), f.ifindex(), f.mac(), f.addr(), f.mtu(), tx),
                    c::drop);
            w.neighbours6[i] = new NeighbourCache6(w.neighbours[i].port(), f.ip6Hi(), f.ip6Lo(), c::drop);
        }
        NeighbourCache[] caches = w.neighbours;
        c.neighbourEntries(() -> {
            int k = 0;
            for (NeighbourCache nc : caches) {
                k += nc.size();
            }
            return k;
        });
    }

    /**
     * Each worker's sysctls: the defence's amemthresh divided among the workers as --conn-max is, so
     * that each worker's defence, which counts the free entries of its own table, starts when the
     * director as a whole has fewer than amemthresh free (a flood from spread sources fills every
     * worker's table alike).
     */
    static ConnPolicy workerPolicy(ConnPolicy p, int workers) {
        if (workers == 1) {
            return p;
        }
        DefenseSettings d = p.defense();
        return new ConnPolicy(p.expireNodestConn(), p.expireQuiescentTemplate(), p.sloppyTcp(),
                new DefenseSettings(d.dropEntry(), d.dropPacket(), d.secureTcp(),
                        (d.amemthresh() + workers - 1) / workers, d.amDroprate()));
    }

    /** The highest level of defence strategy {@code strategy} over the workers. */
    private int maxDefenseLevel(int strategy) {
        int max = 0;
        for (Worker w : workers) {
            max = Math.max(max, w.counters.defenseLevel(strategy));
        }
        return max;
    }

    /** The fanout program for a table (--workers 2 or more); IllegalArgumentException when it does not fit. */
    private long[] fanoutProgram(ServiceTable table) {
        return FanoutProgram.of(table, settings.workers(), settings.localPortLow(), settings.localPortHigh());
    }

    /** Sets every interface's fanout program for this table (nothing with one worker). */
    private void setFanoutProgram(ServiceTable table) {
        if (settings.workers() > 1) {
            for (XdpRedirect x : xdp) {
                try {
                    x.update(fanoutProgram(table));
                } catch (NativeException e) {
                    // The checks passed, so the kernel refusing it is a bug: keep the previous program.
                    System.err.println("jvs: replacing the XDP program failed: " + e.getMessage());
                }
            }
        }
        if (steeredTap != null) {
            try {
                steeredTap.steer(TapSteering.of(fanoutProgram(table)));
            } catch (NativeException e) {
                // The checks passed, so the kernel refusing it is a bug: keep the previous program.
                System.err.println("jvs: setting the steering program of TAP " + steeredTap.name() + " failed: "
                        + e.getMessage());
            }
        }
        if (fanoutGroups.isEmpty()) {
            return;
        }
        long[] program = fanoutProgram(table);
        for (PacketRxRing ring : fanoutGroups) {
            try {
                AfPacket.setFanoutCbpf(ring.fd(), program);
            } catch (NativeException e) {
                // The checks passed, so the kernel refusing it is a bug: keep the previous program.
                System.err.println("jvs: setting the fanout program on " + ring.name() + " failed: " + e.getMessage());
            }
        }
    }

    /**
     * On the event loop: a new snapshot. Announce new VIPs and FULLNAT local addresses;
     * in TAP mode route them (and NAT replies) into the TAP.
     */
    private void published(ServiceTable table) {
        Set<Integer> nowOwned = new HashSet<>();
        for (int vip : table.vips()) {
            own(vip, true);
            if (nowOwned.add(vip) && !owned.contains(vip)) {
                // a VRRP BACKUP stays silent (becoming MASTER announces it); in the ECMP profile the VIP is routed
                if (!vrrpGate.silent(vip) && !arpScope.vipsRouted()) {
                    announce(vip);
                }
                if (settings.attach().isTap()) {
                    namespace.routeVip(vip);
                }
            }
        }
        for (int lip : table.localAddrs()) {
            own(lip, true);
            if (nowOwned.add(lip) && !owned.contains(lip)) {
                // A local address in a VRRP instance's virtual_ipaddress floats with it: a BACKUP
                // announcing it would pull the real servers' replies away from the MASTER.
                if (!vrrpGate.silent(lip)) {
                    announce(lip);
                }
                if (settings.attach().isTap()) {
                    namespace.routeLocalAddr(lip);
                }
            }
        }
        for (int gone : owned) {
            if (!nowOwned.contains(gone)) {
                own(gone, false); // announced again if it comes back: it may have moved to another director
            }
        }
        owned = nowOwned;
        published6(table); // first: in TAP mode it enables IPv6 on the TAP that the IPv6 reply route needs
        if (settings.attach().isTap()) {
            // also a NAT server added to a VIP published before: its replies must come into the TAP
            namespace.routeNatReplies(table);
        }
        ports.flush();
        RouteTable rt = routes;
        RouteTable6 rt6 = routes6;
        for (Worker w : workers) {
            if (w.loop.inEventLoop()) {
                resolveNextHops(w, table, rt, rt6);
            } else {
                w.loop.execute(() -> resolveNextHops(w, table, rt, rt6));
            }
        }
    }

    /**
     * On worker w's loop: every next hop the worker will send to is resolved before traffic needs it,
     * each real server's (or its gateway) and the gateway of every route on jvs's ports. A worker
     * learns only from ARP replies to its own requests, so otherwise the first burst a worker sends
     * to a real server waits behind a request, and beyond the per-neighbour queue it is dropped
     * as neigh_queue_full (seen with --workers 2: the worker the warm-up traffic did not reach).
     * IPv6 real servers: their next hops by NS on worker 0, which carries all IPv6, and an IPv4
     * service's on every worker.
     */
    private static void resolveNextHops(Worker w, ServiceTable table, RouteTable rt, RouteTable6 rt6) {
        long now = System.nanoTime();
        for (VirtualService s : table.services()) {
            for (RealServer d : s.dests) {
                if (d.ipv6) {
                    // by NS, on worker 0 (the fanout program gives it every IPv6 frame) and, for an
                    // IPv4 service's TUN server (IPv4 in IPv6), on every worker (each has an NDP ring)
                    int r = w.index == 0 || !s.ipv6 ? rt6.lookup(d.addr6Hi, d.addr6Lo) : -1;
                    int p = r < 0 ? -1 : rt6.port(r);
                    if (p >= 0 && p < w.neighbours6.length && w.neighbours6[p] != null) {
                        w.neighbours6[p].resolve(rt6.hopHi(r, d.addr6Hi, d.addr6Lo), rt6.hopLo(r, d.addr6Hi, d.addr6Lo),
                                now);
                    }
                    continue;
                }
                int r = rt.lookup(d.addr);
                int p = r < 0 ? -1 : rt.port(r);
                if (p >= 0 && p < w.neighbours.length) {
                    w.neighbours[p].resolve(rt.hop(r, d.addr), now);
                }
            }
        }
        for (int r = 0; r < rt.size(); r++) {
            int p = rt.port(r);
            int gw = rt.gateway(r);
            if (gw != 0 && p >= 0 && p < w.neighbours.length) {
                w.neighbours[p].resolve(gw, now);
            }
        }
        w.ports.flush();
    }

    /**
     * On worker 0's loop: the IPv6 VIPs and local addresses of a new snapshot, and the IPv6
     * virtual_ipaddress entries of the VRRP instances (held by the MASTER). A new one gets its
     * solicited-node group (33:33:ff + its low 24 bits) joined on every attached interface
     * (PACKET_ADD_MEMBERSHIP on the ring's socket: a NIC with a multicast filter would otherwise
     * not deliver the NS for it; the kernel does not join it, the address not being its own) and
     * an unsolicited NA on every port (not while its VRRP instance is BACKUP: becoming MASTER sends it); a gone one's membership is dropped (memberships count per
     * group, so two addresses sharing a group keep it while either is there).
     */
    private void published6(Ipv6ServiceLookup table) {
        long[] owned = table.ownedAddresses6();
        Set<io.jvs.packet.Ipv6Address> now = new HashSet<>();
        for (int i = 0; i + 1 < owned.length; i += 2) {
            now.add(new io.jvs.packet.Ipv6Address(owned[i], owned[i + 1]));
        }
        // the service addresses the kernel must route into the TAP (TAP mode), before VRRP's own
        Set<io.jvs.packet.Ipv6Address> served = Set.copyOf(now);
        for (VrrpConfig.Instance c : settings.vrrp().instances()) {
            now.addAll(c.virtual6()); // a floating IPv6 address (no service of its own) needs its group too
        }
        if (settings.attach().isTap() && !served.isEmpty() && !tapForwarding6) {
            // The kernel forwards IPv6 into the TAP only with IPv6 forwarding on and IPv6 enabled on
            // the TAP (a new device takes net.ipv6.conf.default.disable_ipv6, which may be 1, as in
            // the lab: ip6_output drops what goes out of a device with IPv6 disabled); set (and
            // journalled) with the first IPv6 address, so a director without IPv6 services leaves
            // them as they were (forwarding on also turns off accepting router advertisements).
            try {
                namespace.sysctl("net.ipv6.conf." + settings.attach().tap() + ".disable_ipv6", "0");
                namespace.sysctl("net.ipv6.conf.all.forwarding", "1");
                tapForwarding6 = true;
            } catch (IOException e) {
                System.err.println("jvs: IPv6 into TAP " + settings.attach().tap() + " (disable_ipv6=0, forwarding=1): "
                        + e.getMessage());
            }
        }
        for (io.jvs.packet.Ipv6Address a : served) {
            own6(a, true);
        }
        for (io.jvs.packet.Ipv6Address gone : owned6) {
            if (!served.contains(gone)) {
                own6(gone, false);
            }
        }
        owned6 = served;
        for (io.jvs.packet.Ipv6Address a : now) {
            if (settings.attach().isTap() && served.contains(a)) {
                namespace.routeIntoTap6(a); // once per address
            }
            if (announced6.add(a)) {
                membership(a, true); // a VRRP BACKUP too: it must hear the NS once it is MASTER
                workers.get(0).dataPath.announce6(a.hi(), a.lo()); // silent while VRRP BACKUP
            }
        }
        for (java.util.Iterator<io.jvs.packet.Ipv6Address> it = announced6.iterator(); it.hasNext(); ) {
            io.jvs.packet.Ipv6Address a = it.next();
            if (!now.contains(a)) {
                it.remove();
                membership(a, false);
            }
        }
    }

    private void membership(io.jvs.packet.Ipv6Address a, boolean join) {
        long group = io.jvs.packet.Ipv6Header.multicastMac(io.jvs.packet.Ipv6Header.solicitedNodeLo(a.lo()));
        for (int i = 0; i < ndpRings.size(); i++) {
            PacketRxRing ring = ndpRings.get(i); // interface i: port i
            try {
                AfPacket.multicastMembership(ring.fd(), ports.get(i).ifindex, group, join);
            } catch (NativeException e) {
                System.err.println("jvs: solicited-node group of " + a + " on " + ring.name() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Packet mode: the kernel stops receiving what jvs takes from this interface's ring for its own
     * addresses ({@link IngressDrop}). A kernel without tcx (before 6.6) keeps receiving it, and
     * dropping it as before: one line, and the director runs on.
     */
    private void attachIngressDrop(Interface f) {
        IngressDrop d = null;
        try {
            d = IngressDrop.load(f.name());
            d.attach(f.ifindex());
            ingressDrops.add(d);
        } catch (NativeException e) {
            if (d != null) {
                d.close();
            }
            System.err.println("jvs: " + f.name() + ": no kernel ingress drop (" + e.getMessage() + "): the director's"
                    + " own IP stack also receives, and drops, the frames jvs forwards");
        }
    }

    /**
     * owned: addr is jvs's: XDP mode's programs redirect frames to it (and ARP requests for it) to
     * jvs, packet mode's ingress programs keep them from the kernel. Not owned (its last service
     * removed): its frames go to the kernel again, as before (a stale entry would black-hole an
     * address the host then takes for itself).
     */
    private void own(int addr, boolean owned) {
        for (XdpRedirect x : xdp) {
            try {
                if (owned) {
                    x.put(addr, XdpRedirect.OWNED);
                } else {
                    x.release(addr);
                }
            } catch (NativeException e) {
                System.err.println("jvs: XDP address map: " + Ipv4Address.toString(addr) + ": " + e.getMessage());
            }
        }
        for (IngressDrop d : ingressDrops) {
            try {
                if (owned) {
                    d.put(addr);
                } else {
                    d.remove(addr);
                }
            } catch (NativeException e) {
                System.err.println("jvs: ingress drop map: " + Ipv4Address.toString(addr) + ": " + e.getMessage());
            }
        }
    }

    /** The IPv6 address a is jvs's, or no longer: packet mode's ingress programs, as {@link #own(int, boolean)}. */
    private void own6(io.jvs.packet.Ipv6Address a, boolean owned) {
        for (IngressDrop d : ingressDrops) {
            try {
                if (owned) {
                    d.put6(a.hi(), a.lo());
                } else {
                    d.remove6(a.hi(), a.lo());
                }
            } catch (NativeException e) {
                System.err.println("jvs: ingress drop map: " + a + ": " + e.getMessage());
            }
        }
    }

    /** Gratuitous ARP for addr on every port that answers ARP for it. */
    private void announce(int addr) {
        RouteTable rt = routes;
        for (NeighbourCache n : neighbours) {
            if (arpScope.answersOn(addr, n.port().id, rt)) {
                n.announce(addr);
            }
        }
    }

    /** Runs {@code task} on worker 0's event loop and waits for it (LeastPrivilege: per-thread credentials). */
    public void onEventLoop(Runnable task) {
        // Worker 0's: the one loop that changes the namespace (TAP routes for new VIPs from the
        // publication hook); the other workers only read and write sockets opened before the drop.
        loop.submit(task).syncUninterruptibly();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (vrrp != null) {
            vrrp.close(); // first, while the data path still runs: a MASTER sends priority 0
        }
        if (metrics != null) {
            metrics.close();
        }
        if (sync != null) {
            sync.close();
        }
        // The data path stops first (the TAP goes with its fd, and the kernel drops the routes into
        // it); then the namespace is put back, newest change first, skipping what is gone already.
        if (group != null) {
            for (Worker w : workers) {
                for (PacketChannel c : w.channels) {
                    c.close().syncUninterruptibly();
                }
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        for (Worker w : workers) {
            for (NeighbourCache n : w.neighbours) {
                if (n != null) {
                    n.close();
                }
            }
            for (NeighbourCache6 n : w.neighbours6) {
                if (n != null) {
                    n.close();
                }
            }
            if (w.ports != null) {
                w.ports.close();
            }
        }
        for (XdpRedirect x : xdp) {
            x.close(); // the link's fd: the program leaves the interface
        }
        for (IngressDrop d : ingressDrops) {
            d.close();
        }
        if (namespace != null) {
            namespace.undo();
        }
    }
}
