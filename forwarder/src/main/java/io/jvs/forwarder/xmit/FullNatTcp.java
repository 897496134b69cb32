package io.jvs.forwarder.xmit;

import io.jvs.forwarder.conn.FullNatState;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.TcpOptions;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.LongSupplier;

/**
 * FULLNAT's TCP rewriting, the same for both families ({@link FullNatXmit} for IPv4,
 * {@link Fullnat6Xmit} for IPv6; the class comment of {@link FullNatXmit} says why each step is
 * there): the real server's own sequence space for the client's stream (an ISN per tuple, the
 * client's timestamps moved onto the director's clock) and its undoing on the way back
 * (acknowledgement, SACK edges, TSecr), TOA on the SYN and the handshake ACK, and PROXY v2's
 * sequence shift. What differs by family comes from {@link Family}: the tuple's ISN, the TOA
 * option's layout, the PROXY v2 header's length (28 bytes for TCP over IPv4, 52 over IPv6).
 *
 * <p>The TCP option walks (timestamps, SACK) go through {@link TcpOptions}, as the SYN proxy's do.
 * Allocation-free; event-loop thread only.
 */
public final class FullNatTcp {
    /** What {@link FullNatTcp} needs from the family's transmitter. */
    interface Family {
        /** The ISN towards the real server for entry id's tuple at this wall-clock time. */
        int isn(int id, long nowMillis);

        /** Adds the TOA option for entry id's client to the segment in ctx; false when it does not fit. */
        boolean addToa(PacketContext ctx, int id);
    }

    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int TCP_SEQ = 4;
    private static final int TCP_ACK = 8;
    /** The kernel's ISN clock ticks every 64 ns: 15,625 ticks a millisecond. */
    private static final int ISN_TICKS_PER_MILLI = 15_625;

    private final FullNatState conns;
    private final TcpOptions opts = new TcpOptions();
    private final LongSupplier wallMillis;
    private final int proxyLen;

    /**
     * @param conns      the family's connection table
     * @param wallMillis the wall clock in milliseconds (ISNs and timestamps towards the real servers
     *                   follow it, so they keep increasing across director restarts)
     * @param proxyLen   the PROXY v2 header's length for this family
     */
    FullNatTcp(FullNatState conns, LongSupplier wallMillis, int proxyLen) {
        this.conns = conns;
        this.wallMillis = wallMillis;
        this.proxyLen = proxyLen;
    }

    /** A keyed hash's ISN: the hash of the tuple plus the kernel's 64 ns clock (RFC 6528). */
    static int isn(long tupleHash, long nowMillis) {
        return (int) tupleHash + (int) (nowMillis * ISN_TICKS_PER_MILLI);
    }

    /** SplitMix64's finaliser: every input bit reaches every output bit. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The client's TCP segment in ctx (entry id) in the real server's view: sequence number and
     * TSval moved, TOA added, PROXY v2's shift. True when the PROXY v2 header must go to the server
     * ahead of this segment (at {@link FullNatState#seqBase}).
     */
    boolean inbound(PacketContext ctx, int id, Family family) {
        ClientAddressMode mode = ctx.service.clientAddress;
        int flags = ctx.tcpFlags;
        boolean syn = (flags & (TcpHeader.SYN | TcpHeader.ACK)) == TcpHeader.SYN;
        int ts = timestampOption(ctx);
        if (syn && !conns.seqSet(id)) {
            long now = wallMillis.getAsLong();
            int isn = family.isn(id, now);
            int tsDelta = ts < 0 ? 0 : (int) now - ctx.seg.get(BE32, ctx.l4Off + ts + 2);
            conns.setSeqOffsets(id, isn - ctx.tcp.seq(), tsDelta);
        }
        int seq = ctx.tcp.seq() + conns.seqDelta(id);
        if (ts >= 0) {
            Rewrite.setTcp32(ctx, ts + 2, ctx.seg.get(BE32, ctx.l4Off + ts + 2) + conns.tsDelta(id));
        }
        boolean proxy = false;
        if (mode == ClientAddressMode.TOA) {
            toa(ctx, id, syn, family);
        } else if (mode == ClientAddressMode.PROXY_V2) {
            if (syn) {
                conns.setSeqBase(id, seq + 1);
            } else if ((flags & TcpHeader.SYN) == 0) {
                int base = conns.seqBase(id);
                proxy = (flags & TcpHeader.ACK) != 0 && (flags & TcpHeader.RST) == 0
                        && seq == base && !conns.proxyAcked(id);
                seq += proxyLen;
            }
        }
        Rewrite.setTcp32(ctx, TCP_SEQ, seq);
        return proxy;
    }

    /** The real server's TCP segment in ctx (entry id) in the client's view: ACK, SACK edges, TSecr. */
    void outbound(PacketContext ctx, int id) {
        if ((ctx.tcpFlags & TcpHeader.ACK) == 0) {
            return;
        }
        boolean proxy = ctx.service.clientAddress == ClientAddressMode.PROXY_V2;
        int ack = ctx.tcp.ack();
        if (proxy && ack - conns.seqBase(id) >= proxyLen) {
            conns.markProxyAcked(id);
        }
        Rewrite.setTcp32(ctx, TCP_ACK, clientSeq(conns, id, proxy, proxyLen, ack));
        clientViewOptions(ctx, id, proxy);
    }

    /**
     * A sequence number of the server's view of the client's stream, in the client's: less the
     * connection's offset, and with PROXY v2 {@code proxyLen} less, the header's own bytes (an
     * acknowledgement of part of it) mapping to the client's first byte.
     */
    static int clientSeq(FullNatState conns, int id, boolean proxy, int proxyLen, int v) {
        if (proxy) {
            int base = conns.seqBase(id);
            v = v - base >= proxyLen ? v - proxyLen : (v - base >= 0 ? base : v);
        }
        return v - conns.seqDelta(id);
    }

    /** TOA in the SYN, and once in the client's handshake ACK when it carries no data. */
    private void toa(PacketContext ctx, int id, boolean syn, Family family) {
        if (syn) {
            family.addToa(ctx, id);
            return;
        }
        int flags = ctx.tcpFlags;
        if ((flags & (TcpHeader.ACK | TcpHeader.SYN | TcpHeader.RST | TcpHeader.FIN)) == TcpHeader.ACK
                && !conns.toaOnAckSent(id) && payloadLength(ctx) == 0 && family.addToa(ctx, id)) {
            conns.markToaOnAckSent(id);
        }
    }

    /** Bytes of TCP payload in ctx (IPv4: total length; IPv6: payload length, extension headers included). */
    static int payloadLength(PacketContext ctx) {
        long l3End = ctx.etherType == EthernetHeader.ETH_P_IPV6
                ? ctx.l3Off + Ipv6Header.HEADER_LEN + ctx.ip6.payloadLength()
                : ctx.l3Off + ctx.ip.totalLength();
        return (int) (l3End - ctx.l4Off) - ctx.tcp.dataOffset();
    }

    /** Offset in the TCP header of a well-formed timestamps option, or -1 ({@link TcpOptions#timestamps}). */
    private int timestampOption(PacketContext ctx) {
        return opts.wrap(ctx.seg, ctx.l4Off, ctx.tcp.dataOffset()).timestamps();
    }

    /**
     * The server's options in the client's view: SACK edges (in the server's view of the
     * client's stream) and TSecr (an echo of a timestamp the director moved).
     */
    private void clientViewOptions(PacketContext ctx, int id, boolean proxy) {
        opts.wrap(ctx.seg, ctx.l4Off, ctx.tcp.dataOffset());
        while (opts.next()) {
            int at = opts.offset();
            if (opts.kind() == TcpOptions.SACK) {
                for (int e = 2; e + 4 <= opts.length(); e += 4) {
                    Rewrite.setTcp32(ctx, at + e, clientSeq(conns, id, proxy, proxyLen, opts.i32(e)));
                }
            } else if (opts.kind() == TcpOptions.TIMESTAMPS && opts.length() == TcpOptions.TIMESTAMPS_LEN) {
                Rewrite.setTcp32(ctx, at + 6, opts.i32(6) - conns.tsDelta(id));
            }
        }
    }
}
