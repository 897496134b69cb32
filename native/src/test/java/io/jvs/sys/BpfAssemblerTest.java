package io.jvs.sys;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The encodings below are written out by hand from linux/bpf.h's instruction format. */
class BpfAssemblerTest {
    private static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }

    @Test
    void encodesRegistersOffsetsAndImmediatesLittleEndian() {
        byte[] p = new BpfAssembler()
                .movReg(6, 1)                         // BPF_ALU64|BPF_MOV|BPF_X = 0xbf, dst 6, src 1
                .load(BpfAssembler.H, 5, 2, 12)       // BPF_LDX|BPF_MEM|BPF_H = 0x69, off 12
                .store(BpfAssembler.W, 10, -4, 7)     // BPF_STX|BPF_MEM|BPF_W = 0x63, off -4
                .movImm(0, 2)                         // 0xb7, imm 2
                .aluImm(BpfAssembler.ADD, 4, -4)      // 0x07, imm -4
                .call(51)                             // 0x85, imm 51
                .exit()                               // 0x95
                .build();
        assertArrayEquals(bytes(
                0xbf, 0x16, 0, 0, 0, 0, 0, 0,
                0x69, 0x25, 12, 0, 0, 0, 0, 0,
                0x63, 0x7a, 0xfc, 0xff, 0, 0, 0, 0,
                0xb7, 0x00, 0, 0, 2, 0, 0, 0,
                0x07, 0x04, 0, 0, 0xfc, 0xff, 0xff, 0xff,
                0x85, 0x00, 0, 0, 51, 0, 0, 0,
                0x95, 0x00, 0, 0, 0, 0, 0, 0), p);
    }

    @Test
    void mapFdIsATwoSlotImmediateWithThePseudoMapSource() {
        byte[] p = new BpfAssembler().loadMap(1, 0x1234).build();
        assertArrayEquals(bytes(
                0x18, 0x11, 0, 0, 0x34, 0x12, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0), p);
    }

    @Test
    void backwardAndForwardJumps() {
        byte[] p = new BpfAssembler()
                .label("top")
                .jumpImm(BpfAssembler.JEQ, 5, 0x0008, "end")
                .movImm(0, 1)
                .jumpReg(BpfAssembler.JGT, 4, 3, "top")
                .label("end")
                .exit()
                .build();
        assertArrayEquals(bytes(
                0x15, 0x05, 2, 0, 0x08, 0, 0, 0,
                0xb7, 0x00, 0, 0, 1, 0, 0, 0,
                0x2d, 0x34, 0xfd, 0xff, 0, 0, 0, 0,
                0x95, 0x00, 0, 0, 0, 0, 0, 0), p);
    }

    @Test
    void undefinedOrRepeatedLabelsAreRefused() {
        assertThrows(IllegalStateException.class, () -> new BpfAssembler().jump("nowhere").exit().build());
        assertThrows(IllegalStateException.class, () -> new BpfAssembler().label("a").label("a"));
    }

    @Test
    void lastLinesOfAVerifierLog() {
        assertEquals("b | c", Bpf.lastLines("a\nb\nc\n", 2));
        assertEquals("no log", Bpf.lastLines("\n", 3));
    }
}
