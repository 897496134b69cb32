package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.FrameDecoder;
import io.jvs.forwarder.counters.DataPathCounters;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * First stage: decodes the frame in place into the {@link PacketContext}.
 * Bad frames are counted under their reason and go no further (malformed IPv6
 * included: a broken extension-header chain has reasons of its own); IPv4, ARP and
 * IPv6 go on (IPv6 to the ipv6 stage); frames of other EtherTypes (LLDP...) are
 * not jvs's business and are counted as ignored (in packet mode the kernel sees
 * them too).
 */
final class FrameDecodeHandler extends ChannelInboundHandlerAdapter {
    private final DataPathCounters counters;

    FrameDecodeHandler(DataPathCounters counters) {
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        switch (FrameDecoder.decode(ctx)) {
            case IPV4, ARP, IPV6 -> chc.fireChannelRead(ctx);
            case OTHER -> counters.ignored();
            case BAD -> counters.drop(ctx.drop);
        }
    }

    @Override
    public boolean isSharable() {
        return false;
    }
}
