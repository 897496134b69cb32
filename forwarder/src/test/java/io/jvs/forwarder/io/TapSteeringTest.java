package io.jvs.forwarder.io;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The translation leaves out what no path reaches: the eBPF verifier refuses a program with an
 * unreachable instruction ("unreachable insn N"), and the fanout program has some whenever the
 * table has no local address (or no VIP). That the kernel then takes the program and steers by
 * it is WorkersIT's part (a TAP director with two workers started without services, then given
 * a NAT service, and the FULLNAT/NAT/DR run; ForwarderIT's TapNat6 and TapFullNat6 for IPv6).
 * The queue a frame gets is read by running the built program in a small eBPF interpreter.
 */
class TapSteeringTest {
    static final int VIP = 0x0a000064;      // 10.0.0.100
    static final int LIP = 0x0a000003;      // 10.0.0.3

    static int unreachable(long[] classic) {
        int n = 0;
        for (boolean r : TapSteering.reachable(classic)) {
            n += r ? 0 : 1;
        }
        return n;
    }

    @Test
    void everyInstructionReachableWithVipsAndLocalAddresses() {
        long[] p = FanoutProgram.build(2, new int[]{VIP}, new int[]{LIP}, List.of(), 1024, 65535, -1);
        assertEquals(0, unreachable(p));
    }

    @Test
    void withoutLocalAddressesTheirPortBlockIsLeftOut() {
        // the block that picks a worker by the local port: 13 instructions (load the IHL, the port,
        // two range checks, the slice arithmetic and its return, the fallback to hash(destination))
        long[] p = FanoutProgram.build(2, new int[]{VIP}, new int[0], List.of(), 1024, 65535, -1);
        assertEquals(13, unreachable(p));
    }

    @Test
    void withoutServicesOnlyTheDestinationHashIsLeft() {
        // also the load of the source address that only a VIP's branch jumps to
        long[] p = FanoutProgram.build(2, new int[0], new int[0], List.of(), 1024, 65535, -1);
        assertEquals(14, unreachable(p));
    }

    // ------------------------------------------------------------------ the program run

    static final long[] VIP6 = {0x2001_0db8_0000_0000L, 0x100L};
    static final long[] LIP6 = {0x2001_0db8_0000_0000L, 0x3L};
    static final long[] RIP6 = {0x2001_0db8_0000_0000L, 0x11L};
    static final long[] CLIENT6 = {0x2001_0db8_0001_0000L, 0x2L};

    /**
     * IPv6 goes to queue 0, as the packet attachment's fanout gives it worker 0: the IPv6 path
     * (its connection table, NDP cache and local ports) lives on worker 0 only. Whatever the
     * frame: a client's SYN to the VIP6, a NAT6 reply to the client, a FULLNAT6 reply to the local
     * address on a port of worker 1's IPv4 slice, for any number of queues. The expected queue is
     * the design's (IPv6: 0), the program run by the eBPF interpreter below.
     */
    @Test
    void ipv6GoesToQueueZero() {
        for (int queues = 2; queues <= 4; queues++) {
            byte[] prog = TapSteering.of(FanoutProgram.build(queues, new int[]{VIP}, new int[]{LIP}, List.of(),
                    1024, 65535, -1));
            for (int c = 0; c < 64; c++) {
                long[] client = {CLIENT6[0], CLIENT6[1] + c};
                assertEquals(0, queue(prog, ipv6(client, VIP6, 40000 + c, 80), queues), "client " + c + " to the VIP6");
                assertEquals(0, queue(prog, ipv6(RIP6, client, 80, 40000 + c), queues), "NAT6 reply to client " + c);
                assertEquals(0, queue(prog, ipv6(RIP6, LIP6, 80, 60000 + c), queues), "FULLNAT6 reply, lport " + (60000 + c));
            }
        }
    }

    /**
     * The interpreter's control: the same program spreads IPv4 clients to the VIP over the queues by
     * the fanout's documented hash (FanoutProgramTest.expectedWorker), so the zeros above are the
     * program's choice for IPv6, not an interpreter that returns 0.
     */
    @Test
    void ipv4ClientsToTheVipSpreadByTheirHash() {
        byte[] prog = TapSteering.of(FanoutProgram.build(4, new int[]{VIP}, new int[]{LIP}, List.of(), 1024, 65535, -1));
        int[] seen = new int[4];
        for (int c = 0; c < 256; c++) {
            int client = 0x0a000100 + c;
            int q = queue(prog, ipv4(client, VIP, 40000 + c, 80), 4);
            assertEquals(FanoutProgramTest.expectedWorker(client, -1, 4), q, "client " + c);
            seen[q]++;
        }
        for (int q = 0; q < 4; q++) {
            assertTrue(seen[q] > 30, java.util.Arrays.toString(seen));
        }
    }

    /** An Ethernet frame: IPv6 header, TCP ports. */
    static byte[] ipv6(long[] src, long[] dst, int sport, int dport) {
        ByteBuffer b = ByteBuffer.allocate(14 + 40 + 20);
        b.putShort(12, (short) 0x86dd);
        b.put(14, (byte) 0x60);
        b.putShort(14 + 4, (short) 20);
        b.put(14 + 6, (byte) 6);
        b.put(14 + 7, (byte) 64);
        b.putLong(14 + 8, src[0]).putLong(14 + 16, src[1]).putLong(14 + 24, dst[0]).putLong(14 + 32, dst[1]);
        b.putShort(54, (short) sport).putShort(56, (short) dport);
        return b.array();
    }

    /** An Ethernet frame: IPv4 header (no options), TCP ports. */
    static byte[] ipv4(int src, int dst, int sport, int dport) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 20);
        b.putShort(12, (short) 0x0800);
        b.put(14, (byte) 0x45);
        b.put(14 + 9, (byte) 6);
        b.putInt(14 + 12, src).putInt(14 + 16, dst);
        b.putShort(34, (short) sport).putShort(36, (short) dport);
        return b.array();
    }

    /**
     * The queue the kernel puts the frame on: the program's return value modulo the queues
     * (tun_ebpf_select_queue). The program runs as a socket filter on the skb the kernel routed
     * into the TAP: data at the Ethernet header, the network header after it, skb-&gt;protocol the
     * frame's ethertype (a __be16 read from __sk_buff.protocol on a little-endian host).
     */
    static int queue(byte[] prog, byte[] frame, int queues) {
        int ethertype = (frame[12] & 0xff) << 8 | (frame[13] & 0xff);
        return (int) (Integer.toUnsignedLong((int) run(prog, frame, 14, Short.reverseBytes((short) ethertype) & 0xffff))
                % queues);
    }

    /**
     * A small eBPF interpreter for what TapSteering emits, written from the kernel's
     * instruction set documentation: 64-bit MOV, 32-bit ALU (upper half zeroed), BPF_END to big
     * endian, legacy LD_ABS/LD_IND packet loads (big-endian values; SKF_NET_OFF relative to the
     * network header; out of bounds ends the program with 0), LDX from the context, 32-bit
     * conditional jumps, JA, EXIT.
     */
    static long run(byte[] prog, byte[] pkt, int netOff, int skbProtocol) {
        ByteBuffer code = ByteBuffer.wrap(prog).order(ByteOrder.LITTLE_ENDIAN);
        long[] r = new long[11];
        final long ctx = 0xC0FFEE00L;
        r[1] = ctx;
        int pc = 0;
        for (int steps = 0; steps < 100_000; steps++) {
            int op = code.get(pc * 8) & 0xff;
            int regs = code.get(pc * 8 + 1) & 0xff;
            int dst = regs & 0x0f;
            int src = regs >>> 4;
            int off = code.getShort(pc * 8 + 2);
            int imm = code.getInt(pc * 8 + 4);
            pc++;
            int cls = op & 0x07;
            switch (cls) {
                case 0x07 -> { // ALU64: only MOV is emitted
                    if ((op & 0xf0) != 0xb0) {
                        throw new AssertionError("ALU64 op 0x" + Integer.toHexString(op));
                    }
                    r[dst] = (op & 0x08) != 0 ? r[src] : imm;
                }
                case 0x04 -> { // ALU32
                    long a = r[dst] & 0xffffffffL;
                    long b = ((op & 0x08) != 0 ? r[src] : imm) & 0xffffffffL;
                    long v = switch (op & 0xf0) {
                        case 0x00 -> a + b;
                        case 0x10 -> a - b;
                        case 0x20 -> a * b;
                        case 0x30 -> b == 0 ? 0 : a / b;
                        case 0x40 -> a | b;
                        case 0x50 -> a & b;
                        case 0x60 -> a << (b & 31);
                        case 0x70 -> a >>> (b & 31);
                        case 0xa0 -> a ^ b;
                        case 0xb0 -> b;
                        case 0xd0 -> { // BPF_END, BPF_TO_BE (0x08) on a little-endian host: a byte swap
                            if ((op & 0x08) == 0 || imm != 16) {
                                throw new AssertionError("END 0x" + Integer.toHexString(op) + " " + imm);
                            }
                            yield Short.reverseBytes((short) a) & 0xffff;
                        }
                        default -> throw new AssertionError("ALU32 op 0x" + Integer.toHexString(op));
                    };
                    r[dst] = v & 0xffffffffL;
                }
                case 0x00 -> { // LD ABS / IND (legacy packet access)
                    int mode = op & 0xe0;
                    int size = switch (op & 0x18) {
                        case 0x00 -> 4;
                        case 0x08 -> 2;
                        case 0x10 -> 1;
                        default -> throw new AssertionError("LD size 0x" + Integer.toHexString(op));
                    };
                    long k = mode == 0x20 ? imm : mode == 0x40 ? (int) r[src] + (long) imm : Long.MIN_VALUE;
                    if (k == Long.MIN_VALUE) {
                        throw new AssertionError("LD mode 0x" + Integer.toHexString(op));
                    }
                    long at = k >= 0 ? k : k >= -0x100000 && k < -0x100000 + 0x10000 ? netOff + (k + 0x100000) : -1;
                    if (at < 0 || at + size > pkt.length) {
                        return 0;
                    }
                    long v = 0;
                    for (int i = 0; i < size; i++) {
                        v = v << 8 | (pkt[(int) at + i] & 0xff);
                    }
                    r[0] = v;
                    for (int i = 1; i <= 5; i++) {
                        r[i] = 0xdeadL; // clobbered
                    }
                }
                case 0x01 -> { // LDX MEM: only __sk_buff.protocol (W at 16) is read
                    if (op != 0x61 || r[src] != ctx || off != 16) {
                        throw new AssertionError("LDX 0x" + Integer.toHexString(op) + " off " + off);
                    }
                    r[dst] = skbProtocol;
                }
                case 0x05, 0x06 -> { // JMP, JMP32
                    int jop = op & 0xf0;
                    if (op == 0x95) {
                        return r[0];
                    }
                    if (jop == 0x00 && cls == 0x05) {
                        pc += off;
                        continue;
                    }
                    long a = cls == 0x06 ? r[dst] & 0xffffffffL : r[dst];
                    long b = (op & 0x08) != 0 ? r[src] : imm;
                    b = cls == 0x06 ? b & 0xffffffffL : b;
                    boolean taken = switch (jop) {
                        case 0x10 -> a == b;
                        case 0x20 -> Long.compareUnsigned(a, b) > 0;
                        case 0x30 -> Long.compareUnsigned(a, b) >= 0;
                        case 0x40 -> (a & b) != 0;
                        case 0x50 -> a != b;
                        default -> throw new AssertionError("JMP op 0x" + Integer.toHexString(op));
                    };
                    if (taken) {
                        pc += off;
                    }
                }
                default -> throw new AssertionError("class 0x" + Integer.toHexString(op));
            }
        }
        throw new AssertionError("no exit");
    }
}
