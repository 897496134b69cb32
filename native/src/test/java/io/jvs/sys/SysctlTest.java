package io.jvs.sys;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sysctl.get gives the whole value: JDK 25's Files.readString returned the first byte of a /proc/sys file. */
class SysctlTest {
    @Test
    void multiDigitValuesAreReadWhole() throws IOException {
        String expected;
        try (BufferedReader r = new BufferedReader(new FileReader("/proc/sys/kernel/pid_max"))) {
            expected = r.readLine().strip();
        }
        assertTrue(expected.length() > 1, "pid_max has several digits: " + expected);
        assertEquals(expected, Sysctl.get("kernel.pid_max"));
    }
}
