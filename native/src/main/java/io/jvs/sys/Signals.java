package io.jvs.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Signal dispositions the JVM will not change by itself. A signal ignored when the
 * process starts (nohup ignores SIGHUP; so do some service managers and CI runners)
 * stays ignored for a JVM: its signal registration silently refuses to handle an
 * ignored shutdown signal. A daemon that promises "SIGHUP reloads" must undo that first.
 */
public final class Signals {
    public static final int SIGHUP = 1;
    private static final MemorySegment SIG_DFL = MemorySegment.NULL;
    private static final MemorySegment SIG_IGN = MemorySegment.ofAddress(1);
    private static final MethodHandle SIGNAL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("signal").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));

    private Signals() {
    }

    /**
     * Sets {@code sig}'s disposition to the default action so that the JVM can then take it
     * over; returns whether it was ignored before.
     */
    public static boolean unignore(int sig) {
        try {
            MemorySegment previous = (MemorySegment) SIGNAL.invokeExact(sig, SIG_DFL);
            if (previous.address() == -1L) {
                throw new NativeException("signal(" + sig + ", SIG_DFL) failed", 0);
            }
            if (previous.address() != SIG_IGN.address() && previous.address() != SIG_DFL.address()) {
                // someone (the JVM) had a handler in place: put it back untouched
                MemorySegment ignored = (MemorySegment) SIGNAL.invokeExact(sig, previous);
            }
            return previous.address() == SIG_IGN.address();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
