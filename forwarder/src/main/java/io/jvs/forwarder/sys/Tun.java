package io.jvs.forwarder.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** /dev/net/tun: creating a TAP device (linux/if_tun.h). */
public final class Tun {
    static final long TUNSETIFF = 0x400454caL;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;

    private Tun() {
    }

    /**
     * Opens /dev/net/tun non-blocking and attaches a new (non-persistent) TAP
     * device of this name: the device goes away when the fd is closed, so a
     * crash leaves nothing behind.
     */
    public static int openTap(String name) throws NativeException {
        int fd = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(NetDevice.IFREQ_SIZE, 8);
            Libc.putCString(r, 0, name, NetDevice.IFNAMSIZ);
            r.set(ValueLayout.JAVA_SHORT, 16, (short) (IFF_TAP | IFF_NO_PI));
            Libc.ioctl(fd, TUNSETIFF, r, "TUNSETIFF " + name);
            return fd;
        } catch (NativeException e) {
            Libc.close(fd);
            throw e;
        }
    }
}
