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
    public static final int PACKET_FANOUT = 18;
    public static final int PACKET_FANOUT_DATA = 22;
    /** Fanout mode: a classic BPF program (PACKET_FANOUT_DATA) returns the member index, taken modulo the members. */
    public static final int PACKET_FANOUT_CBPF = 6;
    /** The kernel picks a free group id ({@link #fanoutGroupId} reads it back). */
    public static final int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
    /** The group's hook skips outgoing frames (PACKET_IGNORE_OUTGOING of each member is not used once it joins). */
    public static final int PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000;
    /** Members of one fanout group by default (struct fanout_args.max_num_members unset: PACKET_FANOUT_MAX's 256). */
    public static final int FANOUT_DEFAULT_MAX_MEMBERS = 256;

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

    /**
     * PACKET_FANOUT: joins a bound socket to fanout group {@code id} of its interface and protocol
     * (mode and flags as in linux/if_packet.h; id 0 with {@link #PACKET_FANOUT_FLAG_UNIQUEID} makes a
     * new group with an id the kernel picks).
     */
    public static void joinFanout(int fd, int id, int mode, int flags) throws NativeException {
        Libc.setsockoptInt(fd, SOL_PACKET, PACKET_FANOUT, (id & 0xffff) | ((mode | flags) << 16), "PACKET_FANOUT");
    }

    /** The fanout group id a socket belongs to (getsockopt PACKET_FANOUT's low 16 bits). */
    public static int fanoutGroupId(int fd) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
            Libc.getsockopt(fd, SOL_PACKET, PACKET_FANOUT, v, "PACKET_FANOUT");
            return v.get(ValueLayout.JAVA_INT, 0) & 0xffff;
        }
    }

    /**
     * PACKET_FANOUT_DATA of a PACKET_FANOUT_CBPF group: its classic BPF program (struct sock_filter
     * as longs: code | jt &lt;&lt; 16 | jf &lt;&lt; 24 | k &lt;&lt; 32). Any member may set it, at any time; the
     * kernel swaps it under RCU.
     */
    public static void setFanoutCbpf(int fd, long[] program) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment insns = a.allocate(8L * program.length, 8);
            for (int i = 0; i < program.length; i++) {
                insns.set(ValueLayout.JAVA_LONG, 8L * i, program[i]);
            }
            MemorySegment fprog = a.allocate(16, 8); // struct sock_fprog {u16 len; struct sock_filter *filter}
            fprog.set(ValueLayout.JAVA_SHORT, 0, (short) program.length);
            fprog.set(ValueLayout.ADDRESS, 8, insns);
            Libc.setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, fprog, "PACKET_FANOUT_DATA");
        }
    }

    /** SO_ATTACH_FILTER (asm-generic/socket.h). */
    public static final int SO_ATTACH_FILTER = 26;

    /**
     * SO_ATTACH_FILTER: a classic BPF socket filter (struct sock_filter as longs, as {@link
     * #setFanoutCbpf} takes them): the kernel hands the socket only the frames it returns non-zero
     * for, its loads relative to the Ethernet header. Set before bind, nothing else arrives.
     */
    public static void attachFilter(int fd, long[] program) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment insns = a.allocate(8L * program.length, 8);
            for (int i = 0; i < program.length; i++) {
                insns.set(ValueLayout.JAVA_LONG, 8L * i, program[i]);
            }
            MemorySegment fprog = a.allocate(16, 8);
            fprog.set(ValueLayout.JAVA_SHORT, 0, (short) program.length);
            fprog.set(ValueLayout.ADDRESS, 8, insns);
            Libc.setsockopt(fd, Libc.SOL_SOCKET, SO_ATTACH_FILTER, fprog, "SO_ATTACH_FILTER");
        }
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
    public static final int PACKET_ADD_MEMBERSHIP = 1;
    public static final int PACKET_DROP_MEMBERSHIP = 2;
    public static final int PACKET_MR_MULTICAST = 0;

    /**
     * PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP with PACKET_MR_MULTICAST: puts the Ethernet
     * multicast address {@code mac} into the interface's receive filter for as long as this socket
     * holds the membership (the kernel counts memberships per address and drops the socket's when it
     * closes), so a NIC with a hardware filter delivers frames sent to it (IPv6 solicited-node groups,
     * 33:33:ff:xx:xx:xx, whose NS jvs answers for addresses the kernel does not own).
     */
    public static void multicastMembership(int fd, int ifindex, long mac, boolean add) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mreq = a.allocate(16, 4); // struct packet_mreq {int ifindex; u16 type; u16 alen; u8 address[8]}
            mreq.set(ValueLayout.JAVA_INT, 0, ifindex);
            mreq.set(ValueLayout.JAVA_SHORT, 4, (short) PACKET_MR_MULTICAST);
            mreq.set(ValueLayout.JAVA_SHORT, 6, (short) 6);
            for (int i = 0; i < 6; i++) {
                mreq.set(ValueLayout.JAVA_BYTE, 8 + i, (byte) (mac >>> (40 - 8 * i)));
            }
            Libc.setsockopt(fd, SOL_PACKET, add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, mreq,
                    (add ? "PACKET_ADD_MEMBERSHIP " : "PACKET_DROP_MEMBERSHIP ") + String.format("%012x", mac));
        }
    }
}
