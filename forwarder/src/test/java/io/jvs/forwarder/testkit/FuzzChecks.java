package io.jvs.forwarder.testkit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Properties the fuzz targets share. The fuzz targets themselves are the classes named
 * {@code *FuzzTest}, each with exactly one {@code @FuzzTest} method (Jazzer fuzzes one target per
 * JVM, and the fuzz stage of scripts/test gives each such class a JVM of its own); their seeds live
 * under {@code src/test/resources/<package>/<Class>Inputs/<method>/}. A new decoder gets a class of
 * its own in its package, following the same pattern.
 */
public final class FuzzChecks {
    /** How long scripts/test's fuzz stage fuzzes each target (Jazzer's maxDuration); replay ignores it. */
    public static final String CI_DURATION = "20s";

    private FuzzChecks() {
    }

    /**
     * What jvsadm (or the director) prints on stderr for bad input: messages in ipvsadm's style,
     * never a Java stack trace or exception class name.
     */
    public static void noStackTrace(String what, String text) {
        if (text.contains("\tat ") || text.contains("Exception") && text.contains("java.")
                || text.matches("(?s).*\\b(java|io\\.jvs|io\\.netty)\\.[A-Za-z.]+(Exception|Error)\\b.*")) {
            fail(what + " looks like a stack trace or exception: " + text);
        }
    }

    /** A one-line error: stack-trace free and at most {@code maxLines} lines (ipvsadm's usage hints count). */
    public static void shortError(String what, String err, int maxLines) {
        noStackTrace(what, err);
        long lines = err.lines().count();
        assertFalse(lines > maxLines, what + ": " + lines + " lines of error: " + err);
    }
}
