package io.jvs.forwarder.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvs.packet.Bytes;
import io.jvs.packet.Checksum;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

/** XskSocket's recognition of a CHECKSUM_PARTIAL frame that came through veth's XDP. */
class XskPartialChecksumTest {
    private static final int SRC = 0x0a00_0102;   // 10.0.1.2
    private static final int DST = 0x0a00_0064;   // 10.0.0.100
    private static final long VNET = 0;
    private static final long FRAME = 10;

    /** virtio_net_hdr (zeroed) + Ethernet + IPv4 + TCP (20) + 10 bytes of payload, TCP checksum {@code csum}. */
    private static MemorySegment tcpFrame(Arena a, int proto, int l4Len, int csumOffset, int csum, int fragField) {
        MemorySegment m = a.allocate(10 + 14 + 20 + l4Len);
        Bytes.u16(m, FRAME + 12, 0x0800);
        long ip = FRAME + 14;
        Bytes.u8(m, ip, 0x45);
        Bytes.u16(m, ip + 2, 20 + l4Len);
        Bytes.u16(m, ip + 6, fragField);
        Bytes.u8(m, ip + 8, 64);
        Bytes.u8(m, ip + 9, proto);
        Bytes.i32(m, ip + 12, SRC);
        Bytes.i32(m, ip + 16, DST);
        for (int i = 0; i < l4Len; i++) {
            Bytes.u8(m, ip + 20 + i, 0x30 + i);
        }
        Bytes.u16(m, ip + 20 + csumOffset, csum);
        return m;
    }

    @Test
    void aTcpSegmentWhoseChecksumIsThePseudoHeaderSumIsMarkedNeedsCsum() {
        try (Arena a = Arena.ofConfined()) {
            int pseudo = Checksum.pseudoHeaderSum(SRC, DST, 6, 30);
            MemorySegment m = tcpFrame(a, 6, 30, 16, pseudo, 0x4000);   // DF set: still unfragmented
            XskSocket.markPartialChecksum(m, VNET, FRAME, (int) m.byteSize() - 10);
            assertEquals(1, Bytes.u8(m, VNET), "flags: VIRTIO_NET_HDR_F_NEEDS_CSUM");
            assertEquals(34, Bytes.le16(m, VNET + 6), "csum_start: Ethernet 14 + IPv4 20");
            assertEquals(16, Bytes.le16(m, VNET + 8), "csum_offset: TCP's checksum field");
        }
    }

    @Test
    void aUdpDatagramWithAPartialChecksumPointsAtUdpsField() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = tcpFrame(a, 17, 18, 6, Checksum.pseudoHeaderSum(SRC, DST, 17, 18), 0);
            XskSocket.markPartialChecksum(m, VNET, FRAME, (int) m.byteSize() - 10);
            assertEquals(1, Bytes.u8(m, VNET));
            assertEquals(6, Bytes.le16(m, VNET + 8));
        }
    }

    @Test
    void completeChecksumsFragmentsAndOtherProtocolsAreLeftAlone() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment full = tcpFrame(a, 6, 30, 16, 0, 0);
            Bytes.u16(full, FRAME + 34 + 16, Checksum.l4(full, FRAME + 14));
            MemorySegment fragment = tcpFrame(a, 6, 30, 16, Checksum.pseudoHeaderSum(SRC, DST, 6, 30), 0x2000);
            MemorySegment icmp = tcpFrame(a, 1, 30, 2, Checksum.pseudoHeaderSum(SRC, DST, 1, 30), 0);
            for (MemorySegment m : new MemorySegment[] {full, fragment, icmp}) {
                XskSocket.markPartialChecksum(m, VNET, FRAME, (int) m.byteSize() - 10);
                assertEquals(0, Bytes.u8(m, VNET));
                assertEquals(0, Bytes.le16(m, VNET + 6));
            }
        }
    }
}
