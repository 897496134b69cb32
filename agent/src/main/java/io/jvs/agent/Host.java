package io.jvs.agent;

import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Inet;
import io.jvs.sys.NativeException;
import io.jvs.sys.RtNetlink;
import io.jvs.sys.RtNetlink6;
import io.jvs.sys.Sysctl;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;

/** The kernel's view of this network namespace, read through rtnetlink and /proc. Control plane only. */
final class Host {
    private Host() {
    }

    static final int LOOPBACK_INDEX = 1;

    /** The sysctl's value, or empty when it does not exist (e.g. a device that is gone). */
    static Optional<String> sysctl(String key) {
        try {
            return Optional.of(Sysctl.get(key));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static int sysctlInt(String key) {
        return sysctl(key).map(Integer::parseInt).orElse(0);
    }

    static String conf(String dev, String name) {
        return "net.ipv4.conf." + dev + "." + name;
    }

    static String conf6(String dev, String name) {
        return "net.ipv6.conf." + dev + "." + name;
    }

    /**
     * Whether the kernel installs default routes from Router Advertisements on dev: accept_ra 2, or 1
     * while not forwarding (the kernel's ipv6_accept_ra()), and accept_ra_defrtr on.
     */
    static boolean acceptsRaDefaultRoute(String dev) {
        int ra = sysctlInt(conf6(dev, "accept_ra"));
        boolean forwarding = sysctlInt(conf6(dev, "forwarding")) != 0;
        return (ra == 2 || ra == 1 && !forwarding) && sysctlInt(conf6(dev, "accept_ra_defrtr")) != 0;
    }

    static List<RtNetlink6.Address> addresses6() throws NativeException {
        return RtNetlink6.addresses();
    }

    static Optional<RtNetlink6.Address> address6(int ifindex, Ipv6Address addr) throws NativeException {
        return addresses6().stream().filter(a -> a.ifindex() == ifindex && a.addr().equals(addr)).findFirst();
    }

    /** The main table's IPv6 default routes (lowest metric first). */
    static List<RtNetlink6.Route> defaultRoutes6() throws NativeException {
        return RtNetlink6.mainDefaultRoutes();
    }

    /** Whether an AF_INET6 raw socket for next header proto is open in this namespace (/proc/net/raw6). */
    static boolean rawSocketOpen6(int proto) {
        return procNetHas("/proc/net/raw6", String.format(":%04X", proto), null);
    }

    /** Whether an IPv6 UDP socket is bound to this port (/proc/net/udp6). */
    static boolean udp6Bound(int port) {
        return procNetHas("/proc/net/udp6", String.format(":%04X", port), "07");
    }

    static Optional<RtNetlink.Link> link(String name) throws NativeException {
        return RtNetlink.link(name);
    }

    static String linkName(int index) throws NativeException {
        for (RtNetlink.Link l : RtNetlink.links()) {
            if (l.index() == index) {
                return l.name();
            }
        }
        return "ifindex" + index;
    }

    static List<RtNetlink.LabeledAddress> addresses() throws NativeException {
        return RtNetlink.labeledAddresses();
    }

    static Optional<RtNetlink.LabeledAddress> address(int ifindex, int addr) throws NativeException {
        return addresses().stream().filter(a -> a.ifindex() == ifindex && a.addr() == addr).findFirst();
    }

    static List<RtNetlink.RouteEntry> routes() throws NativeException {
        return RtNetlink.routeEntries();
    }

    static Optional<RtNetlink.RouteEntry> hostRoute(int dst, int oif, int table) throws NativeException {
        return routes().stream()
                .filter(r -> r.dst() == dst && r.dstLen() == 32 && r.oif() == oif && r.table() == table)
                .findFirst();
    }

    /** The main table's default routes (lowest metric first). */
    static List<RtNetlink.RouteEntry> defaultRoutes() throws NativeException {
        return RtNetlink.mainDefaultRoutes();
    }

    /** The kernel has ipip when its fallback device tunl0 exists in this namespace. */
    static boolean kernelIpip() throws NativeException {
        return link("tunl0").isPresent();
    }

    /** Whether this process has CAP_NET_ADMIN in its effective set (/proc/self/status CapEff). */
    static boolean hasNetAdmin() {
        try {
            for (String l : Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (l.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(l.substring(7).strip(), 16);
                    return (caps & (1L << 12)) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    /** Whether a raw socket for IP protocol proto is open in this namespace (/proc/net/raw). */
    static boolean rawSocketOpen(int proto) {
        return procNetHas("/proc/net/raw", String.format(":%04X", proto), null);
    }

    /** Whether a UDP socket is bound to this port (/proc/net/udp). */
    static boolean udpBound(int port) {
        return procNetHas("/proc/net/udp", String.format(":%04X", port), "07");
    }

    private static boolean procNetHas(String file, String localSuffix, String state) {
        try {
            for (String l : Files.readAllLines(java.nio.file.Path.of(file))) {
                String[] f = l.trim().split("\\s+");
                if (f.length > 3 && f[1].endsWith(localSuffix) && (state == null || f[3].equals(state))) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    static String fmt(int addr) {
        return Inet.format(addr);
    }
}
