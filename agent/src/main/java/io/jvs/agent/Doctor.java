package io.jvs.agent;

import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Inet;
import io.jvs.sys.NativeException;
import io.jvs.sys.RtNetlink;
import io.jvs.sys.RtNetlink6;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code check}: each requirement of the mode, read from the kernel's view,
 * as PASS, FAIL (with the exact command that fixes it) or INFO.
 */
final class Doctor {
    enum Verdict { PASS, FAIL, INFO }

    record Item(Verdict verdict, String text, String fix) {
        String line() {
            return verdict + " " + text + (fix == null ? "" : ": " + fix);
        }
    }

    private final List<Item> items = new ArrayList<>();

    private Doctor() {
    }

    static List<Item> check(AgentOptions o, String iface) throws NativeException {
        Doctor d = new Doctor();
        d.run(o, iface);
        return List.copyOf(d.items);
    }

    private void pass(String text) {
        items.add(new Item(Verdict.PASS, text, null));
    }

    private void fail(String text, String fix) {
        items.add(new Item(Verdict.FAIL, text, fix));
    }

    private void info(String text) {
        items.add(new Item(Verdict.INFO, text, null));
    }

    private void run(AgentOptions o, String iface) throws NativeException {
        switch (o.mode()) {
            case DR -> {
                if (!o.vips().isEmpty()) {
                    for (String dev : List.of("all", "lo", iface)) {
                        arp(dev);
                    }
                }
                if (!o.vips6().isEmpty()) {
                    ipv6Enabled("lo");
                    ipv6Enabled(iface);
                    for (String dev : List.of("all", iface)) {
                        proxyNdp(dev);
                    }
                    vips6(o, Host.LOOPBACK_INDEX, "lo");
                    info("IPv6 forwarding on " + iface + " is " + Host.sysctl(Host.conf6(iface, "forwarding")).orElse("?")
                            + " (DR needs none; with 1 the server acts as a router: NAs carry the R flag, RAs are ignored)");
                    info("NDP: Linux answers a Neighbor Solicitation only for an address on the interface it arrives on "
                            + "(or a proxy entry, with proxy_ndp and forwarding on), so a VIP on lo stays invisible on "
                            + iface + ": IPv6 needs no arp_ignore");
                }
                List<RtNetlink.LabeledAddress> addrs = Host.addresses();
                for (int vip : o.vips()) {
                    String v = Inet.format(vip);
                    if (addrs.stream().anyMatch(a -> a.ifindex() == Host.LOOPBACK_INDEX && a.addr() == vip)) {
                        pass("VIP " + v + " is on lo");
                    } else {
                        fail("VIP " + v + " is not on lo", "ip addr add " + v + "/32 dev lo label lo:0");
                    }
                    for (RtNetlink.LabeledAddress a : addrs) {
                        if (a.addr() == vip && a.ifindex() != Host.LOOPBACK_INDEX) {
                            String dev = Host.linkName(a.ifindex());
                            fail("VIP " + v + " is on " + dev + " too (it would take the director's traffic)",
                                    "ip addr del " + v + "/" + a.prefixLen() + " dev " + dev);
                        }
                    }
                    if (Host.hostRoute(vip, Host.LOOPBACK_INDEX, RtNetlink.RT_TABLE_MAIN).isPresent()) {
                        pass("host route " + v + " dev lo");
                    } else {
                        fail("host route " + v + " dev lo is missing", "ip route add " + v + "/32 dev lo");
                    }
                }
            }
            case TUN -> {
                if (!o.vips().isEmpty()) {
                    for (String dev : List.of("all", iface)) {
                        arp(dev);
                    }
                }
                if (!o.vips6().isEmpty()) {
                    for (String dev : List.of("all", iface)) {
                        proxyNdp(dev);
                    }
                }
                if (!o.directors6().isEmpty()) {
                    ipv6Enabled(iface);
                }
                boolean kernel = Applier.kernelTunnel(o);
                String dev = kernel ? "tunl0" : o.tunDevice();
                Optional<RtNetlink.Link> link = Host.link(dev);
                if (link.isEmpty()) {
                    fail("tunnel device " + dev + " does not exist", "ip tuntap add dev " + dev + " mode tun && ip link set "
                            + dev + " up (or: jvs-agent up --mode tun ...)");
                } else if (!link.get().up()) {
                    fail("tunnel device " + dev + " is down", "ip link set " + dev + " up");
                } else {
                    pass("tunnel device " + dev + " is up" + (kernel ? " (kernel ipip)" : " (TUN; userspace decapsulation)"));
                }
                for (int vip : o.vips()) {
                    String v = Inet.format(vip);
                    if (link.isPresent() && Host.address(link.get().index(), vip).isPresent()) {
                        pass("VIP " + v + " is on " + dev);
                    } else {
                        fail("VIP " + v + " is not on " + dev, "ip addr add " + v + "/32 dev " + dev);
                    }
                }
                if (link.isPresent() && !o.vips6().isEmpty()) {
                    ipv6Enabled(dev);
                    vips6(o, link.get().index(), dev);
                    info("IPv6 has no rp_filter: the kernel takes the inner packets on " + dev + " whatever their source "
                            + "(a netfilter rpfilter/fib rule on " + dev + " would drop them; the agent adds none)");
                }
                if (link.isPresent() && !o.vips().isEmpty()) {
                    int all = Host.sysctlInt(Host.conf("all", Applier.RP_FILTER));
                    int own = Host.sysctlInt(Host.conf(dev, Applier.RP_FILTER));
                    int eff = Math.max(all, own);
                    String t = "rp_filter on " + dev + " is " + own + " (all: " + all + ", effective " + eff + ")";
                    if (eff == 0 || eff == 2) {
                        pass(t);
                    } else {
                        fail(t + ", must be 2 (loose) or 0", "sysctl -w net.ipv4.conf." + dev + ".rp_filter=2");
                    }
                }
                if (!kernel) {
                    String run = "jvs-agent run --mode tun --vip " + vips(o) + " --director " + directors(o);
                    boolean d4 = !o.directors().isEmpty();
                    boolean d6 = !o.directors6().isEmpty();
                    boolean v4 = !o.vips().isEmpty();
                    boolean v6 = !o.vips6().isEmpty();
                    if (d4 && v4) {
                        receiver(Host.rawSocketOpen(4), "IPIP receiver: a raw socket for protocol 4", run);
                    }
                    if (d4 && v6) {
                        receiver(Host.rawSocketOpen(41), "SIT (IPv6 in IPv4) receiver: a raw socket for protocol 41", run);
                    }
                    if (d6 && v6) {
                        receiver(Host.rawSocketOpen6(41), "IP6IP6 receiver: an IPv6 raw socket for next header 41", run);
                    }
                    if (d6 && v4) {
                        receiver(Host.rawSocketOpen6(4), "IPIP6 (IPv4 in IPv6) receiver: an IPv6 raw socket for next header 4",
                                run);
                    }
                    if (o.guePort() > 0 && d4) {
                        if (Host.udpBound(o.guePort())) {
                            pass("GUE receiver: udp port " + o.guePort() + " is bound");
                        } else {
                            fail("GUE receiver: udp port " + o.guePort() + " is not bound", run);
                        }
                    }
                    if (o.guePort() > 0 && d6) {
                        if (Host.udp6Bound(o.guePort())) {
                            pass("GUE receiver: udp6 port " + o.guePort() + " is bound");
                        } else {
                            fail("GUE receiver: udp6 port " + o.guePort() + " is not bound", run);
                        }
                    }
                }
                info("allowed directors (tunnel sources): " + directors(o));
            }
            case NAT -> {
                if (!o.directors6().isEmpty()) {
                    nat6(o, iface);
                }
                if (o.directors().isEmpty()) {
                    break;
                }
                int dip = o.directors().get(0);
                String d = Inet.format(dip);
                List<RtNetlink.RouteEntry> defs = Host.defaultRoutes();
                if (defs.isEmpty()) {
                    fail("there is no default route, must be via the director " + d, "ip route replace default via " + d);
                } else if (defs.get(0).gateway() == dip) {
                    pass("default route via the director " + d + " dev " + Host.linkName(defs.get(0).oif()));
                } else {
                    fail("default route is via " + Inet.format(defs.get(0).gateway()) + ", must be via the director " + d,
                            "ip route replace default via " + d);
                }
            }
            case FULLNAT -> {
                info("fullnat: nothing to configure on a real server (the director rewrites both addresses)");
                boolean toa = Files.isDirectory(Path.of("/sys/module/toa"));
                info("client address via TOA (TCP option): kernel module toa is " + (toa ? "loaded" : "not loaded")
                        + (toa ? "" : " (getpeername() returns the director's local address)"));
                info("client address via PROXY protocol: the server must accept it (e.g. nginx: listen 80 proxy_protocol; "
                        + "set_real_ip_from <director>; real_ip_header proxy_protocol)");
            }
        }
    }

    private void receiver(boolean open, String what, String run) {
        if (open) {
            pass(what + " is open");
        } else {
            fail(what + " is not open (the kernel has no tunnel for it, nothing decapsulates)", run);
        }
    }

    private void ipv6Enabled(String dev) {
        String v = Host.sysctl(Host.conf6(dev, Applier.DISABLE_IPV6)).orElse("?");
        if (v.equals("0")) {
            pass("IPv6 is enabled on " + dev);
        } else {
            fail("IPv6 is disabled on " + dev + " (disable_ipv6 " + v + ")",
                    "sysctl -w net.ipv6.conf." + dev + ".disable_ipv6=0");
        }
    }

    /** proxy_ndp: the one way an address on lo (or a TUN device) can be answered for on the LAN. */
    private void proxyNdp(String dev) {
        String v = Host.sysctl(Host.conf6(dev, Applier.PROXY_NDP)).orElse("?");
        if (v.equals("0")) {
            pass("proxy_ndp on " + dev + " is 0");
        } else {
            fail("proxy_ndp on " + dev + " is " + v + ", must be 0 (with forwarding on, a proxy entry would answer "
                    + "Neighbor Solicitations for the VIP)", "sysctl -w net.ipv6.conf." + dev + ".proxy_ndp=0");
        }
    }

    /** Each IPv6 VIP as a usable /128 on dev (not tentative, not failed DAD) and on no other interface. */
    private void vips6(AgentOptions o, int ifindex, String dev) throws NativeException {
        List<RtNetlink6.Address> addrs = Host.addresses6();
        for (Ipv6Address vip : o.vips6()) {
            Optional<RtNetlink6.Address> on = addrs.stream()
                    .filter(a -> a.ifindex() == ifindex && a.addr().equals(vip)).findFirst();
            if (on.isEmpty()) {
                fail("VIP " + vip + " is not on " + dev, "ip -6 addr add " + vip + "/128 dev " + dev + " nodad");
            } else if (on.get().dadFailed()) {
                fail("VIP " + vip + " on " + dev + " failed duplicate address detection (another node has it)",
                        "ip -6 addr del " + vip + "/" + on.get().prefixLen() + " dev " + dev + " && ip -6 addr add "
                                + vip + "/128 dev " + dev + " nodad");
            } else if (on.get().tentative()) {
                fail("VIP " + vip + " on " + dev + " is tentative (DAD running: unusable until it ends)",
                        "ip -6 addr del " + vip + "/" + on.get().prefixLen() + " dev " + dev + " && ip -6 addr add "
                                + vip + "/128 dev " + dev + " nodad");
            } else {
                pass("VIP " + vip + " is on " + dev + " (/" + on.get().prefixLen()
                        + ((on.get().flags() & RtNetlink6.IFA_F_NODAD) != 0 ? ", nodad)" : ")"));
            }
            for (RtNetlink6.Address a : addrs) {
                if (a.addr().equals(vip) && a.ifindex() != ifindex) {
                    String other = Host.linkName(a.ifindex());
                    fail("VIP " + vip + " is on " + other + " too (it would answer Neighbor Solicitations for it there)",
                            "ip -6 addr del " + vip + "/" + a.prefixLen() + " dev " + other);
                }
            }
        }
    }

    private void nat6(AgentOptions o, String iface) throws NativeException {
        Ipv6Address d = o.directors6().get(0);
        String via = Applier.gatewayText(o);
        int zoneIf = Applier.zoneIndex(o);
        List<RtNetlink6.Route> defs = Host.defaultRoutes6();
        if (defs.isEmpty()) {
            fail("there is no IPv6 default route, must be via the director " + d, "ip -6 route replace default via " + via);
        } else if (defs.get(0).gateway().equals(d) && (zoneIf == 0 || defs.get(0).oif() == zoneIf)) {
            pass("IPv6 default route via the director " + d + " dev " + Host.linkName(defs.get(0).oif()));
        } else {
            fail("IPv6 default route is via " + defs.get(0).gateway() + " dev " + Host.linkName(defs.get(0).oif())
                    + ", must be via the director " + via, "ip -6 route replace default via " + via);
        }
        if (Host.acceptsRaDefaultRoute(iface)) {
            fail(iface + " accepts default routes from Router Advertisements (accept_ra_defrtr 1 with accept_ra active), "
                    + "they would route replies around the director", "sysctl -w net.ipv6.conf." + iface
                    + ".accept_ra_defrtr=0");
        } else {
            pass(iface + " takes no default route from Router Advertisements");
        }
    }

    static String vips(AgentOptions o) {
        return join(o.vips(), o.vips6());
    }

    static String directors(AgentOptions o) {
        return join(o.directors(), o.directors6());
    }

    private static String join(List<Integer> v4, List<Ipv6Address> v6) {
        List<String> all = new ArrayList<>();
        v4.forEach(a -> all.add(Inet.format(a)));
        v6.forEach(a -> all.add(a.toString()));
        return String.join(",", all);
    }

    private void arp(String dev) {
        String ig = Host.sysctl(Host.conf(dev, Applier.ARP_IGNORE)).orElse("?");
        if (Applier.ARP_IGNORE_OK.contains(ig)) {
            pass("arp_ignore on " + dev + " is " + ig);
        } else {
            fail("arp_ignore on " + dev + " is " + ig + ", must be 1", "sysctl -w net.ipv4.conf." + dev + ".arp_ignore=1");
        }
        String an = Host.sysctl(Host.conf(dev, Applier.ARP_ANNOUNCE)).orElse("?");
        if (an.equals("2")) {
            pass("arp_announce on " + dev + " is 2");
        } else {
            fail("arp_announce on " + dev + " is " + an + ", must be 2", "sysctl -w net.ipv4.conf." + dev + ".arp_announce=2");
        }
    }

}
