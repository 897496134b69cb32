package io.jvs.forwarder.packet;

import io.jvs.forwarder.testkit.Frames;

import io.jvs.packet.VirtioNetHeader;
import io.jvs.packet.UdpHeader;
import io.jvs.packet.TcpHeader;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.IcmpHeader;
import io.jvs.packet.EthernetHeader;
import io.jvs.packet.ArpPacket;
import io.jvs.forwarder.frame.FrameKind;
import io.jvs.forwarder.frame.FrameDecoder;
import io.jvs.forwarder.frame.PacketContext;
import static io.jvs.forwarder.testkit.Frames.u16;
import static io.jvs.forwarder.testkit.Frames.i32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Every accessor of every view: reads of known bytes, and setters checked byte by byte. */
class ViewsTest {
    /** Offset 5 in a segment: views must work at odd absolute offsets. */
    private static final long OFF = 5;

    private static MemorySegment segWith(byte[] bytes) {
        MemorySegment seg = Arena.ofAuto().allocate(OFF + bytes.length, 1);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, OFF, bytes.length);
        return seg;
    }

    private static byte[] bytes(MemorySegment seg, int len) {
        return seg.asSlice(OFF, len).toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] hex(String s) {
        s = s.replace(" ", "");
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    @Test
    void virtioNetHeaderIsLittleEndian() {
        MemorySegment seg = segWith(hex("01 81 3600 a805 2200 1000"));
        VirtioNetHeader v = new VirtioNetHeader();
        assertSame(v, v.wrap(seg, OFF));
        assertEquals(seg, v.segment());
        assertEquals(OFF, v.offset());
        assertEquals(VirtioNetHeader.F_NEEDS_CSUM, v.flags());
        assertTrue(v.needsCsum());
        assertFalse(v.dataValid());
        assertEquals(VirtioNetHeader.GSO_TCPV4 | VirtioNetHeader.GSO_ECN, v.gsoType());
        assertTrue(v.isGso());
        assertEquals(0x36, v.hdrLen());
        assertEquals(1448, v.gsoSize());
        assertEquals(34, v.csumStart());
        assertEquals(16, v.csumOffset());

        v.setFlags(VirtioNetHeader.F_DATA_VALID).setGsoType(VirtioNetHeader.GSO_UDP).setHdrLen(0x1234)
                .setGsoSize(0xfedc).setCsumStart(0x0102).setCsumOffset(6);
        assertArrayEquals(hex("02 03 3412 dcfe 0201 0600"), bytes(seg, 10));
        assertTrue(v.dataValid());
        v.setGsoType(VirtioNetHeader.GSO_ECN);
        assertFalse(v.isGso(), "ECN alone is not a GSO type");
        v.clear();
        assertArrayEquals(new byte[10], bytes(seg, 10));
        assertEquals(10, VirtioNetHeader.SIZE);
        assertEquals(0, VirtioNetHeader.GSO_NONE);
        assertEquals(4, VirtioNetHeader.GSO_TCPV6);
    }

    @Test
    void ethernetHeader() {
        MemorySegment seg = segWith(hex("ffffffffffff 021122334455 0806"));
        EthernetHeader e = new EthernetHeader().wrap(seg, OFF);
        assertEquals(EthernetHeader.BROADCAST, e.dst());
        assertEquals(0x021122334455L, e.src());
        assertEquals(EthernetHeader.ETH_P_ARP, e.etherType());
        assertTrue(EthernetHeader.isMulticast(e.dst()));
        assertFalse(EthernetHeader.isMulticast(e.src()));

        e.setDst(0x0a0b0c0d0e0fL).setSrc(0xf0e1d2c3b4a5L).setEtherType(EthernetHeader.ETH_P_8021AD);
        assertArrayEquals(hex("0a0b0c0d0e0f f0e1d2c3b4a5 88a8"), bytes(seg, 14));
        assertEquals(0x0a0b0c0d0e0fL, e.dst());
        assertEquals(0xf0e1d2c3b4a5L, e.src(), "high MAC bytes must not sign-extend");
        assertEquals(14, EthernetHeader.HEADER_LEN);
        assertEquals(0x0800, EthernetHeader.ETH_P_IP);
        assertEquals(0x8100, EthernetHeader.ETH_P_8021Q);
        assertEquals(0xFFFFFFFFFFFFL, EthernetHeader.BROADCAST);
    }

    @Test
    void arpPacketAccessors() {
        byte[] body = Frames.arpBody(ArpPacket.OP_REQUEST, 0x021122334455L, 0xC0A80001, 0, 0xC0A800FE);
        MemorySegment seg = segWith(body);
        ArpPacket a = new ArpPacket().wrap(seg, OFF);
        assertEquals(1, a.htype());
        assertEquals(0x0800, a.ptype());
        assertEquals(6, a.hlen());
        assertEquals(4, a.plen());
        assertEquals(ArpPacket.OP_REQUEST, a.op());
        assertEquals(0x021122334455L, a.senderMac());
        assertEquals(0xC0A80001, a.senderIp());
        assertEquals(0, a.targetMac());
        assertEquals(0xC0A800FE, a.targetIp());
        assertTrue(a.isEthernetIpv4());
        assertFalse(a.isGratuitous());

        a.setHtype(6).setPtype(0x86dd).setHlen(8).setPlen(16).setOp(ArpPacket.OP_REPLY)
                .setSenderMac(0xaabbccddeeffL).setSenderIp(0x01020304).setTargetMac(0x112233445566L).setTargetIp(0x01020304);
        assertArrayEquals(hex("0006 86dd 08 10 0002 aabbccddeeff 01020304 112233445566 01020304"), bytes(seg, 28));
        assertFalse(a.isEthernetIpv4());
        assertTrue(a.isGratuitous());
    }

    @Test
    void arpWriteFrameBuildsAPaddedFrame() {
        MemorySegment seg = Arena.ofAuto().allocate(OFF + 60, 1);
        seg.fill((byte) 0x5a); // stale bytes must not survive in the padding
        int len = ArpPacket.writeFrame(seg, OFF, EthernetHeader.BROADCAST, 0x021122334455L, ArpPacket.OP_REQUEST,
                0x021122334455L, 0x0A000001, 0L, 0x0A000001);
        assertEquals(60, len);
        assertEquals(ArpPacket.FRAME_LEN, len);
        byte[] expected = new byte[60];
        System.arraycopy(hex("ffffffffffff 021122334455 0806"), 0, expected, 0, 14);
        System.arraycopy(Frames.arpBody(1, 0x021122334455L, 0x0A000001, 0, 0x0A000001), 0, expected, 14, 28);
        assertArrayEquals(expected, bytes(seg, 60));

        PacketContext ctx = new PacketContext();
        ctx.seg = seg;
        ctx.frameOff = OFF;
        ctx.frameLen = len;
        assertEquals(FrameKind.ARP, FrameDecoder.decode(ctx));
        assertTrue(ctx.arp.isGratuitous());
        assertEquals(0x0A000001, ctx.srcAddr);
    }

    @Test
    void ipv4HeaderAccessors() {
        // 45 00 0073 0000 4000 40 11 b861 c0a80001 c0a800c7: the classic Wikipedia example header.
        MemorySegment seg = segWith(hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"));
        Ipv4Header ip = new Ipv4Header().wrap(seg, OFF);
        assertEquals(4, ip.version());
        assertEquals(20, ip.ihl());
        assertEquals(0, ip.tos());
        assertEquals(0x73, ip.totalLength());
        assertEquals(0, ip.id());
        assertTrue(ip.dontFragment());
        assertFalse(ip.moreFragments());
        assertEquals(0, ip.fragmentOffset());
        assertFalse(ip.isFragment());
        assertEquals(0x4000, ip.flagsFragment());
        assertEquals(64, ip.ttl());
        assertEquals(Ipv4Header.PROTO_UDP, ip.protocol());
        assertEquals(0xb861, ip.checksum());
        assertEquals(0xC0A80001, ip.src());
        assertEquals(0xC0A800C7, ip.dst());
        assertTrue(ip.verifyChecksum());
        assertEquals(0xb861, ip.computeChecksum());

        ip.setTos(0xb8).setTotalLength(0xfffe).setId(0xbeef).setTtl(255).setProtocol(6).setSrc(0xfffefdfc).setDst(0x01020304);
        ip.setDontFragment(false).setMoreFragments(true).setFragmentOffset(0xfff8);
        assertEquals(0xfff8, ip.fragmentOffset());
        assertTrue(ip.moreFragments());
        assertFalse(ip.dontFragment());
        assertTrue(ip.isFragment());
        assertEquals(0xb861, ip.checksum(), "raw setters do not touch the checksum");
        assertFalse(ip.verifyChecksum());
        ip.writeChecksum();
        assertTrue(ip.verifyChecksum());
        byte[] b = bytes(seg, 20);
        assertEquals(0x45b8, u16(b, 0));
        assertEquals(0xfffe, u16(b, 2));
        assertEquals(0xbeef, u16(b, 4));
        assertEquals(0x3fff, u16(b, 6));
        assertEquals(0xff06, u16(b, 8));
        assertEquals(0xfffefdfc, i32(b, 12));
        assertEquals(0x01020304, i32(b, 16));

        ip.setFlagsFragment(0).setDontFragment(true).setFragmentOffset(8);
        assertEquals(0x4001, ip.flagsFragment());
        ip.setMoreFragments(false).setDontFragment(false).setFragmentOffset(0);
        assertFalse(ip.isFragment());

        ip.setIhl(24);
        assertEquals(24, ip.ihl());
        assertEquals(4, ip.version());
        ip.setVersion(6);
        assertEquals(6, ip.version());
        assertEquals(24, ip.ihl());
    }

    @Test
    void ipv4ChecksumCoversOptions() {
        byte[] f = Frames.frame().options(new byte[] {(byte) 0x94, 4, 0, 0, 1, 1, 1, 0}) // router alert, NOPs, EOL
                .udp(1, 2, new byte[0]).build();
        MemorySegment seg = segWith(f);
        Ipv4Header ip = new Ipv4Header().wrap(seg, OFF + 14);
        assertEquals(28, ip.ihl());
        assertTrue(ip.verifyChecksum());
        int good = ip.checksum();
        assertEquals(good, ip.computeChecksum());
        seg.set(ValueLayout.JAVA_BYTE, OFF + 14 + 25, (byte) 7); // flip an option byte
        assertFalse(ip.verifyChecksum());
        assertTrue(ip.computeChecksum() != good);
    }

    @Test
    void tcpHeaderAccessors() {
        MemorySegment seg = segWith(hex("d431 0050 8badf00d deadbeef 8012 ffff 1a2b 0007 01010402"));
        TcpHeader t = new TcpHeader().wrap(seg, OFF);
        assertEquals(0xd431, t.srcPort());
        assertEquals(80, t.dstPort());
        assertEquals(0x8badf00d, t.seq());
        assertEquals(0xdeadbeef, t.ack());
        assertEquals(32, t.dataOffset());
        assertEquals(TcpHeader.ACK | TcpHeader.SYN, t.flags());
        assertTrue(t.hasFlags(TcpHeader.SYN | TcpHeader.ACK));
        assertFalse(t.hasFlags(TcpHeader.SYN | TcpHeader.FIN));
        assertEquals(0xffff, t.window());
        assertEquals(0x1a2b, t.checksum());
        assertEquals(7, t.urgentPointer());

        seg.set(ValueLayout.JAVA_BYTE, OFF + 12, (byte) 0x81); // keep the low nibble (AE bit) through setDataOffset
        t.setSrcPort(0xffff).setDstPort(1).setSeq(-1).setAck(1).setDataOffset(60).setFlags(TcpHeader.FIN | TcpHeader.CWR)
                .setWindow(0x8000).setChecksum(0xfffe).setUrgentPointer(0xabcd);
        assertArrayEquals(hex("ffff 0001 ffffffff 00000001 f181 8000 fffe abcd"), bytes(seg, 20));
        assertEquals(60, t.dataOffset());
        assertEquals(0x01, TcpHeader.FIN);
        assertEquals(0x02, TcpHeader.SYN);
        assertEquals(0x04, TcpHeader.RST);
        assertEquals(0x08, TcpHeader.PSH);
        assertEquals(0x10, TcpHeader.ACK);
        assertEquals(0x20, TcpHeader.URG);
    }

    @Test
    void udpHeaderAccessors() {
        MemorySegment seg = segWith(hex("0035 e2a1 0024 0000"));
        UdpHeader u = new UdpHeader().wrap(seg, OFF);
        assertEquals(53, u.srcPort());
        assertEquals(0xe2a1, u.dstPort());
        assertEquals(0x24, u.length());
        assertEquals(0, u.checksum());
        assertFalse(u.hasChecksum());
        u.setSrcPort(0x8001).setDstPort(0xfffe).setLength(0xffff).setChecksum(0xffff);
        assertArrayEquals(hex("8001 fffe ffff ffff"), bytes(seg, 8));
        assertTrue(u.hasChecksum());
        assertEquals(8, UdpHeader.HEADER_LEN);
    }

    @Test
    void icmpHeaderAccessors() {
        MemorySegment seg = segWith(hex("08 00 f7fd 1234 0001"));
        IcmpHeader i = new IcmpHeader().wrap(seg, OFF);
        assertEquals(IcmpHeader.TYPE_ECHO_REQUEST, i.type());
        assertEquals(0, i.code());
        assertEquals(0xf7fd, i.checksum());
        assertEquals(0x1234, i.echoId());
        assertEquals(1, i.echoSeq());
        assertEquals(0x12340001, i.restOfHeader());

        i.setType(IcmpHeader.TYPE_DEST_UNREACH).setCode(IcmpHeader.CODE_FRAG_NEEDED).setChecksum(0xabcd)
                .setRestOfHeader(0).setNextHopMtu(1400);
        assertArrayEquals(hex("03 04 abcd 0000 0578"), bytes(seg, 8));
        assertEquals(1400, i.nextHopMtu());
        i.setEchoId(0xffff).setEchoSeq(0xfffe);
        assertEquals(0xfffffffe, i.restOfHeader());
        assertTrue(IcmpHeader.isError(IcmpHeader.TYPE_TIME_EXCEEDED));
        assertTrue(IcmpHeader.isError(IcmpHeader.TYPE_DEST_UNREACH));
        assertFalse(IcmpHeader.isError(IcmpHeader.TYPE_ECHO_REPLY));
        assertEquals(3, IcmpHeader.TYPE_DEST_UNREACH);
        assertEquals(4, IcmpHeader.CODE_FRAG_NEEDED);
        assertEquals(11, IcmpHeader.TYPE_TIME_EXCEEDED);
    }

    @Test
    void ipv4AddressRoundTrip() {
        assertEquals(0x0a000001, Ipv4Address.parse("10.0.0.1"));
        assertEquals("255.254.0.1", Ipv4Address.toString(0xfffe0001));
    }
}
