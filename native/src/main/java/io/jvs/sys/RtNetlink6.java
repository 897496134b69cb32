package io.jvs.sys;

import io.jvs.packet.Bytes;
import io.jvs.packet.Ipv6Address;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The IPv6 half of {@link RtNetlink} (AF_INET6 addresses and routes), on its request
 * builder, transaction and dump readers (shared with IPv4 and the forwarder's routes6/addresses6): dump, add and delete addresses with their IFA_F_* flags
 * (nodad, tentative, dadfailed), dump the routes and add, replace or delete a default
 * route. Control plane only; each call opens its own socket.
 */
public final class RtNetlink6 {
    static final int AF_INET6 = 10;
    static final int IFA_FLAGS = RtNetlink.IFA_FLAGS;
    static final int RTA_PREF = 20;

    /** ifa_flags (include/uapi/linux/if_addr.h). */
    public static final int IFA_F_NODAD = 0x02;
    public static final int IFA_F_DADFAILED = 0x08;
    public static final int IFA_F_TENTATIVE = 0x40;
    public static final int IFA_F_PERMANENT = 0x80;

    /** The metric the kernel gives an IPv6 route added without one (IP6_RT_PRIO_USER). */
    public static final int DEFAULT_METRIC = 1024;
    public static final int RTPROT_RA = 9;
    public static final int RTN_UNICAST = RtNetlink.RTN_UNICAST;

    private RtNetlink6() {
    }

    /** An IPv6 address of an interface with its scope (0 global, 253 link, 254 host) and IFA_F_* flags. */
    public record Address(int ifindex, Ipv6Address addr, int prefixLen, int scope, int flags) {
        public boolean tentative() {
            return (flags & IFA_F_TENTATIVE) != 0;
        }

        public boolean dadFailed() {
            return (flags & IFA_F_DADFAILED) != 0;
        }
    }

    /**
     * An IPv6 route: gateway {@link Ipv6Address#UNSPECIFIED} = on-link; type RTN_UNICAST (1), RTN_LOCAL (2), ...
     * metric 0 in a request = the kernel's default (1024).
     */
    public record Route(Ipv6Address dst, int dstLen, Ipv6Address gateway, int oif, int metric, int table,
                        int protocol, int type) {
        public boolean hasGateway() {
            return !gateway.isUnspecified();
        }
    }

    static void attr16(RtNetlink.Msg m, int type, Ipv6Address a) {
        m.buf.set(ValueLayout.JAVA_SHORT_UNALIGNED, m.len, (short) 20);
        m.buf.set(ValueLayout.JAVA_SHORT_UNALIGNED, m.len + 2, (short) type);
        m.buf.set(Bytes.BE64, m.len + 4, a.hi());
        m.buf.set(Bytes.BE64, m.len + 12, a.lo());
        m.len += 20;
    }

    /** Every IPv6 address on every interface. */
    public static List<Address> addresses() throws NativeException {
        List<Address> out = new ArrayList<>();
        for (RtNetlink.AddressMessage m : RtNetlink.addressDump(AF_INET6)) {
            if (m.hasAddress()) {
                out.add(new Address(m.ifindex(), new Ipv6Address(m.hi(), m.lo()), m.prefixLen(), m.scope(), m.flags()));
            }
        }
        return out;
    }

    /** ip -6 addr add|del ADDR/LEN dev IFINDEX [nodad] (scope global). */
    public static void address(boolean add, int ifindex, Ipv6Address addr, int prefixLen, boolean nodad)
            throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            int flags = RtNetlink.NLM_F_REQUEST | RtNetlink.NLM_F_ACK
                    | (add ? RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_EXCL : 0);
            RtNetlink.Msg m = new RtNetlink.Msg(a, add ? RtNetlink.RTM_NEWADDR : RtNetlink.RTM_DELADDR, flags, 8);
            m.buf.set(ValueLayout.JAVA_BYTE, 16, (byte) AF_INET6);
            m.buf.set(ValueLayout.JAVA_BYTE, 17, (byte) prefixLen);
            m.buf.set(ValueLayout.JAVA_BYTE, 18, (byte) (nodad ? IFA_F_NODAD : 0));
            m.buf.set(ValueLayout.JAVA_BYTE, 19, (byte) RtNetlink.RT_SCOPE_UNIVERSE);
            m.buf.set(ValueLayout.JAVA_INT_UNALIGNED, 20, ifindex);
            attr16(m, RtNetlink.IFA_LOCAL, addr);
            if (nodad) {
                m.attrInt(IFA_FLAGS, IFA_F_NODAD);
            }
            RtNetlink.transact(m.finish(), (add ? "add" : "delete") + " address " + addr + "/" + prefixLen
                    + " on ifindex " + ifindex, (t, msg, l) -> { });
        }
    }

    /**
     * Every IPv6 route of every table (unicast, local, ...; see {@link Route#type()}); a multipath
     * route without a device and gateway of its own as the kernel sent it.
     */
    public static List<Route> routes() throws NativeException {
        List<Route> out = new ArrayList<>();
        for (RtNetlink.RouteMessage r : RtNetlink.routeDump(AF_INET6)) {
            out.add(new Route(new Ipv6Address(r.dstHi(), r.dstLo()), r.dstLen(),
                    new Ipv6Address(r.gatewayHi(), r.gatewayLo()), r.oif(), r.priority(), r.table(), r.protocol(),
                    r.type()));
        }
        return out;
    }

    /** The main table's unicast default routes (::/0), lowest metric first. */
    public static List<Route> mainDefaultRoutes() throws NativeException {
        return routes().stream()
                .filter(r -> r.table() == RtNetlink.RT_TABLE_MAIN && r.dstLen() == 0 && r.type() == RTN_UNICAST)
                .sorted(Comparator.comparingInt(Route::metric)).toList();
    }

    /**
     * ip -6 route add|replace|del: op is "add" (fails if it exists), "replace" or "del". oif 0 lets the
     * kernel pick the device (not for a link-local gateway); metric 0 is the kernel's default (1024).
     */
    public static void route(String op, Route r) throws NativeException {
        boolean del = op.equals("del");
        int flags = RtNetlink.NLM_F_REQUEST | RtNetlink.NLM_F_ACK | switch (op) {
            case "add" -> RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_EXCL;
            case "replace" -> RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_REPLACE;
            case "del" -> 0;
            default -> throw new IllegalArgumentException("route op " + op);
        };
        try (Arena a = Arena.ofConfined()) {
            RtNetlink.Msg m = new RtNetlink.Msg(a, del ? RtNetlink.RTM_DELROUTE : RtNetlink.RTM_NEWROUTE, flags, 12);
            MemorySegment b = m.buf;
            b.set(ValueLayout.JAVA_BYTE, 16, (byte) AF_INET6);
            b.set(ValueLayout.JAVA_BYTE, 17, (byte) r.dstLen());
            b.set(ValueLayout.JAVA_BYTE, 20, (byte) (r.table() < 256 ? r.table() : 0));
            b.set(ValueLayout.JAVA_BYTE, 21, (byte) (r.protocol() == 0 ? RtNetlink.RTPROT_STATIC : r.protocol()));
            b.set(ValueLayout.JAVA_BYTE, 22, (byte) RtNetlink.RT_SCOPE_UNIVERSE);
            b.set(ValueLayout.JAVA_BYTE, 23, (byte) (r.type() == 0 ? RTN_UNICAST : r.type()));
            if (r.dstLen() > 0) {
                attr16(m, RtNetlink.RTA_DST, r.dst());
            }
            if (r.hasGateway()) {
                attr16(m, RtNetlink.RTA_GATEWAY, r.gateway());
            }
            if (r.oif() != 0) {
                m.attrInt(RtNetlink.RTA_OIF, r.oif());
            }
            if (r.metric() != 0) {
                m.attrInt(RtNetlink.RTA_PRIORITY, r.metric());
            }
            m.attrInt(RtNetlink.RTA_TABLE, r.table());
            RtNetlink.transact(m.finish(), op + " route " + r.dst() + "/" + r.dstLen()
                    + (r.hasGateway() ? " via " + r.gateway() : "") + (r.oif() != 0 ? " oif " + r.oif() : "")
                    + " table " + r.table(), (t, msg, l) -> { });
        }
    }

    /** ip -6 rule add|del from SRC/LEN [iif IIF] lookup TABLE priority PRIO (as {@link RtNetlink#rule} for IPv4). */
    public static void rule(boolean add, Ipv6Address src, int srcLen, String iif, int table, int priority)
            throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            int flags = RtNetlink.NLM_F_REQUEST | RtNetlink.NLM_F_ACK
                    | (add ? RtNetlink.NLM_F_CREATE | RtNetlink.NLM_F_EXCL : 0);
            RtNetlink.Msg m = new RtNetlink.Msg(a, add ? RtNetlink.RTM_NEWRULE : RtNetlink.RTM_DELRULE, flags, 12);
            MemorySegment b = m.buf;
            b.set(ValueLayout.JAVA_BYTE, 16, (byte) AF_INET6);
            b.set(ValueLayout.JAVA_BYTE, 18, (byte) srcLen);
            b.set(ValueLayout.JAVA_BYTE, 20, (byte) (table < 256 ? table : 0));
            b.set(ValueLayout.JAVA_BYTE, 23, (byte) RtNetlink.FR_ACT_TO_TBL);
            if (srcLen > 0) {
                attr16(m, RtNetlink.FRA_SRC, src);
            }
            if (iif != null) {
                m.attrString(RtNetlink.FRA_IIFNAME, iif);
            }
            m.attrInt(RtNetlink.FRA_PRIORITY, priority);
            m.attrInt(RtNetlink.FRA_TABLE, table);
            RtNetlink.transact(m.finish(), (add ? "add" : "delete") + " rule from " + src + "/" + srcLen,
                    (t, msg, l) -> { });
        }
    }
}
