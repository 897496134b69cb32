package io.jvs.agent;

import io.jvs.sys.Journal;
import io.jvs.agent.AgentOptions.Command;
import io.jvs.agent.AgentOptions.Mode;
import io.jvs.agent.AgentOptions.UsageException;
import io.jvs.sys.Inet;
import io.jvs.sys.NativeException;
import io.jvs.sys.PrivilegeDrop;
import io.jvs.sys.Privileges;
import io.jvs.sys.RtNetlink;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * jvs-agent: configures, checks and reverts what a real server needs for
 * LVS DR, TUN, NAT and FULLNAT. Exit status: 0 done, 1 failed (or check
 * found a FAIL), 2 bad usage. Every input is validated before anything is
 * changed.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int status = run(args);
        if (status >= 0) {
            System.exit(status);
        }
    }

    static int run(String[] args) {
        AgentOptions o;
        String iface;
        Privileges.Account account = null;
        try {
            o = AgentOptions.parse(args, System.getenv());
            if (o.command() == Command.HELP) {
                System.out.print(AgentOptions.usage());
                return 0;
            }
            if (o.user().isPresent()) {
                try {
                    account = PrivilegeDrop.account(o.user().get());
                } catch (IOException e) {
                    throw new UsageException(e.getMessage());
                }
            }
            if (o.command() != Command.CHECK && !Host.hasNetAdmin()) {
                System.err.println("jvs-agent: " + o.command().name().toLowerCase()
                        + ": missing privilege CAP_NET_ADMIN (run as root)");
                return 1;
            }
            iface = o.command() == Command.DOWN ? null : resolveIface(o);
        } catch (UsageException e) {
            System.err.println("jvs-agent: " + e.getMessage());
            return 2;
        } catch (NativeException e) {
            System.err.println("jvs-agent: " + e.getMessage());
            return 1;
        }
        try {
            return switch (o.command()) {
                case UP -> up(o, iface);
                case DOWN -> down(o);
                case CHECK -> check(o, iface);
                case RUN -> daemon(o, iface, account);
                case HELP -> 0;
            };
        } catch (IOException | RuntimeException e) {
            System.err.println("jvs-agent: " + o.command().name().toLowerCase() + " failed: " + e.getMessage()
                    + (o.command() == Command.UP ? " (what was changed is journalled in " + o.state()
                    + "; jvs-agent down --state " + o.state() + " undoes it)" : ""));
            return 1;
        }
    }

    /** The LAN interface: --iface (which must exist), else the default route's. */
    static String resolveIface(AgentOptions o) throws UsageException, NativeException {
        if (o.mode() == null) {
            return null;
        }
        if (o.directorZone().isPresent()) {
            String z = o.directorZone().get();
            if (RtNetlink.link(z).isEmpty()) {
                throw new UsageException("--director: zone '" + z + "' is not an interface");
            }
        }
        if (o.iface().isPresent()) {
            String name = o.iface().get();
            if (RtNetlink.link(name).isEmpty()) {
                throw new UsageException("--iface: interface '" + name + "' does not exist");
            }
            if (name.equals("lo")) {
                throw new UsageException("--iface: lo is not a LAN interface");
            }
            return name;
        }
        List<RtNetlink.RouteEntry> defs = Host.defaultRoutes();
        if (!defs.isEmpty() && defs.get(0).oif() != 0) {
            return Host.linkName(defs.get(0).oif());
        }
        List<io.jvs.sys.RtNetlink6.Route> defs6 = Host.defaultRoutes6();
        if (!defs6.isEmpty() && defs6.get(0).oif() != 0) {
            return Host.linkName(defs6.get(0).oif());
        }
        throw new UsageException("--iface: no default route to take the LAN interface from; name it with --iface");
    }

    static int up(AgentOptions o, String iface) throws IOException {
        int n = new Applier(System.out).up(o, iface);
        if (n == 0) {
            System.out.println("jvs-agent: up (" + o.mode().word() + "): already as required, nothing changed");
        } else {
            System.out.println("jvs-agent: up (" + o.mode().word() + "): " + n + " change(s), journalled in " + o.state());
        }
        return 0;
    }

    static int down(AgentOptions o) throws IOException {
        Journal j = Applier.journal(o);
        if (!j.exists() || j.entries().isEmpty()) {
            if (j.exists()) {
                Files.delete(o.state());
            }
            System.out.println("jvs-agent: down: nothing applied (no changes journalled in " + o.state() + ")");
            return 0;
        }
        int n = j.entries().size();
        if (new Applier(System.out).down(j)) {
            System.out.println("jvs-agent: down: undid " + n + " change(s); removed " + o.state());
            return 0;
        }
        System.err.println("jvs-agent: down: some changes could not be undone (above); they stay in " + o.state());
        return 1;
    }

    static int check(AgentOptions o, String iface) throws NativeException {
        List<Doctor.Item> items = Doctor.check(o, iface);
        int fails = 0;
        for (Doctor.Item i : items) {
            System.out.println(i.line());
            if (i.verdict() == Doctor.Verdict.FAIL) {
                fails++;
            }
        }
        System.out.println("jvs-agent: check (" + o.mode().word() + "): "
                + (fails == 0 ? "all requirements met" : fails + " requirement(s) not met"));
        return fails == 0 ? 0 : 1;
    }

    /**
     * The capabilities jvs-agent run keeps after --user, on jvs-admin only (the thread that runs
     * down at SIGTERM): CAP_NET_ADMIN to undo addresses, routes, links, the TUN device and net
     * sysctls; CAP_DAC_OVERRIDE to rewrite or delete the state file, which lives in a directory of
     * root's (/run/jvs-agent). Nothing else needs one once everything is open: the raw IPIP and
     * GUE sockets and the TUN device are open fds (reading and writing them checks nothing), the
     * HTTP port is bound, and /health's checks only read (/proc/sys, rtnetlink dumps).
     */
    static final int[] KEPT_AFTER_DROP = {Privileges.CAP_NET_ADMIN, Privileges.CAP_DAC_OVERRIDE};

    /** run: up, decapsulate (tun without kernel ipip), serve /health and /metrics; SIGTERM/SIGINT run down. */
    static int daemon(AgentOptions o, String iface, Privileges.Account account) throws IOException {
        Applier applier = new Applier(System.out);
        try {
            applier.up(o, iface);
        } catch (IOException | RuntimeException e) {
            System.err.println("jvs-agent: run: up failed: " + e.getMessage() + "; reverting");
            new Applier(System.out).down(Applier.journal(o));
            return 1;
        }
        DecapCounters counters = null;
        Decapsulator decap = null;
        AgentHttp metrics = null;
        try {
            if (o.mode() == Mode.TUN && !Applier.kernelTunnel(o)) {
                counters = new DecapCounters();
                decap = new Decapsulator(o.directors(), o.directors6(), o.vips(), o.vips6(), counters);
                decap.start(o.tunDevice(), o.guePort());
                System.out.println("jvs-agent: decapsulating " + Decapsulator.encaps(o)
                        + " from " + Doctor.directors(o) + " into " + o.tunDevice());
            }
            if (o.metrics().isPresent()) {
                AgentMetrics m = new AgentMetrics(o.mode().word(), o.vips(), o.vips6(), counters);
                metrics = AgentHttp.start(o.metrics().get(), m::scrape, () -> health(o, iface));
                String host = o.metrics().get().getHostString();
                System.out.println("jvs-agent: /health and /metrics on http://"
                        + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + metrics.localAddress().getPort() + "/");
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("jvs-agent: run: " + e.getMessage() + "; reverting");
            if (metrics != null) {
                metrics.close();
            }
            if (decap != null) {
                decap.close();
            }
            new Applier(System.out).down(Applier.journal(o));
            return 1;
        }
        PrivilegeDrop privilege = null;
        if (account != null) {
            try {
                privilege = PrivilegeDrop.drop(account, KEPT_AFTER_DROP);
            } catch (IOException | RuntimeException e) {
                System.err.println("jvs-agent: run: --user " + account.name() + ": " + e.getMessage() + "; reverting");
                if (metrics != null) {
                    metrics.close();
                }
                if (decap != null) {
                    decap.close();
                }
                new Applier(System.out).down(Applier.journal(o));
                return 1;
            }
            System.out.println("jvs-agent: running as " + account.name() + " (uid " + account.uid() + ", gid "
                    + account.gid() + "), CAP_NET_ADMIN and CAP_DAC_OVERRIDE kept on jvs-admin only, no_new_privs");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Decapsulator d = decap;
        AgentHttp ms = metrics;
        Runnable revert = () -> {
            try {
                new Applier(System.out).down(Applier.journal(o));
            } catch (IOException | RuntimeException e) {
                System.err.println("jvs-agent: down failed: " + e.getMessage() + " (state kept in " + o.state() + ")");
            }
        };
        PrivilegeDrop kept = privilege;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("jvs-agent: stopping; reverting");
            if (ms != null) {
                ms.close();
            }
            if (d != null) {
                d.close();
            }
            if (kept != null) {
                kept.runPrivileged(revert); // on jvs-admin: undoing needs CAP_NET_ADMIN
                kept.close();
            } else {
                revert.run();
            }
            System.out.flush();
            stopped.countDown();
        }, "jvs-agent-stop"));
        System.out.println("jvs-agent: running (" + o.mode().word() + ", VIPs " + Doctor.vips(o) + ")");
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }

    private static AgentHttp.Page health(AgentOptions o, String iface) {
        try {
            List<Doctor.Item> fails = Doctor.check(o, iface).stream()
                    .filter(i -> i.verdict() == Doctor.Verdict.FAIL).toList();
            if (fails.isEmpty()) {
                return new AgentHttp.Page(200, "ok\n");
            }
            return new AgentHttp.Page(503, fails.stream().map(Doctor.Item::line).collect(Collectors.joining("\n")) + "\n");
        } catch (NativeException e) {
            return new AgentHttp.Page(503, "check failed: " + e.getMessage() + "\n");
        }
    }

    static String fmt(int a) {
        return Inet.format(a);
    }
}
