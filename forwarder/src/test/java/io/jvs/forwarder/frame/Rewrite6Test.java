package io.jvs.forwarder.frame;

import io.jvs.forwarder.testkit.Frames;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The IPv6 address rewrites keep the upper layer's checksum right: complete (TCP, UDP, ICMPv6:
 * all three have the pseudo-header) and CHECKSUM_PARTIAL (the field holds the pseudo-header sum
 * for the new addresses), each checked against a reference sum written here.
 */
class Rewrite6Test {
    static final Ipv6Address SRC = Ipv6Address.parse("2001:db8:1::2");
    static final Ipv6Address VIP = Ipv6Address.parse("2001:db8::100");
    static final Ipv6Address RIP = Ipv6Address.parse("fd00:1234:5678::11");

    static byte[] bytes(Ipv6Address a) {
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (a.hi() >>> (56 - 8 * i));
            b[8 + i] = (byte) (a.lo() >>> (56 - 8 * i));
        }
        return b;
    }

    /** The folded, not complemented sum of the pseudo-header and msg (RFC 1071 by hand). */
    static int sum(Ipv6Address src, Ipv6Address dst, int next, byte[] msg) {
        long s = 0;
        byte[] a = bytes(src);
        byte[] b = bytes(dst);
        for (int i = 0; i < 16; i += 2) {
            s += (a[i] & 0xff) << 8 | (a[i + 1] & 0xff);
            s += (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
        }
        s += msg.length + next;
        for (int i = 0; i < msg.length; i += 2) {
            s += (msg[i] & 0xff) << 8 | (i + 1 < msg.length ? msg[i + 1] & 0xff : 0);
        }
        while (s >>> 16 != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }

    /** vnet (10 bytes) + Ethernet + IPv6 + msg. */
    static byte[] frame(byte[] vnet, int next, byte[] msg) {
        byte[] f = new byte[10 + 14 + 40 + msg.length];
        System.arraycopy(vnet, 0, f, 0, 10);
        f[10 + 12] = (byte) 0x86;
        f[10 + 13] = (byte) 0xDD;
        f[24] = 0x60;
        f[24 + 4] = (byte) (msg.length >>> 8);
        f[24 + 5] = (byte) msg.length;
        f[24 + 6] = (byte) next;
        f[24 + 7] = 64;
        System.arraycopy(bytes(SRC), 0, f, 24 + 8, 16);
        System.arraycopy(bytes(VIP), 0, f, 24 + 24, 16);
        System.arraycopy(msg, 0, f, 64, msg.length);
        return f;
    }

    static byte[] msg(int next, int len) {
        byte[] m = new byte[len];
        for (int i = 0; i < len; i++) {
            m[i] = (byte) (i * 37 + 11);
        }
        int field = next == 58 ? 2 : next == 17 ? 6 : 16;
        m[field] = 0;
        m[field + 1] = 0;
        if (next == 17) {
            m[4] = (byte) (len >>> 8);
            m[5] = (byte) len;
        }
        if (next == 6) {
            m[12] = 0x50;
        }
        int c = ~sum(SRC, VIP, next, m) & 0xffff;
        m[field] = (byte) (c >>> 8);
        m[field + 1] = (byte) c;
        return m;
    }

    @Test
    void completeChecksumsOfTcpUdpAndIcmpv6FollowTheNewAddress() {
        for (int next : new int[] {6, 17, 58}) {
            byte[] m = msg(next, 41);
            Frames.Loaded l = Frames.load(frame(new byte[10], next, m), true);
            assertEquals(FrameKind.IPV6, FrameDecoder.decode(l.ctx()));
            Rewrite.setDstAddr6(l.ctx(), RIP.hi(), RIP.lo());
            Rewrite.setSrcAddr6(l.ctx(), VIP.hi(), VIP.lo());
            byte[] out = l.frameBytes();
            assertEquals(0xffff, sum(VIP, RIP, next, Arrays.copyOfRange(out, 54, out.length)),
                    "next header " + next + ": the checksum verifies for the new addresses");
            assertEquals(RIP.lo(), l.ctx().dstLo);
        }
    }

    @Test
    void partialChecksumHoldsThePseudoHeaderSumOfTheNewAddresses() {
        byte[] vnet = {1, 0, 0, 0, 0, 0, 54, 0, 16, 0}; // NEEDS_CSUM, csum_start 54 (LE), csum_offset 16
        byte[] m = msg(6, 60);
        int pseudo = sum(SRC, VIP, 6, new byte[60]); // the pseudo-header alone (with the length)
        m[16] = (byte) (pseudo >>> 8);
        m[17] = (byte) pseudo;
        Frames.Loaded l = Frames.load(frame(vnet, 6, m), true);
        assertEquals(FrameKind.IPV6, FrameDecoder.decode(l.ctx()));
        Rewrite.setDstAddr6(l.ctx(), RIP.hi(), RIP.lo());
        byte[] out = l.frameBytes();
        int want = sum(SRC, RIP, 6, new byte[60]);
        assertEquals(want, (out[54 + 16] & 0xff) << 8 | (out[54 + 17] & 0xff), "partial field");
    }
}
