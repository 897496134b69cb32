package io.jvs.packet;

/**
 * IPv4 addresses as host-order ints: parsing and printing (control plane only).
 * The one dotted-quad parser of jvs: {@code io.jvs.sys.Inet} and {@link Ipv6Address}
 * (for the IPv4 tail of {@code ::ffff:10.0.0.1}) use it too.
 */
public final class Ipv4Address {
    private Ipv4Address() {
    }

    /** "10.0.0.1" -> 0x0a000001. Throws IllegalArgumentException naming the bad text. */
    public static int parse(String text) {
        long v = tryParse(text, 0, text.length(), true);
        if (v < 0) {
            throw new IllegalArgumentException("not an IPv4 address: " + text);
        }
        return (int) v;
    }

    /**
     * The dotted quad in {@code text[from, to)} as an unsigned value, or -1 when it is
     * not four decimal octets 0..255 separated by dots (no sign, no spaces, at most
     * three digits an octet). With {@code leadingZeros} false an octet may not start
     * with 0 unless it is 0, as glibc's {@code inet_pton(AF_INET)} requires
     * ({@code inet_pton4}: "01" is refused); with true "010" reads as 10.
     */
    public static long tryParse(String text, int from, int to, boolean leadingZeros) {
        long a = 0;
        int octets = 0;
        int i = from;
        while (true) {
            int start = i;
            int v = 0;
            while (i < to && i - start < 4 && text.charAt(i) >= '0' && text.charAt(i) <= '9') {
                v = v * 10 + text.charAt(i) - '0';
                i++;
            }
            int digits = i - start;
            if (digits == 0 || digits > 3 || v > 255 || !leadingZeros && digits > 1 && text.charAt(start) == '0') {
                return -1;
            }
            a = a << 8 | v;
            octets++;
            if (i == to) {
                return octets == 4 ? a : -1;
            }
            if (octets == 4 || text.charAt(i) != '.') {
                return -1;
            }
            i++;
        }
    }

    public static String toString(int addr) {
        return (addr >>> 24) + "." + (addr >>> 16 & 0xff) + "." + (addr >>> 8 & 0xff) + "." + (addr & 0xff);
    }
}
