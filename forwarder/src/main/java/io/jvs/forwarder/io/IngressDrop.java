package io.jvs.forwarder.io;

import io.jvs.sys.Bpf;
import io.jvs.sys.BpfAssembler;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;

import static io.jvs.sys.BpfAssembler.ADD;
import static io.jvs.sys.BpfAssembler.H;
import static io.jvs.sys.BpfAssembler.JEQ;
import static io.jvs.sys.BpfAssembler.JGT;
import static io.jvs.sys.BpfAssembler.JNE;
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
 * kernel's copy of every IPv4 frame addressed to a VIP or FULLNAT local address, after jvs's
 * ETH_P_ALL ring has taken it (packet sockets see a frame before the ingress hook runs).
 *
 * <p>Why: in packet mode every frame jvs forwards also goes up the director's own IP stack, which
 * can only drop it (the VIP is not a local address and jvs turns forwarding off): header checks,
 * early demux, a route lookup and ip_error, counted as the namespace's InAddrErrors. An nftables
 * ingress drop of the same frames measured +20 % peak UDP (docs/ARCHITECTURE.md); this program
 * is that drop without a dependency on nft, gone with the link's fd however the process ends.
 *
 * <p>Only {@link #put owned} addresses are dropped: those are jvs's by definition, never the
 * host's. NAT replies (to client addresses) still reach the kernel, which drops them as before:
 * telling them from the host's own traffic needs every local address, kept current, and a wrong
 * guess would cut the host off. IPv6 goes on unchanged. Every other frame gets TCX_NEXT: the
 * interface's later tc programs, then the stack, see it as if this one were not there.
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
    private final int prog;
    private int link = -1;

    private IngressDrop(String ifname, int addrMap, int prog) {
        this.ifname = ifname;
        this.addrMap = addrMap;
        this.prog = prog;
    }

    /** Creates the address map and loads the program (not attached yet). */
    public static IngressDrop load(String ifname) throws NativeException {
        int addrs = Bpf.createMap(Bpf.MAP_TYPE_HASH, 4, 4, MAX_ADDRESSES, "jvs_owned");
        try {
            return new IngressDrop(ifname, addrs, Bpf.loadTcxIngressProgram(program(addrs).build(), "jvs_ingress"));
        } catch (NativeException | RuntimeException e) {
            Libc.close(addrs);
            throw e;
        }
    }

    /** The program: TCX_DROP for an IPv4 frame whose destination is in the map, else TCX_NEXT. */
    static BpfAssembler program(int addrMapFd) {
        return new BpfAssembler()
                .load(W, R2, R1, SKB_DATA)
                .load(W, R3, R1, SKB_DATA_END)
                .movReg(R4, R2).aluImm(ADD, R4, 34)
                .jumpReg(JGT, R4, R3, "next")             // no Ethernet + IPv4 header
                .load(H, R5, R2, 12)                      // EtherType, as the bytes lie (little-endian load)
                .jumpImm(JNE, R5, 0x0008, "next")         // not 08 00 (a VLAN tag, ARP, IPv6: the kernel's)
                .load(W, R7, R2, 30)                      // destination address, network order
                .store(W, R10, -4, R7)
                .loadMap(R1, addrMapFd)
                .movReg(R2, R10).aluImm(ADD, R2, -4)
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
        Libc.close(addrMap);
    }
}
