package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;

/**
 * A client prefix of a service's allow or deny list: IPv4 ({@code 192.0.2.0/24}; a bare address
 * is a /32) or IPv6 ({@code 2001:db8:1::/64}; a bare address is a /128), of the service's own
 * family (ServiceSpec checks). Host bits must be zero: {@code 10.0.0.1/8} is refused, not
 * silently widened.
 *
 * @param addr  IPv4: host order, host bits zero; 0 for an IPv6 prefix
 * @param len   0..32 (IPv4), 0..128 (IPv6)
 * @param addr6 null for an IPv4 prefix; the IPv6 network, host bits zero
 */
public record ClientPrefix(int addr, int len, Ipv6Address addr6) {
    public ClientPrefix {
        if (addr6 == null) {
            if (len < 0 || len > 32) {
                throw new IllegalArgumentException("prefix length " + len + " out of range 0..32");
            }
            if ((addr & ~mask(len)) != 0) {
                throw new IllegalArgumentException(Ipv4Address.toString(addr) + "/" + len + " has host bits set");
            }
        } else {
            if (len < 0 || len > 128) {
                throw new IllegalArgumentException("prefix length " + len + " out of range 0..128");
            }
            if (addr != 0 || !addr6.prefix(len).equals(addr6)) {
                throw new IllegalArgumentException(addr6 + "/" + len + " has host bits set");
            }
        }
    }

    /** An IPv4 prefix. */
    public ClientPrefix(int addr, int len) {
        this(addr, len, null);
    }

    /** An IPv6 prefix. */
    public static ClientPrefix ipv6(Ipv6Address net, int len) {
        return new ClientPrefix(0, len, net);
    }

    public boolean isIpv6() {
        return addr6 != null;
    }

    static int mask(int len) {
        return len == 0 ? 0 : -1 << (32 - len);
    }

    /** The first address, as an unsigned value (IPv4). */
    long first() {
        return addr & 0xffffffffL;
    }

    /** The last address, as an unsigned value (IPv4). */
    long last() {
        return (addr | ~mask(len)) & 0xffffffffL;
    }

    /**
     * Parses {@code A.B.C.D}, {@code A.B.C.D/LEN}, or an IPv6 address (as inet_pton takes it)
     * with an optional {@code /LEN}.
     *
     * @throws IllegalArgumentException naming the text and what was expected
     */
    public static ClientPrefix parse(String text) {
        if (text.indexOf(':') >= 0) {
            return parse6(text);
        }
        int slash = text.indexOf('/');
        String a = slash < 0 ? text : text.substring(0, slash);
        int len = 32;
        if (slash >= 0) {
            String l = text.substring(slash + 1);
            if (l.isEmpty() || l.length() > 2 || !l.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("`" + text + "': expected A.B.C.D[/LEN] with LEN 0..32");
            }
            len = Integer.parseInt(l);
        }
        int addr;
        try {
            addr = Ipv4Address.parse(a);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("`" + text + "': expected A.B.C.D[/LEN] with LEN 0..32");
        }
        if (len > 32) {
            throw new IllegalArgumentException("`" + text + "': expected A.B.C.D[/LEN] with LEN 0..32");
        }
        if ((addr & ~mask(len)) != 0) {
            throw new IllegalArgumentException("`" + text + "' has host bits set (the network is "
                    + Ipv4Address.toString(addr & mask(len)) + "/" + len + ")");
        }
        return new ClientPrefix(addr, len);
    }

    private static ClientPrefix parse6(String text) {
        String expected = "`" + text + "': expected an IPv6 ADDR[/LEN] with LEN 0..128";
        int slash = text.indexOf('/');
        int len = 128;
        if (slash >= 0) {
            String l = text.substring(slash + 1);
            if (l.isEmpty() || l.length() > 3 || !l.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException(expected);
            }
            len = Integer.parseInt(l);
        }
        Ipv6Address a = Ipv6Address.tryParse(slash < 0 ? text : text.substring(0, slash));
        if (a == null || len > 128) {
            throw new IllegalArgumentException(expected);
        }
        if (!a.prefix(len).equals(a)) {
            throw new IllegalArgumentException("`" + text + "' has host bits set (the network is "
                    + a.prefix(len) + "/" + len + ")");
        }
        return ipv6(a, len);
    }

    @Override
    public String toString() {
        if (addr6 != null) {
            return addr6 + (len == 128 ? "" : "/" + len);
        }
        return Ipv4Address.toString(addr) + (len == 32 ? "" : "/" + len);
    }
}
