package io.jvs.agent;

import io.jvs.sys.Inet;
import io.jvs.sys.NativeException;
import io.jvs.sys.RtNetlink;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

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
                for (String dev : List.of("all", "lo", iface)) {
                    arp(dev);
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
                for (String dev : List.of("all", iface)) {
                    arp(dev);
                }
                boolean kernel = Host.kernelIpip();
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
                if (link.isPresent()) {
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
                    String run = "jvs-agent run --mode tun --vip " + list(o.vips()) + " --director " + list(o.directors());
                    if (Host.rawSocketOpen(4)) {
                        pass("IPIP receiver: a raw socket for protocol 4 is open");
                    } else {
                        fail("IPIP receiver: no raw socket for protocol 4 (the kernel has no ipip, nothing decapsulates)", run);
                    }
                    if (o.guePort() > 0) {
                        if (Host.udpBound(o.guePort())) {
                            pass("GUE receiver: udp port " + o.guePort() + " is bound");
                        } else {
                            fail("GUE receiver: udp port " + o.guePort() + " is not bound", run);
                        }
                    }
                }
                info("allowed directors (tunnel sources): " + list(o.directors()));
            }
            case NAT -> {
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

    static String list(List<Integer> addrs) {
        return addrs.stream().map(Inet::format).collect(Collectors.joining(","));
    }
}
