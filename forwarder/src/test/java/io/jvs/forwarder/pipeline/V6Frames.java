package io.jvs.forwarder.pipeline;

import io.jvs.forwarder.frame.PacketContext;
import io.jvs.forwarder.io.LanPort;
import io.jvs.forwarder.testkit.AllocationProbe;
import io.jvs.packet.Ipv6Address;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

/**
 * IPv6 test frames built byte by byte, with a reference checksum of their own (a plain RFC 1071
 * sum over the pseudo-header and the message, not {@link io.jvs.packet.Checksum}), so what the
 * data path computes is compared with an independent value.
 */
final class V6Frames {
    static final int ETH = 14;
    static final int IP6 = 40;
    /** A virtio_net_hdr asking for nothing. */
    private static final byte[] NO_OFFLOAD = new byte[10];

    private V6Frames() {
    }

    /**
     * The allocation tests' loop: the pipeline reads each frame {@code times} times (each copied
     * into its own native segment behind 64 bytes of headroom and a zero virtio_net_hdr, the port flushed after every
     * pass); the bytes the thread allocated, the least over up to 10 rounds (the JIT settles in
     * the first ones), so 0 means the path allocates nothing per packet.
     */
    static long allocatedFeeding(EmbeddedChannel channel, PacketContext ctx, LanPort port, Arena arena,
                                 byte[][] frames, int times) {
        MemorySegment[] segs = new MemorySegment[frames.length];
        for (int i = 0; i < frames.length; i++) {
            segs[i] = arena.allocate(74 + frames[i].length + 64, 8);
        }
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 10 && allocated > 0; round++) {
            long before = AllocationProbe.start();
            for (int n = 0; n < times; n++) {
                for (int i = 0; i < frames.length; i++) {
                    MemorySegment s = segs[i];
                    // A fresh virtio_net_hdr too, as the ring gives every frame: TUN wrote its outer
                    // headers over this one (the frame moves back into the headroom).
                    MemorySegment.copy(NO_OFFLOAD, 0, s, ValueLayout.JAVA_BYTE, 64, NO_OFFLOAD.length);
                    MemorySegment.copy(frames[i], 0, s, ValueLayout.JAVA_BYTE, 74, frames[i].length);
                    ctx.seg = s;
                    ctx.vnetOff = 64;
                    ctx.frameOff = 74;
                    ctx.frameLen = frames[i].length;
                    ctx.frameCapacity = frames[i].length;
                    ctx.headroom = 64;
                    channel.pipeline().fireChannelRead(ctx);
                }
                port.flush();
            }
            allocated = AllocationProbe.since(before);
        }
        return allocated;
    }

    static byte[] addr(String text) {
        Ipv6Address a = Ipv6Address.parse(text);
        byte[] b = new byte[16];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (a.hi() >>> (56 - 8 * i));
            b[8 + i] = (byte) (a.lo() >>> (56 - 8 * i));
        }
        return b;
    }

    static byte[] mac(long mac) {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (mac >>> (40 - 8 * i));
        }
        return b;
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** RFC 1071 over the concatenation of the parts (odd lengths padded at the very end only). */
    static int refSum(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        byte[] d = all.toByteArray();
        long s = 0;
        for (int i = 0; i < d.length; i += 2) {
            int hi = d[i] & 0xff;
            int lo = i + 1 < d.length ? d[i + 1] & 0xff : 0;
            s += hi << 8 | lo;
        }
        while (s >>> 16 != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) (~s & 0xffff);
    }

    /** The upper-layer checksum over the IPv6 pseudo-header (the field in msg must be 0 or is included as it is). */
    static int l4Sum(byte[] src, byte[] dst, int next, byte[] msg) {
        byte[] pseudo = new byte[40];
        System.arraycopy(src, 0, pseudo, 0, 16);
        System.arraycopy(dst, 0, pseudo, 16, 16);
        pseudo[32] = (byte) (msg.length >>> 24);
        pseudo[33] = (byte) (msg.length >>> 16);
        pseudo[34] = (byte) (msg.length >>> 8);
        pseudo[35] = (byte) msg.length;
        pseudo[39] = (byte) next;
        return refSum(pseudo, msg);
    }

    /** Ethernet + IPv6 (no extension headers unless in payload with next naming them) + payload. */
    static byte[] frame(long dstMac, long srcMac, byte[] src, byte[] dst, int next, int hopLimit, byte[] payload) {
        byte[] f = new byte[ETH + IP6 + payload.length];
        System.arraycopy(mac(dstMac), 0, f, 0, 6);
        System.arraycopy(mac(srcMac), 0, f, 6, 6);
        f[12] = (byte) 0x86;
        f[13] = (byte) 0xDD;
        f[14] = 0x60;
        f[18] = (byte) (payload.length >>> 8);
        f[19] = (byte) payload.length;
        f[20] = (byte) next;
        f[21] = (byte) hopLimit;
        System.arraycopy(src, 0, f, 22, 16);
        System.arraycopy(dst, 0, f, 38, 16);
        System.arraycopy(payload, 0, f, ETH + IP6, payload.length);
        return f;
    }

    /** A 20-byte TCP header with its checksum for (src, dst). */
    static byte[] tcp(byte[] src, byte[] dst, int sport, int dport, int seq, int flags) {
        byte[] t = new byte[20];
        t[0] = (byte) (sport >>> 8);
        t[1] = (byte) sport;
        t[2] = (byte) (dport >>> 8);
        t[3] = (byte) dport;
        t[4] = (byte) (seq >>> 24);
        t[5] = (byte) (seq >>> 16);
        t[6] = (byte) (seq >>> 8);
        t[7] = (byte) seq;
        t[12] = 0x50;
        t[13] = (byte) flags;
        t[14] = (byte) 0xff;
        t[15] = (byte) 0xff;
        int c = l4Sum(src, dst, 6, t);
        t[16] = (byte) (c >>> 8);
        t[17] = (byte) c;
        return t;
    }

    /** A UDP datagram (8-byte header + data) with its checksum for (src, dst). */
    static byte[] udp(byte[] src, byte[] dst, int sport, int dport, byte[] data) {
        byte[] u = new byte[8 + data.length];
        u[0] = (byte) (sport >>> 8);
        u[1] = (byte) sport;
        u[2] = (byte) (dport >>> 8);
        u[3] = (byte) dport;
        u[4] = (byte) (u.length >>> 8);
        u[5] = (byte) u.length;
        System.arraycopy(data, 0, u, 8, data.length);
        int c = l4Sum(src, dst, 17, u);
        c = c == 0 ? 0xffff : c;
        u[6] = (byte) (c >>> 8);
        u[7] = (byte) c;
        return u;
    }

    /** ICMPv6 message (type, code, 4 body bytes, then rest) with its checksum for (src, dst). */
    static byte[] icmp6(byte[] src, byte[] dst, int type, int code, byte[] bodyAndRest) {
        byte[] m = new byte[4 + bodyAndRest.length];
        m[0] = (byte) type;
        m[1] = (byte) code;
        System.arraycopy(bodyAndRest, 0, m, 4, bodyAndRest.length);
        int c = l4Sum(src, dst, 58, m);
        m[2] = (byte) (c >>> 8);
        m[3] = (byte) c;
        return m;
    }

    /** An NS for target with a source link-layer option (slla 0: none). */
    static byte[] ns(byte[] src, byte[] dst, byte[] target, long slla) {
        byte[] rest = new byte[4 + 16 + (slla != 0 ? 8 : 0)];
        System.arraycopy(target, 0, rest, 4, 16);
        if (slla != 0) {
            rest[20] = 1;
            rest[21] = 1;
            System.arraycopy(mac(slla), 0, rest, 22, 6);
        }
        return icmp6(src, dst, 135, 0, rest);
    }

    /** A solicited NA for target with a target link-layer option. */
    static byte[] na(byte[] src, byte[] dst, byte[] target, long tlla) {
        byte[] rest = new byte[4 + 16 + 8];
        rest[0] = 0x60;
        System.arraycopy(target, 0, rest, 4, 16);
        rest[20] = 2;
        rest[21] = 1;
        System.arraycopy(mac(tlla), 0, rest, 22, 6);
        return icmp6(src, dst, 136, 0, rest);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return all.toByteArray();
    }
}
