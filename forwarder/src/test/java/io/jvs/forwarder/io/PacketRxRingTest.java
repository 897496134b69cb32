package io.jvs.forwarder.io;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The ring's geometry: slots fit one frame of the MTU, the count follows the memory. */
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

    @Test
    void superFrameCopiesMayQueueAsMuchAsTheRingHolds() {
        assertEquals(8 << 20, PacketRxRing.copyReceiveBuffer(1L << 20));      // --ring-memory 1: the floor
        assertEquals(32 << 20, PacketRxRing.copyReceiveBuffer(32L << 20));    // the default ring
        assertEquals(1 << 30, PacketRxRing.copyReceiveBuffer(1024L << 20));   // --ring-memory 1024
    }
}
