package io.jvs.forwarder.vrrp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The advertisement against packets written here byte by byte from RFC 3768 section 5.1 and
 * RFC 5798 section 5.1 (checksums worked out outside jvs, RFC 1071 over the bytes shown, v3 with
 * the IPv4 pseudo-header), never produced by {@link VrrpPacket#encode}.
 */
class VrrpPacketTest {
    static final int VIP = Ipv4Address.parse("10.0.0.100");
    static final int SRC = Ipv4Address.parse("10.0.0.2");

    /** v2: ver 2 type 1, VRID 51, prio 150, 1 address, auth PASS, 1 s, checksum 0xf64d, 10.0.0.100, "jvs-it\0\0". */
    static final byte[] V2 = {
        0x21, 0x33, (byte) 0x96, 0x01, 0x01, 0x01, (byte) 0xf6, 0x4d,
        10, 0, 0, 100,
        'j', 'v', 's', '-', 'i', 't', 0, 0,
    };
    /** v3: ver 3 type 1, VRID 51, prio 150, 1 address, rsvd 0 + max adver int 100 cs, checksum 0x4372 (pseudo-header 10.0.0.2 -> 224.0.0.18). */
    static final byte[] V3 = {
        0x31, 0x33, (byte) 0x96, 0x01, 0x00, 0x64, 0x43, 0x72,
        10, 0, 0, 100,
    };
    /** v3 from 10.0.0.3: VRID 7, prio 100, 2 addresses, 250 cs (0x0fa), checksum 0x6a9d. */
    static final byte[] V3_TWO = {
        0x31, 0x07, 0x64, 0x02, 0x00, (byte) 0xfa, 0x6a, (byte) 0x9d,
        10, 0, 0, 100,
        10, 0, 0, 101,
    };

    /** An IPv4 header (no options) from src to 224.0.0.18, protocol 112, then the VRRP message. */
    static byte[] ip(byte[] vrrp, int ttl, int src) {
        byte[] p = new byte[20 + vrrp.length];
        p[0] = 0x45;
        p[2] = (byte) (p.length >> 8);
        p[3] = (byte) p.length;
        p[8] = (byte) ttl;
        p[9] = 112;
        p[12] = (byte) (src >>> 24);
        p[13] = (byte) (src >>> 16);
        p[14] = (byte) (src >>> 8);
        p[15] = (byte) src;
        p[16] = (byte) 224;
        p[19] = 18;
        System.arraycopy(vrrp, 0, p, 20, vrrp.length);
        return p;
    }

    static VrrpConfig.Instance instance(int version, int vrid, String pass, int addrs) {
        List<VrrpConfig.Address> a = addrs == 1 ? List.of(new VrrpConfig.Address(VIP, 32, null))
                : List.of(new VrrpConfig.Address(VIP, 32, null), new VrrpConfig.Address(VIP + 1, 32, null));
        return new VrrpConfig.Instance("VI_1", "eth0", vrid, 150, 100, version, VrrpConfig.InitialState.BACKUP,
                false, 0, pass, a, List.of(), List.of(), List.of(), List.of(), List.of(), 5000, 5, false, 0,
                List.of(), "t:1");
    }

    @Test
    void encodesV2AsTheRfcLaysItOut() {
        assertArrayEquals(V2, VrrpPacket.encode(2, 51, 150, 100, new int[] {VIP}, "jvs-it", SRC, VrrpPacket.MULTICAST_GROUP));
    }

    @Test
    void encodesV3WithThePseudoHeaderInTheChecksum() {
        assertArrayEquals(V3, VrrpPacket.encode(3, 51, 150, 100, new int[] {VIP}, null, SRC, VrrpPacket.MULTICAST_GROUP));
        assertArrayEquals(V3_TWO, VrrpPacket.encode(3, 7, 100, 250, new int[] {VIP, VIP + 1}, null,
                Ipv4Address.parse("10.0.0.3"), VrrpPacket.MULTICAST_GROUP));
    }

    @Test
    void decodesGoldenPackets() throws VrrpPacket.Malformed {
        VrrpPacket.Advert a = VrrpPacket.decode(ip(V2, 255, SRC), 20 + V2.length, 2);
        assertEquals(2, a.version());
        assertEquals(51, a.vrid());
        assertEquals(150, a.priority());
        assertEquals(100, a.advertIntCentis());
        assertArrayEquals(new int[] {VIP}, a.addrs());
        assertEquals(VrrpPacket.AUTH_PASS, a.authType());
        assertArrayEquals(new byte[] {'j', 'v', 's', '-', 'i', 't', 0, 0}, a.authData());
        assertEquals(SRC, a.srcAddr());
        assertNull(VrrpPacket.check(a, instance(2, 51, "jvs-it", 1)));

        VrrpPacket.Advert b = VrrpPacket.decode(ip(V3_TWO, 255, Ipv4Address.parse("10.0.0.3")), 20 + V3_TWO.length, 3);
        assertEquals(7, b.vrid());
        assertEquals(100, b.priority());
        assertEquals(250, b.advertIntCentis());
        assertArrayEquals(new int[] {VIP, VIP + 1}, b.addrs());
        assertNull(VrrpPacket.check(b, instance(3, 7, null, 2)));
    }

    private static VrrpPacket.Drop drop(byte[] packet, int version) {
        return assertThrows(VrrpPacket.Malformed.class, () -> VrrpPacket.decode(packet, packet.length, version)).reason();
    }

    @Test
    void ttlOtherThan255IsDropped() {
        assertEquals(VrrpPacket.Drop.TTL, drop(ip(V2, 254, SRC), 2));
        assertEquals(VrrpPacket.Drop.TTL, drop(ip(V3, 1, SRC), 3));
    }

    /** v3 from 10.0.0.2 to the unicast peer 10.0.0.3: V3's message, checksum 0x1982 (the pseudo-header's destination differs). */
    static final byte[] V3_UNICAST = {
        0x31, 0x33, (byte) 0x96, 0x01, 0x00, 0x64, 0x19, (byte) 0x82,
        10, 0, 0, 100,
    };
    static final int PEER = Ipv4Address.parse("10.0.0.3");

    /** {@link #ip} with another destination. */
    static byte[] ip(byte[] vrrp, int ttl, int src, int dst) {
        byte[] p = ip(vrrp, ttl, src);
        p[16] = (byte) (dst >>> 24);
        p[17] = (byte) (dst >>> 16);
        p[18] = (byte) (dst >>> 8);
        p[19] = (byte) dst;
        return p;
    }

    /**
     * keepalived sends unicast advertisements (unicast_peer) with TTL 64 and does not check the
     * TTL of unicast ones itself: only an advertisement to 224.0.0.18 must come with TTL 255.
     */
    @Test
    void unicastAdvertsAreTakenWhateverTheTtlMulticastOnesNeed255() throws VrrpPacket.Malformed {
        assertEquals(VrrpPacket.Drop.TTL, drop(ip(V2, 64, SRC), 2), "multicast with TTL 64");
        assertEquals(VrrpPacket.Drop.TTL, drop(ip(V3, 64, SRC), 3), "multicast with TTL 64");
        VrrpPacket.Advert a = VrrpPacket.decode(ip(V2, 64, SRC, PEER), 40, 2);
        assertEquals(150, a.priority());
        assertEquals(SRC, a.srcAddr());
        VrrpPacket.Advert b = VrrpPacket.decode(ip(V3_UNICAST, 64, SRC, PEER), 32, 3);
        assertEquals(51, b.vrid());
        assertArrayEquals(new int[] {VIP}, b.addrs());
        assertEquals(VrrpPacket.Drop.CHECKSUM, drop(ip(V3, 64, SRC, PEER), 3),
                "the multicast message to a unicast address: the pseudo-header's destination is checked");
    }

    @Test
    void wrongVersionIsDropped() {
        assertEquals(VrrpPacket.Drop.VERSION, drop(ip(V2, 255, SRC), 3));
        assertEquals(VrrpPacket.Drop.VERSION, drop(ip(V3, 255, SRC), 2));
    }

    @Test
    void badChecksumIsDropped() {
        byte[] v2 = V2.clone();
        v2[2] = (byte) 0x97; // priority changed, checksum not
        assertEquals(VrrpPacket.Drop.CHECKSUM, drop(ip(v2, 255, SRC), 2));
        // v3: the same message from another source fails the pseudo-header sum
        assertEquals(VrrpPacket.Drop.CHECKSUM, drop(ip(V3, 255, Ipv4Address.parse("10.0.0.9")), 3));
    }

    @Test
    void truncatedAndWrongTypeAreDropped() {
        byte[] shortOne = java.util.Arrays.copyOf(ip(V2, 255, SRC), 30);
        shortOne[3] = 30;
        assertEquals(VrrpPacket.Drop.TRUNCATED, drop(shortOne, 2));
        byte[] type2 = V3.clone();
        type2[0] = 0x32;
        assertEquals(VrrpPacket.Drop.TYPE, drop(ip(type2, 255, SRC), 3));
    }

    @Test
    void instanceChecks() throws VrrpPacket.Malformed {
        VrrpPacket.Advert a = VrrpPacket.decode(ip(V2, 255, SRC), 20 + V2.length, 2);
        assertEquals(VrrpPacket.Drop.AUTH, VrrpPacket.check(a, instance(2, 51, "other", 1)), "wrong password");
        assertEquals(VrrpPacket.Drop.AUTH, VrrpPacket.check(a, instance(2, 51, null, 1)), "PASS where none is set");
        assertEquals(VrrpPacket.Drop.ADDRESS_COUNT, VrrpPacket.check(a, instance(2, 51, "jvs-it", 2)));
        VrrpConfig.Instance slow = new VrrpConfig.Instance("VI_1", "eth0", 51, 150, 200, 2,
                VrrpConfig.InitialState.BACKUP, false, 0, "jvs-it", instance(2, 51, null, 1).addresses(), List.of(),
                List.of(), List.of(), List.of(), List.of(), 5000, 5, false, 0, List.of(), "t:1");
        assertEquals(VrrpPacket.Drop.ADVERT_INTERVAL, VrrpPacket.check(a, slow));
        assertEquals(51, VrrpPacket.peekVrid(ip(V2, 255, SRC), 40));
        assertEquals(-1, VrrpPacket.peekVrid(new byte[24], 24));
    }

    // ------------------------------------------------------------ VRRPv3 over IPv6 (RFC 5798 section 5.1)

    static final Ipv6Address FE80_2 = Ipv6Address.parse("fe80::2");
    static final Ipv6Address FE80_3 = Ipv6Address.parse("fe80::3");
    static final Ipv6Address GW6 = Ipv6Address.parse("2001:db8::254");
    static final Ipv6Address VIP6 = Ipv6Address.parse("2001:db8::100");

    /**
     * From fe80::2 to ff02::12: ver 3 type 1, VRID 51, prio 150, 1 address, rsvd 0 + max adver
     * int 100 cs, checksum 0x0a3a (RFC 1071 over the RFC 8200 pseudo-header: source, destination,
     * length 24 as 32 bits, three zeros, next header 112; then the message), 2001:db8::254.
     */
    static final byte[] V6 = {
        0x31, 0x33, (byte) 0x96, 0x01, 0x00, 0x64, 0x0a, 0x3a,
        0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54,
    };
    /** From fe80::3 to ff02::12: VRID 7, prio 100, 2 addresses, 250 cs, checksum 0x0d05. */
    static final byte[] V6_TWO = {
        0x31, 0x07, 0x64, 0x02, 0x00, (byte) 0xfa, 0x0d, 0x05,
        0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54,
        0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
    };

    static VrrpConfig.Instance instance6(int vrid, List<Ipv6Address> addrs) {
        return new VrrpConfig.Instance("VI_6", "eth0", vrid, 150, 100, 3, VrrpConfig.InitialState.BACKUP,
                false, 0, null, List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), 5000, 5, false, 0,
                List.of(), "t:1", List.of(), addrs, null, List.of());
    }

    private static VrrpPacket.Advert decode6(byte[] m, int hopLimit, Ipv6Address src) throws VrrpPacket.Malformed {
        return VrrpPacket.decode6(m, m.length, hopLimit, src.hi(), src.lo(), VrrpPacket.MULTICAST_GROUP6_HI,
                VrrpPacket.MULTICAST_GROUP6_LO);
    }

    private static VrrpPacket.Drop drop6(byte[] m, int hopLimit, Ipv6Address src) {
        return assertThrows(VrrpPacket.Malformed.class, () -> decode6(m, hopLimit, src)).reason();
    }

    @Test
    void encodesV3OverIpv6WithTheIpv6PseudoHeaderInTheChecksum() {
        assertArrayEquals(V6, VrrpPacket.encode6(51, 150, 100, new long[] {GW6.hi(), GW6.lo()}, FE80_2.hi(),
                FE80_2.lo(), VrrpPacket.MULTICAST_GROUP6_HI, VrrpPacket.MULTICAST_GROUP6_LO));
        assertArrayEquals(V6_TWO, VrrpPacket.encode6(7, 100, 250, new long[] {GW6.hi(), GW6.lo(), VIP6.hi(), VIP6.lo()},
                FE80_3.hi(), FE80_3.lo(), VrrpPacket.MULTICAST_GROUP6_HI, VrrpPacket.MULTICAST_GROUP6_LO));
        assertEquals(Ipv6Address.parse("ff02::12"),
                new Ipv6Address(VrrpPacket.MULTICAST_GROUP6_HI, VrrpPacket.MULTICAST_GROUP6_LO));
    }

    @Test
    void decodesGoldenIpv6Packets() throws VrrpPacket.Malformed {
        VrrpPacket.Advert a = decode6(V6, 255, FE80_2);
        assertEquals(3, a.version());
        assertEquals(51, a.vrid());
        assertEquals(150, a.priority());
        assertEquals(100, a.advertIntCentis());
        assertArrayEquals(new long[] {GW6.hi(), GW6.lo()}, a.addrs6());
        assertEquals(0, a.addrs().length);
        assertEquals(FE80_2.hi(), a.srcHi());
        assertEquals(FE80_2.lo(), a.srcLo());
        assertNull(VrrpPacket.check(a, instance6(51, List.of(GW6))));

        VrrpPacket.Advert b = decode6(V6_TWO, 255, FE80_3);
        assertEquals(7, b.vrid());
        assertEquals(250, b.advertIntCentis());
        assertArrayEquals(new long[] {GW6.hi(), GW6.lo(), VIP6.hi(), VIP6.lo()}, b.addrs6());
        assertNull(VrrpPacket.check(b, instance6(7, List.of(VIP6, GW6))), "the order of the list does not matter");
    }

    static final Ipv6Address DB8_2 = Ipv6Address.parse("2001:db8::2");
    static final Ipv6Address DB8_3 = Ipv6Address.parse("2001:db8::3");
    /** From 2001:db8::3 to the unicast peer 2001:db8::2: VRID 61, prio 100, 2001:db8::254, 100 cs, checksum 0xde50. */
    static final byte[] V6_UNICAST = {
        0x31, 0x3d, 0x64, 0x01, 0x00, 0x64, (byte) 0xde, 0x50,
        0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54,
    };

    /** As over IPv4: keepalived's unicast adverts come with hop limit 64; to ff02::12 it must be 255. */
    @Test
    void unicastIpv6AdvertsAreTakenWhateverTheHopLimitMulticastOnesNeed255() throws VrrpPacket.Malformed {
        assertEquals(VrrpPacket.Drop.TTL, drop6(V6, 64, FE80_2), "to ff02::12 with hop limit 64");
        VrrpPacket.Advert a = VrrpPacket.decode6(V6_UNICAST, V6_UNICAST.length, 64, DB8_3.hi(), DB8_3.lo(),
                DB8_2.hi(), DB8_2.lo());
        assertEquals(61, a.vrid());
        assertEquals(100, a.priority());
        assertEquals(DB8_3.lo(), a.srcLo());
        assertArrayEquals(new long[] {GW6.hi(), GW6.lo()}, a.addrs6());
        assertNull(VrrpPacket.check(a, instance6(61, List.of(GW6))));
        assertEquals(VrrpPacket.Drop.CHECKSUM, assertThrows(VrrpPacket.Malformed.class, () -> VrrpPacket.decode6(
                V6_UNICAST, V6_UNICAST.length, 64, DB8_3.hi(), DB8_3.lo(), DB8_3.hi(), DB8_3.lo())).reason(),
                "another destination: the pseudo-header differs");
    }

    @Test
    void badIpv6AdvertsAreDroppedByReason() throws VrrpPacket.Malformed {
        assertEquals(VrrpPacket.Drop.TTL, drop6(V6, 254, FE80_2), "hop limit 254");
        assertEquals(VrrpPacket.Drop.CHECKSUM, drop6(V6, 255, FE80_3), "another source: the pseudo-header differs");
        byte[] prio = V6.clone();
        prio[2] = (byte) 0x97;
        assertEquals(VrrpPacket.Drop.CHECKSUM, drop6(prio, 255, FE80_2));
        byte[] v2 = V6.clone();
        v2[0] = 0x21; // a VRRPv2 header over IPv6
        assertEquals(VrrpPacket.Drop.VERSION, drop6(v2, 255, FE80_2));
        byte[] type2 = V6.clone();
        type2[0] = 0x32;
        assertEquals(VrrpPacket.Drop.TYPE, drop6(type2, 255, FE80_2));
        assertEquals(VrrpPacket.Drop.TRUNCATED, drop6(java.util.Arrays.copyOf(V6, 20), 255, FE80_2), "count 1, 12 bytes");
        assertEquals(VrrpPacket.Drop.TRUNCATED, drop6(java.util.Arrays.copyOf(V6, 7), 255, FE80_2));
        VrrpPacket.Advert a = decode6(V6, 255, FE80_2);
        assertEquals(VrrpPacket.Drop.ADDRESS_COUNT, VrrpPacket.check(a, instance6(51, List.of(GW6, VIP6))));
        assertEquals(VrrpPacket.Drop.ADDRESS_LIST, VrrpPacket.check(a, instance6(51, List.of(VIP6))));
    }
}
