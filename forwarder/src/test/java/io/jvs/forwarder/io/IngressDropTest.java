package io.jvs.forwarder.io;

import io.jvs.sys.Bpf;
import io.jvs.sys.NativeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.jvs.forwarder.io.XdpRedirectTest.arpRequest;
import static io.jvs.forwarder.io.XdpRedirectTest.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The packet mode's ingress program, run by the kernel (BPF_PROG_TEST_RUN; root, as CI runs): it
 * drops IPv4 and IPv6 frames to the addresses put in its maps, by the tcx verdict 2 (TC_ACT_SHOT), and hands
 * everything else on with -1 (TCX_NEXT) — the verdict values as include/uapi/linux/bpf.h gives them.
 */
class IngressDropTest {
    static final int DROP = 2;
    static final int NEXT = -1;
    static final int VIP = 0x0a000064;      // 10.0.0.100
    static final int LIP = 0x0a000003;      // 10.0.0.3
    static final int RIP = 0x0a00000b;      // 10.0.0.11
    static final int OWN = 0x0a000002;      // 10.0.0.2, the director's own address
    static final int CLIENT = 0x0a000102;   // 10.0.1.2

    IngressDrop drop;

    @BeforeEach
    void load() throws NativeException {
        drop = IngressDrop.load("test");
        drop.put(VIP);
        drop.put(LIP);
    }

    @AfterEach
    void close() {
        drop.close();
    }

    int run(byte[] frame) throws NativeException {
        return Bpf.testRun(drop.programFd(), frame);
    }

    @Test
    void framesToOwnedAddressesAreDroppedTheRestGoesOn() throws NativeException {
        assertEquals(DROP, run(tcp(CLIENT, VIP, 40000, 80)), "a client to the VIP");
        assertEquals(DROP, run(tcp(RIP, LIP, 80, 40000)), "a FULLNAT reply to the local address");
        assertEquals(NEXT, run(tcp(RIP, CLIENT, 80, 40000)), "a NAT reply (to a client address): the kernel's");
        assertEquals(NEXT, run(tcp(CLIENT, OWN, 40000, 22)), "to the director's own address");
        assertEquals(NEXT, run(tcp(CLIENT, 0xe0000012, 5000, 22)), "multicast (VRRP)");
        assertEquals(NEXT, run(arpRequest(VIP)), "ARP for the VIP: the ring answers it, the kernel learns from it");
        assertEquals(NEXT, run(tcp6(CLIENT6, OTHER6)), "IPv6 to an address not put");
        assertEquals(NEXT, run(tcp6(VIP6, CLIENT6)), "IPv6 from the VIP6");
        byte[] tagged = tcp(CLIENT, VIP, 5000, 80);
        tagged[12] = (byte) 0x81;
        tagged[13] = 0;
        assertEquals(NEXT, run(tagged), "a VLAN-tagged frame");
        // A frame cut inside its IPv4 header: BPF_PROG_TEST_RUN refuses to build one (EINVAL), and the
        // verifier refuses the program unless it checks data_end before reading the destination.
    }

    @Test
    void ipv6FramesToOwnedAddressesAreDropped() throws NativeException {
        drop.put6(VIP6[0], VIP6[1]);
        assertEquals(DROP, run(tcp6(CLIENT6, VIP6)), "a client to the VIP6");
        assertEquals(NEXT, run(tcp6(CLIENT6, new long[]{VIP6[0], VIP6[1] ^ 1})), "the next address");
        assertEquals(NEXT, run(tcp6(CLIENT6, new long[]{VIP6[0] ^ (1L << 63), VIP6[1]})), "another prefix, same low half");
        byte[] cut = java.util.Arrays.copyOf(tcp6(CLIENT6, VIP6), 14 + 40);
        assertEquals(DROP, run(cut), "the bare IPv6 header is enough");
    }

    static final long[] VIP6 = {0x20010db800000000L, 0x100L};      // 2001:db8::100
    static final long[] CLIENT6 = {0x20010db800010000L, 0x2L};     // 2001:db8:1::2
    static final long[] OTHER6 = {0x20010db800000000L, 0x2L};      // 2001:db8::2

    /** Ethernet + IPv6 (40 bytes) + 20 bytes of TCP. */
    static byte[] tcp6(long[] src, long[] dst) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(14 + 40 + 20);
        b.put(new byte[]{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x86dd);
        b.putInt(0x60000000).putShort((short) 20).put((byte) 6).put((byte) 64);
        b.putLong(src[0]).putLong(src[1]).putLong(dst[0]).putLong(dst[1]);
        b.putShort((short) 40000).putShort((short) 80).putInt(1).putInt(0).put((byte) 0x50).put((byte) 2)
                .putShort((short) 65535).putInt(0);
        return b.array();
    }

    @Test
    void anAddressPutLaterIsDroppedFromThen() throws NativeException {
        int vip2 = 0x0a000065;
        assertEquals(NEXT, run(tcp(CLIENT, vip2, 40000, 80)));
        drop.put(vip2);
        assertEquals(DROP, run(tcp(CLIENT, vip2, 40000, 80)));
    }
}
