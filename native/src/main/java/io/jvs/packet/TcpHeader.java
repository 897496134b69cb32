package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over a TCP header (RFC 9293), options included.
 *
 * <pre>
 *  0  u16 src port     2  u16 dst port
 *  4  u32 sequence     8  u32 acknowledgment
 * 12  u8  data offset(4, in 32-bit words) | reserved/AE(4)
 * 13  u8  flags (CWR ECE URG ACK PSH RST SYN FIN)
 * 14  u16 window      16  u16 checksum      18  u16 urgent pointer
 * </pre>
 *
 * <p>Invariants: the data offset is exposed in BYTES; ports and the window are
 * unsigned ints, sequence numbers raw 32-bit ints (compare them modulo 2^32);
 * network byte order; {@link #wrap} only records the position and nothing
 * allocates. Setters are raw: ports change through {@link Rewrite}, which keeps
 * the checksum right.
 */
public final class TcpHeader extends Flyweight {
    public static final int MIN_HEADER_LEN = 20;
    public static final int MAX_HEADER_LEN = 60;
    public static final int CHECKSUM_OFFSET = 16;

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    public static final int SRC_PORT_OFFSET = 0;
    public static final int DST_PORT_OFFSET = 2;
    public static final int DATA_OFFSET_OFFSET = 12;
    static final int FLAGS_OFFSET = 13;

    public TcpHeader wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public int srcPort() {
        return Bytes.u16(seg, off + SRC_PORT_OFFSET);
    }

    /** Raw: does not update the checksum (see {@link Rewrite#setSrcPort}). */
    public TcpHeader setSrcPort(int port) {
        Bytes.u16(seg, off + SRC_PORT_OFFSET, port);
        return this;
    }

    public int dstPort() {
        return Bytes.u16(seg, off + DST_PORT_OFFSET);
    }

    /** Raw: does not update the checksum (see {@link Rewrite#setDstPort}). */
    public TcpHeader setDstPort(int port) {
        Bytes.u16(seg, off + DST_PORT_OFFSET, port);
        return this;
    }

    public int seq() {
        return Bytes.i32(seg, off + 4);
    }

    public TcpHeader setSeq(int v) {
        Bytes.i32(seg, off + 4, v);
        return this;
    }

    public int ack() {
        return Bytes.i32(seg, off + 8);
    }

    public TcpHeader setAck(int v) {
        Bytes.i32(seg, off + 8, v);
        return this;
    }

    /** Header length in bytes (data offset * 4), options included. */
    public int dataOffset() {
        return (Bytes.u8(seg, off + DATA_OFFSET_OFFSET) >>> 4) << 2;
    }

    /** Sets the header length in bytes (a multiple of 4 in [20, 60]); keeps the low nibble. */
    public TcpHeader setDataOffset(int bytes) {
        int b = Bytes.u8(seg, off + DATA_OFFSET_OFFSET);
        Bytes.u8(seg, off + DATA_OFFSET_OFFSET, (bytes >>> 2) << 4 | b & 0x0F);
        return this;
    }

    /** The flags byte: a mask of {@link #FIN} .. {@link #CWR}. */
    public int flags() {
        return Bytes.u8(seg, off + FLAGS_OFFSET);
    }

    public TcpHeader setFlags(int v) {
        Bytes.u8(seg, off + FLAGS_OFFSET, v);
        return this;
    }

    /** True when every bit of {@code mask} is set. */
    public boolean hasFlags(int mask) {
        return (flags() & mask) == mask;
    }

    public int window() {
        return Bytes.u16(seg, off + 14);
    }

    public TcpHeader setWindow(int v) {
        Bytes.u16(seg, off + 14, v);
        return this;
    }

    public int checksum() {
        return Bytes.u16(seg, off + CHECKSUM_OFFSET);
    }

    public TcpHeader setChecksum(int v) {
        Bytes.u16(seg, off + CHECKSUM_OFFSET, v);
        return this;
    }

    public int urgentPointer() {
        return Bytes.u16(seg, off + 18);
    }

    public TcpHeader setUrgentPointer(int v) {
        Bytes.u16(seg, off + 18, v);
        return this;
    }
}
