package io.jvs.forwarder.vrrp;

import java.util.List;
import java.util.Map;

/**
 * What the VRRP router shows jvsadm ({@code -L --vrrp}), the status page and the metrics: a copy
 * made on request, never shared with the VRRP thread.
 *
 * @param instances one entry per vrrp_instance, in configuration order
 * @param dropped   received packets not taken, by {@link VrrpPacket.Drop} label (all labels present)
 */
public record VrrpStatus(List<Instance> instances, Map<String, Long> dropped) {
    public static final VrrpStatus NONE = new VrrpStatus(List.of(), Map.of());

    /**
     * @param group       its vrrp_sync_group, or "" when none
     * @param masterAddr  the current master's address (0: not known)
     */
    public record Instance(String name, String group, String iface, int vrid, int version, int priority,
                           int advertIntCentis, VrrpState state, int masterAddr, int[] addrs, long transitions,
                           long advertsSent, long advertsReceived, java.util.List<io.jvs.packet.Ipv6Address> addrs6,
                           io.jvs.packet.Ipv6Address master6) {
        /** An IPv4 instance. */
        public Instance(String name, String group, String iface, int vrid, int version, int priority,
                        int advertIntCentis, VrrpState state, int masterAddr, int[] addrs, long transitions,
                        long advertsSent, long advertsReceived) {
            this(name, group, iface, vrid, version, priority, advertIntCentis, state, masterAddr, addrs, transitions,
                    advertsSent, advertsReceived, java.util.List.of(), null);
        }

        public Instance {
            addrs6 = java.util.List.copyOf(addrs6);
        }

        /** The current master's address as text ("" when not known), IPv4 or, for an IPv6 instance, IPv6. */
        public String master() {
            if (!addrs6.isEmpty()) {
                return master6 == null ? "" : master6.toString();
            }
            return masterAddr == 0 ? "" : io.jvs.packet.Ipv4Address.toString(masterAddr);
        }

        /** The advertised addresses as text (IPv6 for an IPv6 instance). */
        public java.util.List<String> addresses() {
            if (!addrs6.isEmpty()) {
                return addrs6.stream().map(io.jvs.packet.Ipv6Address::toString).toList();
            }
            return java.util.Arrays.stream(addrs).mapToObj(io.jvs.packet.Ipv4Address::toString).toList();
        }
    }

    /** Where the status comes from (the running router, or {@link #NONE} without VRRP). */
    @FunctionalInterface
    public interface Source {
        Source NONE = () -> VrrpStatus.NONE;

        VrrpStatus vrrpStatus();
    }
}
