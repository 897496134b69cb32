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
        // behind one hop-by-hop options header (8 bytes: next header 58, length 0; MLD-style)
        assertEquals(true, accepted(behindHopByHop(0, 135, 86)), "NS behind an 8-byte hop-by-hop header");
        assertEquals(true, accepted(behindHopByHop(0, 136, 86)), "NA behind an 8-byte hop-by-hop header");
        assertEquals(true, accepted(behindHopByHop(2, 135, 102)), "NS behind a 24-byte hop-by-hop header");
        assertEquals(false, accepted(behindHopByHop(0, 143, 86)), "an MLDv2 report behind its hop-by-hop header");
        assertEquals(false, accepted(behindHopByHop(0, 128, 86)), "an echo request behind a hop-by-hop header");
        byte[] tcpBehind = behindHopByHop(0, 135, 86);
        tcpBehind[54] = 6;
        assertEquals(false, accepted(tcpBehind), "TCP behind the hop-by-hop header, 135 where a type would be");
        byte[] wrongPlace = behindHopByHop(2, 128, 102);
        wrongPlace[54 + 8] = (byte) 135;
        assertEquals(false, accepted(wrongPlace), "135 inside the options, not at the type's place");
        assertEquals(false, accepted(java.util.Arrays.copyOf(behindHopByHop(2, 135, 102), 54 + 24)),
                "cut before the ICMPv6 type behind the hop-by-hop header");
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

    /**
     * An Ethernet frame with an IPv6 header, a hop-by-hop options header of 8 * (len + 1) bytes
     * (next header ICMPv6, PadN filling it) and the ICMPv6 type after it.
     */
    static byte[] behindHopByHop(int len, int type, int length) {
        byte[] f = ipv6(0, 0, length);
        int h = 54;
        f[h] = 58;
        f[h + 1] = (byte) len;
        f[h + 2] = 1;                                  // PadN over the rest of the header
        f[h + 3] = (byte) (8 * (len + 1) - 4);
        f[h + 8 * (len + 1)] = (byte) type;
        return f;
    }

    static boolean accepted(byte[] frame) {
        long[] prog = PacketRxRing.NDP_FILTER;
        FanoutProgramTest.checkClassic(prog);
        long a = 0;
        long x = 0;
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
                case 0x50 -> {                                         // ldb [x + k]
                    if (x + k + 1 > frame.length) {
                        return false;
                    }
                    a = frame[(int) (x + k)] & 0xff;
                }
                case 0x64 -> a = a << k & 0xffffffffL;                  // lsh #k
                case 0x04 -> a = a + k & 0xffffffffL;                   // add #k
                case 0x07 -> x = a;                                    // tax
                case 0x05 -> pc += (int) k;                            // ja k
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
