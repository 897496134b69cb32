package io.jvs.forwarder.packet;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.testkit.FuzzChecks;
import io.jvs.packet.Icmpv6Header;
import io.jvs.packet.Ipv6Chain;
import io.jvs.packet.Ipv6Header;
import io.jvs.packet.NdpCheck;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 decoder on arbitrary bytes, in a segment exactly as long as the packet (a read
 * past it throws): the extension-header walk never throws, agrees with a byte-array walk
 * written here from RFC 8200 (the same answer, the same upper layer at the same offset),
 * and keeps what it reports inside the payload; for an ICMPv6 message, the NDP checks and
 * the option reader never read outside the message.
 */
class Ipv6HeaderFuzzTest {
    private final Ipv6Header ip = new Ipv6Header();
    private final Icmpv6Header icmp = new Icmpv6Header();

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void walk(FuzzedDataProvider data) {
        byte[] p = data.consumeRemainingAsBytes();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, p.length), 1);
            MemorySegment.copy(p, 0, seg, ValueLayout.JAVA_BYTE, 0, p.length);
            if (p.length == 0) {
                seg = seg.asSlice(0, 0);
            }
            Ipv6Chain chain = ip.wrap(seg, 0).walk(p.length);
            assertNotNull(chain);
            Reference ref = new Reference(p);
            assertEquals(ref.result, chain, "the reference walk's verdict");
            if (chain != Ipv6Chain.OK) {
                return;
            }
            int end = 40 + ((p[4] & 0xFF) << 8 | p[5] & 0xFF);
            assertEquals(ref.protocol, ip.upperProtocol());
            assertEquals(ref.l4, ip.upperOffset());
            assertEquals(ref.fragment, ip.isFragment());
            assertTrue(ip.upperLength() >= 0 && 40 + ip.extensionLength() + ip.upperLength() == end);
            if (ip.upperOffset() >= 0) {
                assertTrue(ip.upperOffset() >= 40 && ip.upperOffset() <= end);
            }
            if (ip.upperProtocol() == Ipv6Header.NEXT_ICMPV6 && ip.upperOffset() >= 0) {
                int len = ip.upperLength();
                MemorySegment msg = seg.asSlice(ip.upperOffset(), len);
                icmp.wrap(msg, 0);
                if (len == 0) {
                    return;
                }
                NdpCheck check = icmp.checkNeighborMessage(ip, len);
                assertNotNull(check);
                if (check == NdpCheck.OK) {
                    long sll = icmp.linkAddressOption(Icmpv6Header.OPTION_SOURCE_LINK_ADDRESS, len);
                    long tll = icmp.linkAddressOption(Icmpv6Header.OPTION_TARGET_LINK_ADDRESS, len);
                    assertTrue(sll >= -1 && sll <= 0xFFFF_FFFF_FFFFL && tll >= -1 && tll <= 0xFFFF_FFFF_FFFFL);
                }
            }
        }
    }

    /** RFC 8200's chain rules over a byte array, independently of the view. */
    private static final class Reference {
        Ipv6Chain result;
        int protocol = -1;
        long l4 = -1;
        boolean fragment;

        Reference(byte[] p) {
            if (p.length < 40) {
                result = Ipv6Chain.TRUNCATED_HEADER;
                return;
            }
            if ((p[0] & 0xF0) != 0x60) {
                result = Ipv6Chain.BAD_VERSION;
                return;
            }
            int end = 40 + ((p[4] & 0xFF) << 8 | p[5] & 0xFF);
            if (end > p.length) {
                result = Ipv6Chain.PAYLOAD_BEYOND_FRAME;
                return;
            }
            int next = p[6] & 0xFF;
            int at = 40;
            for (int seen = 0; ; seen++) {
                if (next == 0 && seen > 0) {
                    result = Ipv6Chain.HOP_BY_HOP_NOT_FIRST;
                    return;
                }
                if (next == 0 || next == 43 || next == 60 || next == 51 || next == 44) {
                    int need = next == 44 ? 8 : 2;
                    if (next == 44 && fragment) {
                        result = Ipv6Chain.NESTED_FRAGMENT;
                        return;
                    }
                    if (at + need > end) {
                        result = Ipv6Chain.TRUNCATED_EXTENSION;
                        return;
                    }
                    int size = next == 44 ? 8 : next == 51 ? 4 * ((p[at + 1] & 0xFF) + 2) : 8 * ((p[at + 1] & 0xFF) + 1);
                    if (at + size > end) {
                        result = Ipv6Chain.TRUNCATED_EXTENSION;
                        return;
                    }
                    boolean later = next == 44 && ((p[at + 2] & 0xFF) << 8 | p[at + 3] & 0xF8) != 0;
                    fragment |= next == 44;
                    next = p[at] & 0xFF;
                    at += size;
                    if (later) {
                        result = Ipv6Chain.OK;
                        protocol = next;
                        return;
                    }
                    continue;
                }
                result = Ipv6Chain.OK;
                protocol = next;
                l4 = at;
                return;
            }
        }
    }
}
