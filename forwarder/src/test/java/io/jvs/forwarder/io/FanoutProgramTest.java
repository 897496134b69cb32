package io.jvs.forwarder.io;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fanout program run by a small classic-BPF interpreter written here (the kernel's semantics:
 * 32-bit unsigned accumulator, big-endian loads, SKF_NET_OFF and SKF_AD_PROTOCOL, the return value
 * taken modulo the group's members), against workers computed from the formula as the docs write
 * it out. That the kernel runs it so is WorkersIT's part.
 */
class FanoutProgramTest {
    static final int VIP = 0x0a000064;      // 10.0.0.100
    static final int LIP = 0x0a000003;      // 10.0.0.3
    static final int RIP = 0x0a00000b;      // 10.0.0.11

    /** The documented hash, written out independently of FanoutProgram. */
    static int expectedWorker(int addr, int mask, int workers) {
        long m = addr & mask & 0xffffffffL;
        long x = (m ^ (m >>> 16)) & 0xffffffffL;
        long h = ((x * 0x9E3779B1L) & 0xffffffffL) >>> 16;
        return (int) (h % workers);
    }

    @Test
    void clientToVipByClientAndReplyToClientByClient() {
        long[] p = FanoutProgram.build(4, new int[]{VIP}, new int[0], List.of(), 1024, 65535, -1);
        int[] seen = new int[4];
        for (int c = 0; c < 256; c++) {
            int client = 0x0a000100 + c;  // 10.0.1.c
            int in = run(p, ipv4(client, VIP, 6, 5, 40000 + c, 80), 0x0800, 4);
            int reply = run(p, ipv4(RIP, client, 6, 5, 80, 40000 + c), 0x0800, 4);
            assertEquals(expectedWorker(client, -1, 4), in, "client " + c + " to the VIP");
            assertEquals(in, reply, "the real server's reply to client " + c);
            seen[in]++;
        }
        for (int w = 0; w < 4; w++) {
            assertTrue(seen[w] > 30, "256 clients spread over 4 workers: " + java.util.Arrays.toString(seen));
        }
    }

    @Test
    void notIpv4GoesToWorkerZero() {
        long[] p = FanoutProgram.build(3, new int[]{VIP}, new int[]{LIP}, List.of(), 1024, 65535, -1);
        assertEquals(0, run(p, new byte[28], 0x0806, 3), "ARP");
        assertEquals(0, run(p, new byte[40], 0x8100, 3), "a VLAN tag the kernel left in the frame");
    }

    @Test
    void replyToALocalAddressGoesToTheWorkerOwningItsPort() {
        // 10 ports over 3 workers: floor((port - 1000) * 3 / 10) = 0 0 0 0 1 1 1 2 2 2
        int[] owner = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
        long[] p = FanoutProgram.build(3, new int[]{VIP}, new int[]{LIP}, List.of(), 1000, 1009, -1);
        for (int port = 1000; port <= 1009; port++) {
            assertEquals(owner[port - 1000], run(p, ipv4(RIP, LIP, 6, 5, 80, port), 0x0800, 3), "lport " + port);
            assertEquals(owner[port - 1000], run(p, ipv4(RIP, LIP, 17, 6, 53, port), 0x0800, 3),
                    "lport " + port + " (UDP, 24-byte IP header with options)");
        }
        assertEquals(List.of(1000, 1003, 1004, 1006, 1007, 1009),
                List.of(FanoutProgram.sliceLow(0, 3, 1000, 1009), FanoutProgram.sliceHigh(0, 3, 1000, 1009),
                        FanoutProgram.sliceLow(1, 3, 1000, 1009), FanoutProgram.sliceHigh(1, 3, 1000, 1009),
                        FanoutProgram.sliceLow(2, 3, 1000, 1009), FanoutProgram.sliceHigh(2, 3, 1000, 1009)),
                "each worker's LocalPorts slice is exactly the ports the program sends it");
        // outside the range: not a FULLNAT reply, hashed by destination like any other packet
        assertEquals(expectedWorker(LIP, -1, 3), run(p, ipv4(RIP, LIP, 6, 5, 80, 999), 0x0800, 3));
        assertEquals(expectedWorker(LIP, -1, 3), run(p, ipv4(RIP, LIP, 6, 5, 80, 1010), 0x0800, 3));
    }

    @Test
    void slicesCoverTheRangeOnceForAnyWorkerCount() {
        for (int n = 1; n <= 16; n++) {
            int next = 1024;
            for (int w = 0; w < n; w++) {
                assertEquals(next, FanoutProgram.sliceLow(w, n, 1024, 65535), n + " workers, slice " + w);
                next = FanoutProgram.sliceHigh(w, n, 1024, 65535) + 1;
            }
            assertEquals(65536, next, n + " workers");
        }
    }

    @Test
    void clientsOfOnePersistenceNetworkShareAWorker() {
        int mask = 0xffffff00;
        long[] p = FanoutProgram.build(8, new int[]{VIP}, new int[0], List.of(), 1024, 65535, mask);
        int first = run(p, ipv4(0xc0a80701, VIP, 6, 5, 5555, 80), 0x0800, 8);
        for (int host = 2; host < 255; host++) {
            assertEquals(first, run(p, ipv4(0xc0a80700 + host, VIP, 6, 5, 5555, 80), 0x0800, 8), "192.168.7." + host);
        }
        assertEquals(expectedWorker(0xc0a80700, -1, 8), first);
    }

    /**
     * An IPv6 persistent service's -M is a prefix length (64), not an IPv4 netmask: it must not
     * narrow the IPv4 clients' hash (as 0.0.0.64 it would leave one bit of the client address).
     */
    @Test
    void ipv6PersistenceLeavesTheIpv4HashAlone() {
        io.jvs.forwarder.service.ServiceSpec v4 = new io.jvs.forwarder.service.ServiceSpec(
                io.jvs.forwarder.service.Protocol.TCP, VIP, 80, "rr");
        io.jvs.forwarder.service.ServiceSpec v6 = io.jvs.forwarder.service.ServiceSpec.ipv6(
                io.jvs.forwarder.service.Protocol.TCP, io.jvs.packet.Ipv6Address.parse("2001:db8::100"), 80, "rr",
                List.of()).withPersistence(300, 64);
        long[] alone = FanoutProgram.of(table(v4), 4, 1024, 65535);
        long[] beside = FanoutProgram.of(table(v4, v6), 4, 1024, 65535);
        assertTrue(java.util.Arrays.equals(alone, beside), "the same program with the IPv6 persistent service");
        long[] v4Persistent = FanoutProgram.of(table(v4.withPersistence(300, 0xffffff00)), 4, 1024, 65535);
        assertEquals(run(v4Persistent, ipv4(0x0a000101, VIP, 6, 5, 1, 80), 0x0800, 4),
                run(v4Persistent, ipv4(0x0a0001fe, VIP, 6, 5, 1, 80), 0x0800, 4), "an IPv4 /24 still shares a worker");
    }

    static io.jvs.forwarder.service.ServiceTable table(io.jvs.forwarder.service.ServiceSpec... specs) {
        return new io.jvs.forwarder.service.ServiceTableBuilder(io.jvs.forwarder.sched.Schedulers::create)
                .build(List.of(specs), io.jvs.forwarder.service.ServiceTable.EMPTY);
    }

    @Test
    void fwmarkDestinationsAreHashedBySource() {
        long[] p = FanoutProgram.build(8, new int[0], new int[0], List.of(new int[]{0x0a140000, 16}), 1024, 65535, -1);
        int client = 0x0a000105;
        assertEquals(expectedWorker(client, -1, 8), run(p, ipv4(client, 0x0a140707, 6, 5, 1234, 443), 0x0800, 8),
                "to 10.20.7.7, inside 10.20.0.0/16: by source");
        assertEquals(expectedWorker(0x0a150707, -1, 8), run(p, ipv4(client, 0x0a150707, 6, 5, 1234, 443), 0x0800, 8),
                "to 10.21.7.7, outside: by destination");
        assertNotEquals(expectedWorker(client, -1, 8), expectedWorker(0x0a150707, -1, 8), "the two cases differ");
    }

    @Test
    void tooManyAddressesAreRefused() {
        int[] vips = new int[2100];
        for (int i = 0; i < vips.length; i++) {
            vips[i] = 0x0a010000 + i;
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FanoutProgram.build(2, vips, new int[0], List.of(), 1024, 65535, -1));
        assertTrue(e.getMessage().contains("4096 BPF instructions"), e.getMessage());
        long[] fits = FanoutProgram.build(2, java.util.Arrays.copyOf(vips, 2000), new int[0], List.of(), 1024, 65535, -1);
        assertTrue(fits.length <= 4096);
        assertEquals(expectedWorker(0x0a000105, -1, 2), run(fits, ipv4(0x0a000105, vips[1999], 6, 5, 1, 80), 0x0800, 2),
                "the last of 2000 VIPs is still a VIP (jumps longer than 255 instructions work)");
    }

    /** An IPv4 header (ihl words) and the first 4 bytes of L4. */
    static byte[] ipv4(int src, int dst, int proto, int ihl, int sport, int dport) {
        ByteBuffer b = ByteBuffer.allocate(ihl * 4 + 8);
        b.put(0, (byte) (0x40 | ihl));
        b.put(9, (byte) proto);
        b.putInt(12, src);
        b.putInt(16, dst);
        b.putShort(ihl * 4, (short) sport);
        b.putShort(ihl * 4 + 2, (short) dport);
        return b.array();
    }

    /** The kernel's bpf_check_classic rules this program could break: its length, jumps in range, a return last. */
    static void checkClassic(long[] prog) {
        assertTrue(prog.length >= 1 && prog.length <= 4096, "length " + prog.length);
        for (int pc = 0; pc < prog.length; pc++) {
            int code = (int) (prog[pc] & 0xffff);
            long k = prog[pc] >>> 32;
            int jt = (int) (prog[pc] >>> 16 & 0xff);
            int jf = (int) (prog[pc] >>> 24 & 0xff);
            if (code == 0x05) {
                assertTrue(k < prog.length - pc - 1, "ja out of the program at " + pc);
            } else if ((code & 0x07) == 0x05) {
                assertTrue(pc + jt + 1 < prog.length && pc + jf + 1 < prog.length, "jump out of the program at " + pc);
            }
            if (code == 0x34) {
                assertTrue(k != 0, "division by 0 at " + pc);
            }
        }
        int last = (int) (prog[prog.length - 1] & 0xffff);
        assertTrue(last == 0x06 || last == 0x16, "the last instruction returns: 0x" + Integer.toHexString(last));
    }

    /** Runs the program on a frame seen from its network header; returns the member (kernel: ret % members). */
    static int run(long[] prog, byte[] net, int ethProto, int members) {
        checkClassic(prog);
        long a = 0;
        long x = 0;
        int pc = 0;
        for (int steps = 0; steps < 10_000; steps++) {
            long insn = prog[pc];
            int code = (int) (insn & 0xffff);
            int jt = (int) (insn >>> 16 & 0xff);
            int jf = (int) (insn >>> 24 & 0xff);
            int k = (int) (insn >>> 32);
            long ku = k & 0xffffffffL;
            pc++;
            switch (code) {
                case 0x20 -> a = k == -0x1000 ? ethProto : load(net, k, 4);   // ld [k] (W, ABS)
                case 0x28 -> a = load(net, k, 2);                              // ldh [k]
                case 0x30 -> a = load(net, k, 1);                              // ldb [k]
                case 0x48 -> a = load(net, (int) x + k, 2);                    // ldh [x + k]
                case 0x04 -> a = (a + ku) & 0xffffffffL;
                case 0x14 -> a = (a - ku) & 0xffffffffL;
                case 0x24 -> a = (a * ku) & 0xffffffffL;
                case 0x34 -> a = a / ku;
                case 0x54 -> a = a & ku;
                case 0x64 -> a = (a << k) & 0xffffffffL;
                case 0x74 -> a = a >>> k;
                case 0xac -> a = a ^ x;
                case 0x07 -> x = a;                                            // tax
                case 0x05 -> pc += k;                                          // ja
                case 0x15 -> pc += a == ku ? jt : jf;
                case 0x25 -> pc += a > ku ? jt : jf;
                case 0x35 -> pc += a >= ku ? jt : jf;
                case 0x06 -> {
                    return (int) (ku % members);
                }
                case 0x16 -> {
                    return (int) (a % members);
                }
                default -> throw new AssertionError("opcode 0x" + Integer.toHexString(code) + " at " + (pc - 1));
            }
        }
        throw new AssertionError("no return");
    }

    private static long load(byte[] net, int k, int size) {
        int off = k - (-0x100000);   // SKF_NET_OFF + off
        assertTrue(off >= 0 && off + size <= net.length, "load at net+" + off);
        long v = 0;
        for (int i = 0; i < size; i++) {
            v = v << 8 | (net[off + i] & 0xff);
        }
        return v;
    }
}
