package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.packet.EthernetHeader;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The ipv6 stage of a data path built without IPv6 neighbours ({@link DataPath.Builder#neighbours6}
 * not given): IPv6 frames, decoded and checked, are the kernel's and counted as ignored; the rest
 * passes on.
 */
final class IgnoreIpv6Handler extends ChannelInboundHandlerAdapter {
    private final DataPathCounters counters;

    IgnoreIpv6Handler(DataPathCounters counters) {
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        if (ctx.etherType == EthernetHeader.ETH_P_IPV6) {
            counters.ignored();
        } else {
            chc.fireChannelRead(ctx);
        }
    }
}
