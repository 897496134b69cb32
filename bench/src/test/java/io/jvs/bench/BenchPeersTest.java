package io.jvs.bench;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/bench's peer table (scripts/bench.d/peers) and what its report (scripts/bench.d/report.py)
 * makes of it for IPv6 (issue 16): every IPv6 forwarding method of jvs is a peer, each with a kernel
 * peer of the same run to be compared with, and the report's IPv6 section gives that ratio. The
 * expected peers and ratios are written out here by hand, not read from the table or the report.
 */
class BenchPeersTest {
    /** A line of the table: name | kind | method | attach | servers | scenarios | status | versus. */
    record Peer(String name, String kind, String method, String attach, String servers, List<String> scenarios,
            String status, String versus) {
        boolean ipv6() {
            return servers.endsWith("6");
        }
    }

    static Path repo() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("scripts/bench.d/peers"))) {
                return p;
            }
        }
        throw new AssertionError("scripts/bench.d/peers not found above " + Path.of("").toAbsolutePath());
    }

    static Map<String, Peer> peers() throws IOException {
        Map<String, Peer> peers = new LinkedHashMap<>();
        for (String line : Files.readAllLines(repo().resolve("scripts/bench.d/peers"), StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.strip().startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\|", -1);
            assertEquals(8, f.length, "eight columns: " + line);
            Peer p = new Peer(f[0], f[1], f[2], f[3], f[4], List.of(f[5].split(" ")), f[6], f[7]);
            assertEquals(null, peers.put(p.name(), p), "one line per name: " + p.name());
        }
        return peers;
    }

    @Test
    void theIpv6PeersAreEveryMethodOfJvsAndTheKernelPeersTheyAreComparedWith() throws IOException {
        // name -> kind method attach servers versus
        Map<String, String> expected = new TreeMap<>(Map.ofEntries(
                Map.entry("jvs-dr6-packet", "jvs dr packet rs6 kernel-fwd6"),
                Map.entry("jvs-nat6-packet", "jvs nat packet rs6 kernel-nat6"),
                Map.entry("jvs-dr6-tap", "jvs dr tap rs6 kernel-fwd6"),
                Map.entry("jvs-nat6-tap", "jvs nat tap rs6 kernel-nat6"),
                Map.entry("jvs-fullnat6-packet", "jvs fullnat packet rs6 kernel-fullnat6"),
                Map.entry("jvs-tun6-packet", "jvs tun packet ts6 kernel-fwd6"),
                Map.entry("direct6", "direct - - rs6 -"),
                Map.entry("kernel-fwd6", "kfwd - - rs6 -"),
                Map.entry("kernel-nat6", "knat - - rs6 -"),
                Map.entry("kernel-fullnat6", "knat fullnat - rs6 -"),
                Map.entry("haproxy6", "haproxy - - rs6 -")));
        Map<String, String> actual = new TreeMap<>();
        for (Peer p : peers().values()) {
            if (p.ipv6()) {
                actual.put(p.name(), String.join(" ", p.kind(), p.method(), p.attach(), p.servers(), p.versus()));
            }
        }
        assertEquals(expected, actual);
    }

    @Test
    void everyJvsIpv6PeerHasAKernelPeerThatRunsWhatItRuns() throws IOException {
        Map<String, Peer> peers = peers();
        List<Runnable> checks = new ArrayList<>();
        int jvs6 = 0;
        for (Peer p : peers.values()) {
            if (!p.ipv6() || !p.kind().equals("jvs")) {
                continue;
            }
            jvs6++;
            checks.add(() -> {
                Peer k = peers.get(p.versus());
                assertNotNull(k, p.name() + "'s kernel peer '" + p.versus() + "' is in the table");
                assertTrue(Set.of("kfwd", "knat", "haproxy").contains(k.kind()), p.name() + " against a kernel peer: " + k);
                assertTrue(k.ipv6(), p.name() + " against an IPv6 peer: " + k);
                assertEquals("ok", k.status(), k.name() + " runs");
                assertTrue(k.scenarios().containsAll(p.scenarios()),
                        k.name() + " runs every scenario of " + p.name() + ": " + k.scenarios() + " vs " + p.scenarios());
            });
            checks.add(() -> assertEquals("ok", p.status(), p.name() + " runs"));
        }
        assertEquals(6, jvs6, "DR and NAT in packet and TAP mode, FULLNAT, TUN");
        assertAll(checks.stream().map(r -> (org.junit.jupiter.api.function.Executable) r::run));
    }

    @Test
    void haproxy6RunsAfterEveryOtherIpv6Peer() throws IOException {
        // its TIME_WAIT sockets on the VIP6 would take a later IPv6 peer's SYNs (the table's note)
        List<String> v6 = peers().values().stream().filter(Peer::ipv6).map(Peer::name).toList();
        assertEquals("haproxy6", v6.getLast(), "the last IPv6 peer: " + v6);
    }

    @Test
    void theReportSetsEachJvsIpv6PeerAgainstItsKernelPeer(@TempDir Path tmp) throws Exception {
        Path meta = tmp.resolve("meta.env");
        Path status = tmp.resolve("status.tsv");
        Path raw = tmp.resolve("raw.tsv");
        Path md = tmp.resolve("out.md");
        Files.writeString(meta, """
                mode=quick
                date=2026-12-03 19:00 UTC
                host=test
                cpu=test cpu
                cores=2
                kernel=6
                jdk=25
                jvs=abc
                wrk=4
                iperf3=3
                trafgen=0
                haproxy=2
                nginx=1
                nft=1
                load_before=1 1 1
                load_after=1 1 1
                elapsed_s=60
                repeat=1
                udp_repeat=1
                wrk_d=2
                wrk_c=32
                lat_delay_ms=10
                iperf_d=1
                udp_d=1
                udp_rates=50000
                lat_rate=1000
                scale_s=1
                clients=8
                argv=scripts/bench --quick --ipv6
                """);
        String scen = "short keepalive latency udp iperf1 iperf16";
        String[][] rows = {
            // name, servers, attach, versus, short conn/s
            {"jvs-dr6-packet", "rs6", "packet", "kernel-fwd6", "4000"},
            {"kernel-fwd6", "rs6", "-", "-", "5000"},
            {"kernel-nat6", "rs6", "-", "-", "2000"},
            {"jvs-nat6-packet", "rs6", "packet", "kernel-nat6", "3000"},
            {"jvs-dr6-tap", "rs6", "tap", "kernel-fwd6", "1000"},
            {"jvs-nat6-tap", "rs6", "tap", "kernel-nat6", "1500"},
            {"kernel-fullnat6", "rs6", "-", "-", "4000"},
            {"jvs-fullnat6-packet", "rs6", "packet", "kernel-fullnat6", "3000"},
            {"jvs-tun6-packet", "ts6", "packet", "kernel-fwd6", "2500"},
        };
        StringBuilder st = new StringBuilder();
        StringBuilder rw = new StringBuilder();
        for (String[] r : rows) {
            st.append(String.join("\t", r[0], "ok", scen, r[1], r[2], r[3])).append('\n');
            rw.append(String.join("\t", r[0], "short", "c32", "1",
                    "rps=" + r[4] + " p50_us=100 p99_us=200 p999_us=300 errors=0")).append('\n');
        }
        Files.writeString(status, st);
        Files.writeString(raw, rw);
        Process py = new ProcessBuilder("python3", repo().resolve("scripts/bench.d/report.py").toString(),
                meta.toString(), status.toString(), raw.toString(), md.toString(), tmp.resolve("out.svg").toString())
                .redirectErrorStream(true).start();
        String out = new String(py.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(py.waitFor(60, TimeUnit.SECONDS), "report.py finished");
        assertEquals(0, py.exitValue(), "report.py: " + out);
        String report = Files.readString(md);
        String section = report.substring(report.indexOf("## IPv6 (issue 16)"));
        assertAll(
                () -> assertTrue(section.contains("| HTTP short conn/s: jvs-dr6-packet / kernel-fwd6 (kernel routing of the "
                        + "VIP6 to rs1) | 0.80x (4,000 / 5,000) |"), section),
                () -> assertTrue(section.contains("| HTTP short conn/s: jvs-nat6-packet / kernel-nat6 (nftables ip6 DNAT) "
                        + "| 1.50x (3,000 / 2,000) |"), section),
                () -> assertTrue(section.contains("| HTTP short conn/s: jvs-dr6-tap / kernel-fwd6 (kernel routing of the "
                        + "VIP6 to rs1) | 0.20x (1,000 / 5,000) |"), section),
                () -> assertTrue(section.contains("| HTTP short conn/s: jvs-nat6-tap / kernel-nat6 (nftables ip6 DNAT) "
                        + "| 0.75x (1,500 / 2,000) |"), section),
                () -> assertTrue(section.contains("| HTTP short conn/s: jvs-fullnat6-packet / kernel-fullnat6 (nftables "
                        + "ip6 DNAT + SNAT to the local address) | 0.75x (3,000 / 4,000) |"), section),
                () -> assertTrue(section.contains("| HTTP short conn/s: jvs-tun6-packet / kernel-fwd6 (kernel routing of "
                        + "the VIP6 to rs1) | 0.50x (2,500 / 5,000) |"), section),
                () -> assertTrue(section.contains("| HTTP short conn/s: jvs-tun6-packet / jvs-dr6-packet | 0.62x "
                        + "(2,500 / 4,000) |"), section),
                () -> assertTrue(report.contains("| jvs-tun6-packet | TUN segment over IPv6 (ts1, ts2) | 2,500 |"),
                        "the results table names the TUN6 peer's servers"));
    }
}
