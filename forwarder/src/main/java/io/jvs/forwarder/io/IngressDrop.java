package io.jvs.forwarder.io;

import io.jvs.sys.Bpf;
import io.jvs.sys.BpfAssembler;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;

import static io.jvs.sys.BpfAssembler.ADD;
import static io.jvs.sys.BpfAssembler.DW;
import static io.jvs.sys.BpfAssembler.H;
import static io.jvs.sys.BpfAssembler.JEQ;
import static io.jvs.sys.BpfAssembler.JGT;
import static io.jvs.sys.BpfAssembler.R0;
import static io.jvs.sys.BpfAssembler.R1;
import static io.jvs.sys.BpfAssembler.R2;
import static io.jvs.sys.BpfAssembler.R3;
import static io.jvs.sys.BpfAssembler.R4;
import static io.jvs.sys.BpfAssembler.R5;
import static io.jvs.sys.BpfAssembler.R7;
import static io.jvs.sys.BpfAssembler.R10;
import static io.jvs.sys.BpfAssembler.W;

/**
 * Packet mode: a tc program on an attached interface's ingress (a tcx BPF link) that drops the
 * kernel's copy of every IPv4 and IPv6 frame addressed to a VIP or FULLNAT local address, after jvs's
 * ETH_P_ALL ring has taken it (packet sockets see a frame before the ingress hook runs).
 *
 * <p>Why: in packet mode every frame jvs forwards also goes up the director's own IP stack, which
 * can only drop it (the VIP is not a local address and jvs turns forwarding off): header checks,
 * early demux, a route lookup and ip_error, counted as the namespace's InAddrErrors. An nftables
 * ingress drop of the same frames measured +20 % peak UDP (docs/ARCHITECTURE.md); this program
 * is that drop without a dependency on nft, gone with the link's fd however the process ends.
 *
 * <p>Only {@link #put owned} addresses (IPv4 and IPv6) are dropped: those are jvs's by definition,
 * never the host's. NAT replies (to client addresses) still reach the kernel, which drops them as
 * before: telling them from the host's own traffic needs every local address, kept current, and a
 * wrong guess would cut the host off. Every other frame (ARP and NDP among them: the kernel learns
 * neighbours from them too) gets TCX_NEXT: the interface's later tc programs, then the stack, see it
 * as if this one were not there.
 */
public final class IngressDrop implements AutoCloseable {
    /** Value in the address map: an address jvs owns. */
    static final int OWNED = 1;
    private static final int MAX_ADDRESSES = 65536;
    /** struct __sk_buff: data, data_end. */
    private static final int SKB_DATA = 76;
    private static final int SKB_DATA_END = 80;

    private final String ifname;
    private final int addrMap;
    private final int addr6Map;
    private final int prog;
    private int link = -1;

    private IngressDrop(String ifname, int addrMap, int addr6Map, int prog) {
        this.ifname = ifname;
        this.addrMap = addrMap;
        this.addr6Map = addr6Map;
        this.prog = prog;
    }

    /** Creates the address maps and loads the program (not attached yet). */
    public static IngressDrop load(String ifname) throws NativeException {
        int addrs = Bpf.createMap(Bpf.MAP_TYPE_HASH, 4, 4, MAX_ADDRESSES, "jvs_owned");
        int addrs6 = -1;
        try {
            addrs6 = Bpf.createMap(Bpf.MAP_TYPE_HASH, 16, 4, MAX_ADDRESSES, "jvs_owned6");
            return new IngressDrop(ifname, addrs, addrs6,
                    Bpf.loadTcxIngressProgram(program(addrs, addrs6).build(), "jvs_ingress"));
        } catch (NativeException | RuntimeException e) {
            Libc.close(addrs);
            if (addrs6 >= 0) {
                Libc.close(addrs6);
            }
            throw e;
        }
    }

    /**
     * The program: TCX_DROP for an IPv4 or IPv6 frame whose destination is in its family's map,
     * else TCX_NEXT. Addresses are compared as the bytes lie in the frame.
     */
    static BpfAssembler program(int addrMapFd, int addr6MapFd) {
        return new BpfAssembler()
                .load(W, R2, R1, SKB_DATA)
                .load(W, R3, R1, SKB_DATA_END)
                .movReg(R4, R2).aluImm(ADD, R4, 14)
                .jumpReg(JGT, R4, R3, "next")             // no Ethernet header
                .load(H, R5, R2, 12)                      // EtherType, as the bytes lie (little-endian load)
                .jumpImm(JEQ, R5, 0x0008, "ipv4")         // 08 00
                .jumpImm(JEQ, R5, 0xdd86, "ipv6")         // 86 dd; a VLAN tag, ARP and the rest: the kernel's
                .jump("next")

                .label("ipv4")
                .movReg(R4, R2).aluImm(ADD, R4, 34)
                .jumpReg(JGT, R4, R3, "next")             // no IPv4 header
                .load(W, R7, R2, 30)                      // destination address
                .store(W, R10, -4, R7)
                .loadMap(R1, addrMapFd)
                .movReg(R2, R10).aluImm(ADD, R2, -4)
                .jump("lookup")

                .label("ipv6")
                .movReg(R4, R2).aluImm(ADD, R4, 54)
                .jumpReg(JGT, R4, R3, "next")             // no IPv6 header
                .load(DW, R7, R2, 38)                     // destination address, in two halves
                .store(DW, R10, -16, R7)
                .load(DW, R7, R2, 46)
                .store(DW, R10, -8, R7)
                .loadMap(R1, addr6MapFd)
                .movReg(R2, R10).aluImm(ADD, R2, -16)

                .label("lookup")
                .call(Bpf.FUNC_MAP_LOOKUP_ELEM)
                .jumpImm(JEQ, R0, 0, "next")
                .movImm(R0, Bpf.TCX_DROP)
                .exit()
                .label("next")
                .movImm(R0, Bpf.TCX_NEXT)
                .exit();
    }

    /** The kernel no longer sees IPv4 frames to {@code addr} (host order) on this interface. */
    public void put(int addr) throws NativeException {
        Bpf.updateMap(addrMap, Integer.reverseBytes(addr), OWNED, "jvs_owned on " + ifname);
    }

    /** The kernel no longer sees IPv6 frames to the address {@code hi:lo} on this interface. */
    public void put6(long hi, long lo) throws NativeException {
        Bpf.updateMap(addr6Map, key6(hi, lo), OWNED, "jvs_owned6 on " + ifname);
    }

    /** The kernel sees IPv4 frames to {@code addr} (host order) on this interface again. */
    public void remove(int addr) throws NativeException {
        Bpf.deleteFromMap(addrMap, Integer.reverseBytes(addr), "jvs_owned on " + ifname);
    }

    /** The kernel sees IPv6 frames to {@code hi:lo} on this interface again. */
    public void remove6(long hi, long lo) throws NativeException {
        Bpf.deleteFromMap(addr6Map, key6(hi, lo), "jvs_owned6 on " + ifname);
    }

    private static byte[] key6(long hi, long lo) {
        return java.nio.ByteBuffer.allocate(16).putLong(hi).putLong(lo).array(); // network order
    }

    /** Attaches the program to the interface's ingress, through a tcx BPF link. */
    public void attach(int ifindex) throws NativeException {
        link = Bpf.attachTcxIngress(prog, ifindex, ifname);
    }

    /** The program's fd (tests run it with BPF_PROG_TEST_RUN). */
    int programFd() {
        return prog;
    }

    @Override
    public void close() {
        if (link >= 0) {
            Libc.close(link);
            link = -1;
        }
        Libc.close(prog);
        Libc.close(addr6Map);
        Libc.close(addrMap);
    }
}
