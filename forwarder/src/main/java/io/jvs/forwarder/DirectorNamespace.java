package io.jvs.forwarder;

import io.jvs.forwarder.io.TapDevice;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.sys.Journal;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;
import io.jvs.sys.RtNetlink;
import io.jvs.sys.RtNetlink6;
import io.jvs.sys.Sysctl;

import java.io.IOException;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything the director changes in its network namespace: the forwarding sysctl, and in TAP
 * mode the TAP device, the routes into it (VIPs, FULLNAT local addresses, the NAT reply table's
 * default route; IPv4 and IPv6) and the policy rules that steer NAT replies into it. Each change is journalled
 * before it is made ({@link Journal}, the one jvs-agent keeps, here in memory), a change that
 * fails is forgotten again, and {@link #undo} puts everything back newest first, checking the
 * kernel before each undo (so what is already gone, e.g. routes that went with the TAP, is
 * skipped). Thread-safe through the journal: changes come from the starting thread and the
 * event loop, the undo from the thread that stops the director.
 */
final class DirectorNamespace {
    /** Routing table for NAT replies steered into the TAP (TAP mode). */
    static final int TAP_REPLY_TABLE = 4242;
    static final int TAP_RULE_PRIORITY = 4242;

    private final Journal journal = Journal.inMemory();
    /** The TAP device (TAP mode) and the interfaces NAT replies may arrive on (every --lan). */
    private final String tap;
    private final List<String> lans;
    /** TAP mode: the default route of TAP_REPLY_TABLE exists (event loop only). */
    private boolean tapReplyRoute;
    /** TAP mode: the NAT real servers whose replies are routed into the TAP already. */
    private final Set<Integer> replyRouted = new HashSet<>();
    /** TAP mode: the IPv6 VIPs and local addresses routed into the TAP (event loop only). */
    private final Set<Ipv6Address> routed6 = new HashSet<>();
    /** IPv4 VIPs and local addresses routed into the TAP so far (their routes stay until the director stops). */
    private final Set<Integer> routed = new HashSet<>();
    /** TAP mode: the IPv6 default route of TAP_REPLY_TABLE exists (event loop only). */
    private boolean tapReplyRoute6;
    /** TAP mode: the IPv6 NAT real servers whose replies are routed into the TAP already. */
    private final Set<Ipv6Address> replyRouted6 = new HashSet<>();

    DirectorNamespace(String tap, List<String> lans) {
        this.tap = tap;
        this.lans = List.copyOf(lans);
    }

    private interface Change<T> {
        T make() throws IOException;
    }

    /** Journals {@code entry}, then makes the change; a change that fails is forgotten again. */
    private <T> T change(String entry, Change<T> change) throws IOException {
        journal.record(entry);
        try {
            return change.make();
        } catch (IOException | RuntimeException e) {
            journal.abandon(entry);
            throw e;
        }
    }

    /** Sets a sysctl (nothing is changed, or journalled, when it has the value already). */
    void sysctl(String key, String value) throws IOException {
        String before = Sysctl.get(key);
        if (!before.equals(value)) {
            change(Journal.sysctl(key, before), () -> {
                Sysctl.set(key, value);
                return null;
            });
        }
    }

    /** TAP mode: creates the TAP device (up, NOARP; not persistent: it goes when its fd is closed). */
    TapDevice createTap(int slots) throws IOException {
        return change(Journal.tap(tap), () -> TapDevice.create(tap, slots));
    }

    /**
     * TAP mode with several workers: queue {@code queue} of the multi-queue TAP (queue 0 creates
     * the device and is journalled as {@link #createTap} is; the others only attach to it).
     */
    TapDevice createTapQueue(int queue, int slots) throws IOException {
        if (queue == 0) {
            return change(Journal.tap(tap), () -> TapDevice.createQueue(tap, 0, slots));
        }
        try {
            return TapDevice.createQueue(tap, queue, slots);
        } catch (NativeException e) {
            throw new IOException("TAP " + tap + " queue " + queue + ": " + e.getMessage(), e);
        }
    }

    /** TAP mode, on the event loop, for a VIP just published: the VIP is routed into the TAP. A failure is reported, not thrown. */
    void routeVip(int vip) {
        if (!routed.add(vip)) {
            return; // routed when it was first published (a VIP removed and added again keeps its route)
        }
        try {
            routeIntoTap(vip, 32, Libc.ifNameToIndex(tap), RtNetlink.RT_TABLE_MAIN);
        } catch (IOException e) {
            System.err.println("jvs: routing VIP " + Ipv4Address.toString(vip) + " into " + tap + " failed: "
                    + e.getMessage());
        }
    }

    /**
     * TAP mode, on the event loop, for an IPv6 VIP or local address just published: an on-link /128
     * into the TAP, so the kernel forwards its packets there (the FULLNAT replies to a local address
     * as the clients' packets to a VIP). A failure is reported, not thrown.
     */
    void routeIntoTap6(Ipv6Address addr) {
        if (!routed6.add(addr)) {
            return; // routed when it was first published (a VIP removed and added again keeps its route)
        }
        try {
            routeIntoTap6(addr, 128, Libc.ifNameToIndex(tap), RtNetlink.RT_TABLE_MAIN);
        } catch (IOException e) {
            System.err.println("jvs: routing " + addr + " into " + tap + " failed: " + e.getMessage());
        }
    }

    /**
     * TAP mode, on the event loop, for every published table: the replies of each NAT real server
     * not seen before are routed into the TAP (a rule per server and --lan: from RIP iif LAN lookup
     * TAP_REPLY_TABLE, whose default route is the TAP), whether its VIP is new or the server was
     * added to a VIP published earlier. A failure is reported, not thrown.
     */
    void routeNatReplies(ServiceTable table) {
        Set<Integer> natServers = new LinkedHashSet<>();
        Set<Ipv6Address> natServers6 = new LinkedHashSet<>();
        for (VirtualService s : table.services()) {
            for (RealServer d : s.dests) {
                if (d.method != ForwardMethod.NAT) {
                    continue;
                }
                if (!d.ipv6 && !replyRouted.contains(d.addr)) {
                    natServers.add(d.addr);
                } else if (d.ipv6 && !replyRouted6.contains(new Ipv6Address(d.addr6Hi, d.addr6Lo))) {
                    natServers6.add(new Ipv6Address(d.addr6Hi, d.addr6Lo));
                }
            }
        }
        if (!natServers6.isEmpty()) {
            routeNatReplies6(natServers6);
        }
        if (natServers.isEmpty()) {
            return;
        }
        try {
            if (!tapReplyRoute) {
                routeIntoTap(0, 0, Libc.ifNameToIndex(tap), TAP_REPLY_TABLE);
                tapReplyRoute = true;
            }
            // One rule per --lan: the reply arrives by whichever interface leads to its server.
            for (int rip : natServers) {
                for (String lan : lans) {
                    change(Journal.rule(rip, 32, lan, TAP_REPLY_TABLE, TAP_RULE_PRIORITY), () -> {
                        RtNetlink.rule(true, rip, 32, lan, TAP_REPLY_TABLE, TAP_RULE_PRIORITY);
                        return null;
                    });
                }
                replyRouted.add(rip);
            }
        } catch (IOException e) {
            System.err.println("jvs: routing NAT replies into " + tap + " failed: " + e.getMessage());
        }
    }

    /**
     * As the IPv4 rules: per IPv6 NAT real server and --lan, from RIP/128 iif LAN lookup
     * TAP_REPLY_TABLE, whose IPv6 default route is the TAP (the IPv6 rules and tables are the
     * kernel's second, separate set, so the table number is shared with IPv4's without clashing).
     */
    private void routeNatReplies6(Set<Ipv6Address> natServers6) {
        try {
            if (!tapReplyRoute6) {
                routeIntoTap6(Ipv6Address.UNSPECIFIED, 0, Libc.ifNameToIndex(tap), TAP_REPLY_TABLE);
                tapReplyRoute6 = true;
            }
            for (Ipv6Address rip : natServers6) {
                for (String lan : lans) {
                    change(Journal.rule6(rip, 128, lan, TAP_REPLY_TABLE, TAP_RULE_PRIORITY), () -> {
                        RtNetlink6.rule(true, rip, 128, lan, TAP_REPLY_TABLE, TAP_RULE_PRIORITY);
                        return null;
                    });
                }
                replyRouted6.add(rip);
            }
        } catch (IOException e) {
            System.err.println("jvs: routing IPv6 NAT replies into " + tap + " failed: " + e.getMessage());
        }
    }

    /** An on-link IPv6 route addr/len into the TAP, in {@code table}. */
    private void routeIntoTap6(Ipv6Address addr, int len, int tapIndex, int table) throws IOException {
        change(Journal.route6(addr, len, tap, table), () -> {
            RtNetlink6.route("add", new RtNetlink6.Route(addr, len, Ipv6Address.UNSPECIFIED, tapIndex, 0, table, 0, 0));
            return null;
        });
    }

    /** TAP mode, on the event loop: FULLNAT replies to a local address are routed into the TAP like VIP traffic. */
    void routeLocalAddr(int lip) {
        if (!routed.add(lip)) {
            return; // as routeVip
        }
        try {
            routeIntoTap(lip, 32, Libc.ifNameToIndex(tap), RtNetlink.RT_TABLE_MAIN);
        } catch (IOException e) {
            System.err.println("jvs: routing local address " + Ipv4Address.toString(lip) + " into " + tap
                    + " failed: " + e.getMessage());
        }
    }

    /** An on-link route addr/len into the TAP, in {@code table}. */
    private void routeIntoTap(int addr, int len, int tapIndex, int table) throws IOException {
        change(Journal.route(addr, len, tap, table, RtNetlink.SCOPE_LINK), () -> {
            RtNetlink.deviceRoute(true, addr, len, tapIndex, table);
            return null;
        });
    }

    /**
     * Undoes every change, newest first, checking the kernel first; what cannot be undone is
     * reported on stderr. Call it after the data path has stopped (the TAP's fd closed).
     */
    void undo() {
        try {
            journal.undo(new Journal.Report() {
                @Override
                public void undone(String what) {
                    // quiet: the director's own changes going away is the normal end
                }

                @Override
                public void failed(String entry, Exception cause) {
                    System.err.println("jvs: cleanup: cannot undo '" + entry + "': " + cause.getMessage());
                }
            });
        } catch (IOException e) {
            System.err.println("jvs: cleanup: " + e.getMessage());
        }
    }
}
