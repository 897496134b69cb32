package io.jvs.forwarder.testkit;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** The fuzz targets' "no stack trace" property: what it must catch and what it must let through. */
class FuzzChecksTest {
    @Test
    void aStackFrameFailsWhereverItsLineStarts() {
        String frame = "at io.jvs.forwarder.X.y(X.java:12)";
        for (String text : new String[] {frame, "oops\n\t" + frame, "oops\r  " + frame, "oops\u2028" + frame,
                "oops\u0085" + frame, "oops\n\u000B\f " + frame}) {
            assertThrows(AssertionFailedError.class, () -> FuzzChecks.noStackTrace("t", text), text);
        }
    }

    @Test
    void anExceptionNameFails() {
        assertThrows(AssertionFailedError.class,
                () -> FuzzChecks.noStackTrace("t", "failed: java.lang.IllegalStateException: x"));
    }

    @Test
    void plainMessagesAndEchoedInputPass() {
        FuzzChecks.noStackTrace("t", "Service not defined (at line 3 of x(y))");
        FuzzChecks.noStackTrace("t", "memory allocation problem at 10.0.0.1 (eth0)");
        String echoed = "\tat a.B(C.java:1)";
        FuzzChecks.noStackTrace("t", "illegal word '" + echoed + "'\n" + echoed, echoed);
        FuzzChecks.shortError("t", "one line\n", 1);
    }
}
