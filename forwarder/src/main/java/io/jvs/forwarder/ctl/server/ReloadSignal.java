package io.jvs.forwarder.ctl.server;

import io.jvs.sys.Signals;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * SIGHUP for the whole life of the director. Installed first thing at start: the JVM's
 * default SIGHUP action ends the process, and a director that is already visible (its
 * metrics answer, its socket exists) may be sent SIGHUP before its control plane is up.
 * A SIGHUP that arrives before {@link #onReload} has a target is kept and delivered then.
 * A SIGHUP ignored by whoever started the director (nohup) is taken back first: the JVM
 * would otherwise accept the handler below and never call it.
 */
public final class ReloadSignal {
    private static final AtomicReference<Runnable> TARGET = new AtomicReference<>();
    private static final AtomicBoolean PENDING = new AtomicBoolean();
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    private ReloadSignal() {
    }

    /** Takes over SIGHUP (once per process). */
    @SuppressWarnings("restriction")
    public static void install() {
        if (INSTALLED.compareAndSet(false, true)) {
            Signals.unignore(Signals.SIGHUP); // started under nohup: the JVM would leave SIGHUP ignored
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> fire());
        }
    }

    /** From now on SIGHUP runs {@code reload} on a thread of its own; runs it now if one came early. */
    public static void onReload(Runnable reload) {
        install();
        TARGET.set(reload);
        if (PENDING.getAndSet(false)) {
            fire();
        }
    }

    private static void fire() {
        Runnable r = TARGET.get();
        if (r == null) {
            PENDING.set(true);
            return;
        }
        Thread.ofPlatform().name("jvs-reload").daemon().start(r);
    }
}
