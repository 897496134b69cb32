package io.jvs.forwarder.it;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compose lab mirrors the namespace lab: {@code docker-compose config} (Debian's
 * docker-compose; no engine needed) accepts docker-compose.yml, and every host that
 * {@code scripts/lab --help} documents is a compose service with the same addresses.
 * The hosts and addresses are read from the lab script's own topology text, so a change
 * to either side that the other does not follow fails here.
 */
class ComposeLabIT {
    /** Compose services that the namespace lab runs differently (Prometheus) or not at all (Grafana). */
    static final Set<String> MONITORING_ONLY = Set.of("prometheus", "grafana");
    /**
     * The ECMP shape (profile ecmp): the lab's jvs-director1..3 with BIRD, at 10.0.0.21..23 here (the
     * default director and Prometheus hold .2 and .3 in this lab), and BIRD in the router's namespace.
     */
    static final Map<String, Set<String>> ECMP_ONLY = Map.of("director1", Set.of("10.0.0.21"),
            "director2", Set.of("10.0.0.22"), "director3", Set.of("10.0.0.23"), "router-bird", Set.of());
    static final int REAL_SERVERS = 2;

    static String run(List<String> cmd) {
        Exec.Result r = Exec.run(Duration.ofSeconds(60), cmd);
        if (!r.ok()) {
            throw new AssertionError(String.join(" ", cmd) + " failed (docker-compose: apt-get install docker-compose; "
                    + ".ci/run does this)\n" + r.describe());
        }
        return r.stdout();
    }

    /** Lab host name ("client", "rs1") -> its addresses, from the topology in {@code scripts/lab --help}. */
    /** A profile heading in scripts/lab --help, e.g. "Two-NIC NAT (up --nat-two-nic), ...". */
    private static final Pattern OPTIONAL_PROFILE = Pattern.compile("^\\S[^(]*\\(up --[a-z-]+");

    static Map<String, Set<String>> labHosts(Path repo) {
        String help = run(List.of(repo.resolve("scripts/lab").toString(), "--help"));
        Map<String, Set<String>> hosts = new TreeMap<>();
        Pattern hostLine = Pattern.compile("^ {2}jvs-([a-zA-Z]+)\\s+(.*)$");
        Pattern ifaceLine = Pattern.compile("^ {10,}eth\\d+ (\\S+)/\\d+.*$");
        Pattern addr = Pattern.compile("^eth\\d+ (\\S+)/\\d+");
        String current = null;
        for (String line : help.split("\n")) {
            if (OPTIONAL_PROFILE.matcher(line).lookingAt()) {
                break; // topologies `up` builds only on request (two-NIC NAT) have no compose counterpart
            }
            Matcher h = hostLine.matcher(line);
            if (h.matches()) {
                current = h.group(1);
                Matcher a = addr.matcher(h.group(2));
                if (current.equals("lan")) {
                    current = null; // the bridge: the compose "lan" network, not a host
                    continue;
                }
                hosts.computeIfAbsent(current, k -> new TreeSet<>()); // a host may be listed twice (router)
                if (a.find()) {
                    hosts.get(current).add(a.group(1));
                }
                continue;
            }
            Matcher i = ifaceLine.matcher(line);
            if (current != null && i.matches()) {
                hosts.get(current).add(i.group(1));
            }
        }
        // rsN / tsN templates: expand for the real servers the lab starts by default.
        Map<String, Set<String>> expanded = new TreeMap<>();
        hosts.forEach((name, addrs) -> {
            if (name.endsWith("N")) {
                for (int n = 1; n <= REAL_SERVERS; n++) {
                    Set<String> a = new TreeSet<>();
                    for (String s : addrs) {
                        a.add(s.replace("N", Integer.toString(n)));
                    }
                    expanded.put(name.substring(0, name.length() - 1) + n, a);
                }
            } else {
                expanded.put(name, addrs);
            }
        });
        return expanded;
    }

    /**
     * Lab host name -> its IPv6 addresses, from the "IPv6 (dual stack ...)" part of {@code scripts/lab
     * --help} (every "ethN ADDR/64" of a host's line), without the two-NIC NAT profile's hosts and
     * interfaces (no compose counterpart).
     */
    static Map<String, Set<String>> labHosts6(Path repo) {
        String help = run(List.of(repo.resolve("scripts/lab").toString(), "--help"));
        Map<String, Set<String>> hosts = new TreeMap<>();
        Pattern hostLine = Pattern.compile("^ {2}jvs-([a-zA-Z]+)\\s+(.*)$");
        Pattern addr = Pattern.compile("eth\\d+ ([0-9a-fN:]+)/64");
        boolean inIpv6 = false;
        for (String line : help.split("\n")) {
            if (line.startsWith("IPv6 (dual stack")) {
                inIpv6 = true;
                continue;
            }
            if (inIpv6 && !line.isEmpty() && !line.startsWith(" ")) {
                break; // the next section
            }
            Matcher h = hostLine.matcher(line);
            if (!inIpv6 || !h.matches() || h.group(1).equals("nrsN") || line.contains("--nat-two-nic")) {
                continue;
            }
            Matcher a = addr.matcher(h.group(2));
            while (a.find()) {
                String name = h.group(1);
                if (name.endsWith("N")) {
                    for (int n = 1; n <= REAL_SERVERS; n++) {
                        hosts.computeIfAbsent(name.substring(0, name.length() - 1) + n, k -> new TreeSet<>())
                                .add(a.group(1).replace("N", Integer.toString(n)));
                    }
                } else {
                    hosts.computeIfAbsent(name, k -> new TreeSet<>()).add(a.group(1));
                }
            }
        }
        return hosts;
    }

    /** Compose service -> its static addresses, from the normalised {@code docker-compose config} output. */
    static Map<String, Set<String>> composeHosts(String config) {
        return composeHosts(config, "ipv4_address");
    }

    /** Compose service -> its static addresses of one kind (ipv4_address, ipv6_address). */
    static Map<String, Set<String>> composeHosts(String config, String kind) {
        Map<String, Set<String>> hosts = new TreeMap<>();
        boolean inServices = false;
        String current = null;
        for (String line : config.split("\n")) {
            if (!line.startsWith(" ")) {
                inServices = line.equals("services:");
                current = null;
                continue;
            }
            if (!inServices) {
                continue;
            }
            Matcher svc = Pattern.compile("^ {2}([a-z0-9_-]+):$").matcher(line);
            if (svc.matches()) {
                current = svc.group(1);
                hosts.put(current, new TreeSet<>());
                continue;
            }
            Matcher ip = Pattern.compile("^\\s+" + kind + ": (\\S+)$").matcher(line);
            if (current != null && ip.matches()) {
                hosts.get(current).add(ip.group(1));
            }
        }
        return hosts;
    }

    @Test
    void composeConfigIsValidAndNamesTheNamespaceLabsHosts() throws IOException {
        Path repo = Lab.repoRoot();
        List<String> base = List.of("docker-compose", "--project-directory", repo.toString(),
                "-f", repo.resolve("docker-compose.yml").toString());
        String config = run(concat(base, "config"));
        Set<String> services = new TreeSet<>(List.of(run(concat(base, "config", "--services")).strip().split("\n")));

        Map<String, Set<String>> lab = labHosts(repo);
        assertTrue(lab.keySet().containsAll(Set.of("client", "router", "director", "rs1", "rs2")),
                "lab hosts from scripts/lab --help: " + lab);
        Map<String, Set<String>> compose = composeHosts(config);
        assertEquals(services, compose.keySet(), "services parsed from the config");

        Set<String> expectedServices = new TreeSet<>(lab.keySet());
        expectedServices.addAll(MONITORING_ONLY);
        expectedServices.addAll(ECMP_ONLY.keySet());
        assertEquals(expectedServices, services, "compose services = the lab's hosts + monitoring + ECMP");
        ECMP_ONLY.forEach((name, addrs) -> assertEquals(addrs, compose.get(name), "addresses of " + name));
        assertTrue(Pattern.compile("(?s) {2}router-bird:.*?network_mode: service:router").matcher(config).find(), config);
        assertTrue(config.contains("net.ipv4.fib_multipath_hash_policy: '1'")
                || config.contains("net.ipv4.fib_multipath_hash_policy: \"1\""), config);
        String routerBird = Files.readString(repo.resolve("docker/ecmp/router-bird.conf"));
        for (String a : List.of("10.0.0.21", "10.0.0.22", "10.0.0.23")) {
            assertTrue(routerBird.contains("neighbor " + a + " as 65001"), routerBird);
        }
        for (Map.Entry<String, Set<String>> host : lab.entrySet()) {
            assertEquals(host.getValue(), compose.get(host.getKey()), "addresses of " + host.getKey());
        }
        assertTrue(lab.get("router").contains(Lab.ROUTER_LAN_IP) && lab.get("director").contains(Lab.DIRECTOR_IP));

        // Dual stack: every network has IPv6 on, and each lab host its IPv6 addresses of the namespace lab.
        Map<String, Set<String>> lab6 = labHosts6(repo);
        assertEquals(Set.of("2001:db8:1::1", "2001:db8::1", "2001:db8:2::1"), lab6.get("router"), "lab: " + lab6);
        assertEquals(lab.keySet(), lab6.keySet(), "every lab host is dual-stack: " + lab6);
        Map<String, Set<String>> compose6 = composeHosts(config, "ipv6_address");
        for (Map.Entry<String, Set<String>> host : lab6.entrySet()) {
            assertEquals(host.getValue(), compose6.get(host.getKey()), "IPv6 addresses of " + host.getKey());
        }
        for (String net : List.of("outside", "lan", "tunnel", "monitoring")) {
            // a top-level network (two spaces in; the services' network names are deeper)
            assertTrue(Pattern.compile("(?ms)^ {2}" + net + ":\n {4}enable_ipv6: true\n.*?subnet: ['\"]?[0-9a-f:]+/64")
                    .matcher(config).find(), net + " is dual-stack\n" + config);
        }
        for (int k = 1; k <= 3; k++) { // the ECMP directors: 10.0.0.2K and 2001:db8::2K
            assertEquals(Set.of("2001:db8::2" + k), compose6.get("director" + k), "IPv6 address of director" + k);
        }
        String conf6 = Files.readString(repo.resolve("docker/director.conf"));
        assertTrue(conf6.contains("-A -t [2001:db8::100]:80 -s rr"), conf6);

        // Same service and mode: the director's config is the namespace lab's rr/DR service on the VIP.
        String conf = Files.readString(repo.resolve("docker/director.conf"));
        assertTrue(conf.contains("-A -t " + Lab.VIP + ":80 -s rr"), conf);
        for (int n = 1; n <= REAL_SERVERS; n++) {
            assertTrue(conf.contains("-a -t " + Lab.VIP + ":80 -r " + Lab.rsIp(n) + ":80 -g -w 1"), conf);
        }
        assertTrue(Files.readString(repo.resolve("docker/Dockerfile")).contains("--attach packet:eth0"),
                "director in packet mode");
        // The director gets the capabilities packet mode needs; Prometheus and Grafana get the provisioned files.
        assertTrue(Pattern.compile("(?s) {2}director:.*?cap_add:\\s+- NET_ADMIN\\s+- NET_RAW").matcher(config).find(),
                config);
        assertTrue(config.contains("monitoring/grafana/dashboards:/var/lib/grafana/dashboards/jvs:ro"), config);
        assertTrue(config.contains("monitoring/grafana/provisioning:/etc/grafana/provisioning:ro"), config);
        assertTrue(config.contains("monitoring/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"), config);
        String prom = Files.readString(repo.resolve("monitoring/prometheus/prometheus.yml"));
        assertTrue(prom.contains("'" + Lab.DIRECTOR_IP + ":9110'"), prom);
        for (Map.Entry<String, Set<String>> host : lab.entrySet()) {
            if (host.getKey().matches("[rt]s\\d+")) {
                for (String a : host.getValue()) {
                    assertTrue(prom.contains("'" + a + ":9120'"), "Prometheus scrapes the agent on " + a + "\n" + prom);
                }
            }
        }
    }

    @Test
    void badComposeFileIsRejected() throws IOException {
        // The validation is real: docker-compose config fails on a broken file.
        Path dir = Files.createTempDirectory("jvs-compose");
        try {
            Path bad = dir.resolve("docker-compose.yml");
            Files.writeString(bad, "version: \"3.8\"\nservices:\n  director:\n    cap_add: NET_ADMIN\n    networks: [nowhere]\n");
            Exec.Result r = Exec.run(Duration.ofSeconds(60), List.of("docker-compose", "-f", bad.toString(), "config"));
            assertTrue(!r.ok(), "docker-compose config accepted a broken file\n" + r.describe());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    static List<String> concat(List<String> a, String... b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
