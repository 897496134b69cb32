package io.jvs.forwarder.testkit;

import io.jvs.packet.VirtioNetHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.EthernetHeader;
import io.jvs.forwarder.frame.PacketContext;
import io.jvs.packet.Checksum;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tests' one frame builder (forwarder unit tests, and through the forwarder's test-jar the
 * bench's packet-path benchmark): frames built byte by byte, with a reference checksum of their
 * own (a plain byte-array loop that shares no code with {@link Checksum}), readers and checksum
 * checkers for frames the data path wrote, and loading of frames into exactly-sized native
 * segments at odd offsets so that any read past the frame throws and any alignment assumption fails.
 */
public final class Frames {
    /** Ethernet header length (untagged). */
    public static final int ETH = 14;
    public static final long MAC_A = 0x02_11_22_33_44_55L;
    public static final long MAC_B = 0x0a_bb_cc_dd_ee_ffL;
    public static final int IP_A = 0xC0A8_0001; // 192.168.0.1
    public static final int IP_B = 0x0A00_00FE; // 10.0.0.254

    private Frames() {
    }

    // ------------------------------------------------------------ reference checksum

    /** Folded ones'-complement sum of b[off, off+len), the RFC 1071 way, 16 bits at a time. */
    public static int refSum(byte[] b, int off, int len, int initial) {
        long acc = initial;
        for (int i = 0; i < len; i += 2) {
            int hi = b[off + i] & 0xFF;
            int lo = i + 1 < len ? b[off + i + 1] & 0xFF : 0;
            acc += hi << 8 | lo;
            while ((acc >>> 16) != 0) {
                acc = (acc & 0xFFFF) + (acc >>> 16);
            }
        }
        return (int) acc;
    }

    public static int refPseudo(int src, int dst, int proto, int len) {
        byte[] p = new byte[12];
        put32(p, 0, src);
        put32(p, 4, dst);
        p[9] = (byte) proto;
        put16(p, 10, len);
        return refSum(p, 0, 12, 0);
    }

    public static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    public static void put32(byte[] b, int off, int v) {
        put16(b, off, v >>> 16);
        put16(b, off + 2, v);
    }

    public static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) << 8 | b[off + 1] & 0xFF;
    }

    public static int i32(byte[] b, int off) {
        return u16(b, off) << 16 | u16(b, off + 2);
    }

    // ------------------------------------------------------------ loading

    /** A frame in memory, with the context pointing at it. */
    public record Loaded(MemorySegment seg, PacketContext ctx, long frameOff) {
        public byte[] frameBytes() {
            return seg.asSlice(frameOff, ctx.frameLen).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /**
     * Copies {@code bytes} (a frame, preceded by a 10-byte virtio_net_hdr when
     * {@code vnet}) into a fresh native segment of exactly lead + bytes.length
     * bytes, at an odd lead offset, and points a new context at it.
     */
    public static Loaded load(byte[] bytes, boolean vnet) {
        return load(bytes, vnet, new PacketContext());
    }

    public static Loaded load(byte[] bytes, boolean vnet, PacketContext ctx) {
        int lead = 7;
        MemorySegment seg = Arena.ofAuto().allocate(lead + bytes.length, 1);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, lead, bytes.length);
        ctx.seg = seg;
        ctx.vnetOff = vnet ? lead : -1;
        long frameOff = lead + (vnet ? VirtioNetHeader.SIZE : 0);
        ctx.frameOff = frameOff;
        ctx.frameLen = bytes.length - (vnet ? VirtioNetHeader.SIZE : 0);
        ctx.frameCapacity = ctx.frameLen;
        return new Loaded(seg, ctx, frameOff);
    }

    // ------------------------------------------------------------ frame builder

    public static Builder frame() {
        return new Builder();
    }

    /** Builds [virtio_net_hdr] Ethernet [tags] (IPv4 (L4) | raw L3) [padding]. */
    public static final class Builder {
        long dstMac = MAC_B;
        long srcMac = MAC_A;
        final List<int[]> tags = new ArrayList<>();
        int etherType = EthernetHeader.ETH_P_IP;
        byte[] rawL3; // instead of IPv4

        boolean vnet;
        int vnetFlags;
        int gsoType;
        int gsoSize;
        boolean partial;

        int version = 4;
        int tos;
        int id = 0x1234;
        int ttl = 64;
        boolean df;
        int proto = Ipv4Header.PROTO_TCP;
        int src = IP_A;
        int dst = IP_B;
        byte[] options = new byte[0];
        Integer totalLengthOverride;
        Integer ihlOverride;
        boolean badIpChecksum;

        byte[] l4 = new byte[0]; // whole L4 message (header + payload)
        boolean computeL4 = true;
        boolean udpNoChecksum;

        int fragOff = -1; // >= 0: carry l4[fragOff, fragOff + fragLen) as a fragment
        int fragLen;
        boolean fragMf;

        int padTo;
        int urgent = 0x0102; // arbitrary

        public Builder vnet(int flags, int gsoType, int gsoSize) {
            this.vnet = true;
            this.vnetFlags = flags;
            this.gsoType = gsoType;
            this.gsoSize = gsoSize;
            return this;
        }

        /** CHECKSUM_PARTIAL: the L4 field holds the pseudo-header sum, vnet says NEEDS_CSUM. */
        public Builder partial() {
            vnet = true;
            vnetFlags |= VirtioNetHeader.F_NEEDS_CSUM;
            partial = true;
            return this;
        }

        public Builder macs(long dst, long src) {
            this.dstMac = dst;
            this.srcMac = src;
            return this;
        }

        public Builder tag(int tpid, int tci) {
            tags.add(new int[] {tpid, tci});
            return this;
        }

        public Builder raw(int etherType, byte[] l3) {
            this.etherType = etherType;
            this.rawL3 = l3;
            return this;
        }

        public Builder addrs(int src, int dst) {
            this.src = src;
            this.dst = dst;
            return this;
        }

        public Builder ttl(int ttl) {
            this.ttl = ttl;
            return this;
        }

        public Builder tos(int tos) {
            this.tos = tos;
            return this;
        }

        public Builder id(int id) {
            this.id = id;
            return this;
        }

        public Builder df() {
            this.df = true;
            return this;
        }

        public Builder version(int v) {
            this.version = v;
            return this;
        }

        public Builder ihl(int bytes) {
            this.ihlOverride = bytes;
            return this;
        }

        public Builder totalLength(int v) {
            this.totalLengthOverride = v;
            return this;
        }

        public Builder badIpChecksum() {
            this.badIpChecksum = true;
            return this;
        }

        public Builder options(byte[] options) {
            this.options = options;
            return this;
        }

        public Builder proto(int proto, byte[] l4) {
            this.proto = proto;
            this.l4 = l4;
            this.computeL4 = false;
            return this;
        }

        public Builder tcp(int sport, int dport, int seq, int ack, int flags, int window, byte[] opts, byte[] payload) {
            byte[] h = new byte[20 + opts.length + payload.length];
            put16(h, 0, sport);
            put16(h, 2, dport);
            put32(h, 4, seq);
            put32(h, 8, ack);
            h[12] = (byte) (((20 + opts.length) / 4) << 4);
            h[13] = (byte) flags;
            put16(h, 14, window);
            put16(h, 18, urgent);
            System.arraycopy(opts, 0, h, 20, opts.length);
            System.arraycopy(payload, 0, h, 20 + opts.length, payload.length);
            this.proto = Ipv4Header.PROTO_TCP;
            this.l4 = h;
            this.computeL4 = true;
            return this;
        }

        public Builder tcp(int sport, int dport, int flags, int payloadLen) {
            return tcp(sport, dport, 0x11223344, 0x55667788, flags, 29200, new byte[0], payload(payloadLen));
        }

        public Builder udp(int sport, int dport, byte[] payload) {
            byte[] h = new byte[8 + payload.length];
            put16(h, 0, sport);
            put16(h, 2, dport);
            put16(h, 4, h.length);
            System.arraycopy(payload, 0, h, 8, payload.length);
            this.proto = Ipv4Header.PROTO_UDP;
            this.l4 = h;
            this.computeL4 = true;
            return this;
        }

        /** The TCP urgent pointer (call before {@link #tcp}); 0x0102 unless set. */
        public Builder urgent(int pointer) {
            this.urgent = pointer;
            return this;
        }

        public Builder udpNoChecksum() {
            this.udpNoChecksum = true;
            return this;
        }

        public Builder icmpEcho(int type, int echoId, int seq, byte[] payload) {
            byte[] h = new byte[8 + payload.length];
            h[0] = (byte) type;
            put16(h, 4, echoId);
            put16(h, 6, seq);
            System.arraycopy(payload, 0, h, 8, payload.length);
            this.proto = Ipv4Header.PROTO_ICMP;
            this.l4 = h;
            this.computeL4 = true;
            return this;
        }

        /** Carries only l4[offset, offset + len) as a fragment (checksums are of the whole datagram). */
        public Builder fragment(int offset, int len, boolean mf) {
            this.fragOff = offset;
            this.fragLen = len;
            this.fragMf = mf;
            return this;
        }

        public Builder padTo(int frameLen) {
            this.padTo = frameLen;
            return this;
        }

        public int l2Len() {
            return 14 + 4 * tags.size();
        }

        public int ihlBytes() {
            return 20 + options.length;
        }

        public byte[] build() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int csumField = proto == Ipv4Header.PROTO_TCP ? 16 : proto == Ipv4Header.PROTO_UDP ? 6 : 2;
            if (vnet) {
                byte[] v = new byte[10];
                v[0] = (byte) vnetFlags;
                v[1] = (byte) gsoType;
                int l2 = l2Len();
                putLe16(v, 2, l2 + ihlBytes() + (proto == Ipv4Header.PROTO_TCP ? 20 : 8));
                putLe16(v, 4, gsoSize);
                if (partial) {
                    putLe16(v, 6, l2 + ihlBytes());
                    putLe16(v, 8, csumField);
                }
                out.writeBytes(v);
            }
            byte[] eth = new byte[12];
            put16(eth, 0, (int) (dstMac >>> 32));
            put32(eth, 2, (int) dstMac);
            put16(eth, 6, (int) (srcMac >>> 32));
            put32(eth, 8, (int) srcMac);
            out.writeBytes(eth);
            for (int[] t : tags) {
                byte[] tag = new byte[4];
                put16(tag, 0, t[0]);
                put16(tag, 2, t[1]);
                out.writeBytes(tag);
            }
            byte[] type = new byte[2];
            put16(type, 0, etherType);
            out.writeBytes(type);
            if (rawL3 != null) {
                out.writeBytes(rawL3);
            } else {
                out.writeBytes(ipv4(csumField));
            }
            int frameStart = vnet ? 10 : 0;
            while (out.size() - frameStart < padTo) {
                out.write(0);
            }
            return out.toByteArray();
        }

        private byte[] ipv4(int csumField) {
            byte[] msg = l4.clone();
            if (computeL4 && msg.length >= csumField + 2) {
                put16(msg, csumField, 0);
                int c;
                if (partial) {
                    c = refPseudo(src, dst, proto, msg.length); // not complemented
                } else if (proto == Ipv4Header.PROTO_UDP && udpNoChecksum) {
                    c = 0;
                } else {
                    int init = proto == Ipv4Header.PROTO_ICMP ? 0 : refPseudo(src, dst, proto, msg.length);
                    c = ~refSum(msg, 0, msg.length, init) & 0xFFFF;
                    if (c == 0 && proto == Ipv4Header.PROTO_UDP) {
                        c = 0xFFFF;
                    }
                }
                put16(msg, csumField, c);
            }
            byte[] payload = fragOff >= 0 ? Arrays.copyOfRange(msg, fragOff, fragOff + fragLen) : msg;
            int ihl = ihlBytes();
            byte[] h = new byte[ihl + payload.length];
            int ihlField = ihlOverride != null ? ihlOverride : ihl;
            h[0] = (byte) (version << 4 | (ihlField / 4) & 0x0F);
            h[1] = (byte) tos;
            put16(h, 2, totalLengthOverride != null ? totalLengthOverride : h.length);
            put16(h, 4, id);
            int ff = (df ? 0x4000 : 0) | (fragOff >= 0 && fragMf ? 0x2000 : 0) | (fragOff >= 0 ? fragOff / 8 : 0);
            put16(h, 6, ff);
            h[8] = (byte) ttl;
            h[9] = (byte) proto;
            put32(h, 12, src);
            put32(h, 16, dst);
            System.arraycopy(options, 0, h, 20, options.length);
            int c = ~refSum(h, 0, ihl, 0) & 0xFFFF;
            put16(h, 10, badIpChecksum ? c ^ 0x0101 : c);
            System.arraycopy(payload, 0, h, ihl, payload.length);
            return h;
        }
    }

    public static int getLe16(byte[] b, int off) {
        return b[off] & 0xFF | (b[off + 1] & 0xFF) << 8;
    }

    public static void putLe16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }

    public static byte[] payload(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 7 + 3);
        }
        return p;
    }

    /** A well-formed Ethernet/IPv4 ARP body (28 bytes). */
    public static byte[] arpBody(int op, long sha, int spa, long tha, int tpa) {
        byte[] a = new byte[28];
        put16(a, 0, 1);
        put16(a, 2, 0x0800);
        a[4] = 6;
        a[5] = 4;
        put16(a, 6, op);
        put16(a, 8, (int) (sha >>> 32));
        put32(a, 10, (int) sha);
        put32(a, 14, spa);
        put16(a, 18, (int) (tha >>> 32));
        put32(a, 20, (int) tha);
        put32(a, 24, tpa);
        return a;
    }

    public static void putMac(byte[] b, int off, long mac) {
        for (int i = 0; i < 6; i++) {
            b[off + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }

    // ------------------------------------------------------------ readers

    public static long mac(byte[] b, int off) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = m << 8 | (b[off + i] & 0xFF);
        }
        return m;
    }

    // ------------------------------------------------------------ checksums of frames the data path wrote (untagged)

    /** Folded ones'-complement sum of b[off, off+len) starting from {@code acc}. */
    public static int sum(byte[] b, int off, int len, long acc) {
        return refSum(b, off, len, (int) acc);
    }

    /** The IPv4 header checksum computed afresh (field counted as zero). */
    public static int ipChecksum(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        byte[] h = Arrays.copyOfRange(f, ETH, ETH + ihl);
        h[10] = 0;
        h[11] = 0;
        return ~refSum(h, 0, ihl, 0) & 0xFFFF;
    }

    public static boolean ipChecksumValid(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        return refSum(f, ETH, ihl, 0) == 0xFFFF;
    }

    /** The L4 (TCP/UDP) checksum computed afresh over pseudo-header + segment. */
    public static int l4Checksum(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        int total = u16(f, ETH + 2);
        int proto = f[ETH + 9] & 0xFF;
        int l4 = ETH + ihl;
        int len = total - ihl;
        byte[] seg = Arrays.copyOfRange(f, l4, l4 + len);
        int field = proto == 6 ? 16 : 6;
        seg[field] = 0;
        seg[field + 1] = 0;
        int c = ~refSum(seg, 0, len, refPseudo(i32(f, ETH + 12), i32(f, ETH + 16), proto, len)) & 0xFFFF;
        return proto == 17 && c == 0 ? 0xFFFF : c;
    }

    public static int l4ChecksumField(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        int proto = f[ETH + 9] & 0xFF;
        return u16(f, ETH + ihl + (proto == 6 ? 16 : 6));
    }

    public static void fixIpChecksum(byte[] f) {
        put16(f, ETH + 10, 0);
        put16(f, ETH + 10, ipChecksum(f));
    }

    public static void fixL4Checksum(byte[] f) {
        int ihl = (f[ETH] & 0x0F) * 4;
        int proto = f[ETH + 9] & 0xFF;
        put16(f, ETH + ihl + (proto == 6 ? 16 : 6), l4Checksum(f));
    }

    // ------------------------------------------------------------ ready-made frames (through the builder)

    /**
     * A TCP/IPv4 frame (DF, id 0x1234, window 65535, no urgent pointer, seq 0x10000000 + sport, ack
     * 0x20000001 when ACK is set) with {@code payload} data bytes and correct checksums, padded to 60.
     */
    public static byte[] tcp(long srcMac, long dstMac, int src, int sport, int dst, int dport, int flags, int ttl,
                             int payload) {
        return frame().macs(dstMac, srcMac).addrs(src, dst).ttl(ttl).df().urgent(0)
                .tcp(sport, dport, 0x1000_0000 + sport, (flags & 0x10) != 0 ? 0x2000_0001 : 0, flags, 65535,
                        new byte[0], payload(payload))
                .padTo(60).build();
    }

    /** A UDP/IPv4 frame (DF, id 0x1234) with {@code payload} data bytes and correct checksums, padded to 60. */
    public static byte[] udp(long srcMac, long dstMac, int src, int sport, int dst, int dport, int ttl, int payload) {
        byte[] data = new byte[payload];
        for (int i = 0; i < payload; i++) {
            data[i] = (byte) (i * 13 + 1);
        }
        return frame().macs(dstMac, srcMac).addrs(src, dst).ttl(ttl).df().udp(sport, dport, data).padTo(60).build();
    }

    /** The last fragment (offset 1480 bytes, 64 zero bytes, MF clear) of a datagram of {@code proto}. */
    public static byte[] fragment(long srcMac, long dstMac, int src, int dst, int proto) {
        return frame().macs(dstMac, srcMac).addrs(src, dst).proto(proto, new byte[1480 + 64])
                .fragment(1480, 64, false).build();
    }

    /** An Ethernet/IPv4 ARP frame, padded to 60. */
    public static byte[] arp(long ethSrc, long ethDst, int op, long sha, int spa, long tha, int tpa) {
        return frame().macs(ethDst, ethSrc).raw(0x0806, arpBody(op, sha, spa, tha, tpa)).padTo(60).build();
    }
}
