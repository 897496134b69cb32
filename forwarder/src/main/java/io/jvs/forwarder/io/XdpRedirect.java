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
import static io.jvs.sys.BpfAssembler.MOD;
import static io.jvs.sys.BpfAssembler.MOV;
import static io.jvs.sys.BpfAssembler.MUL;
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
 * <p>With N workers every rx queue has N sockets (all sharing that queue's UMEM), and the
 * XSKMAP is keyed by {@code queue * N + worker}: a redirected IPv4 frame goes to the worker
 * {@link FanoutProgram}'s classic program picks (translated in here, run on the frame's IPv4
 * header: hash(source) to a VIP, the port's slice to a FULLNAT local address,
 * hash(destination) otherwise), an ARP request to worker 0, as the packet attachment's
 * fanout gives them. The program holds the published VIPs and local addresses, so the
 * director replaces it on every publication ({@link #update}, BPF_LINK_UPDATE: atomic, no
 * frame between two programs). An XSK socket receives only from the queue it is bound to,
 * hence a socket per (queue, worker) rather than a socket per worker.
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
    /** The test variant's return for a frame it would redirect to XSKMAP index i: REDIRECTED + i. */
    static final int REDIRECTED = 1000;
    /** SKF_AD_OFF + SKF_AD_PROTOCOL. */
    private static final int AD_PROTOCOL = -0x1000;
    /** SKF_NET_OFF. */
    private static final int NET = -0x100000;

    private final String ifname;
    private final int addrMap;
    private final int xskMap;
    private final int workers;
    /** The addresses put {@link #LOCAL} (the host's): a released VIP that is one goes back to LOCAL. */
    private final java.util.Set<Integer> local = new java.util.HashSet<>();
    private int prog;
    private int link = -1;

    private XdpRedirect(String ifname, int addrMap, int xskMap, int workers, int prog) {
        this.ifname = ifname;
        this.addrMap = addrMap;
        this.xskMap = xskMap;
        this.workers = workers;
        this.prog = prog;
    }

    /**
     * Creates the maps (an XSKMAP of {@code rxQueues * workers} sockets) and loads the
     * program; {@code fanout}: the {@link FanoutProgram} of the current table when
     * {@code workers > 1}, else null.
     */
    public static XdpRedirect load(String ifname, int rxQueues, int workers, long[] fanout) throws NativeException {
        int addrs = Bpf.createMap(Bpf.MAP_TYPE_HASH, 4, 4, MAX_ADDRESSES, "jvs_addrs");
        int xsks = -1;
        try {
            xsks = Bpf.createMap(Bpf.MAP_TYPE_XSKMAP, 4, 4, rxQueues * workers, "jvs_xsks");
            int prog = Bpf.loadXdpProgram(program(addrs, xsks, workers, fanout, false).build(), "jvs_xdp");
            return new XdpRedirect(ifname, addrs, xsks, workers, prog);
        } catch (NativeException | RuntimeException e) {
            Libc.close(addrs);
            if (xsks >= 0) {
                Libc.close(xsks);
            }
            throw e;
        }
    }

    /** Most rx queues of an interface jvs binds (queue 0 .. MAX_QUEUES-1). */
    public static int maxQueues() {
        return MAX_QUEUES;
    }

    /**
     * The program, as described on the class, for {@code workers} workers ({@code fanout}: the classic fanout program,
     * when more than one). {@code test}: instead of redirecting, return
     * {@link #REDIRECTED} + the XSKMAP index (BPF_PROG_TEST_RUN cannot show where a
     * redirect went); everything before the redirect is the same instructions. Addresses
     * are compared as the bytes lie in the frame (the map's keys are in network order, see
     * {@link #put}).
     */
    static BpfAssembler program(int addrMapFd, int xskMapFd, int workers, long[] fanout, boolean test) {
        if (workers > 1 && fanout == null) {
            throw new IllegalArgumentException("workers " + workers + " without a fanout program");
        }
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

                .label("redirect");
        if (workers > 1) {
            // the worker: ARP (and anything not IPv4) to worker 0, IPv4 by the fanout program
            a.load(W, R2, R6, 0).load(W, R3, R6, 4)
                    .movReg(R4, R2).aluImm(ADD, R4, 14)
                    .jumpReg(JGT, R4, R3, "worker0")
                    .load(H, R5, R2, 12)
                    .jumpImm(JNE, R5, 0x0008, "worker0");
            fanout(a, fanout);
            a.label("worker0").movImm(R0, 0)
                    .label("worker")
                    .alu32Imm(MOD, R0, workers)           // as the fanout takes it modulo the group's members
                    .load(W, R2, R6, 16)                  // rx_queue_index
                    .alu32Imm(MUL, R2, workers)
                    .alu32Reg(ADD, R2, R0);
        } else {
            a.load(W, R2, R6, 16);                        // rx_queue_index
        }
        if (test) {
            a.movReg(R0, R2).aluImm(ADD, R0, REDIRECTED).exit();
        } else {
            a.loadMap(R1, xskMapFd)
                    .movImm(R3, Bpf.XDP_PASS)             // no socket at that index: pass
                    .call(Bpf.FUNC_REDIRECT_MAP)
                    .exit();
        }
        a.label("pass")
                .movImm(R0, Bpf.XDP_PASS)
                .exit();
        return a;
    }

    /**
     * The classic fanout program translated in line for an XDP frame whose IPv4 header
     * starts at byte 14 (checked before: EtherType 0x0800, untagged), as
     * {@link TapSteering} translates it for a TAP: A in r0, X in r7, 32-bit arithmetic and
     * unsigned 32-bit comparisons. The differences are XDP's: a classic load becomes a
     * bounds-checked direct packet read made big-endian (out of the frame, classic BPF ends
     * the program with 0: here worker 0), skb-&gt;protocol is 0x0800 (only IPv4 gets here),
     * and a return jumps to "worker" with its value in r0 instead of leaving the program.
     */
    private static void fanout(BpfAssembler a, long[] classic) {
        a.movImm(R0, 0).movImm(R7, 0);                    // classic BPF starts with A = X = 0
        boolean[] reachable = TapSteering.reachable(classic);
        for (int i = 0; i < classic.length; i++) {
            if (!reachable[i]) {
                continue;
            }
            long insn = classic[i];
            int code = (int) (insn & 0xffff);
            int jt = (int) (insn >>> 16 & 0xff);
            int jf = (int) (insn >>> 24 & 0xff);
            int k = (int) (insn >>> 32);
            a.label("f" + i);
            switch (code & 0x07) {
                case 0x00 -> {                            // LD
                    int size = code & 0x18;
                    int mode = code & 0xe0;
                    if (mode == 0x20 && k == AD_PROTOCOL) {
                        a.movImm(R0, 0x0800);
                    } else if ((mode == 0x20 || mode == 0x40) && k >= NET && k < NET + 0x10000) {
                        int bytes = size == W ? 4 : size == H ? 2 : 1;
                        a.load(W, R2, R6, 0).load(W, R3, R6, 4).movReg(R4, R2);
                        if (mode == 0x40) {
                            a.aluReg(ADD, R4, R7);
                        }
                        a.aluImm(ADD, R4, 14 + k - NET)
                                .movReg(R5, R4).aluImm(ADD, R5, bytes)
                                .jumpReg(JGT, R5, R3, "worker0")
                                .load(size, R0, R4, 0);
                        if (bytes > 1) {
                            a.toBigEndian(R0, bytes * 8);
                        }
                    } else {
                        throw new IllegalArgumentException("classic BPF load 0x" + Integer.toHexString(code) + " at " + i);
                    }
                }
                case 0x04 -> {                            // ALU
                    int op = code & 0xf0;
                    if ((code & 0x08) != 0) {
                        a.alu32Reg(op, R0, R7);
                    } else {
                        a.alu32Imm(op, R0, k);
                    }
                }
                case 0x05 -> {                            // JMP
                    int op = code & 0xf0;
                    if (op == 0x00) {
                        a.jump("f" + (i + 1 + k));
                    } else if ((code & 0x08) != 0) {
                        throw new IllegalArgumentException("classic BPF jump against X at " + i);
                    } else {
                        a.jump32Imm(op, R0, k, "f" + (i + 1 + jt));
                        if (jf != 0) {
                            a.jump("f" + (i + 1 + jf));
                        }
                    }
                }
                case 0x06 -> {                            // RET
                    if ((code & 0x18) != 0x10) {
                        a.alu32Imm(MOV, R0, k);
                    }
                    a.jump("worker");
                }
                case 0x07 -> {                            // MISC
                    if ((code & 0xf8) == 0x00) {
                        a.alu32Reg(MOV, R7, R0);
                    } else if ((code & 0xf8) == 0x80) {
                        a.alu32Reg(MOV, R0, R7);
                    } else {
                        throw new IllegalArgumentException("classic BPF misc 0x" + Integer.toHexString(code) + " at " + i);
                    }
                }
                default -> throw new IllegalArgumentException("classic BPF 0x" + Integer.toHexString(code) + " at " + i);
            }
        }
    }

    /**
     * Replaces the program by one for {@code fanout} (a new table's fanout program; several
     * workers only): loaded, then swapped in on the link; the old one is closed.
     */
    public void update(long[] fanout) throws NativeException {
        int next = Bpf.loadXdpProgram(program(addrMap, xskMap, workers, fanout, false).build(), "jvs_xdp");
        if (link >= 0) {
            try {
                Bpf.updateLink(link, next, "XDP on " + ifname);
            } catch (NativeException e) {
                Libc.close(next);
                throw e;
            }
        }
        Libc.close(prog);
        prog = next;
    }

    /** Marks an IPv4 address (host order) {@link #OWNED} or {@link #LOCAL}. */
    public void put(int addr, int kind) throws NativeException {
        Bpf.updateMap(addrMap, Integer.reverseBytes(addr), kind, "jvs_addrs on " + ifname);
        if (kind == LOCAL) {
            local.add(addr);
        }
    }

    /**
     * An address jvs no longer owns (its last service gone): {@link #LOCAL} again if it was one of
     * the host's, otherwise out of the map, so its frames pass to the kernel as before jvs owned it.
     */
    public void release(int addr) throws NativeException {
        if (local.contains(addr)) {
            put(addr, LOCAL);
        } else {
            Bpf.deleteFromMap(addrMap, Integer.reverseBytes(addr), "jvs_addrs on " + ifname);
        }
    }

    /**
     * What the program does with {@code frame} arriving on queue 0, on this object's maps as they
     * are now: XDP_PASS, or {@link #REDIRECTED} + the XSKMAP index (its test variant, run by the
     * kernel with BPF_PROG_TEST_RUN; no fanout program).
     */
    int decision(byte[] frame) throws NativeException {
        int test = Bpf.loadXdpProgram(program(addrMap, xskMap, workers, null, true).build(), "jvs_xdp_test");
        try {
            return Bpf.testRun(test, frame);
        } finally {
            Libc.close(test);
        }
    }

    /** Redirects worker {@code worker}'s frames of rx queue {@code queue} to the AF_XDP socket {@code xskFd}. */
    public void socket(int queue, int worker, int xskFd) throws NativeException {
        Bpf.updateMap(xskMap, queue * workers + worker, xskFd, "jvs_xsks on " + ifname);
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
