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
 * when IPVS would schedule: a TCP SYN (without ACK and RST), or any UDP datagram; other TCP
 * segments without a connection are dropped as NO_CONNECTION.
 *
 * <p>sloppy_tcp ({@link ConnPolicy#sloppyTcp()}): any TCP segment without RST may open a
 * connection (tcp_conn_schedule). The entry starts in NONE like any other, and the segment's
 * own transition (ScheduleHandler's update) gives it the kernel's state: ESTABLISHED for an ACK,
 * CLOSE for a FIN. So a restarted director, or one that took over without connection sync,
 * sends each running DR/TUN/NAT flow to the server a consistent-hash scheduler (mh, sh, dh)
 * picked before. Not for a service with a FULLNAT real server: its connections' local port and
 * sequence offsets died with the old director, and a new local port would only make the real
 * server answer with a reset; such segments stay NO_CONNECTION.
 *
 * <p>Connection reuse: a SYN that reuses the ports of a connection in TIME_WAIT or CLOSE
 * replaces it (IPVS conn_reuse_mode), and so does a SYN on a connection whose real server was
 * removed or has weight 0 — the client is scheduled afresh instead of being sent to a server
 * that takes no new connections (with IPVS such a SYN is dropped until the old entry times
 * out: the long-standing "black hole after quiescing" complaint). Other packets of a
 * connection whose server was removed are dropped as DEST_REMOVED; with expire_nodest_conn the
 * connection is expired at once and a packet that can open a connection (UDP) is rescheduled.
 *
 * <p>A --synproxy service's TCP segments without a connection all go on: the synproxy stage
 * answers SYNs and opens connections only for ACKs with a valid cookie.
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
        boolean syn = tcp && isSyn(ctx.tcpFlags);
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
        if (tcp && !syn && !sloppyOpens(ctx) && !ctx.service.synProxy) {
            counters.drop(DropReason.NO_CONNECTION);
            return;
        }
        chc.fireChannelRead(ctx);   // new connection: schedule
    }

    /** A segment that opens a connection whatever sloppy_tcp says: SYN without ACK and RST. */
    static boolean isSyn(int tcpFlags) {
        return (tcpFlags & (TcpHeader.SYN | TcpHeader.RST | TcpHeader.ACK)) == TcpHeader.SYN;
    }

    /** sloppy_tcp lets this non-SYN segment of an unknown connection be scheduled. */
    private boolean sloppyOpens(PacketContext ctx) {
        return policy.sloppyTcp() && (ctx.tcpFlags & TcpHeader.RST) == 0 && !ctx.service.hasFullNatDest;
    }
}
