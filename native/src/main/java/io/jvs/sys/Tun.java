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
