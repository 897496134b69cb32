package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;

/**
 * One packet-marking rule, what LVS users write as
 * {@code iptables -t mangle -A PREROUTING -d VIP -p tcp --dport 80 -j MARK --set-mark 1}:
 * packets matching every given criterion get {@code mark}, and the fwmark
 * service ({@code -f mark}) with that mark takes them. Rules are tried in the
 * order given ({@link ServiceTable#mark} evaluates them); the first match wins (iptables' MARK target keeps traversing,
 * but a later MARK simply overwrites: jvs users order rules most-specific first).
 *
 * @param srcAddr   source network, host order (0 with prefix 0 = any)
 * @param srcPrefix 0..32
 * @param dstAddr   destination network, host order
 * @param dstPrefix 0..32 (32 = one VIP: jvs answers ARP for it)
 * @param proto     {@link Protocol#TCP}, {@link Protocol#UDP} or 0 = any
 * @param dportLow  destination port range, inclusive; 0..65535 = any
 * @param dportHigh
 * @param mark      1..2^32-1 as an unsigned int (0 is "no mark")
 */
public record FwmarkRule(int srcAddr, int srcPrefix, int dstAddr, int dstPrefix, int proto, int dportLow,
                         int dportHigh, int mark) {
    public FwmarkRule {
        if (srcPrefix < 0 || srcPrefix > 32 || dstPrefix < 0 || dstPrefix > 32) {
            throw new IllegalArgumentException("prefix length out of range 0..32");
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
        srcAddr &= mask(srcPrefix);
        dstAddr &= mask(dstPrefix);
    }

    /** Netmask of a prefix length, host order. */
    public static int mask(int prefix) {
        return prefix == 0 ? 0 : -1 << (32 - prefix);
    }

    /** iptables-style text: "-s 0.0.0.0/0 -d 10.0.0.100/32 -p tcp --dport 80 --set-mark 1". */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        if (srcPrefix != 0) {
            sb.append("-s ").append(Ipv4Address.toString(srcAddr)).append('/').append(srcPrefix).append(' ');
        }
        if (dstPrefix != 0) {
            sb.append("-d ").append(Ipv4Address.toString(dstAddr)).append('/').append(dstPrefix).append(' ');
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
