package io.jvs.forwarder.service;

/** IP protocols a virtual service can carry, with their IP protocol numbers. */
public final class Protocol {
    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;

    private Protocol() {
    }

    /** "TCP"/"UDP" as ipvsadm prints them. */
    public static String name(int proto) {
        return switch (proto) {
            case TCP -> "TCP";
            case UDP -> "UDP";
            case ICMP -> "ICMP";
            default -> Integer.toString(proto);
        };
    }
}
