package io.jvs.forwarder.xmit;

import io.jvs.forwarder.conn.SynProxyState;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.packet.VirtioNetHeader;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The SYN proxy's pool of held client segments: one per connection at most, the first client
 * segment with data that arrives while the real server has not answered the proxy's SYN (an HTTP
 * request right behind the handshake ACK, as DPVS keeps the ACK's mbuf). It is sent on as soon as
 * the server's SYN-ACK is spliced, so the client does not wait out a retransmission timeout.
 *
 * <p>Fixed memory, allocated once: {@code slots} slots of {@link #SLOT} bytes (a frame of up to
 * 2030 bytes with its virtio_net_hdr: an MTU-sized segment; a GSO super-frame is not held). A
 * slot is freed when its segment is sent; one whose connection went away meanwhile (expired, or
 * its id reused) is reclaimed when the pool runs dry: the connection table's held-slot field is
 * the truth, so nothing has to tell the pool when a connection is removed.
 *
 * <p>Allocation-free after construction; event-loop thread only.
 */
public final class HeldSegments {
    /** Bytes per slot: a 4-byte length, a 10-byte virtio_net_hdr (at 4), the frame at 16. */
    public static final int SLOT = 2048;
    private static final int FRAME_AT = 16;
    private static final int VNET_AT = 4;

    private final SynProxyState conns;
    private final MemorySegment mem;
    private final int[] owner;
    private final int[] free;
    private int freeTop;

    public HeldSegments(int slots, SynProxyState conns) {
        if (slots < 1) {
            throw new IllegalArgumentException("held segment slots " + slots + ": expected at least 1");
        }
        this.conns = conns;
        this.mem = Arena.ofAuto().allocate((long) slots * SLOT, 64);
        this.owner = new int[slots];
        this.free = new int[slots];
        for (int i = 0; i < slots; i++) {
            owner[i] = -1;
            free[i] = slots - 1 - i;
        }
        freeTop = slots;
    }

    /** Slots free now (tests). */
    public int freeSlots() {
        return freeTop;
    }

    /** Copies the frame in ctx into a slot owned by connection {@code id}; the slot, or -1 (too big, pool full). */
    public int hold(int id, PacketContext ctx) {
        int len = ctx.frameLen;
        if (len > SLOT - FRAME_AT || ctx.vnetOff >= 0 && ctx.vnet.isGso()) {
            return -1;
        }
        if (freeTop == 0) {
            reclaim();
            if (freeTop == 0) {
                return -1;
            }
        }
        int s = free[--freeTop];
        long base = (long) s * SLOT;
        mem.set(ValueLayout.JAVA_INT, base, len);
        if (ctx.vnetOff >= 0) {
            MemorySegment.copy(ctx.seg, ctx.vnetOff, mem, base + VNET_AT, VirtioNetHeader.SIZE);
        } else {
            mem.set(ValueLayout.JAVA_LONG_UNALIGNED, base + VNET_AT, 0L);
            mem.set(ValueLayout.JAVA_SHORT_UNALIGNED, base + VNET_AT + 8, (short) 0);
        }
        MemorySegment.copy(ctx.seg, ctx.frameOff, mem, base + FRAME_AT, len);
        owner[s] = id;
        return s;
    }

    /** True when {@code slot} still holds connection {@code id}'s segment. */
    public boolean owns(int slot, int id) {
        return slot >= 0 && slot < owner.length && owner[slot] == id;
    }

    /**
     * Copies the held segment, its virtio_net_hdr at {@code vnetOff} and the frame right
     * behind it, into {@code to}, frees the slot and returns the frame's length.
     */
    public int takeOut(int slot, MemorySegment to, long vnetOff) {
        long base = (long) slot * SLOT;
        int len = mem.get(ValueLayout.JAVA_INT, base);
        MemorySegment.copy(mem, base + VNET_AT, to, vnetOff, VirtioNetHeader.SIZE);
        MemorySegment.copy(mem, base + FRAME_AT, to, vnetOff + VirtioNetHeader.SIZE, len);
        owner[slot] = -1;
        free[freeTop++] = slot;
        return len;
    }

    /** Frees the slots whose connection no longer names them. */
    private void reclaim() {
        for (int s = 0; s < owner.length; s++) {
            int id = owner[s];
            if (id >= 0 && (!conns.isLive(id) || conns.synProxyHeld(id) != s)) {
                owner[s] = -1;
                free[freeTop++] = s;
            }
        }
    }
}
