package io.jvs.forwarder.io;

import io.jvs.sys.Bpf;
import io.jvs.sys.BpfAssembler;
import io.jvs.sys.Libc;
import io.jvs.sys.NativeException;

import static io.jvs.sys.BpfAssembler.AND;
import static io.jvs.sys.BpfAssembler.ADD;
import static io.jvs.sys.BpfAssembler.H;
import static io.jvs.sys.BpfAssembler.JEQ;
import static io.jvs.sys.BpfAssembler.JGE;
import static io.jvs.sys.BpfAssembler.JGT;
import static io.jvs.sys.BpfAssembler.JNE;
import static io.jvs.sys.BpfAssembler.R0;
import static io.jvs.sys.BpfAssembler.R1;
import static io.jvs.sys.BpfAssembler.R2;
import static io.jvs.sys.BpfAssembler.R3;
import static io.jvs.sys.BpfAssembler.R4;
import static io.jvs.sys.BpfAssembler.R5;
import static io.jvs.sys.BpfAssembler.R6;
import static io.jvs.sys.BpfAssembler.R7;
import static io.jvs.sys.BpfAssembler.R10;
import static io.jvs.sys.BpfAssembler.W;

/**
 * The XDP program of one {@code --attach xdp:IFACE:QUEUE} attachment, its two maps and
 * the BPF link that holds it on the interface.
 *
 * <p>What it redirects into the AF_XDP socket of the frame's rx queue (the XSKMAP,
 * keyed by queue index) and what it passes to the kernel, decided by one hash map of
 * IPv4 addresses ({@link #OWNED}: a VIP or FULLNAT local address; {@link #LOCAL}: one of
 * the host's own addresses or broadcast addresses):
 * <ul>
 * <li>IPv4 to an {@link #OWNED} address: redirected (the client side of every method);
 * <li>IPv4 to a {@link #LOCAL} address, or multicast / limited broadcast: passed (the
 *     host's own traffic: health checks, the control API, VRRP, connection sync);
 * <li>any other unicast IPv4: redirected. These are frames for an address that is not
 *     the host's, which the kernel would only forward (jvs turns forwarding off): NAT
 *     replies from real servers, the replies jvs expects.
 * <li>an ARP request for an {@link #OWNED} address: redirected, jvs answers it;
 * <li>everything else, other ARP included, passed (jvs learns neighbours from ARP
 *     through a small ETH_P_ARP ring beside the socket, as the TAP mode does).
 * </ul>
 * A redirect to a queue with no socket falls back to XDP_PASS (bpf_redirect_map's flags).
 *
 * <p>Attached with a BPF link in driver mode (XDP_FLAGS_DRV_MODE): the program is
 * detached when the link's fd closes, so it goes with the process however it ends,
 * kill -9 included. Generic (skb) XDP is refused: the skb it costs is what the packet
 * attachment already pays.
 */
public final class XdpRedirect implements AutoCloseable {
    /** Value in the address map: a VIP or local address jvs owns. */
    public static final int OWNED = 1;
    /** Value in the address map: an address of the host's own (passed to the kernel). */
    public static final int LOCAL = 2;
    private static final int MAX_ADDRESSES = 65536;
    private static final int MAX_QUEUES = 64;

    private final String ifname;
    private final int addrMap;
    private final int xskMap;
    private final int prog;
    private int link = -1;

    private XdpRedirect(String ifname, int addrMap, int xskMap, int prog) {
        this.ifname = ifname;
        this.addrMap = addrMap;
        this.xskMap = xskMap;
        this.prog = prog;
    }

    /** Creates the maps and loads the program (nothing attached yet); a verifier refusal carries its log. */
    public static XdpRedirect load(String ifname) throws NativeException {
        int addrs = Bpf.createMap(Bpf.MAP_TYPE_HASH, 4, 4, MAX_ADDRESSES, "jvs_addrs");
        int xsks = -1;
        try {
            xsks = Bpf.createMap(Bpf.MAP_TYPE_XSKMAP, 4, 4, MAX_QUEUES, "jvs_xsks");
            int prog = Bpf.loadXdpProgram(program(addrs, xsks).build(), "jvs_xdp");
            return new XdpRedirect(ifname, addrs, xsks, prog);
        } catch (NativeException | RuntimeException e) {
            Libc.close(addrs);
            if (xsks >= 0) {
                Libc.close(xsks);
            }
            throw e;
        }
    }

    /** Most queue indexes the XSKMAP holds (queue 0 .. MAX_QUEUES-1). */
    public static int maxQueues() {
        return MAX_QUEUES;
    }

    /**
     * The program, as described on the class. Addresses are compared as the bytes lie in
     * the frame (the map's keys are in network order, see {@link #put}).
     */
    static BpfAssembler program(int addrMapFd, int xskMapFd) {
        BpfAssembler a = new BpfAssembler();
        a.movReg(R6, R1)                                  // r6 = ctx (struct xdp_md)
                .load(W, R2, R1, 0)                       // r2 = data
                .load(W, R3, R1, 4)                       // r3 = data_end
                .movReg(R4, R2).aluImm(ADD, R4, 14)
                .jumpReg(JGT, R4, R3, "pass")             // no Ethernet header
                .load(H, R5, R2, 12)                      // EtherType, as the bytes lie (little-endian load)
                .jumpImm(JEQ, R5, 0x0008, "ipv4")         // 08 00
                .jumpImm(JEQ, R5, 0x0608, "arp")          // 08 06
                .jump("pass")

                .label("ipv4")
                .movReg(R4, R2).aluImm(ADD, R4, 34)
                .jumpReg(JGT, R4, R3, "pass")             // no IPv4 header
                .load(W, R7, R2, 30)                      // r7 = destination address
                .store(W, R10, -4, R7)
                .loadMap(R1, addrMapFd)
                .movReg(R2, R10).aluImm(ADD, R2, -4)
                .call(Bpf.FUNC_MAP_LOOKUP_ELEM)
                .jumpImm(JEQ, R0, 0, "not-listed")
                .load(W, R1, R0, 0)
                .jumpImm(JEQ, R1, LOCAL, "pass")
                .jump("redirect")
                .label("not-listed")
                .movReg(R1, R7).aluImm(AND, R1, 0xff)    // first byte of the address
                .jumpImm(JGE, R1, 224, "pass")            // multicast, limited broadcast
                .jumpImm(JEQ, R1, 0, "pass")              // 0.0.0.0/8
                .jumpImm(JEQ, R1, 127, "pass")
                .jump("redirect")

                .label("arp")
                .movReg(R4, R2).aluImm(ADD, R4, 42)
                .jumpReg(JGT, R4, R3, "pass")             // no Ethernet/IPv4 ARP body
                .load(H, R5, R2, 20)
                .jumpImm(JNE, R5, 0x0100, "pass")         // not a request (00 01)
                .load(W, R7, R2, 38)                      // target protocol address
                .store(W, R10, -4, R7)
                .loadMap(R1, addrMapFd)
                .movReg(R2, R10).aluImm(ADD, R2, -4)
                .call(Bpf.FUNC_MAP_LOOKUP_ELEM)
                .jumpImm(JEQ, R0, 0, "pass")
                .load(W, R1, R0, 0)
                .jumpImm(JNE, R1, OWNED, "pass")

                .label("redirect")
                .load(W, R2, R6, 16)                      // rx_queue_index
                .loadMap(R1, xskMapFd)
                .movImm(R3, Bpf.XDP_PASS)                 // no socket on that queue: pass
                .call(Bpf.FUNC_REDIRECT_MAP)
                .exit()

                .label("pass")
                .movImm(R0, Bpf.XDP_PASS)
                .exit();
        return a;
    }

    /** Marks an IPv4 address (host order) {@link #OWNED} or {@link #LOCAL}. */
    public void put(int addr, int kind) throws NativeException {
        Bpf.updateMap(addrMap, Integer.reverseBytes(addr), kind, "jvs_addrs on " + ifname);
    }

    /** Redirects frames of rx queue {@code queue} to the AF_XDP socket {@code xskFd}. */
    public void socket(int queue, int xskFd) throws NativeException {
        Bpf.updateMap(xskMap, queue, xskFd, "jvs_xsks on " + ifname);
    }

    /** Attaches the program to the interface in driver mode, through a BPF link. */
    public void attach(int ifindex) throws NativeException {
        link = Bpf.attachXdp(prog, ifindex, Bpf.XDP_FLAGS_DRV_MODE, ifname);
    }

    @Override
    public void close() {
        if (link >= 0) {
            Libc.close(link);
            link = -1;
        }
        Libc.close(prog);
        Libc.close(xskMap);
        Libc.close(addrMap);
    }
}
