package io.jvs.forwarder.health;

import java.io.File;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * MISC_CHECK: runs the script (argv, no shell) with stdin/stdout/stderr on
 * /dev/null, waits up to misc_timeout, and reaps it. Exit 0 = up; with
 * misc_dynamic 2..255 = up with weight exit-2 (keepalived's check_misc.c);
 * anything else, or a timeout, = down. A script over time gets SIGTERM, and
 * SIGKILL {@value #KILL_GRACE_MS} ms later, as do the processes it started
 * (keepalived signals the process group; jvs walks the descendants by PID).
 */
final class MiscProbe implements Probe {
    static final long KILL_GRACE_MS = 2000;
    private static final File NULL = new File("/dev/null");

    private final CheckSpec.Misc spec;

    MiscProbe(CheckSpec.Misc spec) {
        this.spec = spec;
    }

    @Override
    public CheckResult run() {
        String name = spec.command().getFirst();
        Process p;
        try {
            p = new ProcessBuilder(spec.command())
                    .redirectInput(ProcessBuilder.Redirect.from(NULL))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return CheckResult.failed("MISC_CHECK " + name + ": cannot run: " + e.getMessage());
        }
        try {
            if (!p.waitFor(spec.timeoutMillis(), TimeUnit.MILLISECONDS)) {
                terminate(p);
                return CheckResult.failed("MISC_CHECK " + name + ": timed out after " + spec.timeoutMillis() + " ms");
            }
        } catch (InterruptedException e) {
            terminate(p);
            Thread.currentThread().interrupt();
            return CheckResult.failed("MISC_CHECK " + name + ": interrupted");
        }
        int status = p.exitValue();
        if (status == 0) {
            return CheckResult.ok();
        }
        if (spec.dynamic() && status >= 2 && status <= 255) {
            return CheckResult.ok(status - 2);
        }
        return CheckResult.failed("MISC_CHECK " + name + ": exited with status " + status);
    }

    private static void terminate(Process p) {
        var children = p.descendants().toList();
        p.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!p.waitFor(KILL_GRACE_MS, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(KILL_GRACE_MS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }
}
