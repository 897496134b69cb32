package io.jvs.forwarder.conn;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * FULLNAT's local port allocator: for each local address (LIP) of the
 * director, which ports of the configured range are held by a live
 * connection. A port is handed out only when no connection holds it on that
 * LIP, and held until the connection leaves the table, so the reply key
 * (real server, LIP, port) of a connection is never shared with another.
 *
 * <p>Layout: one bitmap of 65536 bits (8 KiB) per LIP ever used, found by a
 * linear scan of small arrays (a service has a handful of LIPs). A LIP is a
 * 128-bit key: an IPv4 one is (0, its 32 bits), an IPv6 one its two halves; an
 * allocator serves one family (IPv4 tables and the IPv6 table each own one),
 * so the two never meet in one allocator. A
 * round-robin cursor per LIP walks the range, so a port just released is not
 * handed out again until the cursor has gone round: the real server may still
 * hold the old connection in TIME_WAIT (it usually closes first), and a SYN
 * from the same LIP:port would then meet a challenge ACK instead of a SYN-ACK.
 * The cursor starts at a random point of the range, as the kernel's ephemeral
 * port choice does, so a restarted director does not reuse at once the ports
 * whose TIME_WAIT its predecessor left on the real servers. Sustained, this
 * bounds new connections per LIP and real server to about range / TIME_WAIT
 * (64,512 / 60 s, ~1,000 a second): more need more local addresses, as with any
 * FULLNAT. Finding a free port skips full 64-port words, so even a nearly full
 * range is scanned in at most 1024 word reads.
 *
 * <p>Invariants: a bit is set iff a live FULLNAT connection holds that port on
 * that LIP; {@link #inUse()} is the number of set bits. Allocation happens only
 * the first time a LIP is seen (its bitmap), never per connection. Event-loop
 * thread only (owned by the {@link ConnectionTable}).
 */
public final class LocalPorts {
    /** The default range: the unprivileged ports. */
    public static final int DEFAULT_LOW = 1024;
    public static final int DEFAULT_HIGH = 65535;

    private final int low;
    private final int high;
    private final RandomGenerator random;
    private long[] addrsHi = new long[4];
    private long[] addrsLo = new long[4];
    private long[][] bitmaps = new long[4][];
    private int[] cursors = new int[4];
    private int[] used = new int[4];
    private int count;
    private int inUse;

    /** Ports low..high (inclusive) on every LIP; each LIP's cursor starts at a random port. */
    public LocalPorts(int low, int high) {
        this(low, high, new SplittableRandom());
    }

    /** Tests: cursors start where this generator says (nextInt(span) from low). */
    LocalPorts(int low, int high, RandomGenerator random) {
        if (low < 1 || high > 65535 || low > high) {
            throw new IllegalArgumentException("local port range " + low + "-" + high
                    + " is not within 1-65535 with low <= high");
        }
        this.low = low;
        this.high = high;
        this.random = random;
    }

    public int low() {
        return low;
    }

    public int high() {
        return high;
    }

    /** Ports held on all LIPs together. */
    public int inUse() {
        return inUse;
    }

    /** Ports held on this LIP. */
    public int inUse(int lip) {
        return inUse(0, Integer.toUnsignedLong(lip));
    }

    /** Ports held on this (IPv6) LIP. */
    public int inUse(long lipHi, long lipLo) {
        int i = find(lipHi, lipLo);
        return i < 0 ? 0 : used[i];
    }

    /** Takes a free port on lip and returns it, or -1 when every port of the range is held there. */
    public int allocate(int lip) {
        return allocate(0, Integer.toUnsignedLong(lip));
    }

    /** As {@link #allocate(int)} for an IPv6 LIP. */
    public int allocate(long lipHi, long lipLo) {
        int i = find(lipHi, lipLo);
        if (i < 0) {
            i = add(lipHi, lipLo);
        }
        int span = high - low + 1;
        if (used[i] == span) {
            return -1;
        }
        long[] bits = bitmaps[i];
        int p = cursors[i];
        // Scan from the cursor to high, then from low: the range holds a free port.
        int port = nextFree(bits, p, high);
        if (port < 0) {
            port = nextFree(bits, low, p - 1);
        }
        bits[port >>> 6] |= 1L << port;
        used[i]++;
        inUse++;
        cursors[i] = port == high ? low : port + 1;
        return port;
    }

    /**
     * Takes this very port on lip (a connection synced from a master keeps the master's port);
     * false, and nothing taken, when it is held already or outside the range.
     */
    public boolean reserve(int lip, int port) {
        return reserve(0, Integer.toUnsignedLong(lip), port);
    }

    /** As {@link #reserve(int, int)} for an IPv6 LIP. */
    public boolean reserve(long lipHi, long lipLo, int port) {
        if (port < low || port > high) {
            return false;
        }
        int i = find(lipHi, lipLo);
        if (i < 0) {
            i = add(lipHi, lipLo);
        }
        long bit = 1L << port;
        if ((bitmaps[i][port >>> 6] & bit) != 0) {
            return false;
        }
        bitmaps[i][port >>> 6] |= bit;
        used[i]++;
        inUse++;
        return true;
    }

    /** Gives a port back. Releasing a port that is not held is a bug in the caller. */
    public void release(int lip, int port) {
        release(0, Integer.toUnsignedLong(lip), port);
    }

    /** As {@link #release(int, int)} for an IPv6 LIP. */
    public void release(long lipHi, long lipLo, int port) {
        int i = find(lipHi, lipLo);
        long bit = 1L << port;
        if (i < 0 || (bitmaps[i][port >>> 6] & bit) == 0) {
            throw new IllegalStateException("local port " + port + " released but not held");
        }
        bitmaps[i][port >>> 6] &= ~bit;
        used[i]--;
        inUse--;
    }

    /** True when the port is held on lip. */
    public boolean held(int lip, int port) {
        return held(0, Integer.toUnsignedLong(lip), port);
    }

    /** As {@link #held(int, int)} for an IPv6 LIP. */
    public boolean held(long lipHi, long lipLo, int port) {
        int i = find(lipHi, lipLo);
        return i >= 0 && (bitmaps[i][port >>> 6] & 1L << port) != 0;
    }

    /** First port in [from, to] whose bit is clear, or -1. */
    private static int nextFree(long[] bits, int from, int to) {
        int p = from;
        while (p <= to) {
            long w = ~bits[p >>> 6] & (-1L << (p & 63));
            if (w != 0) {
                int q = (p & ~63) + Long.numberOfTrailingZeros(w);
                return q <= to ? q : -1;
            }
            p = (p & ~63) + 64;
        }
        return -1;
    }

    private int find(long lipHi, long lipLo) {
        for (int i = 0; i < count; i++) {
            if (addrsLo[i] == lipLo && addrsHi[i] == lipHi) {
                return i;
            }
        }
        return -1;
    }

    private int add(long lipHi, long lipLo) {
        if (count == addrsLo.length) {
            int n = count * 2;
            addrsHi = Arrays.copyOf(addrsHi, n);
            addrsLo = Arrays.copyOf(addrsLo, n);
            bitmaps = Arrays.copyOf(bitmaps, n);
            cursors = Arrays.copyOf(cursors, n);
            used = Arrays.copyOf(used, n);
        }
        addrsHi[count] = lipHi;
        addrsLo[count] = lipLo;
        bitmaps[count] = new long[1024];
        cursors[count] = low + random.nextInt(high - low + 1);
        used[count] = 0;
        return count++;
    }
}
