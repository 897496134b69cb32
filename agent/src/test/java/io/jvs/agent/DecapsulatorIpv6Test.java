package io.jvs.agent;

import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The decapsulator's IPv6 paths on hand-written bytes: what reaches the TUN device (a capturing
 * sink here) and what is counted. Raw AF_INET6 sockets hand over the inner packet with the outer
 * source in a sockaddr_in6; AF_INET raw sockets the whole outer IPv4 packet.
 */
class DecapsulatorIpv6Test {
    static final HexFormat HEX = HexFormat.of();
    /** IPv6/UDP 2001:db8:c::1 port 40000 -> 2001:db8::100 port 80, payload "hi": 40 + 8 + 2 = 50 bytes. */
    static final String INNER6 = "6000000000" + "0a" + "11" + "40"
            + "20010db8000c00000000000000000001"
            + "20010db8000000000000000000000100"
            + "9c400050000a0000" + "6869";
    /** IPv4/UDP 192.0.2.1 port 40000 -> 10.0.0.100 port 80, payload "hi": 20 + 8 + 2 = 30 bytes (checksums not checked). */
    static final String INNER4 = "4500001e00000000401100" + "00" + "c0000201" + "0a000064" + "9c400050000a0000" + "6869";
    /** sockaddr_in6 of the director 2001:db8:9::2 (family 10 little-endian, port 0, flowinfo, addr, scope). */
    static final String DIRECTOR6_SOCKADDR = "0a00" + "0000" + "00000000" + "20010db8000900000000000000000002" + "00000000";
    static final String STRANGER6_SOCKADDR = "0a00" + "0000" + "00000000" + "20010db8000900000000000000000003" + "00000000";

    final DecapCounters counters = new DecapCounters();
    final List<byte[]> written = new ArrayList<>();
    final Decapsulator d = new Decapsulator(List.of(0x0a090002), List.of(Ipv6Address.parse("2001:db8:9::2")),
            List.of(0x0a000064), List.of(Ipv6Address.parse("2001:db8::100")), counters,
            (p, len) -> {
                written.add(p.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE));
                return len;
            });

    @AfterEach
    void close() {
        d.close();
    }

    int put(String hex) {
        byte[] b = HEX.parseHex(hex);
        MemorySegment.copy(b, 0, d.buffer(), ValueLayout.JAVA_BYTE, 0, b.length);
        return b.length;
    }

    void from(String sockaddrHex) {
        byte[] b = HEX.parseHex(sockaddrHex);
        MemorySegment.copy(b, 0, d.peer(), ValueLayout.JAVA_BYTE, 0, b.length);
    }

    @Test
    void ip6ip6FromTheDirectorToTheVipIsInjectedByteForByte() {
        from(DIRECTOR6_SOCKADDR);
        d.raw6(put(INNER6 + "00000000"), 41);   // 4 bytes beyond the payload length are not the packet's
        assertEquals(1, written.size());
        assertArrayEquals(HEX.parseHex(INNER6), written.get(0));
        assertEquals(1, counters.packets(DecapCounters.Encap.IP6IP6));
        assertEquals(50, counters.bytes(DecapCounters.Encap.IP6IP6));
    }

    @Test
    void ip6ip6IsDroppedUnderItsReasonAndNeverInjected() {
        from(STRANGER6_SOCKADDR);
        d.raw6(put(INNER6), 41);
        assertEquals(1, counters.drops(DecapCounters.Drop.NOT_DIRECTOR));
        from(DIRECTOR6_SOCKADDR);
        d.raw6(put(INNER6.replace("20010db8000000000000000000000100", "20010db8000000000000000000000101")), 41);
        assertEquals(1, counters.drops(DecapCounters.Drop.NOT_VIP));
        d.raw6(put(INNER6.substring(0, 2 * 45)), 41);          // payload length 10, 5 bytes of it present
        d.raw6(put(INNER6.substring(0, 2 * 39)), 41);          // not even the fixed header
        d.raw6(put(INNER4), 41);                               // next header 41 but an IPv4 packet inside
        assertEquals(3, counters.drops(DecapCounters.Drop.MALFORMED));
        assertEquals(List.of(), written);
        assertEquals(0, counters.packets(DecapCounters.Encap.IP6IP6));
    }

    @Test
    void ipv4InIpv6AndIpv6InIpv4() {
        from(DIRECTOR6_SOCKADDR);
        d.raw6(put(INNER4), 4);
        assertEquals(1, counters.packets(DecapCounters.Encap.IPIP6));
        assertArrayEquals(HEX.parseHex(INNER4), written.get(0));
        // SIT: outer IPv4 10.9.0.2 -> 10.9.0.11, protocol 41, total 20 + 50 = 70 (0x46)
        String outer4 = "450000460000400040" + "29" + "0000" + "0a090002" + "0a09000b";
        d.raw4(put(outer4 + INNER6));
        assertEquals(1, counters.packets(DecapCounters.Encap.SIT));
        assertArrayEquals(HEX.parseHex(INNER6), written.get(1));
        d.raw4(put(outer4.replace("0a090002", "0a090003") + INNER6));
        assertEquals(1, counters.drops(DecapCounters.Drop.NOT_DIRECTOR));
        assertEquals(2, written.size());
    }

    @Test
    void gueOverIpv6CarriesEitherFamily() {
        from(DIRECTOR6_SOCKADDR);
        d.gue(put("00290000" + INNER6), true);   // version 0, hlen 0, proto_ctype 41
        d.gue(put("00040000" + INNER4), true);   // proto_ctype 4
        d.gue(put(INNER6), true);                // version 1: the bare packet, first nibble 6
        assertEquals(3, counters.packets(DecapCounters.Encap.GUE));
        assertArrayEquals(HEX.parseHex(INNER6), written.get(0));
        assertArrayEquals(HEX.parseHex(INNER4), written.get(1));
        assertArrayEquals(HEX.parseHex(INNER6), written.get(2));
        d.gue(put("00290000" + INNER4), true);   // says IPv6, carries IPv4
        assertEquals(1, counters.drops(DecapCounters.Drop.MALFORMED));
        d.gue(put("002f0000" + INNER6), true);   // proto_ctype 47 (GRE)
        assertEquals(1, counters.drops(DecapCounters.Drop.GUE_UNSUPPORTED));
        from(STRANGER6_SOCKADDR);
        d.gue(put("00290000" + INNER6), true);
        assertEquals(1, counters.drops(DecapCounters.Drop.NOT_DIRECTOR));
        assertEquals(3, written.size());
    }
}
