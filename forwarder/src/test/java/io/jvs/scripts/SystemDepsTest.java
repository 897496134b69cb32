package io.jvs.scripts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/lib/deps.sh, the helper that scripts/demo, scripts/test and scripts/bench call to
 * install the Debian packages they need, run as they run it but with a PATH that holds only
 * fakes: an {@code apt-get} and an {@code apt-cache} that record their arguments, an {@code id}
 * that says root or not, one stub per tool that should count as installed, a fake JDK, and
 * sed/rm/chmod (which the helper and scripts/lib/jdk.sh use themselves). The policy-rc.d file
 * and the JDK directory are pointed into a temporary directory (JVS_POLICY_RC_D, JVS_JVM_DIR),
 * and the environment is otherwise empty: nothing here can reach the real apt or /usr/sbin.
 *
 * <p>The expected package lists are written out here, from what each command runs (the
 * integration tests, scripts/lab, scripts/bench), not taken from the helper.
 */
class SystemDepsTest {
    /** What a fresh machine needs for scripts/demo: the build (./mvnw) and the namespace lab. */
    static final Set<String> DEMO = Set.of("curl", "ca-certificates", "iproute2", "nginx-light", "openssl", "procps",
            "util-linux", "coreutils");
    /** The compose lab (scripts/compose, ComposeIT): the engine, compose, the base image's debootstrap. */
    static final Set<String> COMPOSE = Set.of("docker.io", "docker-compose", "debootstrap");
    /** scripts/test: the demo's, plus what the integration tests run. */
    static final Set<String> TEST = union(union(DEMO, Set.of("nftables", "tcpdump", "python3", "wrk", "prometheus", "chromium",
            "vsftpd", "keepalived", "iputils-arping", "bird2", "hping3")), COMPOSE);
    /** scripts/bench: the demo's, plus the generators and peers. */
    static final Set<String> BENCH = union(DEMO, Set.of("wrk", "iperf3", "netsniff-ng", "haproxy", "nftables",
            "python3"));

    @TempDir
    Path tmp;
    Path bin;
    Path jvm;
    Path policy;
    Path log;
    final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void fakes() throws Exception {
        bin = Files.createDirectories(tmp.resolve("bin"));
        Path util = Files.createDirectories(tmp.resolve("util"));
        jvm = Files.createDirectories(tmp.resolve("jvm"));
        policy = tmp.resolve("policy-rc.d");
        log = tmp.resolve("apt.log");
        for (String tool : List.of("sed", "rm", "chmod")) {
            script(util.resolve(tool), "#!/bin/bash\nexec " + realTool(tool) + " \"$@\"\n");
        }
        // apt-get: one line per call (arguments, DEBIAN_FRONTEND); during an install also whether the
        // service-start policy is in place and what it answers. Installing a JDK package makes one.
        script(bin.resolve("apt-get"), """
                #!/bin/bash
                echo "apt-get $* | DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset}" >>"$FAKE_LOG"
                if [ "$1" = install ]; then
                  if [ -x "$JVS_POLICY_RC_D" ]; then "$JVS_POLICY_RC_D"; echo "policy exit $?" >>"$FAKE_LOG"
                  else echo "policy none" >>"$FAKE_LOG"; fi
                  [ "${FAKE_APT_FAIL:-}" != install ] || exit 100
                  for p in "$@"; do
                    case $p in
                      temurin-25-jdk) "$FAKE_MAKE_JDK" "$JVS_JVM_DIR/temurin-25-jdk-amd64" 25 ;;
                      openjdk-25-jdk-headless) "$FAKE_MAKE_JDK" "$JVS_JVM_DIR/java-25-openjdk-amd64" 25 ;;
                    esac
                  done
                fi
                exit 0
                """);
        script(bin.resolve("apt-cache"), """
                #!/bin/bash
                echo "apt-cache $*" >>"$FAKE_LOG"
                [ "$1" = show ] && [[ " ${FAKE_APT_KNOWS:-} " == *" $2 "* ]]
                """);
        script(bin.resolve("id"), """
                #!/bin/bash
                [ "$1" = -u ] && echo "$FAKE_UID"
                """);
        Path makeJdk = script(tmp.resolve("make-jdk"), """
                #!/bin/bash
                /bin/mkdir -p "$1/bin"
                printf '#!/bin/bash\\necho "    java.specification.version = %s" >&2\\n' "$2" >"$1/bin/java"
                printf '#!/bin/bash\\n' >"$1/bin/javac"
                /bin/chmod +x "$1/bin/java" "$1/bin/javac"
                """);
        env.put("PATH", bin + ":" + util);
        env.put("FAKE_LOG", log.toString());
        env.put("FAKE_UID", "0");
        env.put("FAKE_MAKE_JDK", makeJdk.toString());
        env.put("FAKE_APT_KNOWS", "temurin-25-jdk openjdk-25-jdk-headless");
        env.put("JVS_POLICY_RC_D", policy.toString());
        env.put("JVS_JVM_DIR", jvm.toString());
        jdk("temurin-25-jdk-amd64", 25);
    }

    @Test
    void nothingIsInstalledWhenAllIsPresent() throws Exception {
        for (String set : List.of("demo", "test", "bench", "bench-micro", "bench-compose", "compose")) {
            stubAllTools(set);
            Run r = deps(set);
            assertEquals(0, r.exit, set + "\n" + r);
            assertEquals("", r.stdout + r.stderr, set + ": says nothing when all is there");
            assertEquals(List.of(), aptCalls(), set + ": apt was not used");
        }
    }

    @Test
    void aFreshMachineGetsExactlyWhatEachCommandNeeds() throws Exception {
        Map<String, Set<String>> want = Map.of("demo", DEMO, "test", TEST, "bench", BENCH,
                "bench-micro", Set.of("curl", "ca-certificates"), "bench-compose", COMPOSE,
                "compose", union(Set.of("curl", "ca-certificates"), COMPOSE));
        for (var e : want.entrySet()) {
            Files.deleteIfExists(log);
            Run r = deps(e.getKey());
            assertEquals(0, r.exit, e.getKey() + "\n" + r);
            List<String> calls = aptCalls();
            assertEquals(2, calls.size(), e.getKey() + ": one update, one install\n" + calls);
            assertEquals("apt-get update -qq | DEBIAN_FRONTEND=noninteractive", calls.get(0));
            assertEquals(e.getValue(), installed(calls.get(1)), e.getKey() + ": " + calls.get(1));
            assertEquals(e.getValue().size(), installedList(calls.get(1)).size(), "each package once: " + calls.get(1));
            assertEquals(1, r.stdout.lines().count(), "one line saying what and why:\n" + r);
            assertTrue(r.stdout.contains("installs ") && r.stdout.contains("missing: "), r.stdout);
            assertFalse(Files.exists(policy), "no policy file left behind");
        }
    }

    @Test
    void aMissingToolInstallsExactlyItsPackage() throws Exception {
        record Case(String set, String tool, Set<String> packages) {
        }
        for (Case c : List.of(
                new Case("test", "nginx", Set.of("nginx-light")),
                new Case("test", "chromium", Set.of("chromium")),
                new Case("test", "nft", Set.of("nftables")),
                new Case("test", "vsftpd", Set.of("vsftpd")),
                new Case("test", "python3", Set.of("python3")),
                new Case("test", "wrk", Set.of("wrk")),
                new Case("bench", "trafgen", Set.of("netsniff-ng")),
                new Case("bench", "haproxy", Set.of("haproxy")),
                new Case("demo", "chromium", Set.of()),     // the demo does not need it
                new Case("demo", "wrk", Set.of()),
                new Case("bench-compose", "docker-compose", Set.of("docker-compose")),
                new Case("compose", "dockerd", Set.of("docker.io")),
                new Case("compose", "debootstrap", Set.of("debootstrap")))) {
            stubAllTools(c.set);
            if (!c.packages.isEmpty()) {
                assertTrue(Files.exists(bin.resolve(c.tool)), c.set + " does not check for " + c.tool + " at all");
            }
            Files.deleteIfExists(bin.resolve(c.tool));
            Files.deleteIfExists(log);
            Run r = deps(c.set);
            assertEquals(0, r.exit, c + "\n" + r);
            List<String> calls = aptCalls();
            if (c.packages.isEmpty()) {
                assertEquals(List.of(), calls, c + ": nothing to install");
                assertEquals("", r.stdout + r.stderr, c.toString());
            } else {
                assertEquals(2, calls.size(), c + ": one update, one install\n" + calls);
                assertTrue(calls.get(0).startsWith("apt-get update "), calls.toString());
                assertEquals("apt-get install -y -qq " + String.join(" ", c.packages)
                        + " | DEBIAN_FRONTEND=noninteractive", calls.get(1));
                assertTrue(r.stdout.contains(c.tool), "the line names the missing tool: " + r.stdout);
            }
            Files.createFile(bin.resolve(c.tool));
            assertFalse(Files.exists(policy), "no policy file left behind");
        }
    }

    @Test
    void noInstallOnlyReports() throws Exception {
        stubAllTools("test");
        Files.delete(bin.resolve("chromium"));
        Files.delete(bin.resolve("nginx"));
        Run r = deps("--no-install", "test");
        assertEquals(0, r.exit, "--no-install reports and lets the command carry on\n" + r);
        assertFalse(Files.exists(log), "no apt call at all:\n" + r);
        assertFalse(Files.exists(policy), "no policy file");
        assertEquals(1, r.stderr.lines().count(), r.toString());
        assertTrue(r.stderr.contains("apt-get install nginx-light chromium"), r.stderr);
    }

    @Test
    void serviceStartsAreForbiddenDuringTheInstallAndThePolicyIsRemovedAfter() throws Exception {
        stubAllTools("test");
        Files.delete(bin.resolve("vsftpd"));
        Run r = deps("test");
        assertEquals(0, r.exit, r.toString());
        assertEquals(List.of("exit 101"), policyDuringInstall(), "policy-rc.d in place and forbidding during the install");
        assertFalse(Files.exists(policy), "the policy written for the install is gone");
    }

    @Test
    void aPolicyThatWasThereIsLeftAsItWas() throws Exception {
        String theirs = "#!/bin/sh\n# someone else's\nexit 101\n";
        script(policy, theirs);
        stubAllTools("test");
        Files.delete(bin.resolve("vsftpd"));
        Run r = deps("test");
        assertEquals(0, r.exit, r.toString());
        assertEquals(List.of("exit 101"), policyDuringInstall());
        assertEquals(theirs, Files.readString(policy), "not rewritten, not removed");
    }

    @Test
    void thePolicyGoesEvenWhenTheInstallFails() throws Exception {
        stubAllTools("test");
        Files.delete(bin.resolve("vsftpd"));
        env.put("FAKE_APT_FAIL", "install");
        Run r = deps("test");
        assertEquals(1, r.exit, "a failed install stops the command\n" + r);
        assertTrue(r.stderr.contains("apt-get install vsftpd failed"), r.stderr);
        assertFalse(Files.exists(policy));
    }

    @Test
    void notRootOrNoAptNamesThePackagesInOneLine() throws Exception {
        stubAllTools("bench");
        Files.delete(bin.resolve("wrk"));
        Files.delete(bin.resolve("iperf3"));
        env.put("FAKE_UID", "1000");
        Run notRoot = deps("bench");
        assertEquals(1, notRoot.exit, notRoot.toString());
        assertFalse(Files.exists(log), "not root: no apt call");
        assertEquals(1, notRoot.stderr.lines().count(), notRoot.toString());
        assertTrue(notRoot.stderr.contains("not root") && notRoot.stderr.contains("apt-get install wrk iperf3"),
                notRoot.stderr);

        env.put("FAKE_UID", "0");
        Files.delete(bin.resolve("apt-get"));
        Run noApt = deps("bench");
        assertEquals(1, noApt.exit, noApt.toString());
        assertFalse(Files.exists(log), "no apt: nothing run");
        assertEquals(1, noApt.stderr.lines().count(), noApt.toString());
        assertTrue(noApt.stderr.contains("no apt-get") && noApt.stderr.contains("wrk iperf3"), noApt.stderr);
    }

    @Test
    void withoutAJdk25TemurinIsInstalledElseDebiansOpenJdkElseItSaysWhatToInstall() throws Exception {
        stubAllTools("demo");
        deleteTree(jvm.resolve("temurin-25-jdk-amd64"));
        jdk("java-17-openjdk-amd64", 17); // too old: does not count
        Run temurin = deps("demo");
        assertEquals(0, temurin.exit, temurin.toString());
        assertEquals("apt-get install -y -qq temurin-25-jdk | DEBIAN_FRONTEND=noninteractive", aptCalls().get(1));
        assertTrue(temurin.stdout.contains("a JDK >= 25"), temurin.stdout);

        deleteTree(jvm.resolve("temurin-25-jdk-amd64"));
        Files.delete(log);
        env.put("FAKE_APT_KNOWS", "openjdk-25-jdk-headless");
        Run openjdk = deps("demo");
        assertEquals(0, openjdk.exit, openjdk.toString());
        assertEquals("apt-get install -y -qq openjdk-25-jdk-headless | DEBIAN_FRONTEND=noninteractive",
                aptCalls().get(1));

        deleteTree(jvm.resolve("java-25-openjdk-amd64"));
        Files.delete(log);
        Files.delete(bin.resolve("nginx"));
        env.put("FAKE_APT_KNOWS", "");
        Run none = deps("demo");
        assertEquals(1, none.exit, "no JDK to be had: the command stops\n" + none);
        assertEquals("apt-get install -y -qq nginx-light | DEBIAN_FRONTEND=noninteractive", aptCalls().get(1),
                "what can be installed is");
        assertTrue(none.stderr.contains("apt-get install temurin-25-jdk") && none.stderr.contains("adoptium"),
                none.stderr);

        env.put("FAKE_UID", "1000");
        Run notRoot = deps("demo");
        assertTrue(notRoot.stderr.contains("a JDK >= 25 (apt-get install temurin-25-jdk"), notRoot.stderr);
    }

    @Test
    void theScriptsAndCiUseTheHelper() throws Exception {
        Path repo = repo();
        for (String s : List.of("demo", "test", "bench")) {
            String text = Files.readString(repo.resolve("scripts").resolve(s));
            assertTrue(text.contains(". scripts/lib/deps.sh") && text.contains("jvs_deps "), "scripts/" + s);
        }
        List<String> ci = Files.readAllLines(repo.resolve(".ci/run")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertEquals("scripts/test", ci.getLast().replaceFirst("^exec ", ""), ".ci/run ends in the README's command");
        assertTrue(ci.stream().noneMatch(l -> l.contains("apt-get")), ".ci/run installs nothing itself: " + ci);
    }

    // ------------------------------------------------------------------------------------------

    record Run(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    Run deps(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", repo().resolve("scripts/lib/deps.sh").toString()));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(tmp.resolve("out").toFile())
                .redirectError(tmp.resolve("err").toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("scripts/lib/deps.sh " + String.join(" ", args) + " did not end in 60 s");
        }
        return new Run(p.exitValue(), Files.readString(tmp.resolve("out")), Files.readString(tmp.resolve("err")));
    }

    /** A stub for every tool the set probes for (the helper's --list is only the to-do list here). */
    void stubAllTools(String set) throws Exception {
        Run list = deps("--list", set);
        assertEquals(0, list.exit, list.toString());
        for (String line : list.stdout.lines().toList()) {
            String tool = line.split(" ")[1];
            if (!tool.equals("-") && !Files.exists(bin.resolve(tool))) {
                Files.createFile(bin.resolve(tool));
            }
        }
        try (var tools = Files.list(bin)) {
            for (Path t : tools.toList()) {
                Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    /** The apt-get calls in order (apt-cache's are left out: they only ask). */
    List<String> aptCalls() throws IOException {
        return logLines("apt-get ");
    }

    /** What the service-start policy answered during each install ("exit 101"), or "none". */
    List<String> policyDuringInstall() throws IOException {
        return logLines("policy ").stream().map(l -> l.substring("policy ".length())).toList();
    }

    List<String> logLines(String prefix) throws IOException {
        if (!Files.exists(log)) {
            return List.of();
        }
        return Files.readAllLines(log).stream().filter(l -> l.startsWith(prefix)).toList();
    }

    static List<String> installedList(String call) {
        assertTrue(call.startsWith("apt-get install -y -qq "), call);
        String args = call.substring("apt-get install -y -qq ".length(), call.indexOf(" | "));
        return List.of(args.split(" "));
    }

    static Set<String> installed(String call) {
        return new TreeSet<>(installedList(call));
    }

    void jdk(String name, int version) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(env.get("FAKE_MAKE_JDK"), jvm.resolve(name).toString(),
                Integer.toString(version)).inheritIO();
        assertEquals(0, pb.start().waitFor());
    }

    static Path script(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    static Path realTool(String name) {
        for (String dir : List.of("/usr/bin", "/bin")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError(name + " not found in /usr/bin or /bin");
    }

    static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.delete(p);
            }
        }
    }

    static Path repo() {
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("scripts/lib/deps.sh"))) {
                return d;
            }
        }
        throw new AssertionError("scripts/lib/deps.sh not found above " + System.getProperty("user.dir"));
    }

    static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> s = new TreeSet<>(a);
        s.addAll(b);
        return s;
    }
}
