package io.jvs.packet;

import java.lang.foreign.MemorySegment;

/**
 * Flyweight over an ICMPv6 message (RFC 4443) and the two Neighbor Discovery
 * messages a load balancer answers and sends (RFC 4861 sections 4.3, 4.4).
 *
 * <pre>
 *  0  u8 type   1  u8 code   2  u16 checksum (over the IPv6 pseudo-header and the message)
 *  4  u32 type-specific: echo id(16) | seq(16); Packet Too Big MTU; Parameter Problem pointer;
 *         NA flags R(0x80) S(0x40) O(0x20) in byte 4; reserved in an NS
 *  8  NS/NA: target address (16 bytes)    24 NS/NA: options, each type(8) | length(8, in 8-byte units) | data
 *  8  errors: as much of the offending packet as fits in the minimum MTU
 * </pre>
 *
 * <p>Unlike ICMPv4 the checksum covers a pseudo-header, so rewriting an address of
 * the IPv6 header changes it (see {@link Checksum#update128}). Network byte order;
 * {@link #wrap} only records the position and nothing allocates.
 */
public final class Icmpv6Header extends Flyweight {
    public static final int HEADER_LEN = 8;
    public static final int CHECKSUM_OFFSET = 2;

    public static final int TYPE_DEST_UNREACH = 1;
    public static final int TYPE_PACKET_TOO_BIG = 2;
    public static final int TYPE_TIME_EXCEEDED = 3;
    public static final int TYPE_PARAM_PROBLEM = 4;
    public static final int TYPE_ECHO_REQUEST = 128;
    public static final int TYPE_ECHO_REPLY = 129;
    public static final int TYPE_ROUTER_SOLICITATION = 133;
    public static final int TYPE_ROUTER_ADVERTISEMENT = 134;
    public static final int TYPE_NEIGHBOR_SOLICITATION = 135;
    public static final int TYPE_NEIGHBOR_ADVERTISEMENT = 136;

    /** Codes of {@link #TYPE_DEST_UNREACH}. */
    public static final int CODE_NO_ROUTE = 0;
    public static final int CODE_ADMIN_PROHIBITED = 1;
    public static final int CODE_ADDR_UNREACH = 3;
    public static final int CODE_PORT_UNREACH = 4;

    /** The IPv6 minimum link MTU: an error message quotes at most what keeps it within this (RFC 4443 2.4(c)). */
    public static final int MIN_MTU = 1280;

    /** Length of an NS or NA before its options. */
    public static final int NEIGHBOR_MESSAGE_LEN = 24;
    public static final int TARGET_OFFSET = 8;

    /** Neighbor Advertisement flags, in the byte at offset 4. */
    public static final int NA_FLAG_ROUTER = 0x80;
    public static final int NA_FLAG_SOLICITED = 0x40;
    public static final int NA_FLAG_OVERRIDE = 0x20;

    /** NDP option types (RFC 4861 4.6). */
    public static final int OPTION_SOURCE_LINK_ADDRESS = 1;
    public static final int OPTION_TARGET_LINK_ADDRESS = 2;
    /** Length of a link-layer address option for Ethernet: type, length 1, six bytes of MAC. */
    public static final int LINK_ADDRESS_OPTION_LEN = 8;

    public Icmpv6Header wrap(MemorySegment seg, long off) {
        bind(seg, off);
        return this;
    }

    public int type() {
        return Bytes.u8(seg, off);
    }

    public Icmpv6Header setType(int v) {
        Bytes.u8(seg, off, v);
        return this;
    }

    public int code() {
        return Bytes.u8(seg, off + 1);
    }

    public Icmpv6Header setCode(int v) {
        Bytes.u8(seg, off + 1, v);
        return this;
    }

    public int checksum() {
        return Bytes.u16(seg, off + CHECKSUM_OFFSET);
    }

    public Icmpv6Header setChecksum(int v) {
        Bytes.u16(seg, off + CHECKSUM_OFFSET, v);
        return this;
    }

    /** The 32 bits after the checksum, raw (MTU, pointer, id|seq, NA flags|reserved). */
    public int body() {
        return Bytes.i32(seg, off + 4);
    }

    public Icmpv6Header setBody(int v) {
        Bytes.i32(seg, off + 4, v);
        return this;
    }

    public int echoId() {
        return Bytes.u16(seg, off + 4);
    }

    public int echoSeq() {
        return Bytes.u16(seg, off + 6);
    }

    /** The MTU of a Packet Too Big message (32 bits on the wire; real MTUs fit an int). */
    public int mtu() {
        return Bytes.i32(seg, off + 4);
    }

    public Icmpv6Header setMtu(int v) {
        Bytes.i32(seg, off + 4, v);
        return this;
    }

    /** NA flags (R, S, O) as the byte at offset 4. */
    public int advertisementFlags() {
        return Bytes.u8(seg, off + 4);
    }

    public long targetHi() {
        return seg.get(Bytes.BE64, off + TARGET_OFFSET);
    }

    public long targetLo() {
        return seg.get(Bytes.BE64, off + TARGET_OFFSET + 8);
    }

    public Icmpv6Header setTarget(long hi, long lo) {
        seg.set(Bytes.BE64, off + TARGET_OFFSET, hi);
        seg.set(Bytes.BE64, off + TARGET_OFFSET + 8, lo);
        return this;
    }

    /** True for the error types (0..127: RFC 4443 2.1), whose body quotes the offending packet. */
    public static boolean isError(int type) {
        return type < 128;
    }

    /**
     * The RFC 4861 receive checks of an NS or NA of {@code icmpLen} bytes carried in
     * {@code ip} (for its hop limit, source and destination). Options are walked only
     * for their lengths; a caller then reads the one it needs with {@link #linkAddressOption}.
     */
    public NdpCheck checkNeighborMessage(Ipv6Header ip, int icmpLen) {
        // The length first: nothing of a message shorter than an NS/NA is read.
        if (icmpLen < NEIGHBOR_MESSAGE_LEN) {
            return NdpCheck.TOO_SHORT;
        }
        int type = type();
        if (type != TYPE_NEIGHBOR_SOLICITATION && type != TYPE_NEIGHBOR_ADVERTISEMENT) {
            return NdpCheck.NOT_NEIGHBOR_MESSAGE;
        }
        if (ip.hopLimit() != 255) {
            return NdpCheck.HOP_LIMIT_NOT_255;
        }
        if (code() != 0) {
            return NdpCheck.BAD_CODE;
        }
        if (Ipv6Header.isMulticast(targetHi())) {
            return NdpCheck.MULTICAST_TARGET;
        }
        int pos = NEIGHBOR_MESSAGE_LEN;
        boolean sourceLink = false;
        while (pos < icmpLen) {
            if (pos + 2 > icmpLen) {
                return NdpCheck.BAD_OPTION_LENGTH;
            }
            int len = Bytes.u8(seg, off + pos + 1) << 3;
            if (len == 0 || pos + len > icmpLen) {
                return NdpCheck.BAD_OPTION_LENGTH;
            }
            sourceLink |= Bytes.u8(seg, off + pos) == OPTION_SOURCE_LINK_ADDRESS;
            pos += len;
        }
        if (type == TYPE_NEIGHBOR_SOLICITATION && Ipv6Header.isUnspecified(ip.srcHi(), ip.srcLo())) {
            if (ip.dstHi() != Ipv6Header.SOLICITED_NODE_HI || (ip.dstLo() & 0xFFFF_FFFF_FF00_0000L) != 0x0000_0001_FF00_0000L) {
                return NdpCheck.DAD_NOT_TO_SOLICITED_NODE;
            }
            if (sourceLink) {
                return NdpCheck.DAD_WITH_SOURCE_LINK_ADDRESS;
            }
        }
        if (type == TYPE_NEIGHBOR_ADVERTISEMENT && (advertisementFlags() & NA_FLAG_SOLICITED) != 0
                && Ipv6Header.isMulticast(ip.dstHi())) {
            return NdpCheck.SOLICITED_TO_MULTICAST;
        }
        return NdpCheck.OK;
    }

    /**
     * The Ethernet address in the first option of {@code optionType} (source or target
     * link-layer address) of an NS or NA of {@code icmpLen} bytes, as the low 48 bits of
     * a long; -1 when there is none, or when it is not 8 bytes long (not Ethernet's).
     * The message must have passed {@link #checkNeighborMessage}.
     */
    public long linkAddressOption(int optionType, int icmpLen) {
        int pos = NEIGHBOR_MESSAGE_LEN;
        while (pos + 2 <= icmpLen) {
            int len = Bytes.u8(seg, off + pos + 1) << 3;
            if (len == 0 || pos + len > icmpLen) {
                return -1;
            }
            if (Bytes.u8(seg, off + pos) == optionType) {
                return len == LINK_ADDRESS_OPTION_LEN ? Bytes.mac(seg, off + pos + 2) : -1;
            }
            pos += len;
        }
        return -1;
    }

    /**
     * Writes a Neighbor Advertisement for {@code target} with {@code flags} and a target
     * link-layer address option carrying {@code mac}: 32 bytes from this view's offset.
     * The checksum is left 0; the caller stores {@link Checksum#l4v6} once the IPv6
     * header around it is written.
     */
    public Icmpv6Header writeNeighborAdvertisement(long targetHi, long targetLo, int flags, long mac) {
        Bytes.i32(seg, off, TYPE_NEIGHBOR_ADVERTISEMENT << 24);
        Bytes.i32(seg, off + 4, (flags & 0xE0) << 24);
        setTarget(targetHi, targetLo);
        Bytes.u8(seg, off + NEIGHBOR_MESSAGE_LEN, OPTION_TARGET_LINK_ADDRESS);
        Bytes.u8(seg, off + NEIGHBOR_MESSAGE_LEN + 1, 1);
        Bytes.mac(seg, off + NEIGHBOR_MESSAGE_LEN + 2, mac);
        return this;
    }

    /**
     * Writes a Neighbor Solicitation for {@code target} with a source link-layer address
     * option carrying {@code mac}: 32 bytes, checksum left 0 as for {@link #writeNeighborAdvertisement}.
     */
    public Icmpv6Header writeNeighborSolicitation(long targetHi, long targetLo, long mac) {
        Bytes.i32(seg, off, TYPE_NEIGHBOR_SOLICITATION << 24);
        Bytes.i32(seg, off + 4, 0);
        setTarget(targetHi, targetLo);
        Bytes.u8(seg, off + NEIGHBOR_MESSAGE_LEN, OPTION_SOURCE_LINK_ADDRESS);
        Bytes.u8(seg, off + NEIGHBOR_MESSAGE_LEN + 1, 1);
        Bytes.mac(seg, off + NEIGHBOR_MESSAGE_LEN + 2, mac);
        return this;
    }
}
