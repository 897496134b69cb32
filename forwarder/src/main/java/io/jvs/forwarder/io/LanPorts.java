package io.jvs.forwarder.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The director's transmit side: one {@link LanPort} per interface frames may leave by
 * (packet mode: every {@code --attach packet:IFACE}; TAP mode: every {@code --lan}), and
 * the scratch and bulk memory they share for frames jvs makes or cuts itself.
 *
 * <p>Why shared: a frame is built before its egress port is known (an ICMP error, a
 * software-GSO segment, a FULLNAT copy), so scratch cannot belong to one port. The
 * invariant is therefore kept for all ports at once: scratch, bulk and queued frames stay
 * untouched until {@link #flush()}, which sends every port's queue first, then frees the
 * scratch and runs each port's after-flush hook (its neighbour cache frees the pending
 * frames it queued). Single-threaded: the data-path event loop.
 */
public final class LanPorts implements AutoCloseable {
    /** Room for one generated frame: virtio_net_hdr + a 60-byte minimum Ethernet frame, rounded up. */
    static final int SCRATCH_SLOT = LanPort.SCRATCH_SLOT;
    private static final int SCRATCH_SLOTS = 256;
    /** Bulk scratch for frames jvs cuts itself (software GSO segments, fragments): 1 MiB per flush. */
    private static final int BULK_BYTES = 1 << 20;

    private final List<LanPort> list = new ArrayList<>();
    private LanPort[] ports = new LanPort[0];
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scratch;
    private int scratchUsed;
    private final MemorySegment bulk;
    private int bulkUsed;
    private boolean closed;

    public LanPorts() {
        this.scratch = arena.allocate((long) SCRATCH_SLOT * SCRATCH_SLOTS, 64);
        this.bulk = arena.allocate(BULK_BYTES, 64);
    }

    /** Adds the port of one interface; its id is the number of ports added before it. */
    public LanPort add(String name, int ifindex, long mac, int addr, int mtu, TxQueue tx) {
        for (LanPort p : list) {
            if (p.ifindex == ifindex || p.name.equals(name)) {
                throw new IllegalArgumentException("interface " + name + " has a port already");
            }
        }
        LanPort p = new LanPort(this, list.size(), name, ifindex, mac, addr, mtu, tx);
        register(p);
        return p;
    }

    /** A port made with this set and id {@code size()} joins it. */
    void register(LanPort p) {
        if (p.set() != this || p.id != list.size()) {
            throw new IllegalArgumentException("port " + p.name + " is not the next port of this set");
        }
        list.add(p);
        ports = list.toArray(new LanPort[0]);
    }

    public int size() {
        return ports.length;
    }

    /** The port with this id (0 .. size()-1). */
    public LanPort get(int id) {
        return ports[id];
    }

    /** The interface index of each port, by id (what {@code RouteTable} maps routes to). */
    public int[] ifindexes() {
        int[] r = new int[ports.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = ports[i].ifindex;
        }
        return r;
    }

    MemorySegment scratch() {
        return scratch;
    }

    long allocScratch() {
        if (scratchUsed == SCRATCH_SLOTS) {
            flush();
        }
        long off = (long) scratchUsed++ * SCRATCH_SLOT;
        scratch.set(ValueLayout.JAVA_LONG_UNALIGNED, off, 0L);
        scratch.set(ValueLayout.JAVA_SHORT_UNALIGNED, off + 8, (short) 0);
        return off;
    }

    MemorySegment bulk() {
        return bulk;
    }

    long allocBulk(int bytes) {
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

    /** Sends every port's queue, then frees scratch and bulk and runs each port's after-flush hook. */
    public void flush() {
        LanPort[] ps = ports;
        for (LanPort p : ps) {
            p.tx.flush();
        }
        scratchUsed = 0;
        bulkUsed = 0;
        for (LanPort p : ps) {
            p.afterFlush.run();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LanPort p : ports) {
            p.tx.close();
        }
        arena.close();
    }
}
