package io.jvs.agent.it;

import io.jvs.sys.Inet;
import io.jvs.sys.Libc;
import io.jvs.sys.NetDevice;
import io.jvs.sys.Tun;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;

/**
 * Test peers for the TUN path, each run as its own JVM inside a lab namespace
 * ({@code ip netns exec NS java ... EncapTool CMD ...}); every one is bounded in time.
 *
 * <pre>
 *   relay ipip|gue TUNDEV TO SECONDS       a minimal LVS-TUN director: reads IP packets routed into
 *                                         TUNDEV and sends them encapsulated to TO (IPIP, or GUE to udp 6080)
 *   send ipip|gue|plain TO SRC DST DPORT SECONDS|xCOUNT
 *                                         builds 64-byte UDP packets SRC -> DST:DPORT and sends them
 *                                         encapsulated to TO (plain: unencapsulated, to DST), for SECONDS or COUNT times
 *   udp-echo BIND PORT SECONDS             echoes datagrams; prints "received N" at the end
 *   udp-sink BIND PORT SECONDS             counts datagrams; prints "received N pps P"
 *   udp-ping VIP PORT COUNT                sends COUNT datagrams, prints "replies N from A" (A = reply sources)
 *   send6 ip6ip6|ipip6|gue6|sit|ipip TO SRC DST DPORT xCOUNT|SECONDS FROM
 *                                         UDP packets SRC -> DST:DPORT (IPv6, or IPv4 for ipip6 and ipip) sent
 *                                         inside IPv6 from the local address FROM to TO (raw next header 41
 *                                         or 4, or GUE version 0 over UDP to port 6080); sit and ipip: inside
 *                                         IPv4 (raw protocol 41 or 4), FROM and TO IPv4. xCOUNT: COUNT packets
 *                                         1 ms apart; SECONDS: as fast as it can for that long (raw modes)
 * </pre>
 */
public final class EncapTool {
    static final int GUE_PORT = 6080;

    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "relay" -> relay(a[1], a[2], Inet.parse(a[3]), Integer.parseInt(a[4]));
            case "send" -> send(a[1], Inet.parse(a[2]), Inet.parse(a[3]), Inet.parse(a[4]), Integer.parseInt(a[5]), a[6]);
            case "udp-echo" -> udpServer(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), true);
            case "udp-sink" -> udpServer(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), false);
            case "udp-ping" -> udpPing(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]));
            case "send6" -> send6(a[1], a[2], a[3], a[4], Integer.parseInt(a[5]), a[6], a[7]);
            default -> throw new IllegalArgumentException(a[0]);
        }
    }

    static void relay(String encap, String dev, int to, int seconds) throws Exception {
        int tun = Tun.openTun(dev);
        NetDevice.changeFlags(dev, NetDevice.IFF_UP, 0);
        System.out.println("relay ready");
        System.out.flush();
        try (Arena arena = Arena.ofConfined()) {
            Libc.Errno e = new Libc.Errno(arena);
            MemorySegment buf = arena.allocate(65536 + 4);
            int s = encap.equals("ipip")
                    ? Libc.socket(Libc.AF_INET, Libc.SOCK_RAW, Libc.IPPROTO_IPIP)
                    : Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM, 0);
            MemorySegment dst = Libc.sockaddrIn(arena, to, encap.equals("ipip") ? 0 : GUE_PORT);
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            long n = 0;
            MemorySegment inner = buf.asSlice(4);
            buf.set(ValueLayout.JAVA_INT, 0, 0);
            buf.set(ValueLayout.JAVA_BYTE, 1, (byte) 4);   // GUE v0, proto_ctype 4 (IPIP)
            while (System.nanoTime() < end) {
                long r = Libc.read(e, tun, inner, 65536);
                if (r <= 0) {
                    Thread.sleep(1);
                    continue;
                }
                long w = encap.equals("ipip") ? Libc.sendto(e, s, inner, r, 0, dst) : Libc.sendto(e, s, buf, r + 4, 0, dst);
                if (w > 0) {
                    n++;
                }
            }
            System.out.println("relayed " + n);
        }
    }

    /** A 64-byte IPv4/UDP packet (20 + 8 + 36 payload) with correct checksums. */
    static byte[] udpPacket(int src, int dst, int dport) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.BIG_ENDIAN);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 64).putShort((short) 0).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).putInt(src).putInt(dst);
        b.putShort((short) 40000).putShort((short) dport).putShort((short) 44).putShort((short) 0);
        byte[] payload = "jvs-encap-test-0123456789abcdefghijk".getBytes();
        b.put(payload, 0, 36);
        byte[] p = b.array();
        int c = checksum(p, 0, 20, 0);
        p[10] = (byte) (c >> 8);
        p[11] = (byte) c;
        long pseudo = ((src >>> 16) & 0xffff) + (src & 0xffff) + ((dst >>> 16) & 0xffff) + (dst & 0xffff) + 17 + 44;
        int u = checksum(p, 20, 44, pseudo);
        if (u == 0) {
            u = 0xffff;
        }
        p[26] = (byte) (u >> 8);
        p[27] = (byte) u;
        return p;
    }

    static int checksum(byte[] p, int off, int len, long sum) {
        for (int i = 0; i < len; i += 2) {
            sum += ((p[off + i] & 0xff) << 8) | (i + 1 < len ? p[off + i + 1] & 0xff : 0);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    static void send(String encap, int to, int src, int dst, int dport, String howMuch) throws Exception {
        byte[] pkt = udpPacket(src, dst, dport);
        boolean count = howMuch.startsWith("x");
        long limit = Long.parseLong(count ? howMuch.substring(1) : howMuch);
        try (Arena arena = Arena.ofConfined()) {
            Libc.Errno e = new Libc.Errno(arena);
            int s;
            MemorySegment msg;
            MemorySegment addr;
            switch (encap) {
                case "ipip" -> {
                    s = Libc.socket(Libc.AF_INET, Libc.SOCK_RAW, Libc.IPPROTO_IPIP);
                    msg = arena.allocate(pkt.length);
                    MemorySegment.copy(pkt, 0, msg, ValueLayout.JAVA_BYTE, 0, pkt.length);
                    addr = Libc.sockaddrIn(arena, to, 0);
                }
                case "gue" -> {
                    s = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM, 0);
                    msg = arena.allocate(pkt.length + 4);
                    msg.set(ValueLayout.JAVA_BYTE, 1, (byte) 4);
                    MemorySegment.copy(pkt, 0, msg, ValueLayout.JAVA_BYTE, 4, pkt.length);
                    addr = Libc.sockaddrIn(arena, to, GUE_PORT);
                }
                case "plain" -> {
                    s = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM, 0);
                    msg = arena.allocate(36);
                    MemorySegment.copy(pkt, 28, msg, ValueLayout.JAVA_BYTE, 0, 36);
                    addr = Libc.sockaddrIn(arena, dst, dport);
                }
                default -> throw new IllegalArgumentException(encap);
            }
            long sent = 0;
            long errors = 0;
            long t0 = System.nanoTime();
            long end = t0 + limit * 1_000_000_000L;
            while (count ? sent < limit : System.nanoTime() < end) {
                for (int i = 0; i < 64 && (!count || sent < limit); i++) {
                    if (Libc.sendto(e, s, msg, msg.byteSize(), 0, addr) > 0) {
                        sent++;
                    } else {
                        errors++;
                        if (count) {
                            Thread.sleep(1);
                        }
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("sent %d errors %d pps %.0f%n", sent, errors, sent / secs);
        }
    }

    /** A 64-byte IPv6/UDP packet (40 + 8 + 16 payload) with a correct UDP checksum (RFC 8200 8.1). */
    static byte[] udp6Packet(byte[] src, byte[] dst, int dport) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.BIG_ENDIAN);
        b.putInt(6 << 28).putShort((short) 24).put((byte) 17).put((byte) 64).put(src).put(dst);
        b.putShort((short) 40000).putShort((short) dport).putShort((short) 24).putShort((short) 0);
        b.put("jvs-ip6ip6-test!".getBytes(), 0, 16);
        byte[] p = b.array();
        long pseudo = 24 + 17;
        for (int i = 0; i < 32; i += 2) {
            pseudo += ((p[8 + i] & 0xff) << 8) | (p[9 + i] & 0xff);
        }
        int u = checksum(p, 40, 24, pseudo);
        if (u == 0) {
            u = 0xffff;
        }
        p[46] = (byte) (u >> 8);
        p[47] = (byte) u;
        return p;
    }

    static void send6(String encap, String to, String src, String dst, int dport, String howMuch, String from)
            throws Exception {
        boolean paced = howMuch.startsWith("x");
        long count = paced ? Long.parseLong(howMuch.substring(1)) : Long.MAX_VALUE;
        long end = paced ? Long.MAX_VALUE : System.nanoTime() + Long.parseLong(howMuch) * 1_000_000_000L;
        long t0 = System.nanoTime();
        InetAddress toA = InetAddress.getByName(to);
        InetAddress fromA = InetAddress.getByName(from);
        byte[] pkt = encap.equals("ipip6") || encap.equals("ipip") ? udpPacket(Inet.parse(src), Inet.parse(dst), dport)
                : udp6Packet(InetAddress.getByName(src).getAddress(), InetAddress.getByName(dst).getAddress(), dport);
        long sent = 0;
        if (encap.equals("gue6")) {
            try (DatagramChannel ch = DatagramChannel.open(java.net.StandardProtocolFamily.INET6)) {
                ch.bind(new InetSocketAddress(fromA, 0));
                ByteBuffer msg = ByteBuffer.allocate(4 + pkt.length).put(new byte[] {0, 41, 0, 0}).put(pkt);
                for (long i = 0; i < count && (paced || System.nanoTime() < end); i++) {
                    msg.flip();
                    sent += ch.send(msg, new InetSocketAddress(toA, GUE_PORT)) > 0 ? 1 : 0;
                    msg.position(msg.limit());
                }
            }
        } else {
            try (Arena arena = Arena.ofConfined()) {
                Libc.Errno e = new Libc.Errno(arena);
                boolean outer4 = encap.equals("sit") || encap.equals("ipip");
                int s = Libc.socket(outer4 ? Libc.AF_INET : Libc.AF_INET6, Libc.SOCK_RAW,
                        encap.equals("ipip6") || encap.equals("ipip") ? Libc.IPPROTO_IPIP : Libc.IPPROTO_IPV6);
                MemorySegment addr;
                if (outer4) {
                    Libc.bind(s, Libc.sockaddrIn(arena, Inet.parse(from), 0), "raw " + from);
                    addr = Libc.sockaddrIn(arena, Inet.parse(to), 0);
                } else {
                    ByteBuffer f = ByteBuffer.wrap(fromA.getAddress());
                    Libc.bind(s, Libc.sockaddrIn6(arena, f.getLong(), f.getLong(), 0), "raw6 " + from);
                    ByteBuffer t = ByteBuffer.wrap(toA.getAddress());
                    addr = Libc.sockaddrIn6(arena, t.getLong(), t.getLong(), 0);
                }
                MemorySegment msg = arena.allocate(pkt.length);
                MemorySegment.copy(pkt, 0, msg, ValueLayout.JAVA_BYTE, 0, pkt.length);
                for (long i = 0; i < count && (paced || (i & 63) != 0 || System.nanoTime() < end); i++) {
                    sent += Libc.sendto(e, s, msg, pkt.length, 0, addr) > 0 ? 1 : 0;
                    if (paced) {
                        Thread.sleep(1);
                    }
                }
                Libc.close(s);
            }
        }
        System.out.printf("sent %d pps %.0f%n", sent, sent / ((System.nanoTime() - t0) / 1e9));
    }

    static void udpServer(String bind, int port, int seconds, boolean echo) throws Exception {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress(InetAddress.getByName(bind), port));
            ch.configureBlocking(false);
            ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
            System.out.println("listening " + bind + ":" + port);
            System.out.flush();
            ByteBuffer b = ByteBuffer.allocateDirect(65536);
            long n = 0;
            long first = 0;
            long last = 0;
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                b.clear();
                var from = ch.receive(b);
                if (from == null) {
                    Thread.onSpinWait();
                    if (n == 0 || echo) {
                        Thread.sleep(0, 200_000);
                    }
                    continue;
                }
                last = System.nanoTime();
                if (n++ == 0) {
                    first = last;
                }
                if (echo) {
                    b.flip();
                    ch.send(b, from);
                    System.out.println("echo " + from);
                }
            }
            double secs = Math.max(1e-9, (last - first) / 1e9);
            System.out.printf("received %d pps %.0f%n", n, n > 1 ? (n - 1) / secs : 0.0);
        }
    }

    static void udpPing(String vip, int port, int count) throws Exception {
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(2000);
            int replies = 0;
            java.util.Set<String> from = new java.util.TreeSet<>();
            for (int i = 0; i < count; i++) {
                byte[] m = ("ping " + i).getBytes();
                s.send(new DatagramPacket(m, m.length, InetAddress.getByName(vip), port));
                DatagramPacket r = new DatagramPacket(new byte[1500], 1500);
                try {
                    s.receive(r);
                    if (new String(r.getData(), 0, r.getLength()).equals("ping " + i)) {
                        replies++;
                        from.add(r.getAddress().getHostAddress());
                    }
                } catch (SocketTimeoutException e) {
                    // counted as missing
                }
            }
            System.out.println("replies " + replies + " from " + String.join(",", from));
        }
    }
}
