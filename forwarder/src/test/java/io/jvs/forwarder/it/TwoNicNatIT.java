package io.jvs.forwarder.it;

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

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LVS-NAT guide's two-NIC director ({@code scripts/lab up --nat-two-nic}): the client
 * reaches the VIP on the director's external segment (eth0), the two real servers nrs1 and
 * nrs2 sit on a private segment behind the director's eth1, which is their default gateway;
 * wrr 1:2, VIP:80 to RIP:8080, {@code -m}. Real kernel TCP from the client namespace, real
 * nginx; in packet mode (both interfaces attached) and in TAP mode (the kernel receives,
 * jvs sends by --lan eth0 and --lan eth1: requests leave by eth1, replies by eth0). Dual stack:
 * the same over IPv6 ([2001:db8::100]:80, rr over [2001:db8:3::1N]:8080 on the private segment
 * 2001:db8:3::/64), with NDP for the VIP6 answered on the external segment only, as ARP is. And
 * the attachments it refuses, with nothing attached.
 */
@TestClassOrder(ClassOrderer.OrderAnnotation.class)
class TwoNicNatIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String EXT = "eth0";
    static final String INT = "eth1";
    static final int CONNECTIONS = 90;
    static final String CONFIG = """
            -A -t 10.0.0.100:80 -s wrr
            -a -t 10.0.0.100:80 -r 10.0.3.11:8080 -m -w 1
            -a -t 10.0.0.100:80 -r 10.0.3.12:8080 -m -w 2
            -A -t [2001:db8::100]:80 -s rr
            -a -t [2001:db8::100]:80 -r [2001:db8:3::11]:8080 -m -w 1
            -a -t [2001:db8::100]:80 -r [2001:db8:3::12]:8080 -m -w 1
            """;
    static final String VIP6 = "2001:db8::100";
    static final String URL6 = "http://[" + VIP6 + "]/";
    static final int CONNECTIONS6 = 40;

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--nat-two-nic");

    static final String DIRECTOR_EXT_MAC = "02:6a:76:00:00:02";
    static final String DIRECTOR_INT_MAC = "02:6a:76:00:03:01";

    /** Every MAC that answered two ARP requests for addr sent from ns by iface (arping waits up to 3 s). */
    static Set<String> arpReplies(String ns, String iface, String addr) {
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(10), ns, "arping", "-c", "2", "-w", "3", "-I", iface, addr);
        assertFalse(r.timedOut(), r.describe());
        Set<String> macs = new TreeSet<>();
        Matcher m = Pattern.compile("reply from " + Pattern.quote(addr) + " \\[([0-9A-Fa-f:]{17})\\]")
                .matcher(r.stdout());
        while (m.find()) {
            macs.add(m.group(1).toLowerCase(Locale.ROOT));
        }
        return macs;
    }

    static String nrsNamespace(int n) {
        return Lab.PREFIX + "nrs" + n;
    }

    @BeforeAll
    static void twoNicSegmentIsThere() {
        for (int n = 1; n <= 2; n++) {
            LAB.lab().exec(nrsNamespace(n), "true").requireOk();
        }
        // The real servers are reachable only through the director: the client cannot see them.
        Exec.Result direct = LAB.lab().curl(Duration.ofSeconds(10), "-s", "--max-time", "2",
                "http://10.0.3.11:8080/");
        assertFalse(direct.ok() && direct.stdout().strip().equals("nrs1"),
                "nrs1 answers the client directly: the private segment is not private\n" + direct.describe());
        Exec.Result direct6 = LAB.lab().curl(Duration.ofSeconds(10), "-s", "-g", "--max-time", "2",
                "http://[2001:db8:3::11]:8080/");
        assertFalse(direct6.ok() && direct6.stdout().strip().equals("nrs1"),
                "nrs1 answers the client directly over IPv6\n" + direct6.describe());
    }

    /** One forwarder per mode. */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    @Timeout(240)
    abstract static class Mode {
        final String tag;
        ForwarderProcess director;

        @RegisterExtension
        final DirectorLogOnFailure logOnFailure = new DirectorLogOnFailure(() -> director);

        Mode(String tag) {
            this.tag = tag;
        }

        abstract List<String> attachArgs();

        @BeforeAll
        void startDirector() {
            String fixed = LAB.lab().resetDirector();
            if (!fixed.isEmpty()) {
                say("%s", fixed);
            }
            LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
            LAB.lab().neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
            Path conf = LAB.lab().itFile("director-" + tag + ".conf", CONFIG);
            List<String> args = new ArrayList<>(attachArgs());
            args.addAll(List.of("--config", conf.toString(), "--metrics", METRICS));
            director = ForwarderProcess.start(LAB.lab(), tag, METRICS, args);
        }

        @AfterAll
        void stopDirector() {
            if (director != null) {
                int rc = director.stop();
                say("forwarder stopped, exit %d; log %s", rc, director.log());
            }
        }

        void say(String fmt, Object... args) {
            System.out.println("[" + tag + "] " + String.format(Locale.ROOT, fmt, args));
        }

        double port(String family, String iface) {
            return director.metric(family, "port=\"" + iface + "\"");
        }

        @Test
        @Order(1)
        @DisplayName("90 new connections to VIP:80 split exactly 30/60 over nrs1:8080 and nrs2:8080 (wrr 1:2)")
        void wrrSplitsNewConnectionsOneToTwo() {
            double extTxBefore = port("jvs_port_tx_frames_total", EXT);
            double intTxBefore = port("jvs_port_tx_frames_total", INT);
            List<Lab.Transfer> transfers = LAB.lab().getRepeatedly("http://" + Lab.VIP + "/", CONNECTIONS,
                    Duration.ofSeconds(120), "-H", "Connection: close");
            Map<String, Integer> perServer = new TreeMap<>();
            for (Lab.Transfer t : transfers) {
                assertTrue(t.ok(), "transfer " + t.index() + " failed: " + t);
                assertEquals(1, t.numConnects(), "transfer " + t.index() + " opened a new connection");
                perServer.merge(t.body(), 1, Integer::sum);
            }
            say("%d connections: %s", transfers.size(), perServer);
            assertEquals(CONNECTIONS, transfers.size(), "every connection answered");
            assertEquals(Map.of("nrs1", 30, "nrs2", 60), perServer, "wrr 1:2 over 90 new connections");
            // Requests left by the private side, replies by the external side (the port label).
            double extTx = port("jvs_port_tx_frames_total", EXT) - extTxBefore;
            double intTx = port("jvs_port_tx_frames_total", INT) - intTxBefore;
            say("frames sent: %s %.0f, %s %.0f", EXT, extTx, INT, intTx);
            assertTrue(intTx >= CONNECTIONS * 3, "requests left by " + INT + ": " + intTx + " frames");
            assertTrue(extTx >= CONNECTIONS * 3, "replies left by " + EXT + ": " + extTx + " frames");
            assertEquals(0, director.metric("jvs_dropped_packets_total", "reason=\"no_route\""),
                    "no packet without a route by an attached interface");
        }

        @Test
        @Order(4)
        @DisplayName("ARP for the VIP is answered on the external segment (eth0's MAC), not on the private one")
        void arpForTheVipOnlyWhereItsClientsAre() {
            assertEquals(Set.of(DIRECTOR_EXT_MAC), arpReplies(Lab.ROUTER, Lab.ROUTER_LAN_IFACE, Lab.VIP),
                    "the router's ARP for the VIP: answered with eth0's MAC");
            assertEquals(Set.of(), arpReplies(nrsNamespace(1), "eth0", Lab.VIP),
                    "nrs1's ARP for the VIP on the private segment: unanswered");
            // The director's private address is the kernel's: answered there as ever.
            assertEquals(Set.of(DIRECTOR_INT_MAC), arpReplies(nrsNamespace(1), "eth0", "10.0.3.1"));
        }

        @Test
        @Order(2)
        @DisplayName("a 50 MiB download through the VIP arrives byte for byte")
        void downloadByteForByte() {
            Lab.Download down = LAB.lab().download("http://" + Lab.VIP + "/blob", 120);
            say("download: %d bytes, %.0f MB/s", down.bytes(), down.megabytesPerSecond());
            assertEquals(200, down.httpCode());
            assertEquals(Lab.BLOB_BYTES, down.bytes());
            assertEquals(LAB.lab().blobSha256(), down.sha256(), "sha256 of the download");
        }

        @Test
        @Order(3)
        @DisplayName("a 50 MiB upload through the VIP arrives byte for byte on nrs1 or nrs2")
        void uploadByteForByte() throws Exception {
            String name = "two-nic-" + tag + ".bin";
            List<Path> candidates = List.of(LAB.lab().state().resolve("nrs1/upload/" + name),
                    LAB.lab().state().resolve("nrs2/upload/" + name));
            for (Path p : candidates) {
                Files.deleteIfExists(p);
            }
            Lab.Upload up = LAB.lab().upload("http://" + Lab.VIP + "/upload/" + name, LAB.lab().blobPath(), 120);
            say("upload: %d bytes, %.0f MB/s", up.bytes(), up.megabytesPerSecond());
            assertEquals(201, up.httpCode(), "PUT answered 201 Created");
            List<Path> stored = candidates.stream().filter(Files::isRegularFile).toList();
            assertEquals(1, stored.size(), "the upload landed on exactly one of nrs1, nrs2: " + stored);
            assertEquals(LAB.lab().blobSha256(), Lab.sha256(stored.getFirst()), "sha256 of the stored upload");
            Files.delete(stored.getFirst());
        }

        @Test
        @Order(5)
        @DisplayName("40 new IPv6 connections to [VIP6]:80 alternate nrs2, nrs1 (rr over the private segment), none failed")
        void ipv6RoundRobinOverThePrivateSegment() {
            double extTxBefore = port("jvs_port_tx_frames_total", EXT);
            double intTxBefore = port("jvs_port_tx_frames_total", INT);
            List<Lab.Transfer> transfers = LAB.lab().getRepeatedly(URL6, CONNECTIONS6, Duration.ofSeconds(120),
                    "-g", "-H", "Connection: close");
            List<String> wrong = new ArrayList<>();
            Map<String, Integer> perServer = new TreeMap<>();
            for (Lab.Transfer t : transfers) {
                perServer.merge(t.body(), 1, Integer::sum);
                // IPVS lists the newest real server first and rr starts at the head: nrs2, nrs1, ...
                String want = t.index() % 2 == 0 ? "nrs2" : "nrs1";
                if (!t.ok() || t.numConnects() != 1 || !t.body().equals(want) || !t.remote().equals(VIP6 + ":80")) {
                    wrong.add("#" + t.index() + ": '" + t.body() + "' http " + t.httpCode() + " curl exit "
                            + t.curlExit() + " to " + t.remote() + ", expected '" + want + "'");
                }
            }
            say("%d IPv6 connections: %s", transfers.size(), perServer);
            assertEquals(CONNECTIONS6, transfers.size(), "every IPv6 connection answered");
            assertEquals(List.of(), wrong, "rr order, no failures");
            double extTx = port("jvs_port_tx_frames_total", EXT) - extTxBefore;
            double intTx = port("jvs_port_tx_frames_total", INT) - intTxBefore;
            say("IPv6 frames sent: %s %.0f, %s %.0f", EXT, extTx, INT, intTx);
            assertTrue(intTx >= CONNECTIONS6 * 3, "requests left by " + INT + ": " + intTx + " frames");
            assertTrue(extTx >= CONNECTIONS6 * 3, "replies left by " + EXT + ": " + extTx + " frames");
        }

        @Test
        @Order(6)
        @DisplayName("a 50 MiB download through the VIP6 arrives byte for byte")
        void ipv6DownloadByteForByte() {
            Lab.Download down = LAB.lab().download(URL6 + "blob", 120);
            say("IPv6 download: %d bytes, %.0f MB/s", down.bytes(), down.megabytesPerSecond());
            assertEquals(200, down.httpCode());
            assertEquals(Lab.BLOB_BYTES, down.bytes());
            assertEquals(LAB.lab().blobSha256(), down.sha256(), "sha256 of the download");
        }

        @Test
        @Order(7)
        @DisplayName("a 50 MiB upload through the VIP6 arrives byte for byte on nrs1 or nrs2")
        void ipv6UploadByteForByte() throws Exception {
            String name = "two-nic6-" + tag + ".bin";
            List<Path> candidates = List.of(LAB.lab().state().resolve("nrs1/upload/" + name),
                    LAB.lab().state().resolve("nrs2/upload/" + name));
            for (Path p : candidates) {
                Files.deleteIfExists(p);
            }
            Lab.Upload up = LAB.lab().upload(URL6 + "upload/" + name, LAB.lab().blobPath(), 120);
            say("IPv6 upload: %d bytes, %.0f MB/s", up.bytes(), up.megabytesPerSecond());
            assertEquals(201, up.httpCode(), "PUT answered 201 Created");
            List<Path> stored = candidates.stream().filter(Files::isRegularFile).toList();
            assertEquals(1, stored.size(), "the upload landed on exactly one of nrs1, nrs2: " + stored);
            assertEquals(LAB.lab().blobSha256(), Lab.sha256(stored.getFirst()), "sha256 of the stored upload");
            Files.delete(stored.getFirst());
        }

        @Test
        @Order(8)
        @DisplayName("an NS for the VIP6 is answered on the external segment (eth0's MAC), not on the private one")
        void ndpForTheVip6OnlyWhereItsClientsAre() {
            assertEquals(DIRECTOR_EXT_MAC, LAB.lab().solicit(Lab.ROUTER, Lab.ROUTER_LAN_IFACE, VIP6),
                    "the router's NS for the VIP6: answered with eth0's MAC");
            assertEquals("", LAB.lab().solicit(nrsNamespace(1), "eth0", VIP6),
                    "nrs1's NS for the VIP6 on the private segment: unanswered");
            // The director's private IPv6 address is the kernel's: answered there as ever.
            assertEquals(DIRECTOR_INT_MAC, LAB.lab().solicit(nrsNamespace(1), "eth0", "2001:db8:3::1"));
        }

        @Test
        @Order(9)
        @DisplayName("publishing the IPv6 service again: its unsolicited NA reaches the router's segment only")
        void unsolicitedNaOnlyWhereTheVip6Lives() {
            // Listeners on both segments for 4 s (unsolicited NAs for the VIP6: Solicited flag clear,
            // their target link-layer addresses), while jvsadm takes the service away and back.
            String listen = String.join("\n",
                    "import socket, select, sys, time",
                    "t = socket.inet_pton(socket.AF_INET6, '" + VIP6 + "')",
                    "s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)",
                    "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[1].encode())",
                    "seen = set()",
                    "end = time.time() + 4",
                    "while time.time() < end:",
                    "    r, _, _ = select.select([s], [], [], max(0, end - time.time()))",
                    "    if not r: break",
                    "    m = s.recv(1500)",
                    "    if m[0] == 136 and m[4] & 0x40 == 0 and m[8:24] == t and len(m) >= 32 and m[24] == 2:",
                    "        seen.add(m[26:32].hex(':'))",
                    "print(','.join(sorted(seen)))");
            String jvsadm = LAB.lab().repo().resolve("bin/jvsadm").toString();
            Path out = LAB.lab().state().resolve("na-" + tag);
            String script = String.join("\n",
                    "set -e",
                    "ip netns exec " + Lab.ROUTER + " python3 -c \"$1\" " + Lab.ROUTER_LAN_IFACE + " >" + out + ".router &",
                    "a=$!",
                    "ip netns exec " + nrsNamespace(1) + " python3 -c \"$1\" eth0 >" + out + ".nrs1 &",
                    "b=$!",
                    "sleep 1",
                    "ip netns exec " + Lab.DIRECTOR + " " + jvsadm + " -D -t [" + VIP6 + "]:80",
                    "sleep 0.5",
                    "ip netns exec " + Lab.DIRECTOR + " " + jvsadm + " -A -t [" + VIP6 + "]:80 -s rr",
                    "ip netns exec " + Lab.DIRECTOR + " " + jvsadm + " -a -t [" + VIP6 + "]:80 -r [2001:db8:3::11]:8080 -m -w 1",
                    "ip netns exec " + Lab.DIRECTOR + " " + jvsadm + " -a -t [" + VIP6 + "]:80 -r [2001:db8:3::12]:8080 -m -w 1",
                    "wait $a $b",
                    "echo \"router=$(cat " + out + ".router) nrs1=$(cat " + out + ".nrs1)\"",
                    "rm -f " + out + ".router " + out + ".nrs1");
            Exec.Result r = Exec.run(Duration.ofSeconds(30), List.of("bash", "-c", script, "na", listen));
            say("unsolicited NAs for the VIP6 seen: %s", r.stdout().strip());
            assertEquals("router=" + DIRECTOR_EXT_MAC + " nrs1=", r.requireOk().stdout().strip(),
                    "announced with eth0's MAC on the router's segment, nothing on the private one\n" + r.describe());
        }
    }

    @Nested
    @Order(1)
    @DisplayName("packet mode: --attach packet:eth0 --attach packet:eth1")
    class Packet extends Mode {
        Packet() {
            super("two-nic-packet");
        }

        @Override
        List<String> attachArgs() {
            return List.of("--attach", "packet:" + EXT, "--attach", "packet:" + INT);
        }
    }

    @Nested
    @Order(2)
    @DisplayName("TAP mode: --attach tap:jvs0 --lan eth0 --lan eth1")
    class Tap extends Mode {
        Tap() {
            super("two-nic-tap");
        }

        @Override
        List<String> attachArgs() {
            return List.of("--attach", "tap:jvs0", "--lan", EXT, "--lan", INT);
        }
    }

    /** Attachments the director refuses: one line, exit status non-zero, nothing attached. */
    @Nested
    @Order(3)
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    @DisplayName("bad attachments: one-line error, nothing attached")
    class BadInput {
        static final String BARE = "jvsbare0";
        static final String BARE_PEER = "jvsbare1";
        static final String TAP = "jvsbad0";

        @BeforeAll
        void bareInterface() {
            LAB.lab().resetDirector();
            // An interface that is up but has no IPv4 address (a veth pair inside the director:
            // this kernel has no dummy driver).
            LAB.lab().ip(Lab.DIRECTOR, "link", "add", BARE, "type", "veth", "peer", "name", BARE_PEER).requireOk();
            LAB.lab().ip(Lab.DIRECTOR, "link", "set", BARE, "up").requireOk();
            LAB.lab().ip(Lab.DIRECTOR, "link", "set", BARE_PEER, "up").requireOk();
        }

        @AfterAll
        void removeBare() {
            LAB.lab().ip(Lab.DIRECTOR, "link", "del", BARE);
        }

        /** Runs the forwarder with args in the director's namespace; returns its output lines (stdout + stderr). */
        List<String> refused(String... args) {
            List<String> cmd = new ArrayList<>(List.of(ForwarderProcess.executable(LAB.lab()).toString()));
            cmd.addAll(List.of(args));
            cmd.addAll(List.of("--metrics", "off", "--control", LAB.lab().state().resolve("bad.sock").toString()));
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(60), Lab.DIRECTOR, cmd.toArray(String[]::new));
            assertFalse(r.timedOut(), r.describe());
            assertTrue(r.exitCode() != 0, "refused with a non-zero exit status\n" + r.describe());
            // One line saying what is wrong (a usage error adds jvs-forwarder's usual pointer to --help).
            List<String> lines = (r.stdout() + r.stderr()).lines().filter(l -> !l.isBlank())
                    .filter(l -> !l.equals("Try 'jvs-forwarder --help' for more information.")).toList();
            assertEquals(1, lines.size(), "one line\n" + r.describe());
            // Nothing attached: forwarding untouched, no TAP left, no process left behind.
            assertEquals("0", LAB.lab().exec(Lab.DIRECTOR, "cat", "/proc/sys/net/ipv4/ip_forward").requireOk()
                    .stdout().strip(), "ip_forward untouched");
            assertFalse(LAB.lab().ip(Lab.DIRECTOR, "link", "show", TAP).ok(), "no TAP device " + TAP + " exists");
            assertEquals(List.of(), LAB.lab().pidsIn(Lab.DIRECTOR), "nothing left running in the director");
            System.out.println("[two-nic-bad] " + String.join(" ", args) + " -> " + lines.getFirst());
            return lines;
        }

        @Test
        @DisplayName("two attachments on one interface")
        void twoAttachmentsOnOneInterface() {
            assertTrue(refused("--attach", "packet:eth0", "--attach", "packet:eth0").getFirst()
                    .contains("--attach packet:eth0 given twice"));
            assertTrue(refused("--attach", "tap:" + TAP, "--lan", "eth0", "--lan", "eth0").getFirst()
                    .contains("--lan eth0 given twice"));
        }

        @Test
        @DisplayName("mixes that make no sense: a TAP with a packet attachment, two TAPs")
        void mixesRefused() {
            assertTrue(refused("--attach", "tap:" + TAP, "--attach", "packet:eth0", "--lan", "eth1").getFirst()
                    .contains("do not mix"));
            assertTrue(refused("--attach", "tap:" + TAP, "--attach", "tap:jvsbad1", "--lan", "eth1").getFirst()
                    .contains("one tap:NAME only"));
        }

        @Test
        @DisplayName("an interface without an IPv4 address")
        void interfaceWithoutAddress() {
            assertTrue(refused("--attach", "packet:eth0", "--attach", "packet:" + BARE).getFirst()
                    .contains("interface " + BARE + " has no IPv4 address"));
            assertTrue(refused("--attach", "tap:" + TAP, "--lan", "eth0", "--lan", BARE).getFirst()
                    .contains("interface " + BARE + " has no IPv4 address"));
        }

        @Test
        @DisplayName("an unknown interface")
        void unknownInterface() {
            assertTrue(refused("--attach", "packet:eth0", "--attach", "packet:nosuch9").getFirst()
                    .contains("interface nosuch9: no such interface"));
            assertTrue(refused("--attach", "tap:" + TAP, "--lan", "eth1", "--lan", "nosuch9").getFirst()
                    .contains("interface nosuch9: no such interface"));
        }
    }
}
