package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.ClientLimits;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.Defense;
import io.jvs.forwarder.conn.PersistenceTable;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DataPathCounters.SchedulingOutcome;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.sync.SyncHook;
import io.jvs.packet.TcpHeader;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * For a packet that opens a new connection: picks the real server and enters the connection
 * into the table. Non-persistent services ask the scheduler (ip_vs_schedule). Persistent ones
 * (ip_vs_sched_persist) first look for the client network's template — (client &amp; netmask,
 * VIP, VPORT), (…, VIP, 0) for port-0 services, (…, mark, 0) for fwmark services — and use its
 * server; only a miss (or a template whose server was removed, or quiesced under
 * expire_quiescent_template) asks the scheduler and enters a new template. The connection's
 * real port is the server's, or the packet's when the server's is 0 (port-0 and fwmark
 * services). No server available -> NO_DESTINATION; connection or template table full ->
 * TABLE_FULL (existing entries are never evicted for new ones); FULLNAT with no free local port
 * -> LOCAL_PORT_EXHAUSTED. Known connections pass through. A TCP connection opened by a
 * segment other than a SYN (sloppy_tcp, see ConnectionHandler) is counted as sloppy-accepted.
 * drop_packet ({@link Defense#todrop()}) refuses one new connection in every drop_rate first,
 * as DEFENSE_DROP_PACKET. Before that the service's client policy: a client its allow/deny lists
 * refuse is ACL_DENIED, one over its new-connection rate CLIENT_RATE_LIMIT; after scheduling, one
 * that holds its connection limit already is CLIENT_CONN_LIMIT (CLIENT_TABLE_FULL when the table
 * of counted clients is full): {@link ClientLimits}.
 */
final class ScheduleHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionTable conns;
    private final PersistenceTable templates;
    private final DataPathCounters counters;
    private final ConnPolicy policy;
    private final Defense defense;
    private final ClientLimits limits;
    private final SyncHook sync;

    ScheduleHandler(ConnectionTable conns, DataPathCounters counters, ConnPolicy policy, Defense defense,
                    ClientLimits limits, SyncHook sync) {
        this.conns = conns;
        this.templates = conns.templates();
        this.counters = counters;
        this.policy = policy;
        this.defense = defense;
        this.limits = limits;
        this.sync = sync;
    }

    /** Claim records a full table looks at for an embryonic entry to reclaim, per new connection. */
    static final int RECLAIM_SCAN = 64;

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        if (ctx.conn >= 0) {
            chc.fireChannelRead(ctx);
            return;
        }
        VirtualService svc = ctx.service;
        long now = System.nanoTime();
        if (svc.hasClientPolicy) {
            if (!svc.admits(ctx.srcAddr)) {
                counters.drop(DropReason.ACL_DENIED);
                return;
            }
            if (svc.rateIntervalNanos != 0
                    && !limits.rateAllows(svc.key, ctx.srcAddr, svc.rateIntervalNanos, svc.rateToleranceNanos, now)) {
                counters.drop(DropReason.CLIENT_RATE_LIMIT);
                return;
            }
        }
        if (defense.todrop()) {
            // ip_vs_todrop in tcp_conn_schedule / udp_conn_schedule: before the scheduler is asked
            counters.drop(DropReason.DEFENSE_DROP_PACKET);
            return;
        }
        RealServer dest;
        int tmpl = -1;
        boolean tmplCreated = false;
        if (svc.persistent()) {
            int snet = ctx.srcAddr & svc.persistMask;
            int kproto = PersistenceTable.keyProto(svc);
            int kvaddr = PersistenceTable.keyVaddr(svc, ctx.dstAddr);
            int kvport = PersistenceTable.keyVport(svc);
            tmpl = templates.lookup(kproto, snet, kvaddr, kvport, now);
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
                dest = pick(svc, ctx);
                if (dest == null) {
                    return;
                }
                tmpl = templates.insert(kproto, snet, kvaddr, kvport, svc, dest, svc.persistTimeoutNanos, now);
                if (tmpl < 0) {
                    counters.drop(DropReason.TABLE_FULL);
                    return;
                }
                tmplCreated = true;
            }
        } else {
            dest = pick(svc, ctx);
            if (dest == null) {
                return;
            }
        }
        int dport = dest.port != 0 ? dest.port : ctx.dstPort;
        boolean counted = false;
        if (svc.connLimit != 0) {
            int r = limits.acquire(svc.key, ctx.srcAddr, svc.connLimit);
            if (r != ClientLimits.OK) {
                counters.drop(r == ClientLimits.LIMIT ? DropReason.CLIENT_CONN_LIMIT : DropReason.CLIENT_TABLE_FULL);
                return;
            }
            counted = true;
        }
        int id = conns.insert(ctx.ipProto, ctx.srcAddr, ctx.srcPort, ctx.dstAddr, ctx.dstPort,
                dest.addr, dport, svc, dest, now);
        if (id == ConnectionTable.FULL && conns.reclaimEmbryonic(RECLAIM_SCAN)) {
            counters.embryonicReclaim();
            id = conns.insert(ctx.ipProto, ctx.srcAddr, ctx.srcPort, ctx.dstAddr, ctx.dstPort,
                    dest.addr, dport, svc, dest, now);
        }
        if (id < 0) {
            if (counted) {
                limits.release(svc.key, ctx.srcAddr);
            }
            counters.drop(id == ConnectionTable.NO_LOCAL_PORT ? DropReason.LOCAL_PORT_EXHAUSTED : DropReason.TABLE_FULL);
            return;
        }
        if (counted) {
            conns.markLimited(id);
        }
        if (tmpl >= 0) {
            conns.setController(id, tmpl, now);
        }
        // A SYN proxy's cookie ACK opens the connection as the SYN it stands for (SYN_RECV).
        int flags = ctx.synProxyData >= 0 ? TcpHeader.SYN : ctx.tcpFlags;
        if (ctx.ipProto == Protocol.TCP && !ConnectionHandler.isSyn(flags)) {
            counters.sloppyTcpAccept();   // only sloppy_tcp lets such a segment get here
        }
        conns.update(id, false, flags, ctx.frameLen, now);
        // -o: ip_vs_schedule's IP_VS_CONN_F_ONE_PACKET for UDP: the entry lives for this datagram only
        boolean onePacket = svc.onePacket && ctx.ipProto == Protocol.UDP;
        if (!onePacket) {
            sync.inbound(id, true, tmplCreated, now);
        }
        ctx.conn = id;
        ctx.dest = dest;
        chc.fireChannelRead(ctx);   // transmitted (or queued, already rewritten) when this returns
        if (onePacket) {
            conns.remove(id);       // never hashed in IPVS: the next datagram is scheduled afresh
        }
    }

    /** The scheduler's pick, counted as a decision; null (counted as a NO_DESTINATION drop) when none. */
    private RealServer pick(VirtualService svc, PacketContext ctx) {
        RealServer dest;
        // One scheduler per service serves every worker (--workers): rr/wrr positions, lblc/lblcr
        // caches and twos's state stay global, as IPVS's one instance is; the lock is taken once per
        // new connection, and uncontended with one worker.
        synchronized (svc.scheduler) {
            dest = svc.scheduler.schedule(ctx.srcAddr, ctx.srcPort, ctx.dstAddr, ctx.dstPort);
        }
        if (dest == null) {
            counters.decision(SchedulingOutcome.NO_DESTINATION);
            counters.drop(DropReason.NO_DESTINATION);
        } else {
            counters.decision(SchedulingOutcome.SCHEDULED);
        }
        return dest;
    }
}
