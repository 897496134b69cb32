package io.jvs.forwarder.io;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The ring's geometry: slots fit one frame of the MTU, the count follows the memory; the NDP-only
 * ring's filter (run by a classic-BPF interpreter as the kernel runs socket filters: loads from
 * the Ethernet header, a load beyond the frame returns 0).
 */
class PacketRxRingTest {
    @Test
    void slotFitsOneFrameOfTheMtuWithItsHeaders() {
        // 140 bytes before the MAC header (tpacket2_hdr, sockaddr_ll, reserve, virtio_net_hdr), 18 of Ethernet + VLAN
        assertEquals(2048, PacketRxRing.slotSize(1500));
        assertEquals(2048, PacketRxRing.slotSize(2048 - 140 - 18));
        assertEquals(4096, PacketRxRing.slotSize(2048 - 140 - 18 + 1));
        assertEquals(16384, PacketRxRing.slotSize(9000));
        assertEquals(65536, PacketRxRing.slotSize(65535));   // larger frames come as copies
    }

    @Test
    void framesFollowTheMemory() {
        assertEquals(16384, PacketRxRing.frameCount(32L << 20, 1500));
        assertEquals(2048, PacketRxRing.frameCount(32L << 20, 9000));
        assertEquals(64, PacketRxRing.frameCount(64 * 2048, 1500));
        assertEquals(32, PacketRxRing.frameCount(1, 1500));   // at least one block
        assertEquals(1, PacketRxRing.frameCount(1, 65535));
    }

    /**
     * TAP mode's --lan side: Neighbor Solicitations and Advertisements reach jvs, nothing else of
     * IPv6 does (the kernel routes the rest into the TAP; a frame seen twice would be forwarded
     * twice), nor ARP or IPv4.
     */
    @Test
    void ndpFilterPassesNeighbourSolicitationsAndAdvertisementsOnly() {
        assertEquals(true, accepted(ipv6(58, 135, 86)), "NS");
        assertEquals(true, accepted(ipv6(58, 136, 86)), "NA");
        assertEquals(false, accepted(ipv6(58, 128, 64)), "echo request to the VIP6 (the kernel routes it into the TAP)");
        assertEquals(false, accepted(ipv6(58, 133, 64)), "router solicitation");
        assertEquals(false, accepted(ipv6(58, 134, 64)), "router advertisement");
        assertEquals(false, accepted(ipv6(58, 137, 64)), "redirect");
        assertEquals(false, accepted(ipv6(6, 135, 86)), "TCP whose byte at the ICMPv6 type's place is 135");
        assertEquals(false, accepted(ipv6(0, 135, 86)), "a hop-by-hop header first (MLD reports come so)");
        byte[] arp = new byte[42];
        arp[12] = 0x08;
        arp[13] = 0x06;
        assertEquals(false, accepted(arp), "ARP");
        byte[] ipv4 = ipv6(58, 135, 86);
        ipv4[12] = 0x08;
        ipv4[13] = 0x00;
        assertEquals(false, accepted(ipv4), "IPv4");
        assertEquals(false, accepted(java.util.Arrays.copyOf(ipv6(58, 135, 86), 54)), "cut before the ICMPv6 type");
    }

    /** An Ethernet frame with an IPv6 header (next header nh) and the byte after it (ICMPv6's type). */
    static byte[] ipv6(int nh, int type, int length) {
        ByteBuffer b = ByteBuffer.allocate(14 + length);
        b.putShort(12, (short) 0x86dd);
        b.put(14, (byte) 0x60);
        b.putShort(18, (short) (length - 40));
        b.put(20, (byte) nh);
        b.put(21, (byte) 255);
        b.put(54, (byte) type);
        return b.array();
    }

    static boolean accepted(byte[] frame) {
        long[] prog = PacketRxRing.NDP_FILTER;
        FanoutProgramTest.checkClassic(prog);
        long a = 0;
        int pc = 0;
        while (true) {
            long insn = prog[pc++];
            int code = (int) (insn & 0xffff);
            int jt = (int) (insn >>> 16 & 0xff);
            int jf = (int) (insn >>> 24 & 0xff);
            long k = insn >>> 32;
            switch (code) {
                case 0x28, 0x30 -> {                                   // ldh [k], ldb [k]
                    int size = code == 0x28 ? 2 : 1;
                    if (k + size > frame.length) {
                        return false;                                  // the kernel's out-of-bounds load: 0
                    }
                    a = 0;
                    for (int i = 0; i < size; i++) {
                        a = a << 8 | (frame[(int) k + i] & 0xff);
                    }
                }
                case 0x15 -> pc += a == k ? jt : jf;                   // jeq #k
                case 0x06 -> {
                    return k != 0;                                     // ret #k: 0 drops, else the first k bytes
                }
                default -> throw new AssertionError("opcode 0x" + Integer.toHexString(code));
            }
        }
    }

    @Test
    void superFrameCopiesMayQueueAsMuchAsTheRingHolds() {
        assertEquals(8 << 20, PacketRxRing.copyReceiveBuffer(1L << 20));      // --ring-memory 1: the floor
        assertEquals(32 << 20, PacketRxRing.copyReceiveBuffer(32L << 20));    // the default ring
        assertEquals(1 << 30, PacketRxRing.copyReceiveBuffer(1024L << 20));   // --ring-memory 1024
    }
}
