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
                           long advertsSent, long advertsReceived) {
    }

    /** Where the status comes from (the running router, or {@link #NONE} without VRRP). */
    @FunctionalInterface
    public interface Source {
        Source NONE = () -> VrrpStatus.NONE;

        VrrpStatus vrrpStatus();
    }
}
