package io.jvs.forwarder.ctl.keepalived;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.ctl.keepalived.KeepalivedReader.Node;
import io.jvs.forwarder.vrrp.VrrpConfig;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * keepalived.conf's {@code vrrp_instance} and {@code vrrp_sync_group} blocks, and
 * {@code global_defs { vrrp_version }}, read into a {@link VrrpConfig}, with keepalived 2.x's
 * defaults (vrrp/vrrp_parser.c, vrrp/vrrp.c): {@code priority} 100, {@code advert_int} 1 s,
 * version 2, preemption on, {@code garp_master_delay} 5 s, {@code garp_master_repeat} 5.
 *
 * <p>What jvs does not run is refused with the file and line (a director that silently skipped
 * {@code use_vmac} or {@code track_script} would not fail over as its operator expects);
 * keywords that change nothing jvs does are reported as ignored. Across instances: two with the
 * same {@code virtual_router_id} on one interface, or one address in two instances, are refused
 * by name, as is a sync group naming an unknown instance or an instance in two groups.
 */
final class VrrpMapper {
    static final int DEFAULT_PRIORITY = 100;
    static final int DEFAULT_ADVERT_CENTIS = 100;
    static final long DEFAULT_GARP_MASTER_DELAY_MS = 5_000;
    static final int DEFAULT_GARP_MASTER_REPEAT = 5;

    /** Instance keywords that change nothing jvs does: reported as ignored. */
    private static final Set<String> HARMLESS = Set.of("dont_track_primary", "accept", "no_accept", "debug",
            "preempt", "strict_mode", "lvs_sync_daemon_interface", "garp_lower_prio_delay",
            "garp_lower_prio_repeat", "garp_master_refresh", "garp_master_refresh_repeat");
    /** Instance keywords whose behaviour jvs does not have: refused (the failover would differ). */
    private static final Set<String> UNSUPPORTED = Set.of("use_vmac", "vmac_xmit_base", "track_script",
            "track_process", "track_file", "track_bfd", "virtual_routes", "virtual_rules",
            "notify_stop", "notify_deleted", "notify_master_rx_lower_pri", "mcast_dst_ip", "check_unicast_src");

    private final KeepalivedConf.Mapper m;
    private int defaultVersion = 2;
    private final List<VrrpConfig.Instance> instances = new ArrayList<>();
    private final List<Node> instanceNodes = new ArrayList<>();
    /** Per instance, its IPv6 virtual_ipaddress_excluded lines (in the order of its addresses6). */
    private final List<List<Excluded6>> excludedNodes = new ArrayList<>();
    /** Per instance, its IPv6 virtual_ipaddress lines (in the order of its virtual6). */
    private final List<List<Excluded6>> virtualNodes6 = new ArrayList<>();
    private final List<VrrpConfig.SyncGroup> groups = new ArrayList<>();
    private final List<Node> groupNodes = new ArrayList<>();

    /** One IPv6 virtual_ipaddress_excluded line and its {@code dev}, for the checks across instances. */
    private record Excluded6(Node node, String dev) {
    }

    VrrpMapper(KeepalivedConf.Mapper m) {
        this.m = m;
    }

    void defaultVersion(Node n) throws ConfigException {
        defaultVersion = m.parseInt(n, m.oneArg(n), 2, 3, "vrrp_version");
    }

    void instance(Node vi) throws ConfigException {
        m.requireBlock(vi);
        if (vi.args().size() != 1) {
            throw KeepalivedConf.Mapper.err(vi, "vrrp_instance needs one name");
        }
        String name = vi.args().getFirst();
        String iface = null;
        int vrid = -1;
        int priority = DEFAULT_PRIORITY;
        Node advert = null;
        int version = defaultVersion;
        Node versionNode = null;
        boolean nativeIpv6 = false;
        VrrpConfig.InitialState state = VrrpConfig.InitialState.BACKUP;
        boolean nopreempt = false;
        long preemptDelay = 0;
        String authPass = null;
        Node auth = null;
        List<VrrpConfig.Address> addrs = new ArrayList<>();
        List<Ipv6Address> addrs6 = new ArrayList<>();
        List<Excluded6> addrNodes6 = new ArrayList<>();
        List<Ipv6Address> virtual6 = new ArrayList<>();
        List<Excluded6> virtualNodes = new ArrayList<>();
        List<String> track = new ArrayList<>();
        List<String> notifyMaster = List.of();
        List<String> notifyBackup = List.of();
        List<String> notifyFault = List.of();
        List<String> notify = List.of();
        long garpDelay = DEFAULT_GARP_MASTER_DELAY_MS;
        int garpRepeat = DEFAULT_GARP_MASTER_REPEAT;
        boolean smtp = false;
        int src = 0;
        Ipv6Address src6 = null;
        Node srcNode = null;
        List<Integer> peers = new ArrayList<>();
        List<Ipv6Address> peers6 = new ArrayList<>();
        Node peersNode = null;
        for (Node n : vi.children()) {
            switch (n.keyword()) {
                case "state" -> state = switch (m.oneArg(n).toUpperCase(Locale.ROOT)) {
                    case "MASTER" -> VrrpConfig.InitialState.MASTER;
                    case "BACKUP" -> VrrpConfig.InitialState.BACKUP;
                    default -> throw KeepalivedConf.Mapper.err(n, "state \"" + n.args().getFirst()
                            + "\": expected MASTER or BACKUP");
                };
                case "interface" -> iface = m.oneArg(n);
                case "virtual_router_id" -> vrid = m.parseInt(n, m.oneArg(n), 1, 255, "virtual_router_id");
                case "priority" -> priority = m.parseInt(n, m.oneArg(n), 1, 255, "priority");
                case "advert_int" -> advert = n;
                case "version", "vrrp_version" -> {
                    version = m.parseInt(n, m.oneArg(n), 2, 3, n.keyword());
                    versionNode = n;
                }
                case "native_ipv6" -> {
                    m.noArgs(n);
                    nativeIpv6 = true;
                }
                case "nopreempt" -> {
                    m.noArgs(n);
                    nopreempt = true;
                }
                case "preempt_delay" -> preemptDelay = m.millis(n, false);
                case "authentication" -> {
                    auth = n;
                    authPass = authentication(n);
                }
                case "virtual_ipaddress" -> addresses(n, name, nativeIpv6, addrs, virtual6, virtualNodes);
                case "virtual_ipaddress_excluded" -> excluded(n, addrs6, addrNodes6);
                case "track_interface" -> trackInterfaces(n, track);
                case "notify_master" -> notifyMaster = m.script(n);
                case "notify_backup" -> notifyBackup = m.script(n);
                case "notify_fault" -> notifyFault = m.script(n);
                case "notify" -> notify = m.script(n);
                case "garp_master_delay" -> garpDelay = m.parseInt(n, m.oneArg(n), 0, 255, "garp_master_delay") * 1000L;
                case "garp_master_repeat" -> garpRepeat = m.parseInt(n, m.oneArg(n), 1, 255, "garp_master_repeat");
                case "smtp_alert" -> {
                    smtp = true;
                    m.ignore(n); // reported, not sent: jvs has no mailer
                }
                case "unicast_src_ip", "mcast_src_ip" -> {
                    srcNode = n;
                    String text = m.oneArg(n);
                    if (text.indexOf(':') >= 0) {
                        src6 = address6(n, text);
                    } else {
                        src = m.address(n, text);
                    }
                }
                case "unicast_peer" -> {
                    m.requireBlock(n);
                    peersNode = n;
                    for (Node p : n.children()) {
                        if (!p.args().isEmpty() || p.hasBlock()) {
                            throw KeepalivedConf.Mapper.err(p, "unicast_peer: \"" + p.keyword() + " "
                                    + String.join(" ", p.args()) + "\": jvs takes one address per line");
                        }
                        if (p.keyword().indexOf(':') >= 0) {
                            peers6.add(address6(p, p.keyword()));
                        } else {
                            peers.add(m.address(p, p.keyword()));
                        }
                    }
                }
                default -> {
                    if (HARMLESS.contains(n.keyword())) {
                        m.ignore(n);
                    } else if (UNSUPPORTED.contains(n.keyword())) {
                        throw KeepalivedConf.Mapper.err(n, "vrrp_instance " + name + ": " + n.keyword()
                                + " is not supported by jvs");
                    } else {
                        throw KeepalivedConf.Mapper.err(n, "vrrp_instance " + name + ": unknown keyword \""
                                + n.keyword() + "\"");
                    }
                }
            }
        }
        if (iface == null) {
            throw KeepalivedConf.Mapper.err(vi, "vrrp_instance " + name + " has no interface");
        }
        if (vrid < 0) {
            throw KeepalivedConf.Mapper.err(vi, "vrrp_instance " + name + " has no virtual_router_id");
        }
        if (addrs.isEmpty() && virtual6.isEmpty()) {
            throw KeepalivedConf.Mapper.err(vi, "vrrp_instance " + name + " has no virtual_ipaddress");
        }
        boolean ipv6 = !virtual6.isEmpty();
        if (nativeIpv6 && !ipv6) {
            throw KeepalivedConf.Mapper.err(vi, "vrrp_instance " + name + ": native_ipv6 with IPv4 virtual_ipaddress"
                    + " (one instance advertises one family)");
        }
        if (ipv6) {
            // keepalived (vrrp_complete_instance): an IPv6 instance speaks VRRPv3 whatever
            // global_defs says; VRRPv2 over IPv6 is keepalived's own non-standard extension
            if (versionNode != null && version == 2) {
                throw KeepalivedConf.Mapper.err(versionNode, "vrrp_instance " + name + ": " + versionNode.keyword()
                        + " 2 with IPv6 addresses: jvs speaks VRRPv3 (RFC 5798) over IPv6 only");
            }
            version = 3;
            if (srcNode != null && src6 == null || !peers.isEmpty()) {
                throw KeepalivedConf.Mapper.err(srcNode != null && src6 == null ? srcNode : peersNode,
                        "vrrp_instance " + name + ": an IPv4 address in an IPv6 instance (its first virtual_ipaddress"
                        + " decides the family)");
            }
        } else if (src6 != null || !peers6.isEmpty()) {
            throw KeepalivedConf.Mapper.err(src6 != null ? srcNode : peersNode, "vrrp_instance " + name
                    + ": an IPv6 address in an IPv4 instance (its first virtual_ipaddress decides the family)");
        }
        if (addrs.size() > 255 || virtual6.size() > 255) {
            throw KeepalivedConf.Mapper.err(vi, "vrrp_instance " + name + ": more than 255 addresses in one advert");
        }
        int advertCentis = DEFAULT_ADVERT_CENTIS;
        if (advert != null) {
            long ms = m.millis(advert, true);
            if (ms % 10 != 0) {
                throw KeepalivedConf.Mapper.err(advert, "advert_int " + advert.args().getFirst()
                        + ": at most two decimals (centiseconds)");
            }
            advertCentis = (int) (ms / 10);
            if (version == 2 && (advertCentis % 100 != 0 || advertCentis > 25_500)) {
                throw KeepalivedConf.Mapper.err(advert, "advert_int " + advert.args().getFirst()
                        + ": VRRPv2 advertises whole seconds 1..255 (vrrp_version 3 for less)");
            }
            if (version == 3 && advertCentis > 4095) {
                throw KeepalivedConf.Mapper.err(advert, "advert_int " + advert.args().getFirst()
                        + ": VRRPv3 allows at most 40.95 s");
            }
        }
        if (version == 3 && auth != null) {
            m.ignore(auth); // keepalived: VRRPv3 has no authentication; it warns and ignores it
            authPass = null;
        }
        if (priority == 255 && state != VrrpConfig.InitialState.MASTER) {
            throw KeepalivedConf.Mapper.err(vi, "vrrp_instance " + name
                    + ": priority 255 (the address owner) needs state MASTER");
        }
        instances.add(new VrrpConfig.Instance(name, iface, vrid, priority, advertCentis, version, state, nopreempt,
                preemptDelay, authPass, addrs, track, notifyMaster, notifyBackup, notifyFault, notify, garpDelay,
                garpRepeat, smtp, src, peers, vi.where(), addrs6, virtual6, src6, peers6));
        instanceNodes.add(vi);
        excludedNodes.add(addrNodes6);
        virtualNodes6.add(virtualNodes);
    }

    private String authentication(Node n) throws ConfigException {
        m.requireBlock(n);
        String type = null;
        String pass = null;
        for (Node c : n.children()) {
            switch (c.keyword()) {
                case "auth_type" -> {
                    type = m.oneArg(c).toUpperCase(Locale.ROOT);
                    if (!type.equals("PASS")) {
                        throw KeepalivedConf.Mapper.err(c, "auth_type " + c.args().getFirst()
                                + " is not supported by jvs (PASS only)");
                    }
                }
                case "auth_pass" -> {
                    pass = m.oneArg(c);
                    if (pass.isEmpty() || pass.length() > 8 || !pass.chars().allMatch(ch -> ch > 32 && ch < 127)) {
                        throw KeepalivedConf.Mapper.err(c, "auth_pass: 1 to 8 printable characters (keepalived uses"
                                + " the first 8)");
                    }
                }
                default -> throw KeepalivedConf.Mapper.err(c, "authentication: unknown keyword \"" + c.keyword()
                        + "\" (expected auth_type, auth_pass)");
            }
        }
        if (type == null || pass == null) {
            throw KeepalivedConf.Mapper.err(n, "authentication needs auth_type PASS and auth_pass");
        }
        return pass;
    }

    /**
     * {@code A[/len] [dev X] [brd B] [scope S] [label L]}, one per line: the addresses the
     * instance advertises. As in keepalived (vrrp_parser.c), the first address decides the
     * instance's family ({@code native_ipv6} forces IPv6); keepalived skips an address of the
     * other family with a warning, jvs refuses it naming the line (the failover would not carry it).
     */
    private void addresses(Node n, String name, boolean nativeIpv6, List<VrrpConfig.Address> out,
                           List<Ipv6Address> out6, List<Excluded6> nodes6) throws ConfigException {
        m.requireBlock(n);
        for (Node a : n.children()) {
            String dev = addressWords(a, "virtual_ipaddress");
            String text = a.keyword();
            boolean v6 = text.indexOf(':') >= 0;
            boolean instanceV6 = !out6.isEmpty() || out.isEmpty() && (v6 || nativeIpv6);
            if (v6 != instanceV6) {
                throw KeepalivedConf.Mapper.err(a, "virtual_ipaddress " + text + ": vrrp_instance " + name + " is "
                        + (instanceV6 ? "IPv6" : "IPv4") + (nativeIpv6 && out6.isEmpty() ? " (native_ipv6)"
                        : " (its first address decides)") + "; one instance advertises one family");
            }
            int slash = text.indexOf('/');
            if (v6) {
                if (slash >= 0) {
                    m.parseInt(a, text.substring(slash + 1), 0, 128, "prefix length");
                    text = text.substring(0, slash);
                }
                out6.add(m.ip(a, text).v6());
                nodes6.add(new Excluded6(a, dev));
                continue;
            }
            int prefix = 32;
            if (slash >= 0) {
                prefix = m.parseInt(a, text.substring(slash + 1), 0, 32, "prefix length");
                text = text.substring(0, slash);
            }
            out.add(new VrrpConfig.Address(m.address(a, text), prefix, dev));
        }
    }

    /** An IPv6 unicast_src_ip or unicast_peer (link-local allowed: the instance's interface scopes it). */
    private static Ipv6Address address6(Node n, String text) throws ConfigException {
        Ipv6Address a = text.indexOf('%') < 0 ? Ipv6Address.tryParse(text) : null;
        if (a == null) {
            throw KeepalivedConf.Mapper.err(n, "\"" + text + "\" is not an IPv6 address (without a zone: the"
                    + " instance's interface is the link)");
        }
        return a;
    }

    /**
     * virtual_ipaddress_excluded: addresses the MASTER holds but does not advertise. An IPv6 one
     * follows the instance's state as the advertised addresses do (jvs answers NDP for it and
     * forwards to it only as MASTER); an IPv4 one is reported as ignored, as the whole block was
     * before IPv6 (it changes nothing jvs does for IPv4).
     */
    private void excluded(Node n, List<Ipv6Address> out6, List<Excluded6> nodes6) throws ConfigException {
        m.requireBlock(n);
        for (Node a : n.children()) {
            String dev = addressWords(a, "virtual_ipaddress_excluded");
            String text = a.keyword();
            int slash = text.indexOf('/');
            if (text.indexOf(':') < 0) {
                m.address(a, slash >= 0 ? text.substring(0, slash) : text);
                m.ignore(a);
                continue;
            }
            if (slash >= 0) {
                m.parseInt(a, text.substring(slash + 1), 0, 128, "prefix length");
                text = text.substring(0, slash);
            }
            out6.add(m.ip(a, text).v6());
            nodes6.add(new Excluded6(a, dev));
        }
    }

    /** The words after an address: {@code [dev X] [brd B] [scope S] [label L]}; returns X or null. */
    private String addressWords(Node a, String block) throws ConfigException {
        if (a.hasBlock()) {
            throw KeepalivedConf.Mapper.err(a, block + ": unexpected block");
        }
        String dev = null;
        List<String> w = a.args();
        for (int i = 0; i < w.size(); i++) {
            String k = w.get(i);
            if (!Set.of("dev", "brd", "broadcast", "scope", "label").contains(k)) {
                throw KeepalivedConf.Mapper.err(a, block + " " + a.keyword() + ": \"" + k
                        + "\" is not supported by jvs (A[/len] [dev IF] [brd B] [scope S] [label L])");
            }
            if (++i >= w.size()) {
                throw KeepalivedConf.Mapper.err(a, block + " " + a.keyword() + ": " + k + " needs a value");
            }
            if (k.equals("dev")) {
                dev = w.get(i);
            }
        }
        return dev;
    }

    private void trackInterfaces(Node n, List<String> out) throws ConfigException {
        m.requireBlock(n);
        for (Node t : n.children()) {
            if (!t.args().isEmpty() || t.hasBlock()) {
                throw KeepalivedConf.Mapper.err(t, "track_interface " + t.keyword()
                        + ": weights are not supported by jvs (a down interface means FAULT)");
            }
            out.add(t.keyword());
        }
    }

    void syncGroup(Node g) throws ConfigException {
        m.requireBlock(g);
        if (g.args().size() != 1) {
            throw KeepalivedConf.Mapper.err(g, "vrrp_sync_group needs one name");
        }
        String name = g.args().getFirst();
        List<String> members = null;
        List<String> nm = List.of();
        List<String> nb = List.of();
        List<String> nf = List.of();
        List<String> nn = List.of();
        for (Node n : g.children()) {
            switch (n.keyword()) {
                case "group" -> {
                    m.requireBlock(n);
                    members = new ArrayList<>();
                    for (Node i : n.children()) {
                        if (!i.args().isEmpty() || i.hasBlock()) {
                            throw KeepalivedConf.Mapper.err(i, "group: one instance name per line");
                        }
                        members.add(i.keyword());
                    }
                }
                case "notify_master" -> nm = m.script(n);
                case "notify_backup" -> nb = m.script(n);
                case "notify_fault" -> nf = m.script(n);
                case "notify" -> nn = m.script(n);
                case "smtp_alert", "global_tracking", "sync_group_tracking_weight" -> m.ignore(n);
                default -> throw KeepalivedConf.Mapper.err(n, "vrrp_sync_group " + name + ": "
                        + (UNSUPPORTED.contains(n.keyword()) ? n.keyword() + " is not supported by jvs"
                        : "unknown keyword \"" + n.keyword() + "\""));
            }
        }
        if (members == null || members.isEmpty()) {
            throw KeepalivedConf.Mapper.err(g, "vrrp_sync_group " + name + " has no group { ... } of instances");
        }
        groups.add(new VrrpConfig.SyncGroup(name, members, nm, nb, nf, nn));
        groupNodes.add(g);
    }

    VrrpConfig build() throws ConfigException {
        Map<String, VrrpConfig.Instance> byName = new HashMap<>();
        Map<String, VrrpConfig.Instance> byVrid = new HashMap<>();
        Map<Integer, VrrpConfig.Instance> byAddr = new LinkedHashMap<>();
        Map<Ipv6Address, VrrpConfig.Instance> byAddr6 = new HashMap<>();
        for (int i = 0; i < instances.size(); i++) {
            VrrpConfig.Instance c = instances.get(i);
            Node n = instanceNodes.get(i);
            VrrpConfig.Instance before = byName.putIfAbsent(c.name(), c);
            if (before != null) {
                throw KeepalivedConf.Mapper.err(n, "vrrp_instance " + c.name() + " is already defined at "
                        + before.where());
            }
            before = byVrid.putIfAbsent(c.iface() + "/" + c.vrid(), c);
            if (before != null) {
                throw KeepalivedConf.Mapper.err(n, "vrrp_instance " + c.name() + ": virtual_router_id " + c.vrid()
                        + " on " + c.iface() + " is already used by vrrp_instance " + before.name());
            }
            for (VrrpConfig.Address a : c.addresses()) {
                before = byAddr.putIfAbsent(a.addr(), c);
                if (before != null) {
                    throw KeepalivedConf.Mapper.err(n, "vrrp_instance " + c.name() + ": address "
                            + Ipv4Address.toString(a.addr()) + " is also in vrrp_instance " + before.name()
                            + (before == c ? " (twice)" : ""));
                }
                if (a.dev() != null && !a.dev().equals(c.iface())) {
                    throw KeepalivedConf.Mapper.err(n, "vrrp_instance " + c.name() + ": address "
                            + Ipv4Address.toString(a.addr()) + " dev " + a.dev() + ": jvs answers for an instance's"
                            + " addresses on its interface " + c.iface() + " only");
                }
            }
            List<Ipv6Address> all6 = new ArrayList<>(c.virtual6());
            all6.addAll(c.addresses6());
            List<Excluded6> nodes6 = new ArrayList<>(virtualNodes6.get(i));
            nodes6.addAll(excludedNodes.get(i));
            for (int j = 0; j < all6.size(); j++) {
                Ipv6Address a = all6.get(j);
                Excluded6 e = nodes6.get(j);
                before = byAddr6.putIfAbsent(a, c);
                if (before != null) {
                    throw KeepalivedConf.Mapper.err(e.node(), "vrrp_instance " + c.name() + ": address " + a
                            + " is also in vrrp_instance " + before.name() + (before == c ? " (twice)" : ""));
                }
                if (e.dev() != null && !e.dev().equals(c.iface())) {
                    throw KeepalivedConf.Mapper.err(e.node(), "vrrp_instance " + c.name() + ": address " + a + " dev "
                            + e.dev() + ": jvs answers for an instance's addresses on its interface " + c.iface()
                            + " only");
                }
            }
        }
        Map<String, String> groupOf = new HashMap<>();
        for (int i = 0; i < groups.size(); i++) {
            VrrpConfig.SyncGroup g = groups.get(i);
            for (String member : g.members()) {
                if (!byName.containsKey(member)) {
                    throw KeepalivedConf.Mapper.err(groupNodes.get(i), "vrrp_sync_group " + g.name()
                            + ": no vrrp_instance " + member);
                }
                String other = groupOf.putIfAbsent(member, g.name());
                if (other != null) {
                    throw KeepalivedConf.Mapper.err(groupNodes.get(i), "vrrp_sync_group " + g.name()
                            + ": vrrp_instance " + member + " is already in vrrp_sync_group " + other);
                }
            }
        }
        return new VrrpConfig(instances, groups);
    }
}
