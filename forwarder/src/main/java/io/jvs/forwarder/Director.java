package io.jvs.forwarder;

import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.io.FrameSource;
import io.jvs.forwarder.io.PacketChannel;
import io.jvs.forwarder.io.PacketRxRing;
import io.jvs.forwarder.io.PacketTxQueue;
import io.jvs.forwarder.io.TxQueue;
import io.jvs.forwarder.io.XdpRedirect;
import io.jvs.forwarder.io.XskSocket;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.metrics.MetricsServer;
import io.jvs.forwarder.metrics.HealthSource;
import io.jvs.forwarder.metrics.PrometheusExposition;
import io.jvs.forwarder.metrics.StatusPage;
import io.jvs.forwarder.neigh.NeighbourCache;
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
     * @param xdpQueues  XDP mode: the rx queue of each interface (same order); empty otherwise
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
    private record Interface(String name, int ifindex, long mac, int addr, int mtu) {
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
     */
    public record Settings(Attach attach, ServiceConfig config, int connMax, int ringMemoryMib,
                           InetSocketAddress metrics, int localPortLow, int localPortHigh, int mhTableSize,
                           ConnPolicy connPolicy, HealthSource health, MetricsTls metricsTls, VrrpConfig vrrp,
                           boolean ecmp) {
        public Settings {
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
    private final List<PacketChannel> channels = new ArrayList<>();
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private LanPorts ports;
    /** One per port, by port number. */
    private NeighbourCache[] neighbours = new NeighbourCache[0];
    private ArpScope arpScope = ArpScope.BY_ROUTE;
    private DataPath dataPath;
    private ConnectionTable conns;
    private DataPathCounters counters;
    private SyncDaemons sync;
    private MetricsServer metrics;
    private PrometheusExposition exposition;
    private volatile RouteTable routes = RouteTable.EMPTY;
    /** The namespace's own IPv4 addresses (FULLNAT local addresses must not be one); empty until attached. */
    private volatile int[] ownAddrs = new int[0];
    private final Set<Integer> announced = new HashSet<>();
    private final VrrpGate vrrpGate = new VrrpGate();
    private VrrpRouter vrrp;
    /** XDP mode: each interface's program (by port number); empty otherwise. */
    private final List<XdpRedirect> xdp = new ArrayList<>();
    private boolean closed;

    private Director(Settings settings) {
        this.settings = settings;
        this.control = new ControlPlane(settings.config(),
                new ServiceTableBuilder(Schedulers.factory(settings.mhTableSize())), table -> {
            DataPathChecks.validate(table);
            if (settings.ecmp()) {
                DataPathChecks.validateEcmp(table);
            }
            DataPathChecks.validateRoutes(table, routes, registry.current());
            DataPathChecks.validateLocalAddrs(table, ownAddrs);
        });
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
        return new ConnectionListing(loop, conns, sync);
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
            for (int i = 0; i < ifaces.size(); i++) {
                checkRxQueue(ifaces.get(i).name(), at.xdpQueues().get(i));
            }
            for (Interface f : ifaces) {
                try {
                    xdp.add(XdpRedirect.load(f.name()));
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
        counters = new DataPathCounters(portNames.toArray(new String[0]));
        conns = new ConnectionTable(settings.connMax(), ControlPlane.timeouts(settings.config().timeouts()),
                System::nanoTime, new LocalPorts(settings.localPortLow(), settings.localPortHigh()));
        counters.connectionTable(conns::size, conns::capacity);
        LocalPorts localPorts = conns.localPorts();
        counters.localPortsInUse(localPorts::inUse);
        ports = new LanPorts();
        neighbours = new NeighbourCache[ifaces.size()];
        for (int i = 0; i < ifaces.size(); i++) {
            Interface f = ifaces.get(i);
            int portId = i;
            PacketTxQueue.TxListener txListener = new PacketTxQueue.TxListener() {
                @Override
                public void sent(int frames, long bytes, int batchSize) {
                    counters.tx(portId, frames, bytes);
                    counters.txBatch(batchSize);
                }

                @Override
                public void failed(int frames) {
                    for (int k = 0; k < frames; k++) {
                        counters.drop(DropReason.TX_ERROR);
                    }
                }
            };
            TxQueue tx = at.isXdp() ? openXsk(f, at.xdpQueues().get(i), xdp.get(i), txListener)
                    : PacketTxQueue.open(f.name(), 1024, txListener);
            neighbours[i] = new NeighbourCache(ports.add(f.name(), f.ifindex(), f.mac(), f.addr(), f.mtu(), tx),
                    counters::drop);
        }
        NeighbourCache[] caches = neighbours;
        counters.neighbourEntries(() -> {
            int n = 0;
            for (NeighbourCache c : caches) {
                n += c.size();
            }
            return n;
        });
        routes = RouteTable.load(ifindexes);
        ownAddrs = RtNetlink.addresses().stream().mapToInt(RtNetlink.Address::addr).toArray();
        try {
            DataPathChecks.validateLocalAddrs(control.table(), ownAddrs);
            DataPathChecks.validateRoutes(control.table(), routes, ServiceTable.EMPTY);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }

        // the sync daemons' installs run on the event loop, which owns the tables (loop is set below)
        sync = new SyncDaemons(conns, registry, task -> loop.execute(task), SyncPolicy.DEFAULTS);
        dataPath = DataPath.builder().services(registry).connections(conns).neighbours(neighbours)
                .routes(() -> routes).arpScope(arpScope).counters(counters).connPolicy(settings.connPolicy())
                .vrrp(vrrpGate).sync(sync.hook()).build();

        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        loop = group.next();
        long loopThread = loop.submit(() -> Thread.currentThread().threadId()).syncUninterruptibly().getNow();
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        counters.eventLoopAllocatedBytes(() -> threads.getThreadAllocatedBytes(loopThread));

        if (!settings.vrrp().isEmpty()) {
            // Before any attachment: the gate is closed for every VRRP address until its instance is MASTER.
            List<RtNetlink.Address> addrs = RtNetlink.addresses();
            vrrp = new VrrpRouter(settings.vrrp(), vrrpGate, vips -> loop.execute(() -> {
                for (int a : vips) {
                    announce(a);
                }
                ports.flush();
            }), line -> System.out.println("jvs-vrrp: " + line),
                    ifindex -> addrs.stream().filter(a -> a.ifindex() == ifindex).mapToInt(RtNetlink.Address::addr)
                            .findFirst().orElse(0));
        }
        if (at.isTap()) {
            attach(namespace.createTap(BURST), ifaces.size(), 0);
            for (int i = 0; i < ifaces.size(); i++) {
                attach(PacketRxRing.open(ifaces.get(i).name(), ARP_RING_MEMORY, ifaces.get(i).mtu(), AfPacket.ETH_P_ARP),
                        i, i);
            }
        } else if (at.isXdp()) {
            // XDP redirects what jvs owns and passes the rest, ARP replies included: jvs learns
            // its neighbours from an ARP-only ring beside the socket, as in TAP mode.
            List<RtNetlink.Address> own = RtNetlink.addresses();
            for (int i = 0; i < ifaces.size(); i++) {
                attach((XskSocket) ports.get(i).txQueue(), i, i);
                attach(PacketRxRing.open(ifaces.get(i).name(), ARP_RING_MEMORY, ifaces.get(i).mtu(),
                        AfPacket.ETH_P_ARP), i, i);
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
                attach(PacketRxRing.open(ifaces.get(i).name(), (long) settings.ringMemoryMib() << 20, ifaces.get(i).mtu(),
                        AfPacket.ETH_P_ALL), i, i);
            }
        }

        registry.onPublish(table -> loop.execute(() -> published(table)));
        control.attach(new ControlPlane.Sink() {
            @Override
            public void publish(ServiceTable table) {
                registry.publish(table);
            }

            @Override
            public void timeouts(Timeouts timeouts) {
                // The connection table is the event loop's: change it there.
                loop.execute(() -> conns.setTimeouts(timeouts));
            }
        });

        loop.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            conns.expire(now, Math.max(4096, conns.capacity() / 50));
            conns.templates().expire(now, Math.max(1024, conns.templates().capacity() / 50));
        }, 100, 100, TimeUnit.MILLISECONDS);
        loop.scheduleAtFixedRate(() -> {
            long now = System.nanoTime();
            for (NeighbourCache n : neighbours) {
                n.tick(now);
            }
            ports.flush();
        }, 250, 250, TimeUnit.MILLISECONDS);
        loop.scheduleAtFixedRate(() -> {
            for (PacketChannel c : channels) {
                long drops = c.source().kernelDrops();
                if (drops > 0) {
                    counters.addKernelDrops(c.portId(), drops);
                }
            }
            dataPath.defenseTick();
            try {
                routes = RouteTable.load(ifindexes);
            } catch (NativeException e) {
                System.err.println("jvs: route refresh failed, keeping the previous table: " + e.getMessage());
            }
        }, 1, 1, TimeUnit.SECONDS);

        if (settings.metrics() != null) {
            HealthSource health = settings.health();
            exposition = new PrometheusExposition(registry, counters, health, vrrpStatus(),
                    sync.counters());
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

    /** " queue Q (AF_XDP copy mode)" for an XDP port, else "". */
    private String xdpMode(Interface f) {
        for (int i = 0; i < ports.size(); i++) {
            if (ports.get(i).ifindex == f.ifindex() && ports.get(i).txQueue() instanceof XskSocket x) {
                return " queue " + x.queue() + " (AF_XDP " + (x.zeroCopy() ? "zero-copy" : "copy") + " mode)";
            }
        }
        return "";
    }

    /** The AF_XDP socket of one port, entered in its program's XSKMAP. */
    private static XskSocket openXsk(Interface f, int queue, XdpRedirect prog, PacketTxQueue.TxListener listener)
            throws IOException {
        XskSocket s;
        try {
            s = XskSocket.open(f.name(), f.ifindex(), queue, listener);
        } catch (NativeException e) {
            throw new IOException("--attach xdp:" + f.name() + ":" + queue + ": " + e.getMessage()
                    + " (nothing attached)", e);
        }
        try {
            prog.socket(queue, s.fd());
        } catch (NativeException e) {
            s.close();
            throw new IOException("--attach xdp:" + f.name() + ":" + queue + ": " + e.getMessage(), e);
        }
        return s;
    }

    /** An XDP attachment's queue must be one of the interface's rx queues (sysfs lists them). */
    private static void checkRxQueue(String name, int queue) throws IOException {
        java.nio.file.Path dir = java.nio.file.Path.of("/sys/class/net", name, "queues");
        long rxQueues;
        try (var s = java.nio.file.Files.list(dir)) {
            rxQueues = s.filter(p -> p.getFileName().toString().startsWith("rx-")).count();
        } catch (IOException e) {
            return; // no sysfs view of it: bind will say
        }
        if (queue >= rxQueues) {
            throw new IOException("--attach xdp:" + name + ":" + queue + ": " + name + " has no rx queue " + queue
                    + " (it has " + rxQueues + "; nothing attached)");
        }
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
        return new Interface(name, index, NetDevice.macAddress(name), addr, NetDevice.mtu(name));
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
     * Wires one attachment through the data path on the event loop: frames it receives are
     * counted on port {@code portId}, ARP it receives belongs to port {@code arpPort}.
     */
    private void attach(FrameSource source, int portId, int arpPort) throws IOException {
        PacketChannel ch = new PacketChannel(source, portId, BURST, new PacketChannel.ReadListener() {
            @Override
            public void frameReceived(int port, int bytes) {
                counters.rx(port, bytes);
            }

            @Override
            public void dropped(int port, DropReason reason) {
                counters.drop(reason);
            }

            @Override
            public void burst(int port, int frames, long busyNanos) {
                counters.busy(busyNanos);
                counters.rxBatch(frames);
            }
        });
        dataPath.wire(ch.pipeline(), arpPort);
        try {
            loop.register(ch).syncUninterruptibly();
        } catch (RuntimeException e) {
            source.close();
            throw new IOException("registering " + source.name() + " with epoll: " + e.getMessage(), e);
        }
        channels.add(ch);
    }

    /**
     * On the event loop: a new snapshot. Announce new VIPs and FULLNAT local addresses;
     * in TAP mode route them (and NAT replies) into the TAP.
     */
    private void published(ServiceTable table) {
        for (int vip : table.vips()) {
            ownOnXdp(vip);
            if (announced.add(vip)) {
                // a VRRP BACKUP stays silent (becoming MASTER announces it); in the ECMP profile the VIP is routed
                if (!vrrpGate.silent(vip) && !arpScope.vipsRouted()) {
                    announce(vip);
                }
                if (settings.attach().isTap()) {
                    namespace.routeVip(table, vip);
                }
            }
        }
        for (int lip : table.localAddrs()) {
            ownOnXdp(lip);
            if (announced.add(lip)) {
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
        ports.flush();
    }

    /** XDP mode: the programs redirect frames to addr (and ARP requests for it) to jvs. */
    private void ownOnXdp(int addr) {
        for (XdpRedirect x : xdp) {
            try {
                x.put(addr, XdpRedirect.OWNED);
            } catch (NativeException e) {
                System.err.println("jvs: XDP address map: " + Ipv4Address.toString(addr) + ": " + e.getMessage());
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

    /** Runs {@code task} on the event loop and waits for it (LeastPrivilege: per-thread credentials). */
    public void onEventLoop(Runnable task) {
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
            for (PacketChannel c : channels) {
                c.close().syncUninterruptibly();
            }
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        for (NeighbourCache n : neighbours) {
            if (n != null) {
                n.close();
            }
        }
        if (ports != null) {
            ports.close();
        }
        for (XdpRedirect x : xdp) {
            x.close(); // the link's fd: the program leaves the interface
        }
        if (namespace != null) {
            namespace.undo();
        }
    }
}
