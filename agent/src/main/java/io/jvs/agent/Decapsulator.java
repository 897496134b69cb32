package io.jvs.agent;

import io.jvs.packet.Bytes;
import io.jvs.packet.Ipv4Header;
import io.jvs.packet.Ipv6Address;
import io.jvs.packet.Ipv6Header;
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
 * Userspace LVS-TUN decapsulation for kernels without ipip, ip6_tunnel or sit: receives
 * <ul>
 *   <li>IPIP (IPv4 in IPv4) and SIT (IPv6 in IPv4) on AF_INET raw sockets for IP protocols 4
 *       and 41: every read is the whole outer packet, its IPv4 header included;</li>
 *   <li>IP6IP6 (IPv6 in IPv6) and IPIP6 (IPv4 in IPv6) on AF_INET6 raw sockets for next
 *       headers 41 and 4: the kernel hands over what follows the outer IPv6 header and its
 *       extension headers, so every read is the inner packet, the outer source in the
 *       sockaddr_in6;</li>
 *   <li>GUE on a UDP socket per outer family on --gue-port: a 4-byte GUE header, version 0
 *       with proto_ctype 4 (inner IPv4) or 41 (inner IPv6) as IPVS sends it, or version 1
 *       = the bare inner packet (its first nibble 4 or 6).</li>
 * </ul>
 * A socket is opened only for the combinations the options ask for (outer family = a
 * director's, inner family = a VIP's: IPVS tunnels to a real server of the other family).
 * Each packet's outer source must be an allowed director and its inner destination a VIP
 * of the inner family; the inner packet is written into the TUN device that carries the
 * VIPs (IFF_NO_PI: the kernel takes the family from the version nibble) and delivered to
 * the local socket as if it had arrived there; replies leave from the VIP by normal
 * routing, straight to the client.
 *
 * <p>Invariants: one Netty epoll event-loop thread owns every socket and the TUN fd (each
 * registered as an {@link EpollIoHandle}, level-triggered, at most {@link #BUDGET} packets
 * per wake-up); one receive buffer and pre-cut slices of it are reused, addresses are
 * compared as ints and long pairs, so nothing is allocated per packet. A packet from any
 * source that is not an allowed director is counted and never injected.
 */
final class Decapsulator implements AutoCloseable {
    static final int BUDGET = 64;
    static final int BUF = 65536;
    private static final int MAX_INNER_OFFSET = 60 + 4 + 31 * 4;   // outer IPv4 header or GUE header + the largest hlen

    /** Where an accepted inner packet goes: the TUN device (tests capture it instead). */
    @FunctionalInterface
    interface Sink {
        /** Writes len bytes of packet; returns the bytes written, or -1. */
        long write(MemorySegment packet, int len);
    }

    /** What a socket receives. */
    enum Kind { RAW4, RAW6, GUE4, GUE6 }

    private final int[] directors;
    private final long[] directors6;   // hi, lo pairs
    private final int[] vips;
    private final long[] vips6;        // hi, lo pairs
    private final DecapCounters counters;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(BUF, 64);
    /** slices[k] = buf from offset k*4: the inner packet's start, without allocating. */
    private final MemorySegment[] slices = new MemorySegment[MAX_INNER_OFFSET / 4 + 16];
    /** The sender's sockaddr_in or sockaddr_in6 of the last recvfrom. */
    private final MemorySegment peer = arena.allocate(28, 8);
    private final MemorySegment peerLen = arena.allocate(ValueLayout.JAVA_INT);
    private final Libc.Errno errno = new Libc.Errno(arena);
    /** Views of the outer and inner headers in buf, re-pointed per packet. */
    private final Ipv4Header outer = new Ipv4Header();
    private final Ipv4Header inner = new Ipv4Header();
    private final Ipv6Header inner6 = new Ipv6Header();
    private final Sink sink;
    private MultiThreadIoEventLoopGroup group;
    private int tunFd = -1;
    private final int[] fds = {-1, -1, -1, -1, -1, -1};

    Decapsulator(List<Integer> directors, List<Ipv6Address> directors6, List<Integer> vips, List<Ipv6Address> vips6,
                 DecapCounters counters) {
        this(directors, directors6, vips, vips6, counters, null);
    }

    /** With a sink other than the TUN device (tests); null = the TUN device opened by {@link #start}. */
    Decapsulator(List<Integer> directors, List<Ipv6Address> directors6, List<Integer> vips, List<Ipv6Address> vips6,
                 DecapCounters counters, Sink sink) {
        this.directors = directors.stream().mapToInt(Integer::intValue).toArray();
        this.directors6 = pairs(directors6);
        this.vips = vips.stream().mapToInt(Integer::intValue).toArray();
        this.vips6 = pairs(vips6);
        this.counters = counters;
        this.sink = sink != null ? sink : (p, len) -> Libc.write(errno, tunFd, p, len);
        for (int k = 0; k < slices.length; k++) {
            slices[k] = buf.asSlice(k * 4L);
        }
    }

    /** What {@link #start} will receive for these options, e.g. "IPIP and GUE (udp 6080)". */
    static String encaps(AgentOptions o) {
        boolean d4 = !o.directors().isEmpty();
        boolean d6 = !o.directors6().isEmpty();
        boolean v4 = !o.vips().isEmpty();
        boolean v6 = !o.vips6().isEmpty();
        List<String> e = new java.util.ArrayList<>();
        if (d4 && v4) {
            e.add("IPIP");
        }
        if (d4 && v6) {
            e.add("SIT (IPv6 in IPv4)");
        }
        if (d6 && v6) {
            e.add("IP6IP6");
        }
        if (d6 && v4) {
            e.add("IPIP6 (IPv4 in IPv6)");
        }
        e.add(o.guePort() > 0 ? "GUE (udp " + o.guePort() + (d4 && d6 ? " over IPv4 and IPv6" : d6 ? " over IPv6" : "")
                + ")" : "no GUE");
        return String.join(e.size() == 2 ? " and " : ", ", e);
    }

    private static long[] pairs(List<Ipv6Address> as) {
        long[] p = new long[as.size() * 2];
        for (int i = 0; i < as.size(); i++) {
            p[2 * i] = as.get(i).hi();
            p[2 * i + 1] = as.get(i).lo();
        }
        return p;
    }

    /** The receive buffer (tests put a packet here, then call {@link #raw4}, {@link #raw6} or {@link #gue}). */
    MemorySegment buffer() {
        return buf;
    }

    /** The sender's address of the packet in the buffer (tests write a sockaddr here). */
    MemorySegment peer() {
        return peer;
    }

    /**
     * Attaches to the TUN device, opens the sockets the options need and starts receiving.
     * Throws and leaves nothing open on failure.
     */
    void start(String tunDevice, int guePort) throws NativeException {
        boolean d4 = directors.length > 0;
        boolean d6 = directors6.length > 0;
        boolean v4 = vips.length > 0;
        boolean v6 = vips6.length > 0;
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("jvs-decap", true), EpollIoHandler.newFactory());
        try {
            tunFd = Tun.openTun(tunDevice);
            if (d4 && v4) {
                open(0, Libc.AF_INET, Libc.IPPROTO_IPIP, Kind.RAW4);
            }
            if (d4 && v6) {
                open(1, Libc.AF_INET, Libc.IPPROTO_IPV6, Kind.RAW4);
            }
            if (d6 && v6) {
                open(2, Libc.AF_INET6, Libc.IPPROTO_IPV6, Kind.RAW6);
            }
            if (d6 && v4) {
                open(3, Libc.AF_INET6, Libc.IPPROTO_IPIP, Kind.RAW6);
            }
            if (guePort > 0 && d4) {
                int fd = udp(4, Libc.AF_INET);
                try (Arena a = Arena.ofConfined()) {
                    Libc.bind(fd, Libc.sockaddrIn(a, 0, guePort), "udp 0.0.0.0:" + guePort + " (GUE)");
                }
                register(new Handle(fd, Kind.GUE4, 0));
            }
            if (guePort > 0 && d6) {
                int fd = udp(5, Libc.AF_INET6);
                Libc.setsockoptInt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, 1, "IPV6_V6ONLY");
                // IPVS sends GUE over IPv6 with a zero UDP checksum unless --tun-csum (udp6_set_csum),
                // as fou's receiving socket, take it.
                Libc.setsockoptInt(fd, Libc.IPPROTO_UDP, Libc.UDP_NO_CHECK6_RX, 1, "UDP_NO_CHECK6_RX");
                try (Arena a = Arena.ofConfined()) {
                    Libc.bind(fd, Libc.sockaddrIn6(a, 0, 0, guePort), "udp [::]:" + guePort + " (GUE)");
                }
                register(new Handle(fd, Kind.GUE6, 0));
            }
        } catch (NativeException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void open(int slot, int family, int proto, Kind kind) throws NativeException {
        int fd = Libc.socket(family, Libc.SOCK_RAW | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, proto);
        fds[slot] = fd;
        Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 4 << 20, "SO_RCVBUF raw");
        register(new Handle(fd, kind, proto));
    }

    private int udp(int slot, int family) throws NativeException {
        int fd = Libc.socket(family, Libc.SOCK_DGRAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        fds[slot] = fd;
        Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, 4 << 20, "SO_RCVBUF udp");
        return fd;
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

    private boolean allowed6(long hi, long lo) {
        return contains(directors6, hi, lo);
    }

    private static boolean contains(long[] pairs, long hi, long lo) {
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i] == hi && pairs[i + 1] == lo) {
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

    /**
     * Validates the inner packet at buf[off, off+len), which the outer header says is of IP version
     * {@code version} (0 = either: GUE version 1 says it only by the first nibble), and writes it
     * into the TUN device. Off is a multiple of 4 (IPv4 and GUE headers are).
     */
    private void inject(DecapCounters.Encap encap, int version, int off, int len) {
        if (len < 1) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        int v = Bytes.u8(buf, off) >>> 4;
        if (version != 0 && v != version) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        int total;
        if (v == 4) {
            if (len < Ipv4Header.MIN_HEADER_LEN) {
                counters.dropped(DecapCounters.Drop.MALFORMED);
                return;
            }
            inner.wrap(buf, off);
            int ihl = inner.ihl();
            total = inner.totalLength();
            if (ihl < Ipv4Header.MIN_HEADER_LEN || total < ihl || total > len) {
                counters.dropped(DecapCounters.Drop.MALFORMED);
                return;
            }
            if (!isVip(inner.dst())) {
                counters.dropped(DecapCounters.Drop.NOT_VIP);
                return;
            }
        } else if (v == 6) {
            if (len < Ipv6Header.HEADER_LEN) {
                counters.dropped(DecapCounters.Drop.MALFORMED);
                return;
            }
            inner6.wrap(buf, off);
            total = Ipv6Header.HEADER_LEN + inner6.payloadLength();
            if (total > len) {
                counters.dropped(DecapCounters.Drop.MALFORMED);
                return;
            }
            if (!contains(vips6, inner6.dstHi(), inner6.dstLo())) {
                counters.dropped(DecapCounters.Drop.NOT_VIP);
                return;
            }
        } else {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        long w = sink.write(slices[off >> 2], total);
        if (w != total) {
            counters.dropped(DecapCounters.Drop.INJECT_ERROR);
            return;
        }
        counters.decapsulated(encap, total);
    }

    /** Sets the sender's IPv4 address as recvfrom leaves it in the sockaddr_in (DecapsulatorFuzzTest). */
    void peer4(int addr) {
        Bytes.i32(peer, 4, addr);
    }

    /** One packet of n bytes from an AF_INET raw socket (protocol 4 or 41), the outer IPv4 header included. */
    void raw4(int n) {
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
        int proto = outer.protocol();
        if (proto == Libc.IPPROTO_IPIP) {
            inject(DecapCounters.Encap.IPIP, 4, ihl, n - ihl);
        } else if (proto == Libc.IPPROTO_IPV6) {
            inject(DecapCounters.Encap.SIT, 6, ihl, n - ihl);
        } else {
            counters.dropped(DecapCounters.Drop.MALFORMED);
        }
    }

    /**
     * One packet of n bytes from an AF_INET6 raw socket for next header {@code proto} (41 or 4):
     * the inner packet itself (the kernel consumed the outer header), the outer source in peer.
     */
    void raw6(int n, int proto) {
        if (!allowed6(peer.get(Bytes.BE64, 8), peer.get(Bytes.BE64, 16))) {   // sockaddr_in6.sin6_addr
            counters.dropped(DecapCounters.Drop.NOT_DIRECTOR);
            return;
        }
        if (proto == Libc.IPPROTO_IPV6) {
            inject(DecapCounters.Encap.IP6IP6, 6, 0, n);
        } else {
            inject(DecapCounters.Encap.IPIP6, 4, 0, n);
        }
    }

    /** One GUE payload of n bytes in buf, from the sockaddr_in (ipv6 false) or sockaddr_in6 in peer. */
    void gue(int n, boolean ipv6) {
        boolean ok = ipv6 ? allowed6(peer.get(Bytes.BE64, 8), peer.get(Bytes.BE64, 16))
                : allowed(Bytes.i32(peer, 4));   // sockaddr_in.sin_addr
        if (!ok) {
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
            // GUE version 1: no GUE header, the IP packet itself (first nibble 4 = 01|00, 6 = 01|10).
            int nibble = b0 >>> 4;
            if (nibble != 4 && nibble != 6) {
                counters.dropped(DecapCounters.Drop.GUE_UNSUPPORTED);
                return;
            }
            inject(DecapCounters.Encap.GUE, nibble, 0, n);
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
        int innerVersion = proto == Libc.IPPROTO_IPIP ? 4 : proto == Libc.IPPROTO_IPV6 ? 6 : 0;
        if (innerVersion == 0) {
            counters.dropped(DecapCounters.Drop.GUE_UNSUPPORTED);
            return;
        }
        if (off > n) {
            counters.dropped(DecapCounters.Drop.MALFORMED);
            return;
        }
        inject(DecapCounters.Encap.GUE, innerVersion, off, n - off);
    }

    private final class Handle implements EpollIoHandle {
        final int fd;
        final Kind kind;
        final int proto6;
        private final FileDescriptor descriptor;

        /** proto6: the next header a RAW6 socket was opened for (41 or 4). */
        Handle(int fd, Kind kind, int proto6) {
            this.fd = fd;
            this.kind = kind;
            this.proto6 = proto6;
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
                if (kind == Kind.RAW4) {
                    n = Libc.recvfrom(errno, fd, buf, BUF, 0, MemorySegment.NULL, MemorySegment.NULL);
                } else {
                    peerLen.set(ValueLayout.JAVA_INT, 0, (int) peer.byteSize());
                    n = Libc.recvfrom(errno, fd, buf, BUF, 0, peer, peerLen);
                }
                if (n < 0) {
                    if (errno.get() == Libc.EINTR) {
                        continue;
                    }
                    return;   // EAGAIN: drained
                }
                switch (kind) {
                    case RAW4 -> raw4((int) n);
                    case RAW6 -> raw6((int) n, proto6);
                    case GUE4 -> gue((int) n, false);
                    case GUE6 -> gue((int) n, true);
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
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        for (int i = 0; i < fds.length; i++) {
            if (fds[i] >= 0) {
                Libc.close(fds[i]);
                fds[i] = -1;
            }
        }
        if (tunFd >= 0) {
            Libc.close(tunFd);
            tunFd = -1;
        }
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
