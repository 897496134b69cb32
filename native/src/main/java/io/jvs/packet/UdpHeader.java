package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over a UDP header (RFC 768, 8 bytes).
 *
 * <pre>
 *  0  u16 src port   2  u16 dst port   4  u16 length (header + data)   6  u16 checksum
 * </pre>
 *
 * <p>Invariants: a checksum of {@link #NO_CHECKSUM} (0) means the sender did not
 * compute one; it must stay 0 through any rewrite, and a computed checksum of 0
 * is sent as 0xFFFF ({@link Checksum} and {@link Rewrite} do both). Network byte
 * order; {@link #wrap} only records the position and nothing allocates. Setters
 * are raw: ports change through {@link Rewrite}.
 */
public final class UdpHeader extends Flyweight {
    public static final int HEADER_LEN = 8;
    public static final int CHECKSUM_OFFSET = 6;
    /** Checksum field value meaning "none" (IPv4 only). */
    public static final int NO_CHECKSUM = 0;

    static final int SRC_PORT_OFFSET = 0;
    static final int DST_PORT_OFFSET = 2;

    public UdpHeader wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public int srcPort() {
        return Bytes.u16(seg, off + SRC_PORT_OFFSET);
    }

    /** Raw: does not update the checksum (see {@link Rewrite#setSrcPort}). */
    public UdpHeader setSrcPort(int port) {
        Bytes.u16(seg, off + SRC_PORT_OFFSET, port);
        return this;
    }

    public int dstPort() {
        return Bytes.u16(seg, off + DST_PORT_OFFSET);
    }

    /** Raw: does not update the checksum (see {@link Rewrite#setDstPort}). */
    public UdpHeader setDstPort(int port) {
        Bytes.u16(seg, off + DST_PORT_OFFSET, port);
        return this;
    }

    /** Header + data length in bytes. */
    public int length() {
        return Bytes.u16(seg, off + 4);
    }

    public UdpHeader setLength(int v) {
        Bytes.u16(seg, off + 4, v);
        return this;
    }

    public int checksum() {
        return Bytes.u16(seg, off + CHECKSUM_OFFSET);
    }

    public UdpHeader setChecksum(int v) {
        Bytes.u16(seg, off + CHECKSUM_OFFSET, v);
        return this;
    }

    /** True when the sender computed a checksum (the field is not 0). */
    public boolean hasChecksum() {
        return checksum() != NO_CHECKSUM;
    }
}
