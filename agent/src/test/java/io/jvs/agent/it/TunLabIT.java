package io.jvs.agent.it;

import io.jvs.forwarder.it.ForwarderProcess;
import io.jvs.forwarder.it.Exec;
import io.jvs.forwarder.it.Lab;
import io.jvs.forwarder.it.LabExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent in the lab: TUN real server ts1 (10.0.2.11, jvs-agent run --mode tun,
 * director 10.0.0.2 allowed) receives IPIP and GUE built by a test relay in the
 * director namespace; DR real servers configured by the agent serve HTTP
 * through the real jvs director; the userspace decapsulation rate is measured.
 */
class TunLabIT {
    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--tun-servers", "2");
    static final String TS1 = Lab.PREFIX + "ts1";
    static final String TS1_IP = "10.0.2.11";
    static final String DIRECTOR_MAC = "02:6a:76:00:00:02";

    static long metric(String name) {
        String m = Ns.in(TS1, "curl", "-s", "--max-time", "3", "http://127.0.0.1:9120/metrics").requireOk().stdout();
        return m.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> (long) Double.parseDouble(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(name + " missing\n" + m));
    }

    static Process start(List<String> cmd, Path log) throws Exception {
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    static void awaitLine(Path log, String text) throws Exception {
        for (int i = 0; i < 300; i++) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + text + "' in " + log + ":\n" + Files.readString(log));
    }

    static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void ipipAndGueReachUdpAndTcpServersOnTheVipAndRepliesBypassTheDirector() throws Exception {
        assertEquals(0, Ns.agent(TS1, "check", "--mode", "tun", "--vip", Lab.VIP, "--director", Lab.DIRECTOR_IP,
                "--state", LAB.lab().state().resolve("ts1/agent.state").toString()).exitCode(), "the lab's ts1 passes check");
        Path dir = Files.createDirectories(LAB.lab().repo().resolve("agent/target/it-logs"));
        Path echoLog = dir.resolve("udp-echo.log");
        Process echo = start(Ns.tool(TS1, 120, "udp-echo", Lab.VIP, "9999", "100"), echoLog);
        LAB.lab().resetDirector();
        try {
            awaitLine(echoLog, "listening");
            // Nothing may come back through the director: count packets from the VIP arriving there.
            Exec.run(Duration.ofSeconds(10), List.of("ip", "netns", "exec", Lab.DIRECTOR, "nft",
                    "add table ip jvs_agent_it; add chain ip jvs_agent_it pre { type filter hook prerouting priority 0; }; "
                            + "add rule ip jvs_agent_it pre ip saddr " + Lab.VIP + " counter")).requireOk();
            Exec.run(Duration.ofSeconds(10), List.of("ip", "-n", Lab.ROUTER, "neigh", "replace", Lab.VIP, "lladdr",
                    DIRECTOR_MAC, "dev", Lab.ROUTER_LAN_IFACE, "nud", "permanent")).requireOk();
            Ns.in(Lab.DIRECTOR, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1").requireOk();
            for (String encap : List.of("ipip", "gue")) {
                long before = metric("jvs_agent_decapsulated_packets_total{encap=\"" + encap + "\"}");
                Path relayLog = dir.resolve("relay-" + encap + ".log");
                Process relay = start(Ns.tool(Lab.DIRECTOR, 60, "relay", encap, "jvsrelay0", TS1_IP, "40"), relayLog);
                try {
                    awaitLine(relayLog, "relay ready");
                    Exec.run(Duration.ofSeconds(10), List.of("ip", "-n", Lab.DIRECTOR, "route", "replace", Lab.VIP + "/32",
                            "dev", "jvsrelay0")).requireOk();
                    Exec.Result ping = Ns.runTool(Lab.CLIENT, 60, "udp-ping", Lab.VIP, "9999", "10");
                    assertTrue(ping.stdout().contains("replies 10 from " + Lab.VIP), encap + ": UDP\n" + ping.describe());
                    List<Lab.Transfer> ts = LAB.lab().getRepeatedly("http://" + Lab.VIP + "/", 10, Duration.ofSeconds(60));
                    assertEquals(10, ts.size());
                    assertTrue(ts.stream().allMatch(t -> t.ok() && t.body().equals("ts1")), encap + ": TCP " + ts);
                } finally {
                    stop(relay);
                }
                assertTrue(metric("jvs_agent_decapsulated_packets_total{encap=\"" + encap + "\"}") >= before + 21,
                        encap + " packets were decapsulated by the agent");
            }
            String counter = Ns.in(Lab.DIRECTOR, "nft", "list", "table", "ip", "jvs_agent_it").requireOk().stdout();
            assertTrue(counter.contains("counter packets 0 bytes 0"), "no reply passed the director:\n" + counter);
        } finally {
            Exec.run(Duration.ofSeconds(10), List.of("ip", "netns", "exec", Lab.DIRECTOR, "nft", "delete", "table", "ip", "jvs_agent_it"));
            Ns.in(Lab.DIRECTOR, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
            LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
            stop(echo);
        }
    }

    @Test
    void encapsulatedPacketsFromOtherSourcesAreDroppedAndCounted() throws Exception {
        Path log = Files.createDirectories(LAB.lab().repo().resolve("agent/target/it-logs")).resolve("udp-echo-stranger.log");
        Process echo = start(Ns.tool(TS1, 60, "udp-echo", Lab.VIP, "9997", "40"), log);
        try {
            awaitLine(log, "listening");
            long before = metric("jvs_agent_dropped_packets_total{reason=\"not_director\"}");
            for (String encap : List.of("ipip", "gue")) {
                Ns.runTool(Lab.CLIENT, 30, "send", encap, TS1_IP, Lab.CLIENT_IP, Lab.VIP, "9997", "x20").requireOk();
            }
            long dropped = 0;
            for (int i = 0; i < 50 && dropped < 40; i++) {
                Thread.sleep(100);
                dropped = metric("jvs_agent_dropped_packets_total{reason=\"not_director\"}") - before;
            }
            assertEquals(40, dropped, "every packet from the client 10.0.1.2 (not an allowed director) is dropped and counted");
        } finally {
            stop(echo);
        }
        assertFalse(Files.readString(log).contains("echo "), "nothing was injected:\n" + Files.readString(log));
    }

    @Test
    void drThroughTheDirectorWithAgentConfiguredRealServers() throws Exception {
        for (int rs = 1; rs <= 2; rs++) {
            Exec.Result c = Ns.agent(Lab.rsNamespace(rs), "check", "--mode", "dr", "--vip", Lab.VIP, "--iface", "eth0");
            assertEquals(0, c.exitCode(), "rs" + rs + " is configured by the agent\n" + c.describe());
        }
        LAB.lab().resetDirector();
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        Path conf = Files.createDirectories(LAB.lab().repo().resolve("agent/target/it-logs")).resolve("dr.conf");
        Files.writeString(conf, "-A -t %1$s:80 -s rr\n-a -t %1$s:80 -r %2$s:80 -g -w 1\n-a -t %1$s:80 -r %3$s:80 -g -w 1\n"
                .formatted(Lab.VIP, Lab.rsIp(1), Lab.rsIp(2)));
        try (ForwarderProcess d = ForwarderProcess.start(LAB.lab(), "agent-dr", "127.0.0.1:9111",
                List.of("--attach", "packet:eth0", "--config", conf.toString(), "--metrics", "127.0.0.1:9111"))) {
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly("http://" + Lab.VIP + "/", 50, Duration.ofSeconds(120));
            assertEquals(50, ts.size());
            assertTrue(ts.stream().allMatch(t -> t.ok() && (t.body().equals("rs1") || t.body().equals("rs2"))), ts.toString());
        }
    }

    /** Not an assertion of speed (the machine is shared): prints pps of plain UDP vs userspace IPIP/GUE decapsulation. */
    @Test
    void decapsulationRate() throws Exception {
        StringBuilder report = new StringBuilder("decapsulation rate, 64-byte UDP from the director to ts1, 4 s each:\n");
        for (String mode : List.of("plain", "ipip", "gue")) {
            String dst = mode.equals("plain") ? TS1_IP : Lab.VIP;
            Path log = LAB.lab().repo().resolve("agent/target/it-logs/sink-" + mode + ".log");
            Process sink = start(Ns.tool(TS1, 40, "udp-sink", dst, "9996", "8"), log);
            awaitLine(log, "listening");
            Exec.Result sent = Ns.runTool(Lab.DIRECTOR, 20, "send", mode, TS1_IP, Lab.DIRECTOR_IP, dst, "9996", "4").requireOk();
            assertTrue(sink.waitFor(40, TimeUnit.SECONDS));
            String got = Files.readString(log).lines().filter(l -> l.startsWith("received")).findFirst().orElse("?");
            report.append(String.format("  %-5s %s | %s%n", mode, sent.stdout().strip(), got));
            assertFalse(got.startsWith("received 0"), mode + ": " + got);
        }
        System.out.print(report);
        Files.writeString(LAB.lab().repo().resolve("agent/target/it-logs/decap-rate.txt"), report);
    }
}
