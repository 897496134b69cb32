package io.jvs.agent.it;

import io.jvs.forwarder.it.Exec;
import io.jvs.forwarder.it.Lab;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compose lab for real, as a user runs it: {@code scripts/compose up} (a Docker engine of its own
 * when none answers, images made without a registry), {@code scripts/compose test} (200 requests through
 * the VIP in DR over rs1/rs2, 20 through the VIP6 in NAT alternating over them (every network is
 * dual-stack), TUN to ts1/ts2, Prometheus in its container scraping the director) and
 * {@code scripts/compose down}; then nothing of the lab remains: no engine process, container, network
 * bridge or veth, mount, data root, and the root namespace's iptables, ip6tables and forwarding are as before.
 * Bad input on the way: a second compose project on the same addresses is refused by name before
 * anything starts, and a failed image build leaves nothing behind. When the engine cannot start,
 * {@code up} fails and so does this test, with the engine's log.
 *
 * <p>In the agent module because the images take both jars as Maven built them ({@code up --no-build}):
 * the agent's integration tests run after the forwarder's, when jvs-agent.jar exists.
 */
class ComposeIT {
    static final Duration UP = Duration.ofMinutes(15); // a cold machine: debootstrap of the base image
    static final String PROJECT = Lab.PREFIX + "compose";
    static final Path STATE = Path.of("/run/" + PROJECT);
    static final Path DATA = Path.of("/var/lib/" + PROJECT);

    final Path script = Lab.repoRoot().resolve("scripts/compose");

    Exec.Result compose(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of("env", "JVS_LAB_PREFIX=" + Lab.PREFIX, script.toString()));
        cmd.addAll(List.of(args));
        Exec.Result r = Exec.run(timeout, cmd);
        log(r);
        return r;
    }

    static void log(Exec.Result r) {
        System.out.printf("ComposeIT: %s: exit %d in %d s%n", String.join(" ", r.command()), r.exitCode(),
                r.took().toSeconds());
    }

    @Test
    void upTestDownLeavesNothing() throws IOException {
        HostState before = HostState.now();
        assertFalse(Files.exists(STATE.resolve("compose.env")),
                "a compose lab " + PROJECT + " is up already (" + STATE + "): scripts/compose down first");
        Exec.Result up = compose(UP, "up", "--no-build");
        try {
            up.requireOk();
            Map<String, String> env = stateEnv();
            String pid = env.getOrDefault("DOCKERD_PID", "");
            // what down must remove, seen while it exists
            String host = env.get("DOCKER_HOST");
            List<String> networks = lines(Exec.run(Duration.ofSeconds(30), List.of("env", "DOCKER_HOST=" + host,
                    "docker", "network", "ls", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project=" + PROJECT))
                    .requireOk().stdout());
            assertEquals(4, networks.size(), "outside, lan, tunnel, monitoring: " + networks);
            Set<String> bridges = networks.stream().map(id -> "br-" + id.substring(0, 12)).collect(Collectors.toSet());
            Set<String> veths = new TreeSet<>();
            for (String br : bridges) {
                assertTrue(HostState.rootLinks().contains(br), "bridge " + br + " of the lab's networks in the root namespace");
                Exec.run(Duration.ofSeconds(10), List.of("ip", "-o", "link", "show", "master", br)).requireOk().stdout()
                        .lines().map(l -> l.split(": ")[1].replaceAll("@.*", "")).forEach(veths::add);
            }
            assertFalse(veths.isEmpty(), "the containers' veths on the lab's bridges");
            List<String> images = env.entrySet().stream().filter(e -> e.getKey().startsWith("IMAGE")).map(Map.Entry::getValue)
                    .toList();

            // Bad input: a second compose project on the same addresses is refused by name, nothing started.
            String other = "jvs-o" + HexFormat.of().toHexDigits((byte) ThreadLocalRandom.current().nextInt()) + "-";
            Exec.Result second = Exec.run(Duration.ofMinutes(2),
                    List.of("env", "JVS_LAB_PREFIX=" + other, script.toString(), "up", "--no-build", "--no-install"));
            log(second);
            assertFalse(second.ok(), "a second compose lab on the same addresses was not refused\n" + second.describe());
            assertTrue(second.stderr().contains("refused") && second.stderr().contains("'" + PROJECT + "'"),
                    "refused, naming the project that holds the addresses:\n" + second.describe());
            assertFalse(Files.exists(Path.of("/run/" + other + "compose")), "the refused up left its state directory");
            assertEquals(List.of(), HostState.processesMentioning("/var/lib/" + other + "compose"), "the refused up started an engine");

            Exec.Result test = compose(Duration.ofMinutes(5), "test");
            test.requireOk();
            assertTrue(test.stdout().contains("served by: rs1 100, rs2 100 (answers: 200 of 200)"), test.describe());
            assertTrue(test.stdout().contains("ok: one answer each from ts1 and ts2"), test.describe());
            // dual stack: 20 requests through the VIP6, NAT rr, none failed
            assertTrue(test.stdout().contains("IPv6 served by: rs1 10, rs2 10 (answers: 20 of 20)"), test.describe());
            assertTrue(test.stdout().contains("ok: IPv6 NAT round robin, 10 each, alternating"), test.describe());
            assertTrue(test.stdout().contains("up{job=\"jvs-director\"} = 1"), test.describe());

            Exec.Result down = compose(Duration.ofMinutes(3), "down");
            down.requireOk();
            HostState after = HostState.now();
            if (!pid.isEmpty()) {
                assertFalse(Files.exists(Path.of("/proc/" + pid)), "dockerd pid " + pid + " still runs after down");
            }
            assertEquals(List.of(), HostState.processesMentioning(STATE.toString()), "processes of the lab's engine");
            assertEquals(List.of(), HostState.processesMentioning(DATA.toString()), "processes of the lab's engine");
            assertEquals(List.of(), HostState.mountsUnder(STATE, DATA), "mounts left by the lab");
            assertFalse(Files.exists(DATA), "the engine's data root (and with it the images) is removed: " + DATA);
            assertFalse(Files.exists(STATE), "the state directory is removed: " + STATE);
            Set<String> left = new TreeSet<>(after.links);
            left.retainAll(union(bridges, veths));
            assertEquals(Set.of(), left, "bridges and veths of the lab left in the root namespace");
            assertEquals(before.iptables, after.iptables, "the root namespace's iptables changed");
            assertEquals(before.ip6tables, after.ip6tables, "the root namespace's ip6tables changed");
            assertEquals(before.ipForward, after.ipForward, "the root namespace's ip_forward changed");
            if ("external".equals(env.get("ENGINE"))) { // an engine that was there before: only the images go
                for (String image : images) {
                    assertFalse(Exec.run(Duration.ofSeconds(30), List.of("env", "DOCKER_HOST=" + host, "docker", "image",
                            "inspect", image)).ok(), "image " + image + " left after down");
                }
            }
        } finally {
            if (Files.exists(STATE.resolve("compose.env"))) {
                compose(Duration.ofMinutes(3), "down");
            }
        }
    }

    @Test
    void aFailedImageBuildLeavesNothing() throws IOException {
        HostState before = HostState.now();
        // A base image that exists nowhere (no registry answers here, and none would have it):
        // the engine starts, the build fails, and up takes down what it started.
        Exec.Result up = compose(UP, "up", "--no-build", "--base-image", "jvs-no-such-base-image:none");
        try {
            assertFalse(up.ok(), "up with a base image that does not exist succeeded\n" + up.describe());
            assertTrue(up.stderr().contains("the image build failed"), up.describe());
            assertTrue(up.stderr().contains("taking down what it started"), up.describe());
            assertFalse(Files.exists(STATE), "state directory left: " + STATE);
            assertFalse(Files.exists(DATA), "data root left: " + DATA);
            assertEquals(List.of(), HostState.processesMentioning(STATE.toString()), "processes left");
            assertEquals(List.of(), HostState.mountsUnder(STATE, DATA), "mounts left");
            HostState after = HostState.now();
            assertEquals(before.iptables, after.iptables, "the root namespace's iptables changed");
            assertEquals(before.ip6tables, after.ip6tables, "the root namespace's ip6tables changed");
            Set<String> newBridges = new TreeSet<>(after.links);
            newBridges.removeAll(before.links);
            newBridges.removeIf(l -> !l.startsWith("br-") && !l.startsWith("veth") && !l.equals("docker0"));
            assertEquals(Set.of(), newBridges, "bridges or veths left in the root namespace");
        } finally {
            if (Files.exists(STATE.resolve("compose.env"))) {
                compose(Duration.ofMinutes(3), "down");
            }
        }
    }

    static Map<String, String> stateEnv() throws IOException {
        Map<String, String> env = new TreeMap<>();
        int n = 0;
        for (String line : Files.readAllLines(STATE.resolve("compose.env"))) {
            int eq = line.indexOf('=');
            String k = line.substring(0, eq);
            env.put(k.equals("IMAGE") ? "IMAGE" + n++ : k, line.substring(eq + 1));
        }
        return env;
    }

    static List<String> lines(String s) {
        return s.lines().filter(l -> !l.isBlank()).toList();
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new TreeSet<>(a);
        u.addAll(b);
        return u;
    }

    /** What the lab may change in the root namespace, seen from outside scripts/compose. */
    record HostState(String iptables, String ip6tables, String ipForward, Set<String> links) {
        static HostState now() throws IOException {
            return new HostState(rules("iptables-save"), rules("ip6tables-save"),
                    Files.readString(Path.of("/proc/sys/net/ipv4/ip_forward")).strip(), rootLinks());
        }

        /** Rules and policies without packet counters (traffic changes those). */
        static String rules(String save) {
            return Exec.run(Duration.ofSeconds(30), List.of(save)).requireOk().stdout().lines()
                    .filter(l -> !l.startsWith("#")).map(l -> l.replaceAll("\\[\\d+:\\d+]", ""))
                    .collect(Collectors.joining("\n"));
        }

        static Set<String> rootLinks() {
            return Exec.run(Duration.ofSeconds(10), List.of("ip", "-o", "link", "show")).requireOk().stdout().lines()
                    .map(l -> l.split(": ")[1].replaceAll("@.*", "")).collect(Collectors.toCollection(TreeSet::new));
        }

        /** "pid: command line" of every process whose command line contains s. */
        static List<String> processesMentioning(String s) throws IOException {
            List<String> found = new ArrayList<>();
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                    try {
                        String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                        if (cmd.contains(s) && ProcessHandle.current().pid() != Long.parseLong(p.getFileName().toString())) {
                            found.add(p.getFileName() + ": " + cmd);
                        }
                    } catch (IOException gone) {
                        // the process ended meanwhile
                    }
                }
            }
            return found;
        }

        static List<String> mountsUnder(Path... dirs) throws IOException {
            return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
                    .filter(l -> Stream.of(dirs).anyMatch(d -> {
                        String m = l.split(" ")[1];
                        return m.equals(d.toString()) || m.startsWith(d + "/");
                    }))
                    .toList();
        }
    }
}
