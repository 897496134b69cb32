package io.jvs.forwarder.io;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The translation leaves out what no path reaches: the eBPF verifier refuses a program with an
 * unreachable instruction ("unreachable insn N"), and the fanout program has some whenever the
 * table has no local address (or no VIP). That the kernel then takes the program and steers by
 * it is WorkersIT's part (a TAP director with two workers started without services, then given
 * a NAT service, and the FULLNAT/NAT/DR run).
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
}
