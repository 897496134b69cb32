package io.jvs.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Dropping root: user and group lookup (getpwnam, getgrnam, getgrouplist) and the steps of giving up
 * privileges after the sockets, rings and TAP are open, through libc.
 *
 * <p>Linux keeps credentials per thread, and a JVM has many threads. {@link #switchUser} uses glibc's
 * setgroups/setresgid/setresuid, which glibc applies to every thread of the process (nptl's setxid
 * broadcast), so no thread keeps root's uid or gid. A thread whose uid leaves 0 loses its
 * capabilities then, unless it asked to keep them ({@link #keepCapabilitiesAcrossSetuid}, a per-thread
 * flag): only the threads that still need a capability ask, and afterwards {@link #limitThisThread}
 * cuts each of them down to exactly the capabilities named (effective and permitted, bounding set
 * too). No-new-privileges is also per thread; {@link #noNewPrivilegesEverywhere} sets it on the
 * calling thread and then installs an allow-everything seccomp filter with SECCOMP_FILTER_FLAG_TSYNC,
 * which the kernel applies to every thread and, since the caller has no_new_privs, sets no_new_privs
 * on each of them too: no thread can regain privileges through a set-uid or file-capability binary.
 */
public final class Privileges {
    public static final int CAP_CHOWN = 0;
    public static final int CAP_DAC_OVERRIDE = 1;
    public static final int CAP_SETGID = 6;
    public static final int CAP_SETUID = 7;
    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_NET_RAW = 13;

    private static final int PR_SET_KEEPCAPS = 8;
    private static final int PR_CAPBSET_DROP = 24;
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final long SYS_SECCOMP = 317;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle GETPWNAM = LINKER.downcallHandle(find("getpwnam"),
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle GETGRNAM = LINKER.downcallHandle(find("getgrnam"),
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle GETGROUPLIST = LINKER.downcallHandle(find("getgrouplist"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETGROUPS = LINKER.downcallHandle(find("setgroups"),
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS), ERRNO);
    private static final MethodHandle SETRESGID = LINKER.downcallHandle(find("setresgid"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle SETRESUID = LINKER.downcallHandle(find("setresuid"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO);
    private static final MethodHandle PRCTL = LINKER.downcallHandle(find("prctl"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), ERRNO);
    private static final MethodHandle CAPSET = LINKER.downcallHandle(find("capset"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle CAPGET = LINKER.downcallHandle(find("capget"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle SYSCALL3 = LINKER.downcallHandle(find("syscall"),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(1), ERRNO);
    private static final MethodHandle GETTID = LINKER.downcallHandle(find("gettid"),
            FunctionDescriptor.of(JAVA_INT));

    private Privileges() {
    }

    private static MemorySegment find(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError(name));
    }

    /** A user as the password database has it, with the groups it belongs to. */
    public record Account(String name, int uid, int gid, int[] groups) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Account a && a.name.equals(name) && a.uid == uid && a.gid == gid
                    && Arrays.equals(a.groups, groups);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + uid;
        }

        @Override
        public String toString() {
            return name + " (uid " + uid + ", gid " + gid + ", groups " + Arrays.toString(groups) + ")";
        }
    }

    /** The user called {@code name} (or a numeric uid that has an entry), with its supplementary groups. */
    public static Optional<Account> user(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pw = (MemorySegment) GETPWNAM.invokeExact(arena.allocateFrom(name));
            if (pw.equals(MemorySegment.NULL)) {
                return Optional.empty();
            }
            // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
            pw = pw.reinterpret(24);
            int uid = pw.get(JAVA_INT, 16);
            int gid = pw.get(JAVA_INT, 20);
            MemorySegment count = arena.allocateFrom(JAVA_INT, 64);
            MemorySegment groups = arena.allocate(JAVA_INT, 64);
            int n = (int) GETGROUPLIST.invokeExact(arena.allocateFrom(name), gid, groups, count);
            if (n < 0) {
                int needed = count.get(JAVA_INT, 0);
                groups = arena.allocate(JAVA_INT, needed);
                n = (int) GETGROUPLIST.invokeExact(arena.allocateFrom(name), gid, groups, count);
            }
            int[] list = groups.asSlice(0, (long) count.get(JAVA_INT, 0) * 4).toArray(JAVA_INT);
            return Optional.of(new Account(name, uid, gid, list));
        } catch (Throwable t) {
            throw new IllegalStateException("getpwnam(" + name + ")", t);
        }
    }

    /** The gid of the group called {@code name}. */
    public static Optional<Integer> group(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment gr = (MemorySegment) GETGRNAM.invokeExact(arena.allocateFrom(name));
            if (gr.equals(MemorySegment.NULL)) {
                return Optional.empty();
            }
            // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
            return Optional.of(gr.reinterpret(20).get(JAVA_INT, 16));
        } catch (Throwable t) {
            throw new IllegalStateException("getgrnam(" + name + ")", t);
        }
    }

    /** The calling thread's id (what /proc/PID/task/ lists). */
    public static int threadId() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** This thread keeps its permitted capabilities when {@link #switchUser} takes uid 0 away (PR_SET_KEEPCAPS). */
    public static void keepCapabilitiesAcrossSetuid() throws NativeException {
        prctl("PR_SET_KEEPCAPS", PR_SET_KEEPCAPS, 1);
    }

    /** Every thread of the process becomes {@code account}: groups, then gids, then uids (glibc broadcasts each). */
    public static void switchUser(Account account) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(Linker.Option.captureStateLayout());
            MemorySegment groups = account.groups.length == 0 ? MemorySegment.NULL
                    : arena.allocateFrom(JAVA_INT, account.groups);
            check("setgroups", (int) SETGROUPS.invokeExact(err, (long) account.groups.length, groups), err);
            check("setresgid", (int) SETRESGID.invokeExact(err, account.gid, account.gid, account.gid), err);
            check("setresuid", (int) SETRESUID.invokeExact(err, account.uid, account.uid, account.uid), err);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * The calling thread keeps exactly {@code caps} (numbers, e.g. {@link #CAP_NET_ADMIN}) as effective
     * and permitted capabilities and in its bounding set; nothing inheritable; PR_SET_KEEPCAPS off again.
     * Threads this one starts later inherit the same.
     */
    public static void limitThisThread(int... caps) throws NativeException {
        long mask = mask(caps);
        setCapabilities(-1L); // effective = permitted: dropping from the bounding set needs CAP_SETPCAP
        limitBoundingSet(caps);
        setCapabilities(mask);
        prctl("PR_SET_KEEPCAPS", PR_SET_KEEPCAPS, 0);
    }

    /** Drops every capability but {@code caps} from the calling thread's bounding set (needs CAP_SETPCAP). */
    public static void limitBoundingSet(int... caps) throws NativeException {
        long mask = mask(caps);
        for (int c = 0; c <= lastCap(); c++) {
            if ((mask & 1L << c) == 0) {
                prctl("PR_CAPBSET_DROP", PR_CAPBSET_DROP, c);
            }
        }
    }

    private static long mask(int... caps) {
        long mask = 0;
        for (int c : caps) {
            mask |= 1L << c;
        }
        return mask;
    }

    /** capset: effective and permitted = {@code mask} (-1: effective = the current permitted set). */
    private static void setCapabilities(long mask) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(Linker.Option.captureStateLayout());
            MemorySegment header = arena.allocate(8, 4);
            header.set(JAVA_INT, 0, LINUX_CAPABILITY_VERSION_3);
            header.set(JAVA_INT, 4, 0);
            MemorySegment data = arena.allocate(24, 4); // two {effective, permitted, inheritable}
            if (mask == -1L) {
                check("capget", (int) CAPGET.invokeExact(err, header, data), err);
                mask = Integer.toUnsignedLong(data.get(JAVA_INT, 4)) | Integer.toUnsignedLong(data.get(JAVA_INT, 16)) << 32;
            }
            data.set(JAVA_INT, 0, (int) mask);
            data.set(JAVA_INT, 4, (int) mask);
            data.set(JAVA_INT, 12, (int) (mask >>> 32));
            data.set(JAVA_INT, 16, (int) (mask >>> 32));
            data.set(JAVA_INT, 8, 0);
            data.set(JAVA_INT, 20, 0);
            check("capset", (int) CAPSET.invokeExact(err, header, data), err);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** PR_SET_NO_NEW_PRIVS on this thread, then on every thread through a TSYNC seccomp filter that allows everything. */
    public static void noNewPrivilegesEverywhere() throws NativeException {
        prctl("PR_SET_NO_NEW_PRIVS", PR_SET_NO_NEW_PRIVS, 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(Linker.Option.captureStateLayout());
            // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }: BPF_RET|BPF_K, SECCOMP_RET_ALLOW
            MemorySegment filter = arena.allocate(8, 4);
            filter.set(ValueLayout.JAVA_SHORT, 0, (short) 0x06);
            filter.set(JAVA_INT, 4, 0x7fff0000);
            // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
            MemorySegment prog = arena.allocate(16, 8);
            prog.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
            prog.set(ADDRESS, 8, filter);
            long r = (long) SYSCALL3.invokeExact(err, SYS_SECCOMP, (long) SECCOMP_SET_MODE_FILTER,
                    (long) SECCOMP_FILTER_FLAG_TSYNC, prog);
            if (r > 0) {
                throw new IllegalStateException("seccomp(TSYNC): thread " + r + " could not be synchronised");
            }
            check("seccomp", (int) r, err);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap). */
    static int lastCap() {
        try {
            return Integer.parseInt(Sysctl.get("kernel.cap_last_cap"));
        } catch (java.io.IOException | NumberFormatException e) {
            return 40; // CAP_CHECKPOINT_RESTORE, the last one since Linux 5.9
        }
    }

    private static void prctl(String what, int option, long arg) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(Linker.Option.captureStateLayout());
            check("prctl(" + what + ")", (int) PRCTL.invokeExact(err, option, arg, 0L, 0L, 0L), err);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void check(String call, int result, MemorySegment err) throws NativeException {
        if (result < 0) {
            int errno = err.get(JAVA_INT, Linker.Option.captureStateLayout().byteOffset(
                    java.lang.foreign.MemoryLayout.PathElement.groupElement("errno")));
            throw new NativeException(call, errno);
        }
    }
}
