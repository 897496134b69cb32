package io.jvs.forwarder.sched;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Golden values computed by the kernel's own macros: lib/siphash.c's 64-bit HPREAMBLE /
 * HPOSTAMBLE / SIPHASH_PERMUTATION and include/linux/hash.h's hash_32, pasted into a C file and
 * compiled with gcc on x86_64 (hsiphash(&amp;v, 4, key) with the mh keys of generate_hash_secret).
 */
class KernelHashTest {

    @Test
    void hsiphashMatchesTheKernelMacros() {
        int[][] vectors = {
                // v, hsiphash with hash1 {2654435761, 2654435761}, with hash2 {2654446892, 2654446892}
                {0x00000000, 0x1d5a77c2, 0xf882433f},
                {0x00000001, 0x16ec66b2, 0x8210aad1},
                {0x0a00000b, 0x77b85f9d, 0x2f64ec9a},
                {0x0a00005b, 0x4bc85788, 0x65b4e270},
                {0x0a000102, 0xeb09ef46, 0x10b767d6},
                {0xffffffff, 0x22c5d719, 0xf75a0f5d},
                {0xc0a801bc, 0x27aee839, 0x7659d586},
        };
        for (int[] v : vectors) {
            assertEquals(v[1], KernelHash.hsiphash(v[0], MaglevHashingScheduler.HASH1_KEY,
                    MaglevHashingScheduler.HASH1_KEY), Integer.toHexString(v[0]));
            assertEquals(v[2], KernelHash.hsiphash(v[0], MaglevHashingScheduler.HASH2_KEY,
                    MaglevHashingScheduler.HASH2_KEY), Integer.toHexString(v[0]));
        }
    }

    @Test
    void hash32IsTheTopBitsOfTheGoldenRatioProduct() {
        assertEquals(82, KernelHash.hash32(0x0a000102, 8));
        assertEquals(192, KernelHash.hash32(0xc0a80001, 8));
        assertEquals(94, KernelHash.hash32(12345, 8));
        assertEquals(0, KernelHash.hash32(0, 8));
        assertEquals((int) ((0x0a000102L * 0x61C88647L & 0xffffffffL) >>> 22), KernelHash.hash32(0x0a000102, 10));
    }
}
