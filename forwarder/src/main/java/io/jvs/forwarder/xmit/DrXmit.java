package io.jvs.forwarder.xmit;

import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.frame.PacketContext;

/**
 * Direct routing (ipvsadm -g): the IP packet is untouched but for the TTL
 * (IPVS decrements it too); only the Ethernet destination changes to the
 * real server's MAC. The real server holds the VIP on lo and answers the
 * client directly, so the director never sees replies.
 */
public final class DrXmit implements Xmit {
    private final NextHopSender sender;
    private final DataPathCounters counters;

    public DrXmit(NextHopSender sender, DataPathCounters counters) {
        this.sender = sender;
        this.counters = counters;
    }

    @Override
    public void inbound(PacketContext ctx) {
        sender.send(ctx, ctx.dest.addr);
    }

    @Override
    public void outbound(PacketContext ctx) {
        // DR never sees replies: they go from the real server straight to the client.
        // A DR connection is never in the OUT index, so this is not reached.
        counters.ignored();
    }
}
