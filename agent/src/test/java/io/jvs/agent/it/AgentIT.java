package io.jvs.agent.it;

import io.jvs.forwarder.it.Exec;
import io.jvs.forwarder.it.Lab;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jvs-agent up/check/down against the kernel, in one namespace of its own
 * ({@code <prefix>agent-t}: lo, a veth pair eth0/peer0 10.9.0.11/24, default
 * via 10.9.0.1); it never touches the lab or the root namespace. Each
 * requirement is read back from the kernel (/proc/sys, ip addr, ip route), and
 * a snapshot of every sysctl of net.ipv4.conf plus addresses, links and
 * routes must be byte-identical after down, also after a crash mid-way.
 */
class AgentIT {
    static final String NS = Lab.PREFIX + "agent-t";
    static final String VIP = "10.0.0.100";
    static final String DIRECTOR = "10.9.0.2";
    static final String VIP6 = "2001:db8::100";
    static final String DIRECTOR6 = "2001:db8:9::2";
    static final String ETH0_6 = "2001:db8:9::11";
    static Path state;

    @BeforeAll
    static void namespace() throws Exception {
        Exec.run(Duration.ofSeconds(10), List.of("ip", "netns", "del", NS));   // a leftover of an aborted run
        state = Files.createTempDirectory("jvs-agent-it").resolve("state");
        for (String c : List.of("ip netns add " + NS, "ip -n " + NS + " link set lo up",
                // dual-stack; no DAD, so no address is ever tentative and the snapshots do not race it
                "ip netns exec " + NS + " sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0",
                "ip -n " + NS + " link add eth0 type veth peer name peer0",
                "ip -n " + NS + " addr add 10.9.0.11/24 dev eth0", "ip -n " + NS + " addr add " + ETH0_6 + "/64 dev eth0",
                "ip -n " + NS + " link set eth0 up", "ip -n " + NS + " link set peer0 up",
                "ip -n " + NS + " route add default via 10.9.0.1", "ip -n " + NS + " -6 route add default via 2001:db8:9::1")) {
            Exec.run(Duration.ofSeconds(10), List.of(c.split(" "))).requireOk();
        }
    }

    @AfterAll
    static void removeNamespace() {
        Exec.run(Duration.ofSeconds(10), List.of("ip", "netns", "del", NS)).requireOk();
    }

    /**
     * Every net.ipv4.conf and net.ipv6.conf sysctl (stable_secret, unreadable while unset, aside), the
     * links, addresses and all routing tables of both families, as the kernel shows them.
     */
    static String snapshot() {
        return Ns.sh(NS, "grep -r . /proc/sys/net/ipv4/conf/ | sort; { grep -rs . /proc/sys/net/ipv6/conf/ || true; } | sort; "
                + "ip -d link show | grep -v 'link/'; ip addr show; ip route show table all; ip -6 route show table all; "
                + "ip rule show; ip -6 rule show").requireOk().stdout();
    }

    static String sysctl(String key) {
        return Ns.in(NS, "cat", "/proc/sys/" + key.replace('.', '/')).requireOk().stdout().strip();
    }

    static String[] dr(String cmd) {
        return new String[] {cmd, "--mode", "dr", "--vip", VIP, "--state", state.toString()};
    }

    static String[] tun(String cmd) {
        return new String[] {cmd, "--mode", "tun", "--vip", VIP, "--director", DIRECTOR, "--state", state.toString(),
                "--metrics", "127.0.0.1:9121"};
    }

    static Exec.Result down() {
        return Ns.agent(NS, "down", "--state", state.toString());
    }

    @Test
    void drUpCheckDown() {
        String before = snapshot();
        Exec.Result up = Ns.agent(NS, dr("up")).requireOk();
        for (String dev : List.of("all", "lo", "eth0")) {
            assertEquals("1", sysctl("net.ipv4.conf." + dev + ".arp_ignore"), dev + "\n" + up.stdout());
            assertEquals("2", sysctl("net.ipv4.conf." + dev + ".arp_announce"), dev);
        }
        assertTrue(Ns.in(NS, "ip", "-4", "addr", "show", "dev", "lo").requireOk().stdout()
                .contains("inet " + VIP + "/32 scope global lo:0"), "VIP on lo as lo:0");
        assertTrue(Ns.in(NS, "ip", "route", "show", "table", "main").requireOk().stdout()
                .contains(VIP + " dev lo proto static scope link"), "host route on lo");
        Exec.Result check = Ns.agent(NS, dr("check"));
        assertEquals(0, check.exitCode(), check.describe());
        assertFalse(check.stdout().contains("FAIL"), check.stdout());
        String applied = snapshot();
        Exec.Result again = Ns.agent(NS, dr("up")).requireOk();
        assertTrue(again.stdout().contains("nothing changed"), again.stdout());
        assertEquals(applied, snapshot(), "up twice changes nothing");
        assertTrue(down().requireOk().stdout().contains("undid 8 change(s)"));
        assertEquals(before, snapshot(), "down restores everything");
        Exec.Result none = down().requireOk();
        assertTrue(none.stdout().contains("nothing applied"), none.stdout());
    }

    @Test
    void tunUpRunCheckDown() throws Exception {
        Ns.in(NS, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1").requireOk();
        try {
            String before = snapshot();
            Ns.agent(NS, tun("up")).requireOk();
            assertEquals("2", sysctl("net.ipv4.conf.jvs-tun0.rp_filter"));
            assertEquals("1", sysctl("net.ipv4.conf.all.rp_filter"), "all is left alone: loose on the device suffices");
            assertTrue(Ns.in(NS, "ip", "-4", "addr", "show", "dev", "jvs-tun0").requireOk().stdout()
                    .contains("inet " + VIP + "/32 scope global jvs-tun0"));
            assertTrue(Ns.in(NS, "ip", "link", "show", "jvs-tun0").requireOk().stdout().contains(",UP"));
            Exec.Result noDecap = Ns.agent(NS, tun("check"));
            assertEquals(1, noDecap.exitCode(), "without run nothing decapsulates\n" + noDecap.stdout());
            assertTrue(noDecap.stdout().contains("FAIL IPIP receiver"), noDecap.stdout());
            // run attaches to the device up made, and on SIGTERM reverts everything.
            Process run = new ProcessBuilder(List.of("ip", "netns", "exec", NS, Ns.AGENT, tun("run")[0], "--mode", "tun",
                    "--vip", VIP, "--director", DIRECTOR, "--state", state.toString(), "--metrics", "127.0.0.1:9121"))
                    .redirectErrorStream(true).redirectOutput(state.resolveSibling("run.log").toFile()).start();
            try {
                String health = "";
                for (int i = 0; i < 300 && !health.equals("ok"); i++) {
                    Thread.sleep(100);
                    health = Ns.in(NS, "curl", "-s", "--max-time", "1", "http://127.0.0.1:9121/health").stdout().strip();
                }
                assertEquals("ok", health, Files.readString(state.resolveSibling("run.log")));
                Exec.Result check = Ns.agent(NS, tun("check"));
                assertEquals(0, check.exitCode(), check.describe());
                String metrics = Ns.in(NS, "curl", "-s", "--max-time", "2", "http://127.0.0.1:9121/metrics").requireOk().stdout();
                for (String m : List.of("jvs_agent_load_average{period=\"1m\"}", "jvs_agent_vip_established_connections{vip=\"10.0.0.100\"} 0",
                        "jvs_agent_decapsulated_packets_total{encap=\"ipip\"} 0", "jvs_agent_dropped_packets_total{reason=\"not_director\"} 0")) {
                    assertTrue(metrics.contains(m), m + "\n" + metrics);
                }
            } finally {
                run.destroy();   // SIGTERM to the agent (ip netns exec and bin/jvs-agent exec it)
                assertTrue(run.waitFor(30, TimeUnit.SECONDS), "agent stops on SIGTERM");
            }
            String log = Files.readString(state.resolveSibling("run.log"));
            assertTrue(log.contains("deleted TUN device jvs-tun0"), log);
            assertFalse(Files.exists(state), "run's down removed the state file");
            assertEquals(before, snapshot(), "run reverts everything on SIGTERM");
        } finally {
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0").requireOk();
        }
    }

    /** /proc/PID/task/TID/status as a map, plus the thread's name. */
    static Map<String, String> taskStatus(Path task) throws java.io.IOException {
        Map<String, String> m = new java.util.HashMap<>();
        for (String line : Files.readAllLines(task.resolve("status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                m.put(line.substring(0, colon), line.substring(colon + 1).strip());
            }
        }
        m.put("comm", Files.readString(task.resolve("comm")).strip());
        return m;
    }

    /**
     * run --user nobody: once up, every thread of the agent runs as nobody with no_new_privs and no
     * capability, except jvs-admin with exactly CAP_NET_ADMIN and CAP_DAC_OVERRIDE (effective,
     * permitted, bounding); /health still answers ok, and SIGTERM still reverts everything,
     * state file included (what jvs-admin kept them for).
     */
    @Test
    void runAsAnotherUserKeepsOnlyWhatDownNeeds() throws Exception {
        long kept = 1L << 12 | 1L << 1; // CAP_NET_ADMIN, CAP_DAC_OVERRIDE
        String nobody = Exec.run(Duration.ofSeconds(10), List.of("id", "-u", "nobody")).requireOk().stdout().strip();
        String nogroup = Exec.run(Duration.ofSeconds(10), List.of("id", "-g", "nobody")).requireOk().stdout().strip();
        String before = snapshot();
        Path log = state.resolveSibling("run-user.log");
        Process run = new ProcessBuilder(List.of("ip", "netns", "exec", NS, Ns.AGENT, "run", "--mode", "tun",
                "--vip", VIP, "--director", DIRECTOR, "--state", state.toString(), "--metrics", "127.0.0.1:9121",
                "--user", "nobody")).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String health = "";
            for (int i = 0; i < 300 && !health.equals("ok"); i++) {
                Thread.sleep(100);
                health = Ns.in(NS, "curl", "-s", "--max-time", "1", "http://127.0.0.1:9121/health").stdout().strip();
            }
            assertEquals("ok", health, Files.readString(log));
            for (int i = 0; i < 100 && !Files.readString(log).contains("running as nobody"); i++) {
                Thread.sleep(100);
            }
            assertTrue(Files.readString(log).contains("running as nobody"), Files.readString(log));
            List<Path> tasks;
            try (var l = Files.list(Path.of("/proc", Long.toString(run.pid()), "task"))) {
                tasks = l.toList();
            }
            assertTrue(tasks.size() > 5, "a JVM's threads: " + tasks.size());
            List<String> privileged = new java.util.ArrayList<>();
            for (Path t : tasks) {
                Map<String, String> st = taskStatus(t);
                String who = st.get("comm") + " (" + t.getFileName() + ")";
                assertEquals(String.join(" ", nobody, nobody, nobody, nobody), st.get("Uid").replaceAll("\\s+", " "), who);
                assertEquals(String.join(" ", nogroup, nogroup, nogroup, nogroup), st.get("Gid").replaceAll("\\s+", " "), who);
                assertEquals("1", st.get("NoNewPrivs"), who);
                assertEquals(0L, Long.parseUnsignedLong(st.get("CapInh"), 16), who);
                assertEquals(0L, Long.parseUnsignedLong(st.get("CapAmb"), 16), who);
                long eff = Long.parseUnsignedLong(st.get("CapEff"), 16);
                long prm = Long.parseUnsignedLong(st.get("CapPrm"), 16);
                assertEquals(prm, eff, who);
                if (prm != 0) {
                    assertEquals(kept, prm, who + ": CAP_NET_ADMIN and CAP_DAC_OVERRIDE only");
                    assertEquals(kept, Long.parseUnsignedLong(st.get("CapBnd"), 16), who + ": bounding set");
                    privileged.add(st.get("comm"));
                }
            }
            assertEquals(List.of("jvs-admin"), privileged, "the one thread that keeps capabilities");
            assertEquals("ok", Ns.in(NS, "curl", "-s", "--max-time", "2", "http://127.0.0.1:9121/health").stdout().strip(),
                    "/health as nobody");
        } finally {
            run.destroy();
            assertTrue(run.waitFor(30, TimeUnit.SECONDS), "agent stops on SIGTERM");
        }
        String out = Files.readString(log);
        boolean stateLeft = Files.exists(state);
        String after = snapshot();
        if (stateLeft) {
            down(); // as root, so that a failure here leaves nothing behind for the other tests
        }
        assertTrue(out.contains("deleted TUN device jvs-tun0"), out);
        assertFalse(out.contains("down failed"), out);
        assertFalse(stateLeft, "down as nobody (jvs-admin) removed the state file\n" + out);
        assertEquals(before, after, "run --user reverts everything on SIGTERM");

        // an unknown user: one line, exit 2, nothing touched
        Exec.Result bad = Ns.agent(NS, "run", "--mode", "tun", "--vip", VIP, "--director", DIRECTOR,
                "--state", state.toString(), "--metrics", "127.0.0.1:9121", "--user", "no-such-user-jvs");
        assertEquals(2, bad.exitCode(), bad.describe());
        assertEquals("jvs-agent: --user \"no-such-user-jvs\": no such user\n", bad.stderr(), bad.describe());
        Exec.Result notRun = Ns.agent(NS, concat("up", "--mode", "dr", "--vip", VIP, "--state", state.toString(),
                "--user", "nobody"));
        assertEquals(2, notRun.exitCode(), notRun.describe());
        assertEquals("jvs-agent: --user: only run drops privileges (up, down and check end at once)\n", notRun.stderr());
        assertEquals(before, snapshot(), "bad --user changes nothing");
        assertFalse(Files.exists(state));
    }

    @Test
    void downAfterACrashBetweenSteps() {
        for (String mode : List.of("dr", "tun")) {
            for (int k : mode.equals("dr") ? List.of(1, 3, 6, 7, 8) : List.of(1, 4, 5, 6, 7)) {
                String before = snapshot();
                String[] args = mode.equals("dr") ? dr("up") : tun("up");
                Exec.Result crashed = Ns.agent(NS, Map.of("JVS_AGENT_TEST_CRASH_AT", Integer.toString(k)), args);
                assertEquals(86, crashed.exitCode(), mode + " crash at " + k + "\n" + crashed.describe());
                down().requireOk();
                assertEquals(before, snapshot(), mode + ": down after a crash at step " + k + " restores everything");
                assertFalse(Files.exists(state));
            }
        }
    }

    @Test
    void checkNamesEachMisconfigurationWithItsFix() {
        Ns.agent(NS, dr("up")).requireOk();
        try {
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.arp_ignore=0").requireOk();
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv4.conf.all.arp_announce=1").requireOk();
            Ns.in(NS, "ip", "addr", "del", VIP + "/32", "dev", "lo").requireOk();
            Exec.Result c = Ns.agent(NS, dr("check"));
            assertEquals(1, c.exitCode(), c.describe());
            for (String line : List.of(
                    "FAIL arp_ignore on eth0 is 0, must be 1: sysctl -w net.ipv4.conf.eth0.arp_ignore=1",
                    "FAIL arp_announce on all is 1, must be 2: sysctl -w net.ipv4.conf.all.arp_announce=2",
                    "FAIL VIP 10.0.0.100 is not on lo: ip addr add 10.0.0.100/32 dev lo label lo:0",
                    "PASS arp_ignore on all is 1")) {
                assertTrue(c.stdout().contains(line), line + "\n" + c.stdout());
            }
        } finally {
            down().requireOk();
        }
        Ns.agent(NS, tun("up")).requireOk();
        try {
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.jvs-tun0.rp_filter=1").requireOk();
            Exec.Result c = Ns.agent(NS, tun("check"));
            String line = "FAIL rp_filter on jvs-tun0 is 1 (all: 1, effective 1), must be 2 (loose) or 0: "
                    + "sysctl -w net.ipv4.conf.jvs-tun0.rp_filter=2";
            assertTrue(c.stdout().contains(line), line + "\n" + c.stdout());
        } finally {
            down().requireOk();
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0").requireOk();
        }
        String before = snapshot();
        String[] nat = {"--mode", "nat", "--director", DIRECTOR, "--state", state.toString()};
        Exec.Result c = Ns.agent(NS, concat("check", nat));
        assertEquals(1, c.exitCode(), c.describe());
        String line = "FAIL default route is via 10.9.0.1, must be via the director 10.9.0.2: ip route replace default via 10.9.0.2";
        assertTrue(c.stdout().contains(line), line + "\n" + c.stdout());
        Exec.Result warn = Ns.agent(NS, concat("up", nat)).requireOk();
        assertTrue(warn.stdout().contains("WARNING: the default route is via 10.9.0.1"), warn.stdout());
        assertEquals(before, snapshot(), "nat without --fix only warns");
        Ns.agent(NS, concat("up", concat("--fix", nat))).requireOk();
        assertEquals(0, Ns.agent(NS, concat("check", nat)).exitCode());
        assertTrue(Ns.in(NS, "ip", "route", "show", "default").requireOk().stdout().contains("via 10.9.0.2"));
        down().requireOk();
        assertEquals(before, snapshot(), "down puts the default route back");
    }

    /**
     * DR and NAT over IPv6: the VIP as a /128 nodad on lo, proxy_ndp off (the one way the LAN could get
     * an answer for it), the IPv6 default route via the director (also a link-local one with its zone)
     * with no RA default routes; check names each misconfiguration; down restores the namespace exactly.
     */
    @Test
    void ipv6DrAndNatUpCheckDown() {
        Ns.in(NS, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.proxy_ndp=1").requireOk();
        try {
            String before = snapshot();
            String[] dr6 = {"--mode", "dr", "--vip", VIP6, "--state", state.toString()};
            Exec.Result up = Ns.agent(NS, concat("up", dr6)).requireOk();
            assertEquals("0", sysctl("net.ipv6.conf.eth0.proxy_ndp"), up.stdout());
            assertEquals("0", sysctl("net.ipv4.conf.eth0.arp_ignore"), "an IPv6 VIP needs no ARP sysctl");
            assertTrue(Ns.in(NS, "ip", "-6", "addr", "show", "dev", "lo").requireOk().stdout()
                    .contains("inet6 " + VIP6 + "/128 scope global nodad"), "VIP /128 nodad on lo");
            Exec.Result check = Ns.agent(NS, concat("check", dr6));
            assertEquals(0, check.exitCode(), check.describe());
            assertTrue(check.stdout().contains("PASS VIP 2001:db8::100 is on lo (/128, nodad)"), check.stdout());
            assertTrue(Ns.agent(NS, concat("up", dr6)).requireOk().stdout().contains("nothing changed"));
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv6.conf.all.proxy_ndp=1").requireOk();
            Ns.in(NS, "ip", "-6", "addr", "add", VIP6 + "/64", "dev", "eth0").requireOk();
            check = Ns.agent(NS, concat("check", dr6));
            assertEquals(1, check.exitCode(), check.describe());
            for (String line : List.of(
                    "FAIL proxy_ndp on all is 1, must be 0 (with forwarding on, a proxy entry would answer Neighbor "
                            + "Solicitations for the VIP): sysctl -w net.ipv6.conf.all.proxy_ndp=0",
                    "FAIL VIP 2001:db8::100 is on eth0 too (it would answer Neighbor Solicitations for it there): "
                            + "ip -6 addr del 2001:db8::100/64 dev eth0",
                    "PASS proxy_ndp on eth0 is 0")) {
                assertTrue(check.stdout().contains(line), line + "\n" + check.stdout());
            }
            Ns.in(NS, "ip", "-6", "addr", "del", VIP6 + "/64", "dev", "eth0").requireOk();
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv6.conf.all.proxy_ndp=0").requireOk();
            assertTrue(down().requireOk().stdout().contains("undid 2 change(s)"));
            assertEquals(before, snapshot(), "down restores everything (dr, IPv6)");
            for (int k : List.of(1, 2)) {   // 1: proxy_ndp journalled, not yet set; 2: the /128 journalled, not yet added
                Exec.Result crashed = Ns.agent(NS, Map.of("JVS_AGENT_TEST_CRASH_AT", Integer.toString(k)), concat("up", dr6));
                assertEquals(86, crashed.exitCode(), "crash at " + k + "\n" + crashed.describe());
                down().requireOk();
                assertEquals(before, snapshot(), "dr, IPv6: down after a crash at step " + k + " restores everything");
                assertFalse(Files.exists(state));
            }

            String[] nat6 = {"--mode", "nat", "--director", DIRECTOR6, "--state", state.toString()};
            Exec.Result c = Ns.agent(NS, concat("check", nat6));
            assertEquals(1, c.exitCode(), c.describe());
            for (String line : List.of("FAIL IPv6 default route is via 2001:db8:9::1 dev eth0, must be via the director "
                            + "2001:db8:9::2: ip -6 route replace default via 2001:db8:9::2",
                    "FAIL eth0 accepts default routes from Router Advertisements (accept_ra_defrtr 1 with accept_ra active), "
                            + "they would route replies around the director: sysctl -w net.ipv6.conf.eth0.accept_ra_defrtr=0")) {
                assertTrue(c.stdout().contains(line), line + "\n" + c.stdout());
            }
            assertTrue(Ns.agent(NS, concat("up", nat6)).requireOk().stdout().contains("WARNING: the IPv6 default route"));
            assertEquals(before, snapshot(), "nat without --fix only warns");
            Ns.agent(NS, concat("up", concat("--fix", nat6))).requireOk();
            assertEquals(0, Ns.agent(NS, concat("check", nat6)).exitCode());
            assertTrue(Ns.in(NS, "ip", "-6", "route", "show", "default").requireOk().stdout()
                    .contains("default via 2001:db8:9::2 dev eth0 proto static metric 1024"));
            assertEquals("0", sysctl("net.ipv6.conf.eth0.accept_ra_defrtr"));
            down().requireOk();
            assertEquals(before, snapshot(), "down puts the IPv6 default route back");

            String[] ll = {"--mode", "nat", "--director", "fe80::2%eth0", "--fix", "--state", state.toString()};
            Ns.agent(NS, concat("up", ll)).requireOk();
            assertTrue(Ns.in(NS, "ip", "-6", "route", "show", "default").requireOk().stdout()
                    .contains("default via fe80::2 dev eth0 proto static metric 1024"));
            down().requireOk();
            assertEquals(before, snapshot(), "down after a link-local gateway");
        } finally {
            Ns.in(NS, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.proxy_ndp=0", "net.ipv6.conf.all.proxy_ndp=0").requireOk();
        }
    }

    /**
     * TUN over IPv6 without ip6_tunnel or sit: run decapsulates IP6IP6, IPv4-in-IPv6, IPv6-in-IPv4 (SIT) and
     * GUE over IPv6 from the directors (local addresses on peer0 here) into jvs-tun0, where the kernel delivers the inner UDP to
     * a socket on the VIP; a stranger's packets are counted, not injected; SIGTERM restores everything.
     */
    @Test
    void ipv6TunRunDecapsulatesIp6ip6() throws Exception {
        String before = snapshot();
        Ns.in(NS, "ip", "-6", "addr", "add", DIRECTOR6 + "/128", "dev", "peer0").requireOk();
        Ns.in(NS, "ip", "-6", "addr", "add", "2001:db8:9::66/128", "dev", "peer0").requireOk();
        Ns.in(NS, "ip", "addr", "add", DIRECTOR + "/32", "dev", "peer0").requireOk();
        Path log = state.resolveSibling("run6.log");
        Process run = new ProcessBuilder(List.of("ip", "netns", "exec", NS, Ns.AGENT, "run", "--mode", "tun",
                "--vip", VIP6 + "," + VIP, "--director", DIRECTOR6 + "," + DIRECTOR, "--state", state.toString(),
                "--metrics", "[::1]:9121")).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Process sink6 = null;
        Process sink4 = null;
        try {
            String health = "";
            for (int i = 0; i < 300 && !health.equals("ok"); i++) {
                Thread.sleep(100);
                health = Ns.in(NS, "curl", "-s", "--max-time", "1", "http://[::1]:9121/health").stdout().strip();
            }
            assertEquals("ok", health, Files.readString(log));
            sink6 = new ProcessBuilder(Ns.tool(NS, 40, "udp-sink", VIP6, "9999", "14")).start();
            sink4 = new ProcessBuilder(Ns.tool(NS, 40, "udp-sink", VIP, "9999", "14")).start();
            Thread.sleep(2500);   // the sinks' JVMs bind
            for (String mode : List.of("ip6ip6", "gue6")) {
                Ns.runTool(NS, 20, "send6", mode, ETH0_6, "2001:db8:c::1", VIP6, "9999", "x20", DIRECTOR6).requireOk();
            }
            Ns.runTool(NS, 20, "send6", "ipip6", ETH0_6, "192.0.2.1", VIP, "9999", "x20", DIRECTOR6).requireOk();
            Ns.runTool(NS, 20, "send6", "sit", "10.9.0.11", "2001:db8:c::1", VIP6, "9999", "x20", DIRECTOR).requireOk();
            Ns.runTool(NS, 20, "send6", "ip6ip6", ETH0_6, "2001:db8:c::1", VIP6, "9999", "x5", "2001:db8:9::66").requireOk();
            String metrics = Ns.in(NS, "curl", "-s", "--max-time", "2", "http://[::1]:9121/metrics").requireOk().stdout();
            for (String m : List.of("jvs_agent_decapsulated_packets_total{encap=\"ip6ip6\"} 20",
                    "jvs_agent_decapsulated_packets_total{encap=\"gue\"} 20",
                    "jvs_agent_decapsulated_packets_total{encap=\"ipip6\"} 20",
                    "jvs_agent_decapsulated_packets_total{encap=\"sit\"} 20",
                    "jvs_agent_dropped_packets_total{reason=\"not_director\"} 5",
                    "jvs_agent_vip_established_connections{vip=\"2001:db8::100\"} 0")) {
                assertTrue(metrics.contains(m), m + "\n" + metrics);
            }
            Exec.Result check = Ns.agent(NS, "check", "--mode", "tun", "--vip", VIP6 + "," + VIP, "--director", DIRECTOR6 + "," + DIRECTOR,
                    "--state", state.toString());
            assertEquals(0, check.exitCode(), check.describe());
            assertTrue(sink6.waitFor(40, TimeUnit.SECONDS) && sink4.waitFor(40, TimeUnit.SECONDS), "sinks end");
            String got6 = new String(sink6.getInputStream().readAllBytes());
            String got4 = new String(sink4.getInputStream().readAllBytes());
            assertTrue(got6.contains("received 60 "), "IP6IP6, GUE6 and SIT reach the socket on the IPv6 VIP\n" + got6);
            assertTrue(got4.contains("received 20 "), "IPv4 in IPv6 reaches the socket on the IPv4 VIP\n" + got4);
        } finally {
            for (Process p : new Process[] {sink6, sink4}) {
                if (p != null) {
                    p.destroyForcibly();
                }
            }
            run.destroy();
            assertTrue(run.waitFor(30, TimeUnit.SECONDS), "agent stops on SIGTERM");
            Ns.in(NS, "ip", "-6", "addr", "del", DIRECTOR6 + "/128", "dev", "peer0");
            Ns.in(NS, "ip", "-6", "addr", "del", "2001:db8:9::66/128", "dev", "peer0");
            Ns.in(NS, "ip", "addr", "del", DIRECTOR + "/32", "dev", "peer0");
        }
        assertFalse(Files.exists(state), "run's down removed the state file\n" + Files.readString(log));
        assertEquals(before, snapshot(), "run reverts everything on SIGTERM (tun, IPv6)");
    }

    /**
     * The premise of IPv6 DR without an arp_ignore equivalent, on this kernel: with the VIP on lo of a
     * real server (jvs-agent up), a neighbour on its LAN gets no Neighbor Advertisement for the VIP
     * (its entry stays INCOMPLETE or FAILED), while the server's own LAN address resolves at once.
     * Two namespaces of its own (a client, a server) on a veth; NS is not touched.
     */
    @Test
    void ipv6DrVipIsNotAnsweredOnTheLan() throws Exception {
        String client = Lab.PREFIX + "agent-c";
        String server = Lab.PREFIX + "agent-s";
        Path st = state.resolveSibling("state-ndp");
        for (String n : List.of(client, server)) {
            Exec.run(Duration.ofSeconds(10), List.of("ip", "netns", "del", n));
        }
        try {
            for (String c : List.of("ip netns add " + client, "ip netns add " + server,
                    "ip -n " + client + " link add eth0 type veth peer name eth0 netns " + server,
                    "ip -n " + client + " addr add 2001:db8:7::1/64 dev eth0 nodad",
                    "ip -n " + server + " addr add 2001:db8:7::11/64 dev eth0 nodad",
                    "ip -n " + client + " link set eth0 up", "ip -n " + server + " link set eth0 up",
                    "ip -n " + server + " link set lo up",
                    "ip -n " + client + " -6 route add " + VIP6 + "/128 dev eth0")) {   // on-link: solicited on the wire
                Exec.run(Duration.ofSeconds(10), List.of(c.split(" "))).requireOk();
            }
            Ns.agent(server, "up", "--mode", "dr", "--vip", VIP6, "--iface", "eth0", "--state", st.toString()).requireOk();
            Exec.Result check = Ns.agent(server, "check", "--mode", "dr", "--vip", VIP6, "--iface", "eth0",
                    "--state", st.toString());
            assertEquals(0, check.exitCode(), check.describe());
            Exec.Result probe = Ns.sh(client, "echo x > /dev/udp/" + VIP6 + "/9; echo x > /dev/udp/2001:db8:7::11/9; "
                    + "sleep 1.5; ip -6 neigh show dev eth0");
            String neigh = probe.requireOk().stdout();
            assertTrue(neigh.matches("(?s).*2001:db8:7::11 lladdr \\S+ (REACHABLE|STALE|DELAY|PROBE).*"),
                    "the server's LAN address resolves\n" + neigh);
            assertTrue(neigh.matches("(?s).*" + VIP6 + " (INCOMPLETE|FAILED).*"), "no NA for the VIP on lo\n" + neigh);
            Ns.agent(server, "down", "--state", st.toString()).requireOk();
        } finally {
            for (String n : List.of(client, server)) {
                Exec.run(Duration.ofSeconds(10), List.of("ip", "netns", "del", n));
            }
        }
    }

    @Test
    void badInputChangesNothing() {
        String before = snapshot();
        record Case(List<String> args, String message, int exit) {
        }
        String st = state.toString();
        for (Case k : List.of(
                new Case(List.of("up", "--mode", "ipvs", "--vip", VIP, "--state", st), "--mode: unknown mode 'ipvs'", 2),
                new Case(List.of("up", "--mode", "dr", "--vip", "10.0.0.300", "--state", st),
                        "--vip: '10.0.0.300' is not an IPv4 address", 2),
                new Case(List.of("up", "--mode", "dr", "--vip", VIP, "--iface", "eth9", "--state", st),
                        "--iface: interface 'eth9' does not exist", 2),
                new Case(List.of("up", "--mode", "tun", "--vip", VIP, "--state", st), "--director: missing", 2),
                new Case(List.of("up", "--mode", "dr", "--vip", "fe80::100", "--state", st),
                        "--vip: 'fe80::100' is link-local: a VIP is a global address", 2),
                new Case(List.of("up", "--mode", "dr", "--vip", VIP6 + ",2001:db8::1::2", "--state", st),
                        "--vip: '2001:db8::1::2' is not an IPv6 address", 2),
                new Case(List.of("up", "--mode", "nat", "--director", "fe80::1", "--fix", "--state", st),
                        "--director: 'fe80::1' is link-local without a zone", 2),
                new Case(List.of("up", "--mode", "nat", "--director", "fe80::1%eth7", "--fix", "--state", st),
                        "--director: zone 'eth7' is not an interface", 2))) {
            Exec.Result r = Ns.agent(NS, k.args().toArray(String[]::new));
            assertEquals(k.exit(), r.exitCode(), r.describe());
            assertEquals(1, r.stderr().strip().lines().count(), "one line\n" + r.stderr());
            assertTrue(r.stderr().contains(k.message()), k.message() + "\n" + r.stderr());
        }
        Exec.Result r = Ns.in(Duration.ofSeconds(60), NS, "setpriv", "--bounding-set", "-net_admin", Ns.AGENT, "up", "--mode", "dr",
                "--vip", VIP, "--state", st);
        assertEquals(1, r.exitCode(), r.describe());
        assertEquals("jvs-agent: up: missing privilege CAP_NET_ADMIN (run as root)", r.stderr().strip());
        assertEquals(before, snapshot(), "bad input changes nothing");
        assertFalse(Files.exists(state));
    }

    static String[] concat(String first, String... rest) {
        String[] a = new String[rest.length + 1];
        a[0] = first;
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }
}
