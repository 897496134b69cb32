package io.jvs.forwarder.xmit;

import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;

/**
 * Masquerading over IPv6 (ipvsadm -m with an IPv6 service): inbound, [VIP]:vport becomes
 * [RIP]:rport; outbound, the real server's replies get [VIP]:vport back as their source. No IP
 * header checksum; the TCP, UDP or ICMPv6 checksum is updated incrementally for the 128-bit
 * address (RFC 1624 over its eight words, {@link Rewrite#setDstAddr6}) and the port, a partial
 * one as the kernel does. A packet larger than the egress port's MTU is answered with ICMPv6
 * Packet Too Big before anything is rewritten ({@link Ipv6Sender#fits}), as ip_vs_nat_xmit_v6
 * does.
 */
public final class Nat6Xmit implements Xmit {
    private final Ipv6Sender sender;
    private final ConnectionTable6 conns;

    public Nat6Xmit(Ipv6Sender sender, ConnectionTable6 conns) {
        this.sender = sender;
        this.conns = conns;
    }

    @Override
    public void inbound(PacketContext ctx) {
        int id = ctx.conn;
        long hi = conns.daddrHi(id);
        long lo = conns.daddrLo(id);
        if (!sender.fits(ctx, hi, lo)) {
            return; // before the rewrite: the Packet Too Big quotes what the client sent
        }
        Rewrite.setDstAddr6(ctx, hi, lo);
        int dport = conns.dport(id);
        if (ctx.dstPort != dport) {
            Rewrite.setDstPort(ctx, dport);
        }
        sender.send(ctx, hi, lo);
    }

    @Override
    public void outbound(PacketContext ctx) {
        int id = ctx.conn;
        if (!sender.fits(ctx, ctx.dstHi, ctx.dstLo)) {
            return; // before the rewrite: the Packet Too Big quotes what the real server sent
        }
        Rewrite.setSrcAddr6(ctx, conns.vaddrHi(id), conns.vaddrLo(id));
        int vport = conns.vport(id);
        if (ctx.srcPort != vport) {
            Rewrite.setSrcPort(ctx, vport);
        }
        sender.send(ctx, ctx.dstHi, ctx.dstLo);
    }
}
