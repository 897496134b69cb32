package io.jvs.forwarder.io;

import io.jvs.forwarder.frame.PacketContext;
import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.VirtioNetHeader;
import io.jvs.sys.AfXdp;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One AF_XDP socket on one queue of an interface, for one worker: frames the XDP
 * program ({@link XdpRedirect}) redirects arrive in the RX ring, go down the pipeline
 * where they lie, and a frame transmitted on the same port leaves from the same UMEM
 * chunk through the TX ring (no copy), as the ring attachment sends from its ring slot.
 * Frames from elsewhere (scratch: ARP and ICMP jvs makes; the neighbour cache's pending
 * frames; another port's memory) are copied into a free chunk first.
 *
 * <p>UMEM: {@link #CHUNKS} chunks of {@link #CHUNK} bytes per rx queue, in an
 * {@link XskUmem} with the queue's fill and completion rings, shared by the queue's
 * sockets (one per worker; with one worker, this socket's alone). Where each chunk is at
 * any time, and the lock the workers take once per burst: see {@link XskUmem}. In copy
 * mode the kernel completes inside sendto, before the burst ends: a chunk both in the burst
 * and sent goes back to the free stack by whichever of {@link #release()} and the
 * completion comes last.
 *
 * <p>need_wakeup is on: the fill ring is kicked with recvfrom and the TX ring with
 * sendto only when the kernel flags them (in copy mode, TX always: the kernel transmits
 * in sendto, at most 32 frames per call, hence the loop in {@link #flush()}).
 *
 * <p>The frame starts {@code XDP_PACKET_HEADROOM} (256) bytes into its chunk: the
 * virtio_net_hdr the pipeline expects is zeroed just in front of it (XDP frames are
 * never GSO super-frames), and the rest of the headroom takes a TUN outer header.
 * Single-threaded: the data-path event loop (set-up and close on the starting and
 * stopping threads).
 */
public final class XskSocket implements FrameSource, TxQueue {
    public static final int CHUNK = 4096;
    public static final int CHUNKS = 4096;
    public static final int RING = 2048;
    private static final int VNET = 10;
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final String name;
    private final int fd;
    private final int queue;
    private final boolean zeroCopy;
    private final Arena arena = Arena.ofShared();
    /** The queue's UMEM, fill and completion rings (this socket's alone with one worker). */
    private final XskUmem u;
    private final MemorySegment umem;
    private final AfXdp.Ring rx;
    private final AfXdp.Ring tx;
    private final Libc.Errno errno = new Libc.Errno(arena);
    private final PacketTxQueue.TxListener listener;

    private final int[] held = new int[RING];
    private int heldCount;
    /** Free chunks taken from the UMEM for copies, {@link XskUmem#SPARE} at a time. */
    private final int[] spare = new int[XskUmem.SPARE];
    private int spareCount;
    private int rxCons;
    private int txProd;
    private int queued;
    private long bytesQueued;
    private long[] lastStats = new long[6];
    private boolean closed;

    private XskSocket(String name, int fd, int queue, XskUmem u, AfXdp.Ring rx, AfXdp.Ring tx,
                      PacketTxQueue.TxListener listener) throws NativeException {
        this.name = name;
        this.fd = fd;
        this.queue = queue;
        this.u = u;
        this.umem = u.umem;
        this.rx = rx;
        this.tx = tx;
        this.listener = listener;
        this.zeroCopy = AfXdp.zeroCopy(fd);
        rxCons = (int) U32.getAcquire(rx.map(), rx.consumer());
        txProd = (int) U32.getAcquire(tx.map(), tx.producer());
    }

    /**
     * Opens a socket on {@code ifname}'s rx queue {@code queue}: UMEM, rings, then bind
     * with need_wakeup, zero-copy if the driver offers it, else copy mode (the kernel's
     * choice when neither is forced; {@link #zeroCopy()} says which it made). Further
     * workers' sockets on the same queue share its UMEM ({@link #openShared}).
     */
    public static XskSocket open(String ifname, int ifindex, int queue, PacketTxQueue.TxListener listener)
            throws NativeException {
        int fd = AfXdp.openSocket();
        Arena umemArena = Arena.ofShared();
        try {
            MemorySegment umem = umemArena.allocate((long) CHUNK * CHUNKS, 4096);
            AfXdp.registerUmem(fd, umem, CHUNK, 0);
            AfXdp.Rings rings = AfXdp.setupRings(fd, RING, RING, RING, RING);
            AfXdp.bind(fd, ifindex, queue, AfXdp.XDP_USE_NEED_WAKEUP, "AF_XDP to " + ifname + " queue " + queue);
            XskUmem u = new XskUmem(CHUNKS, umem, umemArena, fd, rings.fill(), rings.completion());
            XskSocket s = new XskSocket(ifname, fd, queue, u, rings.rx(), rings.tx(), listener);
            u.initialFill();
            return s;
        } catch (NativeException | RuntimeException e) {
            Libc.close(fd);
            umemArena.close();
            throw e;
        }
    }

    /**
     * Another worker's socket on {@code first}'s interface and queue, bound with
     * XDP_SHARED_UMEM to it: its own RX and TX rings, {@code first}'s UMEM, fill and
     * completion rings (the kernel keeps one pair per UMEM, device and queue).
     */
    public static XskSocket openShared(XskSocket first, int ifindex, PacketTxQueue.TxListener listener)
            throws NativeException {
        int fd = AfXdp.openSocket();
        try {
            AfXdp.Rings rings = AfXdp.setupRxTxRings(fd, RING, RING);
            AfXdp.bindShared(fd, ifindex, first.queue, first.u.primaryFd,
                    "AF_XDP to " + first.name + " queue " + first.queue + " (shared UMEM)");
            XskSocket s = new XskSocket(first.name, fd, first.queue, first.u, rings.rx(), rings.tx(), listener);
            first.u.addUser();   // last: a socket that failed to open does not hold the UMEM
            return s;
        } catch (NativeException | RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public String name() {
        return name;
    }

    public int queue() {
        return queue;
    }

    /** The UMEM frames received on this socket lie in (shared by the queue's sockets). */
    MemorySegment umem() {
        return umem;
    }

    /** Whether the kernel bound the socket in zero-copy mode (else copy mode). */
    public boolean zeroCopy() {
        return zeroCopy;
    }

    @Override
    public int poll(PacketContext ctx, FrameSink sink, int budget) {
        if (closed) {
            return 0;
        }
        MemorySegment map = rx.map();
        int avail = (int) U32.getAcquire(map, rx.producer()) - rxCons;
        int n = Math.min(Math.min(avail, budget), held.length - heldCount);
        int mask = rx.size() - 1;
        boolean[] inBurst = u.inBurst;
        for (int i = 0; i < n; i++) {
            long d = rx.desc() + (long) ((rxCons + i) & mask) * AfXdp.DESC_SIZE;
            long addr = map.get(ValueLayout.JAVA_LONG, d);
            int len = map.get(ValueLayout.JAVA_INT, d + 8);
            int chunk = (int) (addr / CHUNK);
            held[heldCount++] = chunk;
            inBurst[chunk] = true;   // this worker is the chunk's only holder: no lock (see XskUmem)
            long base = (long) chunk * CHUNK;
            long vnet = addr - VNET;
            umem.set(ValueLayout.JAVA_LONG_UNALIGNED, vnet, 0L);
            umem.set(ValueLayout.JAVA_SHORT_UNALIGNED, vnet + 8, (short) 0);
            markPartialChecksum(umem, vnet, addr, len);
            ctx.seg = umem;
            ctx.frameOff = addr;
            ctx.vnetOff = vnet;
            ctx.frameLen = len;
            ctx.frameCapacity = (int) (base + CHUNK - addr);
            ctx.headroom = (int) (vnet - base);
            sink.frame(ctx);
        }
        rxCons += n;
        U32.setRelease(map, rx.consumer(), rxCons);
        return n;
    }

    /**
     * The burst's chunks not queued for transmit go back to the queue's free stack, the
     * completion ring is drained and the fill ring topped up: one lock for the whole burst.
     */
    @Override
    public void release() {
        if (closed) {
            return;
        }
        u.release(held, heldCount);
        heldCount = 0;
    }

    /**
     * Queues len bytes at seg[off] (virtio_net_hdr, then the frame) on the TX ring: in place
     * when the frame lies in this socket's UMEM, else copied into a free chunk. A frame
     * that finds no room (TX ring full after a flush, no free chunk) is counted failed.
     */
    @Override
    public void add(MemorySegment seg, long off, int len) {
        int frameLen = len - VNET;
        if (closed) {
            listener.failed(1);   // a timer's frame after the stop began: nothing to send it on
            return;
        }
        if (txProd - (int) U32.getAcquire(tx.map(), tx.consumer()) == tx.size()) {
            flush();
            if (txProd - (int) U32.getAcquire(tx.map(), tx.consumer()) == tx.size()) {
                listener.failed(1);
                return;
            }
        }
        long addr;
        if (seg.address() == umem.address() && seg.byteSize() == umem.byteSize()) {
            addr = off + VNET;
            u.inTx[(int) (addr / CHUNK)] = true;   // held by this worker's burst: no lock (see XskUmem)
        } else {
            if (spareCount == 0) {
                spareCount = u.take(spare, 0, spare.length);
            }
            if (spareCount == 0 || frameLen > CHUNK) {
                listener.failed(1);
                return;
            }
            int c = spare[--spareCount];
            u.inTx[c] = true;
            addr = (long) c * CHUNK;
            MemorySegment.copy(seg, off + VNET, umem, addr, frameLen);
        }
        if ((Bytes.u8(seg, off) & VirtioNetHeader.F_NEEDS_CSUM) != 0) {
            finishPartialChecksum(seg, off, umem, addr);
        }
        MemorySegment map = tx.map();
        long d = tx.desc() + (long) (txProd & (tx.size() - 1)) * AfXdp.DESC_SIZE;
        map.set(ValueLayout.JAVA_LONG, d, addr);
        map.set(ValueLayout.JAVA_INT, d + 8, frameLen);
        map.set(ValueLayout.JAVA_INT, d + 12, 0);
        txProd++;
        queued++;
        bytesQueued += frameLen;
    }

    /** Publishes the queued descriptors and has the kernel send them (completions are drained at release). */
    @Override
    public void flush() {
        if (queued == 0 || closed) {
            return;
        }
        MemorySegment map = tx.map();
        U32.setRelease(map, tx.producer(), txProd);
        int n = queued;
        queued = 0;
        long bytes = bytesQueued;
        bytesQueued = 0;
        // Copy mode sends inside sendto, 32 frames a call (EAGAIN while more are left).
        for (int tries = 0; tries < 2 * RING / 32 + 2; tries++) {
            if (txProd == (int) U32.getAcquire(map, tx.consumer())) {
                break;
            }
            if (zeroCopy && ((int) U32.getAcquire(map, tx.flags()) & AfXdp.XDP_RING_NEED_WAKEUP) == 0) {
                break;
            }
            long r = Libc.sendto(errno, fd, MemorySegment.NULL, 0, Libc.MSG_DONTWAIT, MemorySegment.NULL);
            if (r < 0) {
                int e = errno.get();
                if (e != Libc.EAGAIN && e != Libc.EINTR && e != EBUSY) {
                    break;   // ENOBUFS, ENETDOWN: the frames stay in the ring for the next flush
                }
            }
        }
        listener.sent(n, bytes, n);
    }

    private static final int EBUSY = 16;

    /**
     * A frame that left a local socket through a veth keeps the CHECKSUM_PARTIAL form its
     * sender's stack gave it (the TCP/UDP checksum field holds only the pseudo-header sum;
     * the NIC, here nobody, was to finish it), and XDP hands over the bytes without saying
     * so. Such a frame is marked NEEDS_CSUM in its virtio_net_hdr, as PACKET_VNET_HDR would
     * have marked it, so the rewrites keep the field partial and {@link #add} finishes it.
     * A complete checksum that happens to equal the pseudo-header sum (1 in 65536) is
     * recomputed to the same value: the mark is harmless. Untagged, unfragmented IPv4 only.
     */
    static void markPartialChecksum(MemorySegment m, long vnet, long frame, int len) {
        if (len < 14 + 20 || Bytes.u16(m, frame + 12) != 0x0800) {
            return;
        }
        long ip = frame + 14;
        int ihl = (Bytes.u8(m, ip) & 0x0f) * 4;
        int proto = Bytes.u8(m, ip + Ipv4Header.PROTOCOL_OFFSET);
        int field = proto == Ipv4Header.PROTO_TCP ? TcpHeader.CHECKSUM_OFFSET
                : proto == Ipv4Header.PROTO_UDP ? UdpHeader.CHECKSUM_OFFSET : -1;
        int total = Bytes.u16(m, ip + Ipv4Header.TOTAL_LENGTH_OFFSET);
        if (field < 0 || ihl < 20 || (Bytes.u16(m, ip + 6) & 0x3fff) != 0 || total > len - 14
                || total < ihl + field + 2) {
            return;
        }
        int pseudo = Checksum.pseudoHeaderSum(Bytes.i32(m, ip + Ipv4Header.SRC_OFFSET),
                Bytes.i32(m, ip + Ipv4Header.DST_OFFSET), proto, total - ihl);
        if (Bytes.u16(m, ip + ihl + field) == pseudo) {
            Bytes.u8(m, vnet, VirtioNetHeader.F_NEEDS_CSUM);
            Bytes.le16(m, vnet + 6, 14 + ihl);   // csum_start, from the Ethernet header
            Bytes.le16(m, vnet + 8, field);      // csum_offset, from csum_start
        }
    }

    /** skb_checksum_help for a frame queued with NEEDS_CSUM: its checksum finished in the copy at umem[frame]. */
    private static void finishPartialChecksum(MemorySegment from, long vnet, MemorySegment m, long frame) {
        int start = Bytes.le16(from, vnet + 6);
        int field = Bytes.le16(from, vnet + 8);
        long ip = frame + 14;
        long end = ip + Bytes.u16(m, ip + Ipv4Header.TOTAL_LENGTH_OFFSET);
        int csum = ~Checksum.sum(m, frame + start, (int) (end - frame - start)) & 0xffff;
        Bytes.u16(m, frame + start + field, csum == 0 ? 0xffff : csum);
        Bytes.u8(from, vnet, 0);
    }

    /** Frames the kernel dropped for this socket since the last call: RX ring full, fill ring empty, invalid. */
    @Override
    public long kernelDrops() {
        try {
            long[] s = AfXdp.statistics(fd);
            // rx_fill_ring_empty_descs is not added: each such frame is in rx_dropped already.
            long total = s[0] + s[1] + s[3];
            long last = lastStats[0] + lastStats[1] + lastStats[3];
            lastStats = s;
            return Math.max(0, total - last);
        } catch (NativeException e) {
            return 0;
        }
    }

    /**
     * Closes the socket; the queue's last socket also frees the UMEM (its first socket's fd
     * stays open until then: it maps the fill and completion rings). The second call
     * (FrameSource and TxQueue both close) does nothing.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc.munmap(rx.map());
        Libc.munmap(tx.map());
        if (fd != u.primaryFd) {
            Libc.close(fd);
        }
        u.giveBack(spare, spareCount);
        spareCount = 0;
        u.closeUser();
        arena.close();
    }
}
