package io.jvs.forwarder.xmit;

import io.jvs.packet.TcpHeader;
import io.jvs.packet.UdpHeader;

import java.lang.foreign.MemorySegment;

/**
 * What IP tunnelling over IPv4 ({@link TunXmit}) and over IPv6 ({@link Tun6Xmit}) share: the
 * UDP + GUE header as IPVS's ipvs_gue_encap writes it, the outer UDP source port, and the TCP
 * flags of a segment cut from a GSO super-frame. Stateless; allocation-free.
 */
final class Tunnels {
    /** The 4-byte GUE header (draft-ietf-intarea-gue, version 0, no options). */
    static final int GUE_HEADER_LEN = 4;
    /** UDP + GUE in front of the inner packet. */
    static final int UDP_GUE_LEN = UdpHeader.HEADER_LEN + GUE_HEADER_LEN;

    private Tunnels() {
    }

    /**
     * The GUE header as one word: version 0, C 0, hlen 0, proto/ctype = the inner packet's IP
     * protocol (4 IPv4, 41 IPv6: ipvs_gue_encap's next_protocol), flags 0.
     */
    static int gueWord(int innerProto) {
        return (innerProto & 0xFF) << 16;
    }

    /**
     * UDP (checksum 0) + GUE at off: udpLen counts the UDP header, GUE and the inner packet. The
     * view is left on the UDP header (for a checksum the caller may write).
     */
    static void writeUdpGue(UdpHeader udp, MemorySegment seg, long off, int srcPort, int dstPort, int udpLen,
                            int innerProto) {
        int word = gueWord(innerProto);
        // The GUE header as two u16s.
        udp.wrap(seg, off + UdpHeader.HEADER_LEN).setSrcPort(word >>> 16).setDstPort(word & 0xFFFF);
        udp.wrap(seg, off).setSrcPort(srcPort).setDstPort(dstPort).setLength(udpLen)
                .setChecksum(UdpHeader.NO_CHECKSUM);
    }

    /**
     * The outer UDP source port from a hash of the inner flow (addresses folded to 32 bits),
     * in the ephemeral range 49152..65535, as the kernel's udp_flow_src_port: one flow, one
     * port, so receivers that spread by UDP ports keep a flow together.
     */
    static int flowSourcePort(int src, int dst, int srcPort, int dstPort, int proto) {
        int h = src * 0x9E3779B1 ^ dst * 0x85EBCA77 ^ (srcPort << 16 | dstPort) * 0xC2B2AE3D ^ proto;
        h ^= h >>> 15;
        return 49152 + ((h & 0x7FFF_FFFF) % 16384);
    }

    /** A 128-bit address folded to 32 bits for {@link #flowSourcePort}. */
    static int fold(long hi, long lo) {
        long x = hi ^ lo;
        return (int) (x ^ x >>> 32);
    }

    /**
     * The TCP flags of segment k of a super-frame, as tcp_gso_segment gives them: FIN and PSH
     * only on the last, CWR only on the first.
     */
    static int segmentFlags(int flags0, int k, boolean last) {
        int fl = flags0;
        if (!last) {
            fl &= ~(TcpHeader.FIN | TcpHeader.PSH);
        }
        if (k > 0) {
            fl &= ~TcpHeader.CWR;
        }
        return fl;
    }
}
