package io.jvs.forwarder.io;


import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The director's port on the LAN: where every forwarded frame leaves (packet
 * mode: the attached interface; TAP mode: the interface named by --lan), with
 * its identity (MAC, own IPv4 address for ARP requests) and a scratch area
 * for frames jvs makes itself (ARP replies, requests, gratuitous ARP).
 *
 * <p>Invariant: scratch slots and queued frames stay untouched until
 * {@link #flush()}, which sends them all and then runs the after-flush hook
 * (the neighbour layer frees the pending frames it queued).
 */
public final class LanPort implements AutoCloseable {
    /** Room for one generated frame: virtio_net_hdr + a 60-byte minimum Ethernet frame, rounded up. */
    public static final int SCRATCH_SLOT = 128;
    private static final int SCRATCH_SLOTS = 256;
    /** Bulk scratch for frames jvs cuts itself (software GSO segments, fragments): 1 MiB per flush. */
    private static final int BULK_BYTES = 1 << 20;
    /** The Ethernet MTU assumed when none is given (tests). */
    public static final int DEFAULT_MTU = 1500;

    public final String name;
    public final int ifindex;
    public final long mac;
    public final int addr;
    /** The interface MTU: largest IP packet a frame leaving here may carry (TUN path MTU). */
    public final int mtu;
    private final TxQueue tx;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scratch;
    private int scratchUsed;
    private final MemorySegment bulk;
    private int bulkUsed;
    private Runnable afterFlush = () -> { };

    public LanPort(String name, int ifindex, long mac, int addr, TxQueue tx) {
        this(name, ifindex, mac, addr, DEFAULT_MTU, tx);
    }

    public LanPort(String name, int ifindex, long mac, int addr, int mtu, TxQueue tx) {
        this.name = name;
        this.ifindex = ifindex;
        this.mac = mac;
        this.addr = addr;
        this.mtu = mtu;
        this.tx = tx;
        this.scratch = arena.allocate((long) SCRATCH_SLOT * SCRATCH_SLOTS, 64);
        this.bulk = arena.allocate(BULK_BYTES, 64);
    }

    public void afterFlush(Runnable hook) {
        this.afterFlush = hook;
    }

    public MemorySegment scratch() {
        return scratch;
    }

    /**
     * Reserves a scratch slot and returns its offset; the virtio_net_hdr (10
     * zero bytes) is at the offset, the frame starts 10 bytes later.
     */
    public long allocScratch() {
        if (scratchUsed == SCRATCH_SLOTS) {
            flush();
        }
        long off = (long) scratchUsed++ * SCRATCH_SLOT;
        scratch.set(ValueLayout.JAVA_LONG_UNALIGNED, off, 0L);
        scratch.set(ValueLayout.JAVA_SHORT_UNALIGNED, off + 8, (short) 0);
        return off;
    }

    public MemorySegment bulk() {
        return bulk;
    }

    /**
     * Reserves {@code bytes} (at most 64 KiB + 64) of bulk scratch, flushing first when
     * the rest of it is too small, and returns the offset (8-byte aligned). Like the
     * scratch slots it is free again after the next {@link #flush()}.
     */
    public long allocBulk(int bytes) {
        if (bytes > 0x10040) {
            throw new IllegalArgumentException("bulk scratch request of " + bytes + " bytes: at most 65600");
        }
        if (bulkUsed + bytes > BULK_BYTES) {
            flush();
        }
        long off = bulkUsed;
        bulkUsed = (bulkUsed + bytes + 7) & ~7;
        return off;
    }

    /** Queues a frame (virtio_net_hdr at vnetOff, then frameLen bytes). */
    public void send(MemorySegment seg, long vnetOff, int frameLen) {
        tx.add(seg, vnetOff, frameLen + 10);
    }

    /** Sends everything queued, then frees scratch and runs the after-flush hook. */
    public void flush() {
        tx.flush();
        scratchUsed = 0;
        bulkUsed = 0;
        afterFlush.run();
    }

    @Override
    public void close() {
        tx.close();
        arena.close();
    }
}
