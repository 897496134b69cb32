package io.jvs.forwarder.vrrp;

import io.jvs.forwarder.service.VrrpGate;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.NetDevice;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;

/**
 * The director's VRRP router: every configured {@link VrrpInstance}, their sockets and timers,
 * on one platform thread of its own, {@code jvs-vrrp}.
 *
 * <p><b>How advertisements go out and come in.</b> A raw IPv4 socket per interface
 * ({@code socket(AF_INET, SOCK_RAW, 112)}, bound to the device) in the director's namespace, not
 * the data path's packet socket: the kernel builds the IP header (TTL 255 through IP_TTL and
 * IP_MULTICAST_TTL), joins 224.0.0.18 on the interface (IP_ADD_MEMBERSHIP) and hands over each
 * received advertisement with its IP header, so the TTL and v3's pseudo-header are checked here.
 * It works the same in packet and TAP mode (TAP mode has no ring that sees IP on the LAN), keeps
 * a few packets a second of control traffic off the event loop, and is what keepalived does.
 * The data path's ring sees the same multicast frames and leaves them to the kernel (ignored).
 *
 * <p><b>IPv6 instances</b> (keepalived: the first virtual_ipaddress is IPv6) speak VRRPv3 to
 * ff02::12 (RFC 5798 section 5.1.2) from the interface's link-local address, as keepalived does:
 * two raw IPv6 sockets per interface, one to send (bound to that address with its scope, hop
 * limit 255 unicast and multicast, no loopback) and one to receive (joined to ff02::12 on the
 * interface, IPV6_RECVHOPLIMIT and IPV6_RECVPKTINFO on). The kernel hands a raw IPv6 socket the
 * VRRP message alone, so the hop limit and the destination (for the checksum's pseudo-header,
 * checked here rather than by IPV6_CHECKSUM, which would drop bad ones uncounted) come from
 * recvmsg's ancillary data. Their MASTER answers NS for the addresses (the gate's owned6) and
 * sends unsolicited NAs for them on becoming MASTER, as gratuitous ARP does for IPv4. While the
 * source address is tentative (duplicate address detection, right after the interface came up)
 * it cannot be bound: the instance waits in FAULT and opens its sockets once it is usable.
 * With unicast_peer the advertisements go to each peer from unicast_src_ip (or the link-local
 * address); received ones are taken from the peers only, whatever their hop limit (keepalived
 * sends 64 and checks 255 on multicast ones only).
 *
 * <p><b>Threads.</b> The VRRP thread owns the instances: it receives (non-blocking, every
 * {@value #POLL_MS} ms), runs their timers and checks the tracked interfaces' flags
 * (IFF_UP and IFF_RUNNING) every {@value #LINK_CHECK_MS} ms. On every state change it
 * publishes a new {@link VrrpGate.Snapshot} (the data path reads it; silent for every address of
 * an instance that is not MASTER), asks the {@link Announcer} for gratuitous ARP (and an
 * unsolicited NA for its IPv6 addresses) on becoming MASTER (garp_master_repeat at once, again
 * after garp_master_delay), runs the notify scripts on virtual threads and tells the
 * {@link VrrpStateListener}s. Sync group members follow each other.
 */
public final class VrrpRouter implements AutoCloseable, VrrpStatus.Source {
    static final int POLL_MS = 10;
    static final int LINK_CHECK_MS = 100;
    private static final int IPPROTO_IP = 0;
    private static final int IP_TTL = 2;
    private static final int IP_MULTICAST_IF = 32;
    private static final int IP_MULTICAST_TTL = 33;
    private static final int IP_MULTICAST_LOOP = 34;
    private static final int IP_ADD_MEMBERSHIP = 35;
    private static final int SO_BINDTODEVICE = 25;
    private static final int EAGAIN = 11;
    private static final int IPV6_UNICAST_HOPS = 16;
    private static final int IPV6_MULTICAST_IF = 17;
    private static final int IPV6_MULTICAST_HOPS = 18;
    private static final int IPV6_MULTICAST_LOOP = 19;
    private static final int IPV6_ADD_MEMBERSHIP = 20;
    private static final int IPV6_RECVPKTINFO = 49;
    private static final int IPV6_PKTINFO = 50;
    private static final int IPV6_RECVHOPLIMIT = 51;
    private static final int IPV6_HOPLIMIT = 52;
    private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * Sends gratuitous ARP for the IPv4 addresses and an unsolicited NA for the IPv6 ones,
     * (hi, lo) pairs (the director does it on its event loop).
     */
    @FunctionalInterface
    public interface Announcer {
        void announce(int[] addrs, long[] addrs6);
    }

    /** Where a log line goes (stdout with a prefix in the director). */
    @FunctionalInterface
    public interface Log {
        void line(String s);
    }

    private final VrrpConfig config;
    private final VrrpGate gate;
    private final Announcer announcer;
    private final Log log;
    private final List<VrrpStateListener> listeners = new CopyOnWriteArrayList<>();
    private final List<Member> members = new ArrayList<>();
    private final Map<String, Socket> sockets = new LinkedHashMap<>();
    private final Map<String, Socket6> sockets6 = new LinkedHashMap<>();
    private final SyncGroups groups;
    private final EnumMap<VrrpPacket.Drop, AtomicLong> dropped = new EnumMap<>(VrrpPacket.Drop.class);
    private final Arena arena = Arena.ofShared();
    private Thread thread;
    private volatile boolean running;

    /** One instance with its counters and socket. */
    private final class Member implements VrrpInstance.Actions {
        final VrrpInstance instance;
        final Socket socket;
        /** Null while the IPv6 source address is not usable yet (DAD): the instance waits in FAULT. */
        Socket6 socket6;
        final int localAddr;
        final Ipv6Address local6;
        final List<String> watched;
        final boolean[] down;
        /** Counted as a down interface of the instance while its IPv6 source address is not usable. */
        boolean waitingForAddress;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong received = new AtomicLong();
        final AtomicLong transitions = new AtomicLong();
        volatile VrrpState state = VrrpState.INIT;
        volatile int masterAddr;
        /** An IPv6 instance's current master (null: not known). */
        volatile Ipv6Address master6;
        long garpAt = Long.MAX_VALUE;

        /** An IPv4 instance (socket, localAddr) or an IPv6 one (socket6, local6). */
        Member(VrrpConfig.Instance c, Socket socket, int localAddr, Socket6 socket6, Ipv6Address local6) {
            this.socket = socket;
            this.localAddr = localAddr;
            this.socket6 = socket6;
            this.local6 = local6;
            List<String> w = new ArrayList<>();
            w.add(c.iface());
            for (String t : c.trackInterfaces()) {
                if (!w.contains(t)) {
                    w.add(t);
                }
            }
            this.watched = List.copyOf(w);
            this.down = new boolean[watched.size()];
            this.instance = local6 != null ? new VrrpInstance(c, local6.hi(), local6.lo(), this)
                    : new VrrpInstance(c, localAddr, this);
        }

        @Override
        public void send(VrrpInstance inst, int priority) {
            VrrpConfig.Instance c = inst.config();
            if (socket6 != null) {
                send6(c, priority);
                return;
            }
            int[] addrs = c.addrs();
            List<Integer> peers = c.unicastPeers();
            try {
                if (peers.isEmpty()) {
                    socket.send(VrrpPacket.encode(c.version(), c.vrid(), priority, c.advertIntCentis(), addrs,
                            c.authPass(), localAddr, VrrpPacket.MULTICAST_GROUP), VrrpPacket.MULTICAST_GROUP);
                } else {
                    for (int peer : peers) {
                        socket.send(VrrpPacket.encode(c.version(), c.vrid(), priority, c.advertIntCentis(), addrs,
                                c.authPass(), localAddr, peer), peer);
                    }
                }
                sent.incrementAndGet();
            } catch (NativeException e) {
                log.line(c.name() + ": sending an advertisement failed: " + e.getMessage());
            }
        }

        private void send6(VrrpConfig.Instance c, int priority) {
            if (socket6 == null) {
                return; // in FAULT, waiting for its address
            }
            long[] addrs = c.virtual6Pairs();
            try {
                if (c.unicastPeers6().isEmpty()) {
                    socket6.send(VrrpPacket.encode6(c.vrid(), priority, c.advertIntCentis(), addrs, local6.hi(),
                            local6.lo(), VrrpPacket.MULTICAST_GROUP6_HI, VrrpPacket.MULTICAST_GROUP6_LO),
                            VrrpPacket.MULTICAST_GROUP6_HI, VrrpPacket.MULTICAST_GROUP6_LO);
                } else {
                    for (Ipv6Address peer : c.unicastPeers6()) {
                        socket6.send(VrrpPacket.encode6(c.vrid(), priority, c.advertIntCentis(), addrs, local6.hi(),
                                local6.lo(), peer.hi(), peer.lo()), peer.hi(), peer.lo());
                    }
                }
                sent.incrementAndGet();
            } catch (NativeException e) {
                log.line(c.name() + ": sending an advertisement failed: " + e.getMessage());
            }
        }

        @Override
        public void transition(VrrpInstance inst, VrrpState from, VrrpState to) {
            state = to;
            masterAddr = inst.masterAddr();
            master6 = master6Of(inst);
            transitions.incrementAndGet();
            log.line(inst.name() + ": " + from + " -> " + to);
            publishGate();
            if (to == VrrpState.MASTER) {
                int repeat = inst.config().garpMasterRepeat();
                for (int i = 0; i < repeat; i++) {
                    announcer.announce(inst.config().addrs(), inst.config().held6());
                }
                garpAt = inst.config().garpMasterDelayMs() > 0
                        ? System.nanoTime() + inst.config().garpMasterDelayMs() * 1_000_000L : Long.MAX_VALUE;
            } else {
                garpAt = Long.MAX_VALUE;
            }
            VrrpConfig.SyncGroup group = groups.groupOf(inst.name());
            notifyScripts(inst.config(), to);
            for (VrrpStateListener l : listeners) {
                try {
                    l.on(to, inst.name(), group != null ? group.name() : null);
                } catch (RuntimeException e) {
                    log.line("a state listener failed: " + e);
                }
            }
            VrrpConfig.SyncGroup led = groups.follow(inst.name(), from, to, System.nanoTime());
            if (led != null) {
                groupNotify(led, to);
            }
        }
    }

    /** A raw IPv4 socket for protocol 112 on one interface. */
    private final class Socket {
        final String iface;
        final int fd;
        final MemorySegment buf = arena.allocate(2048);
        final byte[] bytes = new byte[2048];
        final Libc.Errno errno = new Libc.Errno(arena);

        Socket(String iface, int bindAddr, boolean multicast) throws NativeException {
            this.iface = iface;
            this.fd = Libc.socket(Libc.AF_INET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, VrrpPacket.IPPROTO_VRRP);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment dev = a.allocate(NetDevice.IFNAMSIZ);
                Libc.putCString(dev, 0, iface, NetDevice.IFNAMSIZ);
                Libc.setsockopt(fd, Libc.SOL_SOCKET, SO_BINDTODEVICE, dev, "SO_BINDTODEVICE " + iface);
                Libc.setsockoptInt(fd, IPPROTO_IP, IP_TTL, VrrpPacket.TTL, "IP_TTL");
                Libc.setsockoptInt(fd, IPPROTO_IP, IP_MULTICAST_TTL, VrrpPacket.TTL, "IP_MULTICAST_TTL");
                Libc.setsockoptInt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
                if (bindAddr != 0) {
                    Libc.bind(fd, Libc.sockaddrIn(a, bindAddr, 0), "bind " + Ipv4Address.toString(bindAddr));
                }
                int ifindex = Libc.ifNameToIndex(iface);
                MemorySegment mreqn = a.allocate(12, 4);
                mreqn.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 0,
                        VrrpPacket.MULTICAST_GROUP);
                mreqn.set(ValueLayout.JAVA_INT, 8, ifindex);
                Libc.setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, mreqn, "IP_MULTICAST_IF " + iface);
                if (multicast) {
                    Libc.setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn, "IP_ADD_MEMBERSHIP 224.0.0.18 " + iface);
                }
            } catch (NativeException e) {
                Libc.close(fd);
                throw e;
            }
        }

        void send(byte[] msg, int dst) throws NativeException {
            MemorySegment.copy(msg, 0, buf, ValueLayout.JAVA_BYTE, 0, msg.length);
            try (Arena a = Arena.ofConfined()) {
                long n = Libc.sendto(errno, fd, buf, msg.length, 0, Libc.sockaddrIn(a, dst, 0));
                if (n < 0) {
                    throw new NativeException("sendto " + Ipv4Address.toString(dst) + " on " + iface, errno.get());
                }
            }
        }

        /** One received packet into {@link #bytes}; its length, or -1 when none is waiting. */
        int receive() throws NativeException {
            long n = Libc.recv(errno, fd, buf, bytes.length, Libc.MSG_DONTWAIT);
            if (n < 0) {
                int err = errno.get();
                if (err == EAGAIN) {
                    return -1;
                }
                throw new NativeException("recv on " + iface, err);
            }
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, bytes, 0, (int) n);
            return (int) n;
        }
    }

    /**
     * The raw IPv6 sockets for protocol 112 on one interface: {@code send} bound to the source
     * address (its checksum is computed here over the pseudo-header with that source), {@code recv}
     * joined to ff02::12, with the hop limit and destination of each packet as ancillary data.
     */
    private final class Socket6 {
        final String iface;
        final int ifindex;
        final int sendFd;
        final int recvFd;
        final MemorySegment buf = arena.allocate(2048);
        final byte[] bytes = new byte[2048];
        final Libc.Errno errno = new Libc.Errno(arena);
        /** recvmsg's struct msghdr, its iovec, the sender's sockaddr_in6 and the control buffer. */
        final MemorySegment msg = arena.allocate(56, 8);
        final MemorySegment iov = arena.allocate(16, 8);
        final MemorySegment name = arena.allocate(28, 8);
        final MemorySegment control = arena.allocate(128, 8);
        /** The last received packet's source, destination and hop limit (-1: none came). */
        long srcHi;
        long srcLo;
        long dstHi;
        long dstLo;
        int hopLimit;

        Socket6(String iface, Ipv6Address src, boolean multicast) throws NativeException {
            this.iface = iface;
            this.ifindex = Libc.ifNameToIndex(iface);
            int s = -1;
            int r = -1;
            try (Arena a = Arena.ofConfined()) {
                s = Libc.socket(Libc.AF_INET6, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, VrrpPacket.IPPROTO_VRRP);
                bindToDevice(a, s);
                Libc.setsockoptInt(s, Libc.IPPROTO_IPV6, IPV6_UNICAST_HOPS, VrrpPacket.TTL, "IPV6_UNICAST_HOPS");
                Libc.setsockoptInt(s, Libc.IPPROTO_IPV6, IPV6_MULTICAST_HOPS, VrrpPacket.TTL, "IPV6_MULTICAST_HOPS");
                Libc.setsockoptInt(s, Libc.IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
                Libc.setsockoptInt(s, Libc.IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF " + iface);
                Libc.bind(s, sockaddr6(a, src.hi(), src.lo()), "bind [" + src + "] on " + iface);
                r = Libc.socket(Libc.AF_INET6, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, VrrpPacket.IPPROTO_VRRP);
                bindToDevice(a, r);
                Libc.setsockoptInt(r, Libc.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
                Libc.setsockoptInt(r, Libc.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
                if (multicast) {
                    MemorySegment mreq = a.allocate(20, 4); // struct ipv6_mreq {in6_addr; int ifindex}
                    mreq.set(BE_LONG, 0, VrrpPacket.MULTICAST_GROUP6_HI);
                    mreq.set(BE_LONG, 8, VrrpPacket.MULTICAST_GROUP6_LO);
                    mreq.set(ValueLayout.JAVA_INT, 16, ifindex);
                    Libc.setsockopt(r, Libc.IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, mreq, "IPV6_ADD_MEMBERSHIP ff02::12 "
                            + iface);
                }
            } catch (NativeException e) {
                if (s >= 0) {
                    Libc.close(s);
                }
                if (r >= 0) {
                    Libc.close(r);
                }
                throw e;
            }
            this.sendFd = s;
            this.recvFd = r;
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, buf.byteSize());
        }

        private void bindToDevice(Arena a, int fd) throws NativeException {
            MemorySegment dev = a.allocate(NetDevice.IFNAMSIZ);
            Libc.putCString(dev, 0, iface, NetDevice.IFNAMSIZ);
            Libc.setsockopt(fd, Libc.SOL_SOCKET, SO_BINDTODEVICE, dev, "SO_BINDTODEVICE " + iface);
        }

        /** A sockaddr_in6 scoped to this interface when the address is link-local or multicast. */
        private MemorySegment sockaddr6(Arena a, long hi, long lo) {
            MemorySegment sa = Libc.sockaddrIn6(a, hi, lo, 0);
            if (io.jvs.packet.Ipv6Header.isLinkLocal(hi) || (hi >>> 56) == 0xff) {
                sa.set(ValueLayout.JAVA_INT, 24, ifindex);
            }
            return sa;
        }

        void send(byte[] m, long dstHi, long dstLo) throws NativeException {
            MemorySegment.copy(m, 0, buf, ValueLayout.JAVA_BYTE, 0, m.length);
            try (Arena a = Arena.ofConfined()) {
                long n = Libc.sendto(errno, sendFd, buf, m.length, 0, sockaddr6(a, dstHi, dstLo));
                if (n < 0) {
                    throw new NativeException("sendto [" + new Ipv6Address(dstHi, dstLo) + "] on " + iface,
                            errno.get());
                }
            }
        }

        /**
         * One received VRRP message into {@link #bytes}, its source, destination and hop limit
         * into the fields; its length, or -1 when none is waiting.
         */
        int receive() throws NativeException {
            msg.fill((byte) 0);
            msg.set(ValueLayout.ADDRESS, 0, name);
            msg.set(ValueLayout.JAVA_INT, 8, (int) name.byteSize());
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1L);
            msg.set(ValueLayout.ADDRESS, 32, control);
            msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
            long n = Libc.recvmsg(errno, recvFd, msg, Libc.MSG_DONTWAIT);
            if (n < 0) {
                int err = errno.get();
                if (err == EAGAIN) {
                    return -1;
                }
                throw new NativeException("recvmsg on " + iface, err);
            }
            srcHi = name.get(BE_LONG, 8);
            srcLo = name.get(BE_LONG, 16);
            hopLimit = -1;
            dstHi = 0;
            dstLo = 0;
            long controlLen = msg.get(ValueLayout.JAVA_LONG, 40);
            for (long o = 0; o + 16 <= controlLen; ) { // struct cmsghdr {size_t len; int level; int type; data}
                long len = control.get(ValueLayout.JAVA_LONG, o);
                if (len < 16 || o + len > controlLen) {
                    break;
                }
                int level = control.get(ValueLayout.JAVA_INT, o + 8);
                int type = control.get(ValueLayout.JAVA_INT, o + 12);
                if (level == Libc.IPPROTO_IPV6 && type == IPV6_HOPLIMIT && len >= 20) {
                    hopLimit = control.get(ValueLayout.JAVA_INT, o + 16);
                } else if (level == Libc.IPPROTO_IPV6 && type == IPV6_PKTINFO && len >= 36) {
                    dstHi = control.get(BE_LONG, o + 16);
                    dstLo = control.get(BE_LONG, o + 24);
                }
                o += (len + 7) & ~7L;
            }
            int len = (int) Math.min(n, bytes.length);
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, bytes, 0, len);
            return len;
        }
    }

    /**
     * The link-local address of an interface, from /proc/net/if_inet6 (this namespace's: address,
     * ifindex, prefix length, scope, flags, name; scope 0x20 is link), or null when it has none.
     * RFC 5798 section 5.1.2.1: an IPv6 advertisement's source is the interface's link-local address.
     */
    static Ipv6Address linkLocal(String iface) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/net/if_inet6"));
        } catch (java.io.IOException e) {
            return null;
        }
        for (String l : lines) {
            String[] f = l.trim().split("\\s+");
            if (f.length >= 6 && f[5].equals(iface) && f[3].equals("20") && f[0].length() == 32) {
                return new Ipv6Address(Long.parseUnsignedLong(f[0].substring(0, 16), 16),
                        Long.parseUnsignedLong(f[0].substring(16), 16));
            }
        }
        return null;
    }

    /**
     * Opens a socket per interface and validates what only the running namespace can tell
     * (interfaces exist, have an address); starts nothing until {@link #start}.
     *
     * @param addressOf the interface's primary IPv4 address by ifindex (0 when it has none)
     */
    public VrrpRouter(VrrpConfig config, VrrpGate gate, Announcer announcer, Log log, IntUnaryOperator addressOf)
            throws NativeException {
        this.config = config;
        this.gate = gate;
        this.announcer = announcer;
        this.log = log;
        for (VrrpPacket.Drop d : VrrpPacket.Drop.values()) {
            dropped.put(d, new AtomicLong());
        }
        this.groups = new SyncGroups(config.syncGroups());
        try {
            for (VrrpConfig.Instance c : config.instances()) {
                if (c.ipv6()) {
                    Ipv6Address local6 = c.unicastSrc6() != null ? c.unicastSrc6() : linkLocal(c.iface());
                    if (local6 == null) {
                        throw new NativeException("vrrp_instance " + c.name() + ": interface " + c.iface()
                                + " has no IPv6 link-local address", 0);
                    }
                    // a tentative address (DAD still running) cannot be bound yet: wait for it in FAULT
                    Socket6 s6 = usable6(c.iface(), local6) ? socket6(c, local6) : null;
                    Member m = new Member(c, null, 0, s6, local6);
                    members.add(m);
                    groups.add(m.instance);
                    continue;
                }
                int local = c.unicastSrc() != 0 ? c.unicastSrc() : addressOf.applyAsInt(Libc.ifNameToIndex(c.iface()));
                if (local == 0) {
                    throw new NativeException("vrrp_instance " + c.name() + ": interface " + c.iface()
                            + " has no IPv4 address", 0);
                }
                String key = c.iface() + (c.unicastPeers().isEmpty() ? "" : "/" + Ipv4Address.toString(local));
                Socket s = sockets.get(key);
                if (s == null) {
                    s = new Socket(c.iface(), c.unicastSrc(), c.unicastPeers().isEmpty());
                    sockets.put(key, s);
                }
                Member m = new Member(c, s, local, null, null);
                members.add(m);
                groups.add(m.instance);
            }
        } catch (NativeException | RuntimeException e) {
            closeSockets();
            throw e;
        }
        publishGate();
    }

    /** The IPv6 socket for an instance from its source address, shared by the instances that can share it. */
    private Socket6 socket6(VrrpConfig.Instance c, Ipv6Address local6) throws NativeException {
        String key = c.iface() + "/" + local6 + (c.unicastPeers6().isEmpty() ? "" : "/unicast");
        Socket6 s6 = sockets6.get(key);
        if (s6 == null) {
            s6 = new Socket6(c.iface(), local6, c.unicastPeers6().isEmpty());
            sockets6.put(key, s6);
        }
        return s6;
    }

    /** IFA_F_DADFAILED, IFA_F_TENTATIVE: /proc/net/if_inet6's flags of an address that cannot be used. */
    private static final int IFA_F_DADFAILED = 0x08;
    private static final int IFA_F_TENTATIVE = 0x40;

    /**
     * The address is on the interface and done with duplicate address detection (RFC 4862
     * section 5.4: a tentative address cannot be bound; keepalived waits for it as well).
     */
    static boolean usable6(String iface, Ipv6Address addr) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/net/if_inet6"));
        } catch (java.io.IOException e) {
            return false;
        }
        String hex = String.format("%016x%016x", addr.hi(), addr.lo());
        for (String l : lines) {
            String[] f = l.trim().split("\\s+");
            if (f.length >= 6 && f[5].equals(iface) && f[0].equals(hex)) {
                return (Integer.parseInt(f[4], 16) & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) == 0;
            }
        }
        return false;
    }

    public void addListener(VrrpStateListener l) {
        listeners.add(l);
    }

    /** Starts the VRRP thread: every instance starts (BACKUP, or MASTER for an owner configured MASTER). */
    public synchronized void start() {
        running = true;
        thread = Thread.ofPlatform().name("jvs-vrrp").daemon().start(this::run);
    }

    private void run() {
        long now = System.nanoTime();
        checkLinks(now);
        for (Member m : members) {
            m.instance.start(now);
        }
        long nextLinkCheck = now + LINK_CHECK_MS * 1_000_000L;
        while (running) {
            now = System.nanoTime();
            for (Socket s : sockets.values()) {
                receiveAll(s, now);
            }
            for (Socket6 s : sockets6.values()) {
                receiveAll6(s, now);
            }
            now = System.nanoTime();
            for (Member m : members) {
                if (now >= m.instance.nextDeadline()) {
                    m.instance.tick(now);
                }
                if (now >= m.garpAt) {
                    m.garpAt = Long.MAX_VALUE;
                    for (int i = 0; i < m.instance.config().garpMasterRepeat(); i++) {
                        announcer.announce(m.instance.config().addrs(), m.instance.config().held6());
                    }
                }
                m.masterAddr = m.instance.masterAddr();
                Ipv6Address seen = m.master6;
                if (m.local6 != null && (seen == null ? m.instance.masterHi() != 0 || m.instance.masterLo() != 0
                        : seen.hi() != m.instance.masterHi() || seen.lo() != m.instance.masterLo())) {
                    m.master6 = master6Of(m.instance);
                }
            }
            if (now >= nextLinkCheck) {
                checkLinks(now);
                nextLinkCheck = now + LINK_CHECK_MS * 1_000_000L;
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                break;
            }
        }
        for (Member m : members) {
            m.instance.shutdown();
        }
    }

    private void receiveAll(Socket s, long now) {
        for (int budget = 64; budget > 0; budget--) {
            int len;
            try {
                len = s.receive();
            } catch (NativeException e) {
                log.line("receive on " + s.iface + " failed: " + e.getMessage());
                return;
            }
            if (len < 0) {
                return;
            }
            Object r = accept(s, s.bytes, len);
            if (r instanceof VrrpPacket.Drop d) {
                dropped.get(d).incrementAndGet();
            } else if (r instanceof Taken t) {
                t.member.received.incrementAndGet();
                t.member.instance.receive(t.advert, now);
            }
        }
    }

    private record Taken(Member member, VrrpPacket.Advert advert) {
    }

    private void receiveAll6(Socket6 s, long now) {
        for (int budget = 64; budget > 0; budget--) {
            int len;
            try {
                len = s.receive();
            } catch (NativeException e) {
                log.line("receive on " + s.iface + " failed: " + e.getMessage());
                return;
            }
            if (len < 0) {
                return;
            }
            Object r = accept6(s, len);
            if (r instanceof VrrpPacket.Drop d) {
                dropped.get(d).incrementAndGet();
            } else if (r instanceof Taken t) {
                t.member.received.incrementAndGet();
                t.member.instance.receive(t.advert, now);
            }
        }
    }

    private Object accept6(Socket6 s, int len) {
        if (len < VrrpPacket.HEADER_LEN) {
            return VrrpPacket.Drop.TRUNCATED;
        }
        int vrid = s.bytes[1] & 0xff;
        Member m = null;
        for (Member c : members) {
            if (c.socket6 != null && c.socket6.recvFd == s.recvFd && c.instance.config().vrid() == vrid) {
                m = c;
                break;
            }
        }
        if (m == null) {
            return VrrpPacket.Drop.FOREIGN_VRID;
        }
        VrrpPacket.Advert a;
        try {
            a = VrrpPacket.decode6(s.bytes, len, s.hopLimit, s.srcHi, s.srcLo, s.dstHi, s.dstLo);
        } catch (VrrpPacket.Malformed e) {
            return e.reason();
        }
        List<Ipv6Address> peers = m.instance.config().unicastPeers6();
        if (!peers.isEmpty() && !peers.contains(new Ipv6Address(a.srcHi(), a.srcLo()))) {
            return VrrpPacket.Drop.PEER;
        }
        VrrpPacket.Drop d = VrrpPacket.check(a, m.instance.config());
        return d != null ? d : new Taken(m, a);
    }

    private Object accept(Socket s, byte[] p, int len) {
        int vrid = VrrpPacket.peekVrid(p, len);
        if (vrid < 0) {
            return VrrpPacket.Drop.TRUNCATED;
        }
        Member m = null;
        for (Member c : members) {
            if (c.socket == s && c.instance.config().vrid() == vrid) {
                m = c;
                break;
            }
        }
        if (m == null) {
            return VrrpPacket.Drop.FOREIGN_VRID;
        }
        VrrpPacket.Advert a;
        try {
            a = VrrpPacket.decode(p, len, m.instance.config().version());
        } catch (VrrpPacket.Malformed e) {
            return e.reason();
        }
        List<Integer> peers = m.instance.config().unicastPeers();
        if (!peers.isEmpty() && !peers.contains(a.srcAddr())) {
            return VrrpPacket.Drop.PEER;
        }
        VrrpPacket.Drop d = VrrpPacket.check(a, m.instance.config());
        return d != null ? d : new Taken(m, a);
    }

    private static Ipv6Address master6Of(VrrpInstance inst) {
        if (!inst.config().ipv6() || inst.masterHi() == 0 && inst.masterLo() == 0) {
            return null;
        }
        return new Ipv6Address(inst.masterHi(), inst.masterLo());
    }

    private void checkLinks(long now) {
        for (Member m : members) {
            if (m.local6 != null && m.socket6 == null) {
                awaitAddress(m, now);
            }
            for (int i = 0; i < m.watched.size(); i++) {
                boolean up;
                try {
                    int f = NetDevice.flags(m.watched.get(i));
                    up = (f & NetDevice.IFF_UP) != 0 && (f & NetDevice.IFF_RUNNING) != 0;
                } catch (NativeException e) {
                    up = false; // gone
                }
                if (up == m.down[i]) {
                    m.down[i] = !up;
                    log.line(m.instance.name() + ": interface " + m.watched.get(i) + (up ? " up" : " down"));
                    if (up) {
                        m.instance.interfaceUp(now);
                    } else {
                        m.instance.interfaceDown(now);
                    }
                }
            }
        }
    }

    /**
     * An IPv6 instance whose source address was not usable: FAULT (a down interface of its own)
     * until it is, then its socket opens and it goes on as BACKUP.
     */
    private void awaitAddress(Member m, long now) {
        VrrpConfig.Instance c = m.instance.config();
        if (usable6(c.iface(), m.local6)) {
            try {
                m.socket6 = socket6(c, m.local6);
            } catch (NativeException e) {
                log.line(c.name() + ": " + e.getMessage());
            }
        }
        if (m.socket6 != null && m.waitingForAddress) {
            m.waitingForAddress = false;
            log.line(c.name() + ": address " + m.local6 + " on " + c.iface() + " usable");
            m.instance.interfaceUp(now);
        } else if (m.socket6 == null && !m.waitingForAddress) {
            m.waitingForAddress = true;
            log.line(c.name() + ": address " + m.local6 + " on " + c.iface()
                    + " not usable yet (duplicate address detection): FAULT until it is");
            m.instance.interfaceDown(now);
        }
    }

    private void publishGate() {
        List<Integer> silent = new ArrayList<>();
        List<Integer> owned = new ArrayList<>();
        List<Long> silent6 = new ArrayList<>();
        List<Long> owned6 = new ArrayList<>();
        for (Member m : members) {
            boolean master = m.instance.state() == VrrpState.MASTER;
            for (int a : m.instance.config().addrs()) {
                (master ? owned : silent).add(a);
            }
            for (long w : m.instance.config().virtual6Pairs()) {
                (master ? owned6 : silent6).add(w);
            }
            if (!master) {
                for (long w : m.instance.config().addrs6()) {
                    silent6.add(w);
                }
            }
        }
        gate.publish(VrrpGate.Snapshot.of(silent.stream().mapToInt(Integer::intValue).toArray(),
                owned.stream().mapToInt(Integer::intValue).toArray(),
                silent6.stream().mapToLong(Long::longValue).toArray(),
                owned6.stream().mapToLong(Long::longValue).toArray()));
    }

    private void notifyScripts(VrrpConfig.Instance c, VrrpState to) {
        List<String> specific = switch (to) {
            case MASTER -> c.notifyMaster();
            case BACKUP -> c.notifyBackup();
            case FAULT -> c.notifyFault();
            case INIT -> List.of();
        };
        runScript(specific);
        if (!c.notifyAny().isEmpty()) {
            List<String> argv = new ArrayList<>(c.notifyAny());
            argv.addAll(List.of("INSTANCE", c.name(), to.name(), Integer.toString(c.priority())));
            runScript(argv);
        }
    }

    private void groupNotify(VrrpConfig.SyncGroup g, VrrpState to) {
        runScript(switch (to) {
            case MASTER -> g.notifyMaster();
            case BACKUP -> g.notifyBackup();
            case FAULT -> g.notifyFault();
            case INIT -> List.of();
        });
        if (!g.notifyAny().isEmpty()) {
            List<String> argv = new ArrayList<>(g.notifyAny());
            argv.addAll(List.of("GROUP", g.name(), to.name(), "0"));
            runScript(argv);
        }
    }

    private void runScript(List<String> argv) {
        if (argv.isEmpty()) {
            return;
        }
        Thread.ofVirtual().name("jvs-vrrp-notify").start(() -> {
            try {
                Process p = new ProcessBuilder(argv).inheritIO().start();
                int rc = p.waitFor();
                if (rc != 0) {
                    log.line("notify " + String.join(" ", argv) + ": exit status " + rc);
                }
            } catch (java.io.IOException e) {
                log.line("notify " + String.join(" ", argv) + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Override
    public VrrpStatus vrrpStatus() {
        List<VrrpStatus.Instance> out = new ArrayList<>();
        for (Member m : members) {
            VrrpConfig.Instance c = m.instance.config();
            VrrpConfig.SyncGroup g = groups.groupOf(c.name());
            out.add(new VrrpStatus.Instance(c.name(), g != null ? g.name() : "", c.iface(), c.vrid(), c.version(),
                    c.priority(), c.advertIntCentis(), m.state, m.masterAddr, c.addrs(), m.transitions.get(),
                    m.sent.get(), m.received.get(), c.virtual6(), m.master6));
        }
        Map<String, Long> d = new LinkedHashMap<>();
        dropped.forEach((k, v) -> d.put(k.label(), v.get()));
        return new VrrpStatus(out, d);
    }

    /**
     * Stops the thread; each MASTER sends priority 0 first, so a BACKUP takes over after its
     * skew time instead of the whole master-down interval.
     */
    @Override
    public synchronized void close() {
        running = false;
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeSockets();
    }

    private void closeSockets() {
        if (!arena.scope().isAlive()) {
            return;
        }
        for (Socket s : sockets.values()) {
            Libc.close(s.fd);
        }
        sockets.clear();
        for (Socket6 s : sockets6.values()) {
            Libc.close(s.sendFd);
            Libc.close(s.recvFd);
        }
        sockets6.clear();
        arena.close();
    }
}
