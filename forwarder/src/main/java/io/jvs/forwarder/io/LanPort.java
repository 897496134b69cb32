package io.jvs.forwarder.io;


import java.lang.foreign.MemorySegment;

/**
 * One of the director's ports: an interface forwarded frames leave by (packet mode: an
 * attached interface; TAP mode: an interface named by --lan), with its identity (MAC,
 * own IPv4 address as ARP sender and tunnel/ICMP source, MTU) and its transmit queue.
 * The scratch areas for frames jvs makes itself (ARP, ICMP, software segments) are
 * shared by all ports of its {@link LanPorts}: a frame built in them may leave by any port.
 *
 * <p>Invariant: scratch slots and queued frames stay untouched until {@link #flush()},
 * which flushes every port of the set (see {@link LanPorts#flush()}).
 */
public final class LanPort implements AutoCloseable {
    /** Room for one generated frame: virtio_net_hdr + a 60-byte minimum Ethernet frame, rounded up. */
    public static final int SCRATCH_SLOT = 128;
    /** The Ethernet MTU assumed when none is given (tests). */
    public static final int DEFAULT_MTU = 1500;

    private final LanPorts set;
    /** Index in its set: the routing table's port number and the counters' port. */
    public final int id;
    public final String name;
    public final int ifindex;
    public final long mac;
    public final int addr;
    /** The interface MTU: largest IP packet a frame leaving here may carry (TUN path MTU). */
    public final int mtu;
    final TxQueue tx;
    Runnable afterFlush = () -> { };

    /** A port alone in its own set (a one-interface director; tests). */
    public LanPort(String name, int ifindex, long mac, int addr, TxQueue tx) {
        this(name, ifindex, mac, addr, DEFAULT_MTU, tx);
    }

    /** A port alone in its own set (a one-interface director; tests). */
    public LanPort(String name, int ifindex, long mac, int addr, int mtu, TxQueue tx) {
        this(new LanPorts(), 0, name, ifindex, mac, addr, mtu, tx);
        set.register(this);
    }

    LanPort(LanPorts set, int id, String name, int ifindex, long mac, int addr, int mtu, TxQueue tx) {
        this.set = set;
        this.id = id;
        this.name = name;
        this.ifindex = ifindex;
        this.mac = mac;
        this.addr = addr;
        this.mtu = mtu;
        this.tx = tx;
    }

    /** The set this port belongs to (shared scratch, one flush). */
    public LanPorts set() {
        return set;
    }

    /** Where this port's frames are queued (an AF_PACKET socket, or an AF_XDP socket in XDP mode). */
    public TxQueue txQueue() {
        return tx;
    }

    /** Adds a hook run after every flush of the set, after those added before it (ARP's and NDP's pending pools). */
    public void afterFlush(Runnable hook) {
        Runnable before = this.afterFlush;
        this.afterFlush = () -> {
            before.run();
            hook.run();
        };
    }

    public MemorySegment scratch() {
        return set.scratch();
    }

    /**
     * Reserves a scratch slot and returns its offset; the virtio_net_hdr (10
     * zero bytes) is at the offset, the frame starts 10 bytes later.
     */
    public long allocScratch() {
        return set.allocScratch();
    }

    public MemorySegment bulk() {
        return set.bulk();
    }

    /**
     * Reserves {@code bytes} (at most 64 KiB + 64) of bulk scratch, flushing first when
     * the rest of it is too small, and returns the offset (8-byte aligned). Like the
     * scratch slots it is free again after the next {@link #flush()}.
     */
    public long allocBulk(int bytes) {
        return set.allocBulk(bytes);
    }

    /** Queues a frame (virtio_net_hdr at vnetOff, then frameLen bytes) on this port. */
    public void send(MemorySegment seg, long vnetOff, int frameLen) {
        tx.add(seg, vnetOff, frameLen + 10);
    }

    /** Sends everything queued on every port of the set, then frees scratch and runs the after-flush hooks. */
    public void flush() {
        set.flush();
    }

    /** Closes the whole set (every port's queue and the scratch). */
    @Override
    public void close() {
        set.close();
    }
}
