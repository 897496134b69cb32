package io.jvs.forwarder.xmit;

import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.forwarder.io.LanPort;
import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.LongSupplier;

/**
 * Full NAT over IPv6 ({@code --fullnat} real servers of an IPv6 service with {@code --laddr}
 * IPv6 local addresses): inbound, [client]:cport -> [VIP]:vport becomes [LIP]:lport ->
 * [RIP]:rport, the LIP and the local port held for the connection in the IPv6 table's
 * {@link io.jvs.forwarder.conn.LocalPorts}; the real server answers the LIP (jvs answers NDP for
 * it), the reply is found by (RIP, rport, LIP, lport) in {@link ConnectionTable6}'s OUT index and
 * gets [VIP]:vport -> [client]:cport back. No IP header checksum; the TCP/UDP checksum is updated
 * incrementally for both 128-bit addresses and the ports (a partial one as the kernel does), and
 * the hop limit decremented; a packet larger than the egress port's MTU is answered with ICMPv6
 * Packet Too Big before anything is rewritten ({@link Ipv6Sender#fits}), as for NAT.
 *
 * <p>TCP is rewritten by {@link FullNatTcp}, as for IPv4 ({@link FullNatXmit}'s class comment says
 * why: the real server's own sequence space and timestamps per tuple). The client's address
 * reaches the server per service:
 * <ul>
 *   <li>TOA: DPVS's IPv6 TOA option (its kmod/toa, the Linux module most IPv6 FULLNAT real servers
 *       load): kind 254, length 20, the client's port (2 bytes) and IPv6 address (16 bytes), in
 *       the SYN and in the client's handshake ACK, where the 40 bytes of option space allow.
 *       (Huawei's TOA uses kind 253 for IPv6; DPVS's 254 with the length telling the families apart
 *       is the layout the DPVS and Alibaba modules both read.)</li>
 *   <li>PROXY v2: the 52-byte header for TCP over IPv6 (family/protocol 0x21, 36 address bytes:
 *       client, VIP, client port, VIP port) as its own segment ahead of the client's first
 *       segment after the handshake, sequence numbers shifted by 52, as for IPv4.</li>
 * </ul>
 * Allocation-free; event-loop thread only.
 */
public final class Fullnat6Xmit implements Xmit, FullNatTcp.Family {
    /** PROXY protocol v2 signature, version 2 + PROXY, TCP over IPv6, 36 address bytes. */
    private static final byte[] PROXY_V2_PREFIX = {
            0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
            0x21, 0x21, 0x00, 0x24};
    /** Bytes of the PROXY v2 header for TCP over IPv6. */
    public static final int PROXY_V2_LEN = PROXY_V2_PREFIX.length + 36;
    /** DPVS's IPv6 TOA option length: kind, length, port, 16 address bytes. */
    public static final int TOA_LEN = 20;

    private final Ipv6Sender sender;
    private final ConnectionTable6 conns;
    private final FullNatTcp tcpRewrite;
    private final PacketContext out = new PacketContext();
    private final Ipv6Header ip = new Ipv6Header();
    private final TcpHeader tcp = new TcpHeader();
    private final long isnKey0;
    private final long isnKey1;

    /**
     * @param wallMillis the wall clock in milliseconds (ISNs and timestamps towards the real servers)
     * @param isnKey0    the ISN hash key (tests give a fixed one)
     */
    public Fullnat6Xmit(Ipv6Sender sender, ConnectionTable6 conns, LongSupplier wallMillis, long isnKey0,
                        long isnKey1) {
        this.sender = sender;
        this.conns = conns;
        this.tcpRewrite = new FullNatTcp(conns, wallMillis, PROXY_V2_LEN);
        this.isnKey0 = isnKey0;
        this.isnKey1 = isnKey1;
    }

    /** {@link FullNatTcp#clientSeq} for IPv6 (the sequence number an ICMPv6 error from the real server quotes). */
    public static int clientSeq(ConnectionTable6 conns, int id, boolean proxy, int v) {
        return FullNatTcp.clientSeq(conns, id, proxy, PROXY_V2_LEN, v);
    }

    /**
     * The ISN towards the real server for a tuple ([LIP]:lport, [RIP]:rport) at a wall-clock time: a
     * keyed hash of the tuple plus the kernel's 64 ns clock (RFC 6528), as for IPv4.
     */
    public int isn(long lHi, long lLo, int lport, long rHi, long rLo, int rport, long nowMillis) {
        long h = FullNatTcp.mix64(isnKey0 ^ lHi);
        h = FullNatTcp.mix64(h ^ lLo);
        h = FullNatTcp.mix64(h ^ rHi);
        h = FullNatTcp.mix64(h ^ rLo);
        h = FullNatTcp.mix64(h ^ isnKey1 ^ ((long) (lport & 0xFFFF) << 16 | (rport & 0xFFFF)));
        return FullNatTcp.isn(h, nowMillis);
    }

    @Override
    public int isn(int id, long nowMillis) {
        return isn(conns.laddrHi(id), conns.laddrLo(id), conns.lport(id), conns.daddrHi(id), conns.daddrLo(id),
                conns.dport(id), nowMillis);
    }

    /** DPVS's IPv6 TOA: kind 254, length 20, the client's port and IPv6 address. */
    @Override
    public boolean addToa(PacketContext ctx, int id) {
        return Rewrite.addTcpOption20(ctx, FullNatXmit.TOA_KIND << 24 | TOA_LEN << 16 | conns.cport(id),
                conns.caddrHi(id), conns.caddrLo(id));
    }

    @Override
    public void inbound(PacketContext ctx) {
        int id = ctx.conn;
        long rHi = conns.daddrHi(id);
        long rLo = conns.daddrLo(id);
        if (!sender.fits(ctx, rHi, rLo)) {
            return; // before any rewrite: the Packet Too Big quotes what the client sent
        }
        boolean proxy = ctx.ipProto == Ipv6Header.NEXT_TCP && ctx.l4Off >= 0 && tcpRewrite.inbound(ctx, id, this);
        Rewrite.setDstAddr6(ctx, rHi, rLo);
        int rport = conns.dport(id);
        if (ctx.dstPort != rport) {
            Rewrite.setDstPort(ctx, rport);
        }
        Rewrite.setSrcAddr6(ctx, conns.laddrHi(id), conns.laddrLo(id));
        if (ctx.srcPort != conns.lport(id)) {
            Rewrite.setSrcPort(ctx, conns.lport(id));
        }
        if (!proxy || ctx.ttl <= 1) {
            sender.send(ctx, rHi, rLo); // hop limit, or Time Exceeded
            return;
        }
        Rewrite.decrementHopLimit(ctx);
        sendProxyHeader(ctx, id);
        sender.transmit(ctx, rHi, rLo);
    }

    @Override
    public void outbound(PacketContext ctx) {
        int id = ctx.conn;
        if (!sender.fits(ctx, conns.caddrHi(id), conns.caddrLo(id))) {
            return; // before any rewrite: the Packet Too Big quotes what the real server sent
        }
        if (ctx.ipProto == Ipv6Header.NEXT_TCP && ctx.l4Off >= 0) {
            tcpRewrite.outbound(ctx, id);
        }
        Rewrite.setSrcAddr6(ctx, conns.vaddrHi(id), conns.vaddrLo(id));
        if (ctx.srcPort != conns.vport(id)) {
            Rewrite.setSrcPort(ctx, conns.vport(id));
        }
        long cHi = conns.caddrHi(id);
        long cLo = conns.caddrLo(id);
        Rewrite.setDstAddr6(ctx, cHi, cLo);
        if (ctx.dstPort != conns.cport(id)) {
            Rewrite.setDstPort(ctx, conns.cport(id));
        }
        sender.send(ctx, cHi, cLo);
    }

    /**
     * Sends the PROXY v2 header ahead of the (already rewritten) client segment in ctx: its L2,
     * IPv6 (extension headers included) and TCP headers (options included, so timestamps stay)
     * with sequence number seqBase, ACK|PSH, and the 52 header bytes as payload; the TCP checksum
     * computed whole.
     */
    private void sendProxyHeader(PacketContext ctx, int id) {
        long rHi = conns.daddrHi(id);
        long rLo = conns.daddrLo(id);
        LanPort port = sender.egress(rHi, rLo).port();
        MemorySegment from = ctx.seg;
        int headers = (int) (ctx.l4Off - ctx.frameOff) + ctx.tcp.dataOffset();
        int frameLen = headers + PROXY_V2_LEN;
        long o = port.allocBulk(VirtioNetHeader.SIZE + frameLen);
        MemorySegment b = port.bulk();
        long f = o + VirtioNetHeader.SIZE;
        out.vnet.wrap(b, o).clear();
        MemorySegment.copy(from, ctx.frameOff, b, f, headers);
        long p = f + headers;
        MemorySegment.copy(PROXY_V2_PREFIX, 0, b, ValueLayout.JAVA_BYTE, p, PROXY_V2_PREFIX.length);
        p += PROXY_V2_PREFIX.length;
        b.set(Bytes.BE64, p, conns.caddrHi(id));
        b.set(Bytes.BE64, p + 8, conns.caddrLo(id));
        b.set(Bytes.BE64, p + 16, conns.vaddrHi(id));
        b.set(Bytes.BE64, p + 24, conns.vaddrLo(id));
        Bytes.u16(b, p + 32, conns.cport(id));
        Bytes.u16(b, p + 34, conns.vport(id));
        long l3 = f + (ctx.l3Off - ctx.frameOff);
        ip.wrap(b, l3).setPayloadLength((int) (f + frameLen - l3) - Ipv6Header.HEADER_LEN);
        long l4 = f + (ctx.l4Off - ctx.frameOff);
        int l4Len = (int) (f + frameLen - l4);
        tcp.wrap(b, l4).setSeq(conns.seqBase(id)).setFlags(TcpHeader.ACK | TcpHeader.PSH).setUrgentPointer(0);
        tcp.setChecksum(Checksum.l4v6(b, l4, l4Len, Ipv6Header.NEXT_TCP, conns.laddrHi(id), conns.laddrLo(id),
                rHi, rLo));
        out.seg = b;
        out.vnetOff = o;
        out.frameOff = f;
        out.frameLen = frameLen;
        out.eth.wrap(b, f);
        sender.transmit(out, rHi, rLo);
    }
}
