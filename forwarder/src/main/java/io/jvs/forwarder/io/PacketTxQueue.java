package io.jvs.forwarder.io;

import io.jvs.sys.AfPacket;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Batched transmit on an AF_PACKET socket with PACKET_VNET_HDR: frames are
 * queued as iovecs pointing at their memory (receive ring, scratch or pending
 * buffers, each starting with its 10-byte virtio_net_hdr) and sent with one
 * sendmmsg per flush. The kernel reads the virtio_net_hdr, so GSO super-frames
 * are segmented and partial checksums completed on the way out.
 *
 * <p>The socket is bound with protocol 0: it transmits only and never
 * receives. Invariant: queued memory must stay untouched until {@link #flush()}.
 */
public final class PacketTxQueue implements TxQueue {
    private static final int MMSGHDR = 64;     // struct mmsghdr on x86_64
    private static final int IOVEC = 16;

    private final String name;
    private final int fd;
    private final int capacity;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment msgs;
    private final MemorySegment iovs;
    /** msgs sliced at every index, made once: flush must not allocate. */
    private final MemorySegment[] msgFrom;
    private int count;
    private long bytesQueued;
    private final TxListener listener;

    /** Told what each flush achieved, for counters. */
    public interface TxListener {
        void sent(int frames, long bytes, int batchSize);

        void failed(int frames);
    }

    private PacketTxQueue(String name, int fd, int capacity, TxListener listener) {
        this.name = name;
        this.fd = fd;
        this.capacity = capacity;
        this.listener = listener;
        this.msgs = arena.allocate((long) MMSGHDR * capacity, 8);
        this.iovs = arena.allocate((long) IOVEC * capacity, 8);
        this.msgFrom = new MemorySegment[capacity];
        for (int i = 0; i < capacity; i++) {
            long m = (long) i * MMSGHDR;
            msgs.set(ValueLayout.ADDRESS, m + 16, iovs.asSlice((long) i * IOVEC));   // msg_iov
            msgs.set(ValueLayout.JAVA_LONG, m + 24, 1L);                              // msg_iovlen
            msgFrom[i] = msgs.asSlice(m);
        }
    }

    public static PacketTxQueue open(String ifname, int capacity, TxListener listener) throws NativeException {
        int ifindex = Libc.ifNameToIndex(ifname);
        int fd = AfPacket.openSocket();
        try {
            Libc.setsockoptInt(fd, AfPacket.SOL_PACKET, AfPacket.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR (tx)");
            AfPacket.bind(fd, ifindex, 0, ifname);
            return new PacketTxQueue(ifname, fd, capacity, listener);
        } catch (NativeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    public String name() {
        return name;
    }

    /**
     * Queues len bytes at seg[off] (virtio_net_hdr followed by the frame).
     * Flushes first when the batch is full.
     */
    @Override
    public void add(MemorySegment seg, long off, int len) {
        if (count == capacity) {
            flush();
        }
        long iov = (long) count * IOVEC;
        iovs.set(ValueLayout.JAVA_LONG, iov, seg.address() + off);
        iovs.set(ValueLayout.JAVA_LONG, iov + 8, len);
        count++;
        bytesQueued += len - 10;
    }

    /** Frames queued and not yet flushed. */
    public int queued() {
        return count;
    }

    /** Sends everything queued with as few sendmmsg calls as the kernel allows. */
    @Override
    public void flush() {
        int n = count;
        if (n == 0) {
            return;
        }
        int sent = 0;
        int failed = 0;
        while (sent + failed < n) {
            int done = sent + failed;
            // Without errno capture, which allocates (a slice of its segment) on every call
            // until C2 has compiled the call site, on a loaded machine for a long while: with
            // MSG_DONTWAIT the kernel never sleeps here, so there is no EINTR to tell apart.
            int r = Libc.sendmmsg(fd, msgFrom[done], n - done, Libc.MSG_DONTWAIT);
            if (r < 0) {
                failed++;   // the frame at 'done' was refused; skip it, keep the rest
            } else {
                sent += r;
            }
        }
        listener.sent(sent, bytesQueued, n);
        if (failed > 0) {
            listener.failed(failed);
        }
        count = 0;
        bytesQueued = 0;
    }

    @Override
    public void close() {
        Libc.close(fd);
        arena.close();
    }
}
