package io.jvs.forwarder.xmit;

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

    public NatXmit(NextHopSender sender) {
        this.sender = sender;
    }

    @Override
    public void inbound(PacketContext ctx) {
        Rewrite.setDstAddr(ctx, ctx.dest.addr);
        if (ctx.dstPort != ctx.dest.port) {
            Rewrite.setDstPort(ctx, ctx.dest.port);
        }
        sender.send(ctx, ctx.dest.addr);
    }

    @Override
    public void outbound(PacketContext ctx) {
        Rewrite.setSrcAddr(ctx, ctx.service.addr);
        if (ctx.srcPort != ctx.service.port) {
            Rewrite.setSrcPort(ctx, ctx.service.port);
        }
        sender.send(ctx, ctx.dstAddr);
    }
}
