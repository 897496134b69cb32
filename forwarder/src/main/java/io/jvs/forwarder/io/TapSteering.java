package io.jvs.forwarder.io;

import io.jvs.sys.BpfAssembler;

import static io.jvs.sys.BpfAssembler.MOV;
import static io.jvs.sys.BpfAssembler.R0;
import static io.jvs.sys.BpfAssembler.R1;
import static io.jvs.sys.BpfAssembler.R6;
import static io.jvs.sys.BpfAssembler.R7;
import static io.jvs.sys.BpfAssembler.W;

/**
 * The steering program of a multi-queue TAP (TUNSETSTEERINGEBPF): {@link FanoutProgram}'s
 * classic BPF program translated instruction by instruction into an eBPF socket filter, so
 * that the queue the kernel puts a frame on is the worker the packet attachment's fanout
 * would give it: hash(source) for a packet to a VIP, the port's slice for one to a FULLNAT
 * local address, hash(destination) for anything else (a NAT reply the kernel routes into the
 * TAP from --lan). The kernel takes the return value modulo the attached queues, as the
 * fanout takes it modulo the group's members, and queue i is worker i's fd.
 *
 * <p>The kernel only takes eBPF for steering (a classic program cannot be loaded through
 * bpf()), and its own classic-to-eBPF conversion is not reachable from user space; the
 * translation here is the same mapping: A in r0 (where the legacy packet loads leave their
 * result), X in r7, the context in r6, 32-bit arithmetic and 32-bit unsigned comparisons as
 * classic BPF has them. skb-&gt;protocol (classic's SKF_AD_PROTOCOL, in host order) is read
 * from {@code __sk_buff.protocol} and byte-swapped. The frame's network header is where the
 * kernel's routing put it, so the program's SKF_NET_OFF loads read the IPv4 header as they do
 * in the fanout.
 */
public final class TapSteering {
    // classic BPF instruction classes and fields (linux/bpf_common.h)
    private static final int LD = 0x00;
    private static final int ALU = 0x04;
    private static final int JMP = 0x05;
    private static final int RET = 0x06;
    private static final int MISC = 0x07;
    private static final int ABS = 0x20;
    private static final int IND = 0x40;
    private static final int JA = 0x00;
    private static final int SRC_X = 0x08;
    private static final int RVAL_A = 0x10;
    private static final int TAX = 0x00;
    private static final int TXA = 0x80;
    /** SKF_AD_OFF + SKF_AD_PROTOCOL. */
    private static final int AD_PROTOCOL = -0x1000;
    /** offsetof(struct __sk_buff, protocol). */
    private static final int SKB_PROTOCOL = 16;

    private TapSteering() {
    }

    /** The eBPF program for the table's fanout program ({@link FanoutProgram#of}). */
    public static byte[] of(long[] classic) {
        return translate(classic).build();
    }

    /** The translation (as an assembler, for tests that read its size). */
    static BpfAssembler translate(long[] classic) {
        BpfAssembler a = new BpfAssembler();
        a.movReg(R6, R1).movImm(R0, 0).movImm(R7, 0);   // classic BPF starts with A = X = 0
        boolean[] reachable = reachable(classic);
        for (int i = 0; i < classic.length; i++) {
            if (!reachable[i]) {
                continue;
            }
            long insn = classic[i];
            int code = (int) (insn & 0xffff);
            int jt = (int) (insn >>> 16 & 0xff);
            int jf = (int) (insn >>> 24 & 0xff);
            int k = (int) (insn >>> 32);
            a.label(label(i));
            switch (code & 0x07) {
                case LD -> {
                    int size = code & 0x18;
                    int mode = code & 0xe0;
                    if (mode == ABS && k == AD_PROTOCOL) {
                        a.load(W, R0, R6, SKB_PROTOCOL).toBigEndian(R0, 16);
                    } else if (mode == ABS) {
                        a.loadAbsolute(size, k);
                    } else if (mode == IND) {
                        a.loadIndirect(size, R7, k);
                    } else {
                        throw new IllegalArgumentException("classic BPF load 0x" + Integer.toHexString(code) + " at " + i);
                    }
                }
                case ALU -> {
                    int op = code & 0xf0;
                    if ((code & SRC_X) != 0) {
                        a.alu32Reg(op, R0, R7);
                    } else {
                        a.alu32Imm(op, R0, k);
                    }
                }
                case JMP -> {
                    int op = code & 0xf0;
                    if (op == JA) {
                        a.jump(label(i + 1 + k));
                    } else if ((code & SRC_X) != 0) {
                        throw new IllegalArgumentException("classic BPF jump against X at " + i);
                    } else {
                        a.jump32Imm(op, R0, k, label(i + 1 + jt));
                        if (jf != 0) {
                            a.jump(label(i + 1 + jf));
                        }
                    }
                }
                case RET -> {
                    if ((code & 0x18) != RVAL_A) {
                        a.alu32Imm(MOV, R0, k);
                    }
                    a.exit();
                }
                case MISC -> {
                    if ((code & 0xf8) == TAX) {
                        a.alu32Reg(MOV, R7, R0);
                    } else if ((code & 0xf8) == TXA) {
                        a.alu32Reg(MOV, R0, R7);
                    } else {
                        throw new IllegalArgumentException("classic BPF misc 0x" + Integer.toHexString(code) + " at " + i);
                    }
                }
                default -> throw new IllegalArgumentException("classic BPF 0x" + Integer.toHexString(code) + " at " + i);
            }
        }
        return a;
    }

    /**
     * The instructions some path from the first one reaches. The eBPF verifier refuses a
     * program with unreachable instructions, where classic BPF's checker does not mind them:
     * the fanout program's local-address block is unreachable when there is no local address
     * (and its hash(source) block when there is no VIP), so those are left out.
     */
    static boolean[] reachable(long[] classic) {
        boolean[] seen = new boolean[classic.length];
        java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>();
        todo.add(0);
        while (!todo.isEmpty()) {
            int i = todo.poll();
            if (i < 0 || i >= classic.length || seen[i]) {
                continue;
            }
            seen[i] = true;
            int code = (int) (classic[i] & 0xffff);
            int jt = (int) (classic[i] >>> 16 & 0xff);
            int jf = (int) (classic[i] >>> 24 & 0xff);
            int k = (int) (classic[i] >>> 32);
            switch (code & 0x07) {
                case RET -> { }
                case JMP -> {
                    if ((code & 0xf0) == JA) {
                        todo.add(i + 1 + k);
                    } else {
                        todo.add(i + 1 + jt);
                        todo.add(i + 1 + jf);
                    }
                }
                default -> todo.add(i + 1);
            }
        }
        return seen;
    }

    private static String label(int classicIndex) {
        return "c" + classicIndex;
    }
}
