package io.jvs.forwarder.vrrp;

import io.jvs.packet.Ipv6Address;

import java.util.List;

/**
 * The VRRP part of a keepalived.conf: its {@code vrrp_instance} and {@code vrrp_sync_group}
 * blocks as jvs runs them (read by ctl.keepalived.KeepalivedConf, which has already refused
 * what is malformed; the constructor refuses what only makes sense across instances).
 */
public record VrrpConfig(List<Instance> instances, List<SyncGroup> syncGroups) {
    public static final VrrpConfig NONE = new VrrpConfig(List.of(), List.of());

    public VrrpConfig {
        instances = List.copyOf(instances);
        syncGroups = List.copyOf(syncGroups);
    }

    public boolean isEmpty() {
        return instances.isEmpty();
    }

    /** Configured initial state ({@code state MASTER|BACKUP}). */
    public enum InitialState { MASTER, BACKUP }

    /** One {@code virtual_ipaddress} entry: {@code A[/len] [dev X]} (other words keepalived takes are reported). */
    public record Address(int addr, int prefixLen, String dev) {
    }

    /**
     * One {@code vrrp_instance}.
     *
     * @param advertIntCentis   advert_int in centiseconds (keepalived: seconds with decimals; v2 sends whole seconds)
     * @param authPass          auth_type PASS's auth_pass (v2), or null
     * @param preemptDelayMs    preempt_delay (0: none)
     * @param garpMasterDelayMs garp_master_delay: the second burst of gratuitous ARP after becoming MASTER (0: none)
     * @param garpMasterRepeat  garp_master_repeat: gratuitous ARPs per address in each burst
     * @param unicastSrc        unicast_src_ip (0: the interface's address)
     * @param unicastPeers      unicast_peer addresses (empty: multicast to 224.0.0.18)
     * @param addresses6        the IPv6 addresses of virtual_ipaddress_excluded: never advertised, gated by the
     *                          instance's state as its advertised addresses are
     * @param virtual6          an IPv6 instance's virtual_ipaddress (keepalived: the first address decides the
     *                          instance's family; then {@code addresses} is empty and the instance speaks
     *                          VRRPv3 to ff02::12 from the interface's link-local address)
     * @param unicastSrc6       an IPv6 instance's unicast_src_ip (null: the interface's link-local address)
     * @param unicastPeers6     an IPv6 instance's unicast_peer addresses (empty: multicast to ff02::12)
     */
    public record Instance(String name, String iface, int vrid, int priority, int advertIntCentis, int version,
                           InitialState state, boolean nopreempt, long preemptDelayMs, String authPass,
                           List<Address> addresses, List<String> trackInterfaces, List<String> notifyMaster,
                           List<String> notifyBackup, List<String> notifyFault, List<String> notifyAny,
                           long garpMasterDelayMs, int garpMasterRepeat, boolean smtpAlert, int unicastSrc,
                           List<Integer> unicastPeers, String where, List<Ipv6Address> addresses6,
                           List<Ipv6Address> virtual6, Ipv6Address unicastSrc6, List<Ipv6Address> unicastPeers6) {
        /** An IPv4 instance, with IPv6 addresses in virtual_ipaddress_excluded only. */
        public Instance(String name, String iface, int vrid, int priority, int advertIntCentis, int version,
                        InitialState state, boolean nopreempt, long preemptDelayMs, String authPass,
                        List<Address> addresses, List<String> trackInterfaces, List<String> notifyMaster,
                        List<String> notifyBackup, List<String> notifyFault, List<String> notifyAny,
                        long garpMasterDelayMs, int garpMasterRepeat, boolean smtpAlert, int unicastSrc,
                        List<Integer> unicastPeers, String where, List<Ipv6Address> addresses6) {
            this(name, iface, vrid, priority, advertIntCentis, version, state, nopreempt, preemptDelayMs, authPass,
                    addresses, trackInterfaces, notifyMaster, notifyBackup, notifyFault, notifyAny, garpMasterDelayMs,
                    garpMasterRepeat, smtpAlert, unicastSrc, unicastPeers, where, addresses6, List.of(), null,
                    List.of());
        }

        /** An instance with IPv4 addresses only. */
        public Instance(String name, String iface, int vrid, int priority, int advertIntCentis, int version,
                        InitialState state, boolean nopreempt, long preemptDelayMs, String authPass,
                        List<Address> addresses, List<String> trackInterfaces, List<String> notifyMaster,
                        List<String> notifyBackup, List<String> notifyFault, List<String> notifyAny,
                        long garpMasterDelayMs, int garpMasterRepeat, boolean smtpAlert, int unicastSrc,
                        List<Integer> unicastPeers, String where) {
            this(name, iface, vrid, priority, advertIntCentis, version, state, nopreempt, preemptDelayMs, authPass,
                    addresses, trackInterfaces, notifyMaster, notifyBackup, notifyFault, notifyAny, garpMasterDelayMs,
                    garpMasterRepeat, smtpAlert, unicastSrc, unicastPeers, where, List.of());
        }

        public Instance {
            addresses6 = List.copyOf(addresses6);
            addresses = List.copyOf(addresses);
            trackInterfaces = List.copyOf(trackInterfaces);
            notifyMaster = List.copyOf(notifyMaster);
            notifyBackup = List.copyOf(notifyBackup);
            notifyFault = List.copyOf(notifyFault);
            notifyAny = List.copyOf(notifyAny);
            unicastPeers = List.copyOf(unicastPeers);
            virtual6 = List.copyOf(virtual6);
            unicastPeers6 = List.copyOf(unicastPeers6);
        }

        /** An IPv6 instance: VRRPv3 over IPv6 for its virtual6 addresses. */
        public boolean ipv6() {
            return !virtual6.isEmpty();
        }

        /** The advertised IPv6 addresses (virtual6) as (hi, lo) pairs. */
        public long[] virtual6Pairs() {
            return pairs(virtual6);
        }

        /** Every IPv6 address the instance holds as MASTER (advertised, then excluded), (hi, lo) pairs. */
        public long[] held6() {
            List<Ipv6Address> all = new java.util.ArrayList<>(virtual6);
            all.addAll(addresses6);
            return pairs(all);
        }

        public int[] addrs() {
            return addresses.stream().mapToInt(Address::addr).toArray();
        }

        /** The IPv6 addresses as (hi, lo) pairs. */
        public long[] addrs6() {
            return pairs(addresses6);
        }

        private static long[] pairs(List<Ipv6Address> l) {
            long[] out = new long[l.size() * 2];
            for (int i = 0; i < l.size(); i++) {
                out[2 * i] = l.get(i).hi();
                out[2 * i + 1] = l.get(i).lo();
            }
            return out;
        }
    }

    /** One {@code vrrp_sync_group}: its instances move to MASTER, BACKUP and FAULT together. */
    public record SyncGroup(String name, List<String> members, List<String> notifyMaster, List<String> notifyBackup,
                            List<String> notifyFault, List<String> notifyAny) {
        public SyncGroup {
            members = List.copyOf(members);
            notifyMaster = List.copyOf(notifyMaster);
            notifyBackup = List.copyOf(notifyBackup);
            notifyFault = List.copyOf(notifyFault);
            notifyAny = List.copyOf(notifyAny);
        }
    }
}
