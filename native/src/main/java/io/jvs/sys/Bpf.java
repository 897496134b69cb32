package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The bpf(2) system call through FFM ({@code syscall(SYS_bpf, cmd, &attr, size)}; glibc has
 * no wrapper): map creation and updates, program loading with the verifier's log, and BPF
 * links. Every fd returned is close-on-exec (the kernel sets O_CLOEXEC on bpf fds) and
 * owned by the caller; a link fd keeps its program attached only as long as it is open,
 * so an XDP program attached through a link goes when the process does, however it ends.
 * Control plane only: each call allocates its attr in a confined arena.
 */
public final class Bpf {
    private static final long SYS_BPF = 321;   // x86_64

    private static final int BPF_MAP_CREATE = 0;
    private static final int BPF_MAP_UPDATE_ELEM = 2;
    private static final int BPF_MAP_DELETE_ELEM = 3;
    private static final int BPF_PROG_LOAD = 5;
    private static final int BPF_PROG_TEST_RUN = 10;
    private static final int BPF_LINK_CREATE = 28;
    private static final int BPF_LINK_UPDATE = 29;

    public static final int MAP_TYPE_HASH = 1;
    public static final int MAP_TYPE_XSKMAP = 17;
    public static final int PROG_TYPE_SOCKET_FILTER = 1;
    public static final int PROG_TYPE_XDP = 6;
    public static final int PROG_TYPE_SCHED_CLS = 3;
    /** enum bpf_attach_type BPF_XDP. */
    public static final int ATTACH_XDP = 37;
    /** BPF_TCX_INGRESS: a tc program on an interface's ingress through a BPF link (kernel 6.6+). */
    public static final int ATTACH_TCX_INGRESS = 46;
    /** XDP_FLAGS_DRV_MODE: the driver's own XDP hook, no generic (skb) fallback. */
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;

    /** Helper ids (enum bpf_func_id). */
    public static final int FUNC_MAP_LOOKUP_ELEM = 1;
    public static final int FUNC_REDIRECT_MAP = 51;

    /** XDP actions. */
    public static final int XDP_DROP = 1;
    public static final int XDP_PASS = 2;
    /** A tcx program's verdicts: on to the next program of the interface (or the stack), and drop. */
    public static final int TCX_NEXT = -1;
    public static final int TCX_DROP = 2;

    private static final int LOG_SIZE = 1 << 20;

    private static final MethodHandle SYSCALL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));

    private Bpf() {
    }

    private static int bpf(Arena a, int cmd, MemorySegment attr, String what) throws NativeException {
        Libc.Errno e = new Libc.Errno(a);
        long r;
        try {
            r = (long) SYSCALL.invokeExact(e.seg, SYS_BPF, (long) cmd, attr, attr.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (r < 0) {
            throw new NativeException(what, e.get());
        }
        return (int) r;
    }

    /** BPF_MAP_CREATE; returns the map's fd. */
    public static int createMap(int type, int keySize, int valueSize, int maxEntries, String name)
            throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(72, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, keySize);
            attr.set(JAVA_INT, 8, valueSize);
            attr.set(JAVA_INT, 12, maxEntries);
            Libc.putCString(attr, 28, name, 16);
            return bpf(a, BPF_MAP_CREATE, attr, "bpf(BPF_MAP_CREATE) " + name);
        }
    }

    /** BPF_MAP_UPDATE_ELEM (BPF_ANY) with an int key (its bytes in memory order) and an int value. */
    public static void updateMap(int mapFd, int key, int value, String what) throws NativeException {
        updateMap(mapFd, intKey(key), value, what);
    }

    /** An int key as the map holds it: its bytes in memory order. */
    private static byte[] intKey(int key) {
        return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.nativeOrder()).putInt(key).array();
    }

    /** BPF_MAP_UPDATE_ELEM (BPF_ANY) with a key of the map's key size in bytes (an IPv6 address) and an int value. */
    public static void updateMap(int mapFd, byte[] key, int value, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(key.length, 8);
            MemorySegment.copy(key, 0, k, ValueLayout.JAVA_BYTE, 0, key.length);
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, value);
            MemorySegment attr = a.allocate(32, 8);
            attr.set(JAVA_INT, 0, mapFd);
            attr.set(JAVA_LONG, 8, k.address());
            attr.set(JAVA_LONG, 16, v.address());
            bpf(a, BPF_MAP_UPDATE_ELEM, attr, "bpf(BPF_MAP_UPDATE_ELEM) " + what);
        }
    }

    /** BPF_MAP_DELETE_ELEM with an int key (its bytes in memory order); false when the key was not there. */
    public static boolean deleteFromMap(int mapFd, int key, String what) throws NativeException {
        return deleteFromMap(mapFd, intKey(key), what);
    }

    /** BPF_MAP_DELETE_ELEM with a key of the map's key size in bytes; false when the key was not there. */
    public static boolean deleteFromMap(int mapFd, byte[] key, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(key.length, 8);
            MemorySegment.copy(key, 0, k, ValueLayout.JAVA_BYTE, 0, key.length);
            MemorySegment attr = a.allocate(32, 8);
            attr.set(JAVA_INT, 0, mapFd);
            attr.set(JAVA_LONG, 8, k.address());
            bpf(a, BPF_MAP_DELETE_ELEM, attr, "bpf(BPF_MAP_DELETE_ELEM) " + what);
            return true;
        } catch (NativeException e) {
            if (e.errno() == Libc.ENOENT) {
                return false;
            }
            throw e;
        }
    }

    /** The verifier refused a program: its message ends with the log's last lines. */
    public static final class VerifierException extends NativeException {
        private final String log;

        VerifierException(String what, int errno, String log) {
            super(what + " refused by the verifier [" + lastLines(log, 3) + "]", errno);
            this.log = log;
        }

        /** The verifier's whole log. */
        public String log() {
            return log;
        }
    }

    /** The last {@code n} non-empty lines of a log, joined by " | ". */
    static String lastLines(String log, int n) {
        String[] lines = log.strip().split("\n");
        int from = Math.max(0, lines.length - n);
        StringBuilder b = new StringBuilder();
        for (int i = from; i < lines.length; i++) {
            if (!b.isEmpty()) {
                b.append(" | ");
            }
            b.append(lines[i].strip());
        }
        return b.isEmpty() ? "no log" : b.toString();
    }

    /**
     * BPF_PROG_LOAD of an XDP program (GPL: bpf_redirect_map is a GPL-only helper), with
     * the verifier's log at level 1; a refusal is a {@link VerifierException} carrying it.
     */
    public static int loadXdpProgram(byte[] insns, String name) throws NativeException {
        return loadProgram(PROG_TYPE_XDP, ATTACH_XDP, insns, "XDP program " + name, name);
    }

    /** BPF_PROG_LOAD of a tc (SCHED_CLS) program for a tcx ingress link, with the verifier's log as {@link #loadXdpProgram}. */
    public static int loadTcxIngressProgram(byte[] insns, String name) throws NativeException {
        return loadProgram(PROG_TYPE_SCHED_CLS, ATTACH_TCX_INGRESS, insns, "tc program " + name, name);
    }

    /**
     * BPF_PROG_LOAD of a socket filter program (what TUNSETSTEERINGEBPF takes), with the
     * verifier's log as {@link #loadXdpProgram}.
     */
    public static int loadSocketFilter(byte[] insns, String name) throws NativeException {
        return loadProgram(PROG_TYPE_SOCKET_FILTER, 0, insns, "socket filter " + name, name);
    }

    private static int loadProgram(int type, int attachType, byte[] insns, String what, String name)
            throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment code = a.allocate(insns.length, 8);
            MemorySegment.copy(insns, 0, code, ValueLayout.JAVA_BYTE, 0, insns.length);
            MemorySegment license = a.allocateFrom("GPL");
            MemorySegment log = a.allocate(LOG_SIZE);
            MemorySegment attr = a.allocate(128, 8);
            attr.set(JAVA_INT, 0, type);
            attr.set(JAVA_INT, 4, insns.length / 8);
            attr.set(JAVA_LONG, 8, code.address());
            attr.set(JAVA_LONG, 16, license.address());
            attr.set(JAVA_INT, 24, 1);              // log_level
            attr.set(JAVA_INT, 28, LOG_SIZE);       // log_size
            attr.set(JAVA_LONG, 32, log.address()); // log_buf
            Libc.putCString(attr, 48, name, 16);    // prog_name
            attr.set(JAVA_INT, 68, attachType);     // expected_attach_type
            try {
                return bpf(a, BPF_PROG_LOAD, attr, "bpf(BPF_PROG_LOAD) " + what);
            } catch (NativeException e) {
                String text = log.getString(0, StandardCharsets.US_ASCII);
                if (text.isBlank()) {
                    throw e;
                }
                throw new VerifierException(what, e.errno(), text);
            }
        }
    }

    /** BPF_LINK_CREATE: attaches an XDP program to an interface for as long as the returned fd is open. */
    public static int attachXdp(int progFd, int ifindex, int xdpFlags, String ifname) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(64, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, ifindex);
            attr.set(JAVA_INT, 8, ATTACH_XDP);
            attr.set(JAVA_INT, 12, xdpFlags);
            return bpf(a, BPF_LINK_CREATE, attr, "bpf(BPF_LINK_CREATE) XDP on " + ifname);
        }
    }

    /**
     * BPF_LINK_CREATE: attaches a tc program to an interface's ingress (tcx, after the ETH_P_ALL
     * packet sockets have had the frame) for as long as the returned fd is open, after the
     * programs already there.
     */
    public static int attachTcxIngress(int progFd, int ifindex, String ifname) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(64, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 4, ifindex);
            attr.set(JAVA_INT, 8, ATTACH_TCX_INGRESS);
            return bpf(a, BPF_LINK_CREATE, attr, "bpf(BPF_LINK_CREATE) tcx ingress on " + ifname);
        }
    }

    /** BPF_LINK_UPDATE: the link now runs {@code progFd} (atomically: no frame goes unseen between the two). */
    public static void updateLink(int linkFd, int progFd, String what) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment attr = a.allocate(16, 8);
            attr.set(JAVA_INT, 0, linkFd);
            attr.set(JAVA_INT, 4, progFd);
            bpf(a, BPF_LINK_UPDATE, attr, "bpf(BPF_LINK_UPDATE) " + what);
        }
    }

    /**
     * BPF_PROG_TEST_RUN of an XDP or tc program on one frame (received on the loopback device,
     * rx queue 0, as the kernel sets it up without a context): the program's return value.
     */
    public static int testRun(int progFd, byte[] frame) throws NativeException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocate(frame.length, 8);
            MemorySegment.copy(frame, 0, in, ValueLayout.JAVA_BYTE, 0, frame.length);
            MemorySegment out = a.allocate(frame.length + 512L, 8);
            MemorySegment attr = a.allocate(80, 8);
            attr.set(JAVA_INT, 0, progFd);
            attr.set(JAVA_INT, 8, frame.length);            // data_size_in
            attr.set(JAVA_INT, 12, (int) out.byteSize());   // data_size_out
            attr.set(JAVA_LONG, 16, in.address());
            attr.set(JAVA_LONG, 24, out.address());
            attr.set(JAVA_INT, 32, 1);                      // repeat
            bpf(a, BPF_PROG_TEST_RUN, attr, "bpf(BPF_PROG_TEST_RUN)");
            return attr.get(JAVA_INT, 4);                   // retval
        }
    }
}
