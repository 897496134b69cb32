package io.jvs.forwarder.neigh;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Header;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * jvs's own IPv6 neighbour discovery (RFC 4861) on one port: what {@link NeighbourCache} is for
 * ARP, with 128-bit keys. Next hops are resolved by Neighbor Solicitations to their
 * solicited-node group, learnt from the Neighbor Advertisements that answer (their target
 * link-layer address) and from solicitations addressed to jvs (their source link-layer
 * address). The states (INCOMPLETE, REACHABLE, STALE), retransmission, give-up and the bounded
 * pending queue are {@link NeighbourTable}'s, shared with ARP.
 *
 * <p>It also writes the NDP frames jvs sends for the addresses it owns (VIPs, local addresses):
 * the solicited answer to an NS ({@link #answer}) and the unsolicited advertisement at
 * publication ({@link #announce}, RFC 4861 7.2.6: to all-nodes, Override set, Solicited clear).
 * Solicitations leave from {@link #sourceHi}/{@link #sourceLo}, an address of the port's
 * interface (its link-local one), hop limit 255.
 *
 * <p>Invariants as {@link NeighbourCache}: single-threaded (the event loop), allocation-free.
 */
public final class NeighbourCache6 extends NeighbourTable {
    /** Ethernet + IPv6 + NS/NA with one link-layer option: 86 bytes, within a scratch slot. */
    public static final int NDP_FRAME_LEN = EthernetHeader.HEADER_LEN + Ipv6Header.HEADER_LEN
            + Icmpv6Header.NEIGHBOR_MESSAGE_LEN + Icmpv6Header.LINK_ADDRESS_OPTION_LEN;
    /** ff02::1, all nodes. */
    public static final long ALL_NODES_HI = 0xFF02_0000_0000_0000L;
    public static final long ALL_NODES_LO = 1L;

    /** The port's own IPv6 address, source of the solicitations. */
    public final long sourceHi;
    public final long sourceLo;
    private final Ipv6Header ip = new Ipv6Header();
    private final Icmpv6Header icmp = new Icmpv6Header();

    /**
     * @param port         the port it resolves on
     * @param sourceHi     the port's IPv6 address, high half (solicitations come from it)
     */
    public NeighbourCache6(LanPort port, long sourceHi, long sourceLo, Consumer<DropReason> drops) {
        super(port, drops);
        this.sourceHi = sourceHi;
        this.sourceLo = sourceLo;
    }

    /** The link-local address a port without one answers from: fe80::/64 with the MAC's modified EUI-64 (RFC 4291 2.5.1). */
    public static long linkLocalLo(long mac) {
        long oui = (mac >>> 24) & 0xFFFFFF;
        long nic = mac & 0xFFFFFF;
        return ((oui ^ 0x020000L) << 40) | 0xFFFEL << 24 | nic;
    }

    public static final long LINK_LOCAL_HI = 0xFE80_0000_0000_0000L;

    /** The MAC of a next hop, or -1 while it is being resolved (a solicitation is then on its way). */
    public long resolve(long h, long l, long now) {
        return resolveKey(h, l, now);
    }

    /** Holds a frame until its next hop answers; false (the caller counts) when the queue is full. */
    public boolean enqueue(long h, long l, PacketContext ctx) {
        return enqueueKey(h, l, ctx);
    }

    /**
     * An NDP message told us (h, l) is at hw: updates an entry (and sends what waits for it);
     * creates one only when {@code create} (an NS to one of our addresses, RFC 4861 7.2.3).
     */
    public void learn(long h, long l, long hw, boolean create, long now) {
        if (h == 0 && l == 0 || Ipv6Header.isMulticast(h)) {
            return;
        }
        learnKey(h, l, hw, create, now);
    }

    /** A Neighbor Solicitation for (h, l) to its solicited-node group, with our source link-layer option. */
    @Override
    void solicit(long h, long l) {
        LanPort port = port();
        long gLo = Ipv6Header.solicitedNodeLo(l);
        long off = port.allocScratch();
        writeNeighborFrame(port.scratch(), off + 10, Ipv6Header.multicastMac(gLo), port.mac,
                sourceHi, sourceLo, Ipv6Header.SOLICITED_NODE_HI, gLo,
                Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION, 0, h, l);
        port.send(port.scratch(), off, NDP_FRAME_LEN);
    }

    /**
     * Answers the Neighbor Solicitation in ctx (checked: RFC 4861's receive checks passed, its
     * target is one of our addresses) with a solicited advertisement from the target: to the
     * solicitor's address and link-layer address (its source link-layer option, else the frame's
     * source MAC), Solicited and Override set; to a DAD probe (source ::) at all-nodes without
     * Solicited (RFC 4861 7.2.4).
     */
    public void answer(PacketContext ctx, long targetHi, long targetLo, long solicitorMac) {
        LanPort port = port();
        long off = port.allocScratch();
        boolean dad = ctx.srcHi == 0 && ctx.srcLo == 0;
        if (dad) {
            writeNeighborFrame(port.scratch(), off + 10, Ipv6Header.multicastMac(ALL_NODES_LO), port.mac,
                    targetHi, targetLo, ALL_NODES_HI, ALL_NODES_LO, Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT,
                    Icmpv6Header.NA_FLAG_OVERRIDE, targetHi, targetLo);
        } else {
            writeNeighborFrame(port.scratch(), off + 10, solicitorMac, port.mac, targetHi, targetLo,
                    ctx.srcHi, ctx.srcLo, Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT,
                    Icmpv6Header.NA_FLAG_SOLICITED | Icmpv6Header.NA_FLAG_OVERRIDE, targetHi, targetLo);
        }
        port.send(port.scratch(), off, NDP_FRAME_LEN);
    }

    /** An unsolicited advertisement that (h, l) is at this port's MAC: to all-nodes, Override set (RFC 4861 7.2.6). */
    public void announce(long h, long l) {
        LanPort port = port();
        long off = port.allocScratch();
        writeNeighborFrame(port.scratch(), off + 10, Ipv6Header.multicastMac(ALL_NODES_LO), port.mac, h, l,
                ALL_NODES_HI, ALL_NODES_LO, Icmpv6Header.TYPE_NEIGHBOR_ADVERTISEMENT, Icmpv6Header.NA_FLAG_OVERRIDE, h, l);
        port.send(port.scratch(), off, NDP_FRAME_LEN);
    }

    /**
     * Writes an NS (with a source link-layer option) or NA (with a target link-layer option)
     * frame of {@link #NDP_FRAME_LEN} bytes at {@code frame}: hop limit 255, the ICMPv6 checksum
     * over the pseudo-header.
     */
    private void writeNeighborFrame(MemorySegment s, long frame, long dstMac, long srcMac, long srcHi, long srcLo,
                                    long dstHi, long dstLo, int type, int naFlags, long targetHi, long targetLo) {
        Bytes.mac(s, frame, dstMac);
        Bytes.mac(s, frame + 6, srcMac);
        Bytes.u16(s, frame + 12, EthernetHeader.ETH_P_IPV6);
        long l3 = frame + EthernetHeader.HEADER_LEN;
        int icmpLen = Icmpv6Header.NEIGHBOR_MESSAGE_LEN + Icmpv6Header.LINK_ADDRESS_OPTION_LEN;
        ip.wrap(s, l3).setVersionClassFlow(0, 0).setPayloadLength(icmpLen).setNextHeader(Ipv6Header.NEXT_ICMPV6)
                .setHopLimit(255).setSrc(srcHi, srcLo).setDst(dstHi, dstLo);
        long l4 = l3 + Ipv6Header.HEADER_LEN;
        icmp.wrap(s, l4);
        if (type == Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION) {
            icmp.writeNeighborSolicitation(targetHi, targetLo, srcMac);
        } else {
            icmp.writeNeighborAdvertisement(targetHi, targetLo, naFlags, srcMac);
        }
        icmp.setChecksum(Checksum.l4v6(s, l4, icmpLen, Ipv6Header.NEXT_ICMPV6, srcHi, srcLo, dstHi, dstLo));
    }
}
