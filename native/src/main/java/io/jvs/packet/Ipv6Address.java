package io.jvs.packet;

/**
 * An IPv6 address as its high and low 64 bits in network order (the form
 * {@link Ipv6Header} reads from a frame), with the text forms of glibc:
 * {@link #parse} accepts exactly what {@code inet_pton(AF_INET6)} accepts and
 * {@link #toString} prints what {@code inet_ntop(AF_INET6)} prints (RFC 5952:
 * lower case, no leading zeros, the longest run of two or more zero groups as
 * {@code ::}, the first of equal runs; {@code ::ffff:a.b.c.d} for IPv4-mapped and
 * {@code ::a.b.c.d} for the deprecated IPv4-compatible addresses). Control plane only.
 */
public record Ipv6Address(long hi, long lo) {
    public static final Ipv6Address UNSPECIFIED = new Ipv6Address(0, 0);

    /** Parses as glibc's {@code inet_pton(AF_INET6)}; throws IllegalArgumentException naming the text. */
    public static Ipv6Address parse(String text) {
        Ipv6Address a = tryParse(text);
        if (a == null) {
            throw new IllegalArgumentException("not an IPv6 address: " + text);
        }
        return a;
    }

    /** {@link #parse} without the exception: null when {@code inet_pton} would return 0. */
    public static Ipv6Address tryParse(String text) {
        // A port of glibc's inet_pton6 (resolv/inet_pton.c), over 8 groups instead of 16 bytes.
        int[] groups = new int[8];
        int n = 0;
        int colon = -1;
        int len = text.length();
        int i = 0;
        if (len == 0) {
            return null;
        }
        if (text.charAt(0) == ':') {
            if (len < 2 || text.charAt(1) != ':') {
                return null;
            }
            i = 1;
        }
        int token = i;
        int digits = 0;
        int val = 0;
        while (i < len) {
            char ch = text.charAt(i++);
            int d = Character.digit(ch, 16);
            if (d >= 0 && ch < 128) {
                if (digits == 4) {
                    return null;
                }
                val = val << 4 | d;
                digits++;
                continue;
            }
            if (ch == ':') {
                token = i;
                if (digits == 0) {
                    if (colon >= 0) {
                        return null;
                    }
                    colon = n;
                    continue;
                } else if (i == len) {
                    return null;
                }
                if (n == 8) {
                    return null;
                }
                groups[n++] = val;
                digits = 0;
                val = 0;
                continue;
            }
            if (ch == '.' && n <= 6) {
                long v4 = Ipv4Address.tryParse(text, token, len, false);
                if (v4 >= 0) {
                    groups[n++] = (int) (v4 >>> 16);
                    groups[n++] = (int) (v4 & 0xFFFF);
                    digits = 0;
                    break;
                }
            }
            return null;
        }
        if (digits > 0) {
            if (n == 8) {
                return null;
            }
            groups[n++] = val;
        }
        if (colon >= 0) {
            if (n == 8) {
                return null; // "::" would stand for no group at all
            }
            int moved = n - colon;
            System.arraycopy(groups, colon, groups, 8 - moved, moved);
            java.util.Arrays.fill(groups, colon, 8 - moved, 0);
            n = 8;
        }
        if (n != 8) {
            return null;
        }
        long hi = 0;
        long lo = 0;
        for (int g = 0; g < 4; g++) {
            hi = hi << 16 | groups[g];
            lo = lo << 16 | groups[g + 4];
        }
        return new Ipv6Address(hi, lo);
    }

    /** The 16-bit group {@code i} (0 = the first printed). */
    public int group(int i) {
        long half = i < 4 ? hi : lo;
        return (int) (half >>> (48 - 16 * (i & 3))) & 0xFFFF;
    }

    /** ::ffff:0:0/96. */
    public boolean isIpv4Mapped() {
        return hi == 0 && lo >>> 32 == 0xFFFF;
    }

    /** The low 32 bits as an IPv4 address (host order int), for a mapped or compatible address. */
    public int ipv4() {
        return (int) lo;
    }

    /** The IPv4-mapped form ::ffff:a.b.c.d of an IPv4 address (host order int). */
    public static Ipv6Address mapped(int ipv4) {
        return new Ipv6Address(0, 0xFFFF_0000_0000L | Integer.toUnsignedLong(ipv4));
    }

    public boolean isMulticast() {
        return Ipv6Header.isMulticast(hi);
    }

    public boolean isLinkLocal() {
        return Ipv6Header.isLinkLocal(hi);
    }

    public boolean isUnspecified() {
        return hi == 0 && lo == 0;
    }

    /** ::1. */
    public boolean isLoopback() {
        return hi == 0 && lo == 1;
    }

    /** The first {@code bits} bits kept, the rest zero (bits in 0..128). */
    public Ipv6Address prefix(int bits) {
        if (bits < 0 || bits > 128) {
            throw new IllegalArgumentException("prefix length " + bits + " out of 0..128");
        }
        long mHi = bits == 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
        long mLo = bits <= 64 ? 0 : bits == 128 ? -1L : -1L << (128 - bits);
        return new Ipv6Address(hi & mHi, lo & mLo);
    }

    /** As glibc's {@code inet_ntop(AF_INET6)} prints it (resolv/inet_ntop.c, inet_ntop6). */
    @Override
    public String toString() {
        int bestBase = -1;
        int bestLen = 0;
        int curBase = -1;
        int curLen = 0;
        for (int i = 0; i < 8; i++) {
            if (group(i) == 0) {
                if (curBase == -1) {
                    curBase = i;
                    curLen = 1;
                } else {
                    curLen++;
                }
            } else if (curBase != -1) {
                if (bestBase == -1 || curLen > bestLen) {
                    bestBase = curBase;
                    bestLen = curLen;
                }
                curBase = -1;
            }
        }
        if (curBase != -1 && (bestBase == -1 || curLen > bestLen)) {
            bestBase = curBase;
            bestLen = curLen;
        }
        if (bestBase != -1 && bestLen < 2) {
            bestBase = -1;
        }
        StringBuilder sb = new StringBuilder(46);
        for (int i = 0; i < 8; i++) {
            if (bestBase != -1 && i >= bestBase && i < bestBase + bestLen) {
                if (i == bestBase) {
                    sb.append(':');
                }
                continue;
            }
            if (i != 0) {
                sb.append(':');
            }
            if (i == 6 && bestBase == 0 && (bestLen == 6 || bestLen == 5 && group(5) == 0xFFFF)) {
                sb.append(Ipv4Address.toString((int) lo));
                return sb.toString();
            }
            sb.append(Integer.toHexString(group(i)));
        }
        if (bestBase != -1 && bestBase + bestLen == 8) {
            sb.append(':');
        }
        return sb.toString();
    }
}
