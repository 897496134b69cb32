package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * rtnetlink (NETLINK_ROUTE) over the FFM API: dump routes and addresses (one reader
 * per message type for both families, {@link #routeDump} and {@link #addressDump}, under
 * IPv4's views here, the forwarder's IPv6 ones ({@link #routes6}, {@link #addresses6}) and
 * {@link RtNetlink6}'s), add and delete IPv4 routes and policy rules. Control plane only; each call opens
 * its own socket, so it is safe from any thread. Messages are host byte order
 * except addresses, which are network order (big endian) in the attributes.
 */
public final class RtNetlink {
    static final int AF_NETLINK = 16;
    static final int NETLINK_ROUTE = 0;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;

    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 1;
    static final int NLM_F_ACK = 4;
    static final int NLM_F_DUMP = 0x300;
    static final int NLM_F_EXCL = 0x200;
    static final int NLM_F_CREATE = 0x400;

    static final int RTM_NEWROUTE = 24;
    static final int RTM_DELROUTE = 25;
    static final int RTM_GETROUTE = 26;
    static final int RTM_NEWADDR = 20;
    static final int RTM_GETADDR = 22;
    static final int RTM_NEWRULE = 32;
    static final int RTM_DELRULE = 33;

    static final int RTA_DST = 1;
    static final int RTA_OIF = 4;
    static final int RTA_GATEWAY = 5;
    static final int RTA_PRIORITY = 6;
    static final int RTA_TABLE = 15;
    static final int RTA_MULTIPATH = 9;
    static final int IFA_ADDRESS = 1;
    static final int IFA_LOCAL = 2;
    static final int FRA_SRC = 2;
    static final int FRA_IIFNAME = 3;
    static final int FRA_PRIORITY = 6;
    static final int FRA_TABLE = 15;

    public static final int RT_TABLE_MAIN = 254;
    static final int RTN_UNICAST = 1;
    static final int RTPROT_STATIC = 4;
    static final int RT_SCOPE_UNIVERSE = 0;
    static final int RT_SCOPE_LINK = 253;
    static final int FR_ACT_TO_TBL = 1;

    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong BE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** An IPv4 unicast route of one table; gateway 0 = on-link. */
    public record Route(int dst, int dstLen, int gateway, int oif, int priority, int table) {
        public boolean matches(int addr) {
            int mask = dstLen == 0 ? 0 : -1 << (32 - dstLen);
            return (addr & mask) == (dst & mask);
        }
    }

    /** An IPv4 address of an interface. */
    public record Address(int ifindex, int addr, int prefixLen) {
    }

    private RtNetlink() {
    }

    /** Builds one netlink request in a buffer (RtNetlink6 builds its IPv6 requests with it too). */
    static final class Msg {
        final MemorySegment buf;
        int len;

        Msg(Arena a, int type, int flags, int bodyLen) {
            buf = a.allocate(1024, 8);
            buf.set(SHORT, 4, (short) type);
            buf.set(SHORT, 6, (short) flags);
            buf.set(INT, 8, 1);   // seq
            len = 16 + align(bodyLen);
        }

        void attrInt(int type, int v) {
            buf.set(SHORT, len, (short) 8);
            buf.set(SHORT, len + 2, (short) type);
            buf.set(INT, len + 4, v);
            len += 8;
        }

        void attrAddr(int type, int addr) {
            buf.set(SHORT, len, (short) 8);
            buf.set(SHORT, len + 2, (short) type);
            buf.set(BE_INT, len + 4, addr);
            len += 8;
        }

        void attrString(int type, String s) {
            byte[] b = (s + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            buf.set(SHORT, len, (short) (4 + b.length));
            buf.set(SHORT, len + 2, (short) type);
            MemorySegment.copy(b, 0, buf, ValueLayout.JAVA_BYTE, len + 4, b.length);
            len += align(4 + b.length);
        }

        MemorySegment finish() {
            buf.set(INT, 0, len);
            return buf.asSlice(0, len);
        }
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    interface Visitor {
        void message(int type, MemorySegment msg, int len);
    }

    /** Sends the request and walks every reply until DONE (dumps) or the ACK; throws on NLMSG_ERROR. */
    static void transact(MemorySegment req, String what, Visitor v) throws NativeException {
        int fd = Libc.socket(AF_NETLINK, 3 /* SOCK_RAW */ | Libc.SOCK_CLOEXEC, NETLINK_ROUTE);
        try (Arena a = Arena.ofConfined()) {
            Libc.Errno e = new Libc.Errno(a);
            if (Libc.send(e, fd, req, req.byteSize(), 0) < 0) {
                throw new NativeException("netlink send " + what, e.get());
            }
            MemorySegment buf = a.allocate(1 << 16, 8);
            while (true) {
                long n = Libc.recv(e, fd, buf, buf.byteSize(), 0);
                if (n < 0) {
                    if (e.get() == Libc.EINTR) {
                        continue;
                    }
                    throw new NativeException("netlink recv " + what, e.get());
                }
                int off = 0;
                while (off + 16 <= n) {
                    int mlen = buf.get(INT, off);
                    int type = buf.get(SHORT, off + 4) & 0xffff;
                    if (mlen < 16 || off + mlen > n) {
                        throw new NativeException("netlink " + what + ": malformed reply", 71);
                    }
                    if (type == NLMSG_DONE) {
                        return;
                    }
                    if (type == NLMSG_ERROR) {
                        int err = -buf.get(INT, off + 16);
                        if (err == 0) {
                            return;   // the ACK
                        }
                        throw new NativeException(what, err);
                    }
                    v.message(type, buf.asSlice(off, mlen), mlen);
                    off += align(mlen);
                }
            }
        } finally {
            Libc.close(fd);
        }
    }

    /** Every IPv4 unicast route of the given table (254 = main). */
    public static List<Route> routes(int table) throws NativeException {
        List<Route> out = new ArrayList<>();
        for (RouteEntry e : routeEntries()) {
            if (e.table() == table) {
                out.add(new Route(e.dst(), e.dstLen(), e.gateway(), e.oif(), e.priority(), e.table()));
            }
        }
        return out;
    }

    /** Every IPv4 address on every interface. */
    public static List<Address> addresses() throws NativeException {
        List<Address> out = new ArrayList<>();
        for (LabeledAddress l : labeledAddresses()) {
            out.add(new Address(l.ifindex(), l.addr(), l.prefixLen()));
        }
        return out;
    }

    /** ip route add|del DST/LEN dev OIF [table T] scope link. */
    public static void deviceRoute(boolean add, int dst, int dstLen, int oif, int table) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            int flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
            Msg m = new Msg(a, add ? RTM_NEWROUTE : RTM_DELROUTE, flags, 12);
            MemorySegment b = m.buf;
            b.set(ValueLayout.JAVA_BYTE, 16, (byte) AF_INET);
            b.set(ValueLayout.JAVA_BYTE, 17, (byte) dstLen);
            b.set(ValueLayout.JAVA_BYTE, 20, (byte) (table < 256 ? table : 0));
            b.set(ValueLayout.JAVA_BYTE, 21, (byte) RTPROT_STATIC);
            b.set(ValueLayout.JAVA_BYTE, 22, (byte) RT_SCOPE_LINK);
            b.set(ValueLayout.JAVA_BYTE, 23, (byte) RTN_UNICAST);
            if (dstLen > 0) {
                m.attrAddr(RTA_DST, dst);
            }
            m.attrInt(RTA_OIF, oif);
            m.attrInt(RTA_TABLE, table);
            transact(m.finish(), (add ? "add" : "delete") + " route " + dstLen + " dev " + oif, (t, msg, l) -> { });
        }
    }

    /** ip rule add|del from SRC/LEN [iif IIF] lookup TABLE priority PRIO. */
    public static void rule(boolean add, int src, int srcLen, String iif, int table, int priority) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            int flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
            Msg m = new Msg(a, add ? RTM_NEWRULE : RTM_DELRULE, flags, 12);
            MemorySegment b = m.buf;
            b.set(ValueLayout.JAVA_BYTE, 16, (byte) AF_INET);
            b.set(ValueLayout.JAVA_BYTE, 18, (byte) srcLen);
            b.set(ValueLayout.JAVA_BYTE, 20, (byte) (table < 256 ? table : 0));
            b.set(ValueLayout.JAVA_BYTE, 23, (byte) FR_ACT_TO_TBL);
            if (srcLen > 0) {
                m.attrAddr(FRA_SRC, src);
            }
            if (iif != null) {
                m.attrString(FRA_IIFNAME, iif);
            }
            m.attrInt(FRA_PRIORITY, priority);
            m.attrInt(FRA_TABLE, table);
            transact(m.finish(), (add ? "add" : "delete") + " rule", (t, msg, l) -> { });
        }
    }

    // ---------------------------------------------------------------- links, labelled addresses, routes with a gateway

    static final int RTM_NEWLINK = 16;
    static final int RTM_GETLINK = 18;
    static final int RTM_DELADDR = 21;
    static final int IFLA_IFNAME = 3;
    static final int IFA_LABEL = 3;
    static final int NLM_F_REPLACE = 0x100;
    public static final int SCOPE_UNIVERSE = RT_SCOPE_UNIVERSE;
    public static final int SCOPE_LINK = RT_SCOPE_LINK;

    /** A network device: index, name and IFF_* flags. */
    public record Link(int index, String name, int flags) {
        public boolean up() {
            return (flags & NetDevice.IFF_UP) != 0;
        }
    }

    /** An IPv4 address with its label (e.g. "lo:0") and scope. */
    public record LabeledAddress(int ifindex, int addr, int prefixLen, String label, int scope) {
    }

    /** An IPv4 unicast route with everything needed to delete or re-create it exactly. */
    public record RouteEntry(int dst, int dstLen, int gateway, int oif, int priority, int table, int scope,
                             int protocol, int prefsrc) {
    }

    static String attrString(MemorySegment msg, int off, int alen) {
        int n = alen - 4;
        byte[] b = new byte[n];
        MemorySegment.copy(msg, ValueLayout.JAVA_BYTE, off + 4, b, 0, n);
        int end = 0;
        while (end < n && b[end] != 0) {
            end++;
        }
        return new String(b, 0, end, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Every network device of this namespace. */
    public static List<Link> links() throws NativeException {
        List<Link> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            Msg m = new Msg(a, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 16);
            m.buf.set(ValueLayout.JAVA_BYTE, 16, (byte) 0);   // AF_UNSPEC
            transact(m.finish(), "link dump", (type, msg, len) -> {
                if (type != RTM_NEWLINK) {
                    return;
                }
                int index = msg.get(INT, 16 + 4);
                int flags = msg.get(INT, 16 + 8);
                String name = null;
                int off = 16 + 16;
                while (off + 4 <= len) {
                    int alen = msg.get(SHORT, off) & 0xffff;
                    int atype = msg.get(SHORT, off + 2) & 0x3fff;
                    if (alen < 4) {
                        break;
                    }
                    if (atype == IFLA_IFNAME) {
                        name = attrString(msg, off, alen);
                    }
                    off += align(alen);
                }
                out.add(new Link(index, name, flags));
            });
        }
        return out;
    }

    /** The device of this name, if any. */
    public static java.util.Optional<Link> link(String name) throws NativeException {
        for (Link l : links()) {
            if (name.equals(l.name())) {
                return java.util.Optional.of(l);
            }
        }
        return java.util.Optional.empty();
    }

    /** Every IPv4 address with its label and scope. */
    public static List<LabeledAddress> labeledAddresses() throws NativeException {
        List<LabeledAddress> out = new ArrayList<>();
        for (AddressMessage m : addressDump(AF_INET)) {
            out.add(new LabeledAddress(m.ifindex(), (int) m.lo(), m.prefixLen(), m.label(), m.scope()));
        }
        return out;
    }

    /** ip addr add|del ADDR/LEN dev IFINDEX [label LABEL] (scope global); label null = the device's name. */
    public static void address(boolean add, int ifindex, int addr, int prefixLen, String label) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            int flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
            Msg m = new Msg(a, add ? RTM_NEWADDR : RTM_DELADDR, flags, 8);
            MemorySegment b = m.buf;
            b.set(ValueLayout.JAVA_BYTE, 16, (byte) AF_INET);
            b.set(ValueLayout.JAVA_BYTE, 17, (byte) prefixLen);
            b.set(ValueLayout.JAVA_BYTE, 19, (byte) RT_SCOPE_UNIVERSE);
            b.set(INT, 20, ifindex);
            m.attrAddr(IFA_LOCAL, addr);
            m.attrAddr(IFA_ADDRESS, addr);
            if (label != null) {
                m.attrString(IFA_LABEL, label);
            }
            transact(m.finish(), (add ? "add" : "delete") + " address " + Inet.format(addr) + "/" + prefixLen
                    + " on ifindex " + ifindex, (t, msg, l) -> { });
        }
    }

    /** Every IPv4 unicast route of every table, with scope, protocol and preferred source. */
    public static List<RouteEntry> routeEntries() throws NativeException {
        List<RouteEntry> out = new ArrayList<>();
        for (RouteMessage r : routeDump(AF_INET)) {
            if (r.type() == RTN_UNICAST) {
                out.add(new RouteEntry((int) r.dstLo(), r.dstLen(), (int) r.gatewayLo(), r.oif(), r.priority(),
                        r.table(), r.scope(), r.protocol(), (int) r.prefsrcLo()));
            }
        }
        return out;
    }

    /**
     * An IPv6 unicast route of one table: destination and gateway as two longs each (the
     * high and low 64 bits, network order read big-endian); a gateway of :: = on-link.
     */
    public record Route6(long dstHi, long dstLo, int dstLen, long gatewayHi, long gatewayLo, int oif, int priority,
                         int table) {
    }

    /** An IPv6 address of an interface (link-local ones included), with its prefix length and scope. */
    public record Address6(int ifindex, long hi, long lo, int prefixLen, int scope) {
    }

    /**
     * Every IPv6 unicast route of the given table (RTM_GETROUTE with AF_INET6, 254 = main). A
     * multipath route (RTA_MULTIPATH, ECMP) is returned as its first hop only; the kernel's
     * local table and the fe80::/64 and multicast routes of the main table are not unicast
     * routes of interest to jvs and come back as the kernel reports them (ff00::/8 is RTN_UNICAST
     * in the main table; the caller skips multicast destinations).
     */
    public static List<Route6> routes6(int table) throws NativeException {
        List<Route6> out = new ArrayList<>();
        for (RouteMessage r : routeDump(AF_INET6)) {
            if (r.type() != RTN_UNICAST || r.table() != table) {
                continue;
            }
            if (r.oif() == 0 && r.multipath()) {
                boolean hopGateway = r.hopGatewayHi() != 0 || r.hopGatewayLo() != 0;
                out.add(new Route6(r.dstHi(), r.dstLo(), r.dstLen(), hopGateway ? r.hopGatewayHi() : r.gatewayHi(),
                        hopGateway ? r.hopGatewayLo() : r.gatewayLo(), r.hopOif(), r.priority(), r.table()));
            } else {
                out.add(new Route6(r.dstHi(), r.dstLo(), r.dstLen(), r.gatewayHi(), r.gatewayLo(), r.oif(),
                        r.priority(), r.table()));
            }
        }
        return out;
    }

    /** Every IPv6 address on every interface (RTM_GETADDR with AF_INET6). */
    public static List<Address6> addresses6() throws NativeException {
        List<Address6> out = new ArrayList<>();
        for (AddressMessage m : addressDump(AF_INET6)) {
            if (m.hasAddress()) {
                out.add(new Address6(m.ifindex(), m.hi(), m.lo(), m.prefixLen(), m.scope()));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- the dump readers, both families

    static final int IFA_FLAGS = 8;

    /**
     * One RTM_NEWROUTE message of a route dump, either family, as the kernel sent it: addresses
     * as 128 bits, an IPv4 one in the low 32 bits of lo (hi 0), absent ones 0. A multipath route
     * (RTA_MULTIPATH: ECMP, no RTA_OIF or RTA_GATEWAY of its own) also has its first hop's
     * device and gateway ({@code hop*}).
     */
    record RouteMessage(long dstHi, long dstLo, int dstLen, long gatewayHi, long gatewayLo, int oif, int priority,
                        int table, int scope, int protocol, int type, long prefsrcHi, long prefsrcLo,
                        boolean multipath, int hopOif, long hopGatewayHi, long hopGatewayLo) {
    }

    /**
     * One RTM_NEWADDR message of an address dump, either family: the address (an IPv4 one in the
     * low 32 bits of lo) from IFA_LOCAL, else IFA_ADDRESS (they differ only on a point-to-point
     * link, where IFA_ADDRESS is the peer's: the kernel sends IFA_LOCAL first); {@code hasAddress}
     * false when the message carried neither. flags: IFA_FLAGS' 32 bits, else ifa_flags' 8;
     * label: IFA_LABEL (IPv4's "lo:0"), else "".
     */
    record AddressMessage(int ifindex, long hi, long lo, boolean hasAddress, int prefixLen, int scope, int flags,
                          String label) {
    }

    /** Bytes of an address of the family. */
    private static int addressLength(int family) {
        return family == AF_INET6 ? 16 : 4;
    }

    /** The high 64 bits of the address attribute at off (0 for IPv4). */
    private static long addressHi(MemorySegment msg, int off, int family) {
        return family == AF_INET6 ? msg.get(BE_LONG, off + 4) : 0;
    }

    /** The low 64 bits of the address attribute at off (IPv4: its 32 bits, unsigned). */
    private static long addressLo(MemorySegment msg, int off, int family) {
        return family == AF_INET6 ? msg.get(BE_LONG, off + 12) : msg.get(BE_INT, off + 4) & 0xFFFF_FFFFL;
    }

    /** Every route of every table and type of the family (RTM_GETROUTE dump). */
    static List<RouteMessage> routeDump(int family) throws NativeException {
        List<RouteMessage> out = new ArrayList<>();
        int addrAttrLen = 4 + addressLength(family);
        try (Arena a = Arena.ofConfined()) {
            Msg m = new Msg(a, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 12);
            m.buf.set(ValueLayout.JAVA_BYTE, 16, (byte) family);
            transact(m.finish(), (family == AF_INET6 ? "IPv6 " : "") + "route dump", (type, msg, len) -> {
                if (type != RTM_NEWROUTE || (msg.get(ValueLayout.JAVA_BYTE, 16) & 0xff) != family) {
                    return;
                }
                int dstLen = msg.get(ValueLayout.JAVA_BYTE, 17) & 0xff;
                int tbl = msg.get(ValueLayout.JAVA_BYTE, 20) & 0xff;
                int proto = msg.get(ValueLayout.JAVA_BYTE, 21) & 0xff;
                int scope = msg.get(ValueLayout.JAVA_BYTE, 22) & 0xff;
                int rtype = msg.get(ValueLayout.JAVA_BYTE, 23) & 0xff;
                long dstHi = 0;
                long dstLo = 0;
                long gwHi = 0;
                long gwLo = 0;
                long srcHi = 0;
                long srcLo = 0;
                int oif = 0;
                int prio = 0;
                boolean multipath = false;
                int hopOif = 0;
                long hopGwHi = 0;
                long hopGwLo = 0;
                int off = 16 + 12;
                while (off + 4 <= len) {
                    int alen = msg.get(SHORT, off) & 0xffff;
                    int atype = msg.get(SHORT, off + 2) & 0x3fff;
                    if (alen < 4) {
                        break;
                    }
                    boolean isAddr = alen >= addrAttrLen;
                    switch (atype) {
                        case RTA_DST -> {
                            if (isAddr) {
                                dstHi = addressHi(msg, off, family);
                                dstLo = addressLo(msg, off, family);
                            }
                        }
                        case RTA_GATEWAY -> {
                            if (isAddr) {
                                gwHi = addressHi(msg, off, family);
                                gwLo = addressLo(msg, off, family);
                            }
                        }
                        case RTA_PREFSRC_ATTR -> {
                            if (isAddr) {
                                srcHi = addressHi(msg, off, family);
                                srcLo = addressLo(msg, off, family);
                            }
                        }
                        case RTA_OIF -> oif = msg.get(INT, off + 4);
                        case RTA_PRIORITY -> prio = msg.get(INT, off + 4);
                        case RTA_TABLE -> tbl = msg.get(INT, off + 4);
                        case RTA_MULTIPATH -> {
                            // struct rtnexthop {u16 len; u8 flags; u8 hops; int ifindex} then its attributes
                            if (!multipath && alen >= 4 + 8) {
                                multipath = true;
                                int nh = off + 4;
                                int nhLen = msg.get(SHORT, nh) & 0xffff;
                                hopOif = msg.get(INT, nh + 4);
                                int o = nh + 8;
                                while (o + 4 <= nh + nhLen && o + 4 <= off + alen) {
                                    int l = msg.get(SHORT, o) & 0xffff;
                                    if (l < 4) {
                                        break;
                                    }
                                    if ((msg.get(SHORT, o + 2) & 0x3fff) == RTA_GATEWAY && l >= addrAttrLen) {
                                        hopGwHi = addressHi(msg, o, family);
                                        hopGwLo = addressLo(msg, o, family);
                                    }
                                    o += align(l);
                                }
                            }
                        }
                        default -> { }
                    }
                    off += align(alen);
                }
                out.add(new RouteMessage(dstHi, dstLo, dstLen, gwHi, gwLo, oif, prio, tbl, scope, proto, rtype,
                        srcHi, srcLo, multipath, hopOif, hopGwHi, hopGwLo));
            });
        }
        return out;
    }

    /** Every address on every interface of the family (RTM_GETADDR dump). */
    static List<AddressMessage> addressDump(int family) throws NativeException {
        List<AddressMessage> out = new ArrayList<>();
        int addrAttrLen = 4 + addressLength(family);
        try (Arena a = Arena.ofConfined()) {
            Msg m = new Msg(a, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 8);
            m.buf.set(ValueLayout.JAVA_BYTE, 16, (byte) family);
            transact(m.finish(), (family == AF_INET6 ? "IPv6 " : "") + "address dump", (type, msg, len) -> {
                if (type != RTM_NEWADDR || (msg.get(ValueLayout.JAVA_BYTE, 16) & 0xff) != family) {
                    return;
                }
                int plen = msg.get(ValueLayout.JAVA_BYTE, 17) & 0xff;
                int flags = msg.get(ValueLayout.JAVA_BYTE, 18) & 0xff;
                int scope = msg.get(ValueLayout.JAVA_BYTE, 19) & 0xff;
                int index = msg.get(INT, 20);
                long hi = 0;
                long lo = 0;
                boolean found = false;
                String label = "";
                int off = 16 + 8;
                while (off + 4 <= len) {
                    int alen = msg.get(SHORT, off) & 0xffff;
                    int atype = msg.get(SHORT, off + 2) & 0x3fff;
                    if (alen < 4) {
                        break;
                    }
                    if ((atype == IFA_LOCAL || atype == IFA_ADDRESS && !found) && alen >= addrAttrLen) {
                        hi = addressHi(msg, off, family);
                        lo = addressLo(msg, off, family);
                        found = true;
                    } else if (atype == IFA_FLAGS && alen >= 8) {
                        flags = msg.get(INT, off + 4);   // the full 32 bits
                    } else if (atype == IFA_LABEL) {
                        label = attrString(msg, off, alen);
                    }
                    off += align(alen);
                }
                out.add(new AddressMessage(index, hi, lo, found, plen, scope, flags, label));
            });
        }
        return out;
    }

    /** The main table's default routes, lowest metric first. */
    public static List<RouteEntry> mainDefaultRoutes() throws NativeException {
        return routeEntries().stream().filter(r -> r.table() == RT_TABLE_MAIN && r.dstLen() == 0)
                .sorted(java.util.Comparator.comparingInt(RouteEntry::priority)).toList();
    }

    static final int RTA_PREFSRC_ATTR = 7;
    public static final int RTPROT_BOOT = 3;
    public static final int PROTO_STATIC = RTPROT_STATIC;

    /**
     * ip route add|del|replace: op is "add" (fails if it exists), "replace" or "del".
     * gateway 0 = on-link; oif 0 = let the kernel pick (with a gateway); prefsrc 0 = none.
     */
    public static void route(String op, RouteEntry r) throws NativeException {
        boolean del = op.equals("del");
        int flags = NLM_F_REQUEST | NLM_F_ACK | switch (op) {
            case "add" -> NLM_F_CREATE | NLM_F_EXCL;
            case "replace" -> NLM_F_CREATE | NLM_F_REPLACE;
            case "del" -> 0;
            default -> throw new IllegalArgumentException("route op " + op);
        };
        try (Arena a = Arena.ofConfined()) {
            Msg m = new Msg(a, del ? RTM_DELROUTE : RTM_NEWROUTE, flags, 12);
            MemorySegment b = m.buf;
            b.set(ValueLayout.JAVA_BYTE, 16, (byte) AF_INET);
            b.set(ValueLayout.JAVA_BYTE, 17, (byte) r.dstLen());
            b.set(ValueLayout.JAVA_BYTE, 20, (byte) (r.table() < 256 ? r.table() : 0));
            b.set(ValueLayout.JAVA_BYTE, 21, (byte) (r.protocol() == 0 ? RTPROT_STATIC : r.protocol()));
            b.set(ValueLayout.JAVA_BYTE, 22, (byte) r.scope());
            b.set(ValueLayout.JAVA_BYTE, 23, (byte) RTN_UNICAST);
            if (r.dstLen() > 0) {
                m.attrAddr(RTA_DST, r.dst());
            }
            if (r.gateway() != 0) {
                m.attrAddr(RTA_GATEWAY, r.gateway());
            }
            if (r.oif() != 0) {
                m.attrInt(RTA_OIF, r.oif());
            }
            if (r.priority() != 0) {
                m.attrInt(RTA_PRIORITY, r.priority());
            }
            if (r.prefsrc() != 0) {
                m.attrAddr(RTA_PREFSRC_ATTR, r.prefsrc());
            }
            m.attrInt(RTA_TABLE, r.table());
            transact(m.finish(), op + " route " + Inet.format(r.dst()) + "/" + r.dstLen()
                    + (r.gateway() != 0 ? " via " + Inet.format(r.gateway()) : "")
                    + (r.oif() != 0 ? " oif " + r.oif() : "") + " table " + r.table(), (t, msg, l) -> { });
        }
    }
}
