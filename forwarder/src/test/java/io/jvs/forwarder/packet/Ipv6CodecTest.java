package io.jvs.forwarder.packet;

import io.jvs.packet.Checksum;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Chain;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.NdpCheck;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ipv6Header (fixed header, extension-header walk), Icmpv6Header (NDP) and the IPv6
 * checksums, on frames Linux 6.x put on a veth pair between two namespaces
 * (captured with {@code tcpdump -xx}: its checksums are the kernel's) and on
 * extension-header chains laid out by hand from RFC 8200's formats.
 */
class Ipv6CodecTest {
    private static final long OFF = 3; // views must work at odd offsets

    /** 2001:db8::a asks 2001:db8::b (to ff02::1:ff00:b) with its MAC 02:00:00:00:00:0a. */
    private static final String CAPTURED_NS = "3333 ff00 000b 0200 0000 000a 86dd 6000"
            + "0000 0020 3aff 2001 0db8 0000 0000 0000 0000 0000 000a ff02 0000 0000 0000 0000"
            + "0001 ff00 000b 8700 1c03 0000 0000 2001 0db8 0000 0000 0000 0000 0000 000b 0101"
            + "0200 0000 000a";
    /** Duplicate address detection for fe80::ff:fe00:b, from ::, with a nonce option (type 14, RFC 7527). */
    private static final String CAPTURED_DAD_NS = "3333 ff00 000b 0200 0000 000b 86dd 6000"
            + "0000 0020 3aff 0000 0000 0000 0000 0000 0000 0000 0000 ff02 0000 0000 0000 0000"
            + "0001 ff00 000b 8700 74d6 0000 0000 fe80 0000 0000 0000 0000 00ff fe00 000b 0e01"
            + "a1bb 19eb 3e8b";
    /** The kernel's answer to CAPTURED_NS: solicited + override, target link-layer address option. */
    private static final String CAPTURED_NA = "0200 0000 000a 0200 0000 000b 86dd 6000"
            + "0000 0020 3aff 2001 0db8 0000 0000 0000 0000 0000 000b 2001 0db8 0000 0000 0000"
            + "0000 0000 000a 8800 8a4d 6000 0000 2001 0db8 0000 0000 0000 0000 0000 000b 0201"
            + "0200 0000 000b";
    /**
     * A SYN from 2001:db8::a.46140 to 2001:db8::b.8080 as seen on the receiving veth: still
     * CHECKSUM_PARTIAL, so its checksum field holds the kernel's pseudo-header sum.
     */
    private static final String CAPTURED_SYN = "0200 0000 000b 0200 0000 000a 86dd 6003"
            + "fcf1 0028 0640 2001 0db8 0000 0000 0000 0000 0000 000a 2001 0db8 0000 0000 0000"
            + "0000 0000 000b b43c 1f90 cc2e 5e36 0000 0000 a002 fd20 5bb5 0000 0204 05a0 0402"
            + "080a 2145 8526 0000 0000 0103 030a";

    private static final long DB8 = 0x2001_0db8_0000_0000L;

    private static byte[] hex(String s) {
        s = s.replace(" ", "");
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    private static MemorySegment seg(byte[] bytes) {
        MemorySegment seg = Arena.ofAuto().allocate(OFF + bytes.length, 1);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, OFF, bytes.length);
        return seg;
    }

    /** An IPv6 view over a captured Ethernet frame, walked. */
    private static Ipv6Header walked(MemorySegment seg, int frameLen) {
        Ipv6Header ip = new Ipv6Header().wrap(seg, OFF + 14);
        assertEquals(Ipv6Chain.OK, ip.walk(frameLen - 14));
        return ip;
    }

    @Test
    void fixedHeaderOfACapturedSyn() {
        byte[] f = hex(CAPTURED_SYN);
        MemorySegment seg = seg(f);
        Ipv6Header ip = walked(seg, f.length);
        assertEquals(6, ip.version());
        assertEquals(0x00, ip.trafficClass());
        assertEquals(0x3fcf1, ip.flowLabel());
        assertEquals(40, ip.payloadLength());
        assertEquals(6, ip.nextHeader());
        assertEquals(64, ip.hopLimit());
        assertEquals(DB8, ip.srcHi());
        assertEquals(0xa, ip.srcLo());
        assertEquals(DB8, ip.dstHi());
        assertEquals(0xb, ip.dstLo());
        assertEquals(6, ip.upperProtocol());
        assertEquals(OFF + 54, ip.upperOffset());
        assertEquals(0, ip.extensionLength());
        assertEquals(40, ip.upperLength());
        assertFalse(ip.isFragment());

        ip.setVersionClassFlow(0xb8, 0x12345).setHopLimit(63).setPayloadLength(0x0102).setNextHeader(17)
                .setSrc(0x0102030405060708L, 0x090a0b0c0d0e0f10L).setDst(-1L, 0x1112131415161718L);
        assertArrayEquals(hex("6b81 2345 0102 113f 0102 0304 0506 0708 090a 0b0c 0d0e 0f10"
                + "ffff ffff ffff ffff 1112 1314 1516 1718"), seg.asSlice(OFF + 14, 40).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void tcpChecksumsOfACapturedSyn() {
        byte[] f = hex(CAPTURED_SYN);
        MemorySegment seg = seg(f);
        Ipv6Header ip = walked(seg, f.length);
        assertEquals(0x5bb5, Checksum.pseudoHeaderSum6(ip.srcHi(), ip.srcLo(), ip.dstHi(), ip.dstLo(), 6, 40),
                "the pseudo-header sum the kernel left in the CHECKSUM_PARTIAL field");
        // The full checksum, computed from the capture by an independent RFC 1071 sum (Python).
        assertEquals(0x4acc, Checksum.l4v6(seg, ip.upperOffset(), 40, 6, ip.srcHi(), ip.srcLo(), ip.dstHi(), ip.dstLo()));

        // Source rewritten to fd00:ffff:1234:5678:9abc:def0:fedc:ba98; both values again from Python.
        long nHi = 0xfd00_ffff_1234_5678L;
        long nLo = 0x9abc_def0_fedc_ba98L;
        assertEquals(0xdfbe, Checksum.update128(0x4acc, DB8, 0xa, nHi, nLo));
        assertEquals(0xc6c2, Checksum.updatePartial128(0x5bb5, DB8, 0xa, nHi, nLo));
        assertEquals(0xc6c2, Checksum.pseudoHeaderSum6(nHi, nLo, DB8, 0xb, 6, 40));
        // And back: an update and its inverse restore the original.
        assertEquals(0x4acc, Checksum.update128(0xdfbe, nHi, nLo, DB8, 0xa));
    }

    @Test
    void icmpv6ChecksumAndNdpOfACapturedSolicitation() {
        byte[] f = hex(CAPTURED_NS);
        MemorySegment seg = seg(f);
        Ipv6Header ip = walked(seg, f.length);
        assertEquals(58, ip.upperProtocol());
        assertEquals(255, ip.hopLimit());
        Icmpv6Header icmp = new Icmpv6Header().wrap(seg, ip.upperOffset());
        assertEquals(Icmpv6Header.TYPE_NEIGHBOR_SOLICITATION, icmp.type());
        assertEquals(0, icmp.code());
        assertEquals(0x1c03, icmp.checksum());
        assertEquals(0x1c03, Checksum.l4v6(seg, ip.upperOffset(), 32, 58, ip.srcHi(), ip.srcLo(), ip.dstHi(), ip.dstLo()));
        assertEquals(DB8, icmp.targetHi());
        assertEquals(0xb, icmp.targetLo());
        assertEquals(NdpCheck.OK, icmp.checkNeighborMessage(ip, 32));
        assertEquals(0x02_00_00_00_00_0aL, icmp.linkAddressOption(Icmpv6Header.OPTION_SOURCE_LINK_ADDRESS, 32));
        assertEquals(-1, icmp.linkAddressOption(Icmpv6Header.OPTION_TARGET_LINK_ADDRESS, 32));
        // Sent to the target's solicited-node group, at the group's multicast MAC.
        assertEquals(Ipv6Header.SOLICITED_NODE_HI, ip.dstHi());
        assertEquals(Ipv6Header.solicitedNodeLo(icmp.targetLo()), ip.dstLo());
        assertEquals(0x3333_ff00_000bL, Ipv6Header.multicastMac(ip.dstLo()));
    }

    @Test
    void duplicateAddressDetectionFromTheUnspecifiedAddress() {
        byte[] f = hex(CAPTURED_DAD_NS);
        MemorySegment seg = seg(f);
        Ipv6Header ip = walked(seg, f.length);
        assertTrue(Ipv6Header.isUnspecified(ip.srcHi(), ip.srcLo()));
        Icmpv6Header icmp = new Icmpv6Header().wrap(seg, ip.upperOffset());
        assertEquals(0x74d6, Checksum.l4v6(seg, ip.upperOffset(), 32, 58, 0, 0, ip.dstHi(), ip.dstLo()));
        assertEquals(NdpCheck.OK, icmp.checkNeighborMessage(ip, 32), "a nonce option is fine");
        assertEquals(-1, icmp.linkAddressOption(Icmpv6Header.OPTION_SOURCE_LINK_ADDRESS, 32));
        assertTrue(Ipv6Header.isLinkLocal(icmp.targetHi()));
    }

    @Test
    void writesTheAdvertisementLinuxSends() {
        byte[] expected = hex(CAPTURED_NA);
        byte[] f = new byte[expected.length];
        System.arraycopy(expected, 0, f, 0, 14 + 40); // Ethernet and IPv6 headers as captured
        MemorySegment seg = seg(f);
        Ipv6Header ip = new Ipv6Header().wrap(seg, OFF + 14);
        Icmpv6Header na = new Icmpv6Header().wrap(seg, OFF + 54);
        na.writeNeighborAdvertisement(DB8, 0xb, Icmpv6Header.NA_FLAG_SOLICITED | Icmpv6Header.NA_FLAG_OVERRIDE,
                0x02_00_00_00_00_0bL);
        na.setChecksum(Checksum.l4v6(seg, OFF + 54, 32, 58, ip.srcHi(), ip.srcLo(), ip.dstHi(), ip.dstLo()));
        assertArrayEquals(expected, seg.asSlice(OFF, f.length).toArray(ValueLayout.JAVA_BYTE));

        Ipv6Header rip = walked(seg(expected), expected.length);
        Icmpv6Header read = new Icmpv6Header().wrap(rip.segment(), rip.upperOffset());
        assertEquals(NdpCheck.OK, read.checkNeighborMessage(rip, 32));
        assertEquals(0x60, read.advertisementFlags());
        assertEquals(0x02_00_00_00_00_0bL, read.linkAddressOption(Icmpv6Header.OPTION_TARGET_LINK_ADDRESS, 32));
    }

    @Test
    void writesTheSolicitationLinuxSends() {
        byte[] expected = hex(CAPTURED_NS);
        byte[] f = new byte[expected.length];
        System.arraycopy(expected, 0, f, 0, 54);
        MemorySegment seg = seg(f);
        Ipv6Header ip = new Ipv6Header().wrap(seg, OFF + 14);
        Icmpv6Header ns = new Icmpv6Header().wrap(seg, OFF + 54).writeNeighborSolicitation(DB8, 0xb, 0x02_00_00_00_00_0aL);
        ns.setChecksum(Checksum.l4v6(seg, OFF + 54, 32, 58, ip.srcHi(), ip.srcLo(), ip.dstHi(), ip.dstLo()));
        assertArrayEquals(expected, seg.asSlice(OFF, f.length).toArray(ValueLayout.JAVA_BYTE));
    }

    /** Each RFC 4861 7.1.1/7.1.2 check, by changing one field of a captured message. */
    @Test
    void ndpReceiveChecks() {
        assertEquals(NdpCheck.HOP_LIMIT_NOT_255, ndp(CAPTURED_NS, 32, b -> b[21] = (byte) 254));
        assertEquals(NdpCheck.BAD_CODE, ndp(CAPTURED_NS, 32, b -> b[55] = 1));
        assertEquals(NdpCheck.TOO_SHORT, ndp(CAPTURED_NS, 23, b -> { }));
        assertEquals(NdpCheck.MULTICAST_TARGET, ndp(CAPTURED_NS, 32, b -> b[62] = (byte) 0xff));
        assertEquals(NdpCheck.BAD_OPTION_LENGTH, ndp(CAPTURED_NS, 32, b -> b[79] = 0), "length 0");
        assertEquals(NdpCheck.BAD_OPTION_LENGTH, ndp(CAPTURED_NS, 32, b -> b[79] = 2), "16 bytes in 8");
        assertEquals(NdpCheck.BAD_OPTION_LENGTH, ndp(CAPTURED_NS, 33, b -> { }), "a lone byte after the option");
        assertEquals(NdpCheck.NOT_NEIGHBOR_MESSAGE, ndp(CAPTURED_NS, 32, b -> b[54] = (byte) 128));
        assertEquals(NdpCheck.DAD_NOT_TO_SOLICITED_NODE, ndp(CAPTURED_DAD_NS, 32, b -> b[50] = (byte) 0xfe));
        assertEquals(NdpCheck.DAD_WITH_SOURCE_LINK_ADDRESS, ndp(CAPTURED_DAD_NS, 32, b -> b[78] = 1));
        assertEquals(NdpCheck.SOLICITED_TO_MULTICAST, ndp(CAPTURED_NA, 32, b -> b[38] = (byte) 0xff));
        assertEquals(NdpCheck.OK, ndp(CAPTURED_NA, 32, b -> {
            b[38] = (byte) 0xff;
            b[58] = 0x20; // override only: unsolicited advertisements go to ff02::1
        }));
    }

    private static NdpCheck ndp(String captured, int icmpLen, java.util.function.Consumer<byte[]> edit) {
        byte[] f = hex(captured);
        edit.accept(f);
        MemorySegment seg = seg(f);
        Ipv6Header ip = new Ipv6Header().wrap(seg, OFF + 14);
        return new Icmpv6Header().wrap(seg, OFF + 54).checkNeighborMessage(ip, icmpLen);
    }

    // ------------------------------------------------------------------ extension headers

    /** A 40-byte IPv6 header with {@code next} and the payload length of {@code rest}, then {@code rest}. */
    private static MemorySegment packet(int next, String rest) {
        byte[] r = hex(rest);
        byte[] p = new byte[40 + r.length];
        p[0] = 0x60;
        p[4] = (byte) (r.length >> 8);
        p[5] = (byte) r.length;
        p[6] = (byte) next;
        p[7] = 64;
        System.arraycopy(r, 0, p, 40, r.length);
        return seg(p);
    }

    private static Ipv6Header view(MemorySegment seg) {
        return new Ipv6Header().wrap(seg, OFF);
    }

    @Test
    void walksEveryExtensionHeaderToTheUpperLayer() {
        MemorySegment seg = packet(0,
                "3c00 0102 0400 0000"                                // hop-by-hop, 8 bytes -> dest options
                        + "2b01 0000 0000 0000 0000 0000 0000 0000"  // dest options, len 1 = 16 bytes -> routing
                        + "3300 0000 0000 0000"                      // routing, 8 bytes -> AH
                        + "2c04 0000 0000 1000 0000 0001 0000 0000 0000 0000 0000 0000" // AH len 4 = 24 bytes -> fragment
                        + "1100 0001 dead beef"                      // fragment, offset 0, M=1 -> UDP
                        + "1234 0035 0008 0000");                    // UDP
        Ipv6Header ip = view(seg);
        assertEquals(Ipv6Chain.OK, ip.walk(40 + 72));
        assertEquals(17, ip.upperProtocol());
        assertEquals(OFF + 104, ip.upperOffset());
        assertEquals(64, ip.extensionLength());
        assertEquals(8, ip.upperLength());
        assertTrue(ip.isFragment());
        assertEquals(0, ip.fragmentOffset());
        assertTrue(ip.moreFragments());
        assertEquals(0xdeadbeef, ip.fragmentId());
        assertEquals(8, ip.fragmentDataLength(), "the UDP header after the fragment header");
        assertEquals(56 + 8, ip.reassembledPayloadLength(), "56 bytes of unfragmentable headers, then offset 0 + 8");
    }

    @Test
    void aLaterFragmentHasNoUpperLayerHeader() {
        // Offset 185 * 8 = 1480, M=0: the bytes after it continue the original payload.
        Ipv6Header ip = view(packet(44, "0600 05c8 0000 0007 4745 5420 2f20 4854"));
        assertEquals(Ipv6Chain.OK, ip.walk(56));
        assertEquals(6, ip.upperProtocol());
        assertEquals(-1, ip.upperOffset());
        assertTrue(ip.isFragment());
        assertEquals(1480, ip.fragmentOffset());
        assertFalse(ip.moreFragments());
        assertEquals(7, ip.fragmentId());
        assertEquals(8, ip.fragmentDataLength());
        assertEquals(1480 + 8, ip.reassembledPayloadLength());
    }

    @Test
    void espAndNoNextHeaderEndTheWalk() {
        Ipv6Header esp = view(packet(50, "0000 0100 0000 0001"));
        assertEquals(Ipv6Chain.OK, esp.walk(48));
        assertEquals(50, esp.upperProtocol());
        assertEquals(OFF + 40, esp.upperOffset());
        Ipv6Header none = view(packet(60, "3b00 0000 0000 0000"));
        assertEquals(Ipv6Chain.OK, none.walk(48));
        assertEquals(59, none.upperProtocol());
        assertEquals(0, none.upperLength());
    }

    @Test
    void bytesAfterThePayloadAreNotWalked() {
        // Payload length 8 (a UDP header), then Ethernet padding that would read as a bad chain.
        MemorySegment seg = packet(17, "1234 0035 0008 0000 0000 0000 0000 0000");
        Bytes5.u16(seg, OFF + 4, 8);
        Ipv6Header ip = view(seg);
        assertEquals(Ipv6Chain.OK, ip.walk(56));
        assertEquals(8, ip.upperLength());
    }

    @Test
    void namesEachWayAChainIsBroken() {
        assertEquals(Ipv6Chain.TRUNCATED_HEADER, view(packet(6, "")).walk(39));
        MemorySegment v4 = packet(6, "");
        Bytes5.u8(v4, OFF, 0x45);
        assertEquals(Ipv6Chain.BAD_VERSION, view(v4).walk(40));
        MemorySegment longer = packet(17, "1234 0035 0008 0000");
        Bytes5.u16(longer, OFF + 4, 9);
        assertEquals(Ipv6Chain.PAYLOAD_BEYOND_FRAME, view(longer).walk(48));
        assertEquals(Ipv6Chain.TRUNCATED_EXTENSION, view(packet(43, "06")).walk(41), "not even next + length");
        assertEquals(Ipv6Chain.TRUNCATED_EXTENSION, view(packet(43, "0601 0000 0000 0000")).walk(48),
                "a 16-byte routing header in 8 bytes of payload");
        assertEquals(Ipv6Chain.TRUNCATED_EXTENSION, view(packet(51, "0602 0000 0000 0000 0000 0000")).walk(52),
                "AH of (2 + 2) * 4 = 16 bytes in 12");
        assertEquals(Ipv6Chain.TRUNCATED_EXTENSION, view(packet(44, "0600 0000 0000")).walk(46),
                "a fragment header cut short");
        assertEquals(Ipv6Chain.HOP_BY_HOP_NOT_FIRST, view(packet(60, "0000 0000 0000 0000 0600 0000 0000 0000")).walk(56));
        assertEquals(Ipv6Chain.NESTED_FRAGMENT, view(packet(44, "2c00 0001 0000 0001 0600 0000 0000 0002")).walk(56));
    }

    @Test
    void addressClasses() {
        assertTrue(Ipv6Header.isMulticast(0xff02_0000_0000_0000L));
        assertFalse(Ipv6Header.isMulticast(0xfe80_0000_0000_0000L));
        assertTrue(Ipv6Header.isLinkLocal(0xfe80_0000_0000_0000L));
        assertTrue(Ipv6Header.isLinkLocal(0xfebf_ffff_0000_0000L));
        assertFalse(Ipv6Header.isLinkLocal(0xfec0_0000_0000_0000L));
        assertEquals(0x0000_0001_ff12_3456L, Ipv6Header.solicitedNodeLo(0xdead_beef_ab12_3456L));
    }

    /** Raw byte edits without going through the views under test. */
    private static final class Bytes5 {
        static void u8(MemorySegment s, long off, int v) {
            s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
        }

        static void u16(MemorySegment s, long off, int v) {
            u8(s, off, v >> 8);
            u8(s, off + 1, v);
        }
    }
}
