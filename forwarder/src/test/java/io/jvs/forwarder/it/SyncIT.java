package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IPVS connection sync between two real jvs directors: the lab's director (master) and a second
 * one in a namespace this test makes ({@code <prefix>sync-backup}), joined to the first only by a
 * dedicated veth pair ({@code sync0}, 10.9.0.1/24 and 10.9.0.2/24) that is both the backup's
 * attach interface and the mcast interface, so the backup never sees or answers the LAN.
 *
 * <p>Long NAT and FULLNAT downloads, IPv6 NAT and FULLNAT ones, two IPv6 TUN ones (ip6ip6 to ts1,
 * GUE over IPv6 to ts2, the TUN segment's real servers, whose agents decapsulate), and one each
 * through an IPv4 and an IPv6 {@code --synproxy} NAT service (real curl from the client, real nginx;
 * both directors read the same {@code --synproxy-key}) run through the master; the backup must then
 * hold the same connections ({@code jvsadm -c -n}: protocol, client, VIP, real server, ESTABLISHED,
 * expiry within ESTABLISHED's 900 s; the IPv6 ones sent as ip_vs_sync_v6 entries, FULLNAT6's with
 * jvs's option 26, the proxied ones with their splice state in jvs's option 25) and have reserved the FULLNAT
 * local ports of both families, and the daemons report ipvsadm's {@code -L --daemon} lines.
 *
 * <p>An IPv6 persistent service ({@code -p 60 -M 128}, rr) is asked once from a second client
 * address (2001:db8:1::3, rr's first server) and once from the client's own (the second server);
 * both templates are synced as IPv6 templates. After the takeover the client asks again: the
 * backup's own rr would pick the first server, the synced template keeps it on the second.
 *
 * <p>Then a takeover: the backup also has a LAN port ({@code eth0}, 10.0.0.2/24 like the
 * master's, and 2001:db8::2/64; its veth peer left unplugged in the backup's namespace). The master
 * is stopped, its LAN port taken down, the backup's plugged into the LAN bridge, and the neighbour
 * entries for the VIPs, the director's addresses and the FULLNAT local address forgotten on the
 * router and the real servers (standing in for the gratuitous ARP and unsolicited NA a VRRP
 * master sends). Every download, NAT, FULLNAT, IPv6 NAT, FULLNAT and TUN (whose client ACKs alone cross
 * the director: without the synced entry they are no_connection), and SYN-proxied NAT of both families
 * (whose every segment the backup must translate between the cookie's and the server's sequence spaces), must
 * then complete byte for byte through the backup, which never saw them begin, on the real server the master picked.
 */
@Timeout(300)
class SyncIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String BACKUP_NS = Lab.PREFIX + "sync-backup";
    static final String LIP = "10.0.0.3";
    static final String VIP6 = "2001:db8::100";
    static final String DIRECTOR6 = "2001:db8::2";
    static final String LIP6 = "2001:db8::3";
    /** A second client address, for a second persistence template (-M 128). */
    static final String CLIENT6_B = "2001:db8:1::3";
    static final String CLIENT6 = "2001:db8:1::2";
    /** The TUN segment's real servers over IPv6 (their agents decapsulate ip6ip6 and GUE6; nginx on :8080). */
    static final String TS6_1 = "2001:db8:2::11";
    static final String TS6_2 = "2001:db8:2::12";

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--tun-servers", "2");

    private ForwarderProcess master;
    private ForwarderProcess backup;
    private final List<Process> downloads = new ArrayList<>();
    private final List<Path> downloadOutputs = new ArrayList<>();
    /** The GET whose SYN-proxied connection is held on the master at the takeover. */
    private Process heldGet;
    static final String HOLD_TABLE = "jvs_it_sync_hold";
    static final int HOLD_PORT = 40000;

    @AfterEach
    void tearDown() {
        if (heldGet != null) {
            heldGet.descendants().forEach(ProcessHandle::destroyForcibly);
            heldGet.destroyForcibly();
        }
        for (int rs = 1; rs <= 2; rs++) {
            releaseSyns(rs); // if still there
        }
        for (Process p : downloads) {
            // by the handles of what this test started: bash, then its curl and sha256sum
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        if (backup != null) {
            System.out.println("[sync] backup stopped, exit " + backup.stop() + "; log " + backup.log());
        }
        if (master != null) {
            System.out.println("[sync] master stopped, exit " + master.stop() + "; log " + master.log());
        }
        LAB.lab().ip(Lab.DIRECTOR, "link", "del", "sync0"); // its peer goes with it
        LAB.lab().ip(Lab.LAN, "link", "del", "sbk0"); // the backup's LAN veth, if plugged (else gone with the netns)
        deleteBackupNamespace();
        LAB.lab().ip(Lab.CLIENT, "-6", "addr", "del", CLIENT6_B + "/64", "dev", "eth0"); // if added
        LAB.lab().ip(Lab.DIRECTOR, "link", "set", "eth0", "up"); // taken down for the takeover
        forgetDirectorNeighbours();
        LAB.lab().resetDirector();
    }

    /** What a new VRRP master's gratuitous ARP and unsolicited NA would update, forgotten instead. */
    private static void forgetDirectorNeighbours() {
        Lab lab = LAB.lab();
        for (int rs = 1; rs <= 2; rs++) {
            lab.neighForget(Lab.rsNamespace(rs), Lab.DIRECTOR_IP, "eth0");
            lab.neighForget(Lab.rsNamespace(rs), LIP, "eth0");
            lab.neighForget(Lab.rsNamespace(rs), DIRECTOR6, "eth0");
            lab.neighForget(Lab.rsNamespace(rs), LIP6, "eth0");
        }
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        lab.neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE);
    }

    /** ip netns del, by this test's own name only. */
    private static Exec.Result deleteBackupNamespace() {
        return Exec.run(Duration.ofSeconds(10), List.of(Lab.ip(), "netns", "del", BACKUP_NS));
    }

    /** The real server's nft table that drops the SYNs of client port {@link #HOLD_PORT}, deleted by its name. */
    private static Exec.Result releaseSyns(int rs) {
        return LAB.lab().exec(Duration.ofSeconds(10), Lab.rsNamespace(rs), "nft", "delete", "table", "inet", HOLD_TABLE);
    }

    /** jvs_synproxy_total{event} of a director. */
    private static double synproxy(ForwarderProcess d, String event) {
        return d.metricValue("jvs_synproxy_total", "event=\"" + event + "\"").orElse(0);
    }

    private void ok(Exec.Result r, String what) {
        assertTrue(r.ok(), what + "\n" + r.describe());
    }

    private String jvsadm(String ns, String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvsadm").toString()));
        cmd.addAll(List.of(args));
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(30), ns, cmd.toArray(String[]::new));
        ok(r, "jvsadm " + String.join(" ", args) + " in " + ns);
        return r.stdout();
    }

    /**
     * A rate-limited download from the client, left running (about 50 s for the 50 MiB blob: it must
     * outlast everything before the takeover, some 30 s of jvsadm calls on a loaded machine); it
     * writes the body's sha256, HTTP code and size to a file.
     */
    private void startDownload(String host, int port) {
        Path out = LAB.lab().itFile("sync-download-" + downloads.size() + ".txt", "");
        try {
            downloads.add(new ProcessBuilder(Lab.ip(), "netns", "exec", Lab.CLIENT, "bash", "-c",
                    "set -o pipefail; curl -g -sS --limit-rate 1M --max-time 150 -w '%{stderr}%{http_code} %{size_download}\\n'"
                            + " http://" + host + ":" + port + "/blob | sha256sum | cut -d' ' -f1")
                    .redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start());
            downloadOutputs.add(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Sends one version 1 message holding one TCP ESTABLISHED entry (10.0.1.99:1234 -> VIP:80 ->
     * rs1:80, 900 s) plus the option bytes given, out of sync0 in the master's namespace from
     * source address src, with size as the header's size field.
     */
    private void send(String src, int size, String optionHex) {
        String script = String.join("\n",
                "import socket, struct",
                "def a(x): return struct.unpack('!I', socket.inet_aton(x))[0]",
                "opt = bytes.fromhex('" + optionHex + "')",
                "e = struct.pack('!BBHIHHHHIIIII', 0, 6, 36 + len(opt), 0, 1, 1234, 80, 80, 0, 900,"
                        + " a('10.0.1.99'), a('" + Lab.VIP + "'), a('" + Lab.rsIp(1) + "')) + opt",
                "m = struct.pack('!BBHBBH', 0, 0, " + size + ", 1, 1, 0) + e",
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'sync0')",
                "s.setsockopt(socket.IPPROTO_IP, 19, 1)  # IP_TRANSPARENT: a source address the namespace does not have",
                "s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)",
                "s.bind(('" + src + "', 0))",
                "s.sendto(m, ('224.0.0.81', 8848))");
        ok(LAB.lab().exec(Duration.ofSeconds(10), Lab.DIRECTOR, "python3", "-c", script), "send from " + src);
    }

    /** The body of one GET from the client namespace, from address {@code from} (curl --interface), stripped. */
    private String get(String from, String url) {
        List<String> cmd = List.of("curl", "-g", "-sS", "--max-time", "10", "-H", "Connection: close", "--interface",
                from, url);
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(20), Lab.CLIENT, cmd.toArray(String[]::new));
        ok(r, "GET " + url + " from " + from);
        return r.stdout().strip();
    }

    /** jvsadm -c -n as "TCP client vip dest state" -> expiry seconds (templates: none here). */
    private static Map<String, Integer> connections(String listing) {
        Map<String, Integer> m = new TreeMap<>();
        for (String line : listing.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length != 6 || !(f[0].equals("TCP") || f[0].equals("UDP"))) {
                continue;
            }
            String[] mmss = f[1].split(":");
            m.put(f[0] + " " + f[3] + " " + f[4] + " " + f[5] + " " + f[2],
                    Integer.parseInt(mmss[0]) * 60 + Integer.parseInt(mmss[1]));
        }
        return m;
    }

    @Test
    void theBackupHoldsTheMastersNatAndFullNatConnections() throws Exception {
        Lab lab = LAB.lab();
        lab.resetDirector();
        // the second director's namespace and the dedicated sync link
        deleteBackupNamespace(); // a leftover of an earlier run, by name
        ok(Exec.run(Duration.ofSeconds(10), List.of(Lab.ip(), "netns", "add", BACKUP_NS)), "netns add");
        ok(lab.ip(Lab.DIRECTOR, "link", "add", "sync0", "type", "veth", "peer", "name", "sync0", "netns", BACKUP_NS),
                "veth");
        ok(lab.ip(Lab.DIRECTOR, "addr", "add", "10.9.0.1/24", "dev", "sync0"), "addr");
        ok(lab.ip(Lab.DIRECTOR, "link", "set", "sync0", "up"), "up");
        ok(lab.ip(BACKUP_NS, "addr", "add", "10.9.0.2/24", "dev", "sync0"), "addr");
        ok(lab.ip(BACKUP_NS, "link", "set", "sync0", "up"), "up");
        ok(lab.ip(BACKUP_NS, "link", "set", "lo", "up"), "lo up");
        // the backup's LAN port: the master's address, its veth peer unplugged until the takeover
        ok(lab.ip(BACKUP_NS, "link", "add", "eth0", "type", "veth", "peer", "name", "sbk0"), "veth");
        ok(lab.ip(BACKUP_NS, "addr", "add", Lab.DIRECTOR_IP + "/24", "dev", "eth0"), "addr");
        ok(lab.ip(BACKUP_NS, "link", "set", "eth0", "up"), "up");
        ok(lab.ip(BACKUP_NS, "route", "add", "default", "via", Lab.ROUTER_LAN_IP, "dev", "eth0", "onlink"), "route");
        // and the master's IPv6 address (nodad: the master still holds it until the takeover) and route
        ok(lab.exec(Duration.ofSeconds(10), BACKUP_NS, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=0"), "sysctl");
        ok(lab.ip(BACKUP_NS, "-6", "addr", "add", DIRECTOR6 + "/64", "dev", "eth0", "nodad"), "addr6");
        ok(lab.ip(BACKUP_NS, "-6", "route", "add", "default", "via", "2001:db8::1", "dev", "eth0", "onlink"), "route6");

        String services = """
                -A -t %1$s:80 -s rr
                -a -t %1$s:80 -r %2$s:80 -m -w 1
                -a -t %1$s:80 -r %3$s:80 -m -w 1
                -A -t %1$s:81 -s rr --laddr %4$s
                -a -t %1$s:81 -r %2$s:80 --fullnat -w 1
                -a -t %1$s:81 -r %3$s:80 --fullnat -w 1
                -A -t [%5$s]:80 -s rr
                -a -t [%5$s]:80 -r [2001:db8::11]:80 -m -w 1
                -a -t [%5$s]:80 -r [2001:db8::12]:80 -m -w 1
                -A -t [%5$s]:81 -s rr --laddr %6$s
                -a -t [%5$s]:81 -r [2001:db8::11]:80 --fullnat -w 1
                -a -t [%5$s]:81 -r [2001:db8::12]:80 --fullnat -w 1
                -A -t [%5$s]:8088 -s rr -p 60 -M 128
                -a -t [%5$s]:8088 -r [2001:db8::11]:80 -m -w 1
                -a -t [%5$s]:8088 -r [2001:db8::12]:80 -m -w 1
                -A -t %1$s:82 -s rr --synproxy
                -a -t %1$s:82 -r %2$s:80 -m -w 1
                -a -t %1$s:82 -r %3$s:80 -m -w 1
                -A -t [%5$s]:8080 -s rr
                -a -t [%5$s]:8080 -r [%7$s]:8080 -i -w 1
                -a -t [%5$s]:8080 -r [%8$s]:8080 -i --tun-type gue --tun-port 6080 -w 1
                -A -t [%5$s]:83 -s rr --synproxy
                -a -t [%5$s]:83 -r [2001:db8::11]:80 -m -w 1
                -a -t [%5$s]:83 -r [2001:db8::12]:80 -m -w 1
                """.formatted(Lab.VIP, Lab.rsIp(1), Lab.rsIp(2), LIP, VIP6, LIP6, TS6_1, TS6_2);
        Path conf = lab.itFile("sync.conf", services);
        // the pair's shared cookie key: either director accepts the other's cookies
        Path key = lab.itFile("sync-synproxy.key", "a secret both directors of the pair read\n");
        // connection sync serves one connection table: --workers 1 (README)
        master = ForwarderProcess.start(lab, "sync-master", METRICS,
                List.of("--attach", "packet:eth0", "--workers", "1", "--config", conf.toString(), "--metrics", METRICS,
                        "--synproxy-key", key.toString()));
        backup = ForwarderProcess.start(lab, BACKUP_NS, "sync-backup", METRICS,
                List.of("--attach", "packet:eth0", "--workers", "1", "--config", conf.toString(), "--metrics", METRICS,
                        "--synproxy-key", key.toString()));

        assertEquals("", jvsadm(Lab.DIRECTOR, "-L", "--daemon"));
        jvsadm(Lab.DIRECTOR, "--start-daemon", "master", "--mcast-interface", "sync0");
        jvsadm(BACKUP_NS, "--start-daemon", "backup", "--mcast-interface", "sync0");
        // the kernel's defaults, as ipvsadm 1.31 prints them (veth MTU 1500: maxlen 1472 both ways)
        assertEquals("master sync daemon (mcast=sync0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n",
                jvsadm(Lab.DIRECTOR, "-L", "--daemon"));
        assertEquals("backup sync daemon (mcast=sync0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n",
                jvsadm(BACKUP_NS, "-L", "--daemon"));

        lab.neighForget(Lab.ROUTER, VIP6, Lab.ROUTER_LAN_IFACE); // a stale entry from an earlier test
        final long downloadsAt = System.nanoTime();
        startDownload(Lab.VIP, 80);
        startDownload(Lab.VIP, 80);
        startDownload(Lab.VIP, 81);
        startDownload(Lab.VIP, 81);
        startDownload("[" + VIP6 + "]", 80);
        startDownload("[" + VIP6 + "]", 81);
        startDownload(Lab.VIP, 82);
        startDownload("[" + VIP6 + "]", 8080); // TUN6: rr sends one to ts1 (ip6ip6), one to ts2 (GUE6)
        startDownload("[" + VIP6 + "]", 8080);
        startDownload("[" + VIP6 + "]", 83);
        // sync goes out at the third inbound packet; a partial message leaves within 2 s
        Map<String, Integer> onMaster = Map.of();
        Map<String, Integer> onBackup = Map.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            Lab.pause(1000);
            onMaster = connections(jvsadm(Lab.DIRECTOR, "-L", "-c", "-n"));
            onBackup = connections(jvsadm(BACKUP_NS, "-L", "-c", "-n"));
            if (onMaster.size() == 10 && onBackup.keySet().equals(onMaster.keySet())) {
                break;
            }
        }
        System.out.println("[sync] master: " + onMaster + "\n[sync] backup: " + onBackup);
        assertEquals(10, onMaster.size(), "ten downloads through the master: " + onMaster);
        assertEquals(onMaster.keySet(), onBackup.keySet(),
                "the backup holds the master's connections (client, VIP, real server, state), IPv6 included");
        for (Map.Entry<String, Integer> e : onBackup.entrySet()) {
            assertTrue(e.getKey().endsWith(" ESTABLISHED"), e.getKey());
            assertTrue(e.getValue() > 880 && e.getValue() <= 900, "expiry within ESTABLISHED's 900 s: " + e);
        }
        assertEquals(2, onBackup.keySet().stream().filter(k -> k.contains(Lab.VIP + ":80 ")).count(), "NAT");
        assertEquals(2, onBackup.keySet().stream().filter(k -> k.contains(Lab.VIP + ":81 ")).count(), "FULLNAT");
        assertEquals(1, onBackup.keySet().stream().filter(k -> k.startsWith("TCP [2001:db8:1::2]:")
                && k.contains(" [" + VIP6 + "]:80 [2001:db8::1")).count(), "IPv6 NAT, from the client to an IPv6 server");
        assertEquals(1, onBackup.keySet().stream().filter(k -> k.startsWith("TCP [2001:db8:1::2]:")
                && k.contains(" [" + VIP6 + "]:81 [2001:db8::1")).count(), "IPv6 FULLNAT (ip_vs_sync_v6 + option 26)");
        assertEquals(1, onBackup.keySet().stream().filter(k -> k.contains(Lab.VIP + ":82 ")).count(), "SYN proxy");
        for (String ts : List.of(TS6_1, TS6_2)) {
            assertEquals(1, onBackup.keySet().stream().filter(k -> k.startsWith("TCP [2001:db8:1::2]:")
                    && k.contains(" [" + VIP6 + "]:8080 [" + ts + "]:8080 ")).count(), "IPv6 TUN to " + ts);
        }
        assertEquals(1, onBackup.keySet().stream().filter(k -> k.startsWith("TCP [2001:db8:1::2]:")
                && k.contains(" [" + VIP6 + "]:83 [2001:db8::1")).count(), "IPv6 SYN proxy (ip_vs_sync_v6 + option 25)");
        assertEquals(2.0, master.metric("jvs_synproxy_total", "event=\"spliced\""), "the master proxied both");
        // FULLNAT: the three local ports the master took (two on the LIP, one on the LIP6) are held on the backup
        assertEquals(3.0, master.metric("jvs_local_ports_in_use", ""));
        assertEquals(3.0, backup.metric("jvs_local_ports_in_use", ""));
        // the real servers see the master's LIP:lport; so will they after a takeover by the backup
        double sent = master.metric("jvs_sync_messages_total", "direction=\"sent\"");
        double received = backup.metric("jvs_sync_messages_total", "direction=\"received\"");
        double installed = backup.metric("jvs_sync_installed_total", "action=\"new\"");
        System.out.printf("[sync] messages sent %.0f, received %.0f; entries sent %.0f, installed %.0f new + %.0f "
                        + "updated%n", sent, received, master.metric("jvs_sync_connections_total", "direction=\"sent\""),
                installed, backup.metric("jvs_sync_installed_total", "action=\"updated\""));
        assertTrue(sent >= 1 && received >= 1, "messages went over sync0");
        assertEquals(10.0, installed, "each connection installed once, later syncs update it");
        StringBuilder drops = new StringBuilder();
        for (Metrics.Sample m : backup.samples()) {
            if (m.name().equals("jvs_sync_dropped_total") && m.value() > 0) {
                drops.append(' ').append(m.labelText()).append('=').append((long) m.value());
            }
        }
        assertEquals("", drops.toString(), "the backup dropped nothing");
        // the backup counted no scheduling of its own: no connections in its --stats
        String stats = jvsadm(BACKUP_NS, "-L", "-n", "--stats");
        System.out.println("[sync] backup -L -n --stats\n" + stats);
        for (String line : stats.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f[0].equals("TCP") || f[0].equals("->") && f.length > 2 && Character.isDigit(f[2].charAt(0))) {
                assertEquals("0", f[2], "Conns on the backup: " + line);
            }
        }
        assertTrue(jvsadm(Lab.DIRECTOR, "-L", "-n", "--stats").contains(" 2 "), "the master scheduled them");

        // ---- forged and malformed sync datagrams over sync0 (python's socket, the master's namespace) ----
        String forged = "10.0.1.99:1234 " + Lab.VIP + ":80 " + Lab.rsIp(1) + ":80";
        // a valid message from an address outside sync0's subnet (on the backup's LAN subnet, so the
        // kernel takes it: neither local nor martian, rp_filter 0)
        send("10.0.0.77", 44, "");
        send("10.9.0.1", 45, "");              // header size says 45, the datagram has 44
        send("10.9.0.1", 48, "0902abcd");      // an unknown mandatory option (type 9): that entry is skipped
        Lab.pause(1500);
        assertEquals(1.0, backup.metric("jvs_sync_dropped_total", "reason=\"foreign_source\""));
        assertEquals(1.0, backup.metric("jvs_sync_dropped_total", "reason=\"size_mismatch\""));
        assertEquals(1.0, backup.metric("jvs_sync_dropped_total", "reason=\"unknown_mandatory_option\""));
        assertTrue(connections(jvsadm(BACKUP_NS, "-L", "-c", "-n")).keySet().stream().noneMatch(k -> k.contains(
                "10.0.1.99:1234")), "nothing of them reached the table");
        send("10.9.0.1", 44, "");              // the same entry, well-formed, from the link: installed
        Lab.pause(1500);
        assertTrue(connections(jvsadm(BACKUP_NS, "-L", "-c", "-n")).containsKey("TCP " + forged + " ESTABLISHED"),
                "the control case: a well-formed message from sync0's subnet is installed");

        // ---- an IPv6 persistent service: two clients' templates, synced ----
        long persistAt = System.nanoTime();
        ok(lab.ip(Lab.CLIENT, "-6", "addr", "add", CLIENT6_B + "/64", "dev", "eth0", "nodad"), "second client address");
        String persistUrl = "http://[" + VIP6 + "]:8088/";
        String first = get(CLIENT6_B, persistUrl);   // rr's first server
        // from its own address explicitly: with two addresses on eth0 the kernel may pick either
        String second = get(CLIENT6, persistUrl);     // the next: the client's template names it
        assertTrue(!first.equals(second), "rr placed the two clients on different servers: " + first + ", " + second);
        List<String> templates = List.of();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            templates = jvsadm(BACKUP_NS, "-L", "-c", "-n").lines()
                    .filter(l -> l.contains(" NONE ") && l.contains("[" + VIP6 + "]:8088")).toList();
            if (templates.size() == 2) {
                break;
            }
            Lab.pause(500);
        }
        System.out.println("[sync] first " + first + ", second " + second + "; IPv6 templates on the backup: " + templates
                + "; " + (System.nanoTime() - persistAt) / 1_000_000 + " ms");
        assertEquals(2, templates.size(), "both IPv6 templates synced to the backup: " + templates);
        String secondServer = second.equals("rs1") ? "[2001:db8::11]:80" : "[2001:db8::12]:80";
        assertTrue(templates.stream().anyMatch(l -> l.contains("[2001:db8:1::2]:0 ") && l.endsWith(secondServer)),
                "the client's template names " + secondServer + ": " + templates);

        // ---- a SYN-proxied connection held on the master at the takeover ----
        // Both real servers drop the SYNs of client port 40000: the master answers the client's SYN
        // with a cookie, opens the connection on the cookie ACK and holds the request, but never gets
        // a SYN-ACK. After the takeover the client's retransmitted request must reach the server
        // through the backup (IPVS-DIFFERENCES row 33).
        double openedBefore = synproxy(master, "opened");
        double splicedBefore = synproxy(master, "spliced");
        double heldBefore = synproxy(master, "held"); // the downloads' requests may have waited too
        for (int rs = 1; rs <= 2; rs++) {
            ok(lab.exec(Duration.ofSeconds(10), Lab.rsNamespace(rs), "nft", "add table inet " + HOLD_TABLE
                    + " ; add chain inet " + HOLD_TABLE + " in { type filter hook input priority -10 ; }"
                    + " ; add rule inet " + HOLD_TABLE + " in tcp sport " + HOLD_PORT
                    + " tcp flags & (syn | ack) == syn drop"), "drop the SYNs of port " + HOLD_PORT + " on rs" + rs);
        }
        Path heldOut = lab.itFile("sync-held-get.txt", "");
        heldGet = new ProcessBuilder(Lab.ip(), "netns", "exec", Lab.CLIENT, "curl", "-sS", "--local-port",
                Integer.toString(HOLD_PORT), "--max-time", "100", "-H", "Connection: close", "-w", " %{http_code}",
                "http://" + Lab.VIP + ":82/").redirectErrorStream(true).redirectOutput(heldOut.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && (synproxy(master, "opened") < openedBefore + 1
                || synproxy(master, "held") < heldBefore + 1)) {
            Lab.pause(200);
        }
        Lab.pause(1000); // the master resends the server's SYN; the servers still drop it
        assertEquals(openedBefore + 1, synproxy(master, "opened"), "the master opened the held connection");
        assertTrue(synproxy(master, "held") >= heldBefore + 1, "and holds its request");
        assertEquals(splicedBefore, synproxy(master, "spliced"), "no SYN-ACK reached the master");
        assertTrue(heldGet.isAlive(), "the GET waits");
        // It is synced all the same: its entry is ESTABLISHED from the cookie ACK on (the client's
        // side is), so the sync threshold counts the client's retransmissions, and option 25 carries
        // the proxy's state, awaiting the server, with the cookie and the client's ISN and options.
        boolean synced = false;
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!synced && System.nanoTime() < deadline) {
            synced = connections(jvsadm(BACKUP_NS, "-L", "-c", "-n")).keySet().stream()
                    .anyMatch(k -> k.contains(":" + HOLD_PORT + " ") && k.endsWith(" ESTABLISHED"));
            Lab.pause(500);
        }
        assertTrue(synced, "the held connection reached the backup");

        // ---- takeover: the master goes, the backup takes the LAN with the table it holds ----
        long t0 = System.nanoTime();
        System.out.printf("[sync] takeover %.1f s after the downloads began%n", (t0 - downloadsAt) / 1e9);
        for (int i = 0; i < downloads.size(); i++) {
            // one that ended through the master would prove nothing about the backup
            assertTrue(downloads.get(i).isAlive(), "download " + i + " still running when the master is stopped");
        }
        System.out.println("[sync] master stopped for the takeover, exit " + master.stop());
        master = null;
        ok(lab.ip(Lab.DIRECTOR, "link", "set", "eth0", "down"), "master's LAN port down");
        ok(lab.ip(BACKUP_NS, "link", "set", "sbk0", "netns", Lab.LAN), "plug the backup");
        ok(lab.ip(Lab.LAN, "link", "set", "sbk0", "master", "br0"), "bridge port");
        ok(lab.ip(Lab.LAN, "link", "set", "sbk0", "up"), "up");
        forgetDirectorNeighbours();
        System.out.printf("[sync] backup on the LAN %.2f s after the master was stopped%n",
                (System.nanoTime() - t0) / 1e9);
        for (int rs = 1; rs <= 2; rs++) {
            ok(releaseSyns(rs), "rs" + rs + " takes SYNs of port " + HOLD_PORT + " again");
        }
        // the backup's own rr would start at the first server; the synced template keeps the client on the second
        assertEquals(second, get(CLIENT6, persistUrl), "after the takeover the client's synced IPv6 template places it");
        for (int i = 0; i < downloads.size(); i++) {
            assertTrue(downloads.get(i).waitFor(150, TimeUnit.SECONDS), "download " + i + " finished");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<String> results = new ArrayList<>();
        for (int i = 0; i < downloads.size(); i++) {
            String text = java.nio.file.Files.readString(downloadOutputs.get(i)).strip();
            results.add((i < 2 ? "NAT " : i < 4 ? "FULLNAT " : i == 4 ? "IPv6 NAT " : i == 5 ? "IPv6 FULLNAT "
                    : i == 6 ? "SYN proxy NAT " : i < 9 ? "IPv6 TUN " : "IPv6 SYN proxy NAT ")
                    + text.replace('\n', ' ') + " exit " + downloads.get(i).exitValue());
        }
        System.out.printf("[sync] downloads, all ended %.1f s after the takeover began: %s%n", seconds, results);
        for (int i = 0; i < downloads.size(); i++) {
            String expected = "200 " + Lab.BLOB_BYTES + "\n" + lab.blobSha256();
            assertEquals(0, downloads.get(i).exitValue(), results.get(i));
            assertEquals(expected, java.nio.file.Files.readString(downloadOutputs.get(i)).strip(),
                    "download " + i + " complete, byte for byte, through the backup");
        }
        assertTrue(heldGet.waitFor(100, TimeUnit.SECONDS), "the held GET finished");
        String heldText = java.nio.file.Files.readString(heldOut).strip();
        System.out.println("[sync] the GET held on the master, through the backup: " + heldText + ", exit "
                + heldGet.exitValue() + "; backup opened " + synproxy(backup, "opened") + ", spliced "
                + synproxy(backup, "spliced"));
        assertEquals(0, heldGet.exitValue(), heldText);
        assertTrue(heldText.replaceAll("\\s+", " ").matches("rs[12] 200"),
                "the request held on the master answered through the backup: " + heldText);
        // the backup resent the server's SYN from the synced state and joined the SYN-ACK
        assertEquals(0.0, synproxy(backup, "opened"), "no cookie opened anything on the backup");
        assertEquals(1.0, synproxy(backup, "spliced"), "the backup spliced the held connection");
        assertTrue(backup.metric("jvs_port_tx_frames_total", "port=\"eth0\"") > 0, "the backup forwarded");
        assertEquals(0.0, backup.metricValue("jvs_dropped_packets_total", "reason=\"no_connection\"").orElse(0),
                "every segment of the downloads found its synced connection");
        jvsadm(BACKUP_NS, "--stop-daemon", "backup");
        assertEquals("", jvsadm(BACKUP_NS, "-L", "--daemon"));
    }
}
