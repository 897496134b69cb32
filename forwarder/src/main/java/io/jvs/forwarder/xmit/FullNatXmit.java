package io.jvs.forwarder.xmit;

import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.packet.Checksum;
import io.jvs.packet.Ipv4Header;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.LongSupplier;

/**
 * Full NAT (DPVS / Alibaba LVS's FULLNAT): inbound, the client's packet gets the
 * real server as destination and one of the director's local addresses (LIP)
 * with a local port held for the connection as source; the real server answers
 * the LIP (the director answers ARP for it), and the reply gets the VIP as
 * source and the client as destination back. Checksums are updated
 * incrementally, partial ones as the kernel does, so GSO super-frames cross
 * whole.
 *
 * <p>The real server learns the client's address per service
 * ({@link ClientAddressMode}):
 * <ul>
 *   <li>TOA: TCP option kind 254, length 8 (client port, client IPv4) added to
 *       the SYN and to the client's handshake ACK (the Linux toa module reads it
 *       from the ACK that creates the socket, as DPVS does), where the 40 bytes of
 *       option space allow; otherwise the segment goes on without it.</li>
 *   <li>PROXY v2: the 28-byte header (TCP over IPv4: client, VIP, ports) goes to
 *       the server as its own segment at the client's first sequence number, ahead
 *       of the client's first segment after the handshake (its ACK, or its first
 *       data); every later client sequence number is shifted up by 28 and every
 *       acknowledgement (and SACK edge) from the server down by 28. Until the
 *       server acknowledges the header, it is sent again ahead of any client
 *       segment at that first sequence number, so the client's own retransmission
 *       of its first data retransmits the header too. SACK stays on.</li>
 * </ul>
 *
 * <p>The real server sees its own sequence space for the client's stream, as LVS FULLNAT and
 * DPVS give it: the SYN's sequence number becomes an ISN chosen for the (LIP, lport, RIP, rport)
 * tuple the kernel's way (RFC 6528: a keyed hash of the tuple plus a 64 ns clock), and the
 * client's TCP timestamps (TSval) are moved onto the director's millisecond wall clock; the
 * offsets are kept per connection and undone on the way back (acknowledgement, SACK edges,
 * TSecr, and the sequence number an ICMP error quotes). Why: local ports are reused far sooner
 * than the real server's TIME_WAIT (60 s) ends — by the port cursor wrapping under load, and by a
 * restarted director — and the tuple's next SYN then comes from an unrelated client, whose
 * random ISN and timestamp are "older" than the TIME_WAIT socket's about half the time. Linux
 * answers such a SYN with an ACK of the old connection instead of a SYN-ACK, and the client waits
 * out SYN retransmissions (seconds). With the tuple's ISN and TSval increasing with time, the
 * real server's TIME_WAIT takes every new SYN (tcp_timewait_state_process: the SYN is accepted
 * when its sequence number is after the old one's or its timestamp is newer, and PAWS does not
 * reject it) — across director restarts too, through the wall-clock timestamps.
 *
 * <p>The TCP part (sequence space, timestamps, TOA and PROXY v2's shift) is {@link FullNatTcp},
 * shared with {@link Fullnat6Xmit}; here are IPv4's addresses, ports, TTL, the TOA option's
 * IPv4 layout and the PROXY v2 header's IPv4 form. Allocation-free; event-loop thread only.
 */
public final class FullNatXmit implements Xmit, FullNatTcp.Family {
    /** PROXY protocol v2 signature, version 2 + PROXY, TCP over IPv4, 12 address bytes. */
    private static final byte[] PROXY_V2_PREFIX = {
            0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
            0x21, 0x11, 0x00, 0x0C};
    /** Bytes of the PROXY v2 header for TCP over IPv4. */
    public static final int PROXY_V2_LEN = PROXY_V2_PREFIX.length + 12;
    /** TOA: kind 254, length 8 (IPv4) or 20 (IPv6). */
    public static final int TOA_KIND = io.jvs.packet.TcpOptions.TOA;
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final NextHopSender sender;
    private final LanPort port;
    private final ConnectionTable conns;
    private final FullNatTcp tcpRewrite;
    private final PacketContext out = new PacketContext();
    private final Ipv4Header ip = new Ipv4Header();
    private final TcpHeader tcp = new TcpHeader();
    private final long isnKey0;
    private final long isnKey1;

    /**
     * @param wallMillis the wall clock in milliseconds (ISNs and timestamps towards the real
     *                   servers follow it, so they keep increasing across director restarts)
     * @param isnKey0    the ISN hash key (tests give a fixed one)
     */
    public FullNatXmit(NextHopSender sender, LanPort port, ConnectionTable conns, LongSupplier wallMillis,
                       long isnKey0, long isnKey1) {
        this.sender = sender;
        this.port = port;
        this.conns = conns;
        this.tcpRewrite = new FullNatTcp(conns, wallMillis, PROXY_V2_LEN);
        this.isnKey0 = isnKey0;
        this.isnKey1 = isnKey1;
    }

    /**
     * The ISN towards the real server for a tuple at a wall-clock time: a keyed hash of the tuple
     * plus the kernel's 64 ns clock (RFC 6528), so a tuple's ISNs increase with time.
     */
    public int isn(int laddr, int lport, int rip, int rport, long nowMillis) {
        long h = FullNatTcp.mix64(isnKey0 ^ ((long) laddr << 32 | (rip & 0xFFFF_FFFFL)));
        h = FullNatTcp.mix64(h ^ isnKey1 ^ ((long) (lport & 0xFFFF) << 16 | (rport & 0xFFFF)));
        return FullNatTcp.isn(h, nowMillis);
    }

    @Override
    public int isn(int id, long nowMillis) {
        int rport = conns.dport(id) != 0 ? conns.dport(id) : conns.vport(id);
        return isn(conns.laddr(id), conns.lport(id), conns.daddr(id), rport, nowMillis);
    }

    /** TOA for IPv4: kind 254, length 8, the client's port and IPv4 address. */
    @Override
    public boolean addToa(PacketContext ctx, int id) {
        return Rewrite.addTcpOption8(ctx, TOA_KIND << 24 | 8 << 16 | conns.cport(id), conns.caddr(id));
    }

    @Override
    public void inbound(PacketContext ctx) {
        int id = ctx.conn;
        int client = ctx.srcAddr;
        int clientPort = ctx.srcPort;
        int vip = ctx.dstAddr;
        int vport = ctx.dstPort;
        int rip = conns.daddr(id);
        int rport = conns.dport(id) != 0 ? conns.dport(id) : vport;
        boolean proxy = ctx.ipProto == Ipv4Header.PROTO_TCP && ctx.l4Off >= 0 && tcpRewrite.inbound(ctx, id, this);
        Rewrite.setDstAddr(ctx, rip);
        if (ctx.dstPort != rport) {
            Rewrite.setDstPort(ctx, rport);
        }
        Rewrite.setSrcAddr(ctx, conns.laddr(id));
        if (ctx.srcPort != conns.lport(id)) {
            Rewrite.setSrcPort(ctx, conns.lport(id));
        }
        if (!sender.decrementTtl(ctx)) {
            return;
        }
        if (proxy) {
            sendProxyHeader(ctx, conns.seqBase(id), client, clientPort, vip, vport, rip);
        }
        sender.transmit(ctx, rip);
    }

    @Override
    public void outbound(PacketContext ctx) {
        int id = ctx.conn;
        if (ctx.ipProto == Ipv4Header.PROTO_TCP && ctx.l4Off >= 0) {
            tcpRewrite.outbound(ctx, id);
        }
        Rewrite.setSrcAddr(ctx, conns.vaddr(id));
        if (ctx.srcPort != conns.vport(id)) {
            Rewrite.setSrcPort(ctx, conns.vport(id));
        }
        int client = conns.caddr(id);
        Rewrite.setDstAddr(ctx, client);
        if (ctx.dstPort != conns.cport(id)) {
            Rewrite.setDstPort(ctx, conns.cport(id));
        }
        sender.send(ctx, client);
    }

    /** {@link FullNatTcp#clientSeq} for IPv4 (the sequence number an ICMP error quotes). */
    public static int clientSeq(ConnectionTable conns, int id, boolean proxy, int v) {
        return FullNatTcp.clientSeq(conns, id, proxy, PROXY_V2_LEN, v);
    }

    /**
     * Sends the PROXY v2 header ahead of the (already rewritten) client segment in ctx: its
     * L2, IP and TCP headers (options included, so timestamps stay) with sequence number
     * {@code base}, ACK|PSH, and the 28 header bytes as payload; checksums computed whole.
     */
    private void sendProxyHeader(PacketContext ctx, int base, int client, int clientPort, int vip, int vport,
                                 int rip) {
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
        b.set(BE32, p, client);
        b.set(BE32, p + 4, vip);
        b.set(BE16, p + 8, (short) clientPort);
        b.set(BE16, p + 10, (short) vport);
        long l3 = f + (ctx.l3Off - ctx.frameOff);
        ip.wrap(b, l3);
        int ihl = ip.ihl();
        int total = (int) (f + frameLen - l3);
        ip.setTotalLength(total).writeChecksum();
        long l4 = l3 + ihl;
        tcp.wrap(b, l4).setSeq(base).setFlags(TcpHeader.ACK | TcpHeader.PSH).setUrgentPointer(0);
        tcp.setChecksum(Checksum.l4(b, l4, total - ihl, Ipv4Header.PROTO_TCP, ip.src(), ip.dst()));
        out.seg = b;
        out.vnetOff = o;
        out.frameOff = f;
        out.frameLen = frameLen;
        out.eth.wrap(b, f);
        sender.transmit(out, rip);
    }
}
