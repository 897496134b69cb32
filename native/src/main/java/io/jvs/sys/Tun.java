package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** /dev/net/tun: TUN and TAP devices (linux/if_tun.h). */
public final class Tun {
    static final long TUNSETIFF = 0x400454caL;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final short IFF_TUN = 0x0001;
    static final long TUNSETPERSIST = 0x400454cbL;
    static final short IFF_VNET_HDR = 0x4000;
    /** One device, several fds: each TUNSETIFF with it attaches one more queue. */
    static final short IFF_MULTI_QUEUE = 0x0100;
    /** _IOR('T', 224, int): the eBPF program (a socket filter's fd, -1 for none) that picks each frame's queue. */
    static final long TUNSETSTEERINGEBPF = 0x800454e0L;
    /** _IOW('T', 208, unsigned int): the offloads user space accepts; the argument is the value itself. */
    static final long TUNSETOFFLOAD = 0x400454d0L;
    /** TUNSETOFFLOAD flags: partial checksums, TCP segmentation offload (IPv4, IPv6, with ECN). */
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;

    private Tun() {
    }

    /**
     * Opens /dev/net/tun non-blocking and attaches a new (non-persistent) TAP
     * device of this name: the device goes away when the fd is closed, so a
     * crash leaves nothing behind.
     */
    public static int openTap(String name) throws NativeException {
        return open(name, IFF_TAP | IFF_NO_PI);
    }

    /**
     * As {@link #openTap(String)}, with IFF_VNET_HDR: every read returns a
     * 10-byte virtio_net_hdr in front of the frame (and every write expects
     * one). Without {@link #setOffload} the header is always zero; with it,
     * the kernel hands over what the TAP accepts unsegmented and with partial
     * checksums.
     */
    public static int openTapVnetHdr(String name) throws NativeException {
        return open(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
    }

    /**
     * As {@link #openTapVnetHdr}, with IFF_MULTI_QUEUE: the first call creates the device with
     * one queue, each further call with the same name attaches one more queue, numbered in the
     * order of attachment (0, 1, ...). A frame the kernel sends into the device is queued on the
     * fd of the queue the steering program ({@link #setSteeringProgram}) picks.
     */
    public static int openTapQueue(String name) throws NativeException {
        return open(name, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE);
    }

    /**
     * TUNSETSTEERINGEBPF: the socket filter program whose return value, modulo the attached
     * queues, is each frame's queue (replacing the kernel's flow hash; the device keeps its
     * own reference, so the caller may close {@code progFd} afterwards).
     */
    public static void setSteeringProgram(int fd, int progFd, String name) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.JAVA_INT);
            p.set(ValueLayout.JAVA_INT, 0, progFd);
            Libc.ioctl(fd, TUNSETSTEERINGEBPF, p, "TUNSETSTEERINGEBPF " + name);
        }
    }

    /**
     * TUNSETOFFLOAD: the offloads ({@code TUN_F_*}) the reader of an
     * IFF_VNET_HDR device accepts. The device then advertises checksum and
     * TSO features, so the kernel routes GSO super-frames and CHECKSUM_PARTIAL
     * frames into it as they are, instead of segmenting and checksumming each
     * one in software before the TAP.
     */
    public static void setOffload(int fd, int flags, String name) throws NativeException {
        Libc.ioctl(fd, TUNSETOFFLOAD, MemorySegment.ofAddress(flags), "TUNSETOFFLOAD " + name);
    }

    /**
     * Opens /dev/net/tun non-blocking and attaches a TUN device (IFF_TUN |
     * IFF_NO_PI: every read/write is one bare IP packet) of this name,
     * creating it when it does not exist. A persistent device of that name and
     * type is attached to as it is (one fd at a time: EBUSY while another
     * holds it).
     */
    public static int openTun(String name) throws NativeException {
        return open(name, IFF_TUN | IFF_NO_PI);
    }

    /** /dev/net/tun, non-blocking, attached to device {@code name} with these IFF_* flags. */
    private static int open(String name, int flags) throws NativeException {
        int fd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(NetDevice.IFREQ_SIZE, 8);
            Libc.putCString(r, 0, name, NetDevice.IFNAMSIZ);
            r.set(ValueLayout.JAVA_SHORT, 16, (short) flags);
            Libc.ioctl(fd, TUNSETIFF, r, "TUNSETIFF " + name);
            return fd;
        } catch (NativeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** TUNSETPERSIST on an attached fd: a persistent device outlives its fd (and the process). */
    public static void setPersistent(int fd, boolean persist, String name) throws NativeException {
        Libc.ioctl(fd, TUNSETPERSIST, MemorySegment.ofAddress(persist ? 1 : 0), "TUNSETPERSIST " + name);
    }

    /** Creates a persistent TUN device (left without an attached fd). */
    public static void createPersistentTun(String name) throws NativeException {
        int fd = openTun(name);
        try {
            setPersistent(fd, true, name);
        } finally {
            Libc.close(fd);
        }
    }

    /** Removes a persistent TUN device: attach, clear persistence, close (the device goes with the fd). */
    public static void deletePersistentTun(String name) throws NativeException {
        deletePersistent(name, openTun(name));
    }

    /** Removes a persistent TAP device, as {@link #deletePersistentTun} does a TUN device. */
    public static void deletePersistentTap(String name) throws NativeException {
        deletePersistent(name, openTap(name));
    }

    private static void deletePersistent(String name, int fd) throws NativeException {
        try {
            setPersistent(fd, false, name);
        } finally {
            Libc.close(fd);
        }
    }
}
