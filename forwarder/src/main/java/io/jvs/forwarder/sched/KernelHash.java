package io.jvs.forwarder.sched;

/**
 * The kernel hash functions IPVS schedulers use, bit for bit, so that a service moved from
 * kernel IPVS to jvs maps the same client or destination to the same bucket.
 *
 * <ul>
 *   <li>{@link #hash32}: include/linux/hash.h {@code hash_32(val, bits)} =
 *       {@code (u32)(val * GOLDEN_RATIO_32) >> (32 - bits)}, GOLDEN_RATIO_32 = 0x61C88647
 *       (dh, sh).</li>
 *   <li>{@link #hsiphash}: lib/siphash.c {@code hsiphash()} of one u32 as 64-bit kernels compute
 *       it: there "HalfSipHash-1-3" is SipHash-1-3 over 64-bit lanes with the two
 *       {@code unsigned long} key words, truncated to u32 (mh). The u32 is read little-endian
 *       from memory, i.e. it is simply the value.</li>
 * </ul>
 * Pure functions, no allocation.
 */
final class KernelHash {
    static final int GOLDEN_RATIO_32 = 0x61C88647;

    private static final long C0 = 0x736f6d6570736575L;
    private static final long C1 = 0x646f72616e646f6dL;
    private static final long C2 = 0x6c7967656e657261L;
    private static final long C3 = 0x7465646279746573L;

    private KernelHash() {
    }

    /** hash_32(val, bits) for 1 &lt;= bits &lt;= 32: the top {@code bits} bits of val * GOLDEN_RATIO_32. */
    static int hash32(int val, int bits) {
        return (val * GOLDEN_RATIO_32) >>> (32 - bits);
    }

    /** hsiphash(&amp;v, sizeof(u32), key) on a 64-bit kernel; the u32 result as a Java int. */
    static int hsiphash(int v, long key0, long key1) {
        long v0 = C0 ^ key0;
        long v1 = C1 ^ key1;
        long v2 = C2 ^ key0;
        long v3 = C3 ^ key1;
        // HPREAMBLE(4): b = len << 56; the 4 leftover bytes: b |= le32_to_cpup(data)
        long b = (4L << 56) | (v & 0xffffffffL);
        // HPOSTAMBLE: v3 ^= b; one compression round; v0 ^= b; v2 ^= 0xff; three more rounds
        v3 ^= b;
        for (int round = 0; round < 4; round++) {
            if (round == 1) {
                v0 ^= b;
                v2 ^= 0xff;
            }
            // SIPROUND (include/linux/siphash.h SIPHASH_PERMUTATION)
            v0 += v1; v1 = Long.rotateLeft(v1, 13); v1 ^= v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17); v1 ^= v2; v2 = Long.rotateLeft(v2, 32);
        }
        return (int) ((v0 ^ v1) ^ (v2 ^ v3));
    }

    /** gcd of a, b &gt;= 0. */
    static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
