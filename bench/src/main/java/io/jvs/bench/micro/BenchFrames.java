package io.jvs.bench.micro;

/**
 * Hand-built Ethernet + IPv4 + TCP/UDP frames with correct checksums, the same way the forwarder's
 * pipeline tests build theirs (forwarder/src/test/.../pipeline/Frames.java): test classes are not
 * visible from this module, so the few helpers are repeated here.
 */
final class BenchFrames {
    static final int ETH = 14;

    private BenchFrames() {
    }

    static byte[] tcp(long srcMac, long dstMac, int src, int sport, int dst, int dport, int flags, int payload) {
        int total = 20 + 20 + payload;
        byte[] f = new byte[Math.max(60, ETH + total)];
        ethIp(f, srcMac, dstMac, src, dst, 6, 64, total);
        int t = ETH + 20;
        put16(f, t, sport);
        put16(f, t + 2, dport);
        put32(f, t + 4, 0x1000_0000 + sport);
        put32(f, t + 8, (flags & 0x10) != 0 ? 0x2000_0001 : 0);
        f[t + 12] = 0x50;
        f[t + 13] = (byte) flags;
        put16(f, t + 14, 65535);
        for (int i = 0; i < payload; i++) {
            f[t + 20 + i] = (byte) (i * 7 + 3);
        }
        fixChecksums(f);
        return f;
    }

    static byte[] udp(long srcMac, long dstMac, int src, int sport, int dst, int dport, int payload) {
        int total = 20 + 8 + payload;
        byte[] f = new byte[Math.max(60, ETH + total)];
        ethIp(f, srcMac, dstMac, src, dst, 17, 64, total);
        int u = ETH + 20;
        put16(f, u, sport);
        put16(f, u + 2, dport);
        put16(f, u + 4, 8 + payload);
        fixChecksums(f);
        return f;
    }

    private static void ethIp(byte[] f, long srcMac, long dstMac, int src, int dst, int proto, int ttl, int total) {
        putMac(f, 0, dstMac);
        putMac(f, 6, srcMac);
        put16(f, 12, 0x0800);
        f[ETH] = 0x45;
        put16(f, ETH + 2, total);
        put16(f, ETH + 4, 0x1234);
        put16(f, ETH + 6, 0x4000);
        f[ETH + 8] = (byte) ttl;
        f[ETH + 9] = (byte) proto;
        put32(f, ETH + 12, src);
        put32(f, ETH + 16, dst);
    }

    private static void fixChecksums(byte[] f) {
        int total = u16(f, ETH + 2);
        put16(f, ETH + 10, ~sum(f, ETH, 20, 0) & 0xFFFF);
        int proto = f[ETH + 9] & 0xFF;
        int l4 = ETH + 20;
        int len = total - 20;
        long acc = sum(f, ETH + 12, 8, 0) + proto + len;
        int c = ~sum(f, l4, len, acc) & 0xFFFF;
        if (proto == 17 && c == 0) {
            c = 0xFFFF;
        }
        put16(f, l4 + (proto == 6 ? 16 : 6), c);
    }

    private static int sum(byte[] b, int off, int len, long acc) {
        for (int i = 0; i < len; i += 2) {
            int hi = b[off + i] & 0xFF;
            int lo = i + 1 < len ? b[off + i + 1] & 0xFF : 0;
            acc += hi << 8 | lo;
        }
        while ((acc >>> 16) != 0) {
            acc = (acc & 0xFFFF) + (acc >>> 16);
        }
        return (int) acc;
    }

    private static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) << 8 | b[off + 1] & 0xFF;
    }

    private static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    private static void put32(byte[] b, int off, int v) {
        put16(b, off, v >>> 16);
        put16(b, off + 2, v);
    }

    private static void putMac(byte[] b, int off, long mac) {
        for (int i = 0; i < 6; i++) {
            b[off + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }
}
