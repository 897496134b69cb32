package io.jvs.forwarder.packet;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.packet.VirtioNetHeader;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.IcmpHeader;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.ArpPacket;
import io.jvs.forwarder.frame.FrameKind;
import io.jvs.forwarder.frame.FrameDecoder;
import io.jvs.forwarder.frame.PacketContext;
import static io.jvs.forwarder.testkit.Frames.IP_A;
import static io.jvs.forwarder.testkit.Frames.IP_B;
import static io.jvs.forwarder.testkit.Frames.MAC_A;
import static io.jvs.forwarder.testkit.Frames.MAC_B;
import static io.jvs.forwarder.testkit.Frames.frame;
import static io.jvs.forwarder.testkit.Frames.payload;
import static io.jvs.forwarder.testkit.Frames.put16;
import static io.jvs.forwarder.testkit.Frames.refSum;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jvs.forwarder.counters.DropReason;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {
    private static final int TCPF = TcpHeader.PSH | TcpHeader.ACK;

    private static PacketContext decoded(byte[] bytes, boolean vnet, FrameKind expected) {
        PacketContext ctx = Frames.load(bytes, vnet).ctx();
        FrameKind kind = FrameDecoder.decode(ctx);
        assertEquals(expected, kind, () -> "drop=" + ctx.drop);
        if (kind == FrameKind.BAD) {
            assertTrue(ctx.drop != null);
        } else {
            assertNull(ctx.drop);
        }
        return ctx;
    }

    private static void assertBad(byte[] bytes, boolean vnet, DropReason reason) {
        PacketContext ctx = decoded(bytes, vnet, FrameKind.BAD);
        assertSame(reason, ctx.drop);
    }

    /** Re-sets total length (and the IP checksum) of the IPv4 header at l3 in a raw frame. */
    private static void setTotalLength(byte[] f, int l3, int total) {
        put16(f, l3 + 2, total);
        put16(f, l3 + 10, 0);
        int ihl = (f[l3] & 0xF) * 4;
        put16(f, l3 + 10, ~refSum(f, l3, ihl, 0) & 0xFFFF);
    }

    // ------------------------------------------------------------------ good frames

    @Test
    void untaggedTcp() {
        PacketContext ctx = decoded(frame().ttl(9).tcp(40000, 80, TcpHeader.SYN, 0).build(), false, FrameKind.IPV4);
        long f = ctx.frameOff;
        assertEquals(EthernetHeader.ETH_P_IP, ctx.etherType);
        assertEquals(-1, ctx.vlanTci);
        assertEquals(-1, ctx.innerVlanTci);
        assertEquals(f + 14, ctx.l3Off);
        assertEquals(f + 34, ctx.l4Off);
        assertEquals(Ipv4Header.PROTO_TCP, ctx.ipProto);
        assertEquals(IP_A, ctx.srcAddr);
        assertEquals(IP_B, ctx.dstAddr);
        assertEquals(9, ctx.ttl);
        assertEquals(40000, ctx.srcPort);
        assertEquals(80, ctx.dstPort);
        assertEquals(TcpHeader.SYN, ctx.tcpFlags);
        assertFalse(ctx.fragment);
        assertFalse(ctx.firstFragment);
        assertFalse(ctx.csumPartial);
        // The views are wrapped where the summary says.
        assertEquals(MAC_B, ctx.eth.dst());
        assertEquals(MAC_A, ctx.eth.src());
        assertEquals(ctx.l3Off, ctx.ip.offset());
        assertEquals(IP_B, ctx.ip.dst());
        assertEquals(ctx.l4Off, ctx.tcp.offset());
        assertEquals(0x11223344, ctx.tcp.seq());
        assertEquals(20, ctx.tcp.dataOffset());
    }

    @Test
    void dot1qTaggedUdp() {
        PacketContext ctx = decoded(frame().tag(0x8100, 0x2064).udp(5353, 53, payload(20)).build(), false, FrameKind.IPV4);
        assertEquals(0x2064, ctx.vlanTci);
        assertEquals(-1, ctx.innerVlanTci);
        assertEquals(EthernetHeader.ETH_P_IP, ctx.etherType);
        assertEquals(ctx.frameOff + 18, ctx.l3Off);
        assertEquals(ctx.frameOff + 38, ctx.l4Off);
        assertEquals(Ipv4Header.PROTO_UDP, ctx.ipProto);
        assertEquals(5353, ctx.srcPort);
        assertEquals(53, ctx.dstPort);
        assertEquals(0, ctx.tcpFlags);
        assertEquals(28, ctx.udp.length());
        assertEquals(EthernetHeader.ETH_P_8021Q, ctx.eth.etherType(), "the view shows the outer TPID");
    }

    @Test
    void qinqTaggedIcmp() {
        PacketContext ctx = decoded(frame().tag(0x88A8, 0x0010).tag(0x8100, 0xE0FF).icmpEcho(8, 77, 3, payload(56)).build(),
                false, FrameKind.IPV4);
        assertEquals(0x0010, ctx.vlanTci);
        assertEquals(0xE0FF, ctx.innerVlanTci);
        assertEquals(ctx.frameOff + 22, ctx.l3Off);
        assertEquals(ctx.frameOff + 42, ctx.l4Off);
        assertEquals(Ipv4Header.PROTO_ICMP, ctx.ipProto);
        assertEquals(0, ctx.srcPort);
        assertEquals(0, ctx.dstPort);
        assertEquals(IcmpHeader.TYPE_ECHO_REQUEST, ctx.icmp.type());
        assertEquals(77, ctx.icmp.echoId());
    }

    @Test
    void doubleDot1qIsQinqToo() {
        PacketContext ctx = decoded(frame().tag(0x8100, 5).tag(0x8100, 6).tcp(1, 2, TCPF, 10).build(), false, FrameKind.IPV4);
        assertEquals(5, ctx.vlanTci);
        assertEquals(6, ctx.innerVlanTci);
        assertEquals(2, ctx.dstPort);
    }

    @Test
    void threeTagsAreLeftToTheCaller() {
        PacketContext ctx = decoded(frame().tag(0x88A8, 1).tag(0x8100, 2).tag(0x8100, 3).tcp(1, 2, TCPF, 10).build(),
                false, FrameKind.OTHER);
        assertEquals(EthernetHeader.ETH_P_8021Q, ctx.etherType);
        assertEquals(ctx.frameOff + 22, ctx.l3Off);
    }

    @Test
    void ipv4WithOptionsAndTcpWithOptions() {
        byte[] ipOpts = {7, 7, 4, 0, 0, 0, 0, 0, 1, 1, 1, 0}; // record route (7 bytes), NOPs, EOL
        byte[] tcpOpts = {2, 4, 5, (byte) 0xb4, 1, 3, 3, 7, 4, 2, 1, 1}; // MSS, NOP, WS, SACK-permitted, NOPs
        PacketContext ctx = decoded(frame().options(ipOpts)
                .tcp(33000, 443, 1, 2, TcpHeader.SYN | TcpHeader.ECE | TcpHeader.CWR, 64240, tcpOpts, new byte[0]).build(),
                false, FrameKind.IPV4);
        assertEquals(32, ctx.ip.ihl());
        assertEquals(ctx.l3Off + 32, ctx.l4Off);
        assertEquals(32, ctx.tcp.dataOffset());
        assertEquals(443, ctx.dstPort);
        assertEquals(TcpHeader.SYN | TcpHeader.ECE | TcpHeader.CWR, ctx.tcpFlags);
    }

    @Test
    void otherIpProtocolsHaveAnL4OffsetButNoPorts() {
        PacketContext ctx = decoded(frame().proto(Ipv4Header.PROTO_GRE, new byte[] {0, 0, 8, 0}).build(), false, FrameKind.IPV4);
        assertEquals(Ipv4Header.PROTO_GRE, ctx.ipProto);
        assertEquals(ctx.l3Off + 20, ctx.l4Off);
        assertEquals(0, ctx.srcPort);
        assertEquals(0, ctx.dstPort);
    }

    @Test
    void ethernetPaddingIsIgnored() {
        byte[] f = frame().udp(1, 2, new byte[1]).padTo(60).build();
        assertEquals(60, f.length);
        PacketContext ctx = decoded(f, false, FrameKind.IPV4);
        assertEquals(29, ctx.ip.totalLength());
        assertEquals(2, ctx.dstPort);
        // Padding after a TCP segment too.
        decoded(frame().tcp(1, 2, TcpHeader.RST, 0).padTo(64).build(), false, FrameKind.IPV4);
    }

    /** A SYN 2001:db8::a.46140 -> 2001:db8::b.8080 as Linux sent it (tcpdump -xx on a veth), after Ethernet. */
    static final String IPV6_SYN = "6003fcf1 0028 0640" + "20010db800000000000000000000000a"
            + "20010db800000000000000000000000b"
            + "b43c1f90cc2e5e3600000000a002fd205bb50000020405a00402080a21458526000000000103030a";

    private static byte[] hexBytes(String h) {
        h = h.replace(" ", "");
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    /** An IPv6 packet: next header {@code next}, then {@code rest} (hex) as the payload. */
    static byte[] ipv6(int next, String rest) {
        byte[] r = hexBytes(rest);
        byte[] p = new byte[40 + r.length];
        p[0] = 0x60;
        p[4] = (byte) (r.length >> 8);
        p[5] = (byte) r.length;
        p[6] = (byte) next;
        p[7] = 64;
        System.arraycopy(r, 0, p, 40, r.length);
        return p;
    }

    @Test
    void ipv6IsDecodedToItsUpperLayer() {
        PacketContext ctx = decoded(frame().raw(EthernetHeader.ETH_P_IPV6, hexBytes(IPV6_SYN)).build(), false,
                FrameKind.IPV6);
        assertEquals(EthernetHeader.ETH_P_IPV6, ctx.etherType);
        assertEquals(ctx.frameOff + 14, ctx.l3Off);
        assertEquals(ctx.frameOff + 54, ctx.l4Off);
        assertEquals(6, ctx.ipProto);
        assertEquals(64, ctx.ttl);
        assertEquals(46140, ctx.srcPort);
        assertEquals(8080, ctx.dstPort);
        assertEquals(TcpHeader.SYN, ctx.tcpFlags);
        assertFalse(ctx.fragment);
        // Behind a VLAN tag, with Ethernet padding after the payload.
        PacketContext tagged = decoded(frame().tag(0x8100, 5).raw(EthernetHeader.ETH_P_IPV6,
                ipv6(17, "1234 0035 0008 0000")).padTo(80).build(), false, FrameKind.IPV6);
        assertEquals(53, tagged.dstPort);
        assertEquals(tagged.frameOff + 18 + 40, tagged.l4Off);
        // Through hop-by-hop and a first fragment to UDP; a later fragment has no L4 header.
        PacketContext first = decoded(frame().raw(EthernetHeader.ETH_P_IPV6,
                ipv6(0, "2c00 0104 0000 0000 1100 0001 0000 0009 1234 0035 0010 0000")).build(), false, FrameKind.IPV6);
        assertTrue(first.fragment);
        assertTrue(first.firstFragment);
        assertEquals(0x35, first.dstPort);
        PacketContext later = decoded(frame().raw(EthernetHeader.ETH_P_IPV6,
                ipv6(44, "1100 0010 0000 0009 0102 0304 0506 0708")).build(), false, FrameKind.IPV6);
        assertTrue(later.fragment);
        assertFalse(later.firstFragment);
        assertEquals(-1, later.l4Off);
        assertEquals(0, later.dstPort);
        decoded(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(59, "")).build(), false, FrameKind.IPV6);
        decoded(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(58, "8000 0000 0001 0002")).build(), false, FrameKind.IPV6);
    }

    /** The IPv6 decode (chain walk included, good and bad) and the 128-bit checksum update allocate nothing. */
    @Test
    void ipv6DecodeDoesNotAllocate() {
        PacketContext syn = Frames.load(frame().raw(EthernetHeader.ETH_P_IPV6, hexBytes(IPV6_SYN)).build(), false).ctx();
        PacketContext chain = Frames.load(frame().tag(0x8100, 3).raw(EthernetHeader.ETH_P_IPV6,
                ipv6(0, "3c00 0104 0000 0000 2c00 0104 0000 0000 1100 0001 0000 0009 1234 0035 0010 0000")).build(),
                false).ctx();
        PacketContext broken = Frames.load(frame().raw(EthernetHeader.ETH_P_IPV6,
                ipv6(60, "0000 0000 0000 0000 3b00 0000 0000 0000")).build(), false).ctx();
        long sink = 0;
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 10 && allocated > 0; round++) {
            long before = io.jvs.forwarder.testkit.AllocationProbe.start();
            for (int i = 0; i < 50_000; i++) {
                sink += FrameDecoder.decode(syn).ordinal() + FrameDecoder.decode(chain).ordinal()
                        + FrameDecoder.decode(broken).ordinal();
                sink += io.jvs.packet.Checksum.update128((int) sink & 0xFFFF, syn.ip6.srcHi(), syn.ip6.srcLo(), i, ~i);
            }
            allocated = io.jvs.forwarder.testkit.AllocationProbe.since(before);
        }
        assertEquals(0, allocated, "bytes allocated by 50k IPv6 decode rounds (sink " + sink + ")");
    }

    @Test
    void brokenIpv6IsDroppedUnderItsReason() {
        byte[] syn = hexBytes(IPV6_SYN);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, Arrays.copyOf(syn, 39)).build(), false, DropReason.TRUNCATED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, Arrays.copyOf(syn, 79)).build(), false, DropReason.TRUNCATED);
        byte[] v4 = syn.clone();
        v4[0] = 0x45;
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, v4).build(), false, DropReason.MALFORMED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(43, "0601 0000 0000 0000")).build(), false,
                DropReason.IPV6_EXTENSION_TRUNCATED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(44, "0600 0000")).build(), false,
                DropReason.IPV6_EXTENSION_TRUNCATED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(60, "0000 0000 0000 0000 3b00 0000 0000 0000")).build(),
                false, DropReason.IPV6_BAD_EXTENSION_CHAIN);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(44, "2c00 0001 0000 0001 0600 0000 0000 0002")).build(),
                false, DropReason.IPV6_BAD_EXTENSION_CHAIN);
        // The upper layer's own fixed header, as for IPv4.
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(6, "b43c 1f90 cc2e 5e36")).build(), false,
                DropReason.TRUNCATED);
        byte[] doff = syn.clone();
        doff[40 + 12] = 0x40; // data offset 16 bytes
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, doff).build(), false, DropReason.MALFORMED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(17, "1234 0035 0004 0000")).build(), false,
                DropReason.MALFORMED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(17, "1234 0035 0010 0000")).build(), false,
                DropReason.TRUNCATED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(58, "8000 0000")).build(), false, DropReason.TRUNCATED);
        // RFC 8200 4.5 fragments: not the last one but not a multiple of 8 (12 bytes, 0 bytes) ...
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(44, "1100 0001 0000 0001 1234 0035 0010 0000 0102 0304"))
                .build(), false, DropReason.MALFORMED);
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(44, "1100 0011 0000 0001")).build(), false,
                DropReason.MALFORMED);
        // ... or one whose offset (65528) and 16 bytes would reassemble beyond 65535.
        assertBad(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(44, "1100 fff8 0000 0001 " + "00".repeat(16))).build(),
                false, DropReason.MALFORMED);
        // The last fragment may carry any length; 65520 + 15 fits exactly.
        decoded(frame().raw(EthernetHeader.ETH_P_IPV6, ipv6(44, "1100 fff0 0000 0001 " + "00".repeat(15))).build(),
                false, FrameKind.IPV6);
    }

    @Test
    void unknownEtherTypeIsOtherNotAnError() {
        PacketContext lldp = decoded(frame().tag(0x8100, 7).raw(0x88CC, new byte[2]).build(), false, FrameKind.OTHER);
        assertEquals(0x88CC, lldp.etherType);
        assertEquals(7, lldp.vlanTci);
    }

    @Test
    void arpRequestAndReply() {
        PacketContext ctx = decoded(frame().macs(EthernetHeader.BROADCAST, MAC_A)
                .raw(EthernetHeader.ETH_P_ARP, Frames.arpBody(ArpPacket.OP_REQUEST, MAC_A, IP_A, 0, IP_B)).padTo(60).build(),
                false, FrameKind.ARP);
        assertEquals(EthernetHeader.ETH_P_ARP, ctx.etherType);
        assertEquals(ctx.frameOff + 14, ctx.l3Off);
        assertEquals(ArpPacket.OP_REQUEST, ctx.arp.op());
        assertEquals(MAC_A, ctx.arp.senderMac());
        assertEquals(IP_A, ctx.srcAddr);
        assertEquals(IP_B, ctx.dstAddr);
        assertEquals(-1, ctx.l4Off);

        PacketContext reply = decoded(frame().tag(0x8100, 42)
                .raw(EthernetHeader.ETH_P_ARP, Frames.arpBody(ArpPacket.OP_REPLY, MAC_B, IP_B, MAC_A, IP_A)).build(),
                false, FrameKind.ARP);
        assertEquals(42, reply.vlanTci);
        assertEquals(ArpPacket.OP_REPLY, reply.arp.op());
        assertEquals(MAC_A, reply.arp.targetMac());
    }

    @Test
    void arpForOtherHardwareIsMalformed() {
        byte[] body = Frames.arpBody(1, MAC_A, IP_A, 0, IP_B);
        body[1] = 6; // IEEE 802 hardware
        assertBad(frame().raw(EthernetHeader.ETH_P_ARP, body).build(), false, DropReason.MALFORMED);
        body = Frames.arpBody(1, MAC_A, IP_A, 0, IP_B);
        body[5] = 16; // plen
        assertBad(frame().raw(EthernetHeader.ETH_P_ARP, body).build(), false, DropReason.MALFORMED);
    }

    // ------------------------------------------------------------------ virtio_net_hdr, GSO

    @Test
    void partialChecksumFromTheVnetHeader() {
        PacketContext ctx = decoded(frame().partial().tcp(5000, 80, TCPF, 100).build(), true, FrameKind.IPV4);
        assertTrue(ctx.csumPartial);
        assertEquals(ctx.frameOff - 10, ctx.vnet.offset());
        assertEquals(34, ctx.vnet.csumStart());
        assertEquals(16, ctx.vnet.csumOffset());
        assertEquals(80, ctx.dstPort);

        PacketContext valid = decoded(frame().vnet(VirtioNetHeader.F_DATA_VALID, 0, 0).udp(1, 2, payload(3)).build(), true,
                FrameKind.IPV4);
        assertFalse(valid.csumPartial);
        PacketContext tagged = decoded(frame().tag(0x8100, 3).partial().udp(1, 2, payload(3)).build(), true, FrameKind.IPV4);
        assertTrue(tagged.csumPartial);
        assertEquals(38, tagged.vnet.csumStart());
    }

    @Test
    void partialChecksumMustPointAtTheL4ChecksumField() {
        byte[] f = frame().partial().tcp(5000, 80, TCPF, 100).build();
        byte[] g = f.clone();
        Frames.putLe16(g, 6, 36); // csum_start past the TCP header start
        assertBad(g, true, DropReason.MALFORMED);
        g = f.clone();
        Frames.putLe16(g, 8, 6); // UDP's offset on a TCP segment
        assertBad(g, true, DropReason.MALFORMED);
        g = f.clone();
        Frames.putLe16(g, 6, 60000); // beyond the datagram
        assertBad(g, true, DropReason.MALFORMED);
    }

    @Test
    void partialChecksumNeverStartsInsideTheIpHeader() {
        // PipelineFuzzTest: an ICMP error whose forged virtio header put csum_start at the IP
        // destination; the translated error left with its IP header overwritten by the sum
        byte[] f = frame().partial().icmpEcho(8, 1, 1, payload(8)).build();
        byte[] g = f.clone();
        Frames.putLe16(g, 6, 34); // the ICMP header, its checksum field: what the kernel writes
        Frames.putLe16(g, 8, 2);
        decoded(g, true, FrameKind.IPV4);
        g = f.clone();
        Frames.putLe16(g, 6, 30); // the IP destination
        Frames.putLe16(g, 8, 0);
        assertBad(g, true, DropReason.MALFORMED);
        g = f.clone();
        Frames.putLe16(g, 6, 34); // inside the ICMP message but not its checksum field
        Frames.putLe16(g, 8, 6);
        assertBad(g, true, DropReason.MALFORMED);
    }

    @Test
    void ipHeaderChecksumIsVerifiedOnPartialFramesToo() {
        assertBad(frame().partial().badIpChecksum().tcp(1, 2, TCPF, 10).build(), true, DropReason.BAD_CHECKSUM);
    }

    @Test
    void gsoSuperFrameUpToTheMaximum() {
        // 65535-byte datagram (the largest), tagged: exactly MAX_FRAME bytes.
        int payloadLen = 65535 - 20 - 20;
        byte[] f = frame().vnet(0, VirtioNetHeader.GSO_TCPV4, 1448).partial().tag(0x8100, 1)
                .tcp(5000, 80, TCPF, payloadLen).build();
        assertEquals(FrameDecoder.MAX_FRAME, f.length - 10);
        PacketContext ctx = decoded(f, true, FrameKind.IPV4);
        assertTrue(ctx.vnet.isGso());
        assertTrue(ctx.csumPartial);
        assertEquals(65535, ctx.ip.totalLength());
    }

    // ------------------------------------------------------------------ bad frames

    @Test
    void oversized() {
        byte[] f = Arrays.copyOf(frame().tcp(1, 2, TCPF, 10).build(), FrameDecoder.MAX_FRAME + 1);
        assertBad(f, false, DropReason.OVERSIZED);

        byte[] mtuPlusOne = frame().udp(1, 2, payload(1500 - 28 + 1)).build();
        assertEquals(1515, mtuPlusOne.length);
        PacketContext ctx = Frames.load(mtuPlusOne, false).ctx();
        assertEquals(FrameKind.BAD, FrameDecoder.decode(ctx, 1514));
        assertSame(DropReason.OVERSIZED, ctx.drop);
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx, 1515));
    }

    @Test
    void badIpChecksum() {
        assertBad(frame().badIpChecksum().udp(1, 2, payload(4)).build(), false, DropReason.BAD_CHECKSUM);
        assertBad(frame().options(new byte[4]).badIpChecksum().tcp(1, 2, TCPF, 0).build(), false, DropReason.BAD_CHECKSUM);
        // A wrong bit anywhere in the header, options included, is caught.
        byte[] f = frame().options(new byte[] {1, 1, 1, 0}).icmpEcho(8, 1, 1, payload(8)).build();
        for (int i = 14; i < 14 + 24; i++) {
            if (i == 14 || i == 16 || i == 17) {
                continue; // version/IHL and total length are checked before the checksum
            }
            byte[] g = f.clone();
            g[i] ^= 0x10;
            assertBad(g, false, DropReason.BAD_CHECKSUM);
        }
    }

    @Test
    void malformedIpv4() {
        assertBad(frame().version(6).udp(1, 2, payload(4)).build(), false, DropReason.MALFORMED);
        assertBad(frame().ihl(16).udp(1, 2, payload(4)).build(), false, DropReason.MALFORMED);
        assertBad(frame().ihl(0).udp(1, 2, payload(4)).build(), false, DropReason.MALFORMED);
        assertBad(frame().totalLength(19).udp(1, 2, payload(4)).build(), false, DropReason.MALFORMED);
        assertBad(frame().options(new byte[8]).totalLength(24).udp(1, 2, payload(4)).build(), false, DropReason.MALFORMED);
        assertBad(frame().totalLength(0).udp(1, 2, payload(4)).build(), false, DropReason.MALFORMED);
    }

    @Test
    void totalLengthBeyondTheFrameIsTruncated() {
        assertBad(frame().totalLength(20 + 8 + 5).udp(1, 2, payload(4)).build(), false, DropReason.TRUNCATED);
        assertBad(frame().totalLength(65535).tcp(1, 2, TCPF, 4).build(), false, DropReason.TRUNCATED);
    }

    @Test
    void malformedTcp() {
        byte[] f = frame().tcp(1, 2, TCPF, 40).build();
        byte[] g = f.clone();
        g[34 + 12] = 0x40; // data offset 16 bytes
        assertBad(g, false, DropReason.MALFORMED);
        g = f.clone();
        g[34 + 12] = 0x00;
        assertBad(g, false, DropReason.MALFORMED);
        // Data offset 60 in a 20 + 40 byte segment fits exactly; one byte less does not.
        g = f.clone();
        g[34 + 12] = (byte) 0xF0;
        decoded(g, false, FrameKind.IPV4);
        byte[] h = Arrays.copyOf(g, 14 + 20 + 56);
        setTotalLength(h, 14, 20 + 56);
        assertBad(h, false, DropReason.MALFORMED); // header claims 60, datagram holds 56
    }

    @Test
    void shortL4HeadersAreTruncated() {
        byte[] tcp = frame().tcp(1, 2, TCPF, 0).build();
        byte[] udp = frame().udp(1, 2, new byte[0]).build();
        byte[] icmp = frame().icmpEcho(8, 1, 1, new byte[0]).build();
        for (int cut = 0; cut < 20; cut++) {
            byte[] g = Arrays.copyOf(tcp, 34 + cut);
            setTotalLength(g, 14, 20 + cut);
            assertBad(g, false, DropReason.TRUNCATED);
        }
        for (int cut = 0; cut < 8; cut++) {
            byte[] g = Arrays.copyOf(udp, 34 + cut);
            setTotalLength(g, 14, 20 + cut);
            assertBad(g, false, DropReason.TRUNCATED);
            g = Arrays.copyOf(icmp, 34 + cut);
            setTotalLength(g, 14, 20 + cut);
            assertBad(g, false, DropReason.TRUNCATED);
        }
    }

    @Test
    void udpLengthField() {
        byte[] f = frame().udp(1, 2, payload(10)).build();
        byte[] g = f.clone();
        put16(g, 34 + 4, 7);
        assertBad(g, false, DropReason.MALFORMED);
        g = f.clone();
        put16(g, 34 + 4, 19); // more than the 18 bytes the datagram carries
        assertBad(g, false, DropReason.TRUNCATED);
        g = f.clone();
        put16(g, 34 + 4, 12); // shorter than the datagram: trailing bytes, as Linux trims
        decoded(g, false, FrameKind.IPV4);
    }

    /** Cuts representative frames at every length below their full length: never an exception, always TRUNCATED/MALFORMED. */
    @Test
    void truncatedAtEveryByte() {
        byte[][] frames = {
            frame().tcp(1, 2, TCPF, 0).build(),
            frame().options(new byte[] {1, 1, 1, 1, 1, 1, 1, 0})
                .tcp(1, 2, 3, 4, TcpHeader.SYN, 5, new byte[] {2, 4, 5, (byte) 0xb4, 1, 1, 1, 0}, new byte[0]).build(),
            frame().tag(0x8100, 9).udp(1, 2, payload(3)).build(),
            frame().tag(0x88A8, 9).tag(0x8100, 10).icmpEcho(0, 1, 2, new byte[0]).build(),
            frame().raw(EthernetHeader.ETH_P_ARP, Frames.arpBody(1, MAC_A, IP_A, 0, IP_B)).build(),
            frame().tag(0x8100, 1).raw(EthernetHeader.ETH_P_ARP, Frames.arpBody(2, MAC_A, IP_A, MAC_B, IP_B)).build(),
            frame().partial().tcp(1, 2, TCPF, 0).build(),
        };
        int cases = 0;
        for (byte[] full : frames) {
            boolean vnet = isVnet(full);
            int lead = vnet ? 10 : 0;
            for (int len = 0; len < full.length - lead; len++) {
                byte[] cut = Arrays.copyOf(full, lead + len);
                PacketContext ctx = Frames.load(cut, vnet).ctx();
                FrameKind kind;
                try {
                    kind = FrameDecoder.decode(ctx);
                } catch (RuntimeException e) {
                    throw new AssertionError("threw at length " + len, e);
                }
                assertEquals(FrameKind.BAD, kind, "length " + len);
                assertTrue(ctx.drop == DropReason.TRUNCATED || ctx.drop == DropReason.MALFORMED,
                        "length " + len + ": " + ctx.drop);
                cases++;
            }
            decoded(full, vnet, full[lead + 12] == 0x08 && full[lead + 13] == 0x06 || isArpTagged(full, lead)
                    ? FrameKind.ARP : FrameKind.IPV4);
        }
        assertTrue(cases > 300);
    }

    private static boolean isVnet(byte[] f) {
        return f[0] == VirtioNetHeader.F_NEEDS_CSUM; // only the partial() frame has one; the others start with MAC_B (0x0a)
    }

    private static boolean isArpTagged(byte[] f, int lead) {
        return f[lead + 12] == (byte) 0x81 && f[lead + 16] == 0x08 && f[lead + 17] == 0x06;
    }

    @Test
    void frameBoundsAreCheckedAgainstTheSegment() {
        byte[] f = frame().tcp(1, 2, TCPF, 10).build();
        PacketContext ctx = Frames.load(f, false).ctx();
        ctx.frameLen = f.length + 1; // the io layer claims a byte the segment does not have
        assertEquals(FrameKind.BAD, FrameDecoder.decode(ctx));
        assertSame(DropReason.TRUNCATED, ctx.drop);
        ctx.frameLen = -1;
        assertEquals(FrameKind.BAD, FrameDecoder.decode(ctx));
        assertSame(DropReason.TRUNCATED, ctx.drop);
        ctx.frameLen = f.length;
        ctx.vnetOff = ctx.seg.byteSize() - 9; // a virtio header cut short
        assertEquals(FrameKind.BAD, FrameDecoder.decode(ctx));
        assertSame(DropReason.TRUNCATED, ctx.drop);
        ctx.vnetOff = -1;
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
    }

    // ------------------------------------------------------------------ fragments

    @Test
    void fragmentsFirstMiddleLast() {
        byte[] tcpPayload = payload(100);
        // Whole TCP segment: 20 + 100 bytes; fragments of 40, 40, 40.
        PacketContext first = decoded(frame().tcp(7000, 8080, 1, 2, TCPF, 100, new byte[0], tcpPayload)
                .fragment(0, 40, true).build(), false, FrameKind.IPV4);
        assertTrue(first.fragment);
        assertTrue(first.firstFragment);
        assertEquals(first.l3Off + 20, first.l4Off);
        assertEquals(7000, first.srcPort);
        assertEquals(8080, first.dstPort);
        assertEquals(TCPF, first.tcpFlags);

        PacketContext middle = decoded(frame().tcp(7000, 8080, 1, 2, TCPF, 100, new byte[0], tcpPayload)
                .fragment(40, 40, true).build(), false, FrameKind.IPV4);
        assertTrue(middle.fragment);
        assertFalse(middle.firstFragment);
        assertEquals(-1, middle.l4Off);
        assertEquals(0, middle.srcPort);
        assertEquals(0, middle.dstPort);
        assertEquals(0, middle.tcpFlags);
        assertEquals(IP_A, middle.srcAddr);

        PacketContext last = decoded(frame().tcp(7000, 8080, 1, 2, TCPF, 100, new byte[0], tcpPayload)
                .fragment(80, 40, false).build(), false, FrameKind.IPV4);
        assertTrue(last.fragment);
        assertFalse(last.firstFragment);
        assertEquals(-1, last.l4Off);
        assertEquals(40, last.ip.fragmentOffset() / 2);

        // A last fragment may carry any number of bytes, even fewer than a header.
        decoded(frame().udp(1, 2, payload(13)).fragment(16, 5, false).build(), false, FrameKind.IPV4);
    }

    @Test
    void firstUdpFragmentHasPortsAndALengthForTheWholeDatagram() {
        PacketContext ctx = decoded(frame().udp(4789, 4790, payload(3000)).fragment(0, 1480, true).build(), false,
                FrameKind.IPV4);
        assertTrue(ctx.firstFragment);
        assertEquals(4789, ctx.srcPort);
        assertEquals(4790, ctx.dstPort);
        assertEquals(3008, ctx.udp.length());
    }

    @Test
    void firstTcpFragmentMayEndInsideTheOptions() {
        byte[] opts = new byte[40];
        Arrays.fill(opts, (byte) 1);
        PacketContext ctx = decoded(frame().tcp(1, 2, 3, 4, TcpHeader.SYN, 5, opts, new byte[0]).fragment(0, 32, true).build(),
                false, FrameKind.IPV4);
        assertEquals(60, ctx.tcp.dataOffset());
        assertEquals(TcpHeader.SYN, ctx.tcpFlags);
    }

    @Test
    void badFragments() {
        // Not the last fragment, but not a multiple of 8 bytes.
        assertBad(frame().udp(1, 2, payload(100)).fragment(0, 36, true).build(), false, DropReason.MALFORMED);
        assertBad(frame().udp(1, 2, payload(100)).fragment(8, 12, true).build(), false, DropReason.MALFORMED);
        // Tiny first TCP fragment (RFC 1858): the flags would come later.
        assertBad(frame().tcp(1, 2, TCPF, 100).fragment(0, 16, true).build(), false, DropReason.MALFORMED);
        // Reassembly would exceed 65535 bytes.
        // (The builder slices the fragment out of a larger UDP message; only the slice is sent.)
        byte[] big = frame().udp(1, 2, payload(65600)).fragment(65496, 20, false).build(); // 65496 + 20 + 20 > 65535
        assertBad(big, false, DropReason.MALFORMED);
        decoded(frame().udp(1, 2, payload(65600)).fragment(65496, 19, false).build(), false, FrameKind.IPV4); // exactly 65535
    }

    // ------------------------------------------------------------------ context reuse, fuzz

    @Test
    void decodeResetsTheContextBetweenFrames() {
        PacketContext ctx = new PacketContext();
        Frames.load(frame().tag(0x8100, 3).tcp(1, 2, TcpHeader.SYN, 0).build(), false, ctx);
        assertEquals(FrameKind.IPV4, FrameDecoder.decode(ctx));
        ctx.conn = 7;
        ctx.reply = true;
        Frames.load(frame().badIpChecksum().tcp(1, 2, TcpHeader.SYN, 0).build(), false, ctx);
        assertEquals(FrameKind.BAD, FrameDecoder.decode(ctx));
        assertEquals(-1, ctx.vlanTci);
        assertEquals(-1, ctx.conn);
        assertFalse(ctx.reply);
        Frames.load(frame().raw(EthernetHeader.ETH_P_ARP, Frames.arpBody(1, MAC_A, IP_A, 0, IP_B)).build(), false, ctx);
        assertEquals(FrameKind.ARP, FrameDecoder.decode(ctx));
        assertNull(ctx.drop);
        assertEquals(0, ctx.srcPort);
        assertEquals(0, ctx.tcpFlags);
        assertEquals(0, ctx.ipProto);
        assertEquals(-1, ctx.l4Off);
    }

    @Test
    void fuzzNeverThrows() {
        SplittableRandom rnd = new SplittableRandom(0xF0220);
        byte[][] seeds = {
            frame().tcp(1, 2, TCPF, 30).build(),
            frame().tag(0x8100, 9).udp(1, 2, payload(20)).build(),
            frame().tag(0x88A8, 1).tag(0x8100, 2).options(new byte[8]).icmpEcho(8, 1, 1, payload(8)).build(),
            frame().raw(EthernetHeader.ETH_P_ARP, Frames.arpBody(1, MAC_A, IP_A, 0, IP_B)).build(),
            frame().udp(1, 2, payload(40)).fragment(0, 24, true).build(),
            frame().raw(EthernetHeader.ETH_P_IPV6, hexBytes(IPV6_SYN)).build(),
            frame().tag(0x8100, 3).raw(EthernetHeader.ETH_P_IPV6,
                    ipv6(0, "3c00 0104 0000 0000 2c00 0104 0000 0000 1100 0001 0000 0009 1234 0035 0010 0000")).build(),
        };
        PacketContext ctx = new PacketContext();
        int[] kinds = new int[FrameKind.values().length];
        for (int i = 0; i < 10_000; i++) {
            byte[] f;
            boolean vnet = false;
            switch (i % 4) {
                case 0 -> { // pure noise
                    f = new byte[rnd.nextInt(0, 120)];
                    rnd.nextBytes(f);
                }
                case 1 -> { // noise behind a plausible Ethernet/IPv4 start
                    f = new byte[rnd.nextInt(14, 120)];
                    rnd.nextBytes(f);
                    f[12] = 0x08;
                    f[13] = (byte) (rnd.nextBoolean() ? 0x00 : 0x06);
                    if (f.length > 14) {
                        f[14] = (byte) (0x40 | rnd.nextInt(16));
                    }
                }
                case 2 -> { // a valid frame with a few bytes flipped and a random cut or extension
                    byte[] seed = seeds[rnd.nextInt(seeds.length)];
                    f = Arrays.copyOf(seed, Math.max(0, seed.length + rnd.nextInt(-20, 10)));
                    for (int k = rnd.nextInt(1, 4); k > 0 && f.length > 0; k--) {
                        f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
                    }
                }
                default -> { // random virtio header in front of anything
                    vnet = true;
                    byte[] seed = seeds[rnd.nextInt(seeds.length)];
                    f = new byte[10 + seed.length];
                    rnd.nextBytes(f);
                    System.arraycopy(seed, 0, f, 10, seed.length);
                    if (rnd.nextBoolean()) {
                        f = Arrays.copyOf(f, rnd.nextInt(0, f.length + 1));
                    }
                }
            }
            FrameKind kind;
            try {
                if (vnet && f.length < 10) {
                    // A virtio header longer than the segment: only the bounds check stands between us and an exception.
                    MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, f.length), 1);
                    ctx.seg = seg;
                    ctx.vnetOff = 0;
                    ctx.frameOff = 0;
                    ctx.frameLen = 0;
                } else {
                    Frames.load(f, vnet, ctx);
                }
                kind = FrameDecoder.decode(ctx);
            } catch (RuntimeException e) {
                fail("frame " + i + " threw: " + java.util.HexFormat.of().formatHex(f), e);
                return;
            }
            kinds[kind.ordinal()]++;
            assertEquals(kind == FrameKind.BAD, ctx.drop != null);
            if (kind == FrameKind.IPV4) {
                long end = ctx.frameOff + ctx.frameLen;
                assertTrue(ctx.l3Off + ctx.ip.totalLength() <= end);
                assertTrue(ctx.l4Off == -1 || ctx.l4Off == ctx.l3Off + ctx.ip.ihl());
                assertTrue(ctx.ip.verifyChecksum());
            }
            if (kind == FrameKind.IPV6) {
                long end = ctx.frameOff + ctx.frameLen;
                assertTrue(ctx.l3Off + 40 + ctx.ip6.payloadLength() <= end);
                assertTrue(ctx.l4Off == -1 || ctx.l4Off >= ctx.l3Off + 40 && ctx.l4Off <= end);
            }
        }
        // The fuzz reaches every outcome.
        for (FrameKind k : FrameKind.values()) {
            assertTrue(kinds[k.ordinal()] > 0, k + " never seen: " + Arrays.toString(kinds));
        }
    }
}
