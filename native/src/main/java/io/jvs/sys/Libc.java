package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * libc through the FFM API. Every call captures errno into a caller-owned
 * {@link Errno} segment, so hot-path calls (read, write, sendmmsg) allocate
 * nothing: the raw methods return the C result (-1 on error) and the caller
 * reads errno from its own segment. The checked wrappers throw
 * {@link NativeException} and are for the control plane.
 */
public final class Libc {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int ENOBUFS = 105;
    public static final int EEXIST = 17;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;

    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;
    public static final int SOCK_NONBLOCK = 04000;
    public static final int SOCK_CLOEXEC = 02000000;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_POPULATE = 0x8000;
    public static final MemorySegment MAP_FAILED = MemorySegment.ofAddress(-1L);

    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = handle("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = handle("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle MMAP = handle("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL = handle("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = handle("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    /**
     * read(2) without errno capture: the capture slices its segment on every call, an
     * allocation until C2 has compiled the call site with escape analysis (thousands of calls);
     * for reads whose failure needs no errno.
     */
    private static final MethodHandle READ_PLAIN = LINKER.downcallHandle(
            LIBC.find("read").orElseThrow(() -> new UnsatisfiedLinkError("read")),
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    /** sendmmsg(2) without errno capture, as {@link #READ_PLAIN}. */
    private static final MethodHandle SENDMMSG_PLAIN = LINKER.downcallHandle(
            LIBC.find("sendmmsg").orElseThrow(() -> new UnsatisfiedLinkError("sendmmsg")),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle WRITE = handle("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle SEND = handle("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECV = handle("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SENDMMSG = handle("sendmmsg",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle RECVFROM = handle("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle RECVMSG = handle("recvmsg",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDTO = handle("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = LINKER.downcallHandle(
            LIBC.find("if_nametoindex").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LIBC.find("strerror").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Libc() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name)),
                fd, Linker.Option.captureCallState("errno"));
    }

    /** A per-owner errno capture area; allocate once, reuse for every call. */
    public static final class Errno {
        final MemorySegment seg;

        public Errno(Arena arena) {
            this.seg = arena.allocate(CAPTURE);
        }

        public int get() {
            return (int) ERRNO.get(seg, 0L);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    // ---------------------------------------------------------------- raw (hot path)

    public static long read(Errno e, int fd, MemorySegment buf, long len) {
        try {
            return (long) READ.invokeExact(e.seg, fd, buf, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * read(fd, buf, len) without errno: for a read that cannot block and cannot fail but for a
     * reason the caller handles the same whatever errno says. Allocates nothing from the first call.
     */
    public static long read(int fd, MemorySegment buf, long len) {
        try {
            return (long) READ_PLAIN.invokeExact(fd, buf, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long write(Errno e, int fd, MemorySegment buf, long len) {
        try {
            return (long) WRITE.invokeExact(e.seg, fd, buf, len);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int sendmmsg(Errno e, int fd, MemorySegment msgvec, int vlen, int flags) {
        try {
            return (int) SENDMMSG.invokeExact(e.seg, fd, msgvec, vlen, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * sendmmsg without errno, for callers that treat every failure alike (a non-blocking send
     * never sleeps, so it is never interrupted). Allocates nothing from the first call.
     */
    public static int sendmmsg(int fd, MemorySegment msgvec, int vlen, int flags) {
        try {
            return (int) SENDMMSG_PLAIN.invokeExact(fd, msgvec, vlen, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long send(Errno e, int fd, MemorySegment buf, long len, int flags) {
        try {
            return (long) SEND.invokeExact(e.seg, fd, buf, len, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long recv(Errno e, int fd, MemorySegment buf, long len, int flags) {
        try {
            return (long) RECV.invokeExact(e.seg, fd, buf, len, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * recvfrom(fd, buf, len, flags, addr, addrLen): addr may be {@link MemorySegment#NULL}
     * (then addrLen too); otherwise addrLen holds addr's size on entry (an int).
     */
    public static long recvfrom(Errno e, int fd, MemorySegment buf, long len, int flags,
                                MemorySegment addr, MemorySegment addrLen) {
        try {
            return (long) RECVFROM.invokeExact(e.seg, fd, buf, len, flags, addr, addrLen);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** recvmsg(fd, msg, flags): msg a struct msghdr the caller laid out (name, iovec, control). */
    public static long recvmsg(Errno e, int fd, MemorySegment msg, int flags) {
        try {
            return (long) RECVMSG.invokeExact(e.seg, fd, msg, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** sendto(fd, buf, len, flags, addr, addr.byteSize()). */
    public static long sendto(Errno e, int fd, MemorySegment buf, long len, int flags, MemorySegment addr) {
        try {
            return (long) SENDTO.invokeExact(e.seg, fd, buf, len, flags, addr, (int) addr.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A struct sockaddr_in (16 bytes) for an IPv4 address (host-order int) and port. */
    public static MemorySegment sockaddrIn(Arena arena, int addr, int port) {
        MemorySegment s = arena.allocate(16, 4);
        s.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 2, (short) port);
        s.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 4, addr);
        return s;
    }

    /** A struct sockaddr_in6 (28 bytes) for an IPv6 address (high and low 64 bits) and port; scope id 0. */
    public static MemorySegment sockaddrIn6(Arena arena, long hi, long lo, int port) {
        MemorySegment s = arena.allocate(28, 4);
        s.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET6);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 2, (short) port);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 8, hi);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 16, lo);
        return s;
    }

    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    /** IP protocol 41: an IPv6 packet inside IP (ip6ip6, 6in4); also the socket level of IPV6_* options. */
    public static final int IPPROTO_IPV6 = 41;
    public static final int IPV6_V6ONLY = 26;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_RAW = 3;
    public static final int IPPROTO_IPIP = 4;
    public static final int IPPROTO_UDP = 17;
    /**
     * UDP socket option (level IPPROTO_UDP): accept UDP over IPv6 with a zero checksum (RFC 6935,
     * 6936: tunnel protocols); without it the kernel drops such datagrams.
     */
    public static final int UDP_NO_CHECK6_RX = 102;
    public static final int IPPROTO_RAW = 255;
    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    /** SO_RCVBUF beyond net.core.rmem_max (CAP_NET_ADMIN). */
    public static final int SO_RCVBUFFORCE = 33;
    public static final int SO_REUSEADDR = 2;

    // ---------------------------------------------------------------- checked (control plane)

    public static int socket(int domain, int type, int protocol) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            int fd = (int) SOCKET.invokeExact(e.seg, domain, type, protocol);
            if (fd < 0) {
                throw new NativeException("socket(" + domain + ", " + type + ", " + protocol + ")", e.get());
            }
            return fd;
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void bind(int fd, MemorySegment addr, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            int r = (int) BIND.invokeExact(e.seg, fd, addr, (int) addr.byteSize());
            if (r < 0) {
                throw new NativeException("bind " + what, e.get());
            }
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void setsockopt(int fd, int level, int name, MemorySegment value, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            int r = (int) SETSOCKOPT.invokeExact(e.seg, fd, level, name, value, (int) value.byteSize());
            if (r < 0) {
                throw new NativeException("setsockopt " + what, e.get());
            }
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void setsockoptInt(int fd, int level, int name, int value, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            setsockopt(fd, level, name, v, what);
        }
    }

    /** getsockopt into value (its size is passed as optlen); returns the length the kernel wrote. */
    public static int getsockopt(int fd, int level, int name, MemorySegment value, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            MemorySegment len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, (int) value.byteSize());
            int r = (int) GETSOCKOPT.invokeExact(e.seg, fd, level, name, value, len);
            if (r < 0) {
                throw new NativeException("getsockopt " + what, e.get());
            }
            return len.get(JAVA_INT, 0);
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap(NULL, len, RW, MAP_SHARED|flags, fd, 0), as a segment of that length. */
    public static MemorySegment mmapShared(int fd, long len, int extraFlags, String what) throws NativeException {
        return mmapShared(fd, len, extraFlags, 0L, what);
    }

    /** mmap(NULL, len, RW, MAP_SHARED|flags, fd, offset), as a segment of that length. */
    public static MemorySegment mmapShared(int fd, long len, int extraFlags, long offset, String what)
            throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            MemorySegment p = (MemorySegment) MMAP.invokeExact(e.seg, MemorySegment.NULL, len,
                    PROT_READ | PROT_WRITE, MAP_SHARED | extraFlags, fd, offset);
            if (p.address() == -1L) {
                throw new NativeException("mmap " + what, e.get());
            }
            return p.reinterpret(len);
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void munmap(MemorySegment seg) {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            int r = (int) MUNMAP.invokeExact(e.seg, seg, seg.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int ioctl(int fd, long request, MemorySegment arg, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            int r = (int) IOCTL.invokeExact(e.seg, fd, request, arg);
            if (r < 0) {
                throw new NativeException("ioctl " + what, e.get());
            }
            return r;
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int open(String path, int flags) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            int fd = (int) OPEN.invokeExact(e.seg, a.allocateFrom(path), flags);
            if (fd < 0) {
                throw new NativeException("open " + path, e.get());
            }
            return fd;
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            Errno e = new Errno(a);
            int r = (int) CLOSE.invokeExact(e.seg, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The interface index, or throws naming the interface. */
    public static int ifNameToIndex(String name) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            int idx = (int) IF_NAMETOINDEX.invokeExact(a.allocateFrom(name));
            if (idx == 0) {
                throw new NativeException("no such interface " + name, ENOENT_NODEV);
            }
            return idx;
        } catch (NativeException ne) {
            throw ne;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final int ENOENT_NODEV = 19;

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** Copies a Java string into a fixed-size NUL-padded C char array (e.g. ifr_name). */
    public static void putCString(MemorySegment seg, long off, String s, int max) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        if (b.length >= max) {
            throw new IllegalArgumentException("name too long (max " + (max - 1) + "): " + s);
        }
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, off, b.length);
        seg.asSlice(off + b.length, max - b.length).fill((byte) 0);
    }
}
