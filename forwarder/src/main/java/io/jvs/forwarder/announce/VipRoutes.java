package io.jvs.forwarder.announce;

import io.jvs.forwarder.config.ForwarderCommandLine;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.Ipv4Address;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.NetDevice;
import io.jvs.sys.RtNetlink;
import io.jvs.sys.Tun;

import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * How jvs tells BIRD what to announce: a /32 route per served VIP in a dedicated kernel
 * routing table ({@code --announce-table}, protocol 77), through a TUN device that jvs holds
 * open and nothing else uses ({@code --announce-device}). BIRD's kernel protocol on that table
 * ({@code learn}) imports them and its BGP exports them; nothing routes by the table (no ip
 * rule points at it). The device is not persistent: when jvs dies (kill -9 included) the kernel
 * closes its fd, deletes the device and with it every route through it, and BIRD withdraws them
 * at once; this is the liveness hook, kernel-guaranteed, with no process watching jvs.
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

    /** The VIPs of {@code table} a director announces: those with a service that can take a new flow. */
    public static Set<Integer> served(ServiceTable table) {
        TreeSet<Integer> vips = new TreeSet<>(Integer::compareUnsigned);
        for (VirtualService s : table.services()) {
            if (s.fwmark != 0 || s.ipv6) {
                // a fwmark service has no address of its own; its VIPs are the marking rules' business.
                // IPv6 VIPs are not announced: the announce table is IPv4 (/32 routes)
                continue;
            }
            for (RealServer d : s.dests) {
                if (d.weight > 0) {
                    vips.add(s.addr);
                    break;
                }
            }
        }
        return vips;
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
    }

    /** Withdraws every VIP for good (graceful stop); returns how many were announced. */
    public synchronized int withdrawAll() {
        withdrawn = true;
        int n = announced.size();
        for (Integer vip : Set.copyOf(announced)) {
            route("del", vip);
        }
        return n;
    }

    /** The VIPs announced now, in address order. */
    public synchronized int[] announced() {
        return announced.stream().mapToInt(Integer::intValue).toArray();
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

    /** Withdraws what is left and closes the device (the kernel deletes it). */
    @Override
    public synchronized void close() {
        withdrawAll();
        Libc.close(fd);
    }
}
