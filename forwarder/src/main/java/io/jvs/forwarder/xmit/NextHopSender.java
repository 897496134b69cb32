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
 * The last step every forwarding method shares: TTL, then the route for an IPv4
 * destination in the director's routing table, which gives the port (interface) the
 * frame leaves by and its next hop; that port's MAC as source, the next hop's as
 * destination (from that port's neighbour cache), and the frame queued on that port;
 * or, while the next hop is being resolved, parked with that port's neighbour cache.
 * Choosing the port is an array index (the route snapshot maps routes to port numbers),
 * so it allocates nothing.
 */
public final class NextHopSender {
    /** The neighbour cache of each port, by port number (the RouteTable's numbering). */
    private final NeighbourCache[] neighbours;
    private final Supplier<RouteTable> routes;
    private final DataPathCounters counters;

    public NextHopSender(NeighbourCache[] neighbours, Supplier<RouteTable> routes, DataPathCounters counters) {
        if (neighbours.length == 0) {
            throw new IllegalArgumentException("no port to send on");
        }
        this.neighbours = neighbours.clone();
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
     * The port a frame to dstAddr leaves by (its MTU and address: TUN's outer header, ICMP's
     * source); the first port when no route of jvs's covers it ({@link #transmit} then drops
     * the frame as no_route).
     */
    public LanPort egress(int dstAddr) {
        RouteTable rt = routes.get();
        int r = rt.lookup(dstAddr);
        int p = r < 0 ? -1 : rt.port(r);
        return neighbours[p < 0 || p >= neighbours.length ? 0 : p].port();
    }

    /**
     * Routes and queues the frame in ctx (seg, vnetOff, frameOff, frameLen; eth wrapped at
     * frameOff) towards dstAddr without touching the IP header: for frames jvs built or
     * encapsulated itself.
     */
    public void transmit(PacketContext ctx, int dstAddr) {
        RouteTable rt = routes.get();
        int r = rt.lookup(dstAddr);
        int p = r < 0 ? -1 : rt.port(r);
        if (p < 0 || p >= neighbours.length) {
            counters.drop(DropReason.NO_ROUTE);
            return;
        }
        int hop = rt.hop(r, dstAddr);
        NeighbourCache n = neighbours[p];
        LanPort port = n.port();
        ctx.eth.setSrc(port.mac);
        long mac = n.resolve(hop, System.nanoTime());
        if (mac < 0) {
            if (!n.enqueue(hop, ctx)) {
                counters.drop(DropReason.NEIGH_QUEUE_FULL);
            }
            return;
        }
        ctx.eth.setDst(mac);
        port.send(ctx.seg, ctx.vnetOff, ctx.frameLen);
    }
}
