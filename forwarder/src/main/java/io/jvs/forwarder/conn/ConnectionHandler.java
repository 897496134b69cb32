package io.jvs.forwarder.conn;

import io.jvs.forwarder.metrics.DataPathCounters;
import io.jvs.forwarder.metrics.DropReason;
import io.jvs.forwarder.packet.PacketContext;
import io.jvs.forwarder.packet.TcpHeader;
import io.jvs.forwarder.service.Protocol;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Finds the packet's connection and advances its state. A miss goes on to the
 * scheduler only when IPVS would schedule: a TCP SYN (without RST), or any
 * UDP datagram; other TCP segments without a connection are dropped as
 * NO_CONNECTION. A SYN that reuses the ports of a connection in TIME_WAIT or
 * CLOSE replaces it (IPVS conn_reuse_mode), so a reused client port is
 * scheduled afresh rather than sent to the old server.
 */
public final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionTable conns;
    private final DataPathCounters counters;

    public ConnectionHandler(ConnectionTable conns, DataPathCounters counters) {
        this.conns = conns;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        long now = System.nanoTime();
        if (ctx.reply) {
            conns.update(ctx.conn, true, ctx.tcpFlags, ctx.frameLen, now);
            chc.fireChannelRead(ctx);
            return;
        }
        boolean tcp = ctx.ipProto == Protocol.TCP;
        boolean syn = tcp && (ctx.tcpFlags & (TcpHeader.SYN | TcpHeader.RST | TcpHeader.ACK)) == TcpHeader.SYN;
        int id = conns.lookupIn(ctx.ipProto, ctx.srcAddr, ctx.srcPort, ctx.dstAddr, ctx.dstPort, now);
        if (id >= 0 && syn) {
            int st = conns.state(id);
            if (st == TcpState.TIME_WAIT || st == TcpState.CLOSE) {
                conns.remove(id);
                id = -1;
            }
        }
        if (id >= 0) {
            ctx.conn = id;
            ctx.dest = conns.dest(id);
            conns.update(id, false, ctx.tcpFlags, ctx.frameLen, now);
            chc.fireChannelRead(ctx);
            return;
        }
        if (tcp && !syn) {
            counters.drop(DropReason.NO_CONNECTION);
            return;
        }
        chc.fireChannelRead(ctx);   // new connection: schedule
    }
}
