package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.neigh.NeighbourCache;
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

/**
 * Answers ARP requests for the VIPs and FULLNAT local addresses on the LAN port
 * (neither is a local address of the director, so the kernel stays silent) and feeds every ARP
 * message it sees to the {@link NeighbourCache}. IPv4 frames pass through.
 * VRRP ({@link VrrpGate}): silent for the addresses of an instance this director is not MASTER
 * of; answers for a MASTER instance's addresses that are not VIPs as for its own.
 */
final class ArpHandler extends ChannelInboundHandlerAdapter {
    private final ServiceRegistry registry;
    private final NeighbourCache neighbours;
    private final LanPort port;
    private final DataPathCounters counters;
    private final VrrpGate vrrp;

    ArpHandler(ServiceRegistry registry, VrrpGate vrrp, NeighbourCache neighbours, LanPort port,
               DataPathCounters counters) {
        this.registry = registry;
        this.vrrp = vrrp;
        this.neighbours = neighbours;
        this.port = port;
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
        boolean forVip = (services.isVip(target) || services.isLocalAddr(target) || gate.owned(target))
                && !gate.silent(target);
        if (op == ArpPacket.OP_REQUEST && forVip && arp.senderIp() != target) {
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
