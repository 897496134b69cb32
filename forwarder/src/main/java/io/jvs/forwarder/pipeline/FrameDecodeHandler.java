package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.FrameDecoder;
import io.jvs.forwarder.counters.DataPathCounters;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * First stage: decodes the frame in place into the {@link PacketContext}.
 * Bad frames are counted under their reason and go no further (malformed IPv6
 * included: a broken extension-header chain has reasons of its own); valid IPv6,
 * which jvs does not forward yet, and frames of other EtherTypes (LLDP...) are
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
            case IPV4, ARP -> chc.fireChannelRead(ctx);
            case OTHER, IPV6 -> counters.ignored(); // IPv6 is decoded and checked, not forwarded yet
            case BAD -> counters.drop(ctx.drop);
        }
    }

    @Override
    public boolean isSharable() {
        return false;
    }
}
