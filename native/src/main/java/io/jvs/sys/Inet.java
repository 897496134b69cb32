package io.jvs.sys;

/** IPv4 addresses as host-order ints (10.0.0.1 = 0x0a000001), the form RtNetlink uses. */
public final class Inet {
    private Inet() {
    }

    /** Parses a dotted quad strictly (four decimal octets 0..255, no leading '+', no extra text). */
    public static int parse(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
        }
        int v = 0;
        for (String o : p) {
            if (o.isEmpty() || o.length() > 3 || !o.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
            }
            int n = Integer.parseInt(o);
            if (n > 255) {
                throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
            }
            v = v << 8 | n;
        }
        return v;
    }

    public static String format(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }
}
