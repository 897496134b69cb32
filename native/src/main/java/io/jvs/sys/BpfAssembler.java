package io.jvs.sys;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes eBPF instructions (linux/bpf.h, 8 bytes each: opcode, dst and src register
 * nibbles, 16-bit offset, 32-bit immediate) with named labels for jumps, so a program
 * is built in Java and handed to {@link Bpf#loadProgram} without clang or libbpf.
 *
 * <p>Only what a small XDP filter needs: 64-bit ALU with an immediate or a register,
 * loads and stores of 1-8 bytes, conditional jumps against an immediate, a map's fd as a
 * 64-bit immediate, helper calls and exit. A jump's target is resolved when the program
 * is built; an undefined or twice-defined label is an {@link IllegalStateException}.
 */
public final class BpfAssembler {
    // Instruction classes.
    private static final int LD = 0x00;
    private static final int LDX = 0x01;
    private static final int STX = 0x03;
    private static final int JMP = 0x05;
    private static final int ALU64 = 0x07;
    private static final int ALU32 = 0x04;
    private static final int JMP32 = 0x06;
    // Sizes and modes.
    public static final int W = 0x00;
    public static final int H = 0x08;
    public static final int B = 0x10;
    public static final int DW = 0x18;
    private static final int IMM = 0x00;
    private static final int MEM = 0x60;
    private static final int ABS = 0x20;
    private static final int IND = 0x40;
    // Sources.
    private static final int K = 0x00;
    private static final int X = 0x08;
    // ALU operations.
    public static final int ADD = 0x00;
    public static final int SUB = 0x10;
    public static final int MUL = 0x20;
    public static final int DIV = 0x30;
    public static final int AND = 0x50;
    public static final int LSH = 0x60;
    public static final int RSH = 0x70;
    public static final int MOD = 0x90;
    public static final int XOR = 0xa0;
    public static final int MOV = 0xb0;
    // Jump operations.
    private static final int JA = 0x00;
    public static final int JEQ = 0x10;
    public static final int JGT = 0x20;
    public static final int JGE = 0x30;
    public static final int JNE = 0x50;
    private static final int CALL = 0x80;
    private static final int EXIT = 0x90;
    /** BPF_END with BPF_TO_BE: byte swap to big-endian (on a little-endian host). */
    private static final int END_TO_BE = 0xd0 | 0x08;
    /** src_reg of a 64-bit immediate load that holds a map fd. */
    private static final int PSEUDO_MAP_FD = 1;

    /** Registers: r0 return value, r1-r5 arguments (clobbered by calls), r6-r9 kept, r10 frame pointer. */
    public static final int R0 = 0;
    public static final int R1 = 1;
    public static final int R2 = 2;
    public static final int R3 = 3;
    public static final int R4 = 4;
    public static final int R5 = 5;
    public static final int R6 = 6;
    public static final int R7 = 7;
    public static final int R8 = 8;
    public static final int R9 = 9;
    public static final int R10 = 10;

    private final List<long[]> insns = new ArrayList<>();   // {code, dst, src, off, imm}
    private final Map<String, Integer> labels = new HashMap<>();
    private final Map<Integer, String> jumps = new HashMap<>();

    private BpfAssembler emit(int code, int dst, int src, int off, int imm) {
        insns.add(new long[] {code, dst, src, off, imm});
        return this;
    }

    /** The next instruction is {@code name}. */
    public BpfAssembler label(String name) {
        if (labels.putIfAbsent(name, insns.size()) != null) {
            throw new IllegalStateException("label " + name + " defined twice");
        }
        return this;
    }

    /** dst = dst OP imm (64-bit). */
    public BpfAssembler aluImm(int op, int dst, int imm) {
        return emit(ALU64 | op | K, dst, 0, 0, imm);
    }

    /** dst = dst OP src (64-bit). */
    public BpfAssembler aluReg(int op, int dst, int src) {
        return emit(ALU64 | op | X, dst, src, 0, 0);
    }

    /** dst = (u32) (dst OP imm): 32-bit, the upper half zeroed (classic BPF's arithmetic). */
    public BpfAssembler alu32Imm(int op, int dst, int imm) {
        return emit(ALU32 | op | K, dst, 0, 0, imm);
    }

    /** dst = (u32) (dst OP src). */
    public BpfAssembler alu32Reg(int op, int dst, int src) {
        return emit(ALU32 | op | X, dst, src, 0, 0);
    }

    /** dst = the low {@code bits} (16, 32 or 64) of dst in network byte order (host to big-endian). */
    public BpfAssembler toBigEndian(int dst, int bits) {
        return emit(ALU32 | END_TO_BE, dst, 0, 0, bits);
    }

    /**
     * r0 = the {@code size} bytes at packet offset {@code k} in host order (the legacy packet
     * access of socket filters: r6 must hold the context; r1-r5 are clobbered; a load beyond
     * the packet ends the program with 0). A negative {@code k} is classic BPF's SKF_NET_OFF
     * or SKF_LL_OFF form.
     */
    public BpfAssembler loadAbsolute(int size, int k) {
        return emit(LD | ABS | size, 0, 0, 0, k);
    }

    /** r0 = the {@code size} bytes at packet offset {@code src + k}, as {@link #loadAbsolute}. */
    public BpfAssembler loadIndirect(int size, int src, int k) {
        return emit(LD | IND | size, 0, src, 0, k);
    }

    /** if ((u32) dst OP (u32) imm) goto target: 32-bit comparison, as classic BPF compares. */
    public BpfAssembler jump32Imm(int op, int dst, int imm, String target) {
        jumps.put(insns.size(), target);
        return emit(JMP32 | op | K, dst, 0, 0, imm);
    }

    public BpfAssembler movImm(int dst, int imm) {
        return aluImm(MOV, dst, imm);
    }

    public BpfAssembler movReg(int dst, int src) {
        return aluReg(MOV, dst, src);
    }

    /** dst = *(size *)(src + off). */
    public BpfAssembler load(int size, int dst, int src, int off) {
        return emit(LDX | MEM | size, dst, src, off, 0);
    }

    /** *(size *)(dst + off) = src. */
    public BpfAssembler store(int size, int dst, int off, int src) {
        return emit(STX | MEM | size, dst, src, off, 0);
    }

    /** dst = the map with this fd (a two-slot 64-bit immediate the kernel turns into the map's address). */
    public BpfAssembler loadMap(int dst, int mapFd) {
        emit(LD | IMM | DW, dst, PSEUDO_MAP_FD, 0, mapFd);
        return emit(0, 0, 0, 0, 0);
    }

    /** if (dst OP imm) goto target. */
    public BpfAssembler jumpImm(int op, int dst, int imm, String target) {
        jumps.put(insns.size(), target);
        return emit(JMP | op | K, dst, 0, 0, imm);
    }

    /** if (dst OP src) goto target. */
    public BpfAssembler jumpReg(int op, int dst, int src, String target) {
        jumps.put(insns.size(), target);
        return emit(JMP | op | X, dst, src, 0, 0);
    }

    public BpfAssembler jump(String target) {
        jumps.put(insns.size(), target);
        return emit(JMP | JA, 0, 0, 0, 0);
    }

    /** Calls kernel helper {@code id} (r1-r5 arguments, r0 result). */
    public BpfAssembler call(int helper) {
        return emit(JMP | CALL, 0, 0, 0, helper);
    }

    public BpfAssembler exit() {
        return emit(JMP | EXIT, 0, 0, 0, 0);
    }

    /** Instructions written so far. */
    public int size() {
        return insns.size();
    }

    /** The program as the kernel takes it: 8 little-endian bytes per instruction, jumps resolved. */
    public byte[] build() {
        byte[] out = new byte[insns.size() * 8];
        for (int i = 0; i < insns.size(); i++) {
            long[] in = insns.get(i);
            int off = (int) in[3];
            String target = jumps.get(i);
            if (target != null) {
                Integer at = labels.get(target);
                if (at == null) {
                    throw new IllegalStateException("jump to undefined label " + target);
                }
                off = at - (i + 1);
                if (off != (short) off) {
                    throw new IllegalStateException("jump to " + target + " out of range");
                }
            }
            int p = i * 8;
            out[p] = (byte) in[0];
            out[p + 1] = (byte) ((in[1] & 0xf) | ((in[2] & 0xf) << 4));
            out[p + 2] = (byte) off;
            out[p + 3] = (byte) (off >> 8);
            int imm = (int) in[4];
            out[p + 4] = (byte) imm;
            out[p + 5] = (byte) (imm >> 8);
            out[p + 6] = (byte) (imm >> 16);
            out[p + 7] = (byte) (imm >> 24);
        }
        return out;
    }
}
