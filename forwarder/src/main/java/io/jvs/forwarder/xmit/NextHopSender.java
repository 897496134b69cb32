package io.jvs.forwarder.xmit;

import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;

import java.util.function.Supplier;

/**
 * The last step every forwarding method shares: TTL, then the next hop for an
 * IPv4 destination in the director's routing table, put the LAN port's MAC as
 * source and the next hop's as destination, and queue the frame on the LAN
 * port; or, while the next hop is being resolved, park it with the
 * neighbour cache.
 */
public final class NextHopSender {
    private final LanPort port;
    private final NeighbourCache neighbours;
    private final Supplier<RouteTable> routes;
    private final DataPathCounters counters;

    public NextHopSender(LanPort port, NeighbourCache neighbours, Supplier<RouteTable> routes,
                         DataPathCounters counters) {
        this.port = port;
        this.neighbours = neighbours;
        this.routes = routes;
        this.counters = counters;
    }

    /**
     * Sends the frame in ctx towards dstAddr, decrementing its TTL as IPVS
     * does for every method (a TTL that would reach 0 is dropped as TTL_EXPIRED).
     */
    public void send(PacketContext ctx, int dstAddr) {
        if (decrementTtl(ctx)) {
            transmit(ctx, dstAddr);
        }
    }

    /**
     * IPVS's decrement_ttl: false (counted as TTL_EXPIRED) when the TTL would reach 0,
     * else decrements it in ctx's IPv4 header.
     */
    public boolean decrementTtl(PacketContext ctx) {
        if (ctx.ip.ttl() <= 1) {
            counters.drop(DropReason.TTL_EXPIRED);
            return false;
        }
        Rewrite.decrementTtl(ctx);
        return true;
    }

    /**
     * Routes and queues the frame in ctx (seg, vnetOff, frameOff, frameLen; eth wrapped at
     * frameOff) towards dstAddr without touching the IP header: for frames jvs built or
     * encapsulated itself.
     */
    public void transmit(PacketContext ctx, int dstAddr) {
        int hop = routes.get().nextHop(dstAddr);
        if (hop == 0) {
            counters.drop(DropReason.NO_ROUTE);
            return;
        }
        ctx.eth.setSrc(port.mac);
        long mac = neighbours.resolve(hop, System.nanoTime());
        if (mac < 0) {
            if (!neighbours.enqueue(hop, ctx)) {
                counters.drop(DropReason.NEIGH_QUEUE_FULL);
            }
            return;
        }
        ctx.eth.setDst(mac);
        port.send(ctx.seg, ctx.vnetOff, ctx.frameLen);
    }
}
