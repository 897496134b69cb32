package io.jvs.forwarder.xmit;

import io.jvs.forwarder.io.LanPort;
import io.jvs.packet.Checksum;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.IcmpHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.forwarder.frame.PacketContext;

import java.lang.foreign.MemorySegment;

/**
 * ICMP messages the director originates: fragmentation-needed back to a client
 * whose packet no longer fits once tunnelled (IPVS calls icmp_send from
 * ip_vs_tunnel_xmit), and echo replies for a VIP (a kernel director answers
 * pings to its VIPs because they are local addresses there; jvs keeps that
 * behaviour, so monitoring that pings VIPs keeps working).
 *
 * <p>Errors are built in a scratch slot of the ports, sourced from the address of the
 * port they leave by (the route to the client), quote the offending IP header and its first 8 data bytes (RFC
 * 792), and are rate-limited like the kernel's icmp_msgs_per_sec (1000/s,
 * burst 50: {@link IcmpRateLimit}), so a stream of oversized super-frames cannot turn into a flood.
 * Allocation-free; event-loop thread only.
 */
public final class IcmpSender {
    /** IPTOS_PREC_INTERNETCONTROL, as the kernel's icmp_send. */
    private static final int TOS_INTERNETCONTROL = 0xC0;

    private final NextHopSender sender;
    private final PacketContext out = new PacketContext();
    private final Ipv4Header ip = new Ipv4Header();
    private final IcmpHeader icmp = new IcmpHeader();
    private final IcmpRateLimit limit = new IcmpRateLimit();
    private int nextId;
    private long sent;

    public IcmpSender(NextHopSender sender) {
        this.sender = sender;
    }

    /** ICMP errors sent so far. */
    public long sent() {
        return sent;
    }

    /**
     * Sends "fragmentation needed and DF set" (type 3 code 4) with next-hop MTU
     * {@code mtu} to the source of the IPv4 packet in ctx (its IP header at
     * ctx.l3Off, not yet changed). Returns false when rate-limited.
     */
    public boolean fragNeeded(PacketContext ctx, int mtu) {
        return error(ctx, IcmpHeader.TYPE_DEST_UNREACH, IcmpHeader.CODE_FRAG_NEEDED, mtu);
    }

    private boolean error(PacketContext ctx, int type, int code, int mtu) {
        if (!limit.take()) {
            return false;
        }
        MemorySegment from = ctx.seg;
        int quote = Math.min(ctx.ip.totalLength(), ctx.ip.ihl() + 8);
        int client = ctx.ip.src();
        // From the address of the port the error leaves by, as the kernel's icmp_send picks its source.
        LanPort port = sender.egress(client);
        long slot = port.allocScratch();
        MemorySegment s = port.scratch();
        long frame = slot + 10;
        long l3 = frame + EthernetHeader.HEADER_LEN;
        out.eth.wrap(s, frame).setEtherType(EthernetHeader.ETH_P_IP);
        ip.wrap(s, l3).setVersion(4).setIhl(Ipv4Header.MIN_HEADER_LEN);
        ip.setTos(TOS_INTERNETCONTROL).setTotalLength(Ipv4Header.MIN_HEADER_LEN + IcmpHeader.HEADER_LEN + quote)
                .setId(nextId++ & 0xFFFF).setFlagsFragment(0).setTtl(64).setProtocol(Ipv4Header.PROTO_ICMP)
                .setSrc(port.addr).setDst(client).writeChecksum();
        long l4 = l3 + Ipv4Header.MIN_HEADER_LEN;
        icmp.wrap(s, l4).setType(type).setCode(code).setRestOfHeader(0).setNextHopMtu(mtu);
        MemorySegment.copy(from, ctx.l3Off, s, l4 + IcmpHeader.HEADER_LEN, quote);
        icmp.setChecksum(0).setChecksum(~Checksum.sum(s, l4, IcmpHeader.HEADER_LEN + quote) & 0xFFFF);
        out.seg = s;
        out.vnetOff = slot;
        out.frameOff = frame;
        out.frameLen = EthernetHeader.HEADER_LEN + Ipv4Header.MIN_HEADER_LEN + IcmpHeader.HEADER_LEN + quote;
        sent++;
        sender.transmit(out, client);
        return true;
    }

    /**
     * Turns the echo request in ctx, whose ICMP checksum the icmp stage has verified (a partial
     * one finished), into its reply in place (addresses swapped, type 0, TTL 64, IP checksum
     * updated incrementally, ICMP checksum computed afresh) and sends it back. The ICMP checksum
     * is recomputed rather than updated:
     * RFC 1624's update of a request with zero identifier, sequence and data gives 0x0000, the
     * "negative zero" receivers refuse, where the right checksum is 0xFFFF (found by
     * PipelineFuzzTest). An echo reply is rare (rate-limited); the sum costs one pass over it.
     */
    public void echoReply(PacketContext ctx) {
        int icmpLen = ctx.ip.totalLength() - ctx.ip.ihl();
        int client = ctx.ip.src();
        int vip = ctx.ip.dst();
        // Swapping the two addresses leaves the IP header sum as it was.
        ctx.ip.setSrc(vip).setDst(client);
        ctx.srcAddr = vip;
        ctx.dstAddr = client;
        int ttl = ctx.ip.ttl();
        int proto = ctx.ip.protocol();
        ctx.ip.setTtl(64).setChecksum(Checksum.update16(ctx.ip.checksum(), ttl << 8 | proto, 64 << 8 | proto));
        ctx.icmp.setType(IcmpHeader.TYPE_ECHO_REPLY).setChecksum(0);
        ctx.icmp.setChecksum(~Checksum.sum(ctx.seg, ctx.l4Off, icmpLen) & 0xFFFF);
        sender.transmit(ctx, client);
    }
}
