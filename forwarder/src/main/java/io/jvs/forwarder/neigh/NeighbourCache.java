package io.jvs.forwarder.neigh;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.packet.ArpPacket;
import io.jvs.packet.EthernetHeader;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

/**
 * jvs's own ARP: next-hop IPv4 -> MAC on one port, resolved by jvs itself
 * (it owns the wire in packet mode; the kernel's cache is not consulted). One cache
 * per port: a neighbour is resolved on the interface its route leaves by, with that
 * interface's MAC and address as sender, and learnt only from ARP arriving there.
 * States follow the kernel's neighbour model in miniature: INCOMPLETE (request
 * sent, frames waiting), REACHABLE (confirmed within {@link #REACHABLE_NANOS}),
 * STALE (still used while a refresh request is out; deleted if no answer).
 *
 * <p>Frames waiting for resolution are copied (virtio_net_hdr included) into
 * a fixed pool of {@link #PENDING_SLOTS} slots, at most {@link #PENDING_PER_NEIGH}
 * per neighbour; beyond that they are dropped as NEIGH_QUEUE_FULL. After
 * {@link #MAX_REQUESTS} unanswered requests they are dropped as NEIGH_UNRESOLVED.
 *
 * <p>Invariants: single-threaded (the data-path event loop); open addressing
 * with linear probing and backward-shift deletion over primitive arrays, so
 * lookups allocate nothing; ip 0 marks an empty slot.
 */
public final class NeighbourCache implements AutoCloseable {
    static final int CAPACITY = 4096;
    static final int PENDING_SLOTS = 64;
    static final int PENDING_PER_NEIGH = 32;
    static final int PENDING_SLOT_SIZE = 65536 + 64;
    static final long REACHABLE_NANOS = 30_000_000_000L;
    static final long RETRANS_NANOS = 1_000_000_000L;
    static final int MAX_REQUESTS = 3;

    static final byte INCOMPLETE = 1;
    static final byte REACHABLE = 2;
    static final byte STALE = 3;

    private final LanPort port;
    private final Consumer<DropReason> drops;
    private final int mask = CAPACITY - 1;
    private final int[] ip = new int[CAPACITY];
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
    private final int[] pendingNext = new int[PENDING_SLOTS];
    private final int[] pendingLen = new int[PENDING_SLOTS];
    /** Free slots form a stack; slots handed to the transmit queue wait in sent[] until the flush. */
    private final int[] free = new int[PENDING_SLOTS];
    private int freeTop;
    private final int[] sent = new int[PENDING_SLOTS];
    private int sentTop;

    public NeighbourCache(LanPort port, Consumer<DropReason> drops) {
        this.port = port;
        this.drops = drops;
        this.pool = arena.allocate((long) PENDING_SLOT_SIZE * PENDING_SLOTS, 64);
        for (int i = 0; i < PENDING_SLOTS; i++) {
            free[freeTop++] = PENDING_SLOTS - 1 - i;
        }
        port.afterFlush(this::afterFlush);
    }

    private int slot(int addr) {
        return (addr * 0x9E3779B9 >>> 20) & mask;
    }

    private int find(int addr) {
        int i = slot(addr);
        int cur;
        while ((cur = ip[i]) != 0) {
            if (cur == addr) {
                return i;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    private int insert(int addr, byte st) {
        if (size >= CAPACITY * 3 / 4) {
            return -1;
        }
        int i = slot(addr);
        while (ip[i] != 0) {
            i = (i + 1) & mask;
        }
        ip[i] = addr;
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

    /** Backward-shift deletion keeps every remaining key reachable from its home slot. */
    private void delete(int i) {
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            if (ip[j] == 0) {
                break;
            }
            int home = slot(ip[j]);
            boolean between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
            if (!between) {
                move(j, i);
                i = j;
            }
        }
        ip[i] = 0;
        size--;
    }

    private void move(int from, int to) {
        ip[to] = ip[from];
        mac[to] = mac[from];
        state[to] = state[from];
        confirmedAt[to] = confirmedAt[from];
        requestedAt[to] = requestedAt[from];
        requests[to] = requests[from];
        pendingHead[to] = pendingHead[from];
        pendingCount[to] = pendingCount[from];
    }

    /**
     * The MAC for a next hop, or -1 when it is not resolved yet (a request is
     * then on its way). A REACHABLE entry past its time turns STALE: still
     * used, and refreshed with a new request.
     */
    public long resolve(int addr, long now) {
        int i = find(addr);
        if (i < 0) {
            i = insert(addr, INCOMPLETE);
            if (i >= 0) {
                request(i, now);
            }
            return -1;
        }
        byte st = state[i];
        if (st == INCOMPLETE) {
            return -1;
        }
        if (st == REACHABLE && now - confirmedAt[i] > REACHABLE_NANOS) {
            state[i] = STALE;
            requests[i] = 0;
            request(i, now);
        }
        return mac[i];
    }

    /**
     * Holds a frame until its next hop answers. Returns false (and counts
     * nothing: the caller counts) when the queue is full.
     */
    public boolean enqueue(int addr, PacketContext ctx) {
        int i = find(addr);
        if (i < 0 || state[i] != INCOMPLETE || pendingCount[i] >= PENDING_PER_NEIGH || freeTop == 0) {
            return false;
        }
        int total = ctx.frameLen + 10;
        if (total > PENDING_SLOT_SIZE) {
            return false;
        }
        int s = free[--freeTop];
        long off = (long) s * PENDING_SLOT_SIZE;
        MemorySegment.copy(ctx.seg, ctx.vnetOff, pool, off, total);
        pendingLen[s] = ctx.frameLen;
        // append to the tail, so frames leave in arrival order
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
     * An ARP message told us addr is at hw. Updates an existing entry (and
     * releases its waiting frames); creates one only when {@code create} (the
     * sender asked us something, as the kernel learns from requests to it).
     */
    public void learn(int addr, long hw, boolean create, long now) {
        if (addr == 0 || EthernetHeader.isMulticast(hw) || hw == 0) {
            return;
        }
        int i = find(addr);
        if (i < 0) {
            if (!create) {
                return;
            }
            i = insert(addr, REACHABLE);
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
            long off = (long) s * PENDING_SLOT_SIZE;
            pool.set(MAC_HI, off + 10, (int) (hw >>> 16));
            pool.set(MAC_LO, off + 14, (short) hw);
            port.send(pool, off, pendingLen[s]);
            sent[sentTop++] = s;
            s = pendingNext[s];
        }
        pendingHead[i] = -1;
        pendingCount[i] = 0;
    }

    private static final ValueLayout.OfInt MAC_HI =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort MAC_LO =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    private void afterFlush() {
        while (sentTop > 0) {
            free[freeTop++] = sent[--sentTop];
        }
    }

    private void request(int i, long now) {
        long off = port.allocScratch();
        int len = ArpPacket.writeFrame(port.scratch(), off + 10, EthernetHeader.BROADCAST, port.mac,
                ArpPacket.OP_REQUEST, port.mac, port.addr, 0L, ip[i]);
        port.send(port.scratch(), off, len);
        requestedAt[i] = now;
        requests[i]++;
    }

    /** Retransmits requests, gives up on silent neighbours. Called every few hundred ms. */
    public void tick(long now) {
        for (int i = 0; i < CAPACITY; i++) {
            if (ip[i] == 0) {
                continue;
            }
            byte st = state[i];
            if (st == REACHABLE || now - requestedAt[i] < RETRANS_NANOS) {
                continue;
            }
            if (requests[i] < MAX_REQUESTS) {
                request(i, now);
                continue;
            }
            // Unanswered: drop what waits, forget the entry (and look again at i: a key may have shifted in).
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

    /** Sends a gratuitous ARP announcing that addr is at this port's MAC. */
    public void announce(int addr) {
        long off = port.allocScratch();
        int len = ArpPacket.writeFrame(port.scratch(), off + 10, EthernetHeader.BROADCAST, port.mac,
                ArpPacket.OP_REQUEST, port.mac, addr, 0L, addr);
        port.send(port.scratch(), off, len);
    }

    /** Frames held for a next hop that has not answered yet (the pending pool's slots in use). */
    public int pendingFrames() {
        return PENDING_SLOTS - freeTop;
    }

    public int size() {
        return size;
    }

    /** The port this cache resolves on (its requests leave there, its answers arrive there). */
    public LanPort port() {
        return port;
    }

    @Override
    public void close() {
        arena.close();
    }
}
