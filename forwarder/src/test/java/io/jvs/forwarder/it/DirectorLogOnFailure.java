package io.jvs.forwarder.it;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints the tail of a forwarder's log when a test fails, so that a red IT shows what the
 * director said: {@code @RegisterExtension final DirectorLogOnFailure log = new DirectorLogOnFailure(() -> director);}.
 * The supplier is read at failure time, as the director is started after the extension exists.
 * It also prints the forwarder's non-zero drop counters and neighbour metrics: a lost
 * connection attempt then says where the packet went.
 */
public final class DirectorLogOnFailure implements TestWatcher {
    static final int LINES = 60;

    private final Supplier<ForwarderProcess> director;

    public DirectorLogOnFailure(Supplier<ForwarderProcess> director) {
        this.director = director;
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        ForwarderProcess d = director.get();
        if (d != null) {
            System.err.println("[" + d.name() + "] " + context.getDisplayName() + " failed; forwarder output:\n"
                    + d.logTail(LINES));
            if (d.isAlive()) {
                try {
                    String counters = d.metricsText().lines()
                            .filter(l -> (l.startsWith("jvs_dropped_packets_total") || l.startsWith("jvs_neighbour")
                                    || l.startsWith("jvs_port_kernel_drops_total"))
                                    && !l.endsWith(" 0.0") && !l.endsWith(" 0"))
                            .collect(java.util.stream.Collectors.joining("\n"));
                    System.err.println("[" + d.name() + "] non-zero drop and neighbour counters:\n" + counters);
                } catch (RuntimeException e) {
                    System.err.println("[" + d.name() + "] metrics unreadable: " + e);
                }
            }
        }
    }
}
