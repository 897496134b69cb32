package io.jvs.forwarder.frame;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.testkit.Frames;
import io.jvs.forwarder.testkit.FuzzChecks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The frame decoder on arbitrary bytes, in a segment exactly as long as the frame (any read past
 * it throws): it never throws, a BAD frame names its drop reason, and what it calls IPv4 holds
 * what the stages after it rely on, checked here against the bytes themselves (the IP header
 * checksum by the testkit's own RFC 1071 sum, not the main code's).
 */
class FrameDecoderFuzzTest {
    private final PacketContext ctx = new PacketContext();

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void decode(FuzzedDataProvider data) {
        boolean vnet = data.consumeBoolean();
        int maxFrame = data.consumeBoolean() ? FrameDecoder.MAX_FRAME : 1518;
        byte[] frame = data.consumeRemainingAsBytes();
        int vlen = vnet ? 10 : 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, vlen + frame.length), 1);
            MemorySegment.copy(frame, 0, seg, ValueLayout.JAVA_BYTE, vlen, frame.length);
            if (vnet && frame.length >= 10) {
                MemorySegment.copy(frame, 0, seg, ValueLayout.JAVA_BYTE, 0, 10); // arbitrary header too
            }
            ctx.seg = vlen + frame.length == 0 ? seg.asSlice(0, 0) : seg;
            ctx.vnetOff = vnet ? 0 : -1;
            ctx.frameOff = vlen;
            ctx.frameLen = frame.length;
            ctx.frameCapacity = frame.length;
            FrameKind kind = FrameDecoder.decode(ctx, maxFrame);
            assertNotNull(kind);
            if (vnet && frame.length < 10) {
                assertEquals(FrameKind.BAD, kind, "a virtio_net_hdr cut short");
            }
            switch (kind) {
                case BAD -> assertNotNull(ctx.drop, "a bad frame names why");
                case OTHER, ARP -> assertNull(ctx.drop);
                case IPV4 -> checkIpv4(frame);
                case IPV6 -> checkIpv6(frame);
            }
            if (frame.length > maxFrame) {
                assertEquals(FrameKind.BAD, kind, "oversized");
            }
        }
    }

    private void checkIpv6(byte[] frame) {
        assertNull(ctx.drop);
        int l3 = (int) (ctx.l3Off - ctx.frameOff);
        assertTrue(l3 == 14 || l3 == 18 || l3 == 22, "Ethernet + 0..2 tags: " + l3);
        assertEquals(0x86DD, Frames.u16(frame, l3 - 2));
        assertEquals(6, (frame[l3] & 0xFF) >> 4, "version");
        int end = l3 + 40 + Frames.u16(frame, l3 + 4);
        assertTrue(end <= frame.length, "payload inside the frame");
        assertEquals(frame[l3 + 7] & 0xFF, ctx.ttl);
        if (ctx.l4Off >= 0) {
            int l4 = (int) (ctx.l4Off - ctx.frameOff);
            int need = switch (ctx.ipProto) {
                case 6 -> 20;
                case 17, 58 -> 8;
                default -> 0;
            };
            assertTrue(l4 >= l3 + 40 && l4 + need <= end, "the fixed L4 header lies inside the payload");
            if (ctx.ipProto == 6 || ctx.ipProto == 17) {
                assertEquals(Frames.u16(frame, l4), ctx.srcPort);
                assertEquals(Frames.u16(frame, l4 + 2), ctx.dstPort);
            }
        } else {
            assertTrue(ctx.fragment, "only a later fragment has no upper-layer header");
        }
    }

    private void checkIpv4(byte[] frame) {
        assertNull(ctx.drop);
        int l3 = (int) (ctx.l3Off - ctx.frameOff);
        assertTrue(l3 == 14 || l3 == 18 || l3 == 22, "Ethernet + 0..2 tags: " + l3);
        assertEquals(0x0800, Frames.u16(frame, l3 - 2));
        int ihl = (frame[l3] & 0x0F) * 4;
        assertEquals(4, (frame[l3] & 0xFF) >> 4, "version");
        assertTrue(ihl >= 20 && l3 + ihl <= frame.length, "header inside the frame");
        assertEquals(0xFFFF, Frames.refSum(frame, l3, ihl, 0), "IPv4 header checksum verifies");
        int total = Frames.u16(frame, l3 + 2);
        assertTrue(total >= ihl && l3 + total <= frame.length, "datagram inside the frame");
        assertEquals(Frames.i32(frame, l3 + 12), ctx.srcAddr);
        assertEquals(Frames.i32(frame, l3 + 16), ctx.dstAddr);
        assertEquals(frame[l3 + 9] & 0xFF, ctx.ipProto);
        int frag = Frames.u16(frame, l3 + 6);
        assertEquals((frag & 0x3FFF) != 0, ctx.fragment, "fragment");
        if (ctx.l4Off >= 0) {
            int l4 = (int) (ctx.l4Off - ctx.frameOff);
            assertEquals(l3 + ihl, l4);
            int need = switch (ctx.ipProto) {
                case 6 -> 20;
                case 17, 1 -> 8;
                default -> 0;
            };
            assertTrue(l4 + need <= l3 + total, "the fixed L4 header lies inside the datagram");
            if (ctx.ipProto == 6 || ctx.ipProto == 17) {
                assertEquals(Frames.u16(frame, l4), ctx.srcPort);
                assertEquals(Frames.u16(frame, l4 + 2), ctx.dstPort);
            }
        }
    }
}
