package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packet mode's kernel ingress drop ({@code io.IngressDrop}) in the lab, DR over rs1 and rs2: 40
 * GETs through the VIP reach both real servers in every run. The director namespace's own IP
 * stack counts, in /proc/net/snmp's Ip InAddrErrors, every frame to the VIP it receives (the VIP
 * is not its address and forwarding is off, so it can only drop them): with
 * {@code --kernel-ingress-drop 0} it grows by at least one per GET (a GET is a SYN, an ACK, a
 * request and a FIN from the client at least); with the drop (the default, as root and after
 * {@code --user nobody}, whose event loop fills the program's map) it does not grow at all. IPv6
 * (NAT over rs1, rs2 to [2001:db8::100]): /proc/net/snmp6's Ip6InAddrErrors grows by at least one
 * per GET less with the drop than without (the real servers' replies to the client still reach the
 * kernel, both ways). A VIP whose service {@code jvsadm -D} removes leaves the map (either family):
 * pings to it reach the kernel again.
 */
@Timeout(300)
class IngressDropIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final int GETS = 40;

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);
    ForwarderProcess director;

    @AfterEach
    void stopDirector() {
        ForwarderProcess.stopAndResetLab(director, LAB.lab());
        director = null;
    }

    /** The director namespace's Ip InAddrErrors (/proc/net/snmp: a header line, then a value line). */
    static long inAddrErrors() {
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(10), Lab.DIRECTOR, "cat", "/proc/net/snmp");
        assertTrue(r.ok(), r.describe());
        String[] header = null;
        for (String line : r.stdout().split("\n")) {
            if (!line.startsWith("Ip: ")) {
                continue;
            }
            String[] f = line.substring(4).trim().split("\\s+");
            if (header == null) {
                header = f;
            } else {
                for (int i = 0; i < header.length; i++) {
                    if (header[i].equals("InAddrErrors")) {
                        return Long.parseLong(f[i]);
                    }
                }
            }
        }
        throw new AssertionError("no Ip InAddrErrors in /proc/net/snmp:\n" + r.stdout());
    }

    static final String RULES = """
            -A -t %1$s:80 -s rr
            -a -t %1$s:80 -r %2$s:80 -g -w 1
            -a -t %1$s:80 -r %3$s:80 -g -w 1
            """.formatted(Lab.VIP, Lab.rsIp(1), Lab.rsIp(2));

    /**
     * Starts a DR director with these extra flags, makes the GETs; the growth of InAddrErrors
     * meanwhile. {@code --user} directors get the service from jvsadm after they have dropped
     * their privileges, so the VIP enters the program's map from the unprivileged event loop.
     */
    long getsThroughTheVip(String name, String... extra) {
        boolean user = List.of(extra).contains("--user");
        List<String> args = new ArrayList<>(List.of("--attach", "packet:eth0", "--workers", "1", "--metrics", METRICS));
        if (!user) {
            args.addAll(List.of("--config", LAB.lab().itFile("ingress-drop.conf", RULES).toString()));
        }
        args.addAll(List.of(extra));
        director = ForwarderProcess.start(LAB.lab(), name, METRICS, args);
        if (user) {
            for (String rule : RULES.strip().split("\n")) {
                jvsadm(rule.split(" "));
            }
        }
        return countedGets("http://" + Lab.VIP + "/", IngressDropIT::inAddrErrors);
    }

    /**
     * One GET first (the router learns the VIP's MAC, the director its neighbours), then {@link #GETS}
     * of them, each on a new connection, all answered by both real servers; the counter's growth over
     * those.
     */
    long countedGets(String url, LongSupplier counter) {
        assertTrue(LAB.lab().getRepeatedly(url, 1, Duration.ofSeconds(30), "-g", "-H", "Connection: close").get(0).ok(),
                director.logTail(20));
        long before = counter.getAsLong();
        List<Lab.Transfer> ts = LAB.lab().getRepeatedly(url, GETS, Duration.ofSeconds(60), "-g", "-H", "Connection: close");
        long grown = counter.getAsLong() - before;
        assertTrue(ts.stream().allMatch(Lab.Transfer::ok), "every GET through " + url + ": " + ts);
        assertEquals(2, ts.stream().map(Lab.Transfer::body).distinct().count(), "both real servers: " + ts);
        return grown;
    }

    /** The director namespace's Ip6InAddrErrors (/proc/net/snmp6: a name and a value per line). */
    static long ip6InAddrErrors() {
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(10), Lab.DIRECTOR, "cat", "/proc/net/snmp6");
        assertTrue(r.ok(), r.describe());
        for (String line : r.stdout().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 2 && f[0].equals("Ip6InAddrErrors")) {
                return Long.parseLong(f[1]);
            }
        }
        throw new AssertionError("no Ip6InAddrErrors in /proc/net/snmp6:\n" + r.stdout());
    }

    /** An IPv6 NAT director with these extra flags; the growth of Ip6InAddrErrors over the GETs to [VIP6]. */
    long getsThroughTheVip6(String name, String... extra) {
        startVip6Director(name, extra);
        long grown = countedGets("http://[" + ForwarderIT.Ipv6Scenario.VIP6 + "]/", IngressDropIT::ip6InAddrErrors);
        ForwarderProcess.stopAndResetLab(director, LAB.lab());
        director = null;
        return grown;
    }

    /** Starts the IPv6 NAT director with these extra flags (after the router forgot the VIP6's MAC). */
    void startVip6Director(String name, String... extra) {
        String vip6 = ForwarderIT.Ipv6Scenario.VIP6;
        Path conf = LAB.lab().itFile("ingress-drop6.conf", """
                -A -t [%1$s]:80 -s rr
                -a -t [%1$s]:80 -r [%2$s]:80 -m -w 1
                -a -t [%1$s]:80 -r [%3$s]:80 -m -w 1
                """.formatted(vip6, ForwarderIT.Ipv6Scenario.rsIp6(1), ForwarderIT.Ipv6Scenario.rsIp6(2)));
        LAB.lab().neighForget(Lab.ROUTER, vip6, Lab.ROUTER_LAN_IFACE);
        List<String> args = new ArrayList<>(List.of("--attach", "packet:eth0", "--workers", "1",
                "--config", conf.toString(), "--metrics", METRICS));
        args.addAll(List.of(extra));
        director = ForwarderProcess.start(LAB.lab(), name, METRICS, args);
        assertTrue(LAB.lab().getRepeatedly("http://[" + vip6 + "]/", 1, Duration.ofSeconds(30), "-g", "-H",
                "Connection: close").get(0).ok(), director.logTail(20)); // the router has learnt the VIP6's MAC
    }

    /**
     * IPv6: the client's frames to the VIP6 no longer reach the kernel; the real servers' NAT replies
     * (to the client's address) still do, both ways, so the test compares the two runs.
     */
    @Test
    void ipv6FramesToTheVip6NoLongerReachTheKernel() {
        long off = getsThroughTheVip6("ingress-drop6-off", "--kernel-ingress-drop", "0");
        long on = getsThroughTheVip6("ingress-drop6-on");
        assertTrue(off - on >= GETS, "Ip6InAddrErrors grew by " + off + " without the drop, " + on + " with it, for "
                + GETS + " GETs");
    }

    /**
     * A VIP whose service is removed leaves the drop's map: the frames the router still sends to the
     * director's MAC for it (3 SYNs to port 81, before and after) reach the director's kernel again,
     * as before jvs owned it (a stale entry would black-hole the address if the host then took it).
     */
    @Test
    void aRemovedVipsFramesReachTheKernelAgain() {
        assertEquals(0, getsThroughTheVip("ingress-drop-removed"), "InAddrErrors growth while the VIP is jvs's");
        String port81 = "http://" + Lab.VIP + ":81/"; // no service: jvs drops these SYNs, and so does the kernel
        assertEquals(0, connectsCounted(port81, IngressDropIT::inAddrErrors), "InAddrErrors while the VIP is jvs's");
        jvsadm("-D", "-t", Lab.VIP + ":80");
        assertTrue(connectsCounted(port81, IngressDropIT::inAddrErrors) >= 3,
                "InAddrErrors after the service's removal: " + director.logTail(10));
    }

    /** The same for an IPv6 VIP: its SYNs reach the kernel again (Ip6InAddrErrors). */
    @Test
    void aRemovedVip6sFramesReachTheKernelAgain() {
        String vip6 = ForwarderIT.Ipv6Scenario.VIP6;
        startVip6Director("ingress-drop6-removed");
        String port81 = "http://[" + vip6 + "]:81/";
        assertEquals(0, connectsCounted(port81, IngressDropIT::ip6InAddrErrors),
                "Ip6InAddrErrors while the VIP6 is jvs's");
        jvsadm("-D", "-t", "[" + vip6 + "]:80");
        assertTrue(connectsCounted(port81, IngressDropIT::ip6InAddrErrors) >= 3,
                "Ip6InAddrErrors after the service's removal: " + director.logTail(10));
    }

    /**
     * The counter's growth over 3 connection attempts from the client to url, each given 0.5 s (a
     * SYN each; none answered: the address has no service and is not the director's).
     */
    long connectsCounted(String url, LongSupplier counter) {
        long before = counter.getAsLong();
        for (int i = 0; i < 3; i++) {
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(10), Lab.CLIENT, "curl", "-g", "-s", "-o", "/dev/null",
                    "--max-time", "0.5", url);
            assertEquals(28, r.exitCode(), "a timeout expected: " + r.describe());
        }
        return counter.getAsLong() - before;
    }

    /** Runs jvsadm in the director's namespace; it must succeed. */
    void jvsadm(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
        cmd.addAll(List.of(args));
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.describe());
    }

    @Test
    void withoutTheDropTheKernelReceivesEveryFrameToTheVip() {
        long grown = getsThroughTheVip("ingress-drop-off", "--kernel-ingress-drop", "0");
        assertTrue(grown >= GETS, "InAddrErrors grew by " + grown + " for " + GETS + " GETs");
    }

    @Test
    void withTheDropTheKernelReceivesNone() {
        assertEquals(0, getsThroughTheVip("ingress-drop-on"), "InAddrErrors growth with the default drop");
    }

    @Test
    void afterDroppingPrivilegesTheMapStillFills() {
        assertEquals(0, getsThroughTheVip("ingress-drop-user", "--user", "nobody"),
                "InAddrErrors growth with --user nobody (the VIP put in the map after the drop)");
    }
}
