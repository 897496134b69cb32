package io.jvs.forwarder.conn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * update_defense_level (ip_vs_ctl.c) and ip_vs_todrop (ip_vs_conn.c / ip_vs_core.c), with the
 * kernel's formulas written out here: nomem = availmem &lt; amemthresh; drop_rate =
 * amemthresh / (amemthresh - availmem) in integer division; level 1 becomes 2 under nomem and
 * 2 goes back to 1 without it; 0 and 3 never move.
 */
class DefenseTest {
    static final int THRESH = 1000;

    static Defense defense(int dropEntry, int dropPacket, int secureTcp) {
        return new Defense(new DefenseSettings(dropEntry, dropPacket, secureTcp, THRESH, 10));
    }

    @Test
    void dropEntryAutomaticFollowsTheThresholdBothWays() {
        Defense d = defense(1, 0, 0);
        d.update(THRESH);                       // availmem == amemthresh: not nomem
        assertFalse(d.dropEntry());
        assertEquals(1, d.dropEntryLevel());
        d.update(THRESH - 1);
        assertTrue(d.dropEntry());
        assertEquals(2, d.dropEntryLevel(), "the kernel writes 2 back into the sysctl");
        d.update(THRESH - 1);
        assertTrue(d.dropEntry());
        d.update(THRESH);
        assertFalse(d.dropEntry());
        assertEquals(1, d.dropEntryLevel());
    }

    @Test
    void dropEntryZeroAndThreeNeverMove() {
        Defense off = defense(0, 0, 0);
        Defense on = defense(3, 0, 0);
        assertTrue(on.dropEntry(), "level 3 is on at once (writing the sysctl updates the level)");
        for (int avail : new int[] {0, 10, THRESH - 1, THRESH, 1 << 20}) {
            off.update(avail);
            on.update(avail);
            assertFalse(off.dropEntry());
            assertTrue(on.dropEntry());
            assertEquals(0, off.dropEntryLevel());
            assertEquals(3, on.dropEntryLevel());
        }
    }

    @Test
    void dropPacketRateIsAmemthreshOverTheShortfall() {
        Defense d = defense(0, 1, 0);
        d.update(5000);
        assertEquals(0, d.dropRate());
        d.update(600);
        assertEquals(1000 / (1000 - 600), d.dropRate());   // 2
        assertEquals(2, d.dropPacketLevel());
        d.update(900);
        assertEquals(1000 / (1000 - 900), d.dropRate());   // 10
        d.update(0);
        assertEquals(1, d.dropRate(), "no free entry: every new connection is dropped");
        d.update(999);
        assertEquals(1000, d.dropRate());
        d.update(1000);
        assertEquals(0, d.dropRate());
        assertEquals(1, d.dropPacketLevel());
    }

    @Test
    void todropRefusesOneInRateStartingWithTheRateAsTheCounter() {
        Defense d = defense(0, 1, 0);
        d.update(1000 - 250);                               // rate 1000 / 250 = 4, counter 4
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            seen.append(d.todrop() ? 'D' : '.');
        }
        assertEquals("...D...D...D", seen.toString());
    }

    @Test
    void dropPacketThreeUsesAmDroprateAndItsCounterStartsAtZero() {
        Defense d = new Defense(new DefenseSettings(0, 3, 0, THRESH, 3));
        StringBuilder seen = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            seen.append(d.todrop() ? 'D' : '.');
        }
        // level 3 sets drop_rate only; drop_counter is still 0, so the first one is dropped
        assertEquals("D..D..D..", seen.toString());
        assertEquals(3, d.dropRate());
    }

    @Test
    void secureTcpSwitchesTheTablesOnlyWhenItsEffectiveStateChanges() {
        Defense d = defense(0, 0, 1);
        assertFalse(d.secureTcp());
        assertFalse(d.update(THRESH));
        assertTrue(d.update(THRESH - 1), "1 -> 2: tcp_states_dos");
        assertTrue(d.secureTcp());
        assertEquals(2, d.secureTcpLevel());
        assertFalse(d.update(0), "still on: no change");
        assertTrue(d.update(THRESH), "2 -> 1: the normal tables again");
        assertFalse(d.secureTcp());
        assertEquals(1, d.secureTcpLevel());

        Defense always = defense(0, 0, 3);
        assertTrue(always.secureTcp());
        assertFalse(always.update(1 << 20));
        assertTrue(always.secureTcp());
        assertFalse(defense(0, 0, 0).secureTcp());
    }

    @Test
    void levelsOutOfRangeAreRefusedNamingTheSysctl() {
        assertEquals("drop_entry 4 out of range: expected 0..3", assertThrows(IllegalArgumentException.class,
                () -> new DefenseSettings(4, 0, 0, 1024, 10)).getMessage());
        assertEquals("secure_tcp -1 out of range: expected 0..3", assertThrows(IllegalArgumentException.class,
                () -> new DefenseSettings(0, 0, -1, 1024, 10)).getMessage());
    }
}
