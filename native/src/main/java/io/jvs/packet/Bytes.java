package io.jvs.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Byte-order-explicit accessors shared by the frame views.
 *
 * <p>Invariants: every wire field is read and written through one of these
 * layouts, so no view depends on the platform's byte order; all layouts are
 * unaligned because frames start at arbitrary offsets (a ring slot, a read
 * buffer, after a 10-byte virtio_net_hdr or a 4-byte VLAN tag). Nothing here
 * allocates: each method is a single VarHandle access the JIT inlines.
 */
public final class Bytes {
    /** Network byte order (wire headers). */
    public static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Little endian: virtio_net_hdr is in the (x86/arm64) host's order, not the network's. */
    public static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;

    /** Mask of a MAC address held in the low 48 bits of a long. */
    public static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;

    private Bytes() {
    }

    public static int u8(MemorySegment seg, long off) {
        return Byte.toUnsignedInt(seg.get(U8, off));
    }

    public static void u8(MemorySegment seg, long off, int v) {
        seg.set(U8, off, (byte) v);
    }

    public static int u16(MemorySegment seg, long off) {
        return Short.toUnsignedInt(seg.get(BE16, off));
    }

    public static void u16(MemorySegment seg, long off, int v) {
        seg.set(BE16, off, (short) v);
    }

    public static int i32(MemorySegment seg, long off) {
        return seg.get(BE32, off);
    }

    public static void i32(MemorySegment seg, long off, int v) {
        seg.set(BE32, off, v);
    }

    public static int le16(MemorySegment seg, long off) {
        return Short.toUnsignedInt(seg.get(LE16, off));
    }

    public static void le16(MemorySegment seg, long off, int v) {
        seg.set(LE16, off, (short) v);
    }

    /** 6-byte MAC in network order -> low 48 bits of a long. */
    public static long mac(MemorySegment seg, long off) {
        return (long) u16(seg, off) << 32 | Integer.toUnsignedLong(i32(seg, off + 2));
    }

    public static void mac(MemorySegment seg, long off, long mac) {
        u16(seg, off, (int) (mac >>> 32));
        i32(seg, off + 2, (int) mac);
    }

    /** Zeroes len bytes without slicing (a slice would be an object per call). */
    public static void zero(MemorySegment seg, long off, int len) {
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            seg.set(BE64, off + i, 0L);
        }
        for (; i < len; i++) {
            seg.set(U8, off + i, (byte) 0);
        }
    }
}
