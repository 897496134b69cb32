package io.jvs.forwarder;

import io.jvs.sys.NativeException;
import io.jvs.sys.Privileges;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code --user NAME}: the director gives up root once its sockets, rings, TAP, control socket and
 * metrics port are open.
 *
 * <p>What still needs a privilege afterwards, and so keeps CAP_NET_ADMIN (and nothing else): the
 * event loop, which adds a route into the TAP device for each new VIP or FULLNAT local address
 * (rtnetlink RTM_NEWROUTE) when a change is published; and the thread that stops the director,
 * which puts the namespace back (deletes those routes and rules, restores ip_forward: net sysctls
 * are writable with CAP_NET_ADMIN). Reading routes and neighbours over rtnetlink needs nothing.
 * CAP_NET_RAW is not kept: the AF_PACKET sockets are open, and sending on or receiving from an
 * open socket checks no capability; nothing opens one later.
 *
 * <p>Credentials are per thread on Linux. The order, so that no thread is left behind:
 * <ol>
 *   <li>the two threads that keep CAP_NET_ADMIN, the event loop and {@code jvs-admin} (started here,
 *       later running the shutdown), set PR_SET_KEEPCAPS;</li>
 *   <li>the calling thread shrinks its own bounding set to CAP_NET_ADMIN, so threads it starts from
 *       now on (the health checker's) inherit no more;</li>
 *   <li>glibc's setgroups/setresgid/setresuid switch every thread to the user (nptl broadcasts
 *       them); every thread without PR_SET_KEEPCAPS loses all its capabilities there;</li>
 *   <li>the two keeping threads cut effective, permitted and bounding sets to CAP_NET_ADMIN;</li>
 *   <li>no_new_privs on every thread (prctl, then a TSYNC seccomp filter that allows everything).</li>
 * </ol>
 * JVM threads that existed before (GC, compiler, the Netty control and metrics loops) end with uid
 * and gid of the user and no effective, permitted, inheritable or ambient capability; their bounding
 * set stays as it was (a thread can only shrink its own), which no_new_privs makes moot: nothing
 * can be gained through exec.
 */
final class LeastPrivilege implements AutoCloseable {
    private final ExecutorService admin;

    private LeastPrivilege(ExecutorService admin) {
        this.admin = admin;
    }

    /** Looks the user up: an unknown one is a one-line error before anything is started. */
    static Privileges.Account account(String name) throws IOException {
        return Privileges.user(name).orElseThrow(() -> new IOException("--user \"" + name + "\": no such user"));
    }

    /** Drops to {@code account} as described above; returns the holder of the admin thread. */
    static LeastPrivilege drop(Director director, Privileges.Account account) throws IOException {
        ExecutorService admin = Executors.newSingleThreadExecutor(r -> new Thread(r, "jvs-admin"));
        try {
            call(admin.submit(() -> {
                Privileges.keepCapabilitiesAcrossSetuid();
                return null;
            }));
            keepOnEventLoop(director);
            Privileges.limitBoundingSet(Privileges.CAP_NET_ADMIN);
            Privileges.switchUser(account);
            call(admin.submit(() -> {
                Privileges.limitThisThread(Privileges.CAP_NET_ADMIN);
                return null;
            }));
            IOException[] failed = new IOException[1];
            director.onEventLoop(() -> {
                try {
                    Privileges.limitThisThread(Privileges.CAP_NET_ADMIN);
                } catch (NativeException e) {
                    failed[0] = e;
                }
            });
            if (failed[0] != null) {
                throw failed[0];
            }
            Privileges.noNewPrivilegesEverywhere();
        } catch (IOException | RuntimeException e) {
            admin.shutdownNow();
            throw e;
        }
        System.out.println("jvs-forwarder: running as " + account.name() + " (uid " + account.uid() + ", gid "
                + account.gid() + "), CAP_NET_ADMIN kept on the event loop and jvs-admin only, no_new_privs");
        return new LeastPrivilege(admin);
    }

    private static void keepOnEventLoop(Director director) throws IOException {
        IOException[] failed = new IOException[1];
        director.onEventLoop(() -> {
            try {
                Privileges.keepCapabilitiesAcrossSetuid();
            } catch (NativeException e) {
                failed[0] = e;
            }
        });
        if (failed[0] != null) {
            throw failed[0];
        }
    }

    private static void call(Future<?> f) throws IOException {
        try {
            f.get();
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

    /** Runs {@code stop} on jvs-admin, the thread that kept CAP_NET_ADMIN for it, and waits. */
    void runPrivileged(Runnable stop) {
        try {
            admin.submit(stop).get();
        } catch (ExecutionException e) {
            System.err.println("jvs-forwarder: stopping: " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        admin.shutdown();
    }
}
