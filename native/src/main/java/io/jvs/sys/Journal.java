package io.jvs.sys;

import io.jvs.packet.Ipv6Address;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The undo journal of what a jvs program changes in its network namespace: one line per
 * change, recorded BEFORE the change is made, replayed newest first to undo everything.
 * jvs-agent keeps it in a file ({@link #open}), written and forced to disk before each
 * change, so {@code jvs-agent down} undoes everything even after a crash at any point;
 * the director keeps it in memory ({@link #inMemory}) and undoes it when it stops. Lines
 * (fields separated by one space; each built by the static method of the same name):
 *
 * <pre>
 *   sysctl KEY OLD-VALUE                 restore the old value
 *   addr DEV A.B.C.D/LEN LABEL           delete the address (if present)
 *   route A.B.C.D/LEN DEV TABLE SCOPE    delete the on-link route (if present)
 *   rule A.B.C.D/LEN IIF TABLE PRIORITY  delete the policy rule "from A.B.C.D/LEN iif IIF lookup TABLE" (if present)
 *   tun DEV | tap DEV                    delete the persistent TUN/TAP device (if present)
 *   linkup DEV                           set the device down again (if present)
 *   defroute GW DEV METRIC PROTO [PREFSRC] | defroute none   put the main default route back as it was
 *   addr6 DEV ADDR/LEN                   delete the IPv6 address (if present)
 *   defroute6 GW DEV METRIC PROTO | defroute6 none  put the main IPv6 default route back as it was
 *                                        (GW may be link-local: DEV is its zone)
 * </pre>
 *
 * Every undo is idempotent (it checks the kernel's view first), so a line written just
 * before a crash, for a change that never happened, undoes nothing. Invariant:
 * {@link #undo} replays lines newest first and keeps (in a file: rewrites the file with)
 * exactly the lines that could not be undone; an empty file journal is deleted.
 *
 * <p>Thread-safe (one monitor): the director records from its event loop and undoes from
 * the thread that stops it.
 */
public final class Journal implements AutoCloseable {
    /** Called after each line is recorded, before the change is made (jvs-agent's crash test hook). */
    @FunctionalInterface
    public interface RecordHook {
        void recorded(int count, String entry);
    }

    /** What undo tells its caller: each undone line, and each line that could not be undone. */
    public interface Report {
        /** A change put back, e.g. "restored net.ipv4.ip_forward 1 -> 0"; nothing for lines with nothing to undo. */
        void undone(String what);

        /** {@code entry} could not be undone; it stays journalled. */
        void failed(String entry, Exception cause);
    }

    private final Path file;
    private final String header;
    private final List<String> entries;
    private final RecordHook hook;
    private FileChannel out;
    private int recorded;

    private Journal(Path file, String header, List<String> entries, RecordHook hook) {
        this.file = file;
        this.header = header;
        this.entries = entries;
        this.hook = hook;
    }

    /**
     * The journal in {@code file} (read when it exists, created on the first record).
     *
     * @param header the comment line written first in a new file
     */
    public static Journal open(Path file, String header, RecordHook hook) throws IOException {
        List<String> e = new ArrayList<>();
        if (present(file)) {
            for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!l.isBlank() && !l.startsWith("#")) {
                    e.add(l.strip());
                }
            }
        }
        return new Journal(file, header, e, hook);
    }

    /** A journal that lives as long as the process (the director's: it undoes it itself when it stops). */
    public static Journal inMemory() {
        return new Journal(null, null, new ArrayList<>(), (n, e) -> { });
    }

    /** The file, or empty for an in-memory journal. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** A file journal whose file exists; an in-memory one always exists. */
    public synchronized boolean exists() {
        return file == null || present(file);
    }

    public synchronized List<String> entries() {
        return List.copyOf(entries);
    }

    /** Appends one undo line (and forces it to disk) before the change it undoes is made. */
    public synchronized void record(String entry) throws IOException {
        if (file != null) {
            if (out == null) {
                Path dir = file.toAbsolutePath().getParent();
                if (dir != null) {
                    Files.createDirectories(dir);
                }
                boolean fresh = !present(file) || Files.size(file) == 0;
                out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND);
                if (fresh) {
                    out.write(StandardCharsets.UTF_8.encode(header + "\n"));
                }
            }
            out.write(StandardCharsets.UTF_8.encode(entry + "\n"));
            out.force(true);
        }
        entries.add(entry);
        recorded++;
        hook.recorded(recorded, entry);
    }

    /**
     * Forgets the newest {@code entry}: the change it was recorded for failed, so there is
     * nothing to undo (and undoing it could remove what someone else made).
     */
    public synchronized void abandon(String entry) throws IOException {
        int i = entries.lastIndexOf(entry);
        if (i >= 0) {
            List<String> rest = new ArrayList<>(entries);
            rest.remove(i);
            rewrite(rest);
        }
    }

    /**
     * Undoes every line, newest first, each after checking the kernel's view; returns whether
     * all were undone. What could not be undone stays journalled (and is reported).
     */
    public synchronized boolean undo(Report report) throws IOException {
        List<String> newestFirst = new ArrayList<>(entries);
        Collections.reverse(newestFirst);
        List<String> failed = new ArrayList<>();
        for (String e : newestFirst) {
            try {
                undo(e, report);
            } catch (IOException | RuntimeException ex) {
                report.failed(e, ex);
                failed.add(0, e);
            }
        }
        rewrite(failed);
        return failed.isEmpty();
    }

    /** Rewrites the journal with what is left to undo (a file journal with nothing left is deleted). */
    private void rewrite(List<String> remaining) throws IOException {
        close();
        entries.clear();
        entries.addAll(remaining);
        if (file == null) {
            return;
        }
        if (remaining.isEmpty()) {
            Files.deleteIfExists(file);
            return;
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, header + "\n" + String.join("\n", remaining) + "\n");
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public synchronized void close() throws IOException {
        if (out != null) {
            out.close();
            out = null;
        }
    }

    // ---------------------------------------------------------------- the lines

    public static String sysctl(String key, String oldValue) {
        return "sysctl " + key + " " + oldValue;
    }

    public static String addr(String dev, int addr, int prefixLen, String label) {
        return "addr " + dev + " " + Inet.format(addr) + "/" + prefixLen + " " + label;
    }

    /** An on-link route (no gateway) through {@code dev}, as RtNetlink.deviceRoute and RtNetlink.route add them. */
    public static String route(int dst, int dstLen, String dev, int table, int scope) {
        return "route " + Inet.format(dst) + "/" + dstLen + " " + dev + " " + table + " " + scope;
    }

    /** A policy rule as RtNetlink.rule adds it: from SRC/LEN iif IIF lookup TABLE priority PRIORITY. */
    public static String rule(int src, int srcLen, String iif, int table, int priority) {
        return "rule " + Inet.format(src) + "/" + srcLen + " " + iif + " " + table + " " + priority;
    }

    public static String tun(String dev) {
        return "tun " + dev;
    }

    public static String tap(String dev) {
        return "tap " + dev;
    }

    public static String linkUp(String dev) {
        return "linkup " + dev;
    }

    /** The main table's default route as it was (to be put back), named by its device. */
    public static String defaultRoute(RtNetlink.RouteEntry r, String dev) {
        return "defroute " + Inet.format(r.gateway()) + " " + dev + " " + r.priority() + " " + r.protocol() + " "
                + Inet.format(r.prefsrc());
    }

    /** There was no default route (the one to be added is deleted again). */
    public static String noDefaultRoute() {
        return "defroute none";
    }

    public static String addr6(String dev, Ipv6Address addr, int prefixLen) {
        return "addr6 " + dev + " " + addr + "/" + prefixLen;
    }

    /** An on-link IPv6 route (no gateway) through {@code dev}, as RtNetlink6.route adds the TAP's. */
    public static String route6(Ipv6Address dst, int dstLen, String dev, int table) {
        return "route6 " + dst + "/" + dstLen + " " + dev + " " + table;
    }

    /** An IPv6 policy rule as RtNetlink6.rule adds it: from SRC/LEN iif IIF lookup TABLE priority PRIORITY. */
    public static String rule6(Ipv6Address src, int srcLen, String iif, int table, int priority) {
        return "rule6 " + src + "/" + srcLen + " " + iif + " " + table + " " + priority;
    }

    /** The main table's IPv6 default route as it was (to be put back), named by its device. */
    public static String defaultRoute6(RtNetlink6.Route r, String dev) {
        return "defroute6 " + r.gateway() + " " + dev + " " + r.metric() + " " + r.protocol();
    }

    /** There was no IPv6 default route (the one to be added is deleted again). */
    public static String noDefaultRoute6() {
        return "defroute6 none";
    }

    // ---------------------------------------------------------------- undo, checking first

    private static void undo(String e, Report report) throws IOException {
        String[] f = e.split(" ");
        switch (f[0]) {
            case "sysctl" -> {
                Optional<String> cur = sysctl(f[1]);
                if (cur.isPresent() && !cur.get().equals(f[2])) {
                    Sysctl.set(f[1], f[2]);
                    report.undone("restored " + f[1] + " " + cur.get() + " -> " + f[2]);
                }
            }
            case "addr" -> {
                Optional<RtNetlink.Link> l = RtNetlink.link(f[1]);
                int slash = f[2].indexOf('/');
                int a = Inet.parse(f[2].substring(0, slash));
                int len = Integer.parseInt(f[2].substring(slash + 1));
                if (l.isPresent() && RtNetlink.labeledAddresses().stream()
                        .anyMatch(x -> x.ifindex() == l.get().index() && x.addr() == a)) {
                    RtNetlink.address(false, l.get().index(), a, len, null);
                    report.undone("deleted " + f[2] + " dev " + f[1]);
                }
            }
            case "route" -> {
                Optional<RtNetlink.Link> l = RtNetlink.link(f[2]);
                int slash = f[1].indexOf('/');
                int a = Inet.parse(f[1].substring(0, slash));
                int len = Integer.parseInt(f[1].substring(slash + 1));
                int table = Integer.parseInt(f[3]);
                if (l.isPresent()) {
                    for (RtNetlink.RouteEntry r : RtNetlink.routeEntries()) {
                        if (r.dst() == a && r.dstLen() == len && r.oif() == l.get().index() && r.table() == table
                                && r.gateway() == 0) {
                            RtNetlink.route("del", r);
                            report.undone("deleted route " + f[1] + " dev " + f[2] + " table " + table);
                        }
                    }
                }
            }
            case "rule" -> {
                int slash = f[1].indexOf('/');
                int a = Inet.parse(f[1].substring(0, slash));
                int len = Integer.parseInt(f[1].substring(slash + 1));
                try {
                    RtNetlink.rule(false, a, len, f[2], Integer.parseInt(f[3]), Integer.parseInt(f[4]));
                    report.undone("deleted rule from " + f[1] + " iif " + f[2] + " lookup " + f[3]);
                } catch (NativeException ex) {
                    if (ex.errno() != ENOENT) {   // ENOENT: the kernel has no such rule, nothing to undo
                        throw ex;
                    }
                }
            }
            case "tun", "tap" -> {
                if (RtNetlink.link(f[1]).isPresent()) {
                    if (f[0].equals("tun")) {
                        Tun.deletePersistentTun(f[1]);
                    } else {
                        Tun.deletePersistentTap(f[1]);
                    }
                    report.undone("deleted " + f[0].toUpperCase(java.util.Locale.ROOT) + " device " + f[1]);
                }
            }
            case "linkup" -> {
                Optional<RtNetlink.Link> l = RtNetlink.link(f[1]);
                if (l.isPresent() && l.get().up()) {
                    NetDevice.changeFlags(f[1], 0, NetDevice.IFF_UP);
                    report.undone("set " + f[1] + " down");
                }
            }
            case "defroute" -> {
                List<RtNetlink.RouteEntry> defs = RtNetlink.mainDefaultRoutes();
                if (f[1].equals("none")) {
                    for (RtNetlink.RouteEntry r : defs) {
                        if (r.priority() == 0) {
                            RtNetlink.route("del", r);
                            report.undone("deleted the default route via " + Inet.format(r.gateway()));
                        }
                    }
                } else {
                    int gw = Inet.parse(f[1]);
                    int oif = RtNetlink.link(f[2]).map(RtNetlink.Link::index).orElse(0);
                    int prio = Integer.parseInt(f[3]);
                    int proto = Integer.parseInt(f[4]);
                    int prefsrc = f.length > 5 ? Inet.parse(f[5]) : 0;
                    boolean same = defs.stream().anyMatch(r -> r.priority() == prio && r.gateway() == gw
                            && r.protocol() == proto && r.prefsrc() == prefsrc && (oif == 0 || r.oif() == oif));
                    if (!same) {
                        RtNetlink.route("replace", new RtNetlink.RouteEntry(0, 0, gw, oif, prio,
                                RtNetlink.RT_TABLE_MAIN, RtNetlink.SCOPE_UNIVERSE, proto, prefsrc));
                        report.undone("restored the default route via " + f[1] + " dev " + f[2]);
                    }
                }
            }
            case "addr6" -> {
                Optional<RtNetlink.Link> l = RtNetlink.link(f[1]);
                int slash = f[2].indexOf('/');
                Ipv6Address a = Ipv6Address.parse(f[2].substring(0, slash));
                int len = Integer.parseInt(f[2].substring(slash + 1));
                if (l.isPresent() && RtNetlink6.addresses().stream()
                        .anyMatch(x -> x.ifindex() == l.get().index() && x.addr().equals(a))) {
                    RtNetlink6.address(false, l.get().index(), a, len, false);
                    report.undone("deleted " + f[2] + " dev " + f[1]);
                }
            }
            case "defroute6" -> {
                List<RtNetlink6.Route> defs = RtNetlink6.mainDefaultRoutes();
                if (f[1].equals("none")) {
                    for (RtNetlink6.Route r : defs) {
                        if (r.metric() == RtNetlink6.DEFAULT_METRIC && r.protocol() == RtNetlink.PROTO_STATIC) {
                            RtNetlink6.route("del", r);
                            report.undone("deleted the IPv6 default route via " + r.gateway());
                        }
                    }
                } else {
                    Ipv6Address gw = Ipv6Address.parse(f[1]);
                    int oif = RtNetlink.link(f[2]).map(RtNetlink.Link::index).orElse(0);
                    int metric = Integer.parseInt(f[3]);
                    int proto = Integer.parseInt(f[4]);
                    boolean same = defs.stream().anyMatch(r -> r.metric() == metric && r.gateway().equals(gw)
                            && r.protocol() == proto && (oif == 0 || r.oif() == oif));
                    if (!same) {
                        RtNetlink6.route("replace", new RtNetlink6.Route(Ipv6Address.UNSPECIFIED, 0, gw, oif, metric,
                                RtNetlink.RT_TABLE_MAIN, proto, RtNetlink6.RTN_UNICAST));
                        report.undone("restored the IPv6 default route via " + f[1] + " dev " + f[2]);
                    }
                }
            }
            case "route6" -> {
                Optional<RtNetlink.Link> l = RtNetlink.link(f[2]);
                int slash = f[1].indexOf('/');
                Ipv6Address a = Ipv6Address.parse(f[1].substring(0, slash));
                int len = Integer.parseInt(f[1].substring(slash + 1));
                int table = Integer.parseInt(f[3]);
                if (l.isPresent()) {
                    for (RtNetlink6.Route r : RtNetlink6.routes()) {
                        if (r.dst().equals(a) && r.dstLen() == len && r.oif() == l.get().index() && r.table() == table
                                && !r.hasGateway()) {
                            RtNetlink6.route("del", r);
                            report.undone("deleted route " + f[1] + " dev " + f[2] + " table " + table);
                        }
                    }
                }
            }
            case "rule6" -> {
                int slash = f[1].indexOf('/');
                Ipv6Address a = Ipv6Address.parse(f[1].substring(0, slash));
                int len = Integer.parseInt(f[1].substring(slash + 1));
                try {
                    RtNetlink6.rule(false, a, len, f[2], Integer.parseInt(f[3]), Integer.parseInt(f[4]));
                    report.undone("deleted rule from " + f[1] + " iif " + f[2] + " lookup " + f[3]);
                } catch (NativeException ex) {
                    if (ex.errno() != ENOENT) {   // ENOENT: the kernel has no such rule, nothing to undo
                        throw ex;
                    }
                }
            }
            default -> throw new IOException("unknown journal line");
        }
    }

    private static final int ENOENT = 2;

    /**
     * Whether the journal file is there, by lstat. Not {@code Files.exists(file)}: the JDK answers
     * that with access(2), which checks the REAL uid and ignores the thread's capabilities; after
     * {@code jvs-agent run --user} the thread that undoes (uid nobody, CAP_DAC_OVERRIDE) would see
     * no journal in root's directory, and undo nothing (found by AgentIT).
     */
    private static boolean present(Path file) {
        return Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /** The sysctl's value, or empty when it does not exist (e.g. a device that is gone). */
    private static Optional<String> sysctl(String key) {
        try {
            return Optional.of(Sysctl.get(key));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
