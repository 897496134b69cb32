package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * AF_XDP sockets (linux/if_xdp.h): UMEM registration, the four rings' sizes, their
 * mmap offsets and mappings, bind to an interface queue, and the mode the kernel chose.
 * Control plane only (set-up); the rings themselves are read and written by the caller.
 */
public final class AfXdp {
    public static final int AF_XDP = 44;
    public static final int SOL_XDP = 283;

    private static final int XDP_MMAP_OFFSETS = 1;
    private static final int XDP_RX_RING = 2;
    private static final int XDP_TX_RING = 3;
    private static final int XDP_UMEM_REG = 4;
    private static final int XDP_UMEM_FILL_RING = 5;
    private static final int XDP_UMEM_COMPLETION_RING = 6;
    private static final int XDP_STATISTICS = 7;
    private static final int XDP_OPTIONS = 8;

    /** sxdp_flags. */
    public static final int XDP_COPY = 1 << 1;
    public static final int XDP_ZEROCOPY = 1 << 2;
    public static final int XDP_USE_NEED_WAKEUP = 1 << 3;
    /** Bind flag: use the UMEM (and, on the same device and queue, the fill and completion rings) of another socket. */
    public static final int XDP_SHARED_UMEM = 1;
    /** A ring's flags word: the kernel wants a syscall to go on (need_wakeup). */
    public static final int XDP_RING_NEED_WAKEUP = 1;
    private static final int XDP_OPTIONS_ZEROCOPY = 1;

    private static final long PGOFF_RX_RING = 0;
    private static final long PGOFF_TX_RING = 0x80000000L;
    private static final long UMEM_PGOFF_FILL_RING = 0x100000000L;
    private static final long UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    /** struct xdp_desc: u64 addr, u32 len, u32 options. */
    public static final int DESC_SIZE = 16;

    private AfXdp() {
    }

    /** One mapped ring: producer and consumer indexes, flags and descriptors, by their offsets in {@code map}. */
    public record Ring(MemorySegment map, long producer, long consumer, long flags, long desc, int size) {
    }

    /** The four rings of a socket and its UMEM. */
    public record Rings(Ring rx, Ring tx, Ring fill, Ring completion) {
    }

    public static int openSocket() throws NativeException {
        return Libc.socket(AF_XDP, 3 /* SOCK_RAW */ | Libc.SOCK_CLOEXEC, 0);
    }

    /** XDP_UMEM_REG: {@code umem} (page-aligned) cut into chunks of {@code chunkSize} bytes. */
    public static void registerUmem(int fd, MemorySegment umem, int chunkSize, int headroom) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment reg = a.allocate(24, 8);   // struct xdp_umem_reg, first version
            reg.set(JAVA_LONG, 0, umem.address());
            reg.set(JAVA_LONG, 8, umem.byteSize());
            reg.set(JAVA_INT, 16, chunkSize);
            reg.set(JAVA_INT, 20, headroom);
            Libc.setsockopt(fd, SOL_XDP, XDP_UMEM_REG, reg, "XDP_UMEM_REG");
        }
    }

    /** Sets the four ring sizes (powers of two), then maps them. */
    public static Rings setupRings(int fd, int rxSize, int txSize, int fillSize, int compSize) throws NativeException {
        Libc.setsockoptInt(fd, SOL_XDP, XDP_UMEM_FILL_RING, fillSize, "XDP_UMEM_FILL_RING");
        Libc.setsockoptInt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, compSize, "XDP_UMEM_COMPLETION_RING");
        Libc.setsockoptInt(fd, SOL_XDP, XDP_RX_RING, rxSize, "XDP_RX_RING");
        Libc.setsockoptInt(fd, SOL_XDP, XDP_TX_RING, txSize, "XDP_TX_RING");
        long[] off = new long[16];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment o = a.allocate(128, 8);   // struct xdp_mmap_offsets: rx, tx, fr, cr x {producer, consumer, desc, flags}
            int len = Libc.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, o, "XDP_MMAP_OFFSETS");
            if (len != 128) {
                throw new NativeException("XDP_MMAP_OFFSETS of " + len + " bytes (a kernel before 5.4)", 95);
            }
            for (int i = 0; i < 16; i++) {
                off[i] = o.get(JAVA_LONG, i * 8L);
            }
        }
        return new Rings(
                map(fd, off, 0, rxSize, DESC_SIZE, PGOFF_RX_RING, "RX"),
                map(fd, off, 4, txSize, DESC_SIZE, PGOFF_TX_RING, "TX"),
                map(fd, off, 8, fillSize, 8, UMEM_PGOFF_FILL_RING, "fill"),
                map(fd, off, 12, compSize, 8, UMEM_PGOFF_COMPLETION_RING, "completion"));
    }

    /**
     * Sets and maps only the RX and TX rings: a socket that will bind with
     * {@link #XDP_SHARED_UMEM} to another on the same device and queue uses that one's
     * fill and completion rings (the kernel refuses a second pair there). The record's fill
     * and completion are null.
     */
    public static Rings setupRxTxRings(int fd, int rxSize, int txSize) throws NativeException {
        Libc.setsockoptInt(fd, SOL_XDP, XDP_RX_RING, rxSize, "XDP_RX_RING");
        Libc.setsockoptInt(fd, SOL_XDP, XDP_TX_RING, txSize, "XDP_TX_RING");
        long[] off = new long[16];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment o = a.allocate(128, 8);
            int len = Libc.getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, o, "XDP_MMAP_OFFSETS");
            if (len != 128) {
                throw new NativeException("XDP_MMAP_OFFSETS of " + len + " bytes (a kernel before 5.4)", 95);
            }
            for (int i = 0; i < 16; i++) {
                off[i] = o.get(JAVA_LONG, i * 8L);
            }
        }
        return new Rings(map(fd, off, 0, rxSize, DESC_SIZE, PGOFF_RX_RING, "RX"),
                map(fd, off, 4, txSize, DESC_SIZE, PGOFF_TX_RING, "TX"), null, null);
    }

    private static Ring map(int fd, long[] off, int at, int size, int descSize, long pgoff, String what)
            throws NativeException {
        long producer = off[at];
        long consumer = off[at + 1];
        long desc = off[at + 2];
        long flags = off[at + 3];
        MemorySegment m = Libc.mmapShared(fd, desc + (long) size * descSize, Libc.MAP_POPULATE, pgoff,
                "AF_XDP " + what + " ring");
        return new Ring(m, producer, consumer, flags, desc, size);
    }

    /** bind(fd, sockaddr_xdp{ifindex, queue, flags}). */
    public static void bind(int fd, int ifindex, int queue, int flags, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sxdp = a.allocate(16, 4);
            sxdp.set(JAVA_SHORT, 0, (short) AF_XDP);
            sxdp.set(JAVA_SHORT, 2, (short) flags);
            sxdp.set(JAVA_INT, 4, ifindex);
            sxdp.set(JAVA_INT, 8, queue);
            Libc.bind(fd, sxdp, what);
        }
    }

    /**
     * bind(fd, sockaddr_xdp{ifindex, queue, XDP_SHARED_UMEM, sharedFd}): the socket shares
     * {@code sharedFd}'s UMEM; on the same device and queue also its fill and completion rings
     * (the kernel takes no other flag with it: need_wakeup and the copy mode are the first socket's).
     */
    public static void bindShared(int fd, int ifindex, int queue, int sharedFd, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sxdp = a.allocate(16, 4);
            sxdp.set(JAVA_SHORT, 0, (short) AF_XDP);
            sxdp.set(JAVA_SHORT, 2, (short) XDP_SHARED_UMEM);
            sxdp.set(JAVA_INT, 4, ifindex);
            sxdp.set(JAVA_INT, 8, queue);
            sxdp.set(JAVA_INT, 12, sharedFd);
            Libc.bind(fd, sxdp, what);
        }
    }

    /** XDP_OPTIONS: whether the socket was bound in zero-copy mode. */
    public static boolean zeroCopy(int fd) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment o = a.allocate(JAVA_INT);
            Libc.getsockopt(fd, SOL_XDP, XDP_OPTIONS, o, "XDP_OPTIONS");
            return (o.get(JAVA_INT, 0) & XDP_OPTIONS_ZEROCOPY) != 0;
        }
    }

    /**
     * XDP_STATISTICS: {rx_dropped, rx_invalid_descs, tx_invalid_descs, rx_ring_full,
     * rx_fill_ring_empty_descs, tx_ring_empty_descs}, totals since the socket was made.
     */
    public static long[] statistics(int fd) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(48, 8);
            int len = Libc.getsockopt(fd, SOL_XDP, XDP_STATISTICS, s, "XDP_STATISTICS");
            long[] r = new long[6];
            for (int i = 0; i < Math.min(6, len / 8); i++) {
                r[i] = s.get(ValueLayout.JAVA_LONG, i * 8L);
            }
            return r;
        }
    }
}
