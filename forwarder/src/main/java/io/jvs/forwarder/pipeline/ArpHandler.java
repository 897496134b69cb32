package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.neigh.ArpScope;
import io.jvs.forwarder.neigh.NeighbourCache;
import io.jvs.forwarder.neigh.RouteTable;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.packet.ArpPacket;
import io.jvs.packet.EthernetHeader;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VrrpGate;
import io.jvs.forwarder.io.LanPort;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.function.Supplier;

/**
 * Answers ARP requests for the VIPs and FULLNAT local addresses on the port the attachment
 * receives on (neither is a local address of the director, so the kernel stays silent),
 * where the {@link ArpScope} says their clients are, and feeds every ARP message it sees
 * to that port's {@link NeighbourCache}. IPv4 frames pass through.
 * VRRP ({@link VrrpGate}): silent for the addresses of an instance this director is not MASTER
 * of; answers for a MASTER instance's addresses that are not VIPs as for its own.
 */
final class ArpHandler extends ChannelInboundHandlerAdapter {
    private final ServiceRegistry registry;
    /** The neighbour cache of the port this attachment receives ARP on (replies leave there). */
    private final NeighbourCache neighbours;
    private final LanPort port;
    private final ArpScope scope;
    private final Supplier<RouteTable> routes;
    private final DataPathCounters counters;
    private final VrrpGate vrrp;
    /** False on a worker's learn-only ARP ring (--workers): worker 0 answers, the others only learn. */
    private final boolean answers;

    ArpHandler(ServiceRegistry registry, VrrpGate vrrp, NeighbourCache neighbours, ArpScope scope,
               Supplier<RouteTable> routes,
               DataPathCounters counters, boolean answers) {
        this.answers = answers;
        this.registry = registry;
        this.vrrp = vrrp;
        this.neighbours = neighbours;
        this.port = neighbours.port();
        this.scope = scope;
        this.routes = routes;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        if (ctx.etherType != EthernetHeader.ETH_P_ARP) {
            chc.fireChannelRead(ctx);
            return;
        }
        ArpPacket arp = ctx.arp;
        long now = System.nanoTime();
        int op = arp.op();
        int target = arp.targetIp();
        ServiceTable services = registry.current();
        VrrpGate.Snapshot gate = vrrp.current();
        boolean forVip = ((services.isVip(target) && !scope.vipsRouted()) || services.isLocalAddr(target)
                || gate.owned(target))
                && !gate.silent(target) && scope.answersOn(target, port.id, routes.get());
        if (!answers) {
            // Another worker answers and counts; this one keeps its own cache fresh (replies
            // to the requests it sent itself included).
            neighbours.learn(arp.senderIp(), arp.senderMac(), forVip && op == ArpPacket.OP_REQUEST, now);
        } else if (op == ArpPacket.OP_REQUEST && forVip && arp.senderIp() != target) {
            neighbours.learn(arp.senderIp(), arp.senderMac(), true, now);
            long off = port.allocScratch();
            int len = ArpPacket.writeFrame(port.scratch(), off + 10, arp.senderMac(), port.mac,
                    ArpPacket.OP_REPLY, port.mac, target, arp.senderMac(), arp.senderIp());
            port.send(port.scratch(), off, len);
        } else {
            // Replies to our requests, gratuitous ARP and requests between other hosts:
            // refresh what we already know, create nothing.
            neighbours.learn(arp.senderIp(), arp.senderMac(), false, now);
            counters.ignored();
        }
    }
}
