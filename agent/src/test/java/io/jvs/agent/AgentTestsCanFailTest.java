package io.jvs.agent;

import io.jvs.forwarder.testkit.AssertionGuard;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The forwarder's guard ({@link AssertionGuard}) over the agent's own test classes: every test
 * method reaches an assertion and none skips itself. (Self-comparisons in the agent's sources
 * are checked by the forwarder's {@code AssertionGuardTest}, which reads every module's tests.)
 */
class AgentTestsCanFailTest {

    @Test
    void everyTestMethodReachesAnAssertionAndNoneSkips() {
        Path classes = AssertionGuard.classesOf(AgentTestsCanFailTest.class);
        assertEquals(List.of(), AssertionGuard.testsWithoutAssertions(classes), "in " + classes);
        assertEquals(List.of(), AssertionGuard.skips(classes), "in " + classes);
    }
}
