package io.jvs.sys;

import io.jvs.packet.Ipv4Address;

/**
 * IPv4 addresses as host-order ints (10.0.0.1 = 0x0a000001), the form RtNetlink uses,
 * with the agent's wording for a bad one; the parsing itself is {@link Ipv4Address}'s.
 */
public final class Inet {
    private Inet() {
    }

    /** Parses a dotted quad strictly (four decimal octets 0..255, no leading '+', no extra text). */
    public static int parse(String s) {
        long v = Ipv4Address.tryParse(s, 0, s.length(), true);
        if (v < 0) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
        }
        return (int) v;
    }

    public static String format(int a) {
        return Ipv4Address.toString(a);
    }
}
