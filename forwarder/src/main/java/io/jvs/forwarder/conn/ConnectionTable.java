package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

import java.security.SecureRandom;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The IPVS connection table: 5-tuple to real server, TCP state and expiry, with the kernel's
 * accounting (ip_vs_conn.c ip_vs_conn_new / ip_vs_bind_dest / ip_vs_unbind_dest,
 * ip_vs_proto_tcp.c set_tcp_state, ip_vs_proto_udp.c udp_state_transition).
 *
 * <h2>Threading</h2>
 * Single-threaded by contract: only the event-loop thread that owns the table may call any
 * method, including {@link #forEach} (the control plane submits a task to that loop). There is
 * no locking and no memory fence. The {@link DestStats} it writes are published to other
 * threads by DestStats itself.
 *
 * <h2>Layout</h2>
 * Entries live in parallel primitive arrays indexed by an entry id in [0, capacity); ids are
 * recycled through a LIFO free stack. Two open-addressing indexes with linear probing map keys
 * to ids:
 * <ul>
 *   <li>IN: (proto, client addr, client port, vaddr, vport): packets from clients;</li>
 *   <li>OUT: (proto, daddr, dport, laddr, lport): replies from real servers. laddr:lport is
 *       the address the real server sees as its peer: the client's for NAT (so the key is
 *       the kernel's (daddr, dport, caddr, cport)), a local address of the director and a
 *       port from {@link LocalPorts} for FULLNAT. Several NAT entries may share an OUT key
 *       (one client port to two VIPs on the same real server); lookupOut returns one of them,
 *       as the kernel's ip_vs_conn_out_get does, but never a DR or TUN entry (which has an
 *       OUT key too) when an entry that sees replies has the same key. FULLNAT keys are
 *       unique: the local port is held for the entry's lifetime.</li>
 * </ul>
 * An index slot is a long: the key's 32-bit hash in the high half (a fingerprint, compared
 * before the entry is touched) and id + 1 in the low half (0 = empty). Each index has a
 * power-of-two size of at least 2 * capacity, so the load factor is at most 1/2 and a probe
 * always ends at an empty slot. Deletion is by backward shift (no tombstones): the home slot of
 * every slot is recomputed from its stored hash. The hash is seeded per table from
 * SecureRandom, so which keys share a probe chain cannot be worked out from the keys alone.
 *
 * <p>Why not Caffeine (the usual choice for a bounded map with expiry): a Caffeine cache allocates a node (and here a key
 * object) per insert and does its own eviction, while this table must not allocate on insert and
 * must never evict a live connection (a full table refuses, as IPVS does when it cannot allocate).
 * Measured on this machine (JDK 25, 2^20 capacity, 700k live, random keys, so DRAM-bound):
 * insert ~220 ns, lookupIn hit ~120 ns, miss ~40 ns, lookupIn + update ~150 ns.
 *
 * <h2>Memory per connection</h2>
 * Entry arrays: addrs 8 + ports 8 + daddr 4 + expiry 8 + state 1 + flags 1 + two references
 * 4 + 4 (compressed oops) + controlling template 4 + free stack 4 = 46 bytes; FULLNAT's laddr 4
 * + lport 2 + seqBase 4 + seqDelta 4 + tsDelta 4 (kept for every entry, so the OUT key is
 * uniform) = 64 bytes; the SYN proxy's state 1 + window shift 1 + option bits 2 + client window 2
 * + client ISN 4 + sequence delta 4 + timestamp delta 4 + held slot 4 = 22 bytes (every entry too);
 * the SYN flood defence's claim serial 4, the per-client-limit flag 1 and the embryonic-reclaim
 * ring 8..16 (a long per entry, rounded up to a power of two) = 99..107 bytes. Indexes: 2 x 8
 * bytes x (2..4) slots per entry = 32..64 bytes (32 when the capacity is a power of two). Total
 * 131 bytes per connection at a power-of-two capacity, at most 171 bytes otherwise. The
 * persistence templates ({@link PersistenceTable}, a quarter of the capacity at 60 bytes each)
 * add 15 bytes: 146 bytes
 * per connection in all at a power-of-two capacity (+8 without compressed
 * oops), allocated up front; see {@link #footprintBytes()}. The FULLNAT port bitmaps
 * ({@link LocalPorts}) add 8 KiB per local address.
 *
 * <h2>Invariants</h2>
 * <ul>
 *   <li>An id is live iff its USED flag is set; live ids are in both indexes exactly once,
 *       free ids in neither and on the free stack exactly once.</li>
 *   <li>Each live entry is counted exactly once in its real server's DestStats: in inactconns
 *       while its INACTIVE flag is set, else in activeconns.</li>
 *   <li>size() live entries never exceed capacity(); a full table refuses inserts and never
 *       evicts a live entry.</li>
 *   <li>An entry whose expiry time has passed is never returned: a lookup that meets one
 *       removes it (with the same accounting as the sweep) and reports a miss. Until the sweep
 *       or a lookup reaches it, it still occupies a slot and still counts in its real server's
 *       connection counts (the kernel's per-connection timers are exact); size the sweep so a
 *       full pass takes about a second (see {@link #expire}).</li>
 *   <li>No allocation in lookup, insert, update, expire or remove.</li>
 * </ul>
 * Times are {@link System#nanoTime()}-style nanoseconds, compared by subtraction.
 */
public final class ConnectionTable extends ConnectionSlots implements ConnectionEntries {
    /** Largest capacity: indexes of 2^29 longs each. */
    public static final int MAX_CAPACITY = 1 << 28;

    /** ip_vs_conn_new's initial timeout (3*HZ), until the first packet's state transition. */
    public static final long INITIAL_TIMEOUT_NANOS = 3_000_000_000L;

    // F_USED = 1 and F_INACTIVE = 2 (IP_VS_CONN_F_INACTIVE: counted in inactconns) are ConnectionSlots'
    /** IP_VS_CONN_F_NOOUTPUT: no reply seen yet; input packets use the INPUT-ONLY table. */
    private static final int F_NOOUTPUT = 4;
    /** FULLNAT: the entry holds lport on laddr in {@link LocalPorts}. */
    private static final int F_LOCAL_PORT = 8;
    /** FULLNAT PROXY v2: the real server has acknowledged the injected header. */
    private static final int F_PROXY_ACKED = 16;
    /** FULLNAT TOA: the option went out on the client's handshake ACK. */
    private static final int F_TOA_ON_ACK = 32;
    /** FULLNAT TCP: the sequence (and timestamp) offsets towards the real server are set. */
    private static final int F_SEQ_SET = 64;
    /** IP_VS_CONN_F_SYNC: installed (or last updated) from a master's sync message. */
    private static final int F_SYNCED = 128;

    /** {@link #insert} result: the table is full. */
    public static final int FULL = -1;
    /** {@link #insert} result: FULLNAT, and no local address of the service has a free port. */
    public static final int NO_LOCAL_PORT = -2;
    /** {@link #insertSynced} result: the synced FULLNAT local port is held by another entry here. */
    public static final int LOCAL_PORT_TAKEN = -3;

    private static final long OUT_SALT = 0x5851F42D4C957F2DL;

    // ---- entries, indexed by id ----
    /** caddr << 32 | vaddr. */
    private final long[] addrs;
    /** proto << 48 | cport << 32 | vport << 16 | dport. */
    private final long[] ports;
    private final int[] daddrs;
    /** The real server's peer: client address and port, or FULLNAT's local address and port. */
    private final int[] laddrs;
    private final char[] lports;
    /** FULLNAT PROXY v2: the client's first data sequence number (SYN's seq + 1). */
    private final int[] seqBases;
    private final int[] seqDeltas;
    private final int[] tsDeltas;
    // SYN proxy (a --synproxy service's connections; see SynProxy in xmit): 0 for any other.
    private final byte[] spStates;
    private final byte[] spWinShifts;
    private final char[] spOpts;
    private final char[] spClientWins;
    private final int[] spClientIsns;
    private final int[] spSeqDeltas;
    private final int[] spTsDeltas;
    private final int[] spHeld;
    /** Persistence templates, a quarter of the capacity (one per client network, not per connection). */
    private final PersistenceTable templates;


    // ---- indexes ----
    private final long seed;
    /** -1 and 0 except in tests, which squeeze hashes into a few chosen home slots. */
    private final int hashMask;
    private final int hashBias;

    private final LongSupplier clock;
    private final LocalPorts localPorts;
    private Timeouts timeouts;
    /** secure_tcp: TCP transitions use the kernel's tcp_states_dos[] (set by {@link Defense}). */
    private boolean secureTcp;


    /** A table whose time-less lookups read {@link System#nanoTime()}. */
    public ConnectionTable(int capacity, Timeouts timeouts) {
        this(capacity, timeouts, System::nanoTime);
    }

    /**
     * A table whose time-less lookups ({@link #lookupIn(int, int, int, int, int)},
     * {@link #lookupOut(int, int, int, int, int)}) read this clock, e.g. the event loop's
     * cached time of the current read burst, or a fake clock in tests.
     */
    public ConnectionTable(int capacity, Timeouts timeouts, LongSupplier clock) {
        this(capacity, timeouts, clock, new LocalPorts(LocalPorts.DEFAULT_LOW, LocalPorts.DEFAULT_HIGH));
    }

    /** As above, with FULLNAT local ports taken from this allocator. */
    public ConnectionTable(int capacity, Timeouts timeouts, LongSupplier clock, LocalPorts localPorts) {
        this(capacity, timeouts, clock, localPorts, 0);
    }

    /**
     * As above, the table of worker {@code worker} ({@code --workers}): its accounting goes to
     * that worker's share of each {@link io.jvs.forwarder.service.DestStats}.
     */
    public ConnectionTable(int capacity, Timeouts timeouts, LongSupplier clock, LocalPorts localPorts, int worker) {
        this(capacity, timeouts, clock, new SecureRandom().nextLong(), -1, 0, localPorts, worker);
    }

    /** Tests: a fixed seed, and hashes forced to (h &amp; hashMask) | hashBias to build long chains. */
    ConnectionTable(int capacity, Timeouts timeouts, LongSupplier clock, long seed, int hashMask, int hashBias) {
        this(capacity, timeouts, clock, seed, hashMask, hashBias,
                new LocalPorts(LocalPorts.DEFAULT_LOW, LocalPorts.DEFAULT_HIGH));
    }

    ConnectionTable(int capacity, Timeouts timeouts, LongSupplier clock, long seed, int hashMask, int hashBias,
                    LocalPorts localPorts) {
        this(capacity, timeouts, clock, seed, hashMask, hashBias, localPorts, 0);
    }

    private ConnectionTable(int capacity, Timeouts timeouts, LongSupplier clock, long seed, int hashMask,
                            int hashBias, LocalPorts localPorts, int worker) {
        super(capacity, worker, seed, "connection table");
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.localPorts = Objects.requireNonNull(localPorts, "localPorts");
        this.seed = seed;
        this.hashMask = hashMask;
        this.hashBias = hashBias;
        addrs = new long[capacity];
        ports = new long[capacity];
        daddrs = new int[capacity];
        laddrs = new int[capacity];
        lports = new char[capacity];
        seqBases = new int[capacity];
        seqDeltas = new int[capacity];
        tsDeltas = new int[capacity];
        spStates = new byte[capacity];
        spWinShifts = new byte[capacity];
        spOpts = new char[capacity];
        spClientWins = new char[capacity];
        spClientIsns = new int[capacity];
        spSeqDeltas = new int[capacity];
        spTsDeltas = new int[capacity];
        spHeld = new int[capacity];
        templates = new PersistenceTable(Math.max(16, capacity / 4), worker);
    }

    // ------------------------------------------------------------------ configuration

    public Timeouts timeouts() {
        return timeouts;
    }

    /**
     * Replaces the timeouts. As in the kernel (cp->timeout is reloaded from the timeout table
     * on every state transition), existing entries keep their expiry time until their next
     * packet.
     */
    public void setTimeouts(Timeouts timeouts) {
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
    }

    /** secure_tcp: TCP state transitions use tcp_states_dos[] from now on (or the normal tables again). */
    public void setSecureTcp(boolean on) {
        secureTcp = on;
    }

    public boolean secureTcp() {
        return secureTcp;
    }

    /** Bytes held by this table's arrays (references counted as 4 bytes: compressed oops). */
    public long footprintBytes() {
        long perEntry = 8 + 8 + 4 + 4 + 2 + 4 + 4 + 4 + 8 + 1 + 1 + 4 + 4 + 4 + 4
                + 1 + 1 + 2 + 2 + 4 + 4 + 4 + 4 // SYN proxy
                + 4 + 1; // claim serial, per-client-limit flag
        return perEntry * capacity + indexBytes() + templates.footprintBytes();
    }

    // ------------------------------------------------------------------ lookups

    /** The live entry for a client packet, or -1. Reads the table's clock for expiry. */
    public int lookupIn(int proto, int caddr, int cport, int vaddr, int vport) {
        return lookupIn(proto, caddr, cport, vaddr, vport, clock.getAsLong());
    }

    /** The live entry for a client packet at time nowNanos, or -1. Allocation-free. */
    public int lookupIn(int proto, int caddr, int cport, int vaddr, int vport, long nowNanos) {
        final long a = addrKey(caddr, vaddr);
        final long p = inPortKey(proto, cport, vport);
        final int h = hash(a, p);
        for (;;) {
            final int id = probeIn(h, a, p);
            if (id < 0 || nowNanos - expires[id] < 0) {
                return id;
            }
            removeEntry(id); // expired before the sweep reached it
        }
    }

    /** The live entry for a real server's reply, or -1. Reads the table's clock for expiry. */
    public int lookupOut(int proto, int daddr, int dport, int laddr, int lport) {
        return lookupOut(proto, daddr, dport, laddr, lport, clock.getAsLong());
    }

    /**
     * The live entry for a real server's reply (from daddr:dport to laddr:lport: the client
     * for NAT, a local address for FULLNAT) at time nowNanos, or -1. Allocation-free.
     */
    public int lookupOut(int proto, int daddr, int dport, int laddr, int lport, long nowNanos) {
        final long a = addrKey(daddr, laddr);
        final long p = outPortKey(proto, dport, lport);
        final int h = hash(a, p ^ OUT_SALT);
        for (;;) {
            final int id = probeOut(h, daddr, laddr, p);
            if (id < 0 || nowNanos - expires[id] < 0) {
                return id;
            }
            removeEntry(id);
        }
    }

    private int probeIn(int h, long a, long p) {
        final long[] t = inIndex;
        final int m = indexMask;
        int i = h & m;
        long s;
        while ((s = t[i]) != 0) {
            if ((int) (s >>> 32) == h) {
                final int id = (int) s - 1;
                if (addrs[id] == a && (ports[id] >>> 16) == p) {
                    return id;
                }
            }
            i = (i + 1) & m;
        }
        return -1;
    }

    /**
     * The entry a reply with this OUT key belongs to. A DR or TUN entry has an OUT key too (the
     * real server and the client's address and port), and it can equal a NAT entry's when one
     * client port reaches the same real server port through two VIPs, one DR and one NAT (found
     * by the soak: the NAT reply went to the DR entry and was lost). An entry whose method sees
     * replies (NAT, FULLNAT) is preferred; a DR/TUN entry is the answer only when no such entry
     * has the key. Among entries of one kind the newest claim wins, as in the kernel, whose
     * ip_vs_conn_out_get takes the first hit of a bucket that ip_vs_conn_hash fills at its head:
     * one client port reused through a second NAT VIP to the same server port while the first
     * connection is still in TIME_WAIT belongs to the second.
     */
    private int probeOut(int h, int daddr, int laddr, long p) {
        final long[] t = outIndex;
        final int m = indexMask;
        int i = h & m;
        long s;
        int seesReplies = -1;
        int inputOnly = -1;
        while ((s = t[i]) != 0) {
            if ((int) (s >>> 32) == h) {
                final int id = (int) s - 1;
                if (daddrs[id] == daddr && laddrs[id] == laddr && outPortKey(id) == p) {
                    if (dests[id].method.seesReplies()) {
                        seesReplies = newer(seesReplies, id);
                    } else {
                        inputOnly = newer(inputOnly, id);
                    }
                }
            }
            i = (i + 1) & m;
        }
        return seesReplies >= 0 ? seesReplies : inputOnly;
    }


    // ------------------------------------------------------------------ insert / update / remove

    /**
     * Creates the entry for a newly scheduled connection (ip_vs_conn_new + ip_vs_bind_dest +
     * ip_vs_conn_stats) and returns its id, or -1 when the table is full (live entries are never
     * evicted).
     *
     * <p>The entry starts in state NONE (UDP: state 0 too), counted in the real server's
     * inactconns, with the kernel's initial 3-second expiry; call {@link #update} for the packet
     * that created it, as ip_vs_in does. Connections to a real server whose replies do not pass
     * the director (DR, TUN) start flagged "no output seen" (IP_VS_CONN_F_NOOUTPUT, set by
     * __ip_vs_update_dest for every method but masquerading), so their client packets use the
     * INPUT-ONLY table; NAT and FULLNAT use INPUT from the first packet. conns is counted on the
     * real server's and the service's DestStats. If the real server has an upper threshold and
     * its active + inactive connections reach it, it is marked overloaded.
     *
     * <p>FULLNAT: the entry also takes a local address of the service and a free port on it
     * ({@link LocalPorts}), trying the service's local addresses in turn from one picked by
     * a hash of the client; it holds the port until it leaves the table. When none has a free
     * port the result is {@link #NO_LOCAL_PORT} and nothing changed.
     *
     * <p>Precondition: no live entry has the same IN key (the caller inserts after a lookupIn miss).
     *
     * @return the entry's id, {@link #FULL} or {@link #NO_LOCAL_PORT}
     */
    public int insert(int proto, int caddr, int cport, int vaddr, int vport, int daddr, int dport,
                      VirtualService svc, RealServer dest, long nowNanos) {
        Objects.requireNonNull(svc, "svc");
        Objects.requireNonNull(dest, "dest");
        if (size == capacity) {
            return FULL;
        }
        int laddr = caddr;
        int lport = cport;
        boolean fullNat = dest.method == ForwardMethod.FULLNAT;
        if (fullNat) {
            int n = svc.localAddrCount();
            int start = n == 0 ? 0 : Integer.remainderUnsigned((caddr * 0x9E3779B1) ^ cport, n);
            lport = -1;
            for (int k = 0; k < n && lport < 0; k++) {
                laddr = svc.localAddr((start + k) % n);
                lport = localPorts.allocate(laddr);
            }
            if (lport < 0) {
                return NO_LOCAL_PORT;
            }
        }
        final int id = claim(proto, caddr, cport, vaddr, vport, daddr, dport, laddr, lport, svc, dest, TcpState.NONE,
                F_USED | F_INACTIVE | (fullNat ? F_LOCAL_PORT : 0), nowNanos + INITIAL_TIMEOUT_NANOS);

        // ip_vs_bind_dest: a new connection is inactive; then the upper threshold
        final DestStats ds = dest.stats;
        ds.addInactive(worker, 1);
        if (dest.upperThreshold != 0 && ds.activeConns() + ds.inactConns() >= dest.upperThreshold) {
            ds.setOverloaded(true);
        }
        // ip_vs_conn_stats
        ds.connCreated(worker);
        svc.stats.connCreated(worker);
        return id;
    }

    /**
     * Accounts one packet of a live entry: TCP state transition (set_tcp_state), expiry
     * refresh to now + timeout(new state) (UDP and other protocols: the UDP timeout), and the
     * packet and byte counters of the real server and the service (in = client to server).
     *
     * <p>TCP table: an output packet clears the "no output seen" flag and uses OUTPUT; an
     * input packet uses INPUT-ONLY while the flag is set, INPUT afterwards. When the state
     * changes, the entry moves between the real server's activeconns and inactconns according
     * to {@link TcpState#isActive}. UDP entries stay inactive, as in the kernel.
     *
     * @param output   true for a real server to client packet
     * @param tcpFlags the TCP flags byte (ignored for UDP)
     * @param bytes    the IP packet length, for the byte counters
     */
    public void update(int id, boolean output, int tcpFlags, int bytes, long nowNanos) {
        int f = flags[id];
        if ((f & F_USED) == 0) {
            throw notLive(id);
        }
        final RealServer dest = dests[id];
        final long timeout;
        if (proto(id) == Protocol.TCP) {
            final int table;
            if (output) {
                f &= ~F_NOOUTPUT;
                table = TcpStateMachine.OUTPUT;
            } else {
                table = (f & F_NOOUTPUT) != 0 ? TcpStateMachine.INPUT_ONLY : TcpStateMachine.INPUT;
            }
            final int old = states[id];
            final int next = TcpStateMachine.next(table, tcpFlags, old, secureTcp);
            if (next != old) {
                f = transition(dest.stats, f, next);
                states[id] = (byte) next;
            }
            timeout = stateTimeout(services[id], next);
        } else {
            timeout = udpTimeout(services[id]);
        }
        flags[id] = (byte) f;
        expires[id] = nowNanos + timeout;
        if (output) {
            dest.stats.outPacket(worker, bytes);
            services[id].stats.outPacket(worker, bytes);
        } else {
            dest.stats.inPacket(worker, bytes);
            services[id].stats.inPacket(worker, bytes);
        }
    }

    /**
     * Sets a TCP entry's state directly, with the same active/inactive accounting and expiry
     * refresh as a packet: what the kernel's ip_vs_tcp_conn_listen (LISTEN) and the sync
     * daemon's state updates do. For UDP entries only the expiry is refreshed.
     */
    public void setState(int id, int state, long nowNanos) {
        int f = flags[id];
        if ((f & F_USED) == 0) {
            throw notLive(id);
        }
        if (state < 0 || state >= TcpState.COUNT) {
            throw new IllegalArgumentException("TCP state " + state + " out of range: expected 0.."
                    + (TcpState.COUNT - 1));
        }
        if (proto(id) != Protocol.TCP) {
            expires[id] = nowNanos + udpTimeout(services[id]);
            return;
        }
        if (state != states[id]) {
            flags[id] = (byte) transition(dests[id].stats, f, state);
            states[id] = (byte) state;
        }
        expires[id] = nowNanos + stateTimeout(services[id], state);
    }

    /**
     * Takes a free slot and fills it (new or synced connection alike) and indexes it both ways.
     * A connection inherits the forwarding method (and so "no output") from its dest, as in ip_vs_bind_dest.
     */
    private int claim(int proto, int caddr, int cport, int vaddr, int vport, int daddr, int dport, int laddr,
                      int lport, VirtualService svc, RealServer dest, int state, int flagBits, long expiresAt) {
        final int id = takeId();
        addrs[id] = addrKey(caddr, vaddr);
        ports[id] = ((long) (proto & 0xff) << 48) | ((long) (cport & 0xffff) << 32)
                | ((long) (vport & 0xffff) << 16) | (dport & 0xffff);
        daddrs[id] = daddr;
        laddrs[id] = laddr;
        lports[id] = (char) lport;
        seqBases[id] = 0;
        seqDeltas[id] = 0;
        tsDeltas[id] = 0;
        spStates[id] = SP_NONE;
        spHeld[id] = -1;
        states[id] = (byte) state;
        flags[id] = (byte) (dest.method.seesReplies() ? flagBits : flagBits | F_NOOUTPUT);
        services[id] = svc;
        dests[id] = dest;
        controllers[id] = -1;
        expires[id] = expiresAt;
        recordClaim(id);
        indexAdd(inIndex, hashIn(id), id);
        indexAdd(outIndex, hashOut(id), id);
        return id;
    }

    /**
     * Installs a connection a master synced (ip_vs_proc_conn's ip_vs_conn_new + ip_vs_bind_dest for
     * IP_VS_CONN_F_SYNC): no scheduler is asked and the service's and real server's "conns" counters
     * are not touched (the kernel counts those in ip_vs_schedule only); the entry is counted in
     * activeconns or inactconns as the master's INACTIVE flag says, and the upper threshold is
     * checked as for any new entry. It takes the master's state and expires timeoutNanos from now.
     * FULLNAT: the entry holds exactly laddr:lport (the master's), reserved in {@link LocalPorts};
     * when that port is held here already the result is {@link #LOCAL_PORT_TAKEN}.
     *
     * <p>Precondition: no live entry has the same IN key.
     *
     * @return the entry's id, {@link #FULL} or {@link #LOCAL_PORT_TAKEN}
     */
    public int insertSynced(int proto, int caddr, int cport, int vaddr, int vport, int daddr, int dport,
                            VirtualService svc, RealServer dest, int state, boolean inactive, long timeoutNanos,
                            int laddr, int lport, long nowNanos) {
        Objects.requireNonNull(svc, "svc");
        Objects.requireNonNull(dest, "dest");
        if (size == capacity) {
            return FULL;
        }
        boolean fullNat = dest.method == ForwardMethod.FULLNAT;
        if (fullNat) {
            if (!localPorts.reserve(laddr, lport)) {
                return LOCAL_PORT_TAKEN;
            }
        } else {
            laddr = caddr;
            lport = cport;
        }
        final int id = claim(proto, caddr, cport, vaddr, vport, daddr, dport, laddr, lport, svc, dest, state,
                F_USED | F_SYNCED | (inactive ? F_INACTIVE : 0) | (fullNat ? F_LOCAL_PORT : 0), nowNanos + timeoutNanos);
        final DestStats ds = dest.stats;
        if (inactive) {
            ds.addInactive(worker, 1);
        } else {
            ds.addActive(worker, 1);
        }
        if (dest.upperThreshold != 0 && ds.activeConns() + ds.inactConns() >= dest.upperThreshold) {
            ds.setOverloaded(true);
        }
        return id;
    }

    /**
     * A master's update of an entry held here (ip_vs_proc_conn for an existing connection): the
     * activeconns/inactconns move when the INACTIVE flag changed, the state is the master's and the
     * entry expires timeoutNanos from now. The entry is flagged synced.
     */
    public void applySync(int id, int state, boolean inactive, long timeoutNanos, long nowNanos) {
        int f = flags[id];
        if ((f & F_USED) == 0) {
            throw notLive(id);
        }
        final DestStats ds = dests[id].stats;
        final boolean wasInactive = (f & F_INACTIVE) != 0;
        if (wasInactive != inactive) {
            if (inactive) {
                ds.addActive(worker, -1);
                ds.addInactive(worker, 1);
                f |= F_INACTIVE;
            } else {
                ds.addActive(worker, 1);
                ds.addInactive(worker, -1);
                f &= ~F_INACTIVE;
            }
        }
        flags[id] = (byte) (f | F_SYNCED);
        states[id] = (byte) state;
        expires[id] = nowNanos + timeoutNanos;
    }

    /** The full timeout of a state of this entry's protocol and service (cp->timeout after a transition). */
    public long stateTimeoutNanos(int id, int state) {
        return proto(id) == Protocol.TCP ? stateTimeout(services[id], state) : udpTimeout(services[id]);
    }

    /** The service's own ESTABLISHED / FIN_WAIT timeout where it has one, else the table's. */
    private long stateTimeout(VirtualService svc, int state) {
        if (state == TcpState.ESTABLISHED && svc.tcpTimeoutNanos != 0) {
            return svc.tcpTimeoutNanos;
        }
        if (state == TcpState.FIN_WAIT && svc.tcpFinTimeoutNanos != 0) {
            return svc.tcpFinTimeoutNanos;
        }
        return timeouts.nanos(state);
    }

    private long udpTimeout(VirtualService svc) {
        return svc.udpTimeoutNanos != 0 ? svc.udpTimeoutNanos : timeouts.udpNanos();
    }


    @Override
    void removeEntry(int id) {
        indexRemove(inIndex, hashIn(id), id);
        indexRemove(outIndex, hashOut(id), id);
        if ((flags[id] & F_LOCAL_PORT) != 0) {
            localPorts.release(laddrs[id], lports[id]);
        }

        unbindDest(id);

        final int tmpl = controllers[id];
        if (tmpl >= 0) {
            templates.controlRemoved(tmpl);
            controllers[id] = -1;
        }
        if (limited[id]) {
            limited[id] = false;
            clientLimits.release(services[id].key, caddr(id));
        }
        releaseId(id);
    }

    // ------------------------------------------------------------------ persistence

    /** The persistence templates whose entries control connections here. */
    public PersistenceTable templates() {
        return templates;
    }

    /**
     * Records that template tmpl placed live entry id (ip_vs_control_add): the template then
     * outlives its timeout while the entry lives.
     */
    public void setController(int id, int tmpl, long nowNanos) {
        if ((flags[id] & F_USED) == 0) {
            throw notLive(id);
        }
        controllers[id] = tmpl;
        templates.controlAdded(tmpl, nowNanos);
    }

    // ------------------------------------------------------------------ listing

    /** Visits every live entry in id order. Control-plane use, on the owning thread. */
    public void forEach(ConnVisitor v) {
        final int hw = highWater;
        for (int id = 0; id < hw; id++) {
            if ((flags[id] & F_USED) != 0) {
                v.visit(this, id);
            }
        }
    }

    // ------------------------------------------------------------------ accessors (id must be live)

    public int state(int id) {
        return states[id];
    }

    public int proto(int id) {
        return (int) (ports[id] >>> 48) & 0xff;
    }

    public int caddr(int id) {
        return (int) (addrs[id] >>> 32);
    }

    public int cport(int id) {
        return (int) (ports[id] >>> 32) & 0xffff;
    }

    public int vaddr(int id) {
        return (int) addrs[id];
    }

    public int vport(int id) {
        return (int) (ports[id] >>> 16) & 0xffff;
    }

    public int daddr(int id) {
        return daddrs[id];
    }

    public int dport(int id) {
        return (int) ports[id] & 0xffff;
    }

    /** The address the real server sees as its peer: the client's, or FULLNAT's local address. */
    public int laddr(int id) {
        return laddrs[id];
    }

    /** The port the real server sees as its peer's: the client's, or FULLNAT's local port. */
    public int lport(int id) {
        return lports[id];
    }

    /** FULLNAT's port allocator (shared by all entries of this table). */
    public LocalPorts localPorts() {
        return localPorts;
    }

    /** FULLNAT PROXY v2: the client's first data sequence number, 0 until set. */
    public int seqBase(int id) {
        return seqBases[id];
    }

    public void setSeqBase(int id, int seq) {
        seqBases[id] = seq;
    }

    /**
     * FULLNAT TCP: whether {@link #seqDelta} and {@link #tsDelta} are set (by the connection's
     * first SYN; a retransmitted SYN keeps them).
     */
    public boolean seqSet(int id) {
        return (flags[id] & F_SEQ_SET) != 0;
    }

    /**
     * FULLNAT TCP: the real server's view of the client's sequence numbers is the client's plus
     * {@code seqDelta}; its view of the client's timestamps (TSval) the client's plus
     * {@code tsDelta}.
     */
    public void setSeqOffsets(int id, int seqDelta, int tsDelta) {
        seqDeltas[id] = seqDelta;
        tsDeltas[id] = tsDelta;
        flags[id] |= F_SEQ_SET;
    }

    public int seqDelta(int id) {
        return seqDeltas[id];
    }

    public int tsDelta(int id) {
        return tsDeltas[id];
    }

    public byte synProxyState(int id) {
        return spStates[id];
    }

    /**
     * SYN proxy: the entry was opened by a client ACK with a valid cookie; the director's ISN
     * towards the client (the cookie), the TSval it sent in its SYN-ACK, the client's ISN, the
     * cookie's option bits and the client's window are kept until the real server answers.
     */
    public void startSynProxy(int id, int cookieIsn, int synAckTsval, int clientIsn, int opts, int clientWin) {
        spStates[id] = SP_AWAITING_SERVER;
        spSeqDeltas[id] = cookieIsn;
        spTsDeltas[id] = synAckTsval;
        spClientIsns[id] = clientIsn;
        spOpts[id] = (char) (opts >>> 12); // the cookie data's option bits (12..21)
        spClientWins[id] = (char) clientWin;
        spWinShifts[id] = 0;
    }

    /**
     * SYN proxy: the real server answered; from now on the client's view of the server's stream is
     * the server's plus {@code seqDelta} (cookie ISN minus server ISN), its timestamps (TSval) the
     * server's plus {@code tsDelta}, and the server's windows are shifted left by {@code winShift}
     * (negative: right) into the window scale the director gave the client.
     */
    public void spliceSynProxy(int id, int seqDelta, int tsDelta, int winShift) {
        spStates[id] = SP_SPLICED;
        spSeqDeltas[id] = seqDelta;
        spTsDeltas[id] = tsDelta;
        spWinShifts[id] = (byte) winShift;
    }

    /** SYN proxy, awaiting: the cookie ISN; spliced: the sequence delta. */
    public int synProxySeq(int id) {
        return spSeqDeltas[id];
    }

    /** SYN proxy, awaiting: the SYN-ACK's TSval; spliced: the timestamp delta. */
    public int synProxyTs(int id) {
        return spTsDeltas[id];
    }

    public int synProxyClientIsn(int id) {
        return spClientIsns[id];
    }

    public int synProxyOpts(int id) {
        return spOpts[id] << 12;
    }

    public int synProxyClientWindow(int id) {
        return spClientWins[id];
    }

    public int synProxyWinShift(int id) {
        return spWinShifts[id];
    }

    /** SYN proxy: the slot of the client segment held for this entry, or -1. */
    public int synProxyHeld(int id) {
        return spHeld[id];
    }

    public void setSynProxyHeld(int id, int slot) {
        spHeld[id] = slot;
    }

    /** FULLNAT PROXY v2: the real server has acknowledged the injected header. */
    public boolean proxyAcked(int id) {
        return (flags[id] & F_PROXY_ACKED) != 0;
    }

    public void markProxyAcked(int id) {
        flags[id] |= F_PROXY_ACKED;
    }

    /** FULLNAT TOA: the option went out on the client's handshake ACK. */
    public boolean toaOnAckSent(int id) {
        return (flags[id] & F_TOA_ON_ACK) != 0;
    }

    public void markToaOnAckSent(int id) {
        flags[id] |= F_TOA_ON_ACK;
    }

    /** Installed or last updated by a sync message (IP_VS_CONN_F_SYNC). */
    public boolean synced(int id) {
        return (flags[id] & F_SYNCED) != 0;
    }

    /** The persistence template that placed the entry, or -1. */
    public int controller(int id) {
        return controllers[id];
    }

    public RealServer dest(int id) {
        return dests[id];
    }

    public VirtualService service(int id) {
        return services[id];
    }

    public long expiresAtNanos(int id) {
        return expires[id];
    }

    /** Counted in activeconns (IP_VS_CONN_F_INACTIVE clear). */
    public boolean isActive(int id) {
        return (flags[id] & F_INACTIVE) == 0;
    }

    /** A reply has been seen (IP_VS_CONN_F_NOOUTPUT clear). */
    public boolean outputSeen(int id) {
        return (flags[id] & F_NOOUTPUT) == 0;
    }

    // ------------------------------------------------------------------ hashing and index upkeep

    private static final long OUT_PROTO_DPORT = 0x00FF_0000_0000_FFFFL;

    private static long addrKey(int hi, int lo) {
        return ((long) hi << 32) | (lo & 0xffffffffL);
    }

    /** Matches ports[id] >>> 16: proto << 32 | cport << 16 | vport. */
    private static long inPortKey(int proto, int cport, int vport) {
        return ((long) (proto & 0xff) << 32) | ((long) (cport & 0xffff) << 16) | (vport & 0xffff);
    }

    /** proto << 48 | lport << 32 | dport. */
    private static long outPortKey(int proto, int dport, int lport) {
        return ((long) (proto & 0xff) << 48) | ((long) (lport & 0xffff) << 32) | (dport & 0xffff);
    }

    /** The OUT port key of a live entry. */
    private long outPortKey(int id) {
        return (ports[id] & OUT_PROTO_DPORT) | ((long) lports[id] << 32);
    }

    private int hashIn(int id) {
        return hash(addrs[id], ports[id] >>> 16);
    }

    private int hashOut(int id) {
        return hash(addrKey(daddrs[id], laddrs[id]), outPortKey(id) ^ OUT_SALT);
    }

    /** Seeded 64-bit mix of the two key words (a multiply-rotate round, then SplitMix64's finalizer). */
    private int hash(long a, long b) {
        long h = (a ^ seed) * 0x9E3779B97F4A7C15L;
        h = (Long.rotateLeft(h, 29) ^ b) * 0xBF58476D1CE4E5B9L;
        h ^= h >>> 31;
        h *= 0x94D049BB133111EBL;
        h ^= h >>> 29;
        return (((int) (h >>> 32) ^ (int) h) & hashMask) | hashBias;
    }

    private static IllegalArgumentException notLive(int id) {
        return new IllegalArgumentException("no live connection entry with id " + id);
    }
}
