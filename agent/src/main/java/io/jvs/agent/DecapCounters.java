package io.jvs.agent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Counters of the decapsulator. Single writer (the event-loop thread, plain
 * increments published with opaque stores), any reader (the metrics thread).
 */
final class DecapCounters {
    /**
     * The encapsulation a packet arrived in, named as Linux names its tunnels: IPIP (IPv4 in IPv4),
     * IPIP6 (IPv4 in IPv6, ip6tnl mode ipip6), IP6IP6 (IPv6 in IPv6), SIT (IPv6 in IPv4), GUE (either
     * inner family, over UDP of either family).
     */
    enum Encap { IPIP, IPIP6, IP6IP6, SIT, GUE }

    /** Why a tunnelled packet was not injected. */
    enum Drop {
        NOT_DIRECTOR("not_director"),     // outer source is not an allowed director
        MALFORMED("malformed"),           // outer or inner IP header does not parse
        NOT_VIP("not_vip"),               // inner destination is not one of the VIPs
        GUE_CONTROL("gue_control"),       // GUE control message (C bit)
        GUE_UNSUPPORTED("gue_unsupported"), // GUE version or inner protocol other than IPv4 and IPv6
        INJECT_ERROR("inject_error");     // write to the TUN device failed

        final String label;

        Drop(String label) {
            this.label = label;
        }
    }

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private final long[] packets = new long[Encap.values().length];
    private final long[] bytes = new long[Encap.values().length];
    private final long[] drops = new long[Drop.values().length];

    void decapsulated(Encap e, int innerBytes) {
        int i = e.ordinal();
        LONGS.setOpaque(packets, i, packets[i] + 1);
        LONGS.setOpaque(bytes, i, bytes[i] + innerBytes);
    }

    void dropped(Drop d) {
        int i = d.ordinal();
        LONGS.setOpaque(drops, i, drops[i] + 1);
    }

    long packets(Encap e) {
        return (long) LONGS.getOpaque(packets, e.ordinal());
    }

    long bytes(Encap e) {
        return (long) LONGS.getOpaque(bytes, e.ordinal());
    }

    long drops(Drop d) {
        return (long) LONGS.getOpaque(drops, d.ordinal());
    }
}
