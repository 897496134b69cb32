package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.xmit.SynProxy;
import io.jvs.forwarder.xmit.Xmit;
import io.jvs.forwarder.io.LanPorts;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Last stage: hands the packet to its connection's forwarding method and,
 * once per read burst (channelReadComplete), flushes the ports: one
 * sendmmsg per port for the whole burst. A SYN proxy's cookie ACK that just opened its
 * connection goes to {@link SynProxy#connectServer} instead (it becomes the real server's SYN).
 */
final class TransmitHandler extends ChannelInboundHandlerAdapter {
    private final LanPorts ports;
    private final Xmit dr;
    private final Xmit nat;
    private final Xmit tun;
    private final Xmit fullNat;
    private final SynProxy synProxy;
    private final DataPathCounters counters;
    private int loggedErrors;

    TransmitHandler(LanPorts ports, Xmit dr, Xmit nat, Xmit tun, Xmit fullNat, SynProxy synProxy,
                    DataPathCounters counters) {
        this.ports = ports;
        this.dr = dr;
        this.nat = nat;
        this.tun = tun;
        this.fullNat = fullNat;
        this.synProxy = synProxy;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        Xmit x = switch (ctx.dest.method) {
            case DR -> dr;
            case NAT -> nat;
            case TUN -> tun;
            case FULLNAT -> fullNat;
        };
        if (ctx.synProxyData >= 0) {
            synProxy.connectServer(ctx, ctx.synProxyData, x); // the cookie ACK becomes the server's SYN
        } else if (ctx.reply) {
            x.outbound(ctx);
        } else {
            x.inbound(ctx);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext chc) {
        ports.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext chc, Throwable cause) {
        // A bug must not kill the event loop: the frame is counted as lost and the
        // first few stack traces are logged.
        counters.drop(DropReason.INTERNAL_ERROR);
        if (loggedErrors < 10) {
            loggedErrors++;
            System.err.println("jvs: error in packet pipeline: " + cause);
            cause.printStackTrace();
        }
    }
}
