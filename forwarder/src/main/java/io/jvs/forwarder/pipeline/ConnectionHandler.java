package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.TcpState;
import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.packet.TcpHeader;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.sync.SyncHook;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Finds the packet's connection and advances its state. A miss goes on to the scheduler only
 * when IPVS would schedule: a TCP SYN (without RST), or any UDP datagram; other TCP segments
 * without a connection are dropped as NO_CONNECTION.
 *
 * <p>Connection reuse: a SYN that reuses the ports of a connection in TIME_WAIT or CLOSE
 * replaces it (IPVS conn_reuse_mode), and so does a SYN on a connection whose real server was
 * removed or has weight 0 — the client is scheduled afresh instead of being sent to a server
 * that takes no new connections (with IPVS such a SYN is dropped until the old entry times
 * out: the long-standing "black hole after quiescing" complaint). Other packets of a
 * connection whose server was removed are dropped as DEST_REMOVED; with expire_nodest_conn the
 * connection is expired at once and a packet that can open a connection (UDP) is rescheduled.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionTable conns;
    private final DataPathCounters counters;
    private final ConnPolicy policy;
    private final SyncHook sync;

    ConnectionHandler(ConnectionTable conns, DataPathCounters counters, ConnPolicy policy, SyncHook sync) {
        this.conns = conns;
        this.counters = counters;
        this.policy = policy;
        this.sync = sync;
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
        if (id >= 0) {
            DestStats ds = conns.dest(id).stats;
            if (syn) {
                int st = conns.state(id);
                if (st == TcpState.TIME_WAIT || st == TcpState.CLOSE || ds.removed() || ds.quiesced()) {
                    conns.remove(id);
                    id = -1;
                }
            } else if (ds.removed()) {
                if (!policy.expireNodestConn()) {
                    counters.drop(DropReason.DEST_REMOVED);
                    return;
                }
                conns.remove(id);
                id = -1;
            }
        }
        if (id >= 0) {
            ctx.conn = id;
            ctx.dest = conns.dest(id);
            conns.update(id, false, ctx.tcpFlags, ctx.frameLen, now);
            sync.inbound(id, false, false, now); // ip_vs_in: the master syncs after each inbound packet
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
