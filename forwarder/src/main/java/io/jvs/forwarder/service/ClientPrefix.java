package io.jvs.forwarder.service;

import io.jvs.packet.Ipv4Address;

/**
 * An IPv4 client prefix of a service's allow or deny list ({@code 192.0.2.0/24}; a bare address
 * is a /32). Host bits must be zero: {@code 10.0.0.1/8} is refused, not silently widened.
 *
 * @param addr host order, host bits zero
 * @param len  0..32
 */
public record ClientPrefix(int addr, int len) {
    public ClientPrefix {
        if (len < 0 || len > 32) {
            throw new IllegalArgumentException("prefix length " + len + " out of range 0..32");
        }
        if ((addr & ~mask(len)) != 0) {
            throw new IllegalArgumentException(Ipv4Address.toString(addr) + "/" + len + " has host bits set");
        }
    }

    static int mask(int len) {
        return len == 0 ? 0 : -1 << (32 - len);
    }

    /** The first address, as an unsigned value. */
    long first() {
        return addr & 0xffffffffL;
    }

    /** The last address, as an unsigned value. */
    long last() {
        return (addr | ~mask(len)) & 0xffffffffL;
    }

    /**
     * Parses {@code A.B.C.D} or {@code A.B.C.D/LEN}.
     *
     * @throws IllegalArgumentException naming the text and what was expected
     */
    public static ClientPrefix parse(String text) {
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

    @Override
    public String toString() {
        return Ipv4Address.toString(addr) + (len == 32 ? "" : "/" + len);
    }
}
