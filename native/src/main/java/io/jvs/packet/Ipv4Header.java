package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over an IPv4 header (RFC 791), options included.
 *
 * <pre>
 *  0  u8  version(4) | IHL(4, in 32-bit words)   1  u8 TOS
 *  2  u16 total length                           4  u16 identification
 *  6  u16 flags(3: reserved, DF, MF) | fragment offset(13, in 8-byte units)
 *  8  u8  TTL    9  u8 protocol                 10  u16 header checksum
 * 12  src address                               16  dst address
 * 20  options (IHL*4 - 20 bytes)
 * </pre>
 *
 * <p>Invariants: lengths and offsets are exposed in BYTES ({@link #ihl()},
 * {@link #fragmentOffset()}), never in the wire's units; addresses are host-order
 * ints; network byte order on the wire; {@link #wrap} only records the position
 * and nothing allocates. The setters are raw: they never touch any checksum.
 * A forwarding path changes addresses and TTL through {@link Rewrite}, which
 * updates the IP and L4 checksums incrementally (RFC 1624); code that builds a
 * header from scratch calls {@link #writeChecksum()} once at the end.
 */
public final class Ipv4Header extends Flyweight {
    public static final int MIN_HEADER_LEN = 20;
    public static final int MAX_HEADER_LEN = 60;
    public static final int MAX_TOTAL_LENGTH = 0xFFFF;

    public static final int PROTO_ICMP = 1;
    public static final int PROTO_IPIP = 4;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;
    public static final int PROTO_GRE = 47;

    /** Flag bits of the u16 at offset 6. */
    public static final int FLAG_DF = 0x4000;
    public static final int FLAG_MF = 0x2000;
    private static final int FRAG_OFFSET_MASK = 0x1FFF;

    public static final int TOTAL_LENGTH_OFFSET = 2;
    static final int FRAG_OFFSET = 6;
    public static final int TTL_OFFSET = 8;
    public static final int PROTOCOL_OFFSET = 9;
    public static final int CHECKSUM_OFFSET = 10;
    public static final int SRC_OFFSET = 12;
    public static final int DST_OFFSET = 16;

    public Ipv4Header wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public int version() {
        return Bytes.u8(seg, off) >>> 4;
    }

    public Ipv4Header setVersion(int v) {
        Bytes.u8(seg, off, v << 4 | Bytes.u8(seg, off) & 0x0F);
        return this;
    }

    /** Header length in bytes (IHL * 4), options included. */
    public int ihl() {
        return (Bytes.u8(seg, off) & 0x0F) << 2;
    }

    /** Sets the header length in bytes; must be a multiple of 4 in [20, 60]. */
    public Ipv4Header setIhl(int bytes) {
        Bytes.u8(seg, off, Bytes.u8(seg, off) & 0xF0 | (bytes >>> 2) & 0x0F);
        return this;
    }

    public int tos() {
        return Bytes.u8(seg, off + 1);
    }

    public Ipv4Header setTos(int v) {
        Bytes.u8(seg, off + 1, v);
        return this;
    }

    public int totalLength() {
        return Bytes.u16(seg, off + TOTAL_LENGTH_OFFSET);
    }

    public Ipv4Header setTotalLength(int v) {
        Bytes.u16(seg, off + TOTAL_LENGTH_OFFSET, v);
        return this;
    }

    public int id() {
        return Bytes.u16(seg, off + 4);
    }

    public Ipv4Header setId(int v) {
        Bytes.u16(seg, off + 4, v);
        return this;
    }

    /** The raw u16 at offset 6: flags and fragment offset as on the wire. */
    public int flagsFragment() {
        return Bytes.u16(seg, off + FRAG_OFFSET);
    }

    public Ipv4Header setFlagsFragment(int v) {
        Bytes.u16(seg, off + FRAG_OFFSET, v);
        return this;
    }

    public boolean dontFragment() {
        return (flagsFragment() & FLAG_DF) != 0;
    }

    public Ipv4Header setDontFragment(boolean df) {
        int v = flagsFragment();
        return setFlagsFragment(df ? v | FLAG_DF : v & ~FLAG_DF);
    }

    public boolean moreFragments() {
        return (flagsFragment() & FLAG_MF) != 0;
    }

    public Ipv4Header setMoreFragments(boolean mf) {
        int v = flagsFragment();
        return setFlagsFragment(mf ? v | FLAG_MF : v & ~FLAG_MF);
    }

    /** Fragment offset in bytes (the wire holds 8-byte units). */
    public int fragmentOffset() {
        return (flagsFragment() & FRAG_OFFSET_MASK) << 3;
    }

    /** Sets the fragment offset in bytes; must be a multiple of 8 below 65536. */
    public Ipv4Header setFragmentOffset(int bytes) {
        return setFlagsFragment(flagsFragment() & ~FRAG_OFFSET_MASK | (bytes >>> 3) & FRAG_OFFSET_MASK);
    }

    /** MF set or a non-zero offset: part of a fragmented datagram. */
    public boolean isFragment() {
        return (flagsFragment() & (FLAG_MF | FRAG_OFFSET_MASK)) != 0;
    }

    public int ttl() {
        return Bytes.u8(seg, off + TTL_OFFSET);
    }

    /** Raw: does not update the checksum (see {@link Rewrite#decrementTtl}). */
    public Ipv4Header setTtl(int v) {
        Bytes.u8(seg, off + TTL_OFFSET, v);
        return this;
    }

    public int protocol() {
        return Bytes.u8(seg, off + PROTOCOL_OFFSET);
    }

    public Ipv4Header setProtocol(int v) {
        Bytes.u8(seg, off + PROTOCOL_OFFSET, v);
        return this;
    }

    public int checksum() {
        return Bytes.u16(seg, off + CHECKSUM_OFFSET);
    }

    public Ipv4Header setChecksum(int v) {
        Bytes.u16(seg, off + CHECKSUM_OFFSET, v);
        return this;
    }

    public int src() {
        return Bytes.i32(seg, off + SRC_OFFSET);
    }

    /** Raw: does not update any checksum (see {@link Rewrite#setSrcAddr}). */
    public Ipv4Header setSrc(int addr) {
        Bytes.i32(seg, off + SRC_OFFSET, addr);
        return this;
    }

    public int dst() {
        return Bytes.i32(seg, off + DST_OFFSET);
    }

    /** Raw: does not update any checksum (see {@link Rewrite#setDstAddr}). */
    public Ipv4Header setDst(int addr) {
        Bytes.i32(seg, off + DST_OFFSET, addr);
        return this;
    }

    /**
     * True when the header checksum is right: the sum over the whole header
     * ({@link #ihl()} bytes, options and checksum field included) is 0xFFFF.
     * The caller must have checked that {@link #ihl()} bytes are present.
     */
    public boolean verifyChecksum() {
        return Checksum.sum(seg, off, ihl()) == 0xFFFF;
    }

    /** The checksum this header should carry (the field itself counted as zero). */
    public int computeChecksum() {
        return Checksum.ipv4Header(seg, off, ihl());
    }

    /** Stores {@link #computeChecksum()}: for headers built from scratch. */
    public Ipv4Header writeChecksum() {
        return setChecksum(computeChecksum());
    }
}
