package io.jvs.forwarder.vrrp;

import io.jvs.packet.Checksum;

import java.util.Arrays;

/**
 * The VRRP advertisement, versions 2 (RFC 3768 section 5.1) and 3 (RFC 5798 section 5.1),
 * IPv4 only. Runs on the VRRP thread (a few packets a second), not on the data path, so it
 * works on plain byte arrays.
 *
 * <pre>
 *  v2:  |ver 2|type 1| VRID | priority | count |  auth type | adver int (s) |  checksum  |
 *       | IPv4 address 1 ... count | authentication data (8 bytes) |
 *  v3:  |ver 3|type 1| VRID | priority | count | rsvd 4 bits | max adver int (12 bits, cs) | checksum |
 *       | IPv4 address 1 ... count |
 * </pre>
 *
 * v2's checksum covers the VRRP message; v3's also the IPv4 pseudo-header (source,
 * destination, zero, protocol 112, VRRP length), as keepalived computes it.
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

    private VrrpPacket() {
    }

    /** A decoded advertisement; {@code advertInt} in centiseconds for both versions. */
    public record Advert(int version, int vrid, int priority, int advertIntCentis, int[] addrs, int authType,
                         byte[] authData, int srcAddr) {
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
     * the checks that need no instance: length, TTL 255, version, type, checksum.
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
        if (ttl != TTL) {
            throw new Malformed(Drop.TTL, "TTL " + ttl + " (must be 255)");
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
