package io.jvs.forwarder.it;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints the tail of a forwarder's log when a test fails, so that a red IT shows what the
 * director said: {@code @RegisterExtension final DirectorLogOnFailure log = new DirectorLogOnFailure(() -> director);}.
 * The supplier is read at failure time, as the director is started after the extension exists.
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
        }
    }
}
