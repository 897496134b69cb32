package io.jvs.forwarder.io;

import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;

import java.util.ArrayList;
import java.util.List;

/**
 * The classic BPF program of an interface's PACKET_FANOUT_CBPF group: which worker's ring gets
 * a frame, so that both directions of a connection reach the worker that owns it.
 *
 * <pre>
 *   not IPv4 (ARP, VLAN-tagged, ...)               -&gt; worker 0
 *   destination is a FULLNAT local address (LIP)   -&gt; the worker whose slice of --lport-range holds
 *                                                     the destination port (ports outside: as below)
 *   destination is a VIP, or in a fwmark rule's destination network
 *                                                  -&gt; hash(source)       (client to director)
 *   anything else                                  -&gt; hash(destination)  (a real server's reply
 *                                                     to the client, NAT; DR and TUN have none)
 *
 *   hash(a) = h % workers, h = ((m ^ (m &gt;&gt;&gt; 16)) * 0x9E3779B1) &gt;&gt;&gt; 16 (32-bit), m = a &amp; clientMask
 * </pre>
 *
 * The kernel takes the program's return value modulo the group's members; the LIP branch
 * returns the worker itself, the hash branch h (at most 0xffff). {@code clientMask} is the
 * widest persistence netmask of the published services (all ones without persistence), so
 * every client of one persistence network lands on one worker and its per-worker template
 * table gives the same answer IPVS's one table would.
 *
 * <p>The program holds the published VIPs and LIPs, so the director rebuilds and re-sets it
 * on every publication, before the new snapshot becomes visible (a new VIP's first packets
 * already go to their client's worker). A program that needs no rebuild would have to tell
 * a client's packet from a real server's reply without knowing the VIPs, which the headers
 * alone do not tell for NAT.
 *
 * <p>Frames are seen from the network header on (SKF_NET_OFF), so the program does not depend
 * on where the kernel's skb data starts when the fanout runs.
 */
public final class FanoutProgram {
    /** BPF_MAXINSNS. */
    public static final int MAX_INSTRUCTIONS = 4096;
    /** The multiplier of the client hash (2^32 / golden ratio). */
    public static final int HASH_MULTIPLIER = 0x9E3779B1;

    // Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
    private static final int LD_W_ABS = 0x20;
    private static final int LD_H_IND = 0x48;
    private static final int LD_B_ABS = 0x30;
    private static final int ALU_AND_K = 0x54;
    private static final int ALU_LSH_K = 0x64;
    private static final int ALU_RSH_K = 0x74;
    private static final int ALU_XOR_X = 0xac;
    private static final int ALU_MUL_K = 0x24;
    private static final int ALU_SUB_K = 0x14;
    private static final int ALU_DIV_K = 0x34;
    private static final int JMP_JA = 0x05;
    private static final int JMP_JEQ_K = 0x15;
    private static final int JMP_JGT_K = 0x25;
    private static final int JMP_JGE_K = 0x35;
    private static final int RET_K = 0x06;
    private static final int RET_A = 0x16;
    private static final int MISC_TAX = 0x07;
    /** SKF_AD_OFF + SKF_AD_PROTOCOL: skb->protocol in host order. */
    private static final int AD_PROTOCOL = -0x1000;
    /** SKF_NET_OFF: offsets from the network header. */
    private static final int NET = -0x100000;

    private FanoutProgram() {
    }

    /** The program for a published table (its VIPs, LIPs, fwmark destinations and persistence masks). */
    public static long[] of(ServiceTable table, int workers, int lportLow, int lportHigh) {
        int mask = -1;
        for (VirtualService s : table.services()) {
            if (s.persistent() && !s.ipv6) { // an IPv6 service's is a prefix length, and all IPv6 goes to worker 0
                mask &= s.persistMask;
            }
        }
        List<int[]> nets = new ArrayList<>();
        for (FwmarkRule r : table.fwmarkRules()) {
            if (!r.isIpv6()) { // all IPv6 goes to worker 0
                nets.add(new int[]{r.dstAddr(), r.dstPrefix()});
            }
        }
        return build(workers, table.vips(), table.localAddrs(), nets, lportLow, lportHigh, mask);
    }

    /** Instructions {@link #of} needs for these many VIPs, LIPs and fwmark rules. */
    public static int length(int vips, int lips, int fwmarkRules) {
        return 28 + 2 * (vips + lips) + 4 * fwmarkRules;
    }

    /**
     * The program (struct sock_filter each as code | jt &lt;&lt; 16 | jf &lt;&lt; 24 | k &lt;&lt; 32).
     *
     * @param dstNets fwmark destinations as {address, prefix length}
     * @throws IllegalArgumentException when it would exceed {@link #MAX_INSTRUCTIONS}
     */
    public static long[] build(int workers, int[] vips, int[] lips, List<int[]> dstNets, int lportLow, int lportHigh,
                               int clientMask) {
        if (length(vips.length, lips.length, dstNets.size()) > MAX_INSTRUCTIONS) {
            throw new IllegalArgumentException("--workers " + workers + ": " + vips.length + " VIPs, " + lips.length
                    + " local addresses and " + dstNets.size() + " fwmark rules do not fit the fanout program ("
                    + MAX_INSTRUCTIONS + " BPF instructions; at most about "
                    + (MAX_INSTRUCTIONS - length(0, 0, 0)) / 2 + " addresses)");
        }
        List<long[]> p = new ArrayList<>(); // {code, jt, jf, k}; jumps to labels patched below
        List<Integer> toLport = new ArrayList<>();
        List<Integer> toSrc = new ArrayList<>();
        emit(p, LD_W_ABS, 0, 0, AD_PROTOCOL);
        emit(p, JMP_JEQ_K, 1, 0, 0x0800);
        emit(p, RET_K, 0, 0, 0);
        emit(p, LD_W_ABS, 0, 0, NET + 16);
        for (int lip : lips) {
            emit(p, JMP_JEQ_K, 0, 1, lip);
            toLport.add(emit(p, JMP_JA, 0, 0, 0));
        }
        for (int vip : vips) {
            emit(p, JMP_JEQ_K, 0, 1, vip);
            toSrc.add(emit(p, JMP_JA, 0, 0, 0));
        }
        for (int[] net : dstNets) {
            int m = net[1] == 0 ? 0 : -1 << (32 - net[1]);
            emit(p, LD_W_ABS, 0, 0, NET + 16);
            emit(p, ALU_AND_K, 0, 0, m);
            emit(p, JMP_JEQ_K, 0, 1, net[0] & m);
            toSrc.add(emit(p, JMP_JA, 0, 0, 0));
        }
        emit(p, LD_W_ABS, 0, 0, NET + 16);
        int toHash = emit(p, JMP_JA, 0, 0, 0);            // anything else: hash(destination)
        int lport = emit(p, LD_B_ABS, 0, 0, NET);
        emit(p, ALU_AND_K, 0, 0, 0x0f);
        emit(p, ALU_LSH_K, 0, 0, 2);
        emit(p, MISC_TAX, 0, 0, 0);
        emit(p, LD_H_IND, 0, 0, NET + 2);                // the destination port
        emit(p, JMP_JGE_K, 0, 5, lportLow);              // below the range: hash(destination)
        emit(p, JMP_JGT_K, 4, 0, lportHigh);             // above it: likewise
        emit(p, ALU_SUB_K, 0, 0, lportLow);
        emit(p, ALU_MUL_K, 0, 0, workers);
        emit(p, ALU_DIV_K, 0, 0, lportHigh - lportLow + 1);
        emit(p, RET_A, 0, 0, 0);
        emit(p, LD_W_ABS, 0, 0, NET + 16);
        int lportToHash = emit(p, JMP_JA, 0, 0, 0);
        int src = emit(p, LD_W_ABS, 0, 0, NET + 12);     // falls through into hash(source)
        // hash(A), last: the kernel wants a program's last instruction to be a return
        int hash = emit(p, ALU_AND_K, 0, 0, clientMask);
        emit(p, MISC_TAX, 0, 0, 0);
        emit(p, ALU_RSH_K, 0, 0, 16);
        emit(p, ALU_XOR_X, 0, 0, 0);
        emit(p, ALU_MUL_K, 0, 0, HASH_MULTIPLIER);
        emit(p, ALU_RSH_K, 0, 0, 16);
        emit(p, RET_A, 0, 0, 0);
        jumpTo(p, toHash, hash);
        jumpTo(p, lportToHash, hash);
        for (int at : toLport) {
            jumpTo(p, at, lport);
        }
        for (int at : toSrc) {
            jumpTo(p, at, src);
        }
        long[] out = new long[p.size()];
        for (int i = 0; i < out.length; i++) {
            long[] in = p.get(i);
            out[i] = in[0] | in[1] << 16 | in[2] << 24 | (in[3] & 0xffffffffL) << 32;
        }
        return out;
    }

    /** The worker the hash branch gives an address ({@code clientMask}: see {@link #of}). */
    public static int hashWorker(int addr, int clientMask, int workers) {
        int m = addr & clientMask;
        int h = ((m ^ (m >>> 16)) * HASH_MULTIPLIER) >>> 16;
        return h % workers;
    }

    /** Lowest local port of worker w's slice of [low, high] (the ports the LIP branch sends to w). */
    public static int sliceLow(int w, int workers, int low, int high) {
        int len = high - low + 1;
        return low + (int) ((w * (long) len + workers - 1) / workers);
    }

    /** Highest local port of worker w's slice. */
    public static int sliceHigh(int w, int workers, int low, int high) {
        return sliceLow(w + 1, workers, low, high) - 1;
    }

    private static int emit(List<long[]> p, int code, int jt, int jf, int k) {
        p.add(new long[]{code, jt, jf, k});
        return p.size() - 1;
    }

    private static void jumpTo(List<long[]> p, int at, int target) {
        p.get(at)[3] = target - at - 1;
    }
}
