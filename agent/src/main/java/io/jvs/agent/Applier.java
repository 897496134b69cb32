package io.jvs.agent;

import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Journal;
import io.jvs.agent.AgentOptions.Mode;
import io.jvs.sys.Inet;
import io.jvs.sys.NativeException;
import io.jvs.sys.NetDevice;
import io.jvs.sys.RtNetlink;
import io.jvs.sys.RtNetlink6;
import io.jvs.sys.Sysctl;
import io.jvs.sys.Tun;

import java.io.IOException;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code up} and {@code down}. Up compares each requirement of the mode with
 * the kernel's view and changes only what differs, journalling the undo of
 * each change before making it ({@link Journal}); so up twice changes nothing
 * the second time, and down puts back exactly what up changed.
 *
 * <p>Order matters and is fixed: ARP sysctls before any VIP appears (the VIP
 * is never ARP-visible), the TUN device before its sysctls and addresses.
 */
final class Applier {
    private final PrintStream out;
    private int changes;

    Applier(PrintStream out) {
        this.out = out;
    }

    /** The requirements' fixed values. */
    static final String ARP_IGNORE = "arp_ignore";
    static final String ARP_ANNOUNCE = "arp_announce";
    static final String RP_FILTER = "rp_filter";
    static final Set<String> ARP_IGNORE_OK = Set.of("1", "2");
    static final String PROXY_NDP = "proxy_ndp";
    static final String DISABLE_IPV6 = "disable_ipv6";
    static final String ACCEPT_RA_DEFRTR = "accept_ra_defrtr";

    /** The tunnel device of mode tun: tunl0 where the kernel has ipip (IPv4 only), else the agent's TUN device. */
    static String tunnelDevice(AgentOptions o) throws NativeException {
        return kernelTunnel(o) ? "tunl0" : o.tunDevice();
    }

    /**
     * Whether the kernel decapsulates (tunl0: ipip). Only for IPv4 in IPv4: with any IPv6 VIP or
     * director the agent decapsulates every family itself, one device for all.
     */
    static boolean kernelTunnel(AgentOptions o) throws NativeException {
        return !o.ipv6() && Host.kernelIpip();
    }

    /** The first line of a new journal file. */
    static final String JOURNAL_HEADER =
            "# jvs-agent undo journal: written before each change; `jvs-agent down` replays it newest first";
    /** Test hook: halt the JVM right after journalling this many changes (before making the last one). */
    static final String CRASH_ENV = "JVS_AGENT_TEST_CRASH_AT";

    /** The journal in --state ({@link Journal}), with the crash test hook when {@value #CRASH_ENV} is set. */
    static Journal journal(AgentOptions o) throws IOException {
        String c = System.getenv(CRASH_ENV);
        int crashAt = c == null || c.isBlank() ? -1 : Integer.parseInt(c.strip());
        return Journal.open(o.state(), JOURNAL_HEADER, (n, entry) -> {
            if (n == crashAt) {
                System.err.println("jvs-agent: " + CRASH_ENV + "=" + crashAt + ": halting after journalling '" + entry
                        + "'");
                Runtime.getRuntime().halt(86);
            }
        });
    }

    /** Applies the mode; returns the number of changes made. */
    int up(AgentOptions o, String iface) throws IOException {
        Journal j = journal(o);
        try {
            switch (o.mode()) {
                case DR -> {
                    if (!o.vips().isEmpty()) {
                        for (String dev : List.of("all", "lo", iface)) {
                            arp(j, dev);
                        }
                    }
                    if (!o.vips6().isEmpty()) {
                        // IPv6 on lo and the LAN; NDP answers only for addresses on the receiving
                        // interface, so only proxy NDP could expose the VIP: off before it appears.
                        ipv6On(j, "lo");
                        ipv6On(j, iface);
                        for (String dev : List.of("all", iface)) {
                            sysctl(j, Host.conf6(dev, PROXY_NDP), "0", Set.of());
                        }
                    }
                    for (int vip : o.vips()) {
                        address(j, "lo", Host.LOOPBACK_INDEX, vip, true);
                        hostRoute(j, vip);
                    }
                    for (Ipv6Address vip : o.vips6()) {
                        address6(j, "lo", Host.LOOPBACK_INDEX, vip);
                    }
                }
                case TUN -> {
                    if (!o.vips().isEmpty()) {
                        for (String dev : List.of("all", iface)) {
                            arp(j, dev);
                        }
                    }
                    if (!o.vips6().isEmpty()) {
                        for (String dev : List.of("all", iface)) {
                            sysctl(j, Host.conf6(dev, PROXY_NDP), "0", Set.of());
                        }
                    }
                    if (!o.directors6().isEmpty()) {
                        ipv6On(j, iface);   // the outer packets are IPv6
                    }
                    boolean kernel = kernelTunnel(o);
                    String dev = kernel ? "tunl0" : o.tunDevice();
                    if (!kernel && Host.link(dev).isEmpty()) {
                        j.record(Journal.tun(dev));
                        Tun.createPersistentTun(dev);
                        say("created TUN device " + dev + " (persistent, IFF_TUN|IFF_NO_PI)");
                    }
                    RtNetlink.Link link = Host.link(dev).orElseThrow(() -> new IOException("device " + dev + " vanished"));
                    if (!link.up()) {
                        j.record(Journal.linkUp(dev));
                        NetDevice.changeFlags(dev, NetDevice.IFF_UP, 0);
                        say("set " + dev + " up");
                    }
                    if (!o.vips().isEmpty()) {
                        rpFilter(j, dev);
                    }
                    if (!o.vips6().isEmpty()) {
                        ipv6On(j, dev);   // a new device inherits net.ipv6.conf.default.disable_ipv6
                    }
                    for (int vip : o.vips()) {
                        address(j, dev, link.index(), vip, false);
                    }
                    for (Ipv6Address vip : o.vips6()) {
                        address6(j, dev, link.index(), vip);
                    }
                    if (!kernel) {
                        say("note: " + (o.ipv6() ? "IPv6 tunnels are decapsulated in userspace (this kernel has no "
                                + "ip6_tunnel/sit to rely on)" : "this kernel has no ipip (no tunl0)")
                                + ": `jvs-agent run` decapsulates " + Decapsulator.encaps(o) + " into " + dev);
                    }
                }
                case NAT -> {
                    if (!o.directors().isEmpty()) {
                        natDefaultRoute(j, o);
                    }
                    if (!o.directors6().isEmpty()) {
                        natDefaultRoute6(j, o, iface);
                    }
                }
                case FULLNAT -> say("fullnat: nothing to configure on a real server (run `jvs-agent check --mode fullnat` "
                        + "to see how it can recover client addresses)");
            }
        } finally {
            j.close();
        }
        return changes;
    }

    private void natDefaultRoute(Journal j, AgentOptions o) throws IOException {
        int dip = o.directors().get(0);
        List<RtNetlink.RouteEntry> defs = Host.defaultRoutes();
        Optional<RtNetlink.RouteEntry> cur = defs.stream().findFirst();
        if (cur.isPresent() && cur.get().gateway() == dip) {
            return;
        }
        String now = cur.map(r -> "via " + Inet.format(r.gateway())).orElse("missing");
        if (!o.fix()) {
            say("WARNING: the default route is " + now + ", must be via " + Inet.format(dip)
                    + " for NAT replies to pass the director (fix: jvs-agent up --mode nat --director "
                    + Inet.format(dip) + " --fix, or ip route replace default via " + Inet.format(dip) + ")");
            return;
        }
        if (cur.isPresent()) {
            RtNetlink.RouteEntry r = cur.get();
            j.record(Journal.defaultRoute(r, Host.linkName(r.oif())));
            RtNetlink.route("replace", new RtNetlink.RouteEntry(0, 0, dip, 0, r.priority(),
                    RtNetlink.RT_TABLE_MAIN, RtNetlink.SCOPE_UNIVERSE, RtNetlink.PROTO_STATIC, 0));
        } else {
            j.record(Journal.noDefaultRoute());
            RtNetlink.route("add", new RtNetlink.RouteEntry(0, 0, dip, 0, 0,
                    RtNetlink.RT_TABLE_MAIN, RtNetlink.SCOPE_UNIVERSE, RtNetlink.PROTO_STATIC, 0));
        }
        changes++;
        say("default route " + now + " -> via " + Inet.format(dip));
    }

    /**
     * The IPv6 default route via the director (its zone, for a link-local one, is the device), and
     * with --fix no default routes from Router Advertisements on the LAN interface: with accept_ra
     * active the kernel would add "default via ROUTER proto ra" beside (or back over) ours.
     */
    private void natDefaultRoute6(Journal j, AgentOptions o, String iface) throws IOException {
        Ipv6Address d = o.directors6().get(0);
        int zoneIf = zoneIndex(o);
        String via = gatewayText(o);
        Optional<RtNetlink6.Route> cur = Host.defaultRoutes6().stream().findFirst();
        boolean right = cur.isPresent() && cur.get().gateway().equals(d) && (zoneIf == 0 || cur.get().oif() == zoneIf);
        String now = cur.map(r -> "via " + r.gateway()).orElse("missing");
        if (!o.fix()) {
            if (!right) {
                say("WARNING: the IPv6 default route is " + now + ", must be via " + d
                        + " for NAT replies to pass the director (fix: jvs-agent up --mode nat --director "
                        + o.directors6().get(0) + o.directorZone().map(z -> "%" + z).orElse("")
                        + " --fix, or ip -6 route replace default via " + via + ")");
            }
            if (Host.acceptsRaDefaultRoute(iface)) {
                say("WARNING: " + iface + " accepts default routes from Router Advertisements (accept_ra_defrtr=1), "
                        + "which would route replies around the director (--fix sets it to 0)");
            }
            return;
        }
        if (Host.acceptsRaDefaultRoute(iface)) {
            sysctl(j, Host.conf6(iface, ACCEPT_RA_DEFRTR), "0", Set.of());
        }
        if (right) {
            return;
        }
        if (cur.isPresent()) {
            RtNetlink6.Route r = cur.get();
            j.record(Journal.defaultRoute6(r, Host.linkName(r.oif())));
            RtNetlink6.route("replace", new RtNetlink6.Route(Ipv6Address.UNSPECIFIED, 0, d, zoneIf, r.metric(),
                    RtNetlink.RT_TABLE_MAIN, RtNetlink.PROTO_STATIC, RtNetlink6.RTN_UNICAST));
        } else {
            j.record(Journal.noDefaultRoute6());
            RtNetlink6.route("add", new RtNetlink6.Route(Ipv6Address.UNSPECIFIED, 0, d, zoneIf, 0,
                    RtNetlink.RT_TABLE_MAIN, RtNetlink.PROTO_STATIC, RtNetlink6.RTN_UNICAST));
        }
        changes++;
        say("IPv6 default route " + now + " -> via " + via);
    }

    /** The ifindex of the link-local director's zone, or 0 (the kernel picks the device). */
    static int zoneIndex(AgentOptions o) throws NativeException {
        if (o.directorZone().isEmpty()) {
            return 0;
        }
        String z = o.directorZone().get();
        return Host.link(z).orElseThrow(() -> new NativeException("--director zone " + z + " vanished", 19)).index();
    }

    /** "D" or "D dev ZONE", as ip -6 route takes it. */
    static String gatewayText(AgentOptions o) {
        return o.directors6().get(0) + o.directorZone().map(z -> " dev " + z).orElse("");
    }

    private void ipv6On(Journal j, String dev) throws IOException {
        sysctl(j, Host.conf6(dev, DISABLE_IPV6), "0", Set.of());
    }

    /** The VIP as a /128 with nodad (on lo and TUN devices the kernel runs no DAD anyway; nodad says so). */
    private void address6(Journal j, String dev, int ifindex, Ipv6Address vip) throws IOException {
        if (Host.address6(ifindex, vip).isPresent()) {
            return;
        }
        j.record(Journal.addr6(dev, vip, 128));
        RtNetlink6.address(true, ifindex, vip, 128, true);
        changes++;
        say("added " + vip + "/128 dev " + dev + " nodad");
    }

    private void say(String s) {
        out.println("jvs-agent: " + s);
    }

    private void arp(Journal j, String dev) throws IOException {
        sysctl(j, Host.conf(dev, ARP_IGNORE), "1", ARP_IGNORE_OK);
        sysctl(j, Host.conf(dev, ARP_ANNOUNCE), "2", Set.of("2"));
    }

    /** rp_filter: the kernel uses max(all, dev); loose (2) on the device is enough whatever all is (0..2). */
    private void rpFilter(Journal j, String dev) throws IOException {
        int eff = Math.max(Host.sysctlInt(Host.conf("all", RP_FILTER)), Host.sysctlInt(Host.conf(dev, RP_FILTER)));
        if (eff == 0 || eff == 2) {
            return;
        }
        sysctl(j, Host.conf(dev, RP_FILTER), "2", Set.of());
    }

    private void sysctl(Journal j, String key, String want, Set<String> ok) throws IOException {
        String cur = Sysctl.get(key);
        if (cur.equals(want) || ok.contains(cur)) {
            return;
        }
        j.record(Journal.sysctl(key, cur));
        Sysctl.set(key, want);
        changes++;
        say("set " + key + " " + cur + " -> " + want);
    }

    private void address(Journal j, String dev, int ifindex, int vip, boolean loLabel) throws IOException {
        if (Host.address(ifindex, vip).isPresent()) {
            return;
        }
        String label = dev;
        if (loLabel) {
            Set<String> used = new HashSet<>();
            for (RtNetlink.LabeledAddress a : Host.addresses()) {
                used.add(a.label());
            }
            int n = 0;
            while (used.contains("lo:" + n)) {
                n++;
            }
            label = "lo:" + n;
        }
        j.record(Journal.addr(dev, vip, 32, label));
        RtNetlink.address(true, ifindex, vip, 32, label);
        changes++;
        say("added " + Inet.format(vip) + "/32 dev " + dev + " label " + label);
    }

    private void hostRoute(Journal j, int vip) throws IOException {
        if (Host.hostRoute(vip, Host.LOOPBACK_INDEX, RtNetlink.RT_TABLE_MAIN).isPresent()) {
            return;
        }
        j.record(Journal.route(vip, 32, "lo", RtNetlink.RT_TABLE_MAIN, RtNetlink.SCOPE_LINK));
        RtNetlink.route("add", hostRouteEntry(vip));
        changes++;
        say("added route " + Inet.format(vip) + "/32 dev lo scope link");
    }

    static RtNetlink.RouteEntry hostRouteEntry(int vip) {
        return new RtNetlink.RouteEntry(vip, 32, 0, Host.LOOPBACK_INDEX, 0, RtNetlink.RT_TABLE_MAIN,
                RtNetlink.SCOPE_LINK, RtNetlink.PROTO_STATIC, 0);
    }

    // ---------------------------------------------------------------- down

    /** Undoes the journal newest first; returns false when something could not be undone (it stays journalled). */
    boolean down(Journal j) throws IOException {
        return j.undo(new Journal.Report() {
            @Override
            public void undone(String what) {
                say(what);
            }

            @Override
            public void failed(String entry, Exception cause) {
                String why = cause.getMessage();
                if (entry.startsWith("tun ") && cause instanceof NativeException n && n.errno() == EBUSY) {
                    why = entry.substring(4) + " is held open by a running `jvs-agent run`; stop it (SIGTERM), "
                            + "which runs down itself";
                }
                out.println("jvs-agent: cannot undo '" + entry + "': " + why);
            }
        });
    }

    private static final int EBUSY = 16;
}
