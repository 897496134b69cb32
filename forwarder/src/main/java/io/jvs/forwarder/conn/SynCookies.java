package io.jvs.forwarder.conn;

/**
 * SYN cookies for the SYN proxy, in the layout of Linux's syncookies.c and DPVS's
 * ip_vs_synproxy.c: the director's ISN towards the client carries, in 32 bits, a keyed hash of
 * the 4-tuple and the client's ISN, a minute counter (the time slice, top 8 bits) and 24 bits of
 * data hashed with that minute, so an ACK can be checked with nothing stored:
 *
 * <pre>
 *   cookie = H0(tuple) + clientIsn + (count &lt;&lt; 24) + ((H1(tuple, count) + data) &amp; 0xFFFFFF)
 * </pre>
 *
 * <p>The data field holds what the client's SYN offered, as DPVS lays it out: bits 12..15 the
 * index of its MSS in {@link #MSS_TABLE} (rounded down), 16..19 its window scale (15 = none), bit
 * 20 timestamps, bit 21 SACK; bits 0..11 and 22..23 are zero and the MSS index below 4, so a forged
 * acknowledgement passes the check with odds of 2/256 (minute) x 2^-12 x 1/4 x 1/4, about 1 in 8
 * million per guess.
 * A cookie is good in the minute it was made and the next ({@link #MAX_AGE}), as Linux's
 * MAX_SYNCOOKIE_AGE. The hashes H0/H1 are SplitMix64's finaliser over the tuple and a secret
 * 128-bit key (drawn at start, or derived from {@code --synproxy-key FILE} so that the directors of
 * a pair share it: {@link #keyFromSecret}); each is 32 bits of a 64-bit mix.
 *
 * <p>IPv6 ({@link #cookie6}, {@link #check6}): the same layout and data, the hashes over the
 * 128-bit addresses, as Linux's cookie_v6_init_sequence / DPVS's synproxy_cookie_ipv6_init_sequence
 * hash the whole {@code in6_addr}s where the IPv4 version hashes two words: the 64-bit mix takes
 * the key, then each half of the source and of the destination address in turn, then the ports and
 * the counter ({@link #hash6}).
 *
 * <p>Allocation-free and stateless but for the key; safe on any thread.
 */
public final class SynCookies {
    /** Bits of the cookie below the minute counter. */
    public static final int COOKIE_BITS = 24;
    public static final int COOKIE_MASK = (1 << COOKIE_BITS) - 1;
    /** Minutes a cookie stays good: the minute it was made and the next (Linux's MAX_SYNCOOKIE_AGE = 2). */
    public static final int MAX_AGE = 2;
    /** MSS values a cookie can carry (Linux's msstab since 3.10): the client's MSS is rounded down to one. */
    public static final int[] MSS_TABLE = {536, 1300, 1440, 1460};
    /** Window scale value meaning "the client offered none". */
    public static final int NO_WSCALE = 15;

    private static final int MSS_SHIFT = 12;
    private static final int WSCALE_SHIFT = 16;
    private static final int TS_BIT = 1 << 20;
    private static final int SACK_BIT = 1 << 21;
    /** Bits that are zero in every data value this class makes. */
    private static final int ZERO_BITS = 0xFFF | 0xC0_0000;

    private final long key0;
    private final long key1;

    public SynCookies(long key0, long key1) {
        this.key0 = key0;
        this.key1 = key1;
    }

    /** Shortest shared secret {@link #keyFromSecret} accepts: as many bytes as the key has. */
    public static final int MIN_SECRET_BYTES = 16;

    /**
     * The two key words derived from a shared secret ({@code --synproxy-key FILE}): the first 128
     * bits of its SHA-256, so any file of random bytes, hex or base64 text serves, and directors
     * given the same file make and accept the same cookies.
     *
     * @throws IllegalArgumentException when the secret is shorter than {@link #MIN_SECRET_BYTES}
     */
    public static long[] keyFromSecret(byte[] secret) {
        if (secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException(secret.length + " bytes; at least " + MIN_SECRET_BYTES + " needed");
        }
        try {
            java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(secret));
            return new long[] {h.getLong(), h.getLong()};
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /** The minute counter of a wall-clock time in milliseconds. */
    public static int count(long wallMillis) {
        return (int) (wallMillis / 60_000L);
    }

    /**
     * The data field for a SYN's options.
     *
     * @param mss    the client's MSS option, or 0 when it sent none (536 is assumed, RFC 879)
     * @param wscale the client's window scale, or -1 when it sent none
     */
    public static int encode(int mss, int wscale, boolean timestamps, boolean sack) {
        return mssIndex(mss == 0 ? MSS_TABLE[0] : mss) << MSS_SHIFT
                | (wscale < 0 ? NO_WSCALE : Math.min(wscale, 14)) << WSCALE_SHIFT
                | (timestamps ? TS_BIT : 0) | (sack ? SACK_BIT : 0);
    }

    /** Index of the largest table MSS not above {@code mss} (0 below the smallest). */
    public static int mssIndex(int mss) {
        int i = MSS_TABLE.length - 1;
        while (i > 0 && MSS_TABLE[i] > mss) {
            i--;
        }
        return i;
    }

    public static int mss(int data) {
        return MSS_TABLE[data >>> MSS_SHIFT & 0xF];
    }

    /** The client's window scale, or -1 when it offered none. */
    public static int wscale(int data) {
        int w = data >>> WSCALE_SHIFT & 0xF;
        return w == NO_WSCALE ? -1 : w;
    }

    public static boolean timestamps(int data) {
        return (data & TS_BIT) != 0;
    }

    public static boolean sack(int data) {
        return (data & SACK_BIT) != 0;
    }

    /** The cookie (the director's ISN) for a client SYN. Addresses host order, ports unsigned. */
    public int cookie(int saddr, int daddr, int sport, int dport, int clientIsn, int count, int data) {
        return compose(hash(saddr, daddr, sport, dport, 0, key0), hash(saddr, daddr, sport, dport, count, key1),
                clientIsn, count, data);
    }

    /** {@link #cookie} for an IPv6 client SYN: addresses as (high, low) 64-bit halves, network order. */
    public int cookie6(long sHi, long sLo, long dHi, long dLo, int sport, int dport, int clientIsn, int count,
                       int data) {
        return compose(hash6(sHi, sLo, dHi, dLo, sport, dport, 0, key0),
                hash6(sHi, sLo, dHi, dLo, sport, dport, count, key1), clientIsn, count, data);
    }

    private static int compose(int h0, int h1, int clientIsn, int count, int data) {
        return h0 + clientIsn + (count << COOKIE_BITS) + ((h1 + data) & COOKIE_MASK);
    }

    /**
     * The data field of {@code cookie} (the client's acknowledgement minus 1) if it is one this
     * director made for this tuple and client ISN (the client's sequence number minus 1) in the
     * minute {@code count} or the one before, else -1.
     */
    public int check(int cookie, int saddr, int daddr, int sport, int dport, int clientIsn, int count) {
        int c = cookie - (hash(saddr, daddr, sport, dport, 0, key0) + clientIsn);
        int diff = age(c, count);
        if (diff >= MAX_AGE) {
            return -1;
        }
        return valid((c - hash(saddr, daddr, sport, dport, count - diff, key1)) & COOKIE_MASK);
    }

    /** {@link #check} for an IPv6 client's ACK. */
    public int check6(int cookie, long sHi, long sLo, long dHi, long dLo, int sport, int dport, int clientIsn,
                      int count) {
        int c = cookie - (hash6(sHi, sLo, dHi, dLo, sport, dport, 0, key0) + clientIsn);
        int diff = age(c, count);
        if (diff >= MAX_AGE) {
            return -1;
        }
        return valid((c - hash6(sHi, sLo, dHi, dLo, sport, dport, count - diff, key1)) & COOKIE_MASK);
    }

    /** Minutes since the cookie's counter (its top 8 bits once H0 and the ISN are taken off), mod 256. */
    private static int age(int c, int count) {
        return (count - (c >>> COOKIE_BITS)) & (-1 >>> COOKIE_BITS);
    }

    /** The data field if it is one {@link #encode} makes, else -1. */
    private static int valid(int data) {
        if ((data & ZERO_BITS) != 0 || (data >>> MSS_SHIFT & 0xF) >= MSS_TABLE.length) {
            return -1;
        }
        return data;
    }

    /** 32 bits of a keyed mix of the tuple and the counter. */
    static int hash(int saddr, int daddr, int sport, int dport, int count, long key) {
        long h = mix64(key ^ ((long) saddr << 32 | (daddr & 0xFFFF_FFFFL)));
        h = mix64(h ^ ((long) ((sport & 0xFFFF) << 16 | (dport & 0xFFFF)) << 32 | (count & 0xFFFF_FFFFL)));
        return (int) (h >>> 32);
    }

    /** 32 bits of a keyed mix of an IPv6 tuple and the counter: the key, each address half, the ports and counter. */
    static int hash6(long sHi, long sLo, long dHi, long dLo, int sport, int dport, int count, long key) {
        long h = mix64(key ^ sHi);
        h = mix64(h ^ sLo);
        h = mix64(h ^ dHi);
        h = mix64(h ^ dLo);
        h = mix64(h ^ ((long) ((sport & 0xFFFF) << 16 | (dport & 0xFFFF)) << 32 | (count & 0xFFFF_FFFFL)));
        return (int) (h >>> 32);
    }

    /** SplitMix64's finaliser: every input bit reaches every output bit. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
