package io.jvs.forwarder.xmit;

import io.jvs.forwarder.metrics.DataPathCounters;
import io.jvs.forwarder.metrics.DropReason;
import io.jvs.forwarder.packet.PacketContext;
import io.jvs.forwarder.packet.Rewrite;

/**
 * Masquerading (ipvsadm -m): inbound, the destination VIP:vport becomes
 * RIP:rport; outbound, the real server's replies (it routes them through the
 * director) get VIP:vport back as their source. Checksums are updated
 * incrementally (RFC 1624), partial checksums as the kernel does.
 */
public final class NatXmit implements Xmit {
    private final NextHopSender sender;
    private final DataPathCounters counters;

    public NatXmit(NextHopSender sender, DataPathCounters counters) {
        this.sender = sender;
        this.counters = counters;
    }

    @Override
    public void inbound(PacketContext ctx) {
        if (ctx.ip.ttl() <= 1) {
            counters.drop(DropReason.TTL_EXPIRED);
            return;
        }
        Rewrite.setDstAddr(ctx, ctx.dest.addr);
        if (ctx.dstPort != ctx.dest.port) {
            Rewrite.setDstPort(ctx, ctx.dest.port);
        }
        Rewrite.decrementTtl(ctx);
        sender.send(ctx, ctx.dest.addr);
    }

    @Override
    public void outbound(PacketContext ctx) {
        if (ctx.ip.ttl() <= 1) {
            counters.drop(DropReason.TTL_EXPIRED);
            return;
        }
        Rewrite.setSrcAddr(ctx, ctx.service.addr);
        if (ctx.srcPort != ctx.service.port) {
            Rewrite.setSrcPort(ctx, ctx.service.port);
        }
        Rewrite.decrementTtl(ctx);
        sender.send(ctx, ctx.dstAddr);
    }
}
