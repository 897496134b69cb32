package io.jvs.forwarder.packet;

import io.jvs.packet.TcpOptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TCP option walk over hand-written headers (RFC 9293 3.1, RFC 7323, RFC 2018). */
class TcpOptionsTest {
    /** The TCP header starts at an odd absolute offset. */
    static final long L4 = 7;

    final TcpOptions opts = new TcpOptions();

    /** A TCP header of 20 zero bytes followed by {@code options}, wrapped with data offset 20 + options. */
    TcpOptions header(int... options) {
        MemorySegment seg = Arena.ofAuto().allocate(L4 + 20 + options.length + 16, 1);
        for (int i = 0; i < options.length; i++) {
            seg.set(ValueLayout.JAVA_BYTE, L4 + 20 + i, (byte) options[i]);
        }
        // Bytes after the header that a walk must never read as options.
        for (int i = 0; i < 16; i++) {
            seg.set(ValueLayout.JAVA_BYTE, L4 + 20 + options.length + i, (byte) 2);
        }
        return opts.wrap(seg, L4, 20 + options.length);
    }

    void assertOption(int kind, int offset, int length) {
        assertTrue(opts.next(), "an option of kind " + kind);
        assertEquals(kind, opts.kind(), "kind");
        assertEquals(offset, opts.offset(), "offset from the TCP header");
        assertEquals(length, opts.length(), "length");
    }

    void assertNoMore() {
        assertFalse(opts.next());
        assertFalse(opts.next(), "stays at the end");
    }

    @Test
    void linuxSynOptionsInOrderWithTheirValues() {
        // MSS 1460, SACK permitted, timestamps (0x01020304, 0), NOP, window scale 7: 20 bytes.
        header(2, 4, 0x05, 0xB4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7);
        assertOption(2, 20, 4);
        assertEquals(1460, opts.u16(2));
        assertOption(4, 24, 2);
        assertOption(8, 26, 10);
        assertEquals(0x01020304, opts.i32(2), "TSval");
        assertEquals(0, opts.i32(6), "TSecr");
        assertOption(3, 37, 3);
        assertEquals(7, opts.u8(2));
        assertNoMore();
    }

    @Test
    void sackBlocksAfterTwoNops() {
        // NOP, NOP, SACK with two blocks (18 bytes), then NOP, NOP: 24 bytes.
        header(1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 1, 1, 0, 0);
        assertOption(5, 22, 18);
        assertEquals(1, opts.i32(2));
        assertEquals(2, opts.i32(6));
        assertEquals(3, opts.i32(10));
        assertEquals(4, opts.i32(14));
        assertNoMore();
    }

    @Test
    void endOfOptionListEndsTheWalk() {
        header(2, 4, 0x05, 0xB4, 0, 3, 3, 7);
        assertOption(2, 20, 4);
        assertNoMore();
    }

    @Test
    void malformedOptionsEndTheWalk() {
        header(2, 4, 0x05, 0xB4, 3, 1, 7, 0);
        assertOption(2, 20, 4);
        assertNoMore(); // length 1: below the smallest option
        header(4, 2, 8, 11, 0, 0, 0, 0, 0, 0, 0, 0);
        assertOption(4, 20, 2);
        assertNoMore(); // timestamps of 11 bytes reach past the header
        header(1, 1, 1, 8);
        assertNoMore(); // a kind in the last byte: its length is outside the header
        header(3, 0, 0, 0);
        assertNoMore(); // length 0
        header();
        assertNoMore();
    }

    @Test
    void timestampsLinuxLayoutElsewhereAndMalformed() {
        header(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2);
        assertEquals(22, opts.timestamps(), "NOP NOP timestamps");
        header(2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7);
        assertEquals(26, opts.timestamps(), "a SYN's timestamps after MSS and SACK permitted");
        header(4, 2, 8, 8, 0, 0, 0, 1, 1, 1, 1, 1);
        assertEquals(-1, opts.timestamps(), "timestamps of the wrong length");
        header(2, 4, 0x05, 0xB4, 1, 1, 1, 1);
        assertEquals(-1, opts.timestamps(), "none");
        header(3, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2);
        assertEquals(-1, opts.timestamps(), "after a malformed option");
        header(1, 1, 8, 10, 0, 0, 0, 1, 0, 0);
        assertEquals(-1, opts.timestamps(), "cut off by the data offset");
    }

    @Test
    void timestampsRestartsTheWalk() {
        header(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 2, 4, 0x05, 0xB4);
        assertOption(8, 22, 10);
        assertOption(2, 32, 4);
        assertEquals(22, opts.timestamps());
        header(2, 4, 0x05, 0xB4, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0);
        assertOption(2, 20, 4);
        assertOption(8, 24, 10);
        assertNoMore();
        assertEquals(24, opts.timestamps());
    }

    @Test
    void toaHeadIsKind254LengthAndPort() {
        assertEquals(0xFE08_1F90, TcpOptions.toaHead(8, 8080));
        assertEquals(0xFE14_FFFF, TcpOptions.toaHead(20, 65535));
        assertEquals(0x0101_080A, TcpOptions.NOP_NOP_TIMESTAMPS);
    }
}
