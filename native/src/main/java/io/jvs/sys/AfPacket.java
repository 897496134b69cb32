package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * AF_PACKET constants and structs (linux/if_packet.h), and the socket set-up
 * both attachments share: a receive socket with a TPACKET_V2 ring and a
 * transmit socket bound with protocol 0 (so it receives nothing).
 */
public final class AfPacket {
    public static final int AF_PACKET = 17;
    public static final int SOCK_RAW = 3;
    public static final int SOL_PACKET = 263;
    public static final int ETH_P_ALL = 0x0003;
    public static final int ETH_P_ARP = 0x0806;

    public static final int PACKET_RX_RING = 5;
    public static final int PACKET_STATISTICS = 6;
    public static final int PACKET_VERSION = 10;
    public static final int PACKET_COPY_THRESH = 7;
    public static final int PACKET_RESERVE = 12;
    public static final int PACKET_VNET_HDR = 15;
    public static final int PACKET_IGNORE_OUTGOING = 23;
    public static final int TPACKET_V2 = 1;

    public static final int TP_STATUS_KERNEL = 0;
    public static final int TP_STATUS_USER = 1;
    public static final int TP_STATUS_COPY = 2;
    public static final int TP_STATUS_LOSING = 4;
    public static final int TP_STATUS_CSUMNOTREADY = 8;
    public static final int TP_STATUS_VLAN_VALID = 0x10;

    /** struct tpacket2_hdr field offsets; the header is 32 bytes. */
    public static final int TP2_STATUS = 0;
    public static final int TP2_LEN = 4;
    public static final int TP2_SNAPLEN = 8;
    public static final int TP2_MAC = 12;
    public static final int TP2_NET = 14;
    public static final int TP2_VLAN_TCI = 24;
    public static final int TP2_VLAN_TPID = 26;
    public static final int TPACKET2_HDRLEN = 32;

    public static final int SOCKADDR_LL_SIZE = 20;

    private AfPacket() {
    }

    static short htons(int v) {
        return (short) (((v & 0xff) << 8) | ((v >>> 8) & 0xff));
    }

    /** A non-blocking AF_PACKET SOCK_RAW socket that receives nothing until bound. */
    public static int openSocket() throws NativeException {
        return Libc.socket(AF_PACKET, SOCK_RAW | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
    }

    /** bind(fd, sockaddr_ll{protocol, ifindex}); protocol 0 = transmit only. */
    public static void bind(int fd, int ifindex, int protocol, String ifname) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sll = a.allocate(SOCKADDR_LL_SIZE, 4);
            sll.set(ValueLayout.JAVA_SHORT, 0, (short) AF_PACKET);
            sll.set(ValueLayout.JAVA_SHORT, 2, htons(protocol));
            sll.set(ValueLayout.JAVA_INT, 4, ifindex);
            Libc.bind(fd, sll, "AF_PACKET to " + ifname);
        }
    }

    /** PACKET_RX_RING with a tpacket_req; returns the ring mapping. */
    public static MemorySegment setupRxRing(int fd, int blockSize, int blockNr, int frameSize, int frameNr)
            throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment req = a.allocate(16, 4);
            req.set(ValueLayout.JAVA_INT, 0, blockSize);
            req.set(ValueLayout.JAVA_INT, 4, blockNr);
            req.set(ValueLayout.JAVA_INT, 8, frameSize);
            req.set(ValueLayout.JAVA_INT, 12, frameNr);
            Libc.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req, "PACKET_RX_RING");
        }
        return Libc.mmapShared(fd, (long) blockSize * blockNr, Libc.MAP_POPULATE, "AF_PACKET RX ring");
    }

    /** PACKET_STATISTICS: returns {packets, drops} since the last call (the kernel resets them). */
    public static long[] statistics(int fd) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(8, 4);
            Libc.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, st, "PACKET_STATISTICS");
            return new long[] {Integer.toUnsignedLong(st.get(ValueLayout.JAVA_INT, 0)),
                Integer.toUnsignedLong(st.get(ValueLayout.JAVA_INT, 4))};
        }
    }
}
