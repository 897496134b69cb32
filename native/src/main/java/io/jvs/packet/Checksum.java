package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * <p>Vocabulary, as in the kernel: a <em>sum</em> is the ones'-complement sum
 * of 16-bit big-endian words, folded to 16 bits and NOT complemented
 * ({@code csum_fold} without the final {@code ~}); a <em>checksum</em> is what
 * goes on the wire, the complement of the sum of everything it covers with the
 * checksum field itself taken as zero.
 *
 * <p>Invariants: every int this class takes or returns as a sum or checksum is
 * in [0, 0xFFFF]; 16-bit values are unsigned, 32-bit values (addresses) are raw
 * ints; nothing allocates. A folded sum of data that is not all zero is never 0,
 * so a computed checksum is never 0xFFFF, and the incremental forms below give
 * exactly the value a full recomputation would give (not merely an equivalent
 * one), because they use RFC 1624 eqn. 3, which has no -0 problem.
 */
public final class Checksum {
    private Checksum() {
    }

    // ------------------------------------------------------------------ sums

    /**
     * Folds an accumulator of unsigned 16- or 32-bit additions to 16 bits with
     * end-around carry. {@code acc} must be non-negative (it is, below 2^63, for
     * any frame). Returns the sum, not complemented, in [0, 0xFFFF].
     */
    public static int fold(long acc) {
        acc = (acc & 0xFFFF_FFFFL) + (acc >>> 32);
        acc = (acc & 0xFFFF) + (acc >>> 16);
        acc = (acc & 0xFFFF) + (acc >>> 16);
        acc = (acc & 0xFFFF) + (acc >>> 16);
        return (int) acc;
    }

    /**
     * Ones'-complement sum of {@code len} bytes at {@code off}, as big-endian
     * 16-bit words counted from {@code off}; an odd last byte is the high byte of
     * a word whose low byte is zero (RFC 1071). Returns the folded sum.
     */
    public static int sum(MemorySegment seg, long off, int len) {
        return fold(accumulate(seg, off, len, 0));
    }

    /** As {@link #sum(MemorySegment, long, int)}, added to {@code initial} (a sum). */
    public static int sum(MemorySegment seg, long off, int len, int initial) {
        return fold(accumulate(seg, off, len, Integer.toUnsignedLong(initial)));
    }

    private static long accumulate(MemorySegment seg, long off, int len, long acc) {
        int i = 0;
        // 8 bytes per step: two 32-bit halves into a 64-bit accumulator, which
        // cannot overflow below 2^31 steps, so the carries are folded once at the end.
        for (; i + 8 <= len; i += 8) {
            long v = seg.get(Bytes.BE64, off + i);
            acc += (v >>> 32) + (v & 0xFFFF_FFFFL);
        }
        for (; i + 2 <= len; i += 2) {
            acc += Bytes.u16(seg, off + i);
        }
        if (i < len) {
            acc += Bytes.u8(seg, off + i) << 8;
        }
        return acc;
    }

    /** Adds two sums (ones'-complement addition). */
    public static int add(int sum1, int sum2) {
        return fold((long) sum1 + sum2);
    }

    /**
     * Sum of the IPv4 pseudo-header (RFC 793 / 768): src, dst, zero+protocol,
     * L4 length. This folded, non-complemented value is exactly what a
     * CHECKSUM_PARTIAL TCP/UDP checksum field holds (the kernel's
     * {@code ~csum_tcpudp_magic(saddr, daddr, len, proto, 0)}).
     */
    public static int pseudoHeaderSum(int src, int dst, int protocol, int l4Len) {
        long acc = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + protocol + l4Len;
        return fold(acc);
    }

    // ------------------------------------------------------------------ full checksums

    /**
     * The IPv4 header checksum to store for the header at {@code ipOff} of
     * {@code ihlBytes} bytes (options included), the checksum field counted as zero.
     */
    public static int ipv4Header(MemorySegment seg, long ipOff, int ihlBytes) {
        long acc = accumulate(seg, ipOff, Ipv4Header.CHECKSUM_OFFSET, 0);
        int rest = Ipv4Header.CHECKSUM_OFFSET + 2;
        acc = accumulate(seg, ipOff + rest, ihlBytes - rest, acc);
        return ~fold(acc) & 0xFFFF;
    }

    /**
     * Offset of the checksum field inside the L4 header of {@code protocol}, or
     * -1 for a protocol whose checksum jvs does not maintain.
     */
    public static int l4ChecksumOffset(int protocol) {
        return switch (protocol) {
            case Ipv4Header.PROTO_TCP -> TcpHeader.CHECKSUM_OFFSET;
            case Ipv4Header.PROTO_UDP -> UdpHeader.CHECKSUM_OFFSET;
            case Ipv4Header.PROTO_ICMP -> IcmpHeader.CHECKSUM_OFFSET;
            default -> -1;
        };
    }

    /**
     * The full checksum to store for a TCP, UDP or ICMP message of {@code l4Len}
     * bytes at {@code l4Off} carried in IPv4 from {@code src} to {@code dst}:
     * over the pseudo-header (TCP, UDP; not ICMP) and the whole message, the
     * checksum field counted as zero. A UDP result of 0 is returned as 0xFFFF,
     * since 0 on the wire means "no checksum" (RFC 768). For building frames and
     * for tests; the data path updates checksums incrementally.
     *
     * @throws IllegalArgumentException for another protocol
     */
    public static int l4(MemorySegment seg, long l4Off, int l4Len, int protocol, int src, int dst) {
        int field = l4ChecksumOffset(protocol);
        if (field < 0) {
            throw new IllegalArgumentException("no L4 checksum for IP protocol " + protocol
                    + "; expected TCP (6), UDP (17) or ICMP (1)");
        }
        long acc = protocol == Ipv4Header.PROTO_ICMP ? 0 : pseudoHeaderSum(src, dst, protocol, l4Len);
        acc = accumulate(seg, l4Off, field, acc);
        acc = accumulate(seg, l4Off + field + 2, l4Len - field - 2, acc);
        int csum = ~fold(acc) & 0xFFFF;
        return protocol == Ipv4Header.PROTO_UDP && csum == 0 ? 0xFFFF : csum;
    }

    /** {@link #l4} for the complete (unfragmented) IPv4 datagram at {@code ipOff}. */
    public static int l4(MemorySegment seg, long ipOff) {
        int ihl = (Bytes.u8(seg, ipOff) & 0x0F) * 4;
        int l4Len = Bytes.u16(seg, ipOff + Ipv4Header.TOTAL_LENGTH_OFFSET) - ihl;
        return l4(seg, ipOff + ihl, l4Len, Bytes.u8(seg, ipOff + Ipv4Header.PROTOCOL_OFFSET),
                Bytes.i32(seg, ipOff + Ipv4Header.SRC_OFFSET), Bytes.i32(seg, ipOff + Ipv4Header.DST_OFFSET));
    }

    // ------------------------------------------------------------------ incremental (RFC 1624)

    /**
     * New checksum after a 16-bit field covered by {@code csum} changed from
     * {@code oldVal} to {@code newVal}: RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m').
     */
    public static int update16(int csum, int oldVal, int newVal) {
        long acc = (~csum & 0xFFFF) + (~oldVal & 0xFFFF) + (newVal & 0xFFFF);
        return ~fold(acc) & 0xFFFF;
    }

    /** As {@link #update16} for a 32-bit field (an address): both halves at once. */
    public static int update32(int csum, int oldVal, int newVal) {
        long acc = (~csum & 0xFFFF)
                + (~oldVal >>> 16) + (~oldVal & 0xFFFF)
                + (newVal >>> 16) + (newVal & 0xFFFF);
        return ~fold(acc) & 0xFFFF;
    }

    /**
     * New value of a CHECKSUM_PARTIAL L4 checksum field after a 32-bit
     * pseudo-header field (an address) changed. There the field holds the
     * non-complemented folded pseudo-header sum, and the device later adds the
     * rest of the segment and complements; so the update adds the difference
     * without the complements: field' = fold(field + ~from + to).
     *
     * <p>This is the kernel's {@code inet_proto_csum_replace4()} (net/core/utils.c)
     * for {@code skb->ip_summed == CHECKSUM_PARTIAL} and {@code pseudohdr == true}:
     * {@code *sum = ~csum_fold(csum_add(csum_sub(csum_unfold(*sum), from), to))}
     * (older kernels: {@code ~csum_fold(csum_partial({~from, to}, 8, csum_unfold(*sum)))}),
     * where {@code ~csum_fold} is a plain fold. With {@code pseudohdr == false}
     * (ports: {@code inet_proto_csum_replace2}) a partial field is left alone, as here.
     */
    public static int updatePartial32(int field, int oldVal, int newVal) {
        long acc = (field & 0xFFFF)
                + (~oldVal >>> 16) + (~oldVal & 0xFFFF)
                + (newVal >>> 16) + (newVal & 0xFFFF);
        return fold(acc);
    }

    /** As {@link #updatePartial32} for a 16-bit pseudo-header field (the L4 length). */
    public static int updatePartial16(int field, int oldVal, int newVal) {
        long acc = (field & 0xFFFF) + (~oldVal & 0xFFFF) + (newVal & 0xFFFF);
        return fold(acc);
    }

    // ------------------------------------------------------------------ IPv6 (RFC 8200 section 8.1)

    private static long words(long v) {
        return (v >>> 32) + (v & 0xFFFF_FFFFL);
    }

    /**
     * Sum of the IPv6 pseudo-header: source and destination addresses (each as its
     * high and low 64 bits), the upper-layer packet length as 32 bits, three zero
     * bytes and the next-header value of the upper layer (not of an extension
     * header in between). As {@link #pseudoHeaderSum}, this folded, non-complemented
     * value is what a CHECKSUM_PARTIAL field holds (the kernel's
     * {@code ~csum_ipv6_magic(saddr, daddr, len, proto, 0)}).
     */
    public static int pseudoHeaderSum6(long srcHi, long srcLo, long dstHi, long dstLo, int nextHeader, int l4Len) {
        long acc = words(srcHi) + words(srcLo) + words(dstHi) + words(dstLo)
                + Integer.toUnsignedLong(l4Len) + nextHeader;
        return fold(acc);
    }

    /**
     * Offset of the checksum field inside the upper-layer header {@code nextHeader} of
     * an IPv6 packet, or -1 for one whose checksum jvs does not maintain.
     */
    public static int l4ChecksumOffset6(int nextHeader) {
        return switch (nextHeader) {
            case Ipv6Header.NEXT_TCP -> TcpHeader.CHECKSUM_OFFSET;
            case Ipv6Header.NEXT_UDP -> UdpHeader.CHECKSUM_OFFSET;
            case Ipv6Header.NEXT_ICMPV6 -> Icmpv6Header.CHECKSUM_OFFSET;
            default -> -1;
        };
    }

    /**
     * The full checksum to store for a TCP, UDP or ICMPv6 message of {@code l4Len}
     * bytes at {@code l4Off} carried in IPv6 between the given addresses: over the
     * pseudo-header (for all three: ICMPv6 has one, unlike ICMP) and the message, its
     * checksum field counted as zero. A UDP result of 0 is returned as 0xFFFF (RFC
     * 8200 8.1: a zero UDP checksum is not allowed in IPv6, 0xFFFF is sent instead).
     *
     * @throws IllegalArgumentException for another next-header value
     */
    public static int l4v6(MemorySegment seg, long l4Off, int l4Len, int nextHeader,
                           long srcHi, long srcLo, long dstHi, long dstLo) {
        int field = l4ChecksumOffset6(nextHeader);
        if (field < 0) {
            throw new IllegalArgumentException("no L4 checksum for IPv6 next header " + nextHeader
                    + "; expected TCP (6), UDP (17) or ICMPv6 (58)");
        }
        long acc = pseudoHeaderSum6(srcHi, srcLo, dstHi, dstLo, nextHeader, l4Len);
        acc = accumulate(seg, l4Off, field, acc);
        acc = accumulate(seg, l4Off + field + 2, l4Len - field - 2, acc);
        int csum = ~fold(acc) & 0xFFFF;
        return nextHeader == Ipv6Header.NEXT_UDP && csum == 0 ? 0xFFFF : csum;
    }

    /**
     * New checksum after a 128-bit field covered by {@code csum} (an IPv6 address in
     * the pseudo-header) changed: RFC 1624 eqn. 3 over its eight 16-bit words at once,
     * HC' = ~(~HC + ~m + m'). The kernel's {@code inet_proto_csum_replace16()} for a
     * checksum that is not CHECKSUM_PARTIAL.
     */
    public static int update128(int csum, long oldHi, long oldLo, long newHi, long newLo) {
        long acc = (~csum & 0xFFFF) + words(~oldHi) + words(~oldLo) + words(newHi) + words(newLo);
        return ~fold(acc) & 0xFFFF;
    }

    /**
     * As {@link #updatePartial32} for a 128-bit pseudo-header field: a CHECKSUM_PARTIAL
     * field after an IPv6 address changed, field' = fold(field + ~from + to)
     * ({@code inet_proto_csum_replace16()} with {@code pseudohdr == true}).
     */
    public static int updatePartial128(int field, long oldHi, long oldLo, long newHi, long newLo) {
        long acc = (field & 0xFFFF) + words(~oldHi) + words(~oldLo) + words(newHi) + words(newLo);
        return fold(acc);
    }
}
