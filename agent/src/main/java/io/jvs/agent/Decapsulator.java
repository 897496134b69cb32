package io.jvs.agent;

import io.jvs.packet.Bytes;
import io.jvs.packet.Ipv4Header;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.Tun;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Userspace LVS-TUN decapsulation for kernels without ipip: receives IPIP
 * (a raw socket for IP protocol 4: every read is the whole outer packet) and
 * GUE (a UDP socket; the payload is a 4-byte GUE header, version 0 with
 * proto_ctype 4 as IPVS sends it, or version 1 = the bare inner IPv4 packet),
 * checks the outer source against the allowed directors and the inner
 * destination against the VIPs, and writes the inner packet into the TUN
 * device that carries the VIPs. The kernel then delivers it to the local
 * socket as if it had arrived on that device; replies leave by normal routing
 * from the VIP, straight to the client.
 *
 * <p>Invariants: one Netty epoll event-loop thread owns both sockets and the
 * TUN fd (each registered as an {@link EpollIoHandle}, level-triggered, at
 * most {@link #BUDGET} packets per wake-up); one receive buffer and
 * pre-cut slices of it are reused, so nothing is allocated per packet. A
 * packet from any source that is not an allowed director is counted and
 * never injected.
 */
final class Decapsulator implements AutoCloseable {
    static final int BUDGET = 64;
    static final int BUF = 65536;
    private static final int MAX_INNER_OFFSET = 4 + 31 * 4;   // GUE header + the largest hlen

    private final int[] directors;
    private final int[] vips;
    private final DecapCounters counters;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(BUF, 64);
    /** slices[k] = buf from offset k*4: the inner packet's start, without allocating. */
    private final MemorySegment[] slices = new MemorySegment[MAX_INNER_OFFSET / 4 + 16];
    private final MemorySegment peer = arena.allocate(16, 4);
    private final MemorySegment peerLen = arena.allocate(ValueLayout.JAVA_INT);
    private final Libc.Errno errno = new Libc.Errno(arena);
    /** Views of the outer (IPIP) and inner IPv4 headers in buf, re-pointed per packet. */
    private final Ipv4Header outer = new Ipv4Header();
    private final Ipv4Header inner = new Ipv4Header();
    private final MultiThreadIoEventLoopGroup group;
    private final Injector injector;
    private int tunFd = -1;
    private int rawFd = -1;
    private int udpFd = -1;

    /** Where a valid inner packet goes: the TUN device, or a test's capture (DecapsulatorFuzzTest). */
    interface Injector {
        /** Writes the first {@code len} bytes of {@code packet}; returns how many were written (or &lt; 0). */
        long write(MemorySegment packet, int len);
    }

    Decapsulator(List<Integer> directors, List<Integer> vips, DecapCounters counters) {
        this(directors, vips, counters, null);
    }

    /** With the inner packets handed to {@code injector} instead of the TUN device (null: the device). */
    Decapsulator(List<Integer> directors, List<Integer> vips, DecapCounters counters, Injector injector) {
        this.injector = injector != null ? injector : (packet, len) -> Libc.write(errno, tunFd, packet, len);
        this.directors = directors.stream().mapToInt(Integer::intValue).toArray();
        this.vips = vips.stream().mapToInt(Integer::intValue).toArray();
        this.counters = counters;
        for (int k = 0; k < slices.length; k++) {
            slices[k] = buf.asSlice(k * 4L);
        }
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("jvs-decap", true), EpollIoHandler.newFactory());
    }

    /** Attaches to the TUN device, opens the sockets and starts receiving. Throws and leaves nothing open on failure. */
    void start(String tunDevice, int guePort) throws NativeException {
        try {
            tunFd = Tun.openTun(tunDevice);
            rawFd = Libc.socket(Libc.AF_INET, Libc.SOCK_RAW | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, Libc.IPPROTO_IPIP);
            Libc.setsockoptInt(rawFd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 4 << 20, "SO_RCVBUF raw");
            register(new Handle(rawFd, false));
            if (guePort > 0) {
                udpFd = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
                Libc.setsockoptInt(udpFd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 4 << 20, "SO_RCVBUF udp");
                try (Arena a = Arena.ofConfined()) {
                    Libc.bind(udpFd, Libc.sockaddrIn(a, 0, guePort), "udp 0.0.0.0:" + guePort + " (GUE)");
                }
                register(new Handle(udpFd, true));
            }
        } catch (NativeException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void register(Handle h) throws NativeException {
        IoEventLoop loop = (IoEventLoop) group.next();
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.register(h).addListener(f -> {
            if (f.isSuccess()) {
                IoRegistration r = (IoRegistration) f.getNow();
                r.submit(EpollIoOps.EPOLLIN);
                done.complete(null);
            } else {
                done.completeExceptionally(f.cause());
            }
        });
        try {
            done.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot register fd " + h.fd + " on the event loop: " + e, e);
        }
    }

    private boolean allowed(int src) {
        for (int d : directors) {
            if (d == src) {
                return true;
            }
        }
        return false;
    }

    private boolean isVip(int dst) {
        for (int v : vips) {
            if (v == dst) {
                return true;
            }
        }
        return false;
    }

    /** Validates the inner IPv4 packet at buf[off, off+len) and writes it into the TUN device. */
    private void inject(DecapCounters.Encap encap, int off, int len) {
        if (len < Ipv4Header.MIN_HEADER_LEN || inner.wrap(buf, off).version() != 4) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        int ihl = inner.ihl();
        int total = inner.totalLength();
        if (ihl < Ipv4Header.MIN_HEADER_LEN || total < ihl || total > len) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        if (!isVip(inner.dst())) {
            counters.dropped(DecapCounters.Drop.NOT_VIP);
            return;
        }
        long w = injector.write(slices[off >> 2], total);
        if (w != total) {
            counters.dropped(DecapCounters.Drop.INJECT_ERROR);
            return;
        }
        counters.decapsulated(encap, total);
    }

    /** The receive buffer: a datagram of up to {@link #BUF} bytes is read into it from offset 0. */
    MemorySegment buffer() {
        return buf;
    }

    /** One raw IPIP packet of n bytes in buf (outer header included). */
    void ipip(int n) {
        if (n < Ipv4Header.MIN_HEADER_LEN || outer.wrap(buf, 0).version() != 4) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        int ihl = outer.ihl();
        if (ihl < Ipv4Header.MIN_HEADER_LEN || ihl > n) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        if (!allowed(outer.src())) {
            counters.dropped(DecapCounters.Drop.NOT_DIRECTOR);
            return;
        }
        inject(DecapCounters.Encap.IPIP, ihl, n - ihl);
    }

    /** One GUE payload of n bytes in buf, from {@code src} (the UDP datagram's source address). */
    void gue(int src, int n) {
        if (!allowed(src)) {
            counters.dropped(DecapCounters.Drop.NOT_DIRECTOR);
            return;
        }
        if (n < 4) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        int b0 = Bytes.u8(buf, 0);
        int version = b0 >>> 6;
        if (version == 1) {
            // GUE version 1: no GUE header, the IPv4 packet itself (its first nibble 4 = binary 01|00).
            if ((b0 & 0xf0) != 0x40) {
                counters.dropped(DecapCounters.Drop.GUE_UNSUPPORTED);
                return;
            }
            inject(DecapCounters.Encap.GUE, 0, n);
            return;
        }
        if (version != 0) {
            counters.dropped(DecapCounters.Drop.GUE_UNSUPPORTED);
            return;
        }
        if ((b0 & 0x20) != 0) {
            counters.dropped(DecapCounters.Drop.GUE_CONTROL);
            return;
        }
        int off = 4 + (b0 & 0x1f) * 4;
        int proto = Bytes.u8(buf, 1);
        if (proto != Libc.IPPROTO_IPIP) {
            counters.dropped(DecapCounters.Drop.GUE_UNSUPPORTED);
            return;
        }
        if (off > n) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        inject(DecapCounters.Encap.GUE, off, n - off);
    }

    private final class Handle implements EpollIoHandle {
        final int fd;
        final boolean gue;
        private final FileDescriptor descriptor;

        Handle(int fd, boolean gue) {
            this.fd = fd;
            this.gue = gue;
            this.descriptor = new FileDescriptor(fd);
        }

        @Override
        public FileDescriptor fd() {
            return descriptor;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            for (int i = 0; i < BUDGET; i++) {
                long n;
                if (gue) {
                    peerLen.set(ValueLayout.JAVA_INT, 0, 16);
                    n = Libc.recvfrom(errno, fd, buf, BUF, 0, peer, peerLen);
                } else {
                    n = Libc.recvfrom(errno, fd, buf, BUF, 0, MemorySegment.NULL, MemorySegment.NULL);
                }
                if (n < 0) {
                    if (errno.get() == Libc.EINTR) {
                        continue;
                    }
                    return;   // EAGAIN: drained
                }
                if (gue) {
                    gue(Bytes.i32(peer, 4), (int) n);   // sockaddr_in.sin_addr
                } else {
                    ipip((int) n);
                }
            }
        }

        @Override
        public void close() {
            // The fds are closed by Decapsulator.close() after the loop has stopped.
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        for (int fd : new int[] {udpFd, rawFd, tunFd}) {
            if (fd >= 0) {
                Libc.close(fd);
            }
        }
        udpFd = rawFd = tunFd = -1;
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
