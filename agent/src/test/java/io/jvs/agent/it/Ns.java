package io.jvs.agent.it;

import io.jvs.forwarder.it.Exec;
import io.jvs.forwarder.it.Lab;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Helpers for the agent's tests: commands in a namespace, the agent, and the test peers, each with a time limit. */
final class Ns {
    static final Path REPO = Lab.repoRoot();
    static final String AGENT = REPO.resolve("bin/jvs-agent").toString();
    static final String JAVA = System.getProperty("java.home") + "/bin/java";
    static final String CP = String.join(":", REPO.resolve("agent/target/test-classes").toString(),
            REPO.resolve("agent/target/classes").toString(),
            REPO.resolve("forwarder/target/jvs-forwarder.jar").toString(),
            REPO.resolve("forwarder/target/lib").toString() + "/*");

    private Ns() {
    }

    static Exec.Result in(String ns, String... cmd) {
        return in(Duration.ofSeconds(60), ns, cmd);
    }

    static Exec.Result in(Duration t, String ns, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return Exec.run(t, c);
    }

    static Exec.Result sh(String ns, String script) {
        return in(ns, "bash", "-c", "set -euo pipefail\n" + script);
    }

    /** jvs-agent ARGS in ns (env: extra environment as NAME=VALUE through env(1)). */
    static Exec.Result agent(String ns, Map<String, String> env, String... args) {
        List<String> c = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> c.add(k + "=" + v));
        c.add(AGENT);
        c.addAll(List.of(args));
        return in(Duration.ofSeconds(90), ns, c.toArray(String[]::new));
    }

    static Exec.Result agent(String ns, String... args) {
        return agent(ns, Map.of(), args);
    }

    /** The EncapTool command line (bounded by timeout(1) as well as by its own SECONDS). */
    static List<String> tool(String ns, int limitSeconds, String... args) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns, "timeout", Integer.toString(limitSeconds),
                JAVA, "--enable-native-access=ALL-UNNAMED", "-cp", CP, EncapTool.class.getName()));
        c.addAll(List.of(args));
        return c;
    }

    static Exec.Result runTool(String ns, int limitSeconds, String... args) {
        return Exec.run(Duration.ofSeconds(limitSeconds + 30), tool(ns, limitSeconds, args));
    }
}
