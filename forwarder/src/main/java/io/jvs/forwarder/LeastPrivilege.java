package io.jvs.forwarder;

import io.jvs.sys.PrivilegeDrop;
import io.jvs.sys.Privileges;

import java.io.IOException;

/**
 * {@code --user NAME}: the director gives up root once its sockets, rings, TAP, control socket and
 * metrics port are open, through {@link PrivilegeDrop} (the steps, and why in that order, are
 * there; jvs-agent uses the same).
 *
 * <p>What still needs a privilege afterwards, and so keeps CAP_NET_ADMIN (and nothing else): the
 * event loop, which adds a route into the TAP device for each new VIP or FULLNAT local address
 * (rtnetlink RTM_NEWROUTE) when a change is published; and {@code jvs-admin}, the thread that
 * stops the director, which puts the namespace back (deletes those routes and rules, restores
 * ip_forward: net sysctls are writable with CAP_NET_ADMIN). Reading routes and neighbours over
 * rtnetlink needs nothing. CAP_NET_RAW is not kept: the AF_PACKET sockets are open, and sending
 * on or receiving from an open socket checks no capability; nothing opens one later.
 */
final class LeastPrivilege implements AutoCloseable {
    private final PrivilegeDrop dropped;

    private LeastPrivilege(PrivilegeDrop dropped) {
        this.dropped = dropped;
    }

    /** Looks the user up: an unknown one is a one-line error before anything is started. */
    static Privileges.Account account(String name) throws IOException {
        return PrivilegeDrop.account(name);
    }

    /** Drops to {@code account}: CAP_NET_ADMIN stays with the event loop and jvs-admin only. */
    static LeastPrivilege drop(Director director, Privileges.Account account) throws IOException {
        PrivilegeDrop d = PrivilegeDrop.drop(account, new int[] {Privileges.CAP_NET_ADMIN},
                new PrivilegeDrop.Keeper(director::onEventLoop, Privileges.CAP_NET_ADMIN));
        System.out.println("jvs-forwarder: running as " + account.name() + " (uid " + account.uid() + ", gid "
                + account.gid() + "), CAP_NET_ADMIN kept on the event loop and jvs-admin only, no_new_privs");
        return new LeastPrivilege(d);
    }

    /** Runs {@code stop} on jvs-admin, the thread that kept CAP_NET_ADMIN for it, and waits. */
    void runPrivileged(Runnable stop) {
        try {
            dropped.runPrivileged(stop);
        } catch (RuntimeException e) {
            System.err.println("jvs-forwarder: stopping: " + e);
        }
    }

    @Override
    public void close() {
        dropped.close();
    }
}
