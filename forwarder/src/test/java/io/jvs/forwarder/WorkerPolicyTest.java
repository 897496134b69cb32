package io.jvs.forwarder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.jvs.forwarder.conn.ConnPolicy;
import io.jvs.forwarder.conn.DefenseSettings;
import org.junit.jupiter.api.Test;

/**
 * With --workers N each worker's flood defence counts the free entries of its own table (1/N of
 * --conn-max), so its amemthresh is 1/N of the director's: a flood spread over the workers then
 * starts the defence when the director as a whole has fewer than amemthresh entries free.
 */
class WorkerPolicyTest {
    private static final ConnPolicy POLICY = new ConnPolicy(true, false, true, new DefenseSettings(1, 2, 3, 1024, 7));

    @Test
    void oneWorkerKeepsThePolicy() {
        assertSame(POLICY, Director.workerPolicy(POLICY, 1));
    }

    @Test
    void amemthreshIsDividedAmongTheWorkersEverythingElseKept() {
        assertEquals(new ConnPolicy(true, false, true, new DefenseSettings(1, 2, 3, 512, 7)),
                Director.workerPolicy(POLICY, 2));
        // rounded up: a threshold never divides down to 0 (which would switch the automatic levels off)
        assertEquals(342, Director.workerPolicy(POLICY, 3).defense().amemthresh());
        ConnPolicy one = new ConnPolicy(false, false, false, new DefenseSettings(1, 0, 0, 1, 10));
        assertEquals(1, Director.workerPolicy(one, 4).defense().amemthresh());
        ConnPolicy zero = new ConnPolicy(false, false, false, new DefenseSettings(1, 0, 0, 0, 10));
        assertEquals(0, Director.workerPolicy(zero, 4).defense().amemthresh());
    }
}
