package io.jvs.forwarder.xmit;

import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.frame.PacketContext;

/**
 * Direct routing over IPv6 (ipvsadm -g with an IPv6 service): the packet is untouched but for
 * the hop limit; the Ethernet destination becomes the real server's MAC, found by NDP. The real
 * server holds the VIP (a /128 on lo) and answers the client directly.
 */
public final class Dr6Xmit implements Xmit {
    private final Ipv6Sender sender;
    private final ConnectionTable6 conns;
    private final DataPathCounters counters;

    public Dr6Xmit(Ipv6Sender sender, ConnectionTable6 conns, DataPathCounters counters) {
        this.sender = sender;
        this.conns = conns;
        this.counters = counters;
    }

    @Override
    public void inbound(PacketContext ctx) {
        long hi = conns.daddrHi(ctx.conn);
        long lo = conns.daddrLo(ctx.conn);
        if (sender.fits(ctx, hi, lo)) {
            sender.send(ctx, hi, lo);
        }
    }

    @Override
    public void outbound(PacketContext ctx) {
        // Replies go from the real server to the client; a DR entry is never the answer of an OUT lookup
        // when a NAT one has the key, and a lone DR match is not forwarded back.
        counters.ignored();
    }
}
