package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over an IPv6 header (RFC 8200) and the walk of its extension headers
 * to the upper-layer (L4) header.
 *
 * <pre>
 *  0  u32 version(4) | traffic class(8) | flow label(20)
 *  4  u16 payload length (bytes after the 40-byte fixed header, extensions included)
 *  6  u8  next header    7  u8 hop limit
 *  8  src address (16 bytes)    24  dst address (16 bytes)
 * 40  extension headers, then the upper-layer header
 * </pre>
 *
 * <p>Addresses are two longs each, the high and the low 64 bits in network order
 * ({@code 2001:db8::1} is hi {@code 0x20010db800000000L}, lo {@code 1L}), so a
 * 128-bit address is read, compared and written without an array. There is no
 * header checksum: address changes update the L4 checksum only (see
 * {@link Checksum#update128}).
 *
 * <p>{@link #walk(int)} follows the chain as the kernel's {@code ipv6_skip_exthdr()}
 * does: Hop-by-Hop, Routing and Destination Options headers are {@code (len + 1) * 8}
 * bytes, AH is {@code (len + 2) * 4}, a fragment header is 8 bytes and ends the walk
 * unless it is the first fragment (offset 0); ESP, No Next Header and every other
 * value are the upper layer. The results stay in this view until the next
 * {@code wrap}; nothing allocates.
 */
public final class Ipv6Header extends Flyweight {
    public static final int HEADER_LEN = 40;
    public static final int ETHERTYPE = 0x86DD;

    /** Next-header values (IANA "Assigned Internet Protocol Numbers"). */
    public static final int NEXT_HOP_BY_HOP = 0;
    public static final int NEXT_TCP = 6;
    public static final int NEXT_UDP = 17;
    public static final int NEXT_IPV6 = 41;
    public static final int NEXT_ROUTING = 43;
    public static final int NEXT_FRAGMENT = 44;
    public static final int NEXT_ESP = 50;
    public static final int NEXT_AH = 51;
    public static final int NEXT_ICMPV6 = 58;
    public static final int NEXT_NONE = 59;
    public static final int NEXT_DEST_OPTIONS = 60;

    public static final int PAYLOAD_LENGTH_OFFSET = 4;
    public static final int NEXT_HEADER_OFFSET = 6;
    public static final int HOP_LIMIT_OFFSET = 7;
    public static final int SRC_OFFSET = 8;
    public static final int DST_OFFSET = 24;

    /** Length of a fragment header; its u16 at 2 is offset(13, in 8-byte units) | res(2) | M(1). */
    public static final int FRAGMENT_HEADER_LEN = 8;

    // Results of the last walk.
    private int upperProtocol;
    private long upperOffset;
    private int extensionLength;
    private boolean fragment;
    private int fragmentOffset;
    private boolean moreFragments;
    private int fragmentId;
    private int fragmentHeaderEnd;

    public Ipv6Header wrap(MemorySegment seg, long off) {
        bind(seg, off);
        upperProtocol = -1;
        upperOffset = -1;
        extensionLength = 0;
        fragment = false;
        fragmentOffset = 0;
        moreFragments = false;
        fragmentId = 0;
        fragmentHeaderEnd = 0;
        return this;
    }

    public int version() {
        return Bytes.u8(seg, off) >>> 4;
    }

    /** Writes version 6, traffic class and flow label at once. */
    public Ipv6Header setVersionClassFlow(int trafficClass, int flowLabel) {
        Bytes.i32(seg, off, 6 << 28 | (trafficClass & 0xFF) << 20 | flowLabel & 0xF_FFFF);
        return this;
    }

    public int trafficClass() {
        return Bytes.i32(seg, off) >>> 20 & 0xFF;
    }

    public int flowLabel() {
        return Bytes.i32(seg, off) & 0xF_FFFF;
    }

    public int payloadLength() {
        return Bytes.u16(seg, off + PAYLOAD_LENGTH_OFFSET);
    }

    public Ipv6Header setPayloadLength(int v) {
        Bytes.u16(seg, off + PAYLOAD_LENGTH_OFFSET, v);
        return this;
    }

    public int nextHeader() {
        return Bytes.u8(seg, off + NEXT_HEADER_OFFSET);
    }

    public Ipv6Header setNextHeader(int v) {
        Bytes.u8(seg, off + NEXT_HEADER_OFFSET, v);
        return this;
    }

    public int hopLimit() {
        return Bytes.u8(seg, off + HOP_LIMIT_OFFSET);
    }

    /** No header checksum to update: IPv6 has none. */
    public Ipv6Header setHopLimit(int v) {
        Bytes.u8(seg, off + HOP_LIMIT_OFFSET, v);
        return this;
    }

    public long srcHi() {
        return seg.get(Bytes.BE64, off + SRC_OFFSET);
    }

    public long srcLo() {
        return seg.get(Bytes.BE64, off + SRC_OFFSET + 8);
    }

    public long dstHi() {
        return seg.get(Bytes.BE64, off + DST_OFFSET);
    }

    public long dstLo() {
        return seg.get(Bytes.BE64, off + DST_OFFSET + 8);
    }

    /** Raw: no checksum is touched (the L4 checksum covers the address: {@link Checksum#update128}). */
    public Ipv6Header setSrc(long hi, long lo) {
        seg.set(Bytes.BE64, off + SRC_OFFSET, hi);
        seg.set(Bytes.BE64, off + SRC_OFFSET + 8, lo);
        return this;
    }

    /** Raw, as {@link #setSrc}. */
    public Ipv6Header setDst(long hi, long lo) {
        seg.set(Bytes.BE64, off + DST_OFFSET, hi);
        seg.set(Bytes.BE64, off + DST_OFFSET + 8, lo);
        return this;
    }

    /**
     * Walks the extension headers of the packet wrapped, of which {@code available}
     * bytes (from the fixed header's first byte) are readable. On {@link Ipv6Chain#OK}
     * the results are in {@link #upperProtocol()}, {@link #upperOffset()} and the
     * fragment accessors; on a failure they hold what was read before it. Only the
     * first {@code 40 + payloadLength} bytes belong to the packet (Ethernet padding
     * after them is not walked). A payload length of 0 is taken as it reads (no
     * jumbograms: they do not fit an Ethernet frame).
     */
    public Ipv6Chain walk(int available) {
        if (available < HEADER_LEN) {
            return Ipv6Chain.TRUNCATED_HEADER;
        }
        if (version() != 6) {
            return Ipv6Chain.BAD_VERSION;
        }
        int end = HEADER_LEN + payloadLength();
        if (end > available) {
            return Ipv6Chain.PAYLOAD_BEYOND_FRAME;
        }
        int next = nextHeader();
        int pos = HEADER_LEN;
        while (true) {
            switch (next) {
                case NEXT_HOP_BY_HOP, NEXT_ROUTING, NEXT_DEST_OPTIONS, NEXT_AH -> {
                    if (next == NEXT_HOP_BY_HOP && pos != HEADER_LEN) {
                        return Ipv6Chain.HOP_BY_HOP_NOT_FIRST;
                    }
                    if (pos + 2 > end) {
                        return Ipv6Chain.TRUNCATED_EXTENSION;
                    }
                    int lenField = Bytes.u8(seg, off + pos + 1);
                    int len = next == NEXT_AH ? (lenField + 2) << 2 : (lenField + 1) << 3;
                    if (pos + len > end) {
                        return Ipv6Chain.TRUNCATED_EXTENSION;
                    }
                    next = Bytes.u8(seg, off + pos);
                    pos += len;
                }
                case NEXT_FRAGMENT -> {
                    if (fragment) {
                        return Ipv6Chain.NESTED_FRAGMENT;
                    }
                    if (pos + FRAGMENT_HEADER_LEN > end) {
                        return Ipv6Chain.TRUNCATED_EXTENSION;
                    }
                    int offsetFlags = Bytes.u16(seg, off + pos + 2);
                    fragment = true;
                    fragmentOffset = offsetFlags & 0xFFF8;
                    moreFragments = (offsetFlags & 1) != 0;
                    fragmentId = Bytes.i32(seg, off + pos + 4);
                    next = Bytes.u8(seg, off + pos);
                    pos += FRAGMENT_HEADER_LEN;
                    fragmentHeaderEnd = pos;
                    if (fragmentOffset != 0) {
                        // A later fragment: what follows is the middle of the original
                        // payload, not a header; the upper layer is named but not present.
                        return finish(next, -1, pos);
                    }
                }
                default -> {
                    return finish(next, off + pos, pos);
                }
            }
        }
    }

    private Ipv6Chain finish(int protocol, long l4, int pos) {
        upperProtocol = protocol;
        upperOffset = l4;
        extensionLength = pos - HEADER_LEN;
        return Ipv6Chain.OK;
    }

    /** The upper-layer protocol the last successful walk ended at (6, 17, 58, 50, 59, ...). */
    public int upperProtocol() {
        return upperProtocol;
    }

    /**
     * Absolute offset of the upper-layer header in the segment, or -1 for a
     * non-first fragment (its payload continues someone else's bytes).
     */
    public long upperOffset() {
        return upperOffset;
    }

    /** Bytes of extension headers the walk stepped over (0 when the L4 header follows the fixed one). */
    public int extensionLength() {
        return extensionLength;
    }

    /** Bytes of upper-layer data from {@link #upperOffset()} to the end of the payload. */
    public int upperLength() {
        return payloadLength() - extensionLength;
    }

    /** A fragment header was seen. */
    public boolean isFragment() {
        return fragment;
    }

    /** Fragment offset in bytes (the wire holds 8-byte units in the top 13 bits). */
    public int fragmentOffset() {
        return fragmentOffset;
    }

    public boolean moreFragments() {
        return moreFragments;
    }

    public int fragmentId() {
        return fragmentId;
    }

    /**
     * Bytes of the original packet's fragmentable part this fragment carries: everything
     * after the fragment header to the end of the payload (RFC 8200 4.5). 0 without one.
     */
    public int fragmentDataLength() {
        return fragment ? HEADER_LEN + payloadLength() - fragmentHeaderEnd : 0;
    }

    /**
     * The payload length the reassembled packet would have: the unfragmentable extension
     * headers before the fragment header, plus this fragment's offset and data. RFC 8200 4.5
     * discards a fragment for which it exceeds 65535.
     */
    public int reassembledPayloadLength() {
        return fragment ? fragmentHeaderEnd - FRAGMENT_HEADER_LEN - HEADER_LEN + fragmentOffset + fragmentDataLength() : 0;
    }

    /** True for ff00::/8. */
    public static boolean isMulticast(long hi) {
        return hi >>> 56 == 0xFF;
    }

    /** True for fe80::/10. */
    public static boolean isLinkLocal(long hi) {
        return (hi >>> 54) == (0xFE80L >>> 6);
    }

    /** True for :: . */
    public static boolean isUnspecified(long hi, long lo) {
        return hi == 0 && lo == 0;
    }

    /** The high half of the solicited-node multicast group ff02::1:ffXX:XXXX (RFC 4291 2.7.1). */
    public static final long SOLICITED_NODE_HI = 0xFF02_0000_0000_0000L;

    /** The low half of the solicited-node multicast group of an address whose low half is {@code lo}. */
    public static long solicitedNodeLo(long lo) {
        return 0x0000_0001_FF00_0000L | lo & 0xFF_FFFFL;
    }

    /** The multicast MAC 33:33:xx:xx:xx:xx of an IPv6 multicast group (RFC 2464 section 7), as a long. */
    public static long multicastMac(long groupLo) {
        return 0x3333_0000_0000L | groupLo & 0xFFFF_FFFFL;
    }
}
