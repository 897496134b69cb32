package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over a {@code struct virtio_net_hdr} (10 bytes), the header that
 * {@code PACKET_VNET_HDR} / {@code IFF_VNET_HDR} put in front of each frame.
 *
 * <pre>
 *  0  u8  flags        NEEDS_CSUM=1, DATA_VALID=2
 *  1  u8  gso_type     NONE=0, TCPV4=1, UDP=3, TCPV6=4, UDP_L4=5, | ECN=0x80
 *  2  u16 hdr_len      bytes of headers to copy into each segment
 *  4  u16 gso_size     payload bytes per segment
 *  6  u16 csum_start   where the checksummed range starts, from the Ethernet header
 *  8  u16 csum_offset  where the checksum field is, from csum_start
 * </pre>
 *
 * <p>Invariants: the u16 fields are in the HOST's byte order (little endian on
 * every platform jvs runs on; the kernel uses virtio's legacy little-endian
 * format for AF_PACKET and TAP), unlike every other view in this package.
 * {@link #wrap} only records where the header is; accessors read and write the
 * memory directly; no method allocates.
 */
public final class VirtioNetHeader extends Flyweight {
    public static final int SIZE = 10;

    public static final int F_NEEDS_CSUM = 1;
    public static final int F_DATA_VALID = 2;

    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    /** UDP segmentation offload (USO); newer kernels. */
    public static final int GSO_UDP_L4 = 5;
    /** Flag bit in gso_type: the TCP segments carry ECN CWR. */
    public static final int GSO_ECN = 0x80;

    private static final int FLAGS = 0;
    private static final int GSO_TYPE = 1;
    private static final int HDR_LEN = 2;
    private static final int GSO_SIZE = 4;
    private static final int CSUM_START = 6;
    private static final int CSUM_OFFSET = 8;

    public VirtioNetHeader wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public int flags() {
        return Bytes.u8(seg, off + FLAGS);
    }

    public VirtioNetHeader setFlags(int v) {
        Bytes.u8(seg, off + FLAGS, v);
        return this;
    }

    public boolean needsCsum() {
        return (flags() & F_NEEDS_CSUM) != 0;
    }

    public boolean dataValid() {
        return (flags() & F_DATA_VALID) != 0;
    }

    public int gsoType() {
        return Bytes.u8(seg, off + GSO_TYPE);
    }

    public VirtioNetHeader setGsoType(int v) {
        Bytes.u8(seg, off + GSO_TYPE, v);
        return this;
    }

    /** True for a GSO super-frame (gso_type other than NONE, ignoring the ECN bit). */
    public boolean isGso() {
        return (gsoType() & ~GSO_ECN) != GSO_NONE;
    }

    public int hdrLen() {
        return Bytes.le16(seg, off + HDR_LEN);
    }

    public VirtioNetHeader setHdrLen(int v) {
        Bytes.le16(seg, off + HDR_LEN, v);
        return this;
    }

    public int gsoSize() {
        return Bytes.le16(seg, off + GSO_SIZE);
    }

    public VirtioNetHeader setGsoSize(int v) {
        Bytes.le16(seg, off + GSO_SIZE, v);
        return this;
    }

    public int csumStart() {
        return Bytes.le16(seg, off + CSUM_START);
    }

    public VirtioNetHeader setCsumStart(int v) {
        Bytes.le16(seg, off + CSUM_START, v);
        return this;
    }

    public int csumOffset() {
        return Bytes.le16(seg, off + CSUM_OFFSET);
    }

    public VirtioNetHeader setCsumOffset(int v) {
        Bytes.le16(seg, off + CSUM_OFFSET, v);
        return this;
    }

    /** All fields zero: a complete, non-GSO frame (what to send in front of a frame jvs built itself). */
    public VirtioNetHeader clear() {
        Bytes.zero(seg, off, SIZE);
        return this;
    }
}
