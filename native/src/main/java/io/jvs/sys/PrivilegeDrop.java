package io.jvs.sys;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Giving up root once everything privileged is open ({@code jvs-forwarder --user},
 * {@code jvs-agent run --user}): every thread of the JVM becomes the user, and only named threads
 * keep named capabilities. Credentials are per thread on Linux, so the order matters, so that no
 * thread is left behind:
 * <ol>
 *   <li>the threads that keep capabilities set PR_SET_KEEPCAPS: {@code jvs-admin} (started here,
 *       later running whatever still needs the capabilities, such as the shutdown's undo of the
 *       namespace) and the caller's keepers (each an executor with one thread, e.g. an event
 *       loop);</li>
 *   <li>the calling thread shrinks its own bounding set to the kept capabilities, so threads it
 *       starts from now on inherit no more;</li>
 *   <li>glibc's setgroups/setresgid/setresuid switch every thread to the user (nptl broadcasts
 *       them); every thread without PR_SET_KEEPCAPS loses all its capabilities there;</li>
 *   <li>the keeping threads cut effective, permitted and bounding sets to exactly their
 *       capabilities;</li>
 *   <li>no_new_privs on every thread (prctl, then a TSYNC seccomp filter that allows
 *       everything).</li>
 * </ol>
 * JVM threads that existed before (GC, compiler, I/O loops) end with the user's uid and gid and
 * no effective, permitted, inheritable or ambient capability; their bounding set stays as it was
 * (a thread can only shrink its own), which no_new_privs makes moot: nothing can be gained
 * through exec.
 */
public final class PrivilegeDrop implements AutoCloseable {
    /** A thread other than jvs-admin that keeps capabilities: runs a task on it and waits. */
    public record Keeper(Executor thread, int... caps) {
    }

    private final ExecutorService admin;

    private PrivilegeDrop(ExecutorService admin) {
        this.admin = admin;
    }

    /** Looks the user up: an unknown one is a one-line error ({@code --user "NAME": no such user}). */
    public static Privileges.Account account(String name) throws IOException {
        return Privileges.user(name).orElseThrow(() -> new IOException("--user \"" + name + "\": no such user"));
    }

    /**
     * Drops every thread to {@code account} as described above; {@code jvs-admin} keeps
     * {@code adminCaps}, each keeper its own. Returns the holder of jvs-admin.
     */
    public static PrivilegeDrop drop(Privileges.Account account, int[] adminCaps, Keeper... keepers) throws IOException {
        ExecutorService admin = Executors.newSingleThreadExecutor(r -> new Thread(r, "jvs-admin"));
        try {
            on(admin, Privileges::keepCapabilitiesAcrossSetuid);
            for (Keeper k : keepers) {
                on(k.thread(), Privileges::keepCapabilitiesAcrossSetuid);
            }
            int[] all = Arrays.copyOf(adminCaps, adminCaps.length);
            for (Keeper k : keepers) {
                int[] more = Arrays.copyOf(all, all.length + k.caps().length);
                System.arraycopy(k.caps(), 0, more, all.length, k.caps().length);
                all = more;
            }
            Privileges.limitBoundingSet(all);
            Privileges.switchUser(account);
            on(admin, () -> Privileges.limitThisThread(adminCaps));
            for (Keeper k : keepers) {
                on(k.thread(), () -> Privileges.limitThisThread(k.caps()));
            }
            Privileges.noNewPrivilegesEverywhere();
        } catch (IOException | RuntimeException e) {
            admin.shutdownNow();
            throw e;
        }
        return new PrivilegeDrop(admin);
    }

    private interface Step {
        void run() throws NativeException;
    }

    /** Runs {@code step} on {@code thread} and waits; its NativeException comes back as it is. */
    private static void on(Executor thread, Step step) throws IOException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                step.run();
                done.complete(null);
            } catch (NativeException | RuntimeException e) {
                done.completeExceptionally(e);
            }
        });
        try {
            done.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while dropping privileges");
        }
    }

    /**
     * Runs {@code task} on jvs-admin, the thread that kept its capabilities for it, and waits;
     * what the task throws is thrown here.
     */
    public void runPrivileged(Runnable task) {
        try {
            admin.submit(task).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        admin.shutdown();
    }
}
