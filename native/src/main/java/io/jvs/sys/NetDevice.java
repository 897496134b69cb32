package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Network-device ioctls (struct ifreq) on a throw-away AF_INET datagram socket. */
public final class NetDevice {
    public static final int AF_INET = 2;
    public static final int SOCK_DGRAM = 2;
    static final long SIOCGIFFLAGS = 0x8913;
    static final long SIOCSIFFLAGS = 0x8914;
    static final long SIOCGIFMTU = 0x8921;
    static final long SIOCSIFTXQLEN = 0x8943;
    static final long SIOCGIFHWADDR = 0x8927;
    public static final int IFF_UP = 0x1;
    public static final int IFF_NOARP = 0x80;
    public static final int IFF_RUNNING = 0x40;
    public static final int IFNAMSIZ = 16;
    /** sizeof(struct ifreq) on x86_64. */
    public static final int IFREQ_SIZE = 40;

    private NetDevice() {
    }

    private static MemorySegment ifreq(Arena a, String name) {
        MemorySegment r = a.allocate(IFREQ_SIZE, 8);
        Libc.putCString(r, 0, name, IFNAMSIZ);
        return r;
    }

    private static int inetSocket() throws NativeException {
        return Libc.socket(AF_INET, SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
    }

    /** The interface's MAC address as a 48-bit long. */
    public static long macAddress(String name) throws NativeException {
        int s = inetSocket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = ifreq(a, name);
            Libc.ioctl(s, SIOCGIFHWADDR, r, "SIOCGIFHWADDR " + name);
            long mac = 0;
            for (int i = 0; i < 6; i++) {
                mac = mac << 8 | (r.get(ValueLayout.JAVA_BYTE, 18 + i) & 0xff);
            }
            return mac;
        } finally {
            Libc.close(s);
        }
    }

    public static int mtu(String name) throws NativeException {
        int s = inetSocket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = ifreq(a, name);
            Libc.ioctl(s, SIOCGIFMTU, r, "SIOCGIFMTU " + name);
            return r.get(ValueLayout.JAVA_INT, 16);
        } finally {
            Libc.close(s);
        }
    }

    /**
     * Sets the interface's transmit queue length (ip link set NAME txqueuelen N). For a TUN/TAP
     * device it is the length of the queue of frames waiting for the reader.
     */
    public static void setTxQueueLen(String name, int frames) throws NativeException {
        int s = inetSocket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = ifreq(a, name);
            r.set(ValueLayout.JAVA_INT, 16, frames);
            Libc.ioctl(s, SIOCSIFTXQLEN, r, "SIOCSIFTXQLEN " + name);
        } finally {
            Libc.close(s);
        }
    }

    /** The interface's flags (IFF_UP, IFF_RUNNING...). */
    public static int flags(String name) throws NativeException {
        int s = inetSocket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = ifreq(a, name);
            Libc.ioctl(s, SIOCGIFFLAGS, r, "SIOCGIFFLAGS " + name);
            return r.get(ValueLayout.JAVA_SHORT, 16) & 0xffff;
        } finally {
            Libc.close(s);
        }
    }

    /** Sets and clears interface flags (e.g. up, noarp). */
    public static void changeFlags(String name, int set, int clear) throws NativeException {
        int s = inetSocket();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = ifreq(a, name);
            Libc.ioctl(s, SIOCGIFFLAGS, r, "SIOCGIFFLAGS " + name);
            short flags = r.get(ValueLayout.JAVA_SHORT, 16);
            flags = (short) ((flags | set) & ~clear);
            r.set(ValueLayout.JAVA_SHORT, 16, flags);
            Libc.ioctl(s, SIOCSIFFLAGS, r, "SIOCSIFFLAGS " + name);
        } finally {
            Libc.close(s);
        }
    }

    /** "aa:bb:cc:dd:ee:ff" */
    public static String formatMac(long mac) {
        StringBuilder b = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            b.append(String.format("%02x", (mac >>> (i * 8)) & 0xff));
            if (i > 0) {
                b.append(':');
            }
        }
        return b.toString();
    }
}
