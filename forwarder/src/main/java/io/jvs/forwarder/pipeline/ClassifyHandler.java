package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.service.VirtualService;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.VrrpGate;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Classifies an IPv4 packet: to a virtual service (a fwmark service when a
 * fwmark rule marks it and that mark has a service, else VIP:port/proto), or as the
 * reply of a NAT connection (real server -> client, found in the table's
 * OUT index), or as none of jvs's business (left to the kernel). A packet to
 * a VIP on a port no service has is dropped as NO_SERVICE. A packet to a VIP of a VRRP
 * instance this director is not MASTER of is dropped as VRRP_BACKUP (the master forwards it;
 * replies of connections it still holds go on, as they are the master's business no more
 * than ours).
 */
final class ClassifyHandler extends ChannelInboundHandlerAdapter {
    private final ServiceRegistry registry;
    private final ConnectionTable conns;
    private final DataPathCounters counters;
    private final VrrpGate vrrp;

    ClassifyHandler(ServiceRegistry registry, VrrpGate vrrp, ConnectionTable conns, DataPathCounters counters) {
        this.registry = registry;
        this.vrrp = vrrp;
        this.conns = conns;
        this.counters = counters;
    }

    @Override
    public void channelRead(ChannelHandlerContext chc, Object msg) {
        PacketContext ctx = (PacketContext) msg;
        ServiceTable services = registry.current();
        if (ctx.fragment && !ctx.firstFragment) {
            // No ports to classify by; jvs does not reassemble (see README: fragments).
            if (services.isVip(ctx.dstAddr)) {
                counters.drop(DropReason.FRAGMENT_UNTRACKED);
            } else {
                counters.ignored();
            }
            return;
        }
        VirtualService svc = services.classify(ctx.ipProto, ctx.srcAddr, ctx.dstAddr, ctx.dstPort);
        if (svc != null) {
            if (vrrp.silent(ctx.dstAddr)) {
                counters.drop(DropReason.VRRP_BACKUP);
                return;
            }
            ctx.service = svc;
            chc.fireChannelRead(ctx);
            return;
        }
        int id = conns.lookupOut(ctx.ipProto, ctx.srcAddr, ctx.srcPort, ctx.dstAddr, ctx.dstPort);
        if (id >= 0) {
            ctx.conn = id;
            ctx.reply = true;
            ctx.service = conns.service(id);
            ctx.dest = conns.dest(id);
            chc.fireChannelRead(ctx);
            return;
        }
        if (services.isVip(ctx.dstAddr)) {
            counters.drop(DropReason.NO_SERVICE);
        } else {
            counters.ignored();
        }
    }
}
