package io.jvs.forwarder.xmit;

import io.jvs.forwarder.conn.SynProxyState;
import io.jvs.forwarder.conn.SynCookies;
import io.jvs.forwarder.counters.DataPathCounters;
import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.FrameDecoder;
import io.jvs.forwarder.frame.FrameKind;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.frame.Rewrite;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.packet.Checksum;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.TcpOptions;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.LongSupplier;

/**
 * The SYN proxy of a {@code --synproxy} service (DPVS's ip_vs_synproxy.c), for NAT and FULLNAT
 * real servers:
 *
 * <ol>
 *   <li><b>SYN</b> (no connection): answered in place with a SYN-ACK whose sequence number is a
 *       {@link SynCookies SYN cookie} carrying the client's MSS (rounded down to the cookie table),
 *       window scale, SACK and timestamps. No connection entry is made: a spoofed SYN flood
 *       costs the director one rewrite per SYN and the real servers nothing. The SYN-ACK offers
 *       MSS (the cookie's), SACK and timestamps as the client did (TSval the director's
 *       millisecond clock), window scale {@link #WSCALE} when the client offered one, and a
 *       window of one MSS: the client can send one segment before the real server's window
 *       reaches it, the segment the director holds.</li>
 *   <li><b>ACK</b> with a valid cookie (acknowledgement - 1; no connection): the connection is
 *       scheduled and entered as any SYN's would be, and the ACK becomes, in place, the SYN to
 *       the real server: the client's ISN, MSS, window scale, SACK and timestamps (TSval from
 *       the ACK) from the cookie, then the forwarding method's own translation (NAT, or
 *       FULLNAT's address, ISN and timestamp offsets and TOA). A bad cookie is dropped as
 *       {@link DropReason#SYNPROXY_BAD_COOKIE} and never reaches a real server.</li>
 *   <li><b>Waiting for the server</b>: the client's first segment with data is held
 *       ({@link HeldSegments}, one per connection, as DPVS keeps the ACK's mbuf); any other
 *       client segment is turned into the SYN again (the server may have lost it) instead of
 *       being forwarded, so the client's own retransmissions drive recovery; a RST is dropped
 *       ({@link DropReason#SYNPROXY_PENDING}). A server RST reaches the client with the cookie
 *       ISN + 1 as its sequence number.</li>
 *   <li><b>Server SYN-ACK</b>: spliced. The sequence delta (cookie ISN - server ISN) and the
 *       timestamp delta (the SYN-ACK's TSval to the client - the server's TSval) are kept, and
 *       the SYN-ACK becomes, in place, the handshake ACK to the server (the client's window and
 *       timestamp; TOA for a FULLNAT TOA service), followed by the held segment. A repeated
 *       SYN-ACK (the ACK was lost) is answered again the same way.</li>
 *   <li><b>Spliced</b>, for the connection's life: server to client, sequence number + delta,
 *       TSval + timestamp delta, window shifted from the server's window scale to
 *       {@link #WSCALE}; client to server, acknowledgement and SACK edges - delta, TSecr -
 *       timestamp delta. These fields are disjoint from the ones FULLNAT translates, so the two
 *       compose in either order.</li>
 * </ol>
 *
 * <p>One class for both families ({@link #ipv4}, {@link #ipv6}), over the family's table's
 * {@link SynProxyState}: what differs is the cookie's hash ({@link SynCookies#cookie6} over the
 * 128-bit addresses), the IP header a rewritten frame gets (IPv6: payload length and hop limit, no
 * header checksum, the TCP checksum over the IPv6 pseudo-header; extension headers are kept), the
 * sender, and FULLNAT's TOA (the family's own option: 8 bytes for IPv4, DPVS's 20 for IPv6).
 *
 * <p>Allocation-free; event-loop thread only.
 */
public final class SynProxy {
    /** Window scale the director offers a client that offered one (Linux's usual 7). */
    public static final int WSCALE = 7;
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int TCP_SEQ = 4;
    private static final int TCP_ACK = 8;
    /** Largest handshake header this class writes: 20 + MSS 4 + SACK_PERM/TS 12 + WS 4. */
    private static final int MAX_HANDSHAKE_LEN = 40;
    private final boolean v6;
    /** IPv4's sender (null for IPv6). */
    private final NextHopSender sender;
    /** IPv6's sender (null for IPv4). */
    private final Ipv6Sender sender6;
    /** Room left for FULLNAT's TOA option on the SYN: the family's TOA length. */
    private final int toaRoom;
    private final LanPort bulkPort;
    private final SynProxyState conns;
    private final SynCookies cookies;
    private final HeldSegments held;
    private final LongSupplier wallMillis;
    private final DataPathCounters counters;
    private final PacketContext out = new PacketContext();
    private final TcpOptions opts = new TcpOptions();

    // The options of the segment last parsed (parseOptions).
    private int optMss;
    private int optWscale;
    private boolean optSack;
    private int optTs;

    /**
     * The IPv4 proxy.
     *
     * @param bulkPort   the port whose bulk scratch carries held segments out (any port of the set)
     * @param wallMillis the clock cookies are time-sliced by and the SYN-ACK's TSval follows
     */
    public static SynProxy ipv4(NextHopSender sender, LanPort bulkPort, SynProxyState conns, SynCookies cookies,
                                HeldSegments held, LongSupplier wallMillis, DataPathCounters counters) {
        return new SynProxy(false, sender, null, bulkPort, conns, cookies, held, wallMillis, counters);
    }

    /** The IPv6 proxy, over the IPv6 table ({@code held} a pool of its own: held slots name its ids). */
    public static SynProxy ipv6(Ipv6Sender sender, LanPort bulkPort, SynProxyState conns, SynCookies cookies,
                                HeldSegments held, LongSupplier wallMillis, DataPathCounters counters) {
        return new SynProxy(true, null, sender, bulkPort, conns, cookies, held, wallMillis, counters);
    }

    private SynProxy(boolean v6, NextHopSender sender, Ipv6Sender sender6, LanPort bulkPort, SynProxyState conns,
                     SynCookies cookies, HeldSegments held, LongSupplier wallMillis, DataPathCounters counters) {
        this.v6 = v6;
        this.sender = sender;
        this.sender6 = sender6;
        this.toaRoom = v6 ? Fullnat6Xmit.TOA_LEN : 8;
        this.bulkPort = bulkPort;
        this.conns = conns;
        this.cookies = cookies;
        this.held = held;
        this.wallMillis = wallMillis;
        this.counters = counters;
    }

    // ------------------------------------------------------------------ no connection yet

    /** A client SYN to a --synproxy service with no connection: answered with a cookie SYN-ACK in place. */
    public void answerSyn(PacketContext ctx) {
        MemorySegment seg = ctx.seg;
        long l4 = ctx.l4Off;
        if (l4 + MAX_HANDSHAKE_LEN - ctx.frameOff > ctx.frameCapacity) {
            counters.drop(DropReason.SYNPROXY_PENDING); // no room to answer in place (not seen on real rings)
            return;
        }
        parseOptions(seg, l4, ctx.tcp.dataOffset());
        boolean ts = optTs >= 0;
        int clientTsval = ts ? seg.get(BE32, l4 + optTs + 2) : 0;
        int data = SynCookies.encode(optMss, optWscale, ts, optSack);
        long now = wallMillis.getAsLong();
        int cport = ctx.srcPort;
        int vport = ctx.dstPort;
        int clientIsn = ctx.tcp.seq();
        int count = SynCookies.count(now);
        int cookie = v6
                ? cookies.cookie6(ctx.srcHi, ctx.srcLo, ctx.dstHi, ctx.dstLo, cport, vport, clientIsn, count, data)
                : cookies.cookie(ctx.srcAddr, ctx.dstAddr, cport, vport, clientIsn, count, data);
        int mss = SynCookies.mss(data);
        int tcpLen = writeHandshake(ctx, vport, cport, cookie, clientIsn + 1, TcpHeader.SYN | TcpHeader.ACK, mss,
                mss, optWscale < 0 ? -1 : WSCALE, optSack, ts, (int) now, clientTsval);
        swapAddresses(ctx);
        finish(ctx, tcpLen, 64);
        counters.synProxySynAck();
        transmit(ctx);
    }

    /**
     * The cookie data of a client ACK (SYN and RST clear) with no connection, or -1 when its
     * acknowledgement is not a cookie of this director for its tuple in this minute or the last.
     */
    public int checkAck(PacketContext ctx) {
        if ((ctx.tcpFlags & (TcpHeader.SYN | TcpHeader.RST | TcpHeader.ACK)) != TcpHeader.ACK) {
            return -1;
        }
        int count = SynCookies.count(wallMillis.getAsLong());
        return v6
                ? cookies.check6(ctx.tcp.ack() - 1, ctx.srcHi, ctx.srcLo, ctx.dstHi, ctx.dstLo, ctx.srcPort,
                        ctx.dstPort, ctx.tcp.seq() - 1, count)
                : cookies.check(ctx.tcp.ack() - 1, ctx.srcAddr, ctx.dstAddr, ctx.srcPort, ctx.dstPort,
                        ctx.tcp.seq() - 1, count);
    }

    /**
     * The cookie ACK in ctx has just opened connection {@code ctx.conn}: keeps what the
     * splice needs, holds the ACK's data if it has any, and sends the real server its SYN.
     */
    public void connectServer(PacketContext ctx, int data, Xmit x) {
        int id = ctx.conn;
        MemorySegment seg = ctx.seg;
        long l4 = ctx.l4Off;
        parseOptions(seg, l4, ctx.tcp.dataOffset());
        int tsval = optTs >= 0 ? seg.get(BE32, l4 + optTs + 2) : 0;
        int tsecr = optTs >= 0 ? seg.get(BE32, l4 + optTs + 6) : 0;
        conns.startSynProxy(id, ctx.tcp.ack() - 1, tsecr, ctx.tcp.seq() - 1, data, ctx.tcp.window());
        counters.synProxyOpened();
        if (payload(ctx) > 0) {
            hold(ctx, id);
        }
        sendSyn(ctx, id, tsval, x);
    }

    // ------------------------------------------------------------------ known connections

    /** A client segment while the real server has not answered: held, or turned into the SYN again. */
    public void clientPending(PacketContext ctx, Xmit x) {
        int id = ctx.conn;
        if ((ctx.tcpFlags & TcpHeader.RST) != 0) {
            counters.drop(DropReason.SYNPROXY_PENDING);
            return;
        }
        if (payload(ctx) > 0 && conns.synProxyHeld(id) < 0 && hold(ctx, id)) {
            return;
        }
        parseOptions(ctx.seg, ctx.l4Off, ctx.tcp.dataOffset());
        sendSyn(ctx, id, optTs >= 0 ? ctx.seg.get(BE32, ctx.l4Off + optTs + 2) : 0, x);
    }

    /**
     * A real server's segment of a proxied connection. Returns true when it goes on to the
     * client (translated); false when it was consumed here (a SYN-ACK spliced or answered, or
     * dropped while waiting).
     */
    public boolean fromServer(PacketContext ctx, Xmit x) {
        int id = ctx.conn;
        int flags = ctx.tcpFlags;
        boolean synAck = (flags & (TcpHeader.SYN | TcpHeader.ACK | TcpHeader.RST)) == (TcpHeader.SYN | TcpHeader.ACK);
        if (conns.synProxyState(id) == SynProxyState.SP_AWAITING_SERVER) {
            if (synAck) {
                splice(ctx, id);
                ackServer(ctx, id, x);
                releaseHeld(id, x);
                counters.synProxySpliced();
                return false;
            }
            if ((flags & TcpHeader.RST) != 0) {
                Rewrite.setTcp32(ctx, TCP_SEQ, conns.synProxySeq(id) + 1);
                return true;
            }
            counters.drop(DropReason.SYNPROXY_PENDING);
            return false;
        }
        if (synAck) {
            ackServer(ctx, id, x); // our ACK was lost: the server repeats its SYN-ACK
            return false;
        }
        toClient(ctx, id);
        return true;
    }

    /** Server to client, spliced: sequence number, TSval and window into the client's view. */
    public void toClient(PacketContext ctx, int id) {
        Rewrite.setTcp32(ctx, TCP_SEQ, ctx.tcp.seq() + conns.synProxySeq(id));
        int tsDelta = conns.synProxyTs(id);
        if (tsDelta != 0) {
            parseOptions(ctx.seg, ctx.l4Off, ctx.tcp.dataOffset());
            if (optTs >= 0) {
                Rewrite.setTcp32(ctx, optTs + 2, ctx.seg.get(BE32, ctx.l4Off + optTs + 2) + tsDelta);
            }
        }
        int shift = conns.synProxyWinShift(id);
        if (shift != 0) {
            int word = ctx.seg.get(BE32, ctx.l4Off + 12); // data offset, flags, window
            int win = word & 0xFFFF;
            int scaled = shift > 0 ? Math.min(0xFFFF, win << shift) : win >>> -shift;
            Rewrite.setTcp32(ctx, 12, word & 0xFFFF_0000 | scaled);
        }
    }

    /** Client to server, spliced: acknowledgement, SACK edges and TSecr into the server's view. */
    public void toServer(PacketContext ctx, int id) {
        if ((ctx.tcpFlags & TcpHeader.ACK) == 0) {
            return;
        }
        int delta = conns.synProxySeq(id);
        Rewrite.setTcp32(ctx, TCP_ACK, ctx.tcp.ack() - delta);
        int tsDelta = conns.synProxyTs(id);
        opts.wrap(ctx.seg, ctx.l4Off, ctx.tcp.dataOffset());
        while (opts.next()) {
            int at = opts.offset();
            if (opts.kind() == TcpOptions.SACK) {
                for (int e = 2; e + 4 <= opts.length(); e += 4) {
                    Rewrite.setTcp32(ctx, at + e, opts.i32(e) - delta);
                }
            } else if (opts.kind() == TcpOptions.TIMESTAMPS && opts.length() == TcpOptions.TIMESTAMPS_LEN
                    && tsDelta != 0) {
                Rewrite.setTcp32(ctx, at + 6, opts.i32(6) - tsDelta);
            }
        }
    }

    // ------------------------------------------------------------------ the pieces

    private void splice(PacketContext ctx, int id) {
        parseOptions(ctx.seg, ctx.l4Off, ctx.tcp.dataOffset());
        int opts = conns.synProxyOpts(id);
        int seqDelta = conns.synProxySeq(id) - ctx.tcp.seq();
        int tsDelta = 0;
        if (optTs >= 0 && SynCookies.timestamps(opts)) {
            tsDelta = conns.synProxyTs(id) - ctx.seg.get(BE32, ctx.l4Off + optTs + 2);
        }
        // The client scales the server's windows by what the director offered, not the server's.
        int shift = SynCookies.wscale(opts) < 0 ? 0 : Math.max(optWscale, 0) - WSCALE;
        conns.spliceSynProxy(id, seqDelta, tsDelta, shift);
    }

    /**
     * Turns the server's SYN-ACK in ctx (the server's view) into the handshake ACK to the
     * server, in place: addresses and ports swapped, its ISN + 1 acknowledged, the client's
     * window, the timestamps echoed; TOA added for a FULLNAT TOA service (by x, the FULLNAT xmit
     * of the family).
     */
    private void ackServer(PacketContext ctx, int id, Xmit x) {
        MemorySegment seg = ctx.seg;
        long l4 = ctx.l4Off;
        parseOptions(seg, l4, ctx.tcp.dataOffset());
        int serverPort = ctx.srcPort;
        int localPort = ctx.dstPort;
        int serverSeq = ctx.tcp.seq();
        int serverAck = ctx.tcp.ack();
        int len = TcpHeader.MIN_HEADER_LEN;
        if (optTs >= 0) {
            int tsval = seg.get(BE32, l4 + optTs + 2);
            int tsecr = seg.get(BE32, l4 + optTs + 6);
            seg.set(BE32, l4 + TcpHeader.MIN_HEADER_LEN, TcpOptions.NOP_NOP_TIMESTAMPS);
            seg.set(BE32, l4 + 24, tsecr);
            seg.set(BE32, l4 + 28, tsval);
            len += 12;
        }
        ctx.tcp.setSrcPort(localPort).setDstPort(serverPort).setSeq(serverAck).setAck(serverSeq + 1)
                .setDataOffset(len).setFlags(TcpHeader.ACK).setWindow(conns.synProxyClientWindow(id))
                .setUrgentPointer(0);
        swapAddresses(ctx);
        finish(ctx, len, 64);
        ctx.srcPort = localPort;
        ctx.dstPort = serverPort;
        ctx.tcpFlags = TcpHeader.ACK;
        ctx.reply = false;
        if (x instanceof FullNatTcp.Family fullNat && ctx.service.clientAddress == ClientAddressMode.TOA
                && !conns.toaOnAckSent(id) && fullNat.addToa(ctx, id)) {
            conns.markToaOnAckSent(id);
        }
        conns.update(id, false, TcpHeader.ACK, ctx.frameLen, System.nanoTime());
        transmit(ctx);
    }

    /** Sends the held segment of connection id on, translated as any later client segment. */
    private void releaseHeld(int id, Xmit x) {
        int slot = conns.synProxyHeld(id);
        if (slot < 0) {
            return;
        }
        conns.setSynProxyHeld(id, -1);
        if (!held.owns(slot, id)) {
            return;
        }
        long o = bulkPort.allocBulk(HeldSegments.SLOT + toaRoom);
        MemorySegment b = bulkPort.bulk();
        int len = held.takeOut(slot, b, o);
        out.seg = b;
        out.vnetOff = o;
        out.frameOff = o + VirtioNetHeader.SIZE;
        out.frameLen = len;
        out.frameCapacity = len + toaRoom;
        out.headroom = 0;
        if (FrameDecoder.decode(out) != (v6 ? FrameKind.IPV6 : FrameKind.IPV4) || out.ipProto != Ipv4Header.PROTO_TCP
                || out.l4Off < 0) {
            return; // it decoded once already; nothing else can come back
        }
        out.service = conns.service(id);
        out.dest = conns.dest(id);
        out.conn = id;
        conns.update(id, false, out.tcpFlags, out.frameLen, System.nanoTime());
        toServer(out, id);
        x.inbound(out);
    }

    private boolean hold(PacketContext ctx, int id) {
        int slot = held.hold(id, ctx);
        if (slot < 0) {
            return false;
        }
        conns.setSynProxyHeld(id, slot);
        counters.synProxyHeld();
        return true;
    }

    /**
     * Turns the client segment in ctx into the SYN to the real server, in place (its payload, if
     * any, is held or was dropped), and hands it to the forwarding method.
     */
    private void sendSyn(PacketContext ctx, int id, int tsval, Xmit x) {
        if (ctx.l4Off + MAX_HANDSHAKE_LEN + toaRoom - ctx.frameOff > ctx.frameCapacity) {
            counters.drop(DropReason.SYNPROXY_PENDING);
            return;
        }
        int data = conns.synProxyOpts(id);
        int ws = SynCookies.wscale(data);
        int win = conns.synProxyClientWindow(id);
        int synWin = ws < 0 ? win : Math.min(0xFFFF, win << ws); // a SYN's window is never scaled
        int tcpLen = writeHandshake(ctx, ctx.srcPort, ctx.dstPort, conns.synProxyClientIsn(id), 0, TcpHeader.SYN,
                synWin, SynCookies.mss(data), ws, SynCookies.sack(data), SynCookies.timestamps(data), tsval, 0);
        finish(ctx, tcpLen, v6 ? ctx.ip6.hopLimit() : ctx.ip.ttl());
        ctx.tcpFlags = TcpHeader.SYN;
        x.inbound(ctx);
    }

    /** Writes a SYN or SYN-ACK TCP header with options at ctx.l4Off; returns its length. */
    private static int writeHandshake(PacketContext ctx, int sport, int dport, int seq, int ack, int flags, int window,
                                      int mss, int wscale, boolean sack, boolean ts, int tsval, int tsecr) {
        MemorySegment seg = ctx.seg;
        long l4 = ctx.l4Off;
        long o = l4 + TcpHeader.MIN_HEADER_LEN;
        seg.set(BE32, o, 0x0204_0000 | mss);
        o += 4;
        if (ts) {
            seg.set(BE32, o, sack ? 0x0402_080A : TcpOptions.NOP_NOP_TIMESTAMPS);
            seg.set(BE32, o + 4, tsval);
            seg.set(BE32, o + 8, tsecr);
            o += 12;
        } else if (sack) {
            seg.set(BE32, o, 0x0101_0402);
            o += 4;
        }
        if (wscale >= 0) {
            seg.set(BE32, o, 0x0103_0300 | wscale);
            o += 4;
        }
        int len = (int) (o - l4);
        ctx.tcp.setSrcPort(sport).setDstPort(dport).setSeq(seq).setAck(ack).setDataOffset(len).setFlags(flags)
                .setWindow(window).setUrgentPointer(0);
        return len;
    }

    /** Source and destination addresses exchanged in ctx's summary (finish writes them to the header). */
    private void swapAddresses(PacketContext ctx) {
        if (v6) {
            long hi = ctx.srcHi;
            long lo = ctx.srcLo;
            ctx.srcHi = ctx.dstHi;
            ctx.srcLo = ctx.dstLo;
            ctx.dstHi = hi;
            ctx.dstLo = lo;
        } else {
            int a = ctx.srcAddr;
            ctx.srcAddr = ctx.dstAddr;
            ctx.dstAddr = a;
        }
    }

    /** Queues the frame in ctx (its IP header final) towards its destination. */
    private void transmit(PacketContext ctx) {
        if (v6) {
            sender6.transmit(ctx, ctx.dstHi, ctx.dstLo);
        } else {
            sender.transmit(ctx, ctx.dstAddr);
        }
    }

    /**
     * Completes a frame rewritten whole, from ctx's source and destination: IPv4: addresses, TTL,
     * total length (payload cut) and checksum; IPv6: addresses, hop limit, payload length
     * (extension headers kept); the TCP checksum over the new header; no offload left in the
     * virtio header.
     */
    private void finish(PacketContext ctx, int tcpLen, int ttl) {
        long l3 = ctx.l3Off;
        long l4 = ctx.l4Off;
        if (v6) {
            ctx.ip6.setSrc(ctx.srcHi, ctx.srcLo).setDst(ctx.dstHi, ctx.dstLo).setHopLimit(ttl)
                    .setPayloadLength((int) (l4 - l3) - Ipv6Header.HEADER_LEN + tcpLen);
            ctx.tcp.setChecksum(Checksum.l4v6(ctx.seg, l4, tcpLen, Ipv6Header.NEXT_TCP, ctx.srcHi, ctx.srcLo,
                    ctx.dstHi, ctx.dstLo));
        } else {
            int ihl = (int) (l4 - l3);
            ctx.ip.setSrc(ctx.srcAddr).setDst(ctx.dstAddr).setTtl(ttl).setTotalLength(ihl + tcpLen)
                    .setFlagsFragment(Ipv4Header.FLAG_DF).writeChecksum();
            ctx.tcp.setChecksum(Checksum.l4(ctx.seg, l4, tcpLen, Ipv4Header.PROTO_TCP, ctx.srcAddr, ctx.dstAddr));
        }
        ctx.ttl = ttl;
        if (ctx.vnetOff >= 0) {
            ctx.vnet.clear();
        }
        ctx.csumPartial = false;
        ctx.frameLen = (int) (l4 + tcpLen - ctx.frameOff);
    }

    /** TCP payload bytes of the segment in ctx. */
    private int payload(PacketContext ctx) {
        int ipPayload = v6 ? ctx.ip6.payloadLength() + Ipv6Header.HEADER_LEN : ctx.ip.totalLength();
        return ipPayload - (int) (ctx.l4Off - ctx.l3Off) - ctx.tcp.dataOffset();
    }

    /** Reads MSS, window scale, SACK-permitted and the timestamps option's offset (or -1). */
    private void parseOptions(MemorySegment seg, long l4, int doff) {
        optMss = 0;
        optWscale = -1;
        optSack = false;
        optTs = -1;
        opts.wrap(seg, l4, doff);
        while (opts.next()) {
            int len = opts.length();
            switch (opts.kind()) {
                case TcpOptions.MSS -> optMss = len == TcpOptions.MSS_LEN ? opts.u16(2) : optMss;
                case TcpOptions.WSCALE -> optWscale = len == TcpOptions.WSCALE_LEN ? Math.min(14, opts.u8(2)) : optWscale;
                case TcpOptions.SACK_PERMITTED -> optSack = len == TcpOptions.SACK_PERMITTED_LEN;
                case TcpOptions.TIMESTAMPS -> optTs = len == TcpOptions.TIMESTAMPS_LEN ? opts.offset() : optTs;
                default -> { }
            }
        }
    }
}
