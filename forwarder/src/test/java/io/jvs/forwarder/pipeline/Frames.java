package io.jvs.forwarder.pipeline;

import java.util.Arrays;

/**
 * Hand-built test frames (Ethernet + IPv4 + TCP/UDP, ARP) with a reference checksum of their own.
 * Public (through the forwarder's test-jar) for the bench module's packet-path benchmark, so that
 * there is one such builder.
 */
public final class Frames {
    public static final int ETH = 14;

    private Frames() {
    }

    static int sum(byte[] b, int off, int len, long acc) {
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

    static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void put32(byte[] b, int off, int v) {
        put16(b, off, v >>> 16);
        put16(b, off + 2, v);
    }

    static void putMac(byte[] b, int off, long mac) {
        for (int i = 0; i < 6; i++) {
            b[off + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }

    static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) << 8 | b[off + 1] & 0xFF;
    }

    static int i32(byte[] b, int off) {
        return u16(b, off) << 16 | u16(b, off + 2);
    }

    static long mac(byte[] b, int off) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = m << 8 | (b[off + i] & 0xFF);
        }
        return m;
    }

    /** The IPv4 header checksum computed afresh (field counted as zero). */
    static int ipChecksum(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        byte[] h = Arrays.copyOfRange(f, ETH, ETH + ihl);
        h[10] = 0;
        h[11] = 0;
        return ~sum(h, 0, ihl, 0) & 0xFFFF;
    }

    static boolean ipChecksumValid(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        return sum(f, ETH, ihl, 0) == 0xFFFF;
    }

    /** The L4 (TCP/UDP) checksum computed afresh over pseudo-header + segment. */
    static int l4Checksum(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        int total = u16(f, ETH + 2);
        int proto = f[ETH + 9] & 0xFF;
        int l4 = ETH + ihl;
        int len = total - ihl;
        byte[] seg = Arrays.copyOfRange(f, l4, l4 + len);
        int field = proto == 6 ? 16 : 6;
        seg[field] = 0;
        seg[field + 1] = 0;
        byte[] pseudo = new byte[12];
        System.arraycopy(f, ETH + 12, pseudo, 0, 8);
        pseudo[9] = (byte) proto;
        put16(pseudo, 10, len);
        int acc = sum(pseudo, 0, 12, 0);
        int c = ~sum(seg, 0, len, acc) & 0xFFFF;
        return proto == 17 && c == 0 ? 0xFFFF : c;
    }

    static int l4ChecksumField(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        int proto = f[ETH + 9] & 0xFF;
        return u16(f, ETH + ihl + (proto == 6 ? 16 : 6));
    }

    static void fixIpChecksum(byte[] f) {
        put16(f, ETH + 10, 0);
        put16(f, ETH + 10, ipChecksum(f));
    }

    static void fixL4Checksum(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        int proto = f[ETH + 9] & 0xFF;
        put16(f, ETH + ihl + (proto == 6 ? 16 : 6), l4Checksum(f));
    }

    /** A TCP/IPv4 frame with {@code payload} data bytes and correct checksums. */
    public static byte[] tcp(long srcMac, long dstMac, int src, int sport, int dst, int dport, int flags, int ttl,
                      int payload) {
        int total = 20 + 20 + payload;
        byte[] f = new byte[Math.max(60, ETH + total)];
        ethIp(f, srcMac, dstMac, src, dst, 6, ttl, total);
        int t = ETH + 20;
        put16(f, t, sport);
        put16(f, t + 2, dport);
        put32(f, t + 4, 0x1000_0000 + sport);   // seq
        put32(f, t + 8, (flags & 0x10) != 0 ? 0x2000_0001 : 0);
        f[t + 12] = 0x50;                        // data offset 5
        f[t + 13] = (byte) flags;
        put16(f, t + 14, 65535);
        for (int i = 0; i < payload; i++) {
            f[t + 20 + i] = (byte) (i * 7 + 3);
        }
        fixIpChecksum(f);
        fixL4Checksum(f);
        return f;
    }

    public static byte[] udp(long srcMac, long dstMac, int src, int sport, int dst, int dport, int ttl, int payload) {
        int total = 20 + 8 + payload;
        byte[] f = new byte[Math.max(60, ETH + total)];
        ethIp(f, srcMac, dstMac, src, dst, 17, ttl, total);
        int u = ETH + 20;
        put16(f, u, sport);
        put16(f, u + 2, dport);
        put16(f, u + 4, 8 + payload);
        for (int i = 0; i < payload; i++) {
            f[u + 8 + i] = (byte) (i * 13 + 1);
        }
        fixIpChecksum(f);
        fixL4Checksum(f);
        return f;
    }

    private static void ethIp(byte[] f, long srcMac, long dstMac, int src, int dst, int proto, int ttl, int total) {
        putMac(f, 0, dstMac);
        putMac(f, 6, srcMac);
        put16(f, 12, 0x0800);
        f[ETH] = 0x45;
        put16(f, ETH + 2, total);
        put16(f, ETH + 4, 0x1234);      // id
        put16(f, ETH + 6, 0x4000);      // DF
        f[ETH + 8] = (byte) ttl;
        f[ETH + 9] = (byte) proto;
        put32(f, ETH + 12, src);
        put32(f, ETH + 16, dst);
    }

    /** A non-first fragment (offset 1480 bytes) of a UDP datagram. */
    static byte[] fragment(long srcMac, long dstMac, int src, int dst, int proto) {
        int total = 20 + 64;
        byte[] f = new byte[ETH + total];
        ethIp(f, srcMac, dstMac, src, dst, proto, 64, total);
        put16(f, ETH + 6, 1480 / 8);    // offset 185 * 8, MF clear: the last fragment
        fixIpChecksum(f);
        return f;
    }

    static byte[] arp(long ethSrc, long ethDst, int op, long sha, int spa, long tha, int tpa) {
        byte[] f = new byte[60];
        putMac(f, 0, ethDst);
        putMac(f, 6, ethSrc);
        put16(f, 12, 0x0806);
        put16(f, 14, 1);
        put16(f, 16, 0x0800);
        f[18] = 6;
        f[19] = 4;
        put16(f, 20, op);
        putMac(f, 22, sha);
        put32(f, 28, spa);
        putMac(f, 32, tha);
        put32(f, 38, tpa);
        return f;
    }
}
