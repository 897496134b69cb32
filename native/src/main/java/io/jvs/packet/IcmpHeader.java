package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over an ICMP header (RFC 792, 8 bytes); for errors the offending
 * datagram's IP header and first 8 bytes follow at {@link #HEADER_LEN}.
 *
 * <pre>
 *  0  u8 type   1  u8 code   2  u16 checksum
 *  4  u32 rest of header: echo id(16) | seq(16); or unused(16) | next-hop MTU(16)
 *     for destination unreachable / fragmentation needed (RFC 1191)
 * </pre>
 *
 * <p>Invariants: the ICMP checksum covers only the ICMP message (no
 * pseudo-header), so address rewrites leave it alone; network byte order;
 * {@link #wrap} only records the position and nothing allocates.
 */
public final class IcmpHeader extends Flyweight {
    public static final int HEADER_LEN = 8;
    public static final int CHECKSUM_OFFSET = 2;

    public static final int TYPE_ECHO_REPLY = 0;
    public static final int TYPE_DEST_UNREACH = 3;
    public static final int TYPE_ECHO_REQUEST = 8;
    public static final int TYPE_TIME_EXCEEDED = 11;

    /** Codes of {@link #TYPE_DEST_UNREACH}. */
    public static final int CODE_NET_UNREACH = 0;
    public static final int CODE_HOST_UNREACH = 1;
    public static final int CODE_PROTO_UNREACH = 2;
    public static final int CODE_PORT_UNREACH = 3;
    /** Fragmentation needed and DF set; the next-hop MTU is in {@link #nextHopMtu()}. */
    public static final int CODE_FRAG_NEEDED = 4;

    /** Codes of {@link #TYPE_TIME_EXCEEDED}. */
    public static final int CODE_TTL_EXCEEDED = 0;
    public static final int CODE_FRAG_REASSEMBLY_EXCEEDED = 1;

    public IcmpHeader wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public int type() {
        return Bytes.u8(seg, off);
    }

    public IcmpHeader setType(int v) {
        Bytes.u8(seg, off, v);
        return this;
    }

    public int code() {
        return Bytes.u8(seg, off + 1);
    }

    public IcmpHeader setCode(int v) {
        Bytes.u8(seg, off + 1, v);
        return this;
    }

    public int checksum() {
        return Bytes.u16(seg, off + CHECKSUM_OFFSET);
    }

    public IcmpHeader setChecksum(int v) {
        Bytes.u16(seg, off + CHECKSUM_OFFSET, v);
        return this;
    }

    /** The 32 bits after the checksum, raw. */
    public int restOfHeader() {
        return Bytes.i32(seg, off + 4);
    }

    public IcmpHeader setRestOfHeader(int v) {
        Bytes.i32(seg, off + 4, v);
        return this;
    }

    /** Echo request/reply identifier. */
    public int echoId() {
        return Bytes.u16(seg, off + 4);
    }

    public IcmpHeader setEchoId(int v) {
        Bytes.u16(seg, off + 4, v);
        return this;
    }

    /** Echo request/reply sequence number. */
    public int echoSeq() {
        return Bytes.u16(seg, off + 6);
    }

    public IcmpHeader setEchoSeq(int v) {
        Bytes.u16(seg, off + 6, v);
        return this;
    }

    /** Next-hop MTU of a fragmentation-needed message (type 3 code 4). */
    public int nextHopMtu() {
        return Bytes.u16(seg, off + 6);
    }

    public IcmpHeader setNextHopMtu(int v) {
        Bytes.u16(seg, off + 6, v);
        return this;
    }

    /** True for the error types that quote an offending datagram (3, 11; also 4, 5, 12). */
    public static boolean isError(int type) {
        return type == TYPE_DEST_UNREACH || type == TYPE_TIME_EXCEEDED
                || type == 4 || type == 5 || type == 12;
    }
}
