package io.jvs.forwarder.frame;

import io.jvs.packet.Bytes;
import io.jvs.packet.IcmpHeader;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.VirtioNetHeader;
import io.jvs.packet.ArpPacket;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.EthernetHeader;
import io.jvs.forwarder.counters.DropReason;

import java.lang.foreign.MemorySegment;

/**
 * Decodes one frame into a {@link PacketContext}: walks Ethernet, up to two
 * VLAN tags, ARP or IPv4 (+ TCP/UDP/ICMP), validates what the data path relies
 * on, wraps the views and fills the decoded summary.
 *
 * <p>Invariants:
 * <ul>
 * <li>Never throws for any content or length: every read is preceded by a
 *     bounds check against the bytes present, and the frame itself is checked
 *     against the segment, so a bad frame becomes {@link FrameKind#BAD} with
 *     {@link PacketContext#drop} set, not an exception.</li>
 * <li>A frame decoded as {@link FrameKind#IPV4} has a complete, checksum-valid
 *     IPv4 header; its datagram ({@code totalLength} bytes) lies inside the frame
 *     (trailing Ethernet padding is ignored); for a non-fragment or first
 *     fragment, the fixed L4 header of TCP (20), UDP (8) or ICMP (8) is present,
 *     so {@link Rewrite} can update ports and checksums without further checks.</li>
 * <li>L4 checksums are not verified (they are the end host's business, as in
 *     IPVS, and are partial on offloaded frames); only the IP header checksum is,
 *     which is always complete, even when the L4 checksum is partial.</li>
 * <li>Allocates nothing.</li>
 * </ul>
 *
 * <p>GSO super-frames (virtio gso_type != NONE) carry the IPv4 total length of
 * the whole super-frame (at most 65535), so the same length checks hold; only the
 * frame-size limit is raised for them, which is why {@link #MAX_FRAME} is 64 KiB.
 */
public final class FrameDecoder {
    /** Largest frame accepted by {@link #decode(PacketContext)}: a 64 KiB GSO super-frame + Ethernet + one tag. */
    public static final int MAX_FRAME = 0xFFFF + EthernetHeader.HEADER_LEN + EthernetHeader.VLAN_TAG_LEN;

    private FrameDecoder() {
    }

    /** {@link #decode(PacketContext, int)} with {@link #MAX_FRAME}. */
    public static FrameKind decode(PacketContext ctx) {
        return decode(ctx, MAX_FRAME);
    }

    /**
     * Decodes the frame at {@code ctx.seg}/{@code frameOff}/{@code frameLen}
     * (with the virtio_net_hdr at {@code vnetOff} when that is >= 0). Calls
     * {@link PacketContext#reset()} first. Frames longer than {@code maxFrame}
     * are {@link DropReason#OVERSIZED} (a port without GSO may pass its MTU + 18).
     */
    public static FrameKind decode(PacketContext ctx, int maxFrame) {
        ctx.reset();
        MemorySegment seg = ctx.seg;
        long size = seg.byteSize();
        if (ctx.vnetOff >= 0) {
            if (ctx.vnetOff > size - VirtioNetHeader.SIZE) {
                return bad(ctx, DropReason.TRUNCATED);
            }
            ctx.vnet.wrap(seg, ctx.vnetOff);
            ctx.csumPartial = ctx.vnet.needsCsum();
        }
        long f = ctx.frameOff;
        int len = ctx.frameLen;
        if (len > maxFrame) {
            return bad(ctx, DropReason.OVERSIZED);
        }
        // The io layer claiming more bytes than the segment holds is a capture cut short.
        if (f < 0 || len < EthernetHeader.HEADER_LEN || f > size - len) {
            return bad(ctx, DropReason.TRUNCATED);
        }
        ctx.eth.wrap(seg, f);
        int type = Bytes.u16(seg, f + 12);
        int l2 = EthernetHeader.HEADER_LEN;
        if (isVlanTpid(type)) {
            if (len < l2 + EthernetHeader.VLAN_TAG_LEN) {
                return bad(ctx, DropReason.TRUNCATED);
            }
            ctx.vlanTci = Bytes.u16(seg, f + l2);
            type = Bytes.u16(seg, f + l2 + 2);
            l2 += EthernetHeader.VLAN_TAG_LEN;
            if (isVlanTpid(type)) {
                // QinQ: outer S-tag (or C-tag), inner C-tag. A third tag is left for the caller (OTHER).
                if (len < l2 + EthernetHeader.VLAN_TAG_LEN) {
                    return bad(ctx, DropReason.TRUNCATED);
                }
                ctx.innerVlanTci = Bytes.u16(seg, f + l2);
                type = Bytes.u16(seg, f + l2 + 2);
                l2 += EthernetHeader.VLAN_TAG_LEN;
            }
        }
        ctx.etherType = type;
        long l3 = f + l2;
        ctx.l3Off = l3;
        int avail = len - l2;
        if (type == EthernetHeader.ETH_P_IP) {
            return decodeIpv4(ctx, seg, l3, avail, l2);
        }
        if (type == EthernetHeader.ETH_P_ARP) {
            return decodeArp(ctx, seg, l3, avail);
        }
        if (type == EthernetHeader.ETH_P_IPV6) {
            return decodeIpv6(ctx, seg, l3, avail, l2);
        }
        return FrameKind.OTHER;
    }

    private static boolean isVlanTpid(int type) {
        return type == EthernetHeader.ETH_P_8021Q || type == EthernetHeader.ETH_P_8021AD;
    }

    private static FrameKind decodeArp(PacketContext ctx, MemorySegment seg, long l3, int avail) {
        if (avail < ArpPacket.LEN) {
            return bad(ctx, DropReason.TRUNCATED);
        }
        ArpPacket arp = ctx.arp.wrap(seg, l3);
        if (!arp.isEthernetIpv4()) {
            return bad(ctx, DropReason.MALFORMED);
        }
        ctx.srcAddr = arp.senderIp();
        ctx.dstAddr = arp.targetIp();
        return FrameKind.ARP;
    }

    private static FrameKind decodeIpv4(PacketContext ctx, MemorySegment seg, long l3, int avail, int l2) {
        if (avail < Ipv4Header.MIN_HEADER_LEN) {
            return bad(ctx, DropReason.TRUNCATED);
        }
        Ipv4Header ip = ctx.ip.wrap(seg, l3);
        if (ip.version() != 4) {
            return bad(ctx, DropReason.MALFORMED);
        }
        int ihl = ip.ihl();
        if (ihl < Ipv4Header.MIN_HEADER_LEN) {
            return bad(ctx, DropReason.MALFORMED);
        }
        if (avail < ihl) {
            return bad(ctx, DropReason.TRUNCATED);
        }
        int total = ip.totalLength();
        if (total < ihl) {
            return bad(ctx, DropReason.MALFORMED);
        }
        if (total > avail) {
            return bad(ctx, DropReason.TRUNCATED);
        }
        if (!ip.verifyChecksum()) {
            return bad(ctx, DropReason.BAD_CHECKSUM);
        }
        int proto = ip.protocol();
        ctx.ipProto = proto;
        ctx.srcAddr = ip.src();
        ctx.dstAddr = ip.dst();
        ctx.ttl = ip.ttl();

        int payload = total - ihl;
        int ff = ip.flagsFragment();
        boolean mf = (ff & Ipv4Header.FLAG_MF) != 0;
        int fragOff = ip.fragmentOffset();
        boolean fragment = mf || fragOff != 0;
        if (fragment) {
            ctx.fragment = true;
            // RFC 791: every fragment but the last carries a non-zero multiple of 8
            // bytes; Linux's ip_frag_queue() drops the others, and so do we.
            if (mf && (payload == 0 || (payload & 7) != 0)) {
                return bad(ctx, DropReason.MALFORMED);
            }
            // The reassembled datagram would exceed 65535 bytes ("ping of death").
            if (fragOff + payload + ihl > Ipv4Header.MAX_TOTAL_LENGTH) {
                return bad(ctx, DropReason.MALFORMED);
            }
            if (fragOff != 0) {
                // No L4 header here: l4Off stays -1, ports 0.
                return checkPartial(ctx, l2, total, ihl, -1);
            }
            ctx.firstFragment = true;
        }

        long l4 = l3 + ihl;
        ctx.l4Off = l4;
        switch (proto) {
            case Ipv4Header.PROTO_TCP -> {
                if (payload < TcpHeader.MIN_HEADER_LEN) {
                    // In a first fragment this is RFC 1858's tiny-fragment attack:
                    // the flags would arrive in a later fragment.
                    return bad(ctx, fragment ? DropReason.MALFORMED : DropReason.TRUNCATED);
                }
                TcpHeader tcp = ctx.tcp.wrap(seg, l4);
                int doff = tcp.dataOffset();
                // A first fragment may legitimately end inside the TCP options.
                if (doff < TcpHeader.MIN_HEADER_LEN || !fragment && doff > payload) {
                    return bad(ctx, DropReason.MALFORMED);
                }
                ctx.srcPort = tcp.srcPort();
                ctx.dstPort = tcp.dstPort();
                ctx.tcpFlags = tcp.flags();
                return checkPartial(ctx, l2, total, ihl, TcpHeader.CHECKSUM_OFFSET);
            }
            case Ipv4Header.PROTO_UDP -> {
                if (payload < UdpHeader.HEADER_LEN) {
                    return bad(ctx, DropReason.TRUNCATED);
                }
                UdpHeader udp = ctx.udp.wrap(seg, l4);
                int ulen = udp.length();
                if (ulen < UdpHeader.HEADER_LEN) {
                    return bad(ctx, DropReason.MALFORMED);
                }
                // Longer than the datagram: the data was cut (Linux udp_rcv: short packet).
                // A first fragment's UDP length covers the whole datagram.
                if (!fragment && ulen > payload) {
                    return bad(ctx, DropReason.TRUNCATED);
                }
                ctx.srcPort = udp.srcPort();
                ctx.dstPort = udp.dstPort();
                return checkPartial(ctx, l2, total, ihl, UdpHeader.CHECKSUM_OFFSET);
            }
            case Ipv4Header.PROTO_ICMP -> {
                if (payload < IcmpHeader.HEADER_LEN) {
                    return bad(ctx, DropReason.TRUNCATED);
                }
                ctx.icmp.wrap(seg, l4);
                // the kernel's partial ICMP checksum is the ICMP header's own field
                return checkPartial(ctx, l2, total, ihl, IcmpHeader.CHECKSUM_OFFSET);
            }
            default -> {
                return checkPartial(ctx, l2, total, ihl, -1);
            }
        }
    }

    /**
     * IPv6: the fixed header, the extension-header walk ({@link Ipv6Header#walk}) and the
     * upper layer's fixed header, with the IPv4 path's reasons where they mean the same
     * (the packet cut short, a version that is not 6, a TCP data offset that cannot be)
     * and the IPv6 ones for a bad chain. There is no header checksum to verify.
     */
    private static FrameKind decodeIpv6(PacketContext ctx, MemorySegment seg, long l3, int avail, int l2) {
        Ipv6Header ip = ctx.ip6.wrap(seg, l3);
        switch (ip.walk(avail)) {
            case OK -> { }
            case TRUNCATED_HEADER, PAYLOAD_BEYOND_FRAME -> {
                return bad(ctx, DropReason.TRUNCATED);
            }
            case BAD_VERSION -> {
                return bad(ctx, DropReason.MALFORMED);
            }
            case TRUNCATED_EXTENSION -> {
                return bad(ctx, DropReason.IPV6_EXTENSION_TRUNCATED);
            }
            case HOP_BY_HOP_NOT_FIRST, NESTED_FRAGMENT -> {
                return bad(ctx, DropReason.IPV6_BAD_EXTENSION_CHAIN);
            }
        }
        int proto = ip.upperProtocol();
        ctx.ipProto = proto;
        ctx.ttl = ip.hopLimit();
        ctx.srcHi = ip.srcHi();
        ctx.srcLo = ip.srcLo();
        ctx.dstHi = ip.dstHi();
        ctx.dstLo = ip.dstLo();
        int total = Ipv6Header.HEADER_LEN + ip.payloadLength();
        boolean fragment = ip.isFragment();
        ctx.fragment = fragment;
        if (fragment) {
            // RFC 8200 4.5, as Linux's ipv6_frag_rcv: a fragment other than the last carries a
            // non-zero multiple of 8 bytes, and none may reassemble beyond 65535 bytes of payload.
            int data = ip.fragmentDataLength();
            if (ip.moreFragments() && (data == 0 || (data & 7) != 0)
                    || ip.reassembledPayloadLength() > Ipv4Header.MAX_TOTAL_LENGTH) {
                return bad(ctx, DropReason.MALFORMED);
            }
        }
        if (ip.upperOffset() < 0) {
            return checkPartial6(ctx, l2, total, -1, -1); // a later fragment: no L4 header, ports 0
        }
        ctx.firstFragment = fragment;
        long l4 = ip.upperOffset();
        int upper = ip.upperLength();
        ctx.l4Off = l4;
        switch (proto) {
            case Ipv6Header.NEXT_TCP -> {
                if (upper < TcpHeader.MIN_HEADER_LEN) {
                    return bad(ctx, fragment ? DropReason.MALFORMED : DropReason.TRUNCATED);
                }
                TcpHeader tcp = ctx.tcp.wrap(seg, l4);
                int doff = tcp.dataOffset();
                if (doff < TcpHeader.MIN_HEADER_LEN || !fragment && doff > upper) {
                    return bad(ctx, DropReason.MALFORMED);
                }
                ctx.srcPort = tcp.srcPort();
                ctx.dstPort = tcp.dstPort();
                ctx.tcpFlags = tcp.flags();
                return checkPartial6(ctx, l2, total, (int) (l4 - l3), TcpHeader.CHECKSUM_OFFSET);
            }
            case Ipv6Header.NEXT_UDP -> {
                if (upper < UdpHeader.HEADER_LEN) {
                    return bad(ctx, DropReason.TRUNCATED);
                }
                UdpHeader udp = ctx.udp.wrap(seg, l4);
                int ulen = udp.length();
                if (ulen < UdpHeader.HEADER_LEN) {
                    return bad(ctx, DropReason.MALFORMED);
                }
                if (!fragment && ulen > upper) {
                    return bad(ctx, DropReason.TRUNCATED);
                }
                ctx.srcPort = udp.srcPort();
                ctx.dstPort = udp.dstPort();
                return checkPartial6(ctx, l2, total, (int) (l4 - l3), UdpHeader.CHECKSUM_OFFSET);
            }
            case Ipv6Header.NEXT_ICMPV6 -> {
                if (upper < Icmpv6Header.HEADER_LEN) {
                    return bad(ctx, DropReason.TRUNCATED);
                }
                ctx.icmp6.wrap(seg, l4);
                return checkPartial6(ctx, l2, total, (int) (l4 - l3), Icmpv6Header.CHECKSUM_OFFSET);
            }
            default -> {
                return checkPartial6(ctx, l2, total, -1, -1);
            }
        }
    }

    /**
     * {@link #checkPartial} for IPv6: the field the device fills lies in the packet, and for
     * TCP, UDP and ICMPv6 it is the upper layer's checksum field (where {@link Rewrite}'s
     * 128-bit updates keep the partial sum right). {@code l4} is the upper layer's offset from
     * the IPv6 header, -1 when there is none here.
     */
    private static FrameKind checkPartial6(PacketContext ctx, int l2, int total, int l4, int csumField) {
        if (!ctx.csumPartial) {
            return FrameKind.IPV6;
        }
        VirtioNetHeader vnet = ctx.vnet;
        int start = vnet.csumStart();
        if (start < l2 + Ipv6Header.HEADER_LEN || start + vnet.csumOffset() + 2 > l2 + total) {
            return bad(ctx, DropReason.MALFORMED);
        }
        if (csumField >= 0 && (start != l2 + l4 || vnet.csumOffset() != csumField)) {
            return bad(ctx, DropReason.MALFORMED);
        }
        return FrameKind.IPV6;
    }

    /**
     * For CHECKSUM_PARTIAL frames, the field the device will fill must lie in the
     * datagram, and for TCP/UDP it must be the L4 checksum field, which is where
     * {@link Rewrite} updates the partial sum (the kernel always sets it so; a
     * frame that says otherwise would be finished at the wrong place).
     */
    private static FrameKind checkPartial(PacketContext ctx, int l2, int total, int ihl, int csumField) {
        if (!ctx.csumPartial) {
            return FrameKind.IPV4;
        }
        VirtioNetHeader vnet = ctx.vnet;
        int start = vnet.csumStart();
        int field = start + vnet.csumOffset();
        // csum_start is the transport header (skb_partial_csum_set): a sum finished from inside the
        // IP header would overwrite it after its own checksum was computed (found by PipelineFuzzTest)
        if (start < l2 + ihl || field + 2 > l2 + total) {
            return bad(ctx, DropReason.MALFORMED);
        }
        if (csumField >= 0 && (start != l2 + ihl || vnet.csumOffset() != csumField)) {
            return bad(ctx, DropReason.MALFORMED);
        }
        return FrameKind.IPV4;
    }

    private static FrameKind bad(PacketContext ctx, DropReason reason) {
        ctx.drop = reason;
        return FrameKind.BAD;
    }
}
