package io.jvs.forwarder.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;

/**
 * The jvs forwarder as a child process inside jvs-director:
 * {@code ip netns exec jvs-director <repo>/bin/jvs-forwarder <args...>}.
 *
 * <p>Invariants: {@code ip netns exec} and {@code bin/jvs-forwarder} both
 * exec, so the child's PID is the JVM's; {@link #stop()} signals exactly that
 * PID (SIGTERM, then SIGKILL after a grace period) and nothing else. All
 * output goes to {@link #log()} under {@code forwarder/target/it-logs/};
 * failures quote its tail.
 */
public final class ForwarderProcess implements AutoCloseable {
    public static final String DEFAULT_METRICS = "127.0.0.1:9110";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(40);
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);

    private final Lab lab;
    private final String namespace;
    private final String name;
    private final String metricsAddr;
    private final Path log;
    private final Process process;
    private Integer exitCode;

    private ForwarderProcess(Lab lab, String namespace, String name, String metricsAddr, Path log, Process process) {
        this.lab = lab;
        this.namespace = namespace;
        this.name = name;
        this.metricsAddr = metricsAddr;
        this.log = log;
        this.process = process;
    }

    /**
     * Starts the forwarder with {@code args} (which should contain
     * {@code --metrics metricsAddr}) and waits until its metrics endpoint
     * answers. {@code name} names the log file. Throws, quoting the log, when
     * it exits or does not answer within 40 s.
     */
    public static ForwarderProcess start(Lab lab, String name, String metricsAddr, List<String> args) {
        return start(lab, Lab.DIRECTOR, name, metricsAddr, args);
    }

    /** As {@link #start(Lab, String, String, List)} in namespace {@code ns} (e.g. a director of {@code --directors 2}). */
    public static ForwarderProcess start(Lab lab, String ns, String name, String metricsAddr, List<String> args) {
        return start(lab, ns, name, metricsAddr, List.of(), args);
    }

    /**
     * As {@link #start(Lab, String, String, String, List)}, through {@code launcher} (a command
     * that execs its arguments, e.g. {@code nohup}) inside the namespace.
     */
    public static ForwarderProcess start(Lab lab, String ns, String name, String metricsAddr, List<String> launcher,
                                         List<String> args) {
        Path bin = executable(lab);
        if (!Files.isExecutable(bin)) {
            throw new AssertionError(bin + " is missing or not executable");
        }
        Path logDir = lab.repo().resolve("forwarder/target/it-logs");
        Path log = logDir.resolve("director-" + name + ".log");
        List<String> cmd = new ArrayList<>(List.of(Lab.ip(), "netns", "exec", ns));
        cmd.addAll(launcher);
        cmd.add(bin.toString());
        cmd.addAll(args);
        Process p;
        try {
            Files.createDirectories(logDir);
            Files.writeString(log, "# " + String.join(" ", cmd) + "\n");
            p = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        ForwarderProcess d = new ForwarderProcess(lab, ns, name, metricsAddr, log, p);
        d.awaitMetrics();
        return d;
    }

    /**
     * {@code <repo>/bin/jvs-forwarder}, unless the system property
     * {@code jvs.it.forwarder} names another executable with the same command
     * line (for validating the tests themselves against a stand-in, e.g.
     * {@code scripts/lab.d/standin-forwarder}).
     */
    static Path executable(Lab lab) {
        String override = System.getProperty("jvs.it.forwarder", "");
        return override.isBlank() ? lab.repo().resolve("bin/jvs-forwarder") : lab.repo().resolve(override);
    }

    private void awaitMetrics() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Exec.Result last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                exitCode = process.exitValue();
                throw new AssertionError("the forwarder (" + name + ") exited with " + exitCode
                        + " before its metrics answered\n" + logTail(80));
            }
            last = fetchMetrics();
            if (last.ok() && !last.stdout().isBlank()) {
                return;
            }
            sleep(200);
        }
        String why = last == null ? "" : last.describe();
        stopQuietly();
        throw new AssertionError("the forwarder (" + name + ") did not answer http://" + metricsAddr
                + "/metrics in " + namespace + " within " + START_TIMEOUT.toSeconds() + " s\n" + why + "\n"
                + logTail(80));
    }

    /** {@code metricsAddr} "https://ADDR:PORT" for a director serving its metrics port over TLS (self-signed: -k). */
    private Exec.Result fetchMetrics() {
        if (metricsAddr.startsWith("https://")) {
            return lab.exec(Duration.ofSeconds(5), namespace, "curl", "-s", "-k", "--fail", "--max-time", "2",
                    metricsAddr + "/metrics");
        }
        return lab.exec(Duration.ofSeconds(5), namespace, "curl", "-s", "--fail", "--max-time", "2",
                "http://" + metricsAddr + "/metrics");
    }

    /** The metrics text, fetched inside jvs-director. */
    public String metricsText() {
        Exec.Result r = fetchMetrics();
        if (!r.ok()) {
            throw new AssertionError("cannot fetch metrics from " + name + "\n" + r.describe() + "\n" + logTail(40));
        }
        return r.stdout();
    }

    public List<Metrics.Sample> samples() {
        return Metrics.parse(metricsText());
    }

    /**
     * The value of metric {@code name} over the samples matching
     * {@code labels} (summed when several match; see {@link Metrics} for the
     * selector syntax), or empty when no sample matches.
     */
    public OptionalDouble metricValue(String name, String labels) {
        return Metrics.sum(samples(), name, labels);
    }

    /** Like {@link #metricValue} but fails, listing the samples of that name, when none matches. */
    public double metric(String name, String labels) {
        List<Metrics.Sample> all = samples();
        OptionalDouble v = Metrics.sum(all, name, labels);
        if (v.isEmpty()) {
            List<String> same = all.stream().filter(s -> s.name().equals(name))
                    .map(s -> s.name() + "{" + s.labelText() + "} " + s.value()).toList();
            throw new AssertionError("no sample " + name + " matching {" + labels + "}; samples of that name: "
                    + (same.isEmpty() ? "none" : same));
        }
        return v.getAsDouble();
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** The name it was started with (its log is director-NAME.log). */
    public String name() {
        return name;
    }

    /** The last {@code lines} lines of the forwarder's output, with a header naming the file. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "--- " + log + " (last " + Math.min(lines, all.size()) + " of " + all.size() + " lines) ---\n"
                    + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "--- " + log + " unreadable: " + e + " ---";
        }
    }

    /**
     * SIGTERM to the forwarder's PID, then waits up to 15 s; SIGKILL after
     * that, and fails (a director that ignores SIGTERM is a defect). Returns
     * the exit code (143 is the JVM's ordinary answer to SIGTERM).
     */
    public int stop() {
        if (exitCode != null) {
            return exitCode;
        }
        if (!process.isAlive()) {
            exitCode = process.exitValue();
            throw new AssertionError("the forwarder (" + name + ") had already exited with " + exitCode
                    + " before stop()\n" + logTail(80));
        }
        process.destroy(); // SIGTERM to exactly this PID
        try {
            if (process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                exitCode = process.exitValue();
                return exitCode;
            }
            Exec.kill(process);
            exitCode = process.isAlive() ? -1 : process.exitValue();
        } catch (InterruptedException e) {
            Exec.kill(process);
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while stopping the forwarder (" + name + ")", e);
        }
        throw new AssertionError("the forwarder (" + name + ", pid " + pid() + ") ignored SIGTERM for "
                + STOP_GRACE.toSeconds() + " s; killed it\n" + logTail(80));
    }

    /**
     * SIGKILL to the forwarder's PID ({@code kill -9}: no shutdown hook, nothing undone), as a
     * crash would end it; waits for it to be gone and returns the exit code (137).
     */
    public int kill() {
        if (!process.isAlive()) {
            exitCode = process.exitValue();
            throw new AssertionError("the forwarder (" + name + ") had already exited with " + exitCode
                    + " before kill()\n" + logTail(80));
        }
        process.destroyForcibly(); // SIGKILL to exactly this PID
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError("the forwarder (" + name + ", pid " + pid() + ") outlived SIGKILL for 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while killing the forwarder (" + name + ")", e);
        }
        exitCode = process.exitValue();
        return exitCode;
    }

    /**
     * What an IT's {@code @AfterEach} does with its director: stopped if it still runs ({@code null}:
     * there is none), then the lab's director namespace reset for the next test.
     */
    static void stopAndResetLab(ForwarderProcess director, Lab lab) {
        if (director != null && director.isAlive()) {
            director.stop();
        }
        lab.resetDirector();
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (AssertionError ignored) {
            // already reporting a failure
        }
    }

    @Override
    public void close() {
        stop();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
