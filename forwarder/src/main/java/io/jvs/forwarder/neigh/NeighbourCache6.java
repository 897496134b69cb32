package io.jvs.forwarder.neigh;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Header;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * jvs's own IPv6 neighbour discovery (RFC 4861) on one port: what {@link NeighbourCache} is for
 * ARP, with 128-bit keys. Next hops are resolved by Neighbor Solicitations to their
 * solicited-node group, learnt from the Neighbor Advertisements that answer (their target
 * link-layer address) and from solicitations addressed to jvs (their source link-layer
 * address); the same states (INCOMPLETE, REACHABLE, STALE), retransmission and give-up, and the
 * same bounded pending queue: {@link NeighbourCache#PENDING_SLOTS} frames of up to 64 KiB, at
 * most {@link NeighbourCache#PENDING_PER_NEIGH} per neighbour, beyond that NEIGH_QUEUE_FULL,
 * unanswered after {@link NeighbourCache#MAX_REQUESTS} solicitations NEIGH_UNRESOLVED.
 *
 * <p>It also writes the NDP frames jvs sends for the addresses it owns (VIPs, local addresses):
 * the solicited answer to an NS ({@link #answer}) and the unsolicited advertisement at
 * publication ({@link #announce}, RFC 4861 7.2.6: to all-nodes, Override set, Solicited clear).
 * Solicitations leave from {@link #sourceHi}/{@link #sourceLo}, an address of the port's
 * interface (its link-local one), hop limit 255.
 *
 * <p>Invariants as {@link NeighbourCache}: single-threaded (the event loop), open addressing with
 * linear probing and backward-shift deletion over primitive arrays, allocation-free; the
 * unspecified address :: marks an empty slot (it is never a neighbour).
 */
public final class NeighbourCache6 implements AutoCloseable {
    static final int CAPACITY = 4096;
    /** Ethernet + IPv6 + NS/NA with one link-layer option: 86 bytes, within a scratch slot. */
    public static final int NDP_FRAME_LEN = EthernetHeader.HEADER_LEN + Ipv6Header.HEADER_LEN
            + Icmpv6Header.NEIGHBOR_MESSAGE_LEN + Icmpv6Header.LINK_ADDRESS_OPTION_LEN;
    /** ff02::1, all nodes. */
    public static final long ALL_NODES_HI = 0xFF02_0000_0000_0000L;
    public static final long ALL_NODES_LO = 1L;

    private static final byte INCOMPLETE = 1;
    private static final byte REACHABLE = 2;
    private static final byte STALE = 3;

    private final LanPort port;
    private final Consumer<DropReason> drops;
    /** The port's own IPv6 address, source of the solicitations. */
    public final long sourceHi;
    public final long sourceLo;
    private final int mask = CAPACITY - 1;
    private final long[] hi = new long[CAPACITY];
    private final long[] lo = new long[CAPACITY];
    private final long[] mac = new long[CAPACITY];
    private final byte[] state = new byte[CAPACITY];
    private final long[] confirmedAt = new long[CAPACITY];
    private final long[] requestedAt = new long[CAPACITY];
    private final int[] requests = new int[CAPACITY];
    private final int[] pendingHead = new int[CAPACITY];
    private final int[] pendingCount = new int[CAPACITY];
    private int size;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment pool;
    private final int[] pendingNext = new int[NeighbourCache.PENDING_SLOTS];
    private final int[] pendingLen = new int[NeighbourCache.PENDING_SLOTS];
    private final int[] free = new int[NeighbourCache.PENDING_SLOTS];
    private int freeTop;
    private final int[] sent = new int[NeighbourCache.PENDING_SLOTS];
    private int sentTop;
    private final Ipv6Header ip = new Ipv6Header();
    private final Icmpv6Header icmp = new Icmpv6Header();

    /**
     * @param port         the port it resolves on
     * @param sourceHi     the port's IPv6 address, high half (solicitations come from it)
     */
    public NeighbourCache6(LanPort port, long sourceHi, long sourceLo, Consumer<DropReason> drops) {
        this.port = port;
        this.sourceHi = sourceHi;
        this.sourceLo = sourceLo;
        this.drops = drops;
        this.pool = arena.allocate((long) NeighbourCache.PENDING_SLOT_SIZE * NeighbourCache.PENDING_SLOTS, 64);
        for (int i = 0; i < NeighbourCache.PENDING_SLOTS; i++) {
            free[freeTop++] = NeighbourCache.PENDING_SLOTS - 1 - i;
        }
        port.afterFlush(this::afterFlush);
    }

    /** The link-local address a port without one answers from: fe80::/64 with the MAC's modified EUI-64 (RFC 4291 2.5.1). */
    public static long linkLocalLo(long mac) {
        long oui = (mac >>> 24) & 0xFFFFFF;
        long nic = mac & 0xFFFFFF;
        return ((oui ^ 0x020000L) << 40) | 0xFFFEL << 24 | nic;
    }

    public static final long LINK_LOCAL_HI = 0xFE80_0000_0000_0000L;

    private int slot(long h, long l) {
        long x = (h ^ Long.rotateLeft(l, 17)) * 0x9E3779B97F4A7C15L;
        return (int) (x >>> 40) & mask;
    }

    private int find(long h, long l) {
        int i = slot(h, l);
        while (hi[i] != 0 || lo[i] != 0) {
            if (hi[i] == h && lo[i] == l) {
                return i;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    private int insert(long h, long l, byte st) {
        if (size >= CAPACITY * 3 / 4) {
            return -1;
        }
        int i = slot(h, l);
        while (hi[i] != 0 || lo[i] != 0) {
            i = (i + 1) & mask;
        }
        hi[i] = h;
        lo[i] = l;
        state[i] = st;
        mac[i] = 0;
        confirmedAt[i] = 0;
        requestedAt[i] = 0;
        requests[i] = 0;
        pendingHead[i] = -1;
        pendingCount[i] = 0;
        size++;
        return i;
    }

    private void delete(int i) {
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            if (hi[j] == 0 && lo[j] == 0) {
                break;
            }
            int home = slot(hi[j], lo[j]);
            boolean between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!between) {
                hi[i] = hi[j];
                lo[i] = lo[j];
                mac[i] = mac[j];
                state[i] = state[j];
                confirmedAt[i] = confirmedAt[j];
                requestedAt[i] = requestedAt[j];
                requests[i] = requests[j];
                pendingHead[i] = pendingHead[j];
                pendingCount[i] = pendingCount[j];
                i = j;
            }
        }
        hi[i] = 0;
        lo[i] = 0;
        size--;
    }

    /** The MAC of a next hop, or -1 while it is resolved (a solicitation is then on its way). */
    public long resolve(long h, long l, long now) {
        int i = find(h, l);
        if (i < 0) {
            i = insert(h, l, INCOMPLETE);
            if (i >= 0) {
                solicit(i, now);
            }
            return -1;
        }
        byte st = state[i];
        if (st == INCOMPLETE) {
            return -1;
        }
        if (st == REACHABLE && now - confirmedAt[i] > NeighbourCache.REACHABLE_NANOS) {
            state[i] = STALE;
            requests[i] = 0;
            solicit(i, now);
        }
        return mac[i];
    }

    /** Holds a frame until its next hop answers; false (the caller counts) when the queue is full. */
    public boolean enqueue(long h, long l, PacketContext ctx) {
        int i = find(h, l);
        if (i < 0 || state[i] != INCOMPLETE || pendingCount[i] >= NeighbourCache.PENDING_PER_NEIGH || freeTop == 0) {
            return false;
        }
        int total = ctx.frameLen + 10;
        if (total > NeighbourCache.PENDING_SLOT_SIZE) {
            return false;
        }
        int s = free[--freeTop];
        long off = (long) s * NeighbourCache.PENDING_SLOT_SIZE;
        MemorySegment.copy(ctx.seg, ctx.vnetOff, pool, off, total);
        pendingLen[s] = ctx.frameLen;
        pendingNext[s] = -1;
        if (pendingHead[i] < 0) {
            pendingHead[i] = s;
        } else {
            int t = pendingHead[i];
            while (pendingNext[t] >= 0) {
                t = pendingNext[t];
            }
            pendingNext[t] = s;
        }
        pendingCount[i]++;
        return true;
    }

    /**
     * An NDP message told us (h, l) is at hw: updates an entry (and sends what waits for it);
     * creates one only when {@code create} (an NS to one of our addresses, RFC 4861 7.2.3).
     */
    public void learn(long h, long l, long hw, boolean create, long now) {
        if (h == 0 && l == 0 || Ipv6Header.isMulticast(h) || EthernetHeader.isMulticast(hw) || hw == 0) {
            return;
        }
        int i = find(h, l);
        if (i < 0) {
            if (!create) {
                return;
            }
            i = insert(h, l, REACHABLE);
            if (i < 0) {
                return;
            }
        }
        mac[i] = hw;
        state[i] = REACHABLE;
        confirmedAt[i] = now;
        requests[i] = 0;
        int s = pendingHead[i];
        while (s >= 0) {
            long off = (long) s * NeighbourCache.PENDING_SLOT_SIZE;
            Bytes.mac(pool, off + 10, hw);
            port.send(pool, off, pendingLen[s]);
            sent[sentTop++] = s;
            s = pendingNext[s];
        }
        pendingHead[i] = -1;
        pendingCount[i] = 0;
    }

    /** After each flush of the port: the pending slots handed to the queue are free again. */
    private void afterFlush() {
        while (sentTop > 0) {
            free[freeTop++] = sent[--sentTop];
        }
    }

    private void solicit(int i, long now) {
        long gLo = Ipv6Header.solicitedNodeLo(lo[i]);
        long off = port.allocScratch();
        writeNeighborFrame(port.scratch(), off + 10, Ipv6Header.multicastMac(gLo), port.mac,
                sourceHi, sourceLo, Ipv6Header.SOLICITED_NODE_HI, gLo,
                Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION, 0, hi[i], lo[i]);
        port.send(port.scratch(), off, NDP_FRAME_LEN);
        requestedAt[i] = now;
        requests[i]++;
    }

    /** Retransmits solicitations, gives up on silent neighbours. Called every few hundred ms. */
    public void tick(long now) {
        for (int i = 0; i < CAPACITY; i++) {
            if (hi[i] == 0 && lo[i] == 0) {
                continue;
            }
            byte st = state[i];
            if (st == REACHABLE || now - requestedAt[i] < NeighbourCache.RETRANS_NANOS) {
                continue;
            }
            if (requests[i] < NeighbourCache.MAX_REQUESTS) {
                solicit(i, now);
                continue;
            }
            int s = pendingHead[i];
            while (s >= 0) {
                drops.accept(DropReason.NEIGH_UNRESOLVED);
                free[freeTop++] = s;
                s = pendingNext[s];
            }
            delete(i);
            i--;
        }
    }

    /**
     * Answers the Neighbor Solicitation in ctx (checked: RFC 4861's receive checks passed, its
     * target is one of our addresses) with a solicited advertisement from the target: to the
     * solicitor's address and link-layer address (its source link-layer option, else the frame's
     * source MAC), Solicited and Override set; to a DAD probe (source ::) at all-nodes without
     * Solicited (RFC 4861 7.2.4).
     */
    public void answer(PacketContext ctx, long targetHi, long targetLo, long solicitorMac) {
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

    /** Frames held for a next hop that has not answered yet. */
    public int pendingFrames() {
        return NeighbourCache.PENDING_SLOTS - freeTop;
    }

    public int size() {
        return size;
    }

    public LanPort port() {
        return port;
    }

    @Override
    public void close() {
        arena.close();
    }
}
