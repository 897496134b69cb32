package io.jvs.forwarder.announce;

import io.jvs.forwarder.config.ForwarderCommandLine;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.NetDevice;
import io.jvs.sys.RtNetlink;
import io.jvs.sys.RtNetlink6;
import io.jvs.sys.Tun;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * How jvs tells BIRD what to announce: a /32 route per served IPv4 VIP, and a /128 route per
 * served IPv6 VIP, in a dedicated kernel
 * routing table ({@code --announce-table}, protocol 77), through a TUN device that jvs holds
 * open and nothing else uses ({@code --announce-device}). BIRD's kernel protocol on that table
 * ({@code learn}) imports them and its BGP exports them; nothing routes by the table (no ip
 * rule points at it). The device is not persistent: when jvs dies (kill -9 included) the kernel
 * closes its fd, deletes the device and with it every route through it, and BIRD withdraws them
 * at once; this is the liveness hook, kernel-guaranteed, with no process watching jvs. The IPv6
 * routes are the same routes in the same table's IPv6 half (BIRD learns them through a kernel
 * protocol with an ipv6 channel on that table).
 *
 * <p>A VIP is served while a TCP/UDP service on it has a real server of weight above 0 (health
 * checks set a failed one to 0 or remove it), so a VIP whose every server is down is withdrawn
 * and the router sends its flows to directors that have one.
 */
public final class VipRoutes implements AutoCloseable {
    private final ForwarderCommandLine.Announce settings;
    private final int fd;
    private final int ifindex;
    private final Consumer<String> log;
    private final TreeSet<Integer> announced = new TreeSet<>(Integer::compareUnsigned);
    /** In address order (the high then the low 64 bits, unsigned). */
    private static final Comparator<Ipv6Address> ORDER = Comparator.comparing(Ipv6Address::hi, Long::compareUnsigned)
            .thenComparing(Ipv6Address::lo, Long::compareUnsigned);
    private final TreeSet<Ipv6Address> announced6 = new TreeSet<>(ORDER);
    private boolean withdrawn;

    private VipRoutes(ForwarderCommandLine.Announce settings, int fd, int ifindex, Consumer<String> log) {
        this.settings = settings;
        this.fd = fd;
        this.ifindex = ifindex;
        this.log = log;
    }

    /** Creates the TUN device, sets it up; nothing is announced yet. */
    public static VipRoutes open(ForwarderCommandLine.Announce settings, Consumer<String> log) throws IOException {
        int fd = Tun.openTun(settings.device());
        try {
            // the device is jvs's own and dies with it: IPv6 on it (a host whose default is
            // disable_ipv6=1 gives a new device no IPv6, and the kernel then refuses its /128 routes)
            java.nio.file.Path ipv6 = java.nio.file.Path.of("/proc/sys/net/ipv6/conf", settings.device(), "disable_ipv6");
            if (java.nio.file.Files.exists(ipv6)) {
                java.nio.file.Files.writeString(ipv6, "0");
            }
            NetDevice.changeFlags(settings.device(), NetDevice.IFF_UP, 0);
            int ifindex = RtNetlink.link(settings.device()).orElseThrow(
                    () -> new IOException("--announce-device " + settings.device() + ": created but not found"))
                    .index();
            return new VipRoutes(settings, fd, ifindex, log);
        } catch (IOException | RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** The IPv4 VIPs of {@code table} a director announces: those with a service that can take a new flow. */
    public static Set<Integer> served(ServiceTable table) {
        TreeSet<Integer> vips = new TreeSet<>(Integer::compareUnsigned);
        for (VirtualService s : table.services()) {
            // a fwmark service has no address of its own; its VIPs are the marking rules' business
            if (s.fwmark == 0 && !s.ipv6 && takesNewFlows(s)) {
                vips.add(s.addr);
            }
        }
        return vips;
    }

    /** The IPv6 VIPs of {@code table} a director announces (as {@link #served}), in address order. */
    public static Set<Ipv6Address> served6(ServiceTable table) {
        TreeSet<Ipv6Address> vips = new TreeSet<>(ORDER);
        for (VirtualService s : table.services()) {
            if (s.fwmark == 0 && s.ipv6 && takesNewFlows(s)) {
                vips.add(new Ipv6Address(s.addr6Hi, s.addr6Lo));
            }
        }
        return vips;
    }

    private static boolean takesNewFlows(VirtualService s) {
        for (RealServer d : s.dests) {
            if (d.weight > 0) {
                return true;
            }
        }
        return false;
    }

    /** Brings the routes to the served VIPs of {@code table} (after a withdrawal: nothing). */
    public synchronized void update(ServiceTable table) {
        if (withdrawn) {
            return;
        }
        Set<Integer> want = served(table);
        for (Integer vip : Set.copyOf(announced)) {
            if (!want.contains(vip)) {
                route("del", vip);
            }
        }
        for (Integer vip : want) {
            if (!announced.contains(vip)) {
                route("replace", vip);
            }
        }
        Set<Ipv6Address> want6 = served6(table);
        for (Ipv6Address vip : List.copyOf(announced6)) {
            if (!want6.contains(vip)) {
                route6("del", vip);
            }
        }
        for (Ipv6Address vip : want6) {
            if (!announced6.contains(vip)) {
                route6("replace", vip);
            }
        }
    }

    /** Withdraws every VIP for good (graceful stop); returns how many were announced. */
    public synchronized int withdrawAll() {
        withdrawn = true;
        int n = announced.size() + announced6.size();
        for (Integer vip : Set.copyOf(announced)) {
            route("del", vip);
        }
        for (Ipv6Address vip : List.copyOf(announced6)) {
            route6("del", vip);
        }
        return n;
    }

    /** The IPv4 VIPs announced now, in address order. */
    public synchronized int[] announced() {
        return announced.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The IPv6 VIPs announced now, in address order. */
    public synchronized List<Ipv6Address> announced6() {
        return List.copyOf(announced6);
    }

    /** Every VIP announced now as text, the IPv4 ones first (the metrics' labels). */
    public synchronized List<String> announcedText() {
        List<String> all = new ArrayList<>();
        announced.forEach(v -> all.add(Ipv4Address.toString(v)));
        announced6.forEach(v -> all.add(v.toString()));
        return all;
    }

    private void route(String op, int vip) {
        try {
            RtNetlink.route(op, new RtNetlink.RouteEntry(vip, 32, 0, ifindex, 0, settings.table(),
                    RtNetlink.SCOPE_LINK, ForwarderCommandLine.ANNOUNCE_PROTOCOL, 0));
            if (op.equals("del")) {
                announced.remove(vip);
            } else {
                announced.add(vip);
            }
            log.accept((op.equals("del") ? "withdrew " : "announced ") + Ipv4Address.toString(vip) + "/32 (table "
                    + settings.table() + " dev " + settings.device() + ")");
        } catch (NativeException e) {
            log.accept("could not " + (op.equals("del") ? "withdraw " : "announce ") + Ipv4Address.toString(vip)
                    + ": " + e.getMessage());
        }
    }

    private void route6(String op, Ipv6Address vip) {
        try {
            RtNetlink6.route(op, new RtNetlink6.Route(vip, 128, Ipv6Address.UNSPECIFIED, ifindex, 0, settings.table(),
                    ForwarderCommandLine.ANNOUNCE_PROTOCOL, RtNetlink6.RTN_UNICAST));
            if (op.equals("del")) {
                announced6.remove(vip);
            } else {
                announced6.add(vip);
            }
            log.accept((op.equals("del") ? "withdrew " : "announced ") + vip + "/128 (table " + settings.table()
                    + " dev " + settings.device() + ")");
        } catch (NativeException e) {
            log.accept("could not " + (op.equals("del") ? "withdraw " : "announce ") + vip + ": " + e.getMessage());
        }
    }

    /** Withdraws what is left and closes the device (the kernel deletes it). */
    @Override
    public synchronized void close() {
        withdrawAll();
        Libc.close(fd);
    }
}
