package io.jvs.forwarder.vrrp;

import io.jvs.packet.Checksum;

import java.util.Arrays;

/**
 * The VRRP advertisement, versions 2 (RFC 3768 section 5.1) and 3 (RFC 5798 section 5.1)
 * over IPv4, and version 3 over IPv6 (RFC 5798: IPv6 has no VRRPv2). Runs on the VRRP thread (a few packets a second), not on the data path, so it
 * works on plain byte arrays.
 *
 * <pre>
 *  v2:  |ver 2|type 1| VRID | priority | count |  auth type | adver int (s) |  checksum  |
 *       | IPv4 address 1 ... count | authentication data (8 bytes) |
 *  v3:  |ver 3|type 1| VRID | priority | count | rsvd 4 bits | max adver int (12 bits, cs) | checksum |
 *       | IPv4 address 1 ... count |
 *  v3 over IPv6: the same header, then | IPv6 address 1 ... count | (16 bytes each)
 * </pre>
 *
 * v2's checksum covers the VRRP message; v3's also the pseudo-header: IPv4's (source,
 * destination, zero, protocol 112, VRRP length), as keepalived computes it, or IPv6's (RFC 8200
 * section 8.1: source, destination, 32-bit upper-layer length, three zero bytes, next header 112).
 * Over IPv6 the raw socket hands over the VRRP message alone: the source comes from recvmsg's
 * address, the destination and hop limit from its IPV6_PKTINFO and IPV6_HOPLIMIT ancillary data.
 */
public final class VrrpPacket {
    public static final int IPPROTO_VRRP = 112;
    /** 224.0.0.18 */
    public static final int MULTICAST_GROUP = 0xe0000012;
    public static final int TYPE_ADVERTISEMENT = 1;
    public static final int AUTH_NONE = 0;
    public static final int AUTH_PASS = 1;
    public static final int AUTH_DATA_LEN = 8;
    public static final int HEADER_LEN = 8;
    public static final int TTL = 255;
    /** ff02::12, the VRRP group for IPv6 (RFC 5798 section 5.1.2.2): high 64 bits. */
    public static final long MULTICAST_GROUP6_HI = 0xff02_0000_0000_0000L;
    /** ff02::12: low 64 bits. */
    public static final long MULTICAST_GROUP6_LO = 0x12L;

    private VrrpPacket() {
    }

    /**
     * A decoded advertisement; {@code advertInt} in centiseconds for both versions. The source as
     * (srcHi, srcLo) for both families (IPv4: 0 and its 32 bits, unsigned), the unsigned 128-bit
     * number RFC 5798 compares between equal priorities; {@code addrs6} (hi, lo) pairs over IPv6
     * ({@code addrs} empty), empty over IPv4.
     */
    public record Advert(int version, int vrid, int priority, int advertIntCentis, int[] addrs, int authType,
                         byte[] authData, int srcAddr, long srcHi, long srcLo, long[] addrs6) {
        /** An advertisement received over IPv4. */
        public Advert(int version, int vrid, int priority, int advertIntCentis, int[] addrs, int authType,
                      byte[] authData, int srcAddr) {
            this(version, vrid, priority, advertIntCentis, addrs, authType, authData, srcAddr, 0,
                    srcAddr & 0xffff_ffffL, new long[0]);
        }
    }

    /** Why a received packet was not taken (the label of jvs_vrrp_adverts_dropped_total). */
    public enum Drop {
        TRUNCATED("truncated"),
        TTL("ttl"),
        VERSION("version"),
        TYPE("type"),
        CHECKSUM("checksum"),
        FOREIGN_VRID("foreign_vrid"),
        AUTH("auth"),
        ADDRESS_COUNT("address_count"),
        /** IPv6: an address of the instance missing from the advertisement's list. */
        ADDRESS_LIST("address_list"),
        ADVERT_INTERVAL("advert_interval"),
        PEER("peer");

        private final String label;

        Drop(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Thrown by {@link #decode} for a packet that is not a well-formed advertisement. */
    public static final class Malformed extends Exception {
        private final Drop reason;

        Malformed(Drop reason, String detail) {
            super(detail, null, false, false);
            this.reason = reason;
        }

        public Drop reason() {
            return reason;
        }
    }

    /**
     * The VRRP message (no IP header).
     *
     * @param advertIntCentis the advertisement interval in centiseconds (v2 sends whole seconds)
     * @param authPass        v2 auth_type PASS's password (at most 8 bytes used), or null for none
     * @param src             source address (v3's pseudo-header)
     * @param dst             destination address (v3's pseudo-header)
     */
    public static byte[] encode(int version, int vrid, int priority, int advertIntCentis, int[] addrs,
                                String authPass, int src, int dst) {
        int len = HEADER_LEN + 4 * addrs.length + (version == 2 ? AUTH_DATA_LEN : 0);
        byte[] b = new byte[len];
        b[0] = (byte) ((version << 4) | TYPE_ADVERTISEMENT);
        b[1] = (byte) vrid;
        b[2] = (byte) priority;
        b[3] = (byte) addrs.length;
        if (version == 2) {
            b[4] = (byte) (authPass != null ? AUTH_PASS : AUTH_NONE);
            b[5] = (byte) (advertIntCentis / 100);
        } else {
            b[4] = (byte) ((advertIntCentis >> 8) & 0x0f);
            b[5] = (byte) advertIntCentis;
        }
        for (int i = 0; i < addrs.length; i++) {
            putInt(b, HEADER_LEN + 4 * i, addrs[i]);
        }
        if (version == 2 && authPass != null) {
            byte[] p = authPass.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(p, 0, b, HEADER_LEN + 4 * addrs.length, Math.min(AUTH_DATA_LEN, p.length));
        }
        int sum = checksum(version, b, 0, len, src, dst);
        b[6] = (byte) (sum >> 8);
        b[7] = (byte) sum;
        return b;
    }

    /**
     * Decodes an IPv4 packet as received on a raw socket (IP header included) and makes
     * the checks that need no instance: length, TTL, version, type, checksum. The TTL must be
     * 255 on a multicast advertisement only, as keepalived checks it: it skips the check on
     * unicast ones (unicast_peer), and sends its IPv6 unicast ones with the kernel's default hop
     * limit (64); a unicast advertisement is taken from the configured peers only.
     */
    public static Advert decode(byte[] p, int len, int expectVersion) throws Malformed {
        if (len < 20 || (p[0] >> 4 & 0xf) != 4) {
            throw new Malformed(Drop.TRUNCATED, "not an IPv4 packet");
        }
        int ihl = (p[0] & 0xf) * 4;
        int total = (p[2] & 0xff) << 8 | (p[3] & 0xff);
        if (ihl < 20 || total > len || total < ihl + HEADER_LEN) {
            throw new Malformed(Drop.TRUNCATED, "shorter than a VRRP header");
        }
        int ttl = p[8] & 0xff;
        int src = getInt(p, 12);
        int dst = getInt(p, 16);
        if (ttl != TTL && dst >>> 28 == 0xe) {
            throw new Malformed(Drop.TTL, "TTL " + ttl + " (must be 255 to the multicast group)");
        }
        int o = ihl;
        int vlen = total - ihl;
        int version = (p[o] >> 4) & 0xf;
        if (version != expectVersion) {
            throw new Malformed(Drop.VERSION, "version " + version + " (expected " + expectVersion + ")");
        }
        if ((p[o] & 0xf) != TYPE_ADVERTISEMENT) {
            throw new Malformed(Drop.TYPE, "type " + (p[o] & 0xf));
        }
        int count = p[o + 3] & 0xff;
        int need = HEADER_LEN + 4 * count + (version == 2 ? AUTH_DATA_LEN : 0);
        if (vlen < need) {
            throw new Malformed(Drop.TRUNCATED, "count " + count + " needs " + need + " bytes, got " + vlen);
        }
        if (checksum(version, p, o, vlen, src, dst) != 0) {
            throw new Malformed(Drop.CHECKSUM, "bad checksum");
        }
        int[] addrs = new int[count];
        for (int i = 0; i < count; i++) {
            addrs[i] = getInt(p, o + HEADER_LEN + 4 * i);
        }
        int authType = version == 2 ? p[o + 4] & 0xff : AUTH_NONE;
        int intervalCentis = version == 2 ? (p[o + 5] & 0xff) * 100 : ((p[o + 4] & 0x0f) << 8) | (p[o + 5] & 0xff);
        byte[] auth = version == 2 ? Arrays.copyOfRange(p, o + HEADER_LEN + 4 * count,
                o + HEADER_LEN + 4 * count + AUTH_DATA_LEN) : new byte[0];
        return new Advert(version, p[o + 1] & 0xff, p[o + 2] & 0xff, intervalCentis, addrs, authType, auth, src);
    }

    /**
     * A VRRPv3 message for IPv6 (no IP header: the kernel adds it), its checksum over the IPv6
     * pseudo-header from src to dst.
     *
     * @param addrs6 the instance's IPv6 addresses as (hi, lo) pairs
     */
    public static byte[] encode6(int vrid, int priority, int advertIntCentis, long[] addrs6,
                                 long srcHi, long srcLo, long dstHi, long dstLo) {
        int count = addrs6.length / 2;
        int len = HEADER_LEN + 16 * count;
        byte[] b = new byte[len];
        b[0] = (byte) ((3 << 4) | TYPE_ADVERTISEMENT);
        b[1] = (byte) vrid;
        b[2] = (byte) priority;
        b[3] = (byte) count;
        b[4] = (byte) ((advertIntCentis >> 8) & 0x0f);
        b[5] = (byte) advertIntCentis;
        for (int i = 0; i < count; i++) {
            putLong(b, HEADER_LEN + 16 * i, addrs6[2 * i]);
            putLong(b, HEADER_LEN + 16 * i + 8, addrs6[2 * i + 1]);
        }
        int sum = checksum6(b, 0, len, srcHi, srcLo, dstHi, dstLo);
        b[6] = (byte) (sum >> 8);
        b[7] = (byte) sum;
        return b;
    }

    /**
     * Decodes a VRRP message received over IPv6 (the raw socket's payload, no IP header) and
     * makes the checks that need no instance: length, hop limit (255 to ff02::12, any to a
     * unicast address, as in {@link #decode}), version 3, type, checksum over the IPv6 pseudo-header.
     */
    public static Advert decode6(byte[] p, int len, int hopLimit, long srcHi, long srcLo, long dstHi, long dstLo)
            throws Malformed {
        if (len < HEADER_LEN) {
            throw new Malformed(Drop.TRUNCATED, "shorter than a VRRP header");
        }
        if (hopLimit != TTL && dstHi >>> 56 == 0xff) {
            throw new Malformed(Drop.TTL, "hop limit " + hopLimit + " (must be 255 to the multicast group)");
        }
        int version = (p[0] >> 4) & 0xf;
        if (version != 3) {
            throw new Malformed(Drop.VERSION, "version " + version + " (IPv6 carries VRRPv3 only)");
        }
        if ((p[0] & 0xf) != TYPE_ADVERTISEMENT) {
            throw new Malformed(Drop.TYPE, "type " + (p[0] & 0xf));
        }
        int count = p[3] & 0xff;
        int need = HEADER_LEN + 16 * count;
        if (len < need) {
            throw new Malformed(Drop.TRUNCATED, "count " + count + " needs " + need + " bytes, got " + len);
        }
        if (checksum6(p, 0, len, srcHi, srcLo, dstHi, dstLo) != 0) {
            throw new Malformed(Drop.CHECKSUM, "bad checksum");
        }
        long[] addrs6 = new long[2 * count];
        for (int i = 0; i < count; i++) {
            addrs6[2 * i] = getLong(p, HEADER_LEN + 16 * i);
            addrs6[2 * i + 1] = getLong(p, HEADER_LEN + 16 * i + 8);
        }
        int intervalCentis = ((p[4] & 0x0f) << 8) | (p[5] & 0xff);
        return new Advert(3, p[1] & 0xff, p[2] & 0xff, intervalCentis, new int[0], AUTH_NONE, new byte[0], 0,
                srcHi, srcLo, addrs6);
    }

    /**
     * The checks that need the instance the advertisement's VRID names (keepalived's
     * vrrp_check_packet): authentication (v2: the same auth type, and PASS's password),
     * the address count, and in v2 the advertisement interval. Null: accepted.
     */
    public static Drop check(Advert a, VrrpConfig.Instance c) {
        if (a.version() == 2) {
            int want = c.authPass() != null ? AUTH_PASS : AUTH_NONE;
            if (a.authType() != want) {
                return Drop.AUTH;
            }
            if (want == AUTH_PASS) {
                byte[] p = new byte[AUTH_DATA_LEN];
                byte[] pass = c.authPass().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                System.arraycopy(pass, 0, p, 0, Math.min(AUTH_DATA_LEN, pass.length));
                if (!Arrays.equals(p, a.authData())) {
                    return Drop.AUTH;
                }
            }
        }
        if (c.ipv6()) {
            if (a.addrs6().length / 2 != c.virtual6().size()) {
                return Drop.ADDRESS_COUNT;
            }
            for (io.jvs.packet.Ipv6Address mine : c.virtual6()) {
                if (!contains6(a.addrs6(), mine.hi(), mine.lo())) {
                    return Drop.ADDRESS_LIST;
                }
            }
            return null;
        }
        if (a.addrs().length != c.addresses().size()) {
            return Drop.ADDRESS_COUNT;
        }
        if (a.version() == 2 && a.advertIntCentis() != c.advertIntCentis() / 100 * 100) {
            return Drop.ADVERT_INTERVAL;
        }
        return null;
    }

    /** The VRID of an IPv4 packet holding a VRRP header, or -1 when it is too short to hold one. */
    public static int peekVrid(byte[] p, int len) {
        if (len < 20) {
            return -1;
        }
        int ihl = (p[0] & 0xf) * 4;
        return ihl >= 20 && len >= ihl + HEADER_LEN ? p[ihl + 1] & 0xff : -1;
    }

    /** The one's-complement checksum as it is on the wire: 0 over a message whose checksum is right. */
    static int checksum(int version, byte[] b, int off, int len, int src, int dst) {
        long sum = 0;
        if (version == 3) {
            sum += (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + IPPROTO_VRRP + len;
        }
        sum += Checksum.sum(java.lang.foreign.MemorySegment.ofArray(b), off, len);
        return ~Checksum.fold(sum) & 0xffff;
    }

    /** The one's-complement checksum over the IPv6 pseudo-header and the message (0 when right). */
    static int checksum6(byte[] b, int off, int len, long srcHi, long srcLo, long dstHi, long dstLo) {
        long sum = words(srcHi) + words(srcLo) + words(dstHi) + words(dstLo) + len + IPPROTO_VRRP;
        sum += Checksum.sum(java.lang.foreign.MemorySegment.ofArray(b), off, len);
        return ~Checksum.fold(sum) & 0xffff;
    }

    private static long words(long v) {
        return (v >>> 48) + (v >>> 32 & 0xffff) + (v >>> 16 & 0xffff) + (v & 0xffff);
    }

    private static boolean contains6(long[] pairs, long hi, long lo) {
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            if (pairs[i] == hi && pairs[i + 1] == lo) {
                return true;
            }
        }
        return false;
    }

    static long getLong(byte[] b, int o) {
        return (long) getInt(b, o) << 32 | getInt(b, o + 4) & 0xffff_ffffL;
    }

    static void putLong(byte[] b, int o, long v) {
        putInt(b, o, (int) (v >>> 32));
        putInt(b, o + 4, (int) v);
    }

    static int getInt(byte[] b, int o) {
        return (b[o] & 0xff) << 24 | (b[o + 1] & 0xff) << 16 | (b[o + 2] & 0xff) << 8 | (b[o + 3] & 0xff);
    }

    static void putInt(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 24);
        b[o + 1] = (byte) (v >>> 16);
        b[o + 2] = (byte) (v >>> 8);
        b[o + 3] = (byte) v;
    }
}
