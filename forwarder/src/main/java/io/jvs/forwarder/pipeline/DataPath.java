package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ClientLimits;
import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.Defense;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.SynCookies;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.neigh.RouteTable6;
import io.jvs.forwarder.service.Ipv6ServiceLookup;
import io.jvs.forwarder.xmit.Dr6Xmit;
import io.jvs.forwarder.xmit.Ipv6Sender;
import io.jvs.forwarder.xmit.Nat6Xmit;
import io.jvs.forwarder.xmit.Fullnat6Xmit;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.neigh.ArpScope;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.VrrpGate;
import io.jvs.forwarder.sync.SyncHook;
import io.jvs.forwarder.xmit.DrXmit;
import io.jvs.forwarder.xmit.FullNatXmit;
import io.jvs.forwarder.xmit.HeldSegments;
import io.jvs.forwarder.xmit.SynProxy;
import io.jvs.forwarder.xmit.IcmpSender;
import io.jvs.forwarder.io.LanPorts;
import io.jvs.forwarder.xmit.NatXmit;
import io.jvs.forwarder.xmit.NextHopSender;
import io.jvs.forwarder.xmit.TunXmit;
import io.jvs.forwarder.xmit.Tun6Xmit;
import io.netty.channel.ChannelPipeline;

import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The data path's one wiring: the nine stages of an attachment's pipeline, in order,
 * over the state the attachments share. The director, every test that pushes frames
 * through the stages and the packet-path benchmark all get their pipeline from
 * {@link #wire}; nothing else constructs a stage.
 *
 * <pre>
 *   decode -&gt; ipv6 -&gt; arp -&gt; icmp -&gt; classify -&gt; connection -&gt; synproxy -&gt; schedule -&gt; transmit
 * </pre>
 *
 * <p>Shared by all attachments (and owned by whoever built this): the published
 * services, the connection table, the ports with their neighbour caches (one per
 * interface frames may leave by), the routing table, the ARP scope and the counters.
 * Frames arriving on any attachment go through the same stages over the same state, and
 * each leaves by the port its route gives ({@link NextHopSender}). They are single-writer:
 * every pipeline wired from one DataPath must run on the same event loop. Each
 * {@link #wire} call makes its own stage instances (they hold per-pipeline scratch views),
 * and its own senders for the forwarding methods.
 *
 * <p>Policy reaches the stages only from here: the IPVS sysctls in {@link ConnPolicy}
 * and FULLNAT's clock and ISN key (also the SYN proxy's clock) and the SYN cookie key are fixed
 * when the DataPath is built; services,
 * schedulers (and their mh table size) and timeouts arrive with the published snapshot
 * and the connection table.
 */
public final class DataPath {
    /** The stage names, in pipeline order (the names {@link #wire} gives the handlers). */
    public static final List<String> STAGES = List.of("decode", "ipv6", "arp", "icmp", "classify", "connection",
            "synproxy", "schedule", "transmit");
    /** Client segments the SYN proxy can hold at once, one per connection waiting for its real server. */
    public static final int SYN_PROXY_HELD_SLOTS = 1024;
    /** The same for IPv6 connections (a table a sixteenth of the IPv4 one's size, by default). */
    public static final int SYN_PROXY_HELD_SLOTS6 = 256;

    private final ServiceRegistry services;
    private final VrrpGate vrrp;
    private final ConnectionTable conns;
    /** One per port, by port number (the RouteTable's numbering). */
    private final NeighbourCache[] neighbours;
    private final LanPorts ports;
    private final Supplier<RouteTable> routes;
    private final ArpScope arpScope;
    private final DataPathCounters counters;
    private final ConnPolicy policy;
    /** The flood defence's state (one per data path, like the connection table it guards). */
    private final Defense defense;
    /** Per-client connection counts and rate buckets of services with limits. */
    private final ClientLimits clientLimits;
    private final SyncHook sync;
    private final LongSupplier wallMillis;
    private final long isnKey0;
    private final long isnKey1;
    private final SynCookies cookies;
    private final HeldSegments held;
    /** The IPv6 SYN proxy's held segments (their slots name IPv6 table ids); null without IPv6. */
    private final HeldSegments held6;
    private final Supplier<Ipv6ServiceLookup> services6;
    private final ConnectionTable6 conns6;
    /** One per port, by port number, or null: IPv6 is then counted as ignored, as before jvs forwarded it. */
    private final NeighbourCache6[] neighbours6;
    private final Supplier<RouteTable6> routes6;

    private DataPath(Builder b) {
        this.services = Objects.requireNonNull(b.services, "services");
        this.vrrp = b.vrrp;
        this.conns = Objects.requireNonNull(b.conns, "connections");
        this.neighbours = Objects.requireNonNull(b.neighbours, "neighbours").clone();
        if (neighbours.length == 0) {
            throw new IllegalArgumentException("neighbours: one cache per port, none given");
        }
        this.ports = neighbours[0].port().set();
        for (int i = 0; i < neighbours.length; i++) {
            if (neighbours[i].port().set() != ports || neighbours[i].port().id != i) {
                throw new IllegalArgumentException("neighbours: cache " + i + " is not for port " + i
                        + " of one LanPorts set");
            }
        }
        this.routes = Objects.requireNonNull(b.routes, "routes");
        this.arpScope = Objects.requireNonNull(b.arpScope, "arpScope");
        this.counters = Objects.requireNonNull(b.counters, "counters");
        this.policy = Objects.requireNonNull(b.policy, "connPolicy");
        this.defense = new Defense(policy.defense());
        counters.defenseLevels(defense::dropEntryLevel, defense::dropPacketLevel, defense::secureTcpLevel);
        conns.setSecureTcp(defense.secureTcp());
        this.clientLimits = new ClientLimits(b.clientTable);
        conns.setClientLimits(clientLimits);
        this.sync = Objects.requireNonNull(b.sync, "sync");
        this.wallMillis = Objects.requireNonNull(b.wallMillis, "fullNatClock");
        if (b.isnKeyGiven) {
            this.isnKey0 = b.isnKey0;
            this.isnKey1 = b.isnKey1;
        } else {
            SecureRandom r = new SecureRandom();
            this.isnKey0 = r.nextLong();
            this.isnKey1 = r.nextLong();
        }
        if (b.cookieKeyGiven) {
            this.cookies = new SynCookies(b.cookieKey0, b.cookieKey1);
        } else {
            SecureRandom r = new SecureRandom();
            this.cookies = new SynCookies(r.nextLong(), r.nextLong());
        }
        this.held = new HeldSegments(SYN_PROXY_HELD_SLOTS, conns);
        this.services6 = Objects.requireNonNull(b.services6, "services6");
        this.routes6 = Objects.requireNonNull(b.routes6, "routes6");
        if (b.neighbours6 != null) {
            if (b.neighbours6.length != neighbours.length) {
                throw new IllegalArgumentException("neighbours6: one cache per port, " + neighbours.length
                        + " ports, " + b.neighbours6.length + " caches");
            }
            for (int i = 0; i < b.neighbours6.length; i++) {
                if (b.neighbours6[i].port() != neighbours[i].port()) {
                    throw new IllegalArgumentException("neighbours6: cache " + i + " is not for port " + i);
                }
            }
            this.neighbours6 = b.neighbours6.clone();
            this.conns6 = b.conns6 != null ? b.conns6 : new ConnectionTable6(DEFAULT_CONNECTIONS6, conns.timeouts());
            conns6.setSecureTcp(defense.secureTcp());
            conns6.setClientLimits(clientLimits); // one table for both families: the service key tells them apart
            this.held6 = new HeldSegments(SYN_PROXY_HELD_SLOTS6, conns6);
        } else {
            this.neighbours6 = null;
            this.conns6 = null;
            this.held6 = null;
        }
    }

    /** Capacity of the IPv6 connection table when the builder is given none (tests). */
    public static final int DEFAULT_CONNECTIONS6 = 1024;

    /** The IPv6 connection table (null when IPv6 is not wired: no {@link Builder#neighbours6}). */
    public ConnectionTable6 connections6() {
        return conns6;
    }

    /**
     * An unsolicited NA (all-nodes, Override) for the IPv6 address hi:lo on each port that answers
     * NS for it ({@link ArpScope#answersOn6}: its segment's, or every port when no route tells), when it
     * is a published VIP or local address that VRRP does not keep this director silent for, or an
     * IPv6 virtual_ipaddress of a VRRP instance this director is MASTER of: at
     * publication a VRRP BACKUP says nothing, and its instance's transition to MASTER (the gate
     * published first) announces it, as gratuitous ARP does for IPv4. True when announced.
     * Worker 0's event loop (its caches carry all IPv6); the caller flushes the ports.
     */
    public boolean announce6(long hi, long lo) {
        Ipv6ServiceLookup table = services6.get();
        boolean owned = vrrp.owned6(hi, lo);
        // in the ECMP profile a VIP is routed to each director's own address: never announced
        if (neighbours6 == null || !owned && (vrrp.silent6(hi, lo)
                || !(table.isLocalAddr6(hi, lo) || table.isVip6(hi, lo) && !arpScope.vipsRouted()))) {
            return false;
        }
        RouteTable6 rt = routes6.get();
        for (NeighbourCache6 n : neighbours6) {
            if (arpScope.answersOn6(hi, lo, n.port().id, rt)) {
                n.announce(hi, lo); // where the address's neighbours are (ArpScope), as gratuitous ARP
            }
        }
        return true;
    }

    /** Default size of the per-client limits' tables ({@code --client-table}). */
    public static final int DEFAULT_CLIENT_TABLE = 65536;

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The defence's once-a-second work (the kernel's defense_work): update_defense_level with the
     * tables' free entries ({@link #availableEntries}), the state tables secure_tcp asks for (both
     * tables), and drop_entry's scan of both tables. On the event loop only (the director's 1 s timer).
     */
    public void defenseTick() {
        if (defense.update(availableEntries())) {
            conns.setSecureTcp(defense.secureTcp());
            if (conns6 != null) {
                conns6.setSecureTcp(defense.secureTcp());
            }
        }
        if (defense.dropEntry()) {
            counters.embryonicDrop(conns.randomDropEntry());
            if (conns6 != null) {
                counters.embryonicDrop(conns6.randomDropEntry());
            }
        }
    }

    /**
     * The kernel's availmem for update_defense_level: the IPv4 table's free entries, or, when the
     * IPv6 table is fuller, its free entries scaled to the IPv4 table's size (a table a sixteenth
     * the size counts each free entry sixteen times), so that amemthresh, a number of free IPv4
     * entries, triggers the defence at the same fill for an IPv6 flood as for an IPv4 one (the
     * kernel has one memory for both families).
     */
    int availableEntries() {
        int free4 = conns.capacity() - conns.size();
        if (conns6 == null) {
            return free4;
        }
        long free6 = (long) (conns6.capacity() - conns6.size()) * conns.capacity() / conns6.capacity();
        return (int) Math.min(free4, free6);
    }

    /** {@link #wire(ChannelPipeline, int)} for an attachment that receives ARP on port 0. */
    public ChannelPipeline wire(ChannelPipeline p) {
        return wire(p, 0);
    }

    /**
     * Adds the nine stages, named as in {@link #STAGES}, to the end of an attachment's
     * pipeline (normally empty) and returns it. {@code arpPort} is the port whose ARP this
     * attachment receives (its answers leave there, what it learns goes to that port's
     * neighbour cache); forwarded frames leave by whichever port their route gives.
     */
    public ChannelPipeline wire(ChannelPipeline p, int arpPort) {
        return wire(p, arpPort, true);
    }

    /**
     * As {@link #wire(ChannelPipeline, int)}; with {@code answersArp} false the arp stage only
     * learns (the ARP-only ring of a worker other than the one that answers, --workers).
     */
    public ChannelPipeline wire(ChannelPipeline p, int arpPort, boolean answersArp) {
        NextHopSender sender = new NextHopSender(neighbours, routes, counters);
        IcmpSender icmp = new IcmpSender(sender);
        // One IPv6 sender for both paths: TUN to an IPv6 real server of an IPv4 service uses it too.
        Ipv6Sender sender6 = neighbours6 == null ? null : new Ipv6Sender(neighbours6, routes6, counters);
        TunXmit tun = new TunXmit(sender, sender6, icmp, counters);
        NatXmit nat = new NatXmit(sender, conns);
        FullNatXmit fullNat = new FullNatXmit(sender, ports.get(0), conns, wallMillis, isnKey0, isnKey1);
        SynProxy synProxy = SynProxy.ipv4(sender, ports.get(0), conns, cookies, held, wallMillis, counters);
        p.addLast(STAGES.get(0), new FrameDecodeHandler(counters));
        p.addLast(STAGES.get(1), ipv6Stage(arpPort, answersArp, sender, sender6));
        p.addLast(STAGES.get(2), new ArpHandler(services, vrrp, neighbours[arpPort], arpScope, routes, counters,
                answersArp));
        p.addLast(STAGES.get(3), new IcmpHandler(services, vrrp, conns, sender, icmp, tun, counters));
        p.addLast(STAGES.get(4), new ClassifyHandler(services, vrrp, conns, counters));
        p.addLast(STAGES.get(5), new ConnectionHandler(conns, counters, policy, sync));
        p.addLast(STAGES.get(6), new SynProxyHandler(conns, synProxy, nat, fullNat, counters));
        p.addLast(STAGES.get(7), new ScheduleHandler(conns, counters, policy, defense, clientLimits, sync));
        p.addLast(STAGES.get(8), new TransmitHandler(ports, new DrXmit(sender, counters), nat, tun, fullNat, synProxy,
                counters));
        return p;
    }

    /**
     * The ipv6 stage: with IPv6 wired, the whole IPv6 path ({@link Ipv6Handler}) with its own
     * senders; without, a stage that counts IPv6 frames as ignored and passes the rest on.
     */
    private io.netty.channel.ChannelHandler ipv6Stage(int port, boolean answers, NextHopSender sender,
                                                      Ipv6Sender sender6) {
        if (neighbours6 == null) {
            return new IgnoreIpv6Handler(counters);
        }
        SynProxy synProxy6 = SynProxy.ipv6(sender6, ports.get(0), conns6, cookies, held6, wallMillis, counters);
        return new Ipv6Handler(services6, conns6, neighbours6[port], sender6, new Dr6Xmit(sender6, conns6, counters),
                new Nat6Xmit(sender6, conns6), new Fullnat6Xmit(sender6, conns6, wallMillis, isnKey0, isnKey1),
                new Tun6Xmit(sender6, sender, counters), counters, answers, arpScope, routes6, sync, policy, vrrp,
                clientLimits, defense, synProxy6);
    }

    /** What a {@link DataPath} is built from; everything but the policy (IPVS defaults) must be given. */
    public static final class Builder {
        private ServiceRegistry services;
        private VrrpGate vrrp = new VrrpGate();
        private ConnectionTable conns;
        private NeighbourCache[] neighbours;
        private Supplier<RouteTable> routes;
        private ArpScope arpScope = ArpScope.BY_ROUTE;
        private DataPathCounters counters;
        private ConnPolicy policy = ConnPolicy.DEFAULTS;
        private int clientTable = DEFAULT_CLIENT_TABLE;
        private SyncHook sync = new SyncHook();
        private LongSupplier wallMillis = System::currentTimeMillis;
        private boolean isnKeyGiven;
        private long isnKey0;
        private long isnKey1;
        private boolean cookieKeyGiven;
        private long cookieKey0;
        private long cookieKey1;
        private Supplier<Ipv6ServiceLookup> services6 = () -> Ipv6ServiceLookup.NONE;
        private ConnectionTable6 conns6;
        private NeighbourCache6[] neighbours6;
        private Supplier<RouteTable6> routes6 = () -> RouteTable6.EMPTY;

        private Builder() {
        }

        /**
         * The published IPv6 services, read once per IPv6 packet (default: none). The model's
         * published table implements {@link Ipv6ServiceLookup} once it carries IPv6 services.
         */
        public Builder services6(Supplier<Ipv6ServiceLookup> services6) {
            this.services6 = Objects.requireNonNull(services6, "services6");
            return this;
        }

        /** The IPv6 connection table (default: one of {@link #DEFAULT_CONNECTIONS6} entries when IPv6 is wired). */
        public Builder connections6(ConnectionTable6 conns6) {
            this.conns6 = conns6;
            return this;
        }

        /**
         * The NDP cache of each port, by port number, as {@link #neighbours}: giving them wires the
         * IPv6 path; without them IPv6 frames are counted as ignored.
         */
        public Builder neighbours6(NeighbourCache6... perPort) {
            this.neighbours6 = perPort;
            return this;
        }

        /** The director's IPv6 routing table as it is now (default: empty). */
        public Builder routes6(Supplier<RouteTable6> routes6) {
            this.routes6 = Objects.requireNonNull(routes6, "routes6");
            return this;
        }

        /** Where the control plane publishes the services (read once per packet). */
        public Builder services(ServiceRegistry services) {
            this.services = services;
            return this;
        }

        /** What VRRP lets the director answer and forward for (default: a gate nobody closes, no VRRP). */
        public Builder vrrp(VrrpGate vrrp) {
            this.vrrp = Objects.requireNonNull(vrrp, "vrrp");
            return this;
        }

        public Builder connections(ConnectionTable conns) {
            this.conns = conns;
            return this;
        }

        /**
         * The neighbour cache of each port, by port number: cache i resolves on port i of one
         * {@link LanPorts} set (the ports frames leave by; the routing table's numbering).
         */
        public Builder neighbours(NeighbourCache... perPort) {
            this.neighbours = perPort;
            return this;
        }

        /** On which ports ARP for each VIP and local address is answered (default: by route). */
        public Builder arpScope(ArpScope scope) {
            this.arpScope = scope;
            return this;
        }

        /** The director's routing table as it is now (the director reloads it every second). */
        public Builder routes(Supplier<RouteTable> routes) {
            this.routes = routes;
            return this;
        }

        public Builder counters(DataPathCounters counters) {
            this.counters = counters;
            return this;
        }

        /** expire_nodest_conn / expire_quiescent_template (default: the kernel's, both off). */
        /** Clients with counted connections (and rate buckets) the per-client limits keep at once. */
        public Builder clientTable(int clients) {
            this.clientTable = clients;
            return this;
        }

        public Builder connPolicy(ConnPolicy policy) {
            this.policy = policy;
            return this;
        }

        /** The connection sync master's hook (default: one no daemon ever drives). */
        public Builder sync(SyncHook sync) {
            this.sync = sync;
            return this;
        }

        /** The wall clock (ms) FULLNAT's ISNs and timestamps towards the real servers follow (default: the system's). */
        public Builder fullNatClock(LongSupplier wallMillis) {
            this.wallMillis = wallMillis;
            return this;
        }

        /**
         * FULLNAT's ISN hash key (default: drawn once per DataPath, shared by all its attachments,
         * since they share the connection table); tests give a fixed one.
         */
        public Builder fullNatIsnKey(long key0, long key1) {
            this.isnKeyGiven = true;
            this.isnKey0 = key0;
            this.isnKey1 = key1;
            return this;
        }

        /** The SYN proxy's cookie key (default: drawn once per DataPath; the director gives all its workers one); tests give a fixed one. */
        public Builder synCookieKey(long key0, long key1) {
            this.cookieKeyGiven = true;
            this.cookieKey0 = key0;
            this.cookieKey1 = key1;
            return this;
        }

        /** @throws NullPointerException naming what was not given */
        public DataPath build() {
            return new DataPath(this);
        }
    }
}
