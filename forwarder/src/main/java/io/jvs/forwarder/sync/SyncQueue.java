package io.jvs.forwarder.sync;

import io.jvs.packet.SyncEntry;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded single-producer single-consumer ring of sync entries (IPv4 and IPv6) held as ints: the data path
 * hands entries to the sender thread through one (master), the receiver thread hands them to the
 * data path through another (backup). {@link #offer} never blocks and never allocates: a full ring
 * refuses and the caller counts the drop.
 */
final class SyncQueue {
    private static final int WIDTH = 42;

    private final int[] slots;
    private final int mask;
    /** Next slot to read (consumer) and to write (producer); published with release/acquire. */
    private final AtomicLong head = new AtomicLong();
    private final AtomicLong tail = new AtomicLong();

    SyncQueue(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("sync queue capacity " + capacity + " is not a power of two");
        }
        slots = new int[capacity * WIDTH];
        mask = capacity - 1;
    }

    int capacity() {
        return mask + 1;
    }

    int size() {
        return (int) (tail.getAcquire() - head.getAcquire());
    }

    /** Producer: copies e in; false when full. */
    boolean offer(SyncEntry e) {
        long t = tail.getPlain();
        if (t - head.getAcquire() > mask) {
            return false;
        }
        int b = (int) (t & mask) * WIDTH;
        int[] s = slots;
        s[b] = e.protocol;
        s[b + 1] = e.flags;
        s[b + 2] = e.state;
        s[b + 3] = e.cport;
        s[b + 4] = e.vport;
        s[b + 5] = e.dport;
        s[b + 6] = e.fwmark;
        s[b + 7] = (int) Math.min(e.timeout, Integer.MAX_VALUE);
        s[b + 8] = e.caddr;
        s[b + 9] = e.vaddr;
        s[b + 10] = e.daddr;
        s[b + 11] = e.hasFullNat ? 1 : 0;
        s[b + 12] = e.localAddr;
        s[b + 13] = e.localPort;
        s[b + 14] = e.fullNatFlags;
        s[b + 15] = e.seqBase;
        s[b + 16] = e.seqDelta;
        s[b + 17] = e.tsDelta;
        s[b + 18] = e.hasSynProxy ? e.spState : 0;
        s[b + 19] = e.spSeq;
        s[b + 20] = e.spTs;
        s[b + 21] = e.spClientIsn;
        s[b + 22] = e.spOptions;
        s[b + 23] = e.spClientWindow;
        s[b + 24] = e.spWinShift;
        s[b + 25] = e.type;
        putLong(s, b + 26, e.caddrHi);
        putLong(s, b + 28, e.caddrLo);
        putLong(s, b + 30, e.vaddrHi);
        putLong(s, b + 32, e.vaddrLo);
        putLong(s, b + 34, e.daddrHi);
        putLong(s, b + 36, e.daddrLo);
        putLong(s, b + 38, e.localAddrHi);
        putLong(s, b + 40, e.localAddrLo);
        tail.setRelease(t + 1);
        return true;
    }

    /** Consumer: copies the oldest entry into e; false when empty. */
    boolean poll(SyncEntry e) {
        long h = head.getPlain();
        if (h == tail.getAcquire()) {
            return false;
        }
        int b = (int) (h & mask) * WIDTH;
        int[] s = slots;
        e.clear();
        e.protocol = s[b];
        e.flags = s[b + 1];
        e.state = s[b + 2];
        e.cport = s[b + 3];
        e.vport = s[b + 4];
        e.dport = s[b + 5];
        e.fwmark = s[b + 6];
        e.timeout = s[b + 7];
        e.caddr = s[b + 8];
        e.vaddr = s[b + 9];
        e.daddr = s[b + 10];
        e.hasFullNat = s[b + 11] != 0;
        e.localAddr = s[b + 12];
        e.localPort = s[b + 13];
        e.fullNatFlags = s[b + 14];
        e.seqBase = s[b + 15];
        e.seqDelta = s[b + 16];
        e.tsDelta = s[b + 17];
        e.hasSynProxy = s[b + 18] != 0;
        e.spState = s[b + 18];
        e.spSeq = s[b + 19];
        e.spTs = s[b + 20];
        e.spClientIsn = s[b + 21];
        e.spOptions = s[b + 22];
        e.spClientWindow = s[b + 23];
        e.spWinShift = s[b + 24];
        e.type = s[b + 25];
        e.caddrHi = getLong(s, b + 26);
        e.caddrLo = getLong(s, b + 28);
        e.vaddrHi = getLong(s, b + 30);
        e.vaddrLo = getLong(s, b + 32);
        e.daddrHi = getLong(s, b + 34);
        e.daddrLo = getLong(s, b + 36);
        e.localAddrHi = getLong(s, b + 38);
        e.localAddrLo = getLong(s, b + 40);
        head.setRelease(h + 1);
        return true;
    }

    private static void putLong(int[] s, int i, long v) {
        s[i] = (int) (v >>> 32);
        s[i + 1] = (int) v;
    }

    private static long getLong(int[] s, int i) {
        return ((long) s[i] << 32) | (s[i + 1] & 0xFFFF_FFFFL);
    }
}
