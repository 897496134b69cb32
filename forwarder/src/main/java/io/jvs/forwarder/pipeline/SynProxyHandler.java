package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.xmit.SynProxy;
import io.jvs.forwarder.xmit.Xmit;
import io.jvs.packet.TcpHeader;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The SYN proxy's stage, between connection and schedule ({@link SynProxy} says what it does).
 * TCP segments of proxied connections (their entry's SYN proxy state is set) are translated
 * here, or consumed while the real server has not answered. For a {@code --synproxy} service
 * with no connection: a SYN is answered with a cookie and goes no further; an ACK with a valid
 * cookie goes on to be scheduled, marked ({@code PacketContext.synProxyData}) so that the
 * schedule stage enters it as a SYN would be and the transmit stage sends the real server its
 * SYN; an ACK with a bad cookie is SYNPROXY_BAD_COOKIE; anything else is NO_CONNECTION.
 * Everything else passes untouched.
 */
final class SynProxyHandler extends ChannelInboundHandlerAdapter {
    private final ConnectionTable conns;
    private final SynProxy proxy;
    private final Xmit nat;
    private final Xmit fullNat;
    private final DataPathCounters counters;

    SynProxyHandler(ConnectionTable conns, SynProxy proxy, Xmit nat, Xmit fullNat, DataPathCounters counters) {
        this.conns = conns;
        this.proxy = proxy;
        this.nat = nat;
        this.fullNat = fullNat;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        if (ctx.ipProto != Protocol.TCP || ctx.l4Off < 0) {
            chc.fireChannelRead(ctx);
            return;
        }
        int id = ctx.conn;
        if (id >= 0) {
            byte state = conns.synProxyState(id);
            if (state == ConnectionTable.SP_NONE) {
                chc.fireChannelRead(ctx);
            } else if (ctx.reply) {
                if (proxy.fromServer(ctx, xmit(ctx))) {
                    chc.fireChannelRead(ctx);
                }
            } else if (state == ConnectionTable.SP_AWAITING_SERVER) {
                proxy.clientPending(ctx, xmit(ctx));
            } else {
                proxy.toServer(ctx, id);
                chc.fireChannelRead(ctx);
            }
            return;
        }
        if (!ctx.service.synProxy) {
            chc.fireChannelRead(ctx);
            return;
        }
        int flags = ctx.tcpFlags & (TcpHeader.SYN | TcpHeader.ACK | TcpHeader.RST);
        if (flags == TcpHeader.SYN) {
            proxy.answerSyn(ctx);
        } else if (flags == TcpHeader.ACK) {
            int data = proxy.checkAck(ctx);
            if (data < 0) {
                counters.drop(DropReason.SYNPROXY_BAD_COOKIE);
                return;
            }
            ctx.synProxyData = data;
            chc.fireChannelRead(ctx);
        } else {
            counters.drop(DropReason.NO_CONNECTION);
        }
    }

    /** A proxied connection's method: NAT or FULLNAT (ServiceSpec refuses DR and TUN with --synproxy). */
    private Xmit xmit(PacketContext ctx) {
        return ctx.dest.method == ForwardMethod.FULLNAT ? fullNat : nat;
    }
}
