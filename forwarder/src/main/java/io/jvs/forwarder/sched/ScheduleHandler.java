package io.jvs.forwarder.sched;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.metrics.DataPathCounters;
import io.jvs.forwarder.metrics.DropReason;
import io.jvs.forwarder.packet.PacketContext;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * For a packet that opens a new connection: asks the service's scheduler for
 * a real server and enters the connection into the table. No server
 * available -> NO_DESTINATION; table full -> TABLE_FULL (existing connections
 * are never evicted for new ones); FULLNAT with no free local port ->
 * LOCAL_PORT_EXHAUSTED. Packets of known connections pass through.
 */
public final class ScheduleHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionTable conns;
    private final DataPathCounters counters;

    public ScheduleHandler(ConnectionTable conns, DataPathCounters counters) {
        this.conns = conns;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        if (ctx.conn >= 0) {
            chc.fireChannelRead(ctx);
            return;
        }
        VirtualService svc = ctx.service;
        RealServer dest = svc.scheduler.schedule(ctx.srcAddr, ctx.srcPort, ctx.dstAddr, ctx.dstPort);
        if (dest == null) {
            counters.drop(DropReason.NO_DESTINATION);
            return;
        }
        long now = System.nanoTime();
        int id = conns.insert(ctx.ipProto, ctx.srcAddr, ctx.srcPort, ctx.dstAddr, ctx.dstPort,
                dest.addr, dest.port, svc, dest, now);
        if (id < 0) {
            counters.drop(id == ConnectionTable.NO_LOCAL_PORT ? DropReason.LOCAL_PORT_EXHAUSTED : DropReason.TABLE_FULL);
            return;
        }
        conns.update(id, false, ctx.tcpFlags, ctx.frameLen, now);
        ctx.conn = id;
        ctx.dest = dest;
        chc.fireChannelRead(ctx);
    }
}
