package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;

/**
 * One packet-marking rule, what LVS users write as
 * {@code iptables -t mangle -A PREROUTING -d VIP -p tcp --dport 80 -j MARK --set-mark 1}
 * (or with {@code ip6tables} for IPv6): packets matching every given criterion get {@code mark},
 * and the fwmark service ({@code -f mark}, {@code -f mark -6} for an IPv6 rule) with that mark
 * takes them. Rules are tried in the order given ({@link ServiceTable#mark} and
 * {@link ServiceTable#mark6} evaluate them); the first match wins (iptables' MARK target keeps
 * traversing, but a later MARK simply overwrites: jvs users order rules most-specific first).
 *
 * <p>A rule is of one family, as a rule lives in either iptables or ip6tables: an IPv4 rule
 * ({@code ipv6} false) matches IPv4 packets only, by {@code srcAddr}/{@code dstAddr}; an IPv6
 * rule ({@code -6}, or IPv6 networks) matches IPv6 packets only, by {@code src6}/{@code dst6}
 * (non-null exactly then, each cut to its prefix length).
 *
 * @param srcAddr   IPv4 source network, host order (0 with prefix 0 = any; 0 for an IPv6 rule)
 * @param srcPrefix 0..32 (IPv6: 0..128)
 * @param dstAddr   IPv4 destination network, host order
 * @param dstPrefix 0..32 (32 = one VIP: jvs answers ARP for it); IPv6: 0..128 (128: jvs answers NDP)
 * @param proto     {@link Protocol#TCP}, {@link Protocol#UDP} or 0 = any
 * @param dportLow  destination port range, inclusive; 0..65535 = any
 * @param dportHigh
 * @param mark      1..2^32-1 as an unsigned int (0 is "no mark")
 * @param src6      IPv6 source network ({@code ::} with prefix 0 = any), null for an IPv4 rule
 * @param dst6      IPv6 destination network, null for an IPv4 rule
 */
public record FwmarkRule(int srcAddr, int srcPrefix, int dstAddr, int dstPrefix, int proto, int dportLow,
                         int dportHigh, int mark, Ipv6Address src6, Ipv6Address dst6) {
    public FwmarkRule {
        int max = src6 != null ? 128 : 32;
        if ((src6 == null) != (dst6 == null)) {
            throw new IllegalArgumentException("an IPv6 rule has an IPv6 source and destination network");
        }
        if (srcPrefix < 0 || srcPrefix > max || dstPrefix < 0 || dstPrefix > max) {
            throw new IllegalArgumentException("prefix length out of range 0.." + max);
        }
        if (proto != 0 && proto != Protocol.TCP && proto != Protocol.UDP) {
            throw new IllegalArgumentException("protocol " + proto + " is neither tcp nor udp");
        }
        if (dportLow < 0 || dportHigh > 65535 || dportLow > dportHigh) {
            throw new IllegalArgumentException("bad port range " + dportLow + ":" + dportHigh);
        }
        if ((dportLow != 0 || dportHigh != 65535) && proto == 0) {
            throw new IllegalArgumentException("--dport needs -p tcp or -p udp");
        }
        if (mark == 0) {
            throw new IllegalArgumentException("mark 0 marks nothing (expected 1..4294967295)");
        }
        if (src6 != null) {
            srcAddr = 0;
            dstAddr = 0;
            src6 = src6.prefix(srcPrefix);
            dst6 = dst6.prefix(dstPrefix);
        } else {
            srcAddr &= mask(srcPrefix);
            dstAddr &= mask(dstPrefix);
        }
    }

    /** An IPv4 rule. */
    public FwmarkRule(int srcAddr, int srcPrefix, int dstAddr, int dstPrefix, int proto, int dportLow,
                      int dportHigh, int mark) {
        this(srcAddr, srcPrefix, dstAddr, dstPrefix, proto, dportLow, dportHigh, mark, null, null);
    }

    /** An IPv6 rule ({@code ip6tables}' MARK); {@code ::/0} for any source or destination. */
    public static FwmarkRule ipv6(Ipv6Address src, int srcPrefix, Ipv6Address dst, int dstPrefix, int proto,
                                  int dportLow, int dportHigh, int mark) {
        return new FwmarkRule(0, srcPrefix, 0, dstPrefix, proto, dportLow, dportHigh, mark, src, dst);
    }

    /** Matches IPv6 packets only. */
    public boolean isIpv6() {
        return src6 != null;
    }

    /** Netmask of a prefix length, host order. */
    public static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    /**
     * iptables-style text: "-s 0.0.0.0/0 -d 10.0.0.100/32 -p tcp --dport 80 --set-mark 1"; an IPv6
     * rule starts with "-6" ("-6 -d 2001:db8::100/128 -p tcp --dport 80 --set-mark 5"), so one
     * without networks reads back as IPv6.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (isIpv6()) {
            sb.append("-6 ");
        }
        if (srcPrefix != 0) {
            sb.append("-s ").append(isIpv6() ? src6.toString() : Ipv4Address.toString(srcAddr)).append('/')
                    .append(srcPrefix).append(' ');
        }
        if (dstPrefix != 0) {
            sb.append("-d ").append(isIpv6() ? dst6.toString() : Ipv4Address.toString(dstAddr)).append('/')
                    .append(dstPrefix).append(' ');
        }
        if (proto != 0) {
            sb.append("-p ").append(Protocol.name(proto).toLowerCase()).append(' ');
        }
        if (dportLow != 0 || dportHigh != 65535) {
            sb.append("--dport ").append(dportLow);
            if (dportHigh != dportLow) {
                sb.append(':').append(dportHigh);
            }
            sb.append(' ');
        }
        return sb.append("--set-mark ").append(Integer.toUnsignedString(mark)).toString();
    }
}
