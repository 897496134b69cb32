package io.jvs.forwarder.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command to completion with a time limit and captures its output.
 *
 * <p>Invariants: every process started here is waited for; on timeout or
 * interruption the process and its descendants (processes this call started,
 * found by PID through {@link ProcessHandle#descendants()}) are killed, never
 * anything else. Output goes to temporary files rather than pipes, so a
 * daemon that inherits stdout (nginx started by {@code scripts/lab}) cannot
 * make the caller hang.
 */
public final class Exec {
    private Exec() {
    }

    /** Outcome of one command. {@code exitCode} is -1 when it timed out. */
    public record Result(List<String> command, int exitCode, boolean timedOut, String stdout, String stderr,
            Duration took) {
        public boolean ok() {
            return !timedOut && exitCode == 0;
        }

        /** Returns this when the command succeeded, else fails with everything known about it. */
        public Result requireOk() {
            if (!ok()) {
                throw new AssertionError(describe());
            }
            return this;
        }

        public String describe() {
            return "command " + String.join(" ", command)
                    + (timedOut ? " timed out after " + took.toMillis() + " ms" : " exited " + exitCode)
                    + "\n--- stdout ---\n" + tail(stdout, 4000)
                    + "\n--- stderr ---\n" + tail(stderr, 4000);
        }
    }

    public static Result run(Duration timeout, List<String> command) {
        Path out = null;
        Path err = null;
        long t0 = System.nanoTime();
        try {
            out = Files.createTempFile("jvs-it-", ".out");
            err = Files.createTempFile("jvs-it-", ".err");
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            boolean done;
            try {
                done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                kill(p);
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while running " + String.join(" ", command), e);
            }
            if (!done) {
                kill(p);
            }
            return new Result(List.copyOf(command), done ? p.exitValue() : -1, !done,
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8),
                    Duration.ofNanos(System.nanoTime() - t0));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** Kills {@code p} and the processes it started, by PID, and reaps it. */
    static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String tail(String s, int max) {
        return s.length() <= max ? s : "[... " + (s.length() - max) + " chars]" + s.substring(s.length() - max);
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temp file; nothing to do
            }
        }
    }
}
