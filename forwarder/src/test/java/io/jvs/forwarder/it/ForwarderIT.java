package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * End-to-end: the forwarder in jvs-director load-balances HTTP from
 * jvs-client over two nginx real servers, for every attach mode
 * ({@code packet}, {@code tap}, {@code xdp}) and forwarding method (DR, NAT;
 * FULLNAT over XDP).
 *
 * <p>The lab comes up once for the class and goes down after it; each
 * {@link Scenario} starts its own forwarder and stops it. Within a scenario
 * the tests run in order and share {@link Scenario#connections}, the number
 * of TCP connections opened to the VIP since that forwarder started, which
 * the scheduler-order and counter tests check against.
 */
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
class ForwarderIT {
    static final String VIP_URL = "http://" + Lab.VIP + "/";
    static final String SERVICE = "TCP/" + Lab.VIP + ":80";
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    /** Shortened TIME_WAIT/FIN_WAIT/CLOSE timeouts (seconds) in the forwarder's config. */
    static final int STATE_TIMEOUT = 2;
    static final Duration DRAIN_LIMIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);

    enum Attach {
        PACKET, TAP, XDP
    }

    /** The FULLNAT scenario's local address (--laddr): on the LAN, answered by jvs's ARP, not the director's own. */
    static final String LIP = "10.0.0.3";

    enum Method {
        DR("-g"), NAT("-m"), FULLNAT("--fullnat");

        final String flag;

        Method(String flag) {
            this.flag = flag;
        }
    }

    @Nested
    @Order(1)
    @DisplayName("attach packet:eth0, DR")
    class PacketDr extends Scenario {
        PacketDr() {
            super(Attach.PACKET, Method.DR);
        }
    }

    @Nested
    @Order(2)
    @DisplayName("attach packet:eth0, NAT")
    class PacketNat extends Scenario {
        PacketNat() {
            super(Attach.PACKET, Method.NAT);
        }
    }

    @Nested
    @Order(3)
    @DisplayName("attach tap:jvs0 --lan eth0, DR")
    class TapDr extends Scenario {
        TapDr() {
            super(Attach.TAP, Method.DR);
        }
    }

    @Nested
    @Order(4)
    @DisplayName("attach tap:jvs0 --lan eth0, NAT")
    class TapNat extends Scenario {
        TapNat() {
            super(Attach.TAP, Method.NAT);
        }
    }

    @Nested
    @Order(5)
    @DisplayName("attach xdp:eth0, DR")
    class XdpDr extends Scenario {
        XdpDr() {
            super(Attach.XDP, Method.DR);
        }
    }

    @Nested
    @Order(6)
    @DisplayName("attach xdp:eth0, NAT")
    class XdpNat extends Scenario {
        XdpNat() {
            super(Attach.XDP, Method.NAT);
        }
    }

    /**
     * FULLNAT over XDP (issue 17): the client's packets to the VIP and the real servers' replies
     * to the local address both reach the AF_XDP socket (the program's address map holds the
     * local address as jvs's own).
     */
    @Nested
    @Order(7)
    @DisplayName("attach xdp:eth0, FULLNAT")
    class XdpFullNat extends Scenario {
        XdpFullNat() {
            super(Attach.XDP, Method.FULLNAT);
        }
    }

    /** The XDP attachment's program goes with the process, and what it refuses it refuses in one line. */
    @Nested
    @Order(8)
    @DisplayName("attach xdp: kill -9 and bad input")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    @Timeout(120)
    class XdpLifecycle {
        ForwarderProcess director;

        @RegisterExtension
        final DirectorLogOnFailure logOnFailure = new DirectorLogOnFailure(() -> director);

        @Test
        @Order(1)
        @DisplayName("after kill -9 no XDP program stays on eth0")
        void killNineLeavesNothingAttached() {
            LAB.lab().resetDirector();
            Path config = LAB.lab().itFile("xdp-kill.conf", "-A -t " + Lab.VIP + ":80 -s rr\n-a -t " + Lab.VIP
                    + ":80 -r " + Lab.rsIp(1) + ":80 -g\n");
            List<String> args = List.of("--attach", "xdp:eth0", "--config", config.toString(), "--metrics", METRICS);
            director = ForwarderProcess.start(LAB.lab(), "xdp-kill", METRICS, args);
            assertTrue(xdpProgramOnEth0().contains("name jvs_xdp"), "attached while running: " + xdpProgramOnEth0());
            assertEquals("rs1", LAB.lab().get(VIP_URL).strip(), "forwards through XDP before the kill");
            assertEquals(137, director.kill(), "SIGKILL's exit status");
            // The BPF link's fd closes with the process: the kernel detaches the program then.
            String left = xdpProgramOnEth0();
            for (int i = 0; i < 20 && !left.isEmpty(); i++) {
                Lab.pause(100);
                left = xdpProgramOnEth0();
            }
            assertEquals("", left, "no XDP program on eth0 after kill -9");
            // (after SIGTERM: each Scenario's stopRestoresTheNamespace)
        }

        /** Runs the forwarder, expecting a refusal: one line, exit 1, nothing attached anywhere. */
        String refused(String... attach) {
            LAB.lab().resetDirector();
            List<String> cmd = new ArrayList<>(List.of(ForwarderProcess.executable(LAB.lab()).toString()));
            cmd.addAll(List.of(attach));
            cmd.addAll(List.of("--metrics", "off", "--control", LAB.lab().state().resolve("xdp-bad.sock").toString()));
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(60), Lab.DIRECTOR, cmd.toArray(String[]::new));
            List<String> lines = (r.stdout() + r.stderr()).lines().filter(l -> !l.isBlank()).toList();
            String links = LAB.lab().ip(Lab.DIRECTOR, "-d", "link", "show").requireOk().stdout();
            assertAll(
                    () -> assertEquals(1, r.exitCode(), "exit status 1\n" + r.describe()),
                    () -> assertEquals(1, lines.size(), "one line\n" + r.describe()),
                    () -> assertFalse(links.contains("prog/xdp"), "no XDP program on any interface:\n" + links),
                    () -> assertEquals("0", LAB.lab().exec(Lab.DIRECTOR, "cat", "/proc/sys/net/ipv4/ip_forward")
                            .requireOk().stdout().strip(), "ip_forward untouched"),
                    () -> assertEquals(List.of(), LAB.lab().pidsIn(Lab.DIRECTOR), "nothing left running"));
            System.out.println("[xdp-bad] " + String.join(" ", attach) + " -> " + lines.getFirst());
            return lines.getFirst();
        }

        @Test
        @Order(2)
        @DisplayName("a queue the interface does not have: one line naming it, nothing attached")
        void queueThatDoesNotExist() {
            String line = refused("--attach", "xdp:eth0:7");
            assertTrue(line.contains("xdp:eth0:7") && line.contains("eth0 has no rx queue 7"), line);
        }

        @Test
        @Order(3)
        @DisplayName("an interface without native XDP (lo): one line naming it, nothing attached")
        void interfaceWithoutXdp() {
            String line = refused("--attach", "xdp:lo");
            assertTrue(line.contains("--attach xdp:lo") && line.contains("no native XDP"), line);
        }

        @Test
        @Order(4)
        @DisplayName("a program the verifier refuses: the refusal carries the verifier's last lines, on one line")
        void verifierRefusal() {
            // A packet read with no bounds check against data_end: every verifier refuses it.
            io.jvs.sys.BpfAssembler bad = new io.jvs.sys.BpfAssembler()
                    .load(io.jvs.sys.BpfAssembler.W, 2, 1, 0)
                    .load(io.jvs.sys.BpfAssembler.W, 0, 2, 0)
                    .exit();
            io.jvs.sys.Bpf.VerifierException e = org.junit.jupiter.api.Assertions.assertThrows(
                    io.jvs.sys.Bpf.VerifierException.class, () -> io.jvs.sys.Bpf.loadXdpProgram(bad.build(), "jvs_bad"));
            assertAll(
                    () -> assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage()),
                    () -> assertTrue(e.getMessage().startsWith("XDP program jvs_bad refused by the verifier ["),
                            e.getMessage()),
                    () -> assertTrue(e.getMessage().contains("invalid access to packet"), e.getMessage()),
                    () -> assertTrue(e.log().contains("R2"), "the whole log: " + e.log()));
            System.out.println("[xdp-bad] verifier: " + e.getMessage());
        }
    }

    @Nested
    @Order(8)
    @DisplayName("attach packet:eth0, IPv6 DR")
    class PacketDr6 extends Ipv6PacketScenario {
        PacketDr6() {
            super(Method.DR);
        }
    }

    @Nested
    @Order(9)
    @DisplayName("attach packet:eth0, IPv6 NAT")
    class PacketNat6 extends Ipv6PacketScenario {
        /** -f 5 -6, rr over both servers (NAT to :80), takes [VIP6]:8088 marked by --add-mark -6. */
        static final int MARK = 5;
        static final int MARKED_PORT = 8088;
        /** [VIP6]:8089 with --conn-limit 3, NAT to rs1:80. */
        static final int LIMITED_PORT = 8089;
        static final int CONN_LIMIT = 3;
        /** The fwmark test's client address (added for it on the client's eth0, deleted after). */
        static final String FWMARK_CLIENT6 = "2001:db8:1::3";
        /** [VIP6]:8090, NAT to rs1:80 only: a second VIP port onto the server port of [VIP6]:80. */
        static final int RS1_ONLY_PORT = 8090;

        PacketNat6() {
            super(Method.NAT);
        }

        @Test
        @Order(10)
        @DisplayName("IPv6 fwmark service: [VIP6]:8088 marked 5 by --add-mark -6 takes 20 new connections in rr order;"
                + " -L -n and -S show it as ipvsadm does")
        void fwmarkServiceTakesTheMarkedConnectionsInRoundRobin() {
            String url = "http://[" + VIP6 + "]:" + MARKED_PORT + "/";
            // From a client address of its own: the real servers hold TIME_WAIT sockets of the 200+
            // earlier connections from CLIENT6's ports to their :80, and a new SYN that one of them
            // turns away (its answer reset by the client) comes again 1 s later to a closed entry,
            // which is scheduled anew, as IPVS's conn_reuse_mode does: one rr pick more (seen in CI).
            LAB.lab().ip(Lab.CLIENT, "-6", "addr", "add", FWMARK_CLIENT6 + "/64", "dev", "eth0", "nodad").requireOk();
            List<Lab.Transfer> ts;
            try {
                ts = LAB.lab().getRepeatedly(url, 20, Duration.ofSeconds(60), "-g", "--interface", FWMARK_CLIENT6,
                        "-H", "Connection: close");
            } finally {
                LAB.lab().ip(Lab.CLIENT, "-6", "addr", "del", FWMARK_CLIENT6 + "/64", "dev", "eth0").requireOk();
            }
            List<String> got = ts.stream().map(Lab.Transfer::body).toList();
            List<String> want = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                want.add(i % 2 == 0 ? "rs2" : "rs1"); // IPVS lists the last added server first: rr starts there
            }
            List<String> wrong = new ArrayList<>();
            for (Lab.Transfer t : ts) {
                if (!t.ok() || t.numConnects() != 1 || !t.remote().equals(VIP6 + ":" + MARKED_PORT)) {
                    wrong.add("#" + t.index() + ": http " + t.httpCode() + " curl exit " + t.curlExit() + " "
                            + t.local() + " -> " + t.remote());
                }
            }
            String list = jvsadm("-L", "-n");
            String save = jvsadm("-S", "-n");
            say("20 x GET %s through -f %d -6: %s; client ports %s; its connections:%n%s", url, MARK, got,
                    ts.stream().map(Lab.Transfer::local).toList(), jvsadm("-L", "-n", "-c").lines()
                            .filter(l -> l.contains("]:" + MARKED_PORT + " ")).collect(Collectors.joining("\n")));
            assertAll(
                    () -> assertEquals(want, got, "rr over -f 5 -6, in order"),
                    () -> assertEquals(List.of(), wrong, "failed transfers"),
                    () -> assertTrue(list.contains("FWM  " + MARK + " IPv6 rr\n"), list),
                    () -> assertTrue(list.contains(String.format("  -> %-28s %-7s 1      ", "[" + rsIp6(1) + "]:80",
                            "Masq")), list),
                    () -> assertTrue(save.contains("-A -f " + MARK + " -6 -s rr\n"), save),
                    () -> assertTrue(save.contains("--add-mark -6 -d " + VIP6 + "/128 -p tcp --dport " + MARKED_PORT
                            + " --set-mark " + MARK + "\n"), save));
        }

        @Test
        @Order(12)
        @DisplayName("a client port that reached rs1:80 through [VIP6]:80 reaches it again through [VIP6]:8090 while"
                + " the first connection is in TIME_WAIT: the server's SYN-ACK finds the newer entry")
        void aClientPortReusedThroughASecondVipPortConnects() {
            // Both connections have one OUT key (rs1:80 -> client:port). The kernel's lookup finds the
            // newest; the oldest would send the SYN-ACK from [VIP6]:80 and the client would reset it
            // (the client's ephemeral ports made this a random CI failure). Ports below the
            // ephemeral range, so no other test's connection has them.
            String py = """
                    import socket
                    def get(port, vport):
                        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind(("%1$s", port))
                        s.settimeout(3)
                        try:
                            s.connect(("%2$s", vport))
                            s.sendall(b"GET / HTTP/1.1\\r\\nHost: vip6\\r\\nConnection: close\\r\\n\\r\\n")
                            data = b""
                            while True:
                                d = s.recv(4096)
                                if not d:
                                    break
                                data += d
                            return data.decode().split("\\r\\n\\r\\n", 1)[1].strip()
                        except OSError as e:
                            return "failed " + type(e).__name__
                        finally:
                            s.close()
                    got = {p: get(p, 80) for p in (20001, 20002)}
                    print(" ".join("%%d:%%s" %% (p, b) for p, b in sorted(got.items())))
                    reused = [p for p, b in got.items() if b == "rs1"]
                    print("reuse " + (get(reused[0], %3$d) if reused else "none"))
                    """.formatted(CLIENT6, VIP6, RS1_ONLY_PORT);
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), Lab.CLIENT, "/usr/bin/python3", "-c", py);
            List<String> lines = r.stdout().lines().toList();
            say("client ports 20001, 20002 to [%s]:80, then the one rs1 served to :%d: %s", VIP6, RS1_ONLY_PORT,
                    lines);
            assertAll(
                    () -> assertEquals(2, lines.size(), r.describe()),
                    () -> assertTrue(lines.get(0).matches("20001:rs[12] 20002:rs[12]") && lines.get(0).contains("rs1")
                            && lines.get(0).contains("rs2"), "rr over [VIP6]:80 served one port by each: " + lines),
                    () -> assertEquals("reuse rs1", lines.get(1), "the reused port connected through :"
                            + RS1_ONLY_PORT + "\n" + r.describe()));
        }

        @Test
        @Order(11)
        @DisplayName("--conn-limit 3 for the IPv6 client: three held connections answer, the fourth is refused"
                + " and counted once as client_conn_limit")
        void perClientConnectionLimitRefusesTheFourth() {
            // The fourth connect waits 0.5 s, less than the first SYN retransmission (1 s): one SYN.
            String py = """
                    import socket
                    held = []
                    for i in range(%3$d):
                        s = socket.create_connection(("%1$s", %2$d), timeout=5)
                        s.sendall(b"GET / HTTP/1.1\\r\\nHost: vip6\\r\\n\\r\\n")
                        print(s.recv(12).decode())
                        held.append(s)
                    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                    s.settimeout(0.5)
                    try:
                        s.connect(("%1$s", %2$d))
                        print("connected")
                    except OSError as e:
                        print("refused " + type(e).__name__)
                    """.formatted(VIP6, LIMITED_PORT, CONN_LIMIT);
            double before = director.metric("jvs_dropped_packets_total", "reason=\"client_conn_limit\"");
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), Lab.CLIENT, "/usr/bin/python3", "-c", py);
            double refused = director.metric("jvs_dropped_packets_total", "reason=\"client_conn_limit\"") - before;
            List<String> lines = r.stdout().lines().toList();
            say("--conn-limit %d on [%s]:%d: %s; client_conn_limit +%.0f", CONN_LIMIT, VIP6, LIMITED_PORT, lines,
                    refused);
            assertAll(
                    () -> assertEquals(List.of("HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200", "refused TimeoutError"),
                            lines, r.describe()),
                    () -> assertEquals(1.0, refused, "the fourth connection's one SYN"));
        }

        @Test
        @Order(9)
        @DisplayName("ICMPv6: rs1's port unreachable reaches the client from the VIP, its quote naming [VIP]:53")
        void portUnreachableFromTheRealServerIsRewritten() {
            // Nothing listens on UDP 9999 on rs1: its kernel answers Destination Unreachable (port),
            // quoting client -> [rs1]:9999, towards the client through the director. The client's kernel
            // hands it to the socket only if the quote is exactly what it sent: client:port -> [VIP]:53.
            String py = """
                    import socket
                    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                    s.settimeout(3)
                    s.connect(("%s", 53))
                    s.send(b"hello")
                    try:
                        s.recv(100)
                        print("answer")
                    except ConnectionRefusedError:
                        print("refused")
                    except socket.timeout:
                        print("timeout")
                    """.formatted(VIP6);
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(15), Lab.CLIENT, "/usr/bin/python3", "-c", py);
            say("client UDP socket to [%s]:53: %s", VIP6, r.stdout().strip());
            assertEquals("refused", r.stdout().strip(), r.describe());
            assertEquals(0.0, director.metric("jvs_dropped_packets_total", "reason=\"icmp_untracked\""));
        }
    }

    @Nested
    @Order(10)
    @DisplayName("attach packet:eth0, IPv6 FULLNAT")
    class PacketFullNat6 extends Ipv6PacketScenario {
        PacketFullNat6() {
            super(Method.FULLNAT);
        }

        @Test
        @Order(2)
        @DisplayName("FULLNAT --client-addr proxy: the real server reads the client's IPv6 address from the PROXY v2 header")
        void proxyV2CarriesTheClientsIpv6Address() {
            String agent = "it-" + tag + "-proxy-" + System.nanoTime();
            String url = "http://[" + VIP6 + "]:" + XmitIT.PROXY_PORT + "/";
            String body = LAB.lab().curl(Duration.ofSeconds(15), "-sS", "-g", "--fail", "--max-time", "10", "-A", agent,
                    url).requireOk().stdout().strip();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            List<String> seen = proxyNginx.log().stream().filter(l -> l.contains(agent)).toList();
            while (seen.isEmpty() && System.nanoTime() < deadline) {
                Lab.pause(100);
                seen = proxyNginx.log().stream().filter(l -> l.contains(agent)).toList();
            }
            say("GET %s: '%s'; rs1's proxy_protocol nginx logged %s", url, body, seen);
            // log_format proxy: '$proxy_protocol_addr $remote_addr "$http_user_agent" $status'
            assertEquals("rs1-proxy", body);
            assertEquals(List.of(CLIENT6 + " " + LIP6 + " \"" + agent + "\" 200"), seen,
                    "the PROXY v2 header's source is the client, the TCP peer the local address");
        }
    }

    /** What the IPv6 path cannot forward is refused at start: one line naming the service, exit 1, nothing attached. */
    @Nested
    @Order(11)
    @DisplayName("IPv6: what the IPv6 path cannot forward is refused in one line")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @Timeout(120)
    class Ipv6Refusals {
        String refused(String config, String... attach) throws IOException {
            LAB.lab().resetDirector();
            Path conf = LAB.lab().itFile("v6-refused.conf", config);
            List<String> cmd = new ArrayList<>(List.of(ForwarderProcess.executable(LAB.lab()).toString()));
            cmd.addAll(List.of(attach));
            cmd.addAll(List.of("--config", conf.toString(), "--metrics", "off", "--control",
                    LAB.lab().state().resolve("v6-refused.sock").toString()));
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(60), Lab.DIRECTOR, cmd.toArray(String[]::new));
            List<String> lines = (r.stdout() + r.stderr()).lines().filter(l -> !l.isBlank()).toList();
            assertAll(
                    () -> assertEquals(1, r.exitCode(), "exit status 1\n" + r.describe()),
                    () -> assertEquals(1, lines.size(), "one line\n" + r.describe()),
                    () -> assertFalse(LAB.lab().ip(Lab.DIRECTOR, "link", "show").requireOk().stdout().contains("jvs0"),
                            "no TAP left"),
                    () -> assertEquals(List.of(), LAB.lab().pidsIn(Lab.DIRECTOR), "nothing left running"));
            System.out.println("[v6-refused] " + String.join(" ", attach) + " -> " + lines.getFirst());
            return lines.getFirst();
        }

        @Test
        @DisplayName("an IPv4 TUN real server of an IPv6 service (IPv6-in-IPv4) in TAP mode: forwarded in packet mode"
                + " only (XmitIT$MixedTun), refused by name here")
        void mixedFamilyTunRealServerInTapMode() throws IOException {
            assertEquals("jvs-forwarder: real server 10.0.2.11:80 of TCP/[2001:db8::100]:80: a tunnel to a real server"
                            + " of the other family (IPv6 in IPv4) is not forwarded with --attach tap (TUN to the other"
                            + " family runs in packet mode only)",
                    refused("-A -t [2001:db8::100]:80 -s rr\n-a -t [2001:db8::100]:80 -r 10.0.2.11:80 -i -w 1\n",
                            "--attach", "tap:jvs0", "--lan", "eth0"));
        }

        @Test
        @DisplayName("an IPv6 service with --attach xdp")
        void xdp() throws IOException {
            assertEquals("jvs-forwarder: TCP [2001:db8::100]:80: IPv6 services are not forwarded with --attach xdp"
                            + " (the IPv6 path runs in packet and TAP mode only)",
                    refused("-A -t [2001:db8::100]:80 -s rr\n", "--attach", "xdp:eth0"));
        }
    }

    @Nested
    @Order(12)
    @DisplayName("attach tap:jvs0 --lan eth0, IPv6 DR")
    class TapDr6 extends Ipv6TapScenario {
        TapDr6() {
            super(Method.DR, 1);
        }
    }

    @Nested
    @Order(13)
    @DisplayName("attach tap:jvs0 --lan eth0 --workers 2 (multi-queue), IPv6 NAT")
    class TapNat6 extends Ipv6TapScenario {
        TapNat6() {
            super(Method.NAT, 2);
        }
    }

    @Nested
    @Order(14)
    @DisplayName("attach tap:jvs0 --lan eth0 --workers 2 (multi-queue), IPv6 FULLNAT")
    class TapFullNat6 extends Ipv6TapScenario {
        TapFullNat6() {
            super(Method.FULLNAT, 2);
        }
    }

    /**
     * The director's own Packet Too Big: a NAT6 director whose egress port is smaller than what
     * arrives. The lab has one NIC, where ingress is egress, so the director reads eth0's MTU as
     * 1400 at start (jvs takes a port's MTU once, there) and eth0 goes back to 1500 so the
     * client's 1500-byte packets still arrive: the two-NIC case (a 1500 ingress, a 1400 egress).
     * The client's upload stalls unless jvs answers with Packet Too Big and the client learns
     * MTU 1400 for the VIP.
     */
    @Nested
    @Order(11)
    @DisplayName("attach packet:eth0, IPv6 NAT, egress MTU 1400: the director's Packet Too Big")
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @Timeout(120)
    class PacketNat6Mtu {
        static final String VIP6 = Ipv6Scenario.VIP6;
        ForwarderProcess director;

        @RegisterExtension
        final DirectorLogOnFailure logOnFailure = new DirectorLogOnFailure(() -> director);

        @BeforeAll
        void startDirector() throws IOException {
            LAB.lab().resetDirector();
            LAB.lab().neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
            LAB.lab().ip(Lab.CLIENT, "-6", "route", "flush", "cache").requireOk();
            String conf = """
                    -A -t [%1$s]:80 -s rr
                    -a -t [%1$s]:80 -r [%2$s]:80 -m -w 1
                    """.formatted(VIP6, Ipv6Scenario.rsIp6(1));
            Path dir = LAB.lab().repo().resolve("forwarder/target/it-logs");
            Files.createDirectories(dir);
            Path config = Files.writeString(dir.resolve("director-packet-nat6-mtu.conf"), conf);
            LAB.lab().ip(Lab.DIRECTOR, "link", "set", "eth0", "mtu", "1400").requireOk();
            try {
                director = ForwarderProcess.start(LAB.lab(), "packet-nat6-mtu", METRICS,
                        List.of("--attach", "packet:eth0", "--config", config.toString(), "--metrics", METRICS));
            } finally {
                LAB.lab().ip(Lab.DIRECTOR, "link", "set", "eth0", "mtu", "1500").requireOk();
            }
        }

        @AfterAll
        void stopDirector() {
            if (director != null) {
                System.out.println("[packet-nat6-mtu] forwarder stopped, exit " + director.stop() + "; log "
                        + director.log());
            }
            LAB.lab().ip(Lab.DIRECTOR, "link", "set", "eth0", "mtu", "1500");
            LAB.lab().ip(Lab.CLIENT, "-6", "route", "flush", "cache");
        }

        @Test
        @DisplayName("a 50 MiB upload completes byte for byte; the client learnt MTU 1400 for the VIP")
        void uploadLearnsTheDirectorsEgressMtu() throws IOException {
            String name = "it-packet-nat6-mtu-" + System.nanoTime() + ".bin";
            Lab.Upload via = LAB.lab().upload("http://[" + VIP6 + "]/upload/" + name, LAB.lab().blobPath(), 60);
            Optional<String> stored = LAB.lab().uploadedSha256(1, name);
            Files.deleteIfExists(LAB.lab().uploadedFile(1, name));
            String route = LAB.lab().ip(Lab.CLIENT, "-6", "route", "get", VIP6).requireOk().stdout().strip();
            double tooBig = director.metric("jvs_dropped_packets_total", "reason=\"packet_too_big\"");
            System.out.printf(Locale.ROOT, "[packet-nat6-mtu] PUT 50 MiB: http %d, %.1f MB/s; packet_too_big %.0f;"
                    + " client: %s%n", via.httpCode(), via.megabytesPerSecond(), tooBig, route);
            assertAll(
                    () -> assertEquals(201, via.httpCode(), "upload status"),
                    () -> assertEquals(Optional.of(LAB.lab().blobSha256()), stored, "sha256 stored on rs1"),
                    () -> assertTrue(route.contains(" mtu 1400 "), "the client's route to the VIP: " + route),
                    () -> assertTrue(tooBig >= 1, "packets over 1400 dropped as packet_too_big: " + tooBig));
        }
    }

    /**
     * IPv6 end to end in packet mode (the lab's dual stack): the client reaches
     * {@code [2001:db8::100]:80} through the router, which solicits the VIP on the LAN; jvs answers
     * the NS and forwards by DR (the VIP6 on the real servers' lo, put there by jvs-agent up),
     * NAT (the real servers' IPv6 default route is the director) or FULLNAT (--laddr
     * 2001:db8::3, a LAN address only jvs answers NDP for: the real servers answer it on-link,
     * whatever their routes).
     */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    @Timeout(120)
    abstract class Ipv6Scenario {
        static final String VIP6 = "2001:db8::100";
        static final String URL6 = "http://[" + VIP6 + "]/";
        static final String CLIENT6 = "2001:db8:1::2";
        /** FULLNAT's IPv6 local address: on the LAN, unused by the lab, answered by jvs's NDP. */
        static final String LIP6 = "2001:db8::3";
        final Attach attach;
        final Method method;
        /** --workers (TAP mode: 2 or more is a multi-queue TAP steered by io.TapSteering). */
        final int workers;
        final String tag;
        ForwarderProcess director;
        /** FULLNAT: rs1's nginx with proxy_protocol on [2001:db8::11]:8081, behind [VIP6]:8081 --client-addr proxy. */
        XmitIT.ProxyNginx proxyNginx;
        /** {@link #namespaceState6} before the forwarder started. */
        String namespaceBefore;

        @RegisterExtension
        final DirectorLogOnFailure logOnFailure = new DirectorLogOnFailure(() -> director);

        Ipv6Scenario(Attach attach, Method method, int workers) {
            this.attach = attach;
            this.method = method;
            this.workers = workers;
            this.tag = attach.name().toLowerCase(Locale.ROOT) + "-" + method.name().toLowerCase(Locale.ROOT) + "6";
        }

        static String rsIp6(int rs) {
            return "2001:db8::1" + rs;
        }

        void say(String fmt, Object... args) {
            System.out.println("[" + tag + "] " + String.format(Locale.ROOT, fmt, args));
        }

        @BeforeAll
        void startDirector() throws IOException {
            LAB.lab().resetDirector();
            if (method == Method.DR) {
                // The real servers take the VIP6 as an operator would: jvs-agent up (the /128 on lo,
                // nodad, proxy_ndp off), and its check passes; down in stopDirector undoes exactly that.
                for (int rs = 1; rs <= 2; rs++) {
                    LAB.lab().exec(Duration.ofSeconds(60), Lab.rsNamespace(rs), agent6(rs, "up")).requireOk();
                    LAB.lab().exec(Duration.ofSeconds(60), Lab.rsNamespace(rs), agent6(rs, "check")).requireOk();
                    assertTrue(LAB.lab().ip(Lab.rsNamespace(rs), "-6", "addr", "show", "dev", "lo").requireOk()
                            .stdout().contains(VIP6 + "/128"), "rs" + rs + ": the agent put the VIP6 on lo");
                }
            }
            LAB.lab().neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
            for (int rs = 1; rs <= 2; rs++) {
                LAB.lab().ip(Lab.rsNamespace(rs), "-6", "neigh", "flush", "dev", "eth0").requireOk();
            }
            // and a persistent service on 8080 (-M 64: the client's /64): DR to nginx's :8080, NAT and
            // FULLNAT to :80 (the real servers route replies from :8080 past the director, which NAT
            // cannot have)
            String conf = """
                    -A -t [%1$s]:80 -s rr%5$s
                    -a -t [%1$s]:80 -r [%2$s]:80 %3$s -w 1
                    -a -t [%1$s]:80 -r [%4$s]:80 %3$s -w 1
                    -A -t [%1$s]:8080 -s rr -p 60 -M 64%5$s
                    -a -t [%1$s]:8080 -r [%2$s]:%6$d %3$s -w 1
                    -a -t [%1$s]:8080 -r [%4$s]:%6$d %3$s -w 1
                    """.formatted(VIP6, rsIp6(1), method.flag, rsIp6(2),
                    method == Method.FULLNAT ? " --laddr " + LIP6 : "", persistRsPort())
                    + (method == Method.NAT && attach == Attach.PACKET ? """
                    -A -u [%1$s]:53 -s rr
                    -a -u [%1$s]:53 -r [%2$s]:9999 -m -w 1
                    -A -f %4$d -6 -s rr
                    -a -f %4$d -6 -r [%2$s]:80 -m -w 1
                    -a -f %4$d -6 -r [%3$s]:80 -m -w 1
                    --add-mark -6 -d %1$s/128 -p tcp --dport %5$d --set-mark %4$d
                    -A -t [%1$s]:%6$d -s rr --conn-limit %7$d
                    -a -t [%1$s]:%6$d -r [%2$s]:80 -m -w 1
                    -A -t [%1$s]:%8$d -s rr
                    -a -t [%1$s]:%8$d -r [%2$s]:80 -m -w 1
                    """.formatted(VIP6, rsIp6(1), rsIp6(2), PacketNat6.MARK, PacketNat6.MARKED_PORT,
                    PacketNat6.LIMITED_PORT, PacketNat6.CONN_LIMIT, PacketNat6.RS1_ONLY_PORT) : "");
            if (method == Method.FULLNAT && attach == Attach.PACKET) {
                conf += """
                        -A -t [%1$s]:%3$d -s rr --laddr %4$s --client-addr proxy
                        -a -t [%1$s]:%3$d -r [%2$s]:%3$d --fullnat -w 1
                        """.formatted(VIP6, rsIp6(1), XmitIT.PROXY_PORT, LIP6);
                proxyNginx = XmitIT.ProxyNginx.start(LAB.lab(), 1, "[" + rsIp6(1) + "]:" + XmitIT.PROXY_PORT,
                        "proxy-nginx6-rs1");
            }
            Path dir = LAB.lab().repo().resolve("forwarder/target/it-logs");
            Files.createDirectories(dir);
            Path config = Files.writeString(dir.resolve("director-" + tag + ".conf"), conf);
            List<String> args = new ArrayList<>(attach == Attach.TAP
                    ? List.of("--attach", "tap:jvs0", "--lan", "eth0", "--workers", Integer.toString(workers))
                    : List.of("--attach", "packet:eth0"));
            args.addAll(List.of("--config", config.toString(), "--metrics", METRICS));
            namespaceBefore = namespaceState6();
            director = ForwarderProcess.start(LAB.lab(), tag, METRICS, args);
        }

        /** The director namespace's IPv6 forwarding sysctl, IPv6 routes of every table and IPv6 policy rules. */
        String namespaceState6() {
            return LAB.lab().ipv6State(Lab.DIRECTOR);
        }

        @AfterAll
        void stopDirector() {
            if (proxyNginx != null) {
                proxyNginx.stop();
            }
            if (director != null) {
                System.out.println("[" + tag + "] forwarder stopped, exit " + director.stop() + "; log " + director.log());
            }
            if (method == Method.DR) {
                for (int rs = 1; rs <= 2; rs++) {
                    LAB.lab().exec(Duration.ofSeconds(60), Lab.rsNamespace(rs), agent6(rs, "down")).requireOk();
                }
            }
        }

        /** jvs-agent's DR mode for the VIP6 on rsN, journalled apart from the lab's IPv4 agent. */
        String[] agent6(int rs, String command) {
            return new String[] {LAB.lab().repo().resolve("bin/jvs-agent").toString(), command, "--mode", "dr",
                    "--vip", VIP6, "--iface", "eth0", "--state",
                    LAB.lab().state().resolve("rs" + rs + "/agent6.state").toString()};
        }

        @Test
        @Order(0)
        @DisplayName("before any traffic, jvs has solicited each IPv6 real server (next hops resolved at publication)")
        void realServersSolicitedAtPublication() {
            String directorMac = LAB.lab().macOf(Lab.DIRECTOR, "eth0");
            for (int rs = 1; rs <= 2; rs++) {
                // the NS from the director's 2001:db8::2 leaves its link-layer address in the server's table
                Optional<Lab.Neighbour> n = Optional.empty();
                for (int i = 0; i < 40 && (n.isEmpty() || n.get().mac() == null); i++) {
                    n = LAB.lab().neigh(Lab.rsNamespace(rs), "2001:db8::2");
                    if (n.isEmpty() || n.get().mac() == null) {
                        Lab.pause(50);
                    }
                }
                String got = n.map(Lab.Neighbour::mac).orElse(null);
                assertEquals(directorMac, got, "rs" + rs + "'s neighbour entry for the director (" + n + ")");
            }
        }

        @Test
        @Order(1)
        @DisplayName("200 new IPv6 connections: no failures, exact rr alternation rs2, rs1, ...")
        void newConnectionsFollowRoundRobin() {
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly(URL6, 200, Duration.ofSeconds(90), "-g", "-H",
                    "Connection: close");
            List<String> wrong = new ArrayList<>();
            Map<String, Integer> perServer = new TreeMap<>();
            for (Lab.Transfer t : ts) {
                perServer.merge(t.body(), 1, Integer::sum);
                String want = t.index() % 2 == 0 ? "rs2" : "rs1";
                if (!t.ok() || t.numConnects() != 1 || !t.body().equals(want)
                        || !t.remote().equals(VIP6 + ":80") || !t.local().startsWith(CLIENT6 + ":")) {
                    wrong.add("#" + t.index() + ": got '" + t.body() + "' http " + t.httpCode() + " curl exit "
                            + t.curlExit() + " " + t.local() + " -> " + t.remote() + ", expected '" + want + "'");
                }
            }
            say("200 x GET [%s]:80 (new connection each): %s", VIP6, perServer);
            assertAll(
                    () -> assertEquals(200, ts.size(), "curl stopped early at transfer #" + (ts.size() - 1) + ": "
                            + ts.getLast()),
                    () -> assertTrue(wrong.isEmpty(), wrong.size() + " transfers off the rr sequence; first: "
                            + wrong.subList(0, Math.min(10, wrong.size()))));
        }

        @Test
        @Order(2)
        @DisplayName("the real server sees the client's address (DR, NAT) or the IPv6 local address (FULLNAT)")
        void realServerSeesTheRightPeer() {
            String agent = "it-" + tag + "-" + System.nanoTime();
            String body = LAB.lab().curl(Duration.ofSeconds(15), "-sS", "-g", "--fail", "--max-time", "10", "-A", agent,
                    URL6).requireOk().stdout().strip();
            assertTrue(body.matches("rs[12]"), "GET " + URL6 + " returned '" + body + "'");
            int rs = Integer.parseInt(body.substring(2));
            // nginx writes a request's log line after sending the response: wait for it briefly
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            List<String> seen = LAB.lab().accessLog(rs).stream().filter(l -> l.contains(agent)).toList();
            while (seen.isEmpty() && System.nanoTime() < deadline) {
                Lab.pause(100);
                seen = LAB.lab().accessLog(rs).stream().filter(l -> l.contains(agent)).toList();
            }
            assertEquals(1, seen.size(), "access log lines of rs" + rs + " for " + agent + ": " + seen);
            // "$msec $remote_addr:$remote_port -> $server_addr:$server_port ...", IPv6 addresses bare
            Matcher m = Pattern.compile("^\\S+ (\\S+):(\\d+) -> (\\S+):(\\d+) ").matcher(seen.getFirst());
            assertTrue(m.find(), "unexpected access log format: " + seen);
            say("rs%d saw %s:%s -> %s:%s", rs, m.group(1), m.group(2), m.group(3), m.group(4));
            assertAll(
                    () -> assertEquals(method == Method.FULLNAT ? LIP6 : CLIENT6, m.group(1),
                            "the address the real server sees its peer at (" + method + ")"),
                    () -> assertEquals(method == Method.DR ? VIP6 : rsIp6(rs), m.group(3),
                            "the address the real server was reached at (" + method + ")"));
        }

        @Test
        @Order(2)
        @DisplayName("the router's NS for the IPv6 VIP is answered with the director's eth0 MAC")
        void nsForVipAnsweredByDirector() {
            String directorMac = LAB.lab().macOf(Lab.DIRECTOR, "eth0");
            LAB.lab().neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
            String body = LAB.lab().curl(Duration.ofSeconds(15), "-sS", "-g", "--fail", "--max-time", "10", URL6)
                    .requireOk().stdout().strip();
            assertTrue(body.matches("rs[12]"), "GET " + URL6 + " returned '" + body + "'");
            Lab.Neighbour n = LAB.lab().neigh(Lab.ROUTER, VIP6)
                    .orElseThrow(() -> new AssertionError(Lab.ROUTER + " has no neighbour entry for " + VIP6));
            say("router's neighbour %s: %s %s (director eth0 %s)", VIP6, n.mac(), n.state(), directorMac);
            assertEquals(directorMac, n.mac(), Lab.ROUTER + "'s MAC for " + VIP6 + " (state " + n.state() + ")");
        }

        @Test
        @Order(3)
        @DisplayName("50 MiB download over IPv6 through the VIP arrives intact; DR replies bypass the director, NAT's cross it")
        void downloadThroughVip() {
            long rxBefore = directorRxBytes();
            Lab.Download via = LAB.lab().download(URL6 + "blob", 60);
            long rx = directorRxBytes() - rxBefore;
            say("GET [%s]/blob 50 MiB: %.1f MB/s; director eth0 received %d bytes", VIP6, via.megabytesPerSecond(), rx);
            assertAll(
                    () -> assertEquals(200, via.httpCode(), "status"),
                    () -> assertEquals(Lab.BLOB_BYTES, via.bytes(), "bytes"),
                    () -> assertEquals(LAB.lab().blobSha256(), via.sha256(), "sha256"),
                    () -> assertTrue(method == Method.DR ? rx < Lab.BLOB_BYTES / 10 : rx > Lab.BLOB_BYTES,
                            method + ": the director's eth0 received " + rx + " bytes during the download"));
        }

        @Test
        @Order(4)
        @DisplayName("50 MiB upload (PUT) over IPv6 through the VIP arrives byte for byte")
        void uploadThroughVip() throws IOException {
            String name = "it-" + tag + "-" + System.nanoTime() + ".bin";
            Lab.Upload via = LAB.lab().upload(URL6 + "upload/" + name, LAB.lab().blobPath(), 60);
            Map<Integer, String> stored = new TreeMap<>();
            for (int rs = 1; rs <= 2; rs++) {
                int r = rs;
                LAB.lab().uploadedSha256(rs, name).ifPresent(sha -> stored.put(r, sha));
                Files.deleteIfExists(LAB.lab().uploadedFile(rs, name));
            }
            say("PUT [%s]/upload 50 MiB: %.1f MB/s; stored on rs%s", VIP6, via.megabytesPerSecond(), stored.keySet());
            assertEquals(201, via.httpCode(), "upload status");
            assertEquals(Lab.BLOB_BYTES, via.bytes(), "bytes sent");
            assertEquals(1, stored.size(), "exactly one real server stored " + name + ": " + stored);
            assertEquals(LAB.lab().blobSha256(), stored.values().iterator().next(), "sha256 of the stored upload");
        }

        int persistRsPort() {
            return method == Method.DR ? 8080 : 80;
        }

        String jvsadm(String... args) {
            List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
            cmd.addAll(List.of(args));
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new));
            assertEquals(0, r.exitCode(), r.describe());
            return r.stdout();
        }
    }

    /** IPv6 in packet mode: the common tests, and jvsadm's listing, persistence, --deny and path MTU discovery. */
    abstract class Ipv6PacketScenario extends Ipv6Scenario {
        Ipv6PacketScenario(Method method) {
            super(Attach.PACKET, method, 2);
        }

        @Test
        @Order(5)
        @DisplayName("jvsadm -L -n shows the IPv6 service, -L -n -c its connections")
        void jvsadmListsServiceAndConnections() {
            String list = jvsadm("-L", "-n");
            String m = method == Method.DR ? "Route" : method == Method.NAT ? "Masq" : "FullNat";
            assertTrue(list.contains("TCP  [" + VIP6 + "]:80 rr\n"), list);
            if (method == Method.FULLNAT) {
                String save = jvsadm("-S", "-n");
                assertTrue(save.contains("-A -t [" + VIP6 + "]:80 -s rr --laddr " + LIP6 + "\n"), save);
            }
            for (int rs = 1; rs <= 2; rs++) {
                assertTrue(list.contains(String.format("  -> %-28s %-7s 1      ", "[" + rsIp6(rs) + "]:80", m)), list);
            }
            String conns = jvsadm("-L", "-n", "-c");
            Pattern line = Pattern.compile("(?m)^TCP \\d\\d:\\d\\d  \\S+ +\\[" + Pattern.quote(CLIENT6)
                    + "\\]:\\d+ \\[" + Pattern.quote(VIP6) + "\\]:80 \\[(2001:db8::1[12])\\]:80$");
            Map<String, Integer> perServer = new TreeMap<>();
            Matcher mm = line.matcher(conns);
            while (mm.find()) {
                perServer.merge(mm.group(1), 1, Integer::sum);
            }
            int listed = perServer.values().stream().mapToInt(Integer::intValue).sum();
            double entries = director.metric("jvs_connection_table_entries", "");
            say("jvsadm -L -n -c: %d IPv6 connections %s; jvs_connection_table_entries %.0f", listed, perServer, entries);
            assertAll(
                    () -> assertTrue(listed >= 200, "at least the 200 connections of the rr test (TIME_WAIT 120 s):\n"
                            + conns.lines().limit(10).toList()),
                    () -> assertEquals(2, perServer.size(), "both real servers: " + perServer),
                    () -> assertTrue(entries >= listed, "jvs_connection_table_entries counts IPv6 entries: " + entries));
        }

        @Test
        @Order(6)
        @DisplayName("-p 60 -M 64: 20 new connections of the client all reach one real server (rr without -p alternates), "
                + "jvsadm -L -n -c lists the /64's template")
        void persistenceKeepsTheClientOnOneServer() {
            String url = "http://[" + VIP6 + "]:8080/";
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly(url, 20, Duration.ofSeconds(60), "-g", "-H",
                    "Connection: close");
            Map<String, Integer> perServer = new TreeMap<>();
            List<String> failed = new ArrayList<>();
            for (Lab.Transfer t : ts) {
                perServer.merge(t.body(), 1, Integer::sum);
                if (!t.ok() || t.numConnects() != 1) {
                    failed.add("#" + t.index() + ": http " + t.httpCode() + " curl exit " + t.curlExit());
                }
            }
            // the control: the same client on the rr service without -p
            Map<String, Integer> control = new TreeMap<>();
            for (Lab.Transfer t : LAB.lab().getRepeatedly(URL6, 4, Duration.ofSeconds(30), "-g", "-H", "Connection: close")) {
                control.merge(t.body(), 1, Integer::sum);
            }
            String conns = jvsadm("-L", "-n", "-c");
            String sticky = perServer.keySet().iterator().next();
            String server = rsIp6(sticky.equals("rs1") ? 1 : 2);
            Pattern template = Pattern.compile("(?m)^TCP \\d\\d:\\d\\d  NONE        \\[2001:db8:1::\\]:0 +\\["
                    + Pattern.quote(VIP6) + "\\]:8080 \\[" + Pattern.quote(server) + "\\]:" + persistRsPort() + "$");
            List<String> templates = conns.lines().filter(l -> l.contains("NONE") && l.contains("]:0 ")).toList();
            say("20 x GET [%s]:8080 with -p 60 -M 64: %s; 4 x GET [%s]:80 without: %s; templates %s", VIP6, perServer,
                    VIP6, control, templates);
            assertAll(
                    () -> assertEquals(20, ts.size(), "transfers"),
                    () -> assertEquals(List.of(), failed, "failed transfers"),
                    () -> assertEquals(1, perServer.size(), "all 20 on one real server: " + perServer),
                    () -> assertEquals(Map.of("rs1", 2, "rs2", 2), control, "rr without -p alternates"),
                    () -> assertTrue(template.matcher(conns).find(), "the template line (client /64, port 0, NONE) in\n"
                            + templates),
                    () -> assertEquals(1, templates.size(), "one template for the client's /64: " + templates));
        }

        @Test
        @Order(7)
        @DisplayName("--deny 2001:db8:1::/64 (the client's /64) on the IPv6 service: its connections fail, acl_denied counts them; "
                + "--deny none lets them in again")
        void denyListRefusesTheClientsSlash64() {
            String svc = "[" + VIP6 + "]:8080";
            String url = "http://" + svc + "/";
            double before = director.metric("jvs_dropped_packets_total", "reason=\"acl_denied\"");
            jvsadm("-E", "-t", svc, "-s", "rr", "-p", "60", "-M", "64", "--deny", "2001:db8:1::/64");
            Exec.Result denied = LAB.lab().curl(Duration.ofSeconds(15), "-sS", "-g", "--connect-timeout", "1",
                    "--max-time", "2", url);
            double dropped = director.metric("jvs_dropped_packets_total", "reason=\"acl_denied\"") - before;
            jvsadm("-E", "-t", svc, "-s", "rr", "-p", "60", "-M", "64", "--deny", "none");
            String after = LAB.lab().curl(Duration.ofSeconds(15), "-sS", "-g", "--fail", "--max-time", "10", url)
                    .requireOk().stdout().strip();
            say("--deny 2001:db8:1::/64: curl exit %d, acl_denied +%.0f; --deny none: '%s'", denied.exitCode(), dropped,
                    after);
            assertAll(
                    () -> assertEquals(28, denied.exitCode(), "curl timed out connecting\n" + denied.describe()),
                    () -> assertTrue(dropped >= 1, "the client's SYNs counted as acl_denied: " + dropped),
                    () -> assertTrue(after.matches("rs[12]"), "admitted again: '" + after + "'"));
        }

        @Test
        @Order(8)
        @DisplayName("Path MTU discovery through the VIP: the router's Packet Too Big reaches the real server, a 4 MiB download completes")
        void packetTooBigFromTheClientsSideReachesTheRealServer() throws Exception {
            // The router's route to the client segment gets MTU 1280: it cannot forward the real
            // servers' 1500-byte replies and answers the VIP (their source) with Packet Too Big, which
            // jvs forwards to the connection's real server (NAT: rewritten to quote what it sent).
            // Without it the download stalls: PMTU black hole.
            String route = CLIENT6.substring(0, CLIENT6.length() - 1) + "/64";
            for (int rs = 1; rs <= 2; rs++) {
                LAB.lab().ip(Lab.rsNamespace(rs), "-6", "route", "flush", "cache").requireOk();
            }
            LAB.lab().ip(Lab.ROUTER, "-6", "route", "replace", route, "dev", "eth0", "metric", "256", "mtu", "lock", "1280")
                    .requireOk();
            try {
                long bytes = 4L << 20;
                Exec.Result r = LAB.lab().sh(Duration.ofSeconds(40), Lab.CLIENT, "curl -sS -g --connect-timeout 3"
                        + " --max-time 30 --speed-limit 100000 --speed-time 5 -r 0-" + (bytes - 1) + " '" + URL6
                        + "blob' | sha256sum | cut -d' ' -f1");
                String want = Captures.sha256Prefix(LAB.lab().blobPath(), bytes);
                List<String> learnt = new ArrayList<>();
                for (int rs = 1; rs <= 2; rs++) {
                    String from = method == Method.DR ? VIP6 : rsIp6(rs);
                    // FULLNAT: the real server's peer, whose path MTU it learns, is the local address
                    String to = method == Method.FULLNAT ? LIP6 : CLIENT6;
                    String got = LAB.lab().ip(Lab.rsNamespace(rs), "-6", "route", "get", to, "from", from)
                            .requireOk().stdout().strip();
                    if (got.contains(" mtu 1280")) {
                        learnt.add("rs" + rs + ": " + got);
                    }
                }
                say("4 MiB download with a 1280-byte hop: %s; learnt %s", r.stderr().isBlank() ? "ok" : r.stderr(),
                        learnt);
                assertAll(
                        () -> assertEquals(want, r.stdout().strip(), "the first 4 MiB of the blob\n" + r.describe()),
                        () -> assertEquals(1, learnt.size(), "the serving real server learnt the path MTU"),
                        () -> assertEquals(0.0, director.metric("jvs_dropped_packets_total",
                                "reason=\"icmp_untracked\""), "no Packet Too Big dropped as untracked"));
            } finally {
                LAB.lab().ip(Lab.ROUTER, "-6", "route", "replace", route, "dev", "eth0", "metric", "256", "proto",
                        "kernel").requireOk();
                for (int rs = 1; rs <= 2; rs++) {
                    LAB.lab().ip(Lab.rsNamespace(rs), "-6", "route", "flush", "cache");
                }
            }
        }
    }

    /**
     * IPv6 in TAP mode: the kernel forwards the VIP6's packets (and NAT6 replies, FULLNAT6 replies to
     * the IPv6 local address) into jvs0 by the routes and rules jvs adds; jvs answers the NS on eth0
     * from its NDP-only ring and sends by eth0. The common tests, then the namespace put back.
     */
    abstract class Ipv6TapScenario extends Ipv6Scenario {
        Ipv6TapScenario(Method method, int workers) {
            super(Attach.TAP, method, workers);
        }

        @Test
        @Order(8)
        @DisplayName("the VIP6's traffic came through the TAP; eth0's NDP-only ring saw neighbour messages only")
        void trafficCameThroughTheTap() {
            double tapBytes = director.metric("jvs_port_rx_bytes_total", "port=\"jvs0\"");
            double lanBytes = director.metric("jvs_port_rx_bytes_total", "port=\"eth0\"");
            say("received by jvs: %.0f bytes from jvs0, %.0f from eth0's ARP and NDP rings", tapBytes, lanBytes);
            assertAll(
                    () -> assertTrue(tapBytes > Lab.BLOB_BYTES, "the 50 MiB upload came through the TAP: " + tapBytes),
                    () -> assertTrue(lanBytes < 1 << 20, "eth0's rings took ARP and NDP, not the VIP6's packets: "
                            + lanBytes));
        }

        @Test
        @Order(9)
        @DisplayName("stopping the forwarder puts back IPv6 forwarding, the IPv6 routes and rules it added")
        void stopRestoresTheIpv6Namespace() {
            String running = namespaceState6();
            say("director namespace while running:%n%s", running);
            assertAll(
                    () -> assertTrue(running.startsWith("forwarding=1\n"), "IPv6 forwarding on while running"),
                    () -> assertTrue(running.contains(VIP6 + " dev jvs0"), "the VIP6 routed into the TAP"),
                    () -> assertTrue(method != Method.FULLNAT || running.contains(LIP6 + " dev jvs0"),
                            "the IPv6 local address routed into the TAP"),
                    () -> assertTrue(method != Method.NAT || running.contains("from " + rsIp6(1) + " iif eth0 lookup 4242")
                            && running.contains("from " + rsIp6(2) + " iif eth0 lookup 4242")
                            && running.contains("default dev jvs0 table 4242"),
                            "the NAT6 replies steered into the TAP"));
            director.stop(); // SIGTERM; throws unless the forwarder exits within the grace period
            assertEquals(namespaceBefore, namespaceState6(), "the director namespace after the forwarder stopped");
        }
    }

    /** The tests for one (attach, method); one forwarder for all of them. */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    @Timeout(120)
    abstract class Scenario {
        final Attach attach;
        final Method method;
        final String tag;
        ForwarderProcess director;
        /** TCP connections opened (attempted) to the VIP since this scenario's forwarder started. */
        int connections;
        /** The director namespace's routes, rules and ip_forward before the forwarder started. */
        String namespaceBefore;

        @RegisterExtension
        final DirectorLogOnFailure logOnFailure = new DirectorLogOnFailure(() -> director);

        Scenario(Attach attach, Method method) {
            this.attach = attach;
            this.method = method;
            this.tag = attach.name().toLowerCase(Locale.ROOT) + "-" + method.name().toLowerCase(Locale.ROOT);
        }

        @BeforeAll
        void startDirector() {
            String fixed = LAB.lab().resetDirector();
            if (!fixed.isEmpty()) {
                System.out.println("[" + tag + "] " + fixed);
            }
            // Each forwarder must answer ARP for the VIP itself.
            LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
            Path config = writeConfig();
            List<String> args = new ArrayList<>();
            switch (attach) {
                case PACKET -> args.addAll(List.of("--attach", "packet:eth0"));
                case TAP -> args.addAll(List.of("--attach", "tap:jvs0", "--lan", "eth0"));
                case XDP -> args.addAll(List.of("--attach", "xdp:eth0"));
            }
            args.addAll(List.of("--config", config.toString(), "--metrics", METRICS));
            namespaceBefore = namespaceState();
            director = ForwarderProcess.start(LAB.lab(), tag, METRICS, args);
            connections = 0;
        }

        @AfterAll
        void stopDirector() {
            if (director != null) {
                int rc = director.stop();
                System.out.println("[" + tag + "] forwarder stopped, exit " + rc + "; log " + director.log());
            }
        }

        Path writeConfig() {
            String m = method.flag;
            String conf = """
                    -A -t %1$s:80 -s rr%6$s
                    -a -t %1$s:80 -r %2$s:80 %3$s -w 1
                    -a -t %1$s:80 -r %4$s:80 %3$s -w 1
                    --state-timeout time_wait %5$d
                    --state-timeout fin_wait %5$d
                    --state-timeout close %5$d
                    """.formatted(Lab.VIP, Lab.rsIp(1), m, Lab.rsIp(2), STATE_TIMEOUT,
                    method == Method.FULLNAT ? " --laddr " + LIP : "");
            try {
                Path dir = LAB.lab().repo().resolve("forwarder/target/it-logs");
                Files.createDirectories(dir);
                Path p = dir.resolve("director-" + tag + ".conf");
                Files.writeString(p, conf);
                return p;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** rr over rs1 (added first) and rs2: IPVS lists newest first, so connection k goes to rs2 when k is even. */
        String expectedServer(int k) {
            return k % 2 == 0 ? "rs2" : "rs1";
        }

        void say(String fmt, Object... args) {
            System.out.println("[" + tag + "] " + String.format(Locale.ROOT, fmt, args));
        }

        @Test
        @Order(1)
        @DisplayName("200 new connections: no failures, exact rr alternation rs2, rs1, ...")
        void newConnectionsFollowRoundRobin() {
            int first = connections;
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly(VIP_URL, 200, Duration.ofSeconds(90), "-H", "Connection: close");
            connections += ts.size();
            List<String> wrong = new ArrayList<>();
            Map<String, Integer> perServer = new TreeMap<>();
            for (Lab.Transfer t : ts) {
                perServer.merge(t.body(), 1, Integer::sum);
                String want = expectedServer(first + t.index());
                if (!t.ok() || t.numConnects() != 1 || !t.body().equals(want)) {
                    wrong.add("#" + t.index() + ": got '" + t.body() + "' http " + t.httpCode() + " curl exit "
                            + t.curlExit() + " connects " + t.numConnects() + ", expected '" + want + "'");
                }
            }
            say("200 x GET / (new connection each): %s", perServer);
            assertAll(
                    () -> assertEquals(200, ts.size(), "curl stopped early (--fail-early) at transfer #"
                            + (ts.size() - 1) + ": " + ts.getLast()),
                    () -> assertTrue(wrong.isEmpty(), wrong.size() + " transfers off the rr sequence; first: "
                            + wrong.subList(0, Math.min(10, wrong.size()))),
                    () -> assertEquals(100, perServer.getOrDefault("rs1", 0), "rs1's share: " + perServer),
                    () -> assertEquals(100, perServer.getOrDefault("rs2", 0), "rs2's share: " + perServer));
        }

        @Test
        @Order(2)
        @DisplayName("ARP for the VIP is answered with the director's eth0 MAC")
        void arpForVipAnsweredByDirector() {
            String directorMac = LAB.lab().macOf(Lab.DIRECTOR, "eth0");
            LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
            connections++;
            String body = LAB.lab().get(VIP_URL).strip();
            assertTrue(body.matches("rs[12]"), "GET " + VIP_URL + " returned '" + body + "'");
            Lab.Neighbour n = LAB.lab().neigh(Lab.ROUTER, Lab.VIP)
                    .orElseThrow(() -> new AssertionError(Lab.ROUTER + " has no neighbour entry for " + Lab.VIP));
            say("router's neighbour %s: %s %s (director eth0 %s)", Lab.VIP, n.mac(), n.state(), directorMac);
            assertEquals(directorMac, n.mac(), Lab.ROUTER + "'s MAC for " + Lab.VIP + " (state " + n.state()
                    + ") should be the director's eth0");
        }

        @Test
        @Order(3)
        @DisplayName("a keep-alive connection idle for 5 s keeps working")
        void keepAliveSurvivesIdle() {
            String agent = "jvs-it-keepalive-" + tag + "-" + System.nanoTime();
            String script = """
                    exec 3<>/dev/tcp/%s/80
                    req() {
                      printf 'GET / HTTP/1.1\\r\\nHost: %s\\r\\nUser-Agent: %s\\r\\n\\r\\n' >&3
                      local status line len=0 body
                      IFS= read -r -t 5 status <&3
                      while IFS= read -r -t 5 line <&3; do
                        line=${line%%$'\\r'}
                        [ -z "$line" ] && break
                        case ${line,,} in content-length:*) len=${line#*:}; len=${len//[!0-9]/} ;; esac
                      done
                      IFS= read -r -t 5 -N "$len" body <&3
                      printf '%%s|%%s\\n' "${status%%$'\\r'}" "${body%%$'\\n'}"
                    }
                    req
                    sleep 5
                    req
                    exec 3<&-
                    """.formatted(Lab.VIP, Lab.VIP, agent);
            connections++;
            Exec.Result r = LAB.lab().sh(Duration.ofSeconds(30), Lab.CLIENT, script);
            List<String> lines = r.stdout().lines().toList();
            assertTrue(r.ok() && lines.size() == 2, "keep-alive client failed\n" + r.describe());
            String[] a = lines.get(0).split("\\|", 2);
            String[] b = lines.get(1).split("\\|", 2);
            say("keep-alive: before idle '%s', after 5 s idle '%s'", lines.get(0), lines.get(1));
            assertAll(
                    () -> assertEquals("HTTP/1.1 200 OK", a[0], "first response"),
                    () -> assertEquals("HTTP/1.1 200 OK", b[0], "response after 5 s idle"),
                    () -> assertEquals(a[1], b[1], "both requests of one connection go to one real server"));
            // The real server saw both requests on one TCP connection, from the client's own address.
            int rs = Integer.parseInt(a[1].substring(2));
            // nginx writes a request's log line after sending the response: wait for it briefly
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            List<String> seen = LAB.lab().accessLog(rs).stream().filter(l -> l.contains(agent)).toList();
            while (seen.size() < 2 && System.nanoTime() < deadline) {
                Lab.pause(100);
                seen = LAB.lab().accessLog(rs).stream().filter(l -> l.contains(agent)).toList();
            }
            List<String> logged = seen;
            assertEquals(2, logged.size(), "access log lines of rs" + rs + " for this client: " + logged);
            Matcher m1 = CONN.matcher(logged.get(0));
            Matcher m2 = CONN.matcher(logged.get(1));
            assertTrue(m1.find() && m2.find(), "unexpected access log format: " + logged);
            // DR leaves the destination alone (the real server answers as the VIP); NAT rewrites it.
            String server = (method == Method.DR ? Lab.VIP : Lab.rsIp(rs)) + ":80";
            assertAll(
                    () -> assertEquals(m1.group(4), m2.group(4), "same connection number: " + logged),
                    () -> assertEquals("1", m1.group(5), "first request on the connection: " + logged),
                    () -> assertEquals("2", m2.group(5), "second request on the connection: " + logged),
                    // FULLNAT: the real server sees the local address (no TOA or PROXY header configured)
                    () -> assertEquals(method == Method.FULLNAT ? LIP : Lab.CLIENT_IP, m1.group(1),
                            "the address the real server sees the client at (" + method + ")"),
                    () -> assertEquals(server, m1.group(2) + ":" + m1.group(3),
                            "the address the real server was reached at (" + method + ")"));
        }

        @Test
        @Order(4)
        @DisplayName("50 MiB download through the VIP arrives intact; DR replies bypass the director, NAT's cross it")
        void downloadThroughVip() {
            String sha = LAB.lab().blobSha256();
            Lab.Download direct = LAB.lab().download("http://" + Lab.rsIp(1) + ":8080/blob", 60);
            connections++;
            String out = "service=\"" + SERVICE + "\",direction=\"out\"";
            double outBefore = director.metric("jvs_service_packets_total", out);
            double outBytesBefore = director.metric("jvs_service_bytes_total", out);
            long rxBefore = directorRxBytes();
            Lab.Download via = LAB.lab().download(VIP_URL + "blob", 60);
            long rx = directorRxBytes() - rxBefore;
            double replies = director.metric("jvs_service_packets_total", out) - outBefore;
            double replyBytes = director.metric("jvs_service_bytes_total", out) - outBytesBefore;
            say("GET /blob 50 MiB: via VIP %.1f MB/s, direct rs1:8080 %.1f MB/s (ratio %.2f); OutPkts +%.0f,"
                    + " director eth0 received %d bytes", via.megabytesPerSecond(), direct.megabytesPerSecond(),
                    via.bytesPerSecond() / direct.bytesPerSecond(), replies, rx);
            assertAll(
                    () -> assertEquals(200, direct.httpCode(), "direct download status"),
                    () -> assertEquals(sha, direct.sha256(), "direct download sha256"),
                    () -> assertEquals(200, via.httpCode(), "download via VIP: status"),
                    () -> assertEquals(Lab.BLOB_BYTES, via.bytes(), "download via VIP: bytes"),
                    () -> assertEquals(sha, via.sha256(), "download via VIP: sha256"));
            if (method == Method.DR) {
                // jvs saw no reply (ipvsadm's OutPkts 0), and none reached the director at all: its
                // LAN interface received the client's ACKs, a small fraction of the 50 MiB.
                assertAll(
                        () -> assertEquals(0.0, replies, "DR: OutPkts during the download"),
                        () -> assertTrue(rx < Lab.BLOB_BYTES / 10, "DR: the director's eth0 received " + rx
                                + " bytes during the download: replies must go past it"));
            } else {
                assertAll(
                        () -> assertTrue(replyBytes > Lab.BLOB_BYTES, method + ": the replies crossed jvs (OutBytes "
                                + replyBytes + ", OutPkts " + replies + ")"),
                        () -> assertTrue(rx > Lab.BLOB_BYTES, method + ": the director's eth0 received the 50 MiB: " + rx));
            }
        }

        @Test
        @Order(5)
        @DisplayName("50 MiB upload (PUT) through the VIP arrives byte for byte")
        void uploadThroughVip() throws IOException {
            String sha = LAB.lab().blobSha256();
            String directName = "it-" + tag + "-direct-" + System.nanoTime() + ".bin";
            Lab.Upload direct = LAB.lab().upload("http://" + Lab.rsIp(1) + ":8080/upload/" + directName, LAB.lab().blobPath(), 60);
            Files.deleteIfExists(LAB.lab().uploadedFile(1, directName));
            String name = "it-" + tag + "-" + System.nanoTime() + ".bin";
            connections++;
            Lab.Upload via = LAB.lab().upload(VIP_URL + "upload/" + name, LAB.lab().blobPath(), 60);
            Map<Integer, String> stored = new TreeMap<>();
            for (int rs = 1; rs <= LAB.lab().realServers(); rs++) {
                int r = rs;
                LAB.lab().uploadedSha256(rs, name).ifPresent(s -> stored.put(r, s));
            }
            for (int rs = 1; rs <= LAB.lab().realServers(); rs++) {
                Files.deleteIfExists(LAB.lab().uploadedFile(rs, name));
            }
            say("PUT 50 MiB: via VIP %.1f MB/s, direct rs1:8080 %.1f MB/s (ratio %.2f); stored on rs%s",
                    via.megabytesPerSecond(), direct.megabytesPerSecond(),
                    via.bytesPerSecond() / direct.bytesPerSecond(), stored.keySet());
            assertEquals(201, direct.httpCode(), "direct upload status");
            assertEquals(201, via.httpCode(), "upload via VIP: status");
            assertEquals(Lab.BLOB_BYTES, via.bytes(), "upload via VIP: bytes sent");
            assertEquals(1, stored.size(), "exactly one real server stored " + name + ": " + stored);
            assertEquals(sha, stored.values().iterator().next(), "sha256 of the stored upload");
        }

        @Test
        @Order(6)
        @DisplayName("the connection table drains after the connections close")
        void connectionTableDrains() throws InterruptedException {
            long t0 = System.nanoTime();
            long deadline = t0 + DRAIN_LIMIT.toNanos();
            OptionalDouble first = director.metricValue("jvs_connection_table_entries", "");
            OptionalDouble v = first;
            while (System.nanoTime() < deadline && !(v.isPresent() && v.getAsDouble() == 0)) {
                Thread.sleep(250);
                v = director.metricValue("jvs_connection_table_entries", "");
            }
            double took = (System.nanoTime() - t0) / 1e9;
            say("connection table: %s entries at first look, %s after %.1f s (timeouts %d s)",
                    first.isPresent() ? first.getAsDouble() : "no metric", v.isPresent() ? v.getAsDouble() : "no metric",
                    took, STATE_TIMEOUT);
            if (v.isEmpty()) {
                director.metric("jvs_connection_table_entries", ""); // fails, listing what there is
            }
            assertEquals(0.0, v.getAsDouble(), "jvs_connection_table_entries after " + DRAIN_LIMIT.toSeconds()
                    + " s (state timeouts " + STATE_TIMEOUT + " s)");
        }

        @Test
        @Order(7)
        @DisplayName("connection counters equal the connections made")
        void countersMatchConnections() throws InterruptedException {
            String svc = "service=\"" + SERVICE + "\"";
            String rs1 = svc + ",real_server=\"" + Lab.rsIp(1) + ":80\"";
            String rs2 = svc + ",real_server=\"" + Lab.rsIp(2) + ":80\"";
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            double c1;
            double c2;
            double total;
            do {
                c1 = director.metric("jvs_real_server_connections_total", rs1);
                c2 = director.metric("jvs_real_server_connections_total", rs2);
                total = director.metric("jvs_service_connections_total", svc);
                if (c1 + c2 == connections && total == connections) {
                    break;
                }
                Thread.sleep(200);
            } while (System.nanoTime() < deadline);
            say("connections made %d; counters: rs1 %.0f, rs2 %.0f, service %.0f", connections, c1, c2, total);
            double fc1 = c1;
            double fc2 = c2;
            double ftotal = total;
            int n = connections;
            assertAll(
                    () -> assertEquals(n, fc1 + fc2, "jvs_real_server_connections_total rs1 + rs2"),
                    () -> assertEquals(n, ftotal, "jvs_service_connections_total{" + svc + "}"),
                    // rr from rs2: rs2 gets the even-numbered connections.
                    () -> assertEquals((n + 1) / 2, fc2, "rs2's count (rr starts with rs2)"),
                    () -> assertEquals(n / 2, fc1, "rs1's count"));
        }

        @Test
        @Order(8)
        @DisplayName("stopping the forwarder puts back every route, rule and sysctl it changed")
        void stopRestoresTheNamespace() {
            if (attach == Attach.TAP) {
                // while it runs, TAP mode routes the VIP (and NAT replies) into jvs0 and forwards in the kernel
                assertTrue(LAB.lab().ip(Lab.DIRECTOR, "-4", "route", "show", "table", "all").requireOk().stdout()
                        .contains(Lab.VIP + " dev jvs0"), "VIP routed into the TAP while running");
                assertEquals("1", sysctlIpForward(), "ip_forward while running in TAP mode");
            }
            if (attach == Attach.XDP) {
                assertTrue(xdpProgramOnEth0().contains("prog/xdp id") && xdpProgramOnEth0().contains("name jvs_xdp"),
                        "jvs's XDP program on eth0 while running: " + xdpProgramOnEth0());
            }
            director.stop(); // SIGTERM; throws unless the forwarder exits within the grace period
            assertEquals(namespaceBefore, namespaceState(), "the director namespace after the forwarder stopped");
            assertEquals("", xdpProgramOnEth0(), "no XDP program left on eth0 after SIGTERM");
        }

        /** ip_forward, every IPv4 route of every table (jvs0's are gone with it) and the policy rules. */
        String namespaceState() {
            return "ip_forward=" + sysctlIpForward() + "\n"
                    + LAB.lab().ip(Lab.DIRECTOR, "-4", "route", "show", "table", "all").requireOk().stdout()
                    + LAB.lab().ip(Lab.DIRECTOR, "-4", "rule", "show").requireOk().stdout();
        }

        String sysctlIpForward() {
            return LAB.lab().exec(Lab.DIRECTOR, "cat", "/proc/sys/net/ipv4/ip_forward").requireOk().stdout().strip();
        }
    }

    /** The lines of {@code ip -d link show eth0} (director) that name an XDP program; empty when none is attached. */
    static String xdpProgramOnEth0() {
        return LAB.lab().ip(Lab.DIRECTOR, "-d", "link", "show", "eth0").requireOk().stdout().lines()
                .filter(l -> l.contains("prog/xdp")).map(String::strip).reduce("", (a, b) -> a + b);
    }

    /** Bytes the director namespace's eth0 (its LAN interface) received so far, by the kernel's count. */
    static long directorRxBytes() {
        return Long.parseLong(LAB.lab().exec(Lab.DIRECTOR, "cat", "/sys/class/net/eth0/statistics/rx_bytes").requireOk()
                .stdout().strip());
    }

    /**
     * The lab's nginx log format: "$msec $remote_addr:$remote_port -> $server_addr:$server_port
     * conn=$connection req=$connection_requests ..."; groups: 1 remote address, 2 server address,
     * 3 server port, 4 connection number, 5 request number on that connection.
     */
    static final Pattern CONN = Pattern.compile("^\\S+ ([0-9.]+):\\d+ -> ([0-9.]+):(\\d+) conn=(\\d+) req=(\\d+) ");
}
