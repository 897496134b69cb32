package io.jvs.forwarder.xmit;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;

/**
 * Masquerading (ipvsadm -m): inbound, the destination VIP:vport becomes
 * RIP:rport; outbound, the real server's replies (it routes them through the
 * director) get VIP:vport back as their source. Checksums are updated
 * incrementally (RFC 1624), partial checksums as the kernel does.
 */
public final class NatXmit implements Xmit {
    private final NextHopSender sender;
    private final ConnectionTable conns;

    public NatXmit(NextHopSender sender, ConnectionTable conns) {
        this.sender = sender;
        this.conns = conns;
    }

    @Override
    public void inbound(PacketContext ctx) {
        // The connection's real port, not the server's: port-0 and fwmark services keep the
        // packet's port for a server configured without one.
        Rewrite.setDstAddr(ctx, ctx.dest.addr);
        int dport = conns.dport(ctx.conn);
        if (ctx.dstPort != dport) {
            Rewrite.setDstPort(ctx, dport);
        }
        sender.send(ctx, ctx.dest.addr);
    }

    @Override
    public void outbound(PacketContext ctx) {
        // The connection's VIP and port (a fwmark or port-0 service has neither of its own).
        Rewrite.setSrcAddr(ctx, conns.vaddr(ctx.conn));
        int vport = conns.vport(ctx.conn);
        if (ctx.srcPort != vport) {
            Rewrite.setSrcPort(ctx, vport);
        }
        sender.send(ctx, ctx.dstAddr);
    }
}
