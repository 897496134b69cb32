package io.jvs.forwarder.neigh;

import io.jvs.forwarder.counters.DropReason;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.packet.Bytes;
import io.jvs.packet.EthernetHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

/**
 * The resolution bookkeeping that ARP ({@link NeighbourCache}) and NDP ({@link NeighbourCache6})
 * share: next hop -> MAC entries with the kernel's neighbour states in miniature, INCOMPLETE
 * (request sent, frames waiting), REACHABLE (confirmed within {@link #REACHABLE_NANOS}), STALE
 * (still used while a refresh request is out; deleted if no answer); retransmission every
 * {@link #RETRANS_NANOS} and give-up after {@link #MAX_REQUESTS} unanswered requests; and the
 * bounded queue of frames waiting for their next hop. What differs between the protocols (the
 * request's frame, which addresses may be learnt, the frames jvs announces itself with) stays in
 * the two subclasses: this class asks {@link #solicit} to send a request and does the rest itself.
 *
 * <p>Keys are 128-bit, (hi, lo): an IPv6 address as its two halves, an IPv4 address as (0, its 32
 * bits unsigned). (0, 0), the unspecified address of both families, is never a neighbour and marks
 * an empty slot.
 *
 * <p>Frames waiting for resolution are copied (virtio_net_hdr included) into a fixed pool of
 * {@link #PENDING_SLOTS} slots of {@link #PENDING_SLOT_SIZE} bytes, at most
 * {@link #PENDING_PER_NEIGH} per neighbour; beyond that {@link #enqueue} refuses and the caller
 * counts NEIGH_QUEUE_FULL. After {@link #MAX_REQUESTS} unanswered requests they are dropped as
 * NEIGH_UNRESOLVED.
 *
 * <p>Invariants: single-threaded (the data-path event loop); open addressing with linear probing
 * and backward-shift deletion over primitive arrays, so nothing allocates per packet.
 */
public abstract sealed class NeighbourTable implements AutoCloseable permits NeighbourCache, NeighbourCache6 {
    static final int CAPACITY = 4096;
    static final int PENDING_SLOTS = 64;
    static final int PENDING_PER_NEIGH = 32;
    static final int PENDING_SLOT_SIZE = 65536 + 64;
    static final long REACHABLE_NANOS = 30_000_000_000L;
    static final long RETRANS_NANOS = 1_000_000_000L;
    static final int MAX_REQUESTS = 3;

    private static final byte INCOMPLETE = 1;
    private static final byte REACHABLE = 2;
    private static final byte STALE = 3;

    private final LanPort port;
    private final Consumer<DropReason> drops;
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
    private final int[] pendingNext = new int[PENDING_SLOTS];
    private final int[] pendingLen = new int[PENDING_SLOTS];
    /** Free slots form a stack; slots handed to the transmit queue wait in sent[] until the flush. */
    private final int[] free = new int[PENDING_SLOTS];
    private int freeTop;
    private final int[] sent = new int[PENDING_SLOTS];
    private int sentTop;

    NeighbourTable(LanPort port, Consumer<DropReason> drops) {
        this.port = port;
        this.drops = drops;
        this.pool = arena.allocate((long) PENDING_SLOT_SIZE * PENDING_SLOTS, 64);
        for (int i = 0; i < PENDING_SLOTS; i++) {
            free[freeTop++] = PENDING_SLOTS - 1 - i;
        }
        port.afterFlush(this::afterFlush);
    }

    private int slot(long h, long l) {
        long x = (h ^ Long.rotateLeft(l, 17)) * 0x9E3779B97F4A7C15L;
        return (int) (x >>> 40) & mask;
    }

    private boolean empty(int i) {
        return hi[i] == 0 && lo[i] == 0;
    }

    private int find(long h, long l) {
        int i = slot(h, l);
        while (!empty(i)) {
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
        while (!empty(i)) {
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

    /** Backward-shift deletion keeps every remaining key reachable from its home slot. */
    private void delete(int i) {
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            if (empty(j)) {
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

    /**
     * The MAC for a next hop, or -1 when it is not resolved yet (a request is then on its way).
     * A REACHABLE entry past its time turns STALE: still used, and refreshed with a new request.
     */
    final long resolveKey(long h, long l, long now) {
        int i = find(h, l);
        if (i < 0) {
            i = insert(h, l, INCOMPLETE);
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

    /** Holds a frame until its next hop answers; false (counting nothing: the caller counts) when the queue is full. */
    final boolean enqueueKey(long h, long l, PacketContext ctx) {
        int i = find(h, l);
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
     * (h, l) is at hw: updates an existing entry (and sends the frames waiting for it with hw as
     * their destination MAC); creates one only when {@code create}. The caller has checked that
     * (h, l) may be learnt; a multicast or zero hw never is.
     */
    final void learnKey(long h, long l, long hw, boolean create, long now) {
        if (EthernetHeader.isMulticast(hw) || hw == 0) {
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
            long off = (long) s * PENDING_SLOT_SIZE;
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

    /** Sends one request (an ARP request, a Neighbor Solicitation) for the next hop (hi, lo). */
    abstract void solicit(long hi, long lo);

    private void request(int i, long now) {
        solicit(hi[i], lo[i]);
        requestedAt[i] = now;
        requests[i]++;
    }

    /** Retransmits requests, gives up on silent neighbours. Called every few hundred ms. */
    public final void tick(long now) {
        for (int i = 0; i < CAPACITY; i++) {
            if (empty(i)) {
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

    /** Frames held for a next hop that has not answered yet (the pending pool's slots in use). */
    public final int pendingFrames() {
        return PENDING_SLOTS - freeTop;
    }

    public final int size() {
        return size;
    }

    /** The port this cache resolves on (its requests leave there, its answers arrive there). */
    public final LanPort port() {
        return port;
    }

    @Override
    public final void close() {
        arena.close();
    }
}
