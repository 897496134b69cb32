package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * VRRP interop with Debian's keepalived (VRRP only) on the lab's LAN: {@code scripts/lab up
 * --directors 2}, jvs in director1 (10.0.0.2, MAC :02), keepalived in director2 (10.0.0.3, MAC
 * :03), one instance VI_1 (VRID 51) for the VIP, advert_int 1 s, in VRRPv2 with auth_type PASS
 * and in VRRPv3.
 *
 * <p>Everything is observed from outside the director: who answers ARP for the VIP is asked
 * with arping from the router (every replying MAC collected); keepalived's state comes from its
 * {@code notify} script, which appends "epoch-ms STATE" to a file; HTTP goes from the client
 * through the VIP. The bounds are keepalived's: the master-down interval 3 × advert_int +
 * (256 − priority)/256 s of the instance taking over.
 */
class VrrpIT {
    static final String D1 = Lab.PREFIX + "director1";
    static final String D2 = Lab.PREFIX + "director2";
    static final String MAC_D1 = "02:6a:76:00:00:02";
    static final String MAC_D2 = "02:6a:76:00:00:03";
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final String VI = "instance=\"VI_1\"";
    /** What the notify script and a poll loop add to a measured takeover (fork, exec, 50 ms polls). */
    static final long SLACK_MS = 500;

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2, "--directors", "2");

    private final List<ForwarderProcess> directors = new ArrayList<>();
    private boolean keepalivedStarted;

    @AfterEach
    void cleanUp() {
        for (ForwarderProcess d : directors) {
            if (d.isAlive()) {
                d.stop();
            }
        }
        if (keepalivedStarted) {
            lab("keepalived", "stop", D2);
        }
    }

    static long masterDownMs(int priority) {
        return 3000 + (256 - priority) * 1000L / 256;
    }

    /** unicast_src_ip / unicast_peer lines for director {@code self} (1 or 2) talking to the other. */
    static String unicast(int self) {
        return "    unicast_src_ip 10.0.0." + (self + 1) + "\n    unicast_peer {\n        10.0.0." + (4 - self)
                + "\n    }\n";
    }

    @ParameterizedTest(name = "VRRPv{0}")
    @ValueSource(strings = {"2", "3", "2-unicast"})
    @Timeout(180)
    void jvsMasterKeepalivedBackupThenKill9ThenRestartPreempts(String mode) {
        Lab lab = LAB.lab();
        int version = mode.charAt(0) - '0';
        boolean uni = mode.endsWith("unicast");
        String jvsExtra = uni ? unicast(1) : "";
        Path stateFile = stateFile("jvs-master-v" + mode);
        ForwarderProcess jvs = startJvs("vrrp-master-v" + mode, version, "MASTER", 150, jvsExtra);
        awaitTrue(() -> jvsState(jvs) == 2, masterDownMs(150) + 3000, "jvs MASTER", jvs);

        startKeepalived(version, "BACKUP", 100, stateFile, uni ? unicast(2) : "");
        awaitTrue(() -> !states(stateFile).isEmpty(), 5000, "keepalived's first notify", jvs);
        Lab.pause(masterDownMs(100) + 1000); // longer than keepalived would wait for a silent master
        assertEquals(List.of("BACKUP"), states(stateFile), "keepalived stays BACKUP next to jvs at 150");
        assertEquals(Set.of(MAC_D1), arpReplies(), "only jvs answers ARP for the VIP");
        assertTrue(lab.get("http://" + Lab.VIP + "/").strip().matches("rs[12]"), "HTTP through jvs");
        assertEquals(0.0, jvs.metric("jvs_vrrp_adverts_dropped_total", "reason=\"auth\""));
        assertTrue(jvs.metric("jvs_vrrp_adverts_sent_total", VI) >= 4, "jvs advertised");

        long killed = System.currentTimeMillis();
        jvs.kill();
        awaitTrue(() -> states(stateFile).contains("MASTER"), masterDownMs(100) + 3000, "keepalived MASTER", jvs);
        long tookOver = stateTime(stateFile, "MASTER") - killed;
        System.out.printf("VrrpIT v%s: kill -9 of jvs -> keepalived MASTER after %d ms (bound %d ms: "
                + "3 x advert_int + skew(100))%n", mode, tookOver, masterDownMs(100));
        assertTrue(tookOver <= masterDownMs(100) + SLACK_MS, "keepalived took over after " + tookOver + " ms");
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        assertEquals(Set.of(MAC_D2), arpReplies(), "keepalived answers ARP for the VIP after jvs died");

        ForwarderProcess again = startJvs("vrrp-master-v" + mode + "-restarted", version, "MASTER", 150, jvsExtra);
        long restarted = System.currentTimeMillis();
        awaitTrue(() -> jvsState(again) == 2, masterDownMs(150) + 3000, "restarted jvs MASTER (preemption)", again);
        long preempted = System.currentTimeMillis() - restarted;
        awaitTrue(() -> last(states(stateFile)).equals("BACKUP"), 3000, "keepalived back to BACKUP", again);
        System.out.printf("VrrpIT v%s: restarted jvs preempted after %d ms (its master-down interval %d ms)%n",
                mode, preempted, masterDownMs(150));
        assertEquals(List.of("BACKUP", "MASTER", "BACKUP"), states(stateFile));
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        assertEquals(Set.of(MAC_D1), arpReplies(), "jvs answers ARP for the VIP again, keepalived released it");
        assertTrue(lab.get("http://" + Lab.VIP + "/").strip().matches("rs[12]"), "HTTP through jvs again");
    }

    @ParameterizedTest(name = "VRRPv{0}")
    @ValueSource(ints = {2, 3})
    @Timeout(180)
    void keepalivedMasterJvsBackupThenKeepalivedStops(int version) {
        Lab lab = LAB.lab();
        Path stateFile = stateFile("ka-master-v" + version);
        startKeepalived(version, "MASTER", 150, stateFile);
        awaitTrue(() -> states(stateFile).contains("MASTER"), masterDownMs(150) + 3000, "keepalived MASTER", null);

        ForwarderProcess jvs = startJvs("vrrp-backup-v" + version, version, "BACKUP", 100);
        Lab.pause(masterDownMs(100) + 1000);
        assertEquals(1.0, jvs.metric("jvs_vrrp_state", VI), "jvs BACKUP next to keepalived at 150");
        assertTrue(jvs.metric("jvs_vrrp_adverts_received_total", VI) >= 3, "jvs heard keepalived");
        assertEquals(List.of("MASTER"), states(stateFile).stream().filter(s -> !s.equals("BACKUP")).toList());
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        assertEquals(Set.of(MAC_D2), arpReplies(), "only keepalived answers ARP for the VIP while jvs is BACKUP");

        String pid = readString(Lab.stateDir().resolve("keepalived/" + D2 + "/keepalived.pid.main")).strip();
        long stopped = System.currentTimeMillis();
        Exec.run(Duration.ofSeconds(5), List.of("kill", "-TERM", pid)).requireOk(); // keepalived sends priority 0
        awaitTrue(() -> jvsState(jvs) == 2, masterDownMs(100) + 3000, "jvs MASTER", jvs);
        long tookOver = System.currentTimeMillis() - stopped;
        lab("keepalived", "stop", D2); // waits for it to exit
        keepalivedStarted = false;
        System.out.printf("VrrpIT v%d: keepalived stopped -> jvs MASTER seen after %d ms (skew(100) %d ms, "
                + "master-down %d ms)%n", version, tookOver, (256 - 100) * 1000 / 256, masterDownMs(100));
        // priority 0 from keepalived: the skew time, not the master-down interval (1 s for polling and load)
        assertTrue(tookOver <= (256 - 100) * 1000L / 256 + 1000, "jvs took over after " + tookOver + " ms");
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        assertEquals(Set.of(MAC_D1), arpReplies(), "jvs answers ARP for the VIP");
        for (int i = 0; i < 4; i++) {
            assertTrue(lab.get("http://" + Lab.VIP + "/").strip().matches("rs[12]"), "HTTP through the VIP via jvs");
        }
        assertTrue(jvs.metric("jvs_vrrp_transitions_total", VI) >= 2);
    }

    /**
     * Bad advertisements from director2 (a raw socket in python, one of each kind, built in the
     * script, not by jvs): each counted under its reason, none taken, the MASTER stays MASTER.
     */
    @org.junit.jupiter.api.Test
    @Timeout(120)
    void badAdvertisementsAreCountedAndIgnored() {
        ForwarderProcess jvs = startJvs("vrrp-bad-adverts", 2, "MASTER", 150);
        awaitTrue(() -> jvsState(jvs) == 2, masterDownMs(150) + 3000, "jvs MASTER", jvs);
        double received = jvs.metric("jvs_vrrp_adverts_received_total", VI);
        Path py = LAB.lab().itFile("vrrp-bad-adverts.py", """
                import socket, struct
                def csum(b):
                    if len(b) % 2: b += b'\\0'
                    s = sum((b[i] << 8) | b[i + 1] for i in range(0, len(b), 2))
                    while s >> 16: s = (s & 0xffff) + (s >> 16)
                    return ~s & 0xffff
                def v2(vrid=51, prio=100, addrs=('10.0.0.100',), auth=b'jvs-it', ver=2, adv=1):
                    h = struct.pack('!BBBBBBH', (ver << 4) | 1, vrid, prio, len(addrs), 1, adv, 0)
                    h += b''.join(socket.inet_aton(a) for a in addrs) + auth.ljust(8, b'\\0')
                    return h[:6] + struct.pack('!H', csum(h)) + h[8:]
                s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
                s.setsockopt(socket.SOL_SOCKET, 25, b'eth0')
                def send(p, ttl=255):
                    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
                    s.sendto(p, ('224.0.0.18', 0))
                send(v2(), ttl=64)                                  # ttl
                bad = bytearray(v2()); bad[7] ^= 0xff; send(bytes(bad))  # checksum
                send(v2(ver=3))                                     # version
                send(v2(auth=b'wrong'))                             # auth
                send(v2(addrs=('10.0.0.100', '10.0.0.101')))        # address_count
                send(v2(vrid=52))                                   # foreign_vrid
                send(v2(adv=2))                                     # advert_interval
                """);
        LAB.lab().exec(Duration.ofSeconds(10), D2, "python3", py.toString()).requireOk();
        awaitTrue(() -> jvs.metricValue("jvs_vrrp_adverts_dropped_total", "reason=\"advert_interval\"")
                .orElse(0) == 1, 3000, "all seven counted", jvs);
        for (String reason : List.of("ttl", "checksum", "version", "auth", "address_count", "foreign_vrid",
                "advert_interval")) {
            assertEquals(1.0, jvs.metric("jvs_vrrp_adverts_dropped_total", "reason=\"" + reason + "\""), reason);
        }
        assertEquals(received, jvs.metric("jvs_vrrp_adverts_received_total", VI), "none taken");
        assertEquals(2.0, jvs.metric("jvs_vrrp_state", VI), "still MASTER");
        Path sock = LAB.lab().repo().resolve("forwarder/target/it-logs/vrrp-bad-adverts.sock");
        String listing = LAB.lab().exec(Duration.ofSeconds(20), D1, LAB.lab().repo().resolve("bin/jvsadm").toString(),
                "--control", sock.toString(), "-L", "--vrrp").requireOk().stdout();
        assertTrue(listing.lines().anyMatch(l -> l.matches("VI_1 +MASTER +eth0 +51 +2 +150 +1s +10\\.0\\.0\\.2 +10\\.0\\.0\\.100")),
                listing);
        assertTrue(listing.contains("Adverts dropped: ttl=1 version=1 checksum=1 foreign_vrid=1 auth=1 address_count=1"
                + " advert_interval=1"), listing);
    }

    /**
     * track_interface: a veth pair in director1 (trk0 tracked, trk1 its peer). trk1 down takes
     * trk0's carrier: jvs goes to FAULT, saying goodbye with priority 0, and keepalived takes over
     * within its skew time; trk1 up: jvs back to BACKUP, then it preempts.
     */
    @org.junit.jupiter.api.Test
    @Timeout(120)
    void aDownTrackedInterfaceMeansFaultAndKeepalivedTakesOver() {
        Lab lab = LAB.lab();
        lab.ip(D1, "link", "del", "trk0"); // a leftover of an interrupted run, if any
        lab.ip(D1, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1").requireOk();
        try {
            lab.ip(D1, "link", "set", "trk0", "up").requireOk();
            lab.ip(D1, "link", "set", "trk1", "up").requireOk();
            Path stateFile = stateFile("fault");
            ForwarderProcess jvs = startJvs("vrrp-fault", 2, "MASTER", 150,
                    "    track_interface {\n        trk0\n    }\n");
            awaitTrue(() -> jvsState(jvs) == 2, masterDownMs(150) + 3000, "jvs MASTER", jvs);
            startKeepalived(2, "BACKUP", 100, stateFile);
            awaitTrue(() -> !states(stateFile).isEmpty(), 5000, "keepalived's first notify", jvs);
            Lab.pause(1500);
            assertEquals(List.of("BACKUP"), states(stateFile));

            long down = System.currentTimeMillis();
            lab.ip(D1, "link", "set", "trk1", "down").requireOk();
            awaitTrue(() -> jvsState(jvs) == 3, 2000, "jvs FAULT", jvs);
            awaitTrue(() -> states(stateFile).contains("MASTER"), masterDownMs(100) + 2000, "keepalived MASTER", jvs);
            long tookOver = stateTime(stateFile, "MASTER") - down;
            System.out.printf("VrrpIT: tracked interface down -> keepalived MASTER after %d ms (skew(100) %d ms)%n",
                    tookOver, (256 - 100) * 1000 / 256);
            assertTrue(tookOver <= (256 - 100) * 1000L / 256 + 1000, "jvs's priority 0 let keepalived take over at "
                    + "once, not after the master-down interval: " + tookOver + " ms");
            lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
            assertEquals(Set.of(MAC_D2), arpReplies(), "jvs in FAULT is silent");

            lab.ip(D1, "link", "set", "trk1", "up").requireOk();
            awaitTrue(() -> jvsState(jvs) == 2, masterDownMs(150) + 3000, "jvs MASTER again (preempts)", jvs);
            awaitTrue(() -> last(states(stateFile)).equals("BACKUP"), 3000, "keepalived back to BACKUP", jvs);
            lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
            assertEquals(Set.of(MAC_D1), arpReplies());
        } finally {
            lab.ip(D1, "link", "del", "trk0");
        }
    }

    static final String GW6 = "2001:db8::254";
    static final String VIP6 = "2001:db8::100";
    static final String VI6 = "instance=\"VI_6\"";

    /**
     * VRRPv3 over IPv6 (RFC 5798) with keepalived: one IPv6 instance VI_6 (VRID 61) holding the
     * real servers' IPv6 gateway 2001:db8::254 (the lab's --directors 2 default route), jvs with
     * an IPv6 NAT service on [VIP6]:8080. jvs MASTER 150 and keepalived BACKUP 100 elect jvs
     * (keepalived decodes jvs's adverts to ff02::12); rs1 resolves the gateway to director1 and
     * NAT over IPv6 works through it; kill -9 of jvs: keepalived MASTER within its master-down
     * interval, the gateway resolves to director2 (keepalived's address). jvs restarted at 50
     * stays BACKUP (it decodes keepalived's adverts: none dropped); keepalived stopped (priority
     * 0): jvs MASTER within keepalived's skew time, the gateway is director1's and NAT works again.
     */
    @org.junit.jupiter.api.Test
    @Timeout(180)
    void ipv6InstanceWithKeepalivedElectsOneMasterAndTheGatewayMoves() {
        Lab lab = LAB.lab();
        Path stateFile = stateFile("ipv6");
        ForwarderProcess jvs = startJvs6("vrrp6-master", "MASTER", 150);
        awaitTrue(() -> jvsState(jvs, VI6) == 2, masterDownMs(150) + 3000, "jvs MASTER (IPv6)", jvs);
        startKeepalived6(stateFile);
        awaitTrue(() -> !states(stateFile).isEmpty(), 5000, "keepalived's first notify", jvs);
        long waitFrom = System.currentTimeMillis();
        // meanwhile, bad IPv6 adverts from director2 (built by the script, not by jvs): one of each kind
        lab.exec(Duration.ofSeconds(10), D2, "python3", lab.itFile("vrrp6-bad-adverts.py", BAD_ADVERTS6).toString())
                .requireOk();
        Lab.pause(Math.max(0, masterDownMs(100) + 1000 - (System.currentTimeMillis() - waitFrom)));
        assertEquals(List.of("BACKUP"), states(stateFile), "keepalived stays BACKUP next to jvs at 150");
        for (String reason : List.of("ttl", "checksum", "version", "address_count", "address_list", "foreign_vrid")) {
            assertEquals(1.0, jvs.metric("jvs_vrrp_adverts_dropped_total", "reason=\"" + reason + "\""), reason);
        }
        assertEquals(2.0, jvs.metric("jvs_vrrp_state", VI6), "still MASTER");
        assertEquals(MAC_D1, gatewayMac(), "rs1's IPv6 gateway is director1 (jvs answers NS as MASTER)");
        assertTrue(lab.get("http://[" + VIP6 + "]:8080/").strip().matches("rs1"),
                "IPv6 NAT through jvs, rs1's replies via the floating gateway");
        assertTrue(jvs.metric("jvs_vrrp_adverts_sent_total", VI6) >= 4, "jvs advertised");

        long killed = System.currentTimeMillis();
        jvs.kill();
        awaitTrue(() -> states(stateFile).contains("MASTER"), masterDownMs(100) + 3000, "keepalived MASTER", jvs);
        long tookOver = stateTime(stateFile, "MASTER") - killed;
        System.out.printf("VrrpIT IPv6: kill -9 of jvs -> keepalived MASTER after %d ms (bound %d ms)%n", tookOver,
                masterDownMs(100));
        assertTrue(tookOver <= masterDownMs(100) + SLACK_MS, "keepalived took over after " + tookOver + " ms");
        awaitTrue(() -> MAC_D2.equals(gatewayMac()), 3000, "rs1's IPv6 gateway is director2 (keepalived)", jvs);

        ForwarderProcess again = startJvs6("vrrp6-backup", "BACKUP", 50);
        awaitTrue(() -> jvsState(again, VI6) == 1, 5000, "restarted jvs BACKUP", again);
        Lab.pause(masterDownMs(50) + 500);
        assertEquals(1.0, again.metric("jvs_vrrp_state", VI6), "jvs stays BACKUP next to keepalived at 100");
        assertTrue(again.metric("jvs_vrrp_adverts_received_total", VI6) >= 3, "jvs took keepalived's IPv6 adverts");
        for (String reason : List.of("ttl", "checksum", "version", "address_count", "address_list", "truncated")) {
            assertEquals(0.0, again.metric("jvs_vrrp_adverts_dropped_total", "reason=\"" + reason + "\""), reason);
        }
        assertEquals(MAC_D2, gatewayMac(), "the BACKUP jvs does not answer for the gateway");

        String pid = readString(Lab.stateDir().resolve("keepalived/" + D2 + "/keepalived.pid.main")).strip();
        long stopped = System.currentTimeMillis();
        Exec.run(Duration.ofSeconds(5), List.of("kill", "-TERM", pid)).requireOk(); // keepalived sends priority 0
        awaitTrue(() -> jvsState(again, VI6) == 2, masterDownMs(50) + 3000, "jvs MASTER", again);
        long jvsTook = System.currentTimeMillis() - stopped;
        lab("keepalived", "stop", D2);
        keepalivedStarted = false;
        System.out.printf("VrrpIT IPv6: keepalived stopped -> jvs MASTER seen after %d ms (skew(50) %d ms)%n",
                jvsTook, (256 - 50) * 1000 / 256);
        assertTrue(jvsTook <= (256 - 50) * 1000L / 256 + 1000, "jvs took over after " + jvsTook + " ms");
        awaitTrue(() -> MAC_D1.equals(gatewayMac()), 3000, "rs1's IPv6 gateway is director1 again", again);
        assertTrue(lab.get("http://[" + VIP6 + "]:8080/").strip().matches("rs1"), "IPv6 NAT through jvs again");
    }

    /** jvs's IPv6 unicast source in director1, added by the test (DAD on) so that it starts tentative. */
    static final String JVS_SRC6 = "2001:db8::22";
    static final String KA_SRC6 = "2001:db8::3";

    /**
     * IPv6 unicast peers (unicast_src_ip / unicast_peer, no ff02::12): jvs from 2001:db8::22,
     * keepalived from 2001:db8::3. jvs starts while its source address is still tentative (DAD
     * on for it, several probes): it waits in FAULT, then goes on and is elected MASTER at 150;
     * keepalived at 100 stays BACKUP (it takes jvs's unicast adverts); rs1's gateway is
     * director1's. kill -9 of jvs: keepalived MASTER within its master-down interval, the
     * gateway director2's. jvs restarted at 50 stays BACKUP: it takes keepalived's unicast
     * adverts, which come with hop limit 64 (none dropped).
     */
    @org.junit.jupiter.api.Test
    @Timeout(120)
    void ipv6UnicastPeersWithKeepalivedWaitForDadThenElectOneMaster() {
        Lab lab = LAB.lab();
        Path stateFile = stateFile("ipv6-unicast");
        String jvsPeer = "    unicast_src_ip " + JVS_SRC6 + "\n    unicast_peer {\n        " + KA_SRC6 + "\n    }\n";
        String kaPeer = "    unicast_src_ip " + KA_SRC6 + "\n    unicast_peer {\n        " + JVS_SRC6 + "\n    }\n";
        lab.ip(D1, "-6", "addr", "del", JVS_SRC6 + "/64", "dev", "eth0"); // a leftover of an interrupted run, if any
        try {
            // the lab turns DAD off; on for this address, 100 probes 1 s apart: tentative until the
            // test ends DAD (the address again with nodad), whatever jvs's start takes
            lab.exec(D1, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=1", "net.ipv6.conf.eth0.dad_transmits=100")
                    .requireOk();
            lab.ip(D1, "-6", "addr", "add", JVS_SRC6 + "/64", "dev", "eth0").requireOk();
            ForwarderProcess jvs = startJvs6("vrrp6u-master", "MASTER", 150, jvsPeer);
            awaitTrue(() -> jvsState(jvs, VI6) >= 0, 3000, "jvs's VRRP state", jvs);
            Lab.pause(500);
            assertTrue(lab.ip(D1, "-6", "addr", "show", "dev", "eth0").stdout().contains(JVS_SRC6 + "/64 scope global "
                    + "tentative"), "the source address is still tentative (else this proves nothing)");
            assertEquals(3.0, jvs.metric("jvs_vrrp_state", VI6), "jvs waits in FAULT for its address");
            lab.ip(D1, "-6", "addr", "del", JVS_SRC6 + "/64", "dev", "eth0").requireOk();
            lab.ip(D1, "-6", "addr", "add", JVS_SRC6 + "/64", "dev", "eth0", "nodad").requireOk();
            awaitTrue(() -> jvsState(jvs, VI6) == 1, 2000, "jvs BACKUP once its address is usable", jvs);
            awaitTrue(() -> jvsState(jvs, VI6) == 2, masterDownMs(150) + 3000, "jvs MASTER", jvs);

            startKeepalived6(stateFile, kaPeer);
            awaitTrue(() -> !states(stateFile).isEmpty(), 5000, "keepalived's first notify", jvs);
            Lab.pause(masterDownMs(100) + 1000); // longer than keepalived would wait for a silent master
            assertEquals(List.of("BACKUP"), states(stateFile), "keepalived stays BACKUP next to jvs at 150");
            assertEquals(MAC_D1, gatewayMac(), "rs1's IPv6 gateway is director1 (jvs MASTER)");
            assertTrue(jvs.metric("jvs_vrrp_adverts_sent_total", VI6) >= 4, "jvs advertised");

            long killed = System.currentTimeMillis();
            jvs.kill();
            awaitTrue(() -> states(stateFile).contains("MASTER"), masterDownMs(100) + 3000, "keepalived MASTER", jvs);
            long tookOver = stateTime(stateFile, "MASTER") - killed;
            System.out.printf("VrrpIT IPv6 unicast: kill -9 of jvs -> keepalived MASTER after %d ms (bound %d ms)%n",
                    tookOver, masterDownMs(100));
            assertTrue(tookOver <= masterDownMs(100) + SLACK_MS, "keepalived took over after " + tookOver + " ms");
            awaitTrue(() -> MAC_D2.equals(gatewayMac()), 3000, "rs1's IPv6 gateway is director2 (keepalived)", jvs);

            ForwarderProcess again = startJvs6("vrrp6u-backup", "BACKUP", 50, jvsPeer);
            awaitTrue(() -> jvsState(again, VI6) == 1, 5000, "restarted jvs BACKUP", again);
            Lab.pause(masterDownMs(50) + 500);
            assertEquals(1.0, again.metric("jvs_vrrp_state", VI6), "jvs stays BACKUP next to keepalived at 100");
            assertTrue(again.metric("jvs_vrrp_adverts_received_total", VI6) >= 3, "jvs took keepalived's unicast adverts");
            for (String reason : List.of("ttl", "peer", "checksum")) {
                assertEquals(0.0, again.metric("jvs_vrrp_adverts_dropped_total", "reason=\"" + reason + "\""), reason);
            }
            assertEquals(List.of("BACKUP", "MASTER"), states(stateFile), "keepalived stays MASTER");
            assertEquals(MAC_D2, gatewayMac(), "the BACKUP jvs does not answer for the gateway");
        } finally {
            lab.ip(D1, "-6", "addr", "del", JVS_SRC6 + "/64", "dev", "eth0");
            lab.exec(D1, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0", "net.ipv6.conf.eth0.dad_transmits=0");
        }
    }

    /**
     * Bad VRRPv3 adverts over IPv6 to ff02::12 from director2's link-local address (checksums over
     * the IPv6 pseudo-header computed here), one per drop reason: hop limit 64, a bad checksum, a
     * version 2 header, two addresses, another address, VRID 62.
     */
    static final String BAD_ADVERTS6 = """
            import socket, struct
            def csum(b):
                if len(b) % 2: b += b'\\0'
                s = sum((b[i] << 8) | b[i + 1] for i in range(0, len(b), 2))
                while s >> 16: s = (s & 0xffff) + (s >> 16)
                return ~s & 0xffff
            ll = [l.split() for l in open('/proc/net/if_inet6')]
            src = bytes.fromhex(next(f[0] for f in ll if f[5] == 'eth0' and f[3] == '20'))
            dst = socket.inet_pton(socket.AF_INET6, 'ff02::12')
            idx = socket.if_nametoindex('eth0')
            def adv(vrid=61, addrs=('2001:db8::254',), ver=3, flip=0):
                m = struct.pack('!BBBBHH', (ver << 4) | 1, vrid, 100, len(addrs), 100, 0)
                m += b''.join(socket.inet_pton(socket.AF_INET6, a) for a in addrs)
                c = csum(src + dst + struct.pack('!I', len(m)) + b'\\0\\0\\0' + bytes([112]) + m) ^ flip
                return m[:6] + struct.pack('!H', c) + m[8:]
            s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 112)
            s.setsockopt(socket.SOL_SOCKET, 25, b'eth0')
            s.bind((socket.inet_ntop(socket.AF_INET6, src), 0, 0, idx))
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
            def send(p, hops=255):
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, hops)
                s.sendto(p, ('ff02::12', 0, 0, idx))
            send(adv(), hops=64)                                  # ttl (the hop limit)
            send(adv(flip=0x00ff))                                # checksum
            send(adv(ver=2))                                      # version
            send(adv(addrs=('2001:db8::254', '2001:db8::255')))   # address_count
            send(adv(addrs=('2001:db8::255',)))                   # address_list
            send(adv(vrid=62))                                    # foreign_vrid
            """;

    /** rs1's neighbour entry for the IPv6 gateway after a fresh resolution (an NS), or "" when unresolved. */
    private static String gatewayMac() {
        Lab lab = LAB.lab();
        String rs1 = Lab.rsNamespace(1);
        lab.neighForget(rs1, GW6, "eth0");
        // a datagram to the gateway makes rs1's kernel solicit it (the lab has no ping); 0.5 s for the NA
        lab.exec(Duration.ofSeconds(5), rs1, "python3", "-c", "import socket, time; s = socket.socket(socket.AF_INET6,"
                + " socket.SOCK_DGRAM); s.sendto(b'x', ('" + GW6 + "', 9)); time.sleep(0.5)").requireOk();
        return lab.neigh(rs1, GW6).map(n -> n.mac() == null ? "" : n.mac()).orElse("");
    }

    private ForwarderProcess startJvs6(String name, String state, int priority) {
        return startJvs6(name, state, priority, "");
    }

    private ForwarderProcess startJvs6(String name, String state, int priority, String extra) {
        Lab lab = LAB.lab();
        Path conf = lab.itFile(name + ".keepalived.conf", withExtra(vrrpInstance6(state, priority, null), extra) + """
                virtual_server %s 8080 {
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                    real_server 2001:db8::11 80 {
                    }
                }
                """.formatted(VIP6));
        ForwarderProcess d = ForwarderProcess.start(lab, D1, name, METRICS, List.of("--attach", "packet:eth0",
                "--keepalived", conf.toString(), "--metrics", METRICS));
        directors.add(d);
        return d;
    }

    private void startKeepalived6(Path stateFile) {
        startKeepalived6(stateFile, "");
    }

    private void startKeepalived6(Path stateFile, String extra) {
        Lab lab = LAB.lab();
        Path script = lab.itFile("vrrp6-notify.sh", "#!/bin/sh\n# keepalived notify: TYPE NAME STATE PRIORITY\n"
                + "echo \"$(date +%s%3N) $3\" >> \"" + stateFile + "\"\n");
        try {
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path conf = lab.itFile("keepalived-ipv6.conf", "global_defs {\n    router_id jvs-it-ka6\n"
                + "    enable_script_security\n    script_user root\n}\n"
                + withExtra(vrrpInstance6("BACKUP", 100, script), "    version 3\n" + extra));
        lab("keepalived", "start", D2, conf.toString());
        keepalivedStarted = true;
    }

    /** VI_6: VRID 61 on eth0, advert_int 1, the floating IPv6 gateway; no version (IPv6: VRRPv3). */
    static String vrrpInstance6(String state, int priority, Path notify) {
        return "vrrp_instance VI_6 {\n"
                + "    state " + state + "\n"
                + "    interface eth0\n"
                + "    virtual_router_id 61\n"
                + "    priority " + priority + "\n"
                + "    advert_int 1\n"
                + "    virtual_ipaddress {\n        " + GW6 + "/64 dev eth0\n    }\n"
                + (notify != null ? "    notify " + notify + "\n" : "")
                + "}\n";
    }

    // ---------------------------------------------------------------- helpers

    private ForwarderProcess startJvs(String name, int version, String state, int priority) {
        return startJvs(name, version, state, priority, "");
    }

    private ForwarderProcess startJvs(String name, int version, String state, int priority, String extra) {
        Lab lab = LAB.lab();
        Path conf = lab.itFile(name + ".keepalived.conf", (version == 3 ? "global_defs {\n    vrrp_version 3\n}\n" : "")
                + withExtra(vrrpInstance(version, state, priority, null), extra) + """
                virtual_server 10.0.0.100 80 {
                    lb_algo rr
                    lb_kind DR
                    protocol TCP
                    real_server 10.0.0.11 80 {
                    }
                    real_server 10.0.0.12 80 {
                    }
                }
                """);
        Path sock = lab.repo().resolve("forwarder/target/it-logs/" + name + ".sock");
        ForwarderProcess d = ForwarderProcess.start(lab, D1, name, METRICS, List.of("--attach", "packet:eth0",
                "--keepalived", conf.toString(), "--metrics", METRICS, "--control", sock.toString()));
        directors.add(d);
        return d;
    }

    private void startKeepalived(int version, String state, int priority, Path stateFile) {
        startKeepalived(version, state, priority, stateFile, "");
    }

    private void startKeepalived(int version, String state, int priority, Path stateFile, String extra) {
        Lab lab = LAB.lab();
        Path script = lab.itFile("vrrp-notify.sh", "#!/bin/sh\n# keepalived notify: TYPE NAME STATE PRIORITY\n"
                + "echo \"$(date +%s%3N) $3\" >> \"" + stateFile + "\"\n");
        try {
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path conf = lab.itFile("keepalived-" + stateFile.getFileName() + ".conf", "global_defs {\n"
                + "    router_id jvs-it-ka\n    enable_script_security\n    script_user root\n"
                + (version == 3 ? "    vrrp_version 3\n" : "") + "}\n"
                + withExtra(vrrpInstance(version, state, priority, script), extra));
        lab("keepalived", "start", D2, conf.toString());
        keepalivedStarted = true;
    }

    /** The instance block with {@code extra} lines before its closing brace. */
    static String withExtra(String instance, String extra) {
        return instance.substring(0, instance.length() - 2) + extra + "}\n";
    }

    static String vrrpInstance(int version, String state, int priority, Path notify) {
        return "vrrp_instance VI_1 {\n"
                + "    state " + state + "\n"
                + "    interface eth0\n"
                + "    virtual_router_id 51\n"
                + "    priority " + priority + "\n"
                + "    advert_int 1\n"
                + (version == 2 ? "    authentication {\n        auth_type PASS\n        auth_pass jvs-it\n    }\n" : "")
                + "    virtual_ipaddress {\n        10.0.0.100/24 dev eth0\n    }\n"
                + (notify != null ? "    notify " + notify + "\n" : "")
                + "}\n";
    }

    private static Path stateFile(String name) {
        Path p = LAB.lab().repo().resolve("forwarder/target/it-logs/keepalived-" + name + ".states");
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** keepalived's states in order, as its notify script recorded them. */
    static List<String> states(Path file) {
        return lines(file).stream().map(l -> l.split(" ")[1]).toList();
    }

    /** When keepalived's notify script recorded {@code state} first (epoch ms). */
    static long stateTime(Path file, String state) {
        return lines(file).stream().filter(l -> l.endsWith(" " + state)).mapToLong(l -> Long.parseLong(l.split(" ")[0]))
                .findFirst().orElseThrow();
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).stream().filter(l -> !l.isBlank()).toList() : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String last(List<String> l) {
        return l.isEmpty() ? "" : l.getLast();
    }

    private static final Pattern REPLY = Pattern.compile("reply from 10\\.0\\.0\\.100 \\[([0-9A-Fa-f:]{17})\\]");

    /** Every MAC that answered two ARP requests for the VIP from the router (arping waits 2 s for replies). */
    static Set<String> arpReplies() {
        Exec.Result r = LAB.lab().exec(Duration.ofSeconds(10), Lab.ROUTER, "arping", "-c", "2", "-w", "3", "-I",
                Lab.ROUTER_LAN_IFACE, Lab.VIP);
        Set<String> macs = new TreeSet<>();
        Matcher m = REPLY.matcher(r.stdout());
        while (m.find()) {
            macs.add(m.group(1).toLowerCase());
        }
        return macs;
    }

    private static double jvsState(ForwarderProcess jvs) {
        return jvsState(jvs, VI);
    }

    private static double jvsState(ForwarderProcess jvs, String instance) {
        return jvs.metricValue("jvs_vrrp_state", instance).orElse(-1);
    }

    private static void lab(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("scripts/lab").toString()));
        cmd.addAll(List.of(args));
        Exec.run(Duration.ofSeconds(30), cmd).requireOk();
    }

    private static void awaitTrue(BooleanSupplier cond, long ms, String what, ForwarderProcess jvs) {
        long deadline = System.currentTimeMillis() + ms;
        while (System.currentTimeMillis() < deadline) {
            if (cond.getAsBoolean()) {
                return;
            }
            Lab.pause(50);
        }
        throw new AssertionError(what + ": not within " + ms + " ms"
                + (jvs != null ? "\n" + jvs.logTail(30) : ""));
    }
}
