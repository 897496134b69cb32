package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ClientLimits;
import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.Defense;
import io.jvs.forwarder.conn.SynProxyState;
import io.jvs.forwarder.conn.PersistenceTable6;
import io.jvs.forwarder.conn.TcpState;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.counters.DataPathCounters.SchedulingOutcome;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.neigh.ArpScope;
import io.jvs.forwarder.neigh.NeighbourCache6;
import io.jvs.forwarder.neigh.RouteTable6;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Ipv6ServiceLookup;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.service.VrrpGate;
import io.jvs.forwarder.sync.SyncHook;
import io.jvs.forwarder.xmit.Ipv6Sender;
import io.jvs.forwarder.xmit.SynProxy;
import io.jvs.forwarder.xmit.Xmit;
import io.jvs.packet.Checksum;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.NdpCheck;
import io.jvs.packet.TcpHeader;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.function.Supplier;

/**
 * The IPv6 data path, one stage right after decode: every IPv6 frame ends here, IPv4 and ARP
 * pass on to the IPv4 stages. In order:
 * <ol>
 *   <li><b>Neighbours</b>: a Neighbor Solicitation or Advertisement is checked (RFC 4861's
 *       receive checks, {@link NdpCheck}, else NDP_INVALID; its ICMPv6 checksum, else
 *       BAD_CHECKSUM); an NS for a VIP (not in the ECMP profile, where VIPs are routed) or local address is answered with a solicited NA from this
 *       attachment's port and its sender learnt, on the port the {@link ArpScope} gives it (the
 *       one whose IPv6 route covers it: never on a two-NIC director's other side); anything else only refreshes what the port's
 *       {@link NeighbourCache6} knows (an NA's target link-layer address, an NS's source one);</li>
 *   <li><b>ICMPv6</b>: an echo request to a VIP is answered; an error quoting a tracked
 *       connection goes to its other party rewritten ({@link Icmpv6Errors}: from the client's side
 *       to the real server, from a NAT real server's side to the client); another error to a VIP
 *       or local address is ICMP_UNTRACKED;</li>
 *   <li><b>classify</b>: a later fragment to a VIP is FRAGMENT_UNTRACKED (no ports; jvs does not
 *       reassemble, as for IPv4; a first fragment carries the ports and goes on); the service
 *       through {@link Ipv6ServiceLookup}: an IPv6 fwmark service ({@code -f N -6}) when one of
 *       jvs's IPv6 mark rules marks the packet, else by (proto, VIP, port); a miss is tried as a NAT reply in
 *       the OUT index (by real server and the client's address and port for NAT, the local
 *       address and port for FULLNAT); a VIP with no service on the port is NO_SERVICE;
 *       anything else is the kernel's (ignored);</li>
 *   <li><b>connection</b> and <b>schedule</b> as the IPv4 stages do them (reuse of a TIME_WAIT,
 *       CLOSE or dead server's entry by a SYN, DEST_REMOVED, NO_CONNECTION, NO_DESTINATION,
 *       TABLE_FULL), over {@link ConnectionTable6}. A client the service's allow/deny lists
 *       refuse is ACL_DENIED, one over its new-connection rate CLIENT_RATE_LIMIT, one that holds
 *       its connection limit already CLIENT_CONN_LIMIT (CLIENT_TABLE_FULL when the table of
 *       counted clients is full): {@link ClientLimits}, keyed by the 128-bit client address, as
 *       the IPv4 stages do. A persistent service places a client network as
 *       ip_vs_sched_persist does ({@link PersistenceTable6}: the client cut to the {@code -M}
 *       prefix length, the VIP, the port or 0; for a fwmark service IPPROTO_IP, the mark, 0; a
 *       template whose server was removed, or quiesced under expire_quiescent_template, is
 *       dropped and the client scheduled afresh); otherwise the service's scheduler picks through
 *       {@link io.jvs.forwarder.service.Scheduler#schedule6} (the kernel's IPv6 hashes). A UDP
 *       datagram of a one-packet service ({@code -o}) is scheduled, sent and its entry removed at
 *       once (IP_VS_CONN_F_ONE_PACKET: counted as a connection, never synced, the next datagram
 *       scheduled afresh). Every method is forwarded (an IPv4 real server is a TUN one: IPv6 in
 *       IPv4); a FULLNAT connection with no free local port on any
 *       of the service's local addresses is LOCAL_PORT_EXHAUSTED. The flood defence as for IPv4
 *       (ScheduleHandler): drop_packet ({@link Defense#todrop()}) refuses one new connection in
 *       every drop_rate (DEFENSE_DROP_PACKET) before the scheduler is asked, and a full table
 *       makes room by removing its oldest embryonic entry ({@link ConnectionTable6#reclaimEmbryonic})
 *       before it refuses (TABLE_FULL); after each inbound packet the
 *       connection sync master decides whether the connection is synced
 *       ({@link SyncHook#inbound6}, as ip_vs_in does), and then its template;</li>
 *   <li><b>synproxy</b>, for a {@code --synproxy} service's TCP, as the IPv4 stage
 *       ({@link SynProxyHandler}) does it with the IPv6 {@link SynProxy}: with no connection a
 *       SYN is answered with a cookie SYN-ACK and goes no further, an ACK with a valid cookie is
 *       scheduled and becomes the real server's SYN, one with a bad cookie is
 *       SYNPROXY_BAD_COOKIE, anything else NO_CONNECTION; a proxied connection's segments are
 *       held, turned into the SYN again, or translated (and the server's SYN-ACK spliced); a
 *       first fragment that would have to be answered or rewritten whole is FRAGMENT_UNTRACKED
 *       (the rewrite would keep its fragment header);</li>
 *   <li><b>transmit</b>: DR, NAT, FULLNAT or TUN over IPv6 ({@link io.jvs.forwarder.xmit.Dr6Xmit},
 *       {@link io.jvs.forwarder.xmit.Nat6Xmit}, {@link io.jvs.forwarder.xmit.Fullnat6Xmit},
 *       {@link io.jvs.forwarder.xmit.Tun6Xmit}: ip6ip6 or GUE over IPv6): egress MTU (Packet Too
 *       Big; a tunnel's less its encapsulation), hop limit, route, NDP.</li>
 * </ol>
 * VRRP ({@link VrrpGate#silent6}): for an IPv6 address of an instance this director is not
 * MASTER of, an NS is not answered (only learnt from, as any NS), and an echo request or a packet
 * to one of its services is VRRP_BACKUP (the master answers and forwards), as the IPv4 stages do.
 * Allocation-free; event loop only.
 */
final class Ipv6Handler extends ChannelInboundHandlerAdapter {
    private final Supplier<Ipv6ServiceLookup> services;
    private final ConnectionTable6 conns;
    private final PersistenceTable6 templates;
    /** expire_quiescent_template, as the IPv4 path reads it. */
    private final ConnPolicy policy;
    /** The neighbour cache of the port this attachment receives on (NS answers leave there). */
    private final NeighbourCache6 neighbours;
    private final Ipv6Sender sender;
    private final Xmit dr;
    private final Xmit nat;
    private final Xmit fullnat;
    private final Xmit tun;
    private final DataPathCounters counters;
    private final boolean answers;
    /**
     * The ECMP profile ({@link io.jvs.forwarder.neigh.ArpScope#vipsRouted}): the router routes a VIP
     * to each director's own address, so no director answers an NS for it (all would, and the
     * router would follow the last NA); local addresses are each director's own and answered.
     */
    private final boolean vipsRouted;
    /**
     * Which ports answer NS for an address (by the IPv6 routes, as ARP is scoped): on a two-NIC
     * director a VIP on the external segment is not answered on the real servers' side.
     */
    private final ArpScope scope;
    private final Supplier<RouteTable6> routes6;
    private final Icmpv6Errors errors;
    private final SyncHook sync;
    private final VrrpGate vrrp;
    /** Per-client counts and rate buckets: the data path's one table, shared with the IPv4 stages. */
    private final ClientLimits limits;
    /** Set by {@link #schedule}: the packet created its connection's persistence template (for the sync hook). */
    private boolean tmplCreated;
    private final Defense defense;
    private final SynProxy proxy;

    Ipv6Handler(Supplier<Ipv6ServiceLookup> services, ConnectionTable6 conns, NeighbourCache6 neighbours,
                Ipv6Sender sender, Xmit dr, Xmit nat, Xmit fullnat, Xmit tun, DataPathCounters counters,
                boolean answers, ArpScope scope, Supplier<RouteTable6> routes6, SyncHook sync, ConnPolicy policy, VrrpGate vrrp,
                ClientLimits limits, Defense defense, SynProxy proxy) {
        this.vrrp = vrrp;
        this.limits = limits;
        this.defense = defense;
        this.proxy = proxy;
        this.services = services;
        this.conns = conns;
        this.templates = conns.templates();
        this.policy = policy;
        this.neighbours = neighbours;
        this.sender = sender;
        this.dr = dr;
        this.nat = nat;
        this.fullnat = fullnat;
        this.tun = tun;
        this.counters = counters;
        this.answers = answers;
        this.scope = scope;
        this.vipsRouted = scope.vipsRouted();
        this.routes6 = routes6;
        this.errors = new Icmpv6Errors(conns, sender, tun, counters);
        this.sync = sync;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        if (ctx.etherType != EthernetHeader.ETH_P_IPV6) {
            chc.fireChannelRead(ctx);
            return;
        }
        Ipv6ServiceLookup table = services.get();
        boolean fragment = ctx.fragment;
        if (ctx.ipProto == Ipv6Header.NEXT_ICMPV6 && ctx.l4Off >= 0 && !fragment && icmp(ctx, table)) {
            return;
        }
        if (fragment && !ctx.firstFragment) {
            if (table.isVip6(ctx.dstHi, ctx.dstLo)) {
                counters.drop(DropReason.FRAGMENT_UNTRACKED);
            } else {
                counters.ignored();
            }
            return;
        }
        long now = System.nanoTime();
        VirtualService svc = ctx.ipProto == Protocol.TCP || ctx.ipProto == Protocol.UDP
                ? table.classify6(ctx.ipProto, ctx.srcHi, ctx.srcLo, ctx.dstHi, ctx.dstLo, ctx.dstPort) : null;
        if (svc == null) {
            reply(ctx, table, now);
            return;
        }
        if (vrrp.silent6(ctx.dstHi, ctx.dstLo)) {
            counters.drop(DropReason.VRRP_BACKUP); // the VRRP master forwards it
            return;
        }
        ctx.service = svc;
        int id = connection(ctx, now);
        if (id == -2) {
            return; // dropped and counted
        }
        final boolean created = id < 0;
        tmplCreated = false;
        final boolean tcp = ctx.ipProto == Protocol.TCP;
        if (created) {
            if (tcp && svc.synProxy && !synProxyOpens(ctx)) {
                return; // answered with a cookie, or dropped and counted
            }
            id = schedule(ctx, table, svc, now);
            if (id < 0) {
                return;
            }
        }
        // -o: ip_vs_schedule's IP_VS_CONN_F_ONE_PACKET for UDP: the entry lives for this datagram only
        boolean onePacket = created && svc.onePacket && ctx.ipProto == Protocol.UDP;
        if (!onePacket) {
            sync.inbound6(id, created, tmplCreated, now); // ip_vs_in: the master syncs after each inbound packet
        }
        ctx.conn = id;
        ctx.dest = conns.dest(id);
        Xmit x = xmit(ctx.dest.method);
        if (ctx.synProxyData >= 0) {
            proxy.connectServer(ctx, ctx.synProxyData, x); // the cookie ACK becomes the server's SYN
            return;
        }
        if (tcp && !created) {
            byte state = conns.synProxyState(id);
            if (state == SynProxyState.SP_AWAITING_SERVER) {
                if (ctx.fragment) {
                    counters.drop(DropReason.FRAGMENT_UNTRACKED); // not to be rewritten into the SYN again
                } else {
                    proxy.clientPending(ctx, x);
                }
                return;
            }
            if (state == SynProxyState.SP_SPLICED) {
                proxy.toServer(ctx, id);
            }
        }
        x.inbound(ctx);
        if (onePacket) {
            conns.remove(id); // never hashed in IPVS: the next datagram is scheduled afresh
        }
    }

    /**
     * A --synproxy service's TCP segment with no connection: true for an ACK with a valid cookie
     * (marked in ctx.synProxyData, to be scheduled); a SYN is answered with a cookie SYN-ACK,
     * anything else dropped (false).
     */
    private boolean synProxyOpens(PacketContext ctx) {
        if (ctx.fragment) {
            // a first fragment: answering it in place would keep its fragment header (more to come)
            counters.drop(DropReason.FRAGMENT_UNTRACKED);
            return false;
        }
        int flags = ctx.tcpFlags & (TcpHeader.SYN | TcpHeader.ACK | TcpHeader.RST);
        if (flags == TcpHeader.SYN) {
            proxy.answerSyn(ctx);
            return false;
        }
        if (flags == TcpHeader.ACK) {
            int data = proxy.checkAck(ctx);
            if (data < 0) {
                counters.drop(DropReason.SYNPROXY_BAD_COOKIE);
                return false;
            }
            ctx.synProxyData = data;
            return true;
        }
        counters.drop(DropReason.NO_CONNECTION);
        return false;
    }

    private Xmit xmit(ForwardMethod method) {
        return switch (method) {
            case NAT -> nat;
            case FULLNAT -> fullnat;
            case TUN -> tun;
            default -> dr;
        };
    }

    /** A packet to no IPv6 service: a NAT or FULLNAT reply, or NO_SERVICE for a VIP, or the kernel's. */
    private void reply(PacketContext ctx, Ipv6ServiceLookup table, long now) {
        int id = conns.lookupOut(ctx.ipProto, ctx.srcHi, ctx.srcLo, ctx.srcPort, ctx.dstHi, ctx.dstLo, ctx.dstPort, now);
        if (id >= 0 && conns.dest(id).method.seesReplies()) {
            ctx.conn = id;
            ctx.reply = true;
            ctx.service = conns.service(id);
            ctx.dest = conns.dest(id);
            conns.update(id, true, ctx.tcpFlags, ctx.frameLen, now);
            Xmit x = xmit(ctx.dest.method);
            if (ctx.ipProto == Protocol.TCP && conns.synProxyState(id) != SynProxyState.SP_NONE
                    && !proxy.fromServer(ctx, x)) {
                return; // the server's SYN-ACK spliced or answered, or dropped while waiting
            }
            x.outbound(ctx);
        } else if (table.isVip6(ctx.dstHi, ctx.dstLo)) {
            counters.drop(DropReason.NO_SERVICE);
        } else {
            counters.ignored();
        }
    }

    /** The packet's live connection id, -1 to schedule it afresh, -2 when dropped (counted). */
    private int connection(PacketContext ctx, long now) {
        boolean tcp = ctx.ipProto == Protocol.TCP;
        boolean syn = tcp && ConnectionHandler.isSyn(ctx.tcpFlags);
        int id = conns.lookupIn(ctx.ipProto, ctx.srcHi, ctx.srcLo, ctx.srcPort, ctx.dstHi, ctx.dstLo, ctx.dstPort, now);
        if (id >= 0) {
            DestStats ds = conns.dest(id).stats;
            if (syn) {
                int st = conns.state(id);
                if (st == TcpState.TIME_WAIT || st == TcpState.CLOSE || ds.removed() || ds.quiesced()) {
                    conns.remove(id);
                    id = -1;
                }
            } else if (ds.removed()) {
                counters.drop(DropReason.DEST_REMOVED);
                return -2;
            }
        }
        if (id >= 0) {
            conns.update(id, false, ctx.tcpFlags, ctx.frameLen, now);
            return id;
        }
        if (tcp && !syn && !ctx.service.synProxy) {
            counters.drop(DropReason.NO_CONNECTION);
            return -2;
        }
        return -1; // a --synproxy service's segments all go on: the synproxy step sorts them
    }

    private int schedule(PacketContext ctx, Ipv6ServiceLookup table, VirtualService svc, long now) {
        if (svc.hasClientPolicy) {
            if (!svc.admits6(ctx.srcHi, ctx.srcLo)) {
                counters.drop(DropReason.ACL_DENIED);
                return -1;
            }
            if (svc.rateIntervalNanos != 0 && !limits.rateAllows(svc.key, ctx.srcHi, ctx.srcLo,
                    svc.rateIntervalNanos, svc.rateToleranceNanos, now)) {
                counters.drop(DropReason.CLIENT_RATE_LIMIT);
                return -1;
            }
        }
        if (defense.todrop()) {
            // ip_vs_todrop in tcp_conn_schedule / udp_conn_schedule: before the scheduler is asked
            counters.drop(DropReason.DEFENSE_DROP_PACKET);
            return -1;
        }
        RealServer dest;
        int tmpl = -1;
        if (svc.persistent()) {
            // ip_vs_sched_persist, AF_INET6: the client cut to the -M prefix length; a fwmark
            // service's key is (IPPROTO_IP, client network, the mark as an address, 0)
            long snetHi = PersistenceTable6.netHi(ctx.srcHi, svc.persistMask);
            long snetLo = PersistenceTable6.netLo(ctx.srcLo, svc.persistMask);
            int kproto = PersistenceTable6.keyProto(svc);
            long kvHi = PersistenceTable6.keyVaddrHi(svc, ctx.dstHi);
            long kvLo = PersistenceTable6.keyVaddrLo(svc, ctx.dstLo);
            int kvport = PersistenceTable6.keyVport(svc);
            tmpl = templates.lookup(kproto, snetHi, snetLo, kvHi, kvLo, kvport, now);
            if (tmpl >= 0) {
                RealServer t = templates.dest(tmpl);
                if (t.stats.removed() || (t.stats.quiesced() && policy.expireQuiescentTemplate())) {
                    templates.invalidate(tmpl, now); // ip_vs_check_template
                    tmpl = -1;
                }
            }
            if (tmpl >= 0) {
                dest = templates.dest(tmpl);
                counters.decision(SchedulingOutcome.PERSISTENCE_TEMPLATE);
            } else {
                dest = pick(ctx, svc);
                if (dest == null) {
                    return -1;
                }
                tmpl = templates.insert(kproto, snetHi, snetLo, kvHi, kvLo, kvport, svc, dest,
                        svc.persistTimeoutNanos, now);
                if (tmpl < 0) {
                    counters.drop(DropReason.TABLE_FULL);
                    return -1;
                }
                tmplCreated = true;
            }
        } else {
            dest = pick(ctx, svc);
            if (dest == null) {
                return -1;
            }
        }
        int dport = dest.port != 0 ? dest.port : ctx.dstPort;
        boolean counted = false;
        if (svc.connLimit != 0) {
            int r = limits.acquire(svc.key, ctx.srcHi, ctx.srcLo, svc.connLimit);
            if (r != ClientLimits.OK) {
                counters.drop(r == ClientLimits.LIMIT ? DropReason.CLIENT_CONN_LIMIT : DropReason.CLIENT_TABLE_FULL);
                return -1;
            }
            counted = true;
        }
        int id = conns.insert(ctx.ipProto, ctx.srcHi, ctx.srcLo, ctx.srcPort, ctx.dstHi, ctx.dstLo, ctx.dstPort,
                table.destHi(dest), table.destLo(dest), dport, svc, dest, now);
        if (id == ConnectionTable6.FULL && conns.reclaimEmbryonic(ScheduleHandler.RECLAIM_SCAN)) {
            counters.embryonicReclaim();
            id = conns.insert(ctx.ipProto, ctx.srcHi, ctx.srcLo, ctx.srcPort, ctx.dstHi, ctx.dstLo, ctx.dstPort,
                    table.destHi(dest), table.destLo(dest), dport, svc, dest, now);
        }
        if (id < 0) {
            if (counted) {
                limits.release(svc.key, ctx.srcHi, ctx.srcLo);
            }
            counters.drop(id == ConnectionTable6.NO_LOCAL_PORT ? DropReason.LOCAL_PORT_EXHAUSTED : DropReason.TABLE_FULL);
            return -1;
        }
        if (counted) {
            conns.markLimited(id);
        }
        if (tmpl >= 0) {
            conns.setController(id, tmpl, now);
        }
        // A SYN proxy's cookie ACK opens the connection as the SYN it stands for (SYN_RECV).
        conns.update(id, false, ctx.synProxyData >= 0 ? TcpHeader.SYN : ctx.tcpFlags, ctx.frameLen, now);
        return id;
    }

    /** The scheduler's pick (the kernel's IPv6 hashes), counted as a decision; null (counted) when none. */
    private RealServer pick(PacketContext ctx, VirtualService svc) {
        RealServer dest;
        synchronized (svc.scheduler) {
            dest = svc.scheduler.schedule6(ctx.srcHi, ctx.srcLo, ctx.srcPort, ctx.dstHi, ctx.dstLo, ctx.dstPort);
        }
        if (dest == null) {
            counters.decision(SchedulingOutcome.NO_DESTINATION);
            counters.drop(DropReason.NO_DESTINATION);
        } else {
            counters.decision(SchedulingOutcome.SCHEDULED);
        }
        return dest;
    }

    /** ICMPv6 jvs handles itself; true when the frame ended here. */
    private boolean icmp(PacketContext ctx, Ipv6ServiceLookup table) {
        Icmpv6Header icmp = ctx.icmp6;
        int type = icmp.type();
        if (type == Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION || type == Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT) {
            neighbour(ctx, table, type);
            return true;
        }
        boolean ours = table.isVip6(ctx.dstHi, ctx.dstLo);
        if (type == Icmpv6Header.TYPE_ECHO_REQUEST && ours) {
            if (vrrp.silent6(ctx.dstHi, ctx.dstLo)) {
                counters.drop(DropReason.VRRP_BACKUP); // the VRRP master answers
            } else if (!sender.echoReply(ctx)) {
                counters.drop(DropReason.BAD_CHECKSUM);
            }
            return true;
        }
        if (Icmpv6Header.isError(type)) {
            if (errors.forward(ctx)) {
                return true;
            }
            if (ours || table.isLocalAddr6(ctx.dstHi, ctx.dstLo)) {
                counters.drop(DropReason.ICMP_UNTRACKED);
                return true;
            }
        }
        if (!ours) {
            counters.ignored(); // the kernel's: router discovery, MLD, pings to the host...
            return true;
        }
        return false;
    }

    private void neighbour(PacketContext ctx, Ipv6ServiceLookup table, int type) {
        Icmpv6Header icmp = ctx.icmp6;
        int len = ctx.ip6.upperLength();
        NdpCheck check = icmp.checkNeighborMessage(ctx.ip6, len);
        if (check != NdpCheck.OK) {
            counters.drop(DropReason.NDP_INVALID);
            return;
        }
        if (!ctx.csumPartial && icmp.checksum() != Checksum.l4v6(ctx.seg, ctx.l4Off, len, Ipv6Header.NEXT_ICMPV6,
                ctx.srcHi, ctx.srcLo, ctx.dstHi, ctx.dstLo)) {
            counters.drop(DropReason.BAD_CHECKSUM);
            return;
        }
        long now = System.nanoTime();
        long tHi = icmp.targetHi();
        long tLo = icmp.targetLo();
        if (type == Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT) {
            long tlla = icmp.linkAddressOption(Icmpv6Header.OPTION_TARGET_LINK_ADDRESS, len);
            if (tlla >= 0) {
                neighbours.learn(tHi, tLo, tlla, false, now);
            }
            counters.ignored();
            return;
        }
        long slla = icmp.linkAddressOption(Icmpv6Header.OPTION_SOURCE_LINK_ADDRESS, len);
        // a VIP (unless ECMP routes it) or local address unless VRRP keeps this director silent
        // for it, or an IPv6 virtual_ipaddress of an instance it is MASTER of (a floating gateway:
        // owned, as ARP's), and only on the port whose segment or route holds it (ArpScope)
        boolean ours = ((table.isVip6(tHi, tLo) && !vipsRouted || table.isLocalAddr6(tHi, tLo))
                && !vrrp.silent6(tHi, tLo) || vrrp.owned6(tHi, tLo))
                && scope.answersOn6(tHi, tLo, neighbours.port().id, routes6.get());
        if (slla >= 0) {
            neighbours.learn(ctx.srcHi, ctx.srcLo, slla, ours, now);
        }
        if (ours && answers) {
            neighbours.answer(ctx, tHi, tLo, slla >= 0 ? slla : ctx.eth.src());
        } else {
            counters.ignored();
        }
    }
}
