package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;

import java.security.SecureRandom;
import java.util.Objects;

/**
 * The IPv6 connection table: IPVS's connection entries for IPv6 services (DR, NAT and FULLNAT), with
 * 128-bit addresses held as two longs each. A table of its own rather than wider keys in
 * {@link ConnectionTable}, so an IPv4 connection costs what it did: widening the IPv4 table's
 * client, virtual, real-server and local addresses to 128 bits would add 48 bytes to each of
 * its entries (see {@link #footprintBytes()} and the class comment there for both numbers).
 *
 * <p>Same design as {@link ConnectionTable}: entries in parallel primitive arrays by id, ids
 * recycled through a free stack, two open-addressing indexes (linear probing, backward-shift
 * deletion, a slot = 32-bit hash fingerprint | id + 1), a seeded hash, a full table refuses and
 * never evicts, an expired entry is never returned (a lookup that meets one removes it), the
 * kernel's accounting (inactconns/activeconns, conns, packets and bytes on the real server and
 * the service) and TCP state machine ({@link TcpStateMachine}, {@link Timeouts}).
 * <ul>
 *   <li>IN: (proto, client, cport, VIP, vport): packets from clients;</li>
 *   <li>OUT: (proto, real server, dport, laddr, lport): replies. laddr:lport is the client's
 *       address and port for DR and NAT, and for FULLNAT the local address (LIP) and the port
 *       held on it in {@link LocalPorts} (a DR entry has an OUT key too; one that sees replies is
 *       preferred, as in {@link ConnectionTable}).</li>
 * </ul>
 * Persistence templates of IPv6 services live beside it ({@link PersistenceTable6}, a quarter of
 * the capacity), each connection naming the template that placed it (its controller), as
 * {@link ConnectionTable} does for IPv4. FULLNAT entries also keep the TCP state
 * {@link io.jvs.forwarder.xmit.FullNatTcp} needs ({@link FullNatState}).
 * Connection sync installs entries here ({@link #insertSynced}, {@link #applySync}) as it does in
 * {@link ConnectionTable} (DR, NAT, and FULLNAT with the master's local address and port), and
 * templates into {@link PersistenceTable6}. A connection
 * counted against its client's {@code --conn-limit} ({@link #markLimited}) gives the count back to
 * {@link ClientLimits} when it leaves, as in {@link ConnectionTable}. The SYN proxy's state
 * ({@link SynProxyState}) and the flood defence's embryonic reclaim ({@link #reclaimEmbryonic},
 * {@link #randomDropEntry}) are the IPv4 table's, field for field.
 *
 * <p>Memory per connection: eight addresses 64 + ports 8 + local port 2 + FULLNAT's sequence base
 * and offsets 12 + expiry 8 + state 1 + flags 1 + two references 4 + 4 (compressed oops) + free
 * stack 4 + controller 4 + per-client-limit flag 1 = 113 bytes; the SYN proxy's 22 (as
 * {@link ConnectionTable}'s); the embryonic reclaim's claim serial 4 and ring 8..16; indexes 2 x 8
 * bytes x 2 slots = 32 (a power-of-two capacity): 179 bytes, and the templates' quarter (21): 200.
 * The FULLNAT local ports ({@link LocalPorts})
 * add 8 KiB per IPv6 local address.
 *
 * <p>Single-threaded (the event loop that owns it); no allocation in lookup, insert, update,
 * expire or remove.
 */
public final class ConnectionTable6 extends ConnectionSlots implements ConnectionEntries {
    /** {@link #insert} result: the table is full. */
    public static final int FULL = -1;
    /** {@link #insert} result: FULLNAT, and no local address of the service has a free port. */
    public static final int NO_LOCAL_PORT = -2;
    /** {@link #insertSynced} result: the synced FULLNAT local port is held by another entry here. */
    public static final int LOCAL_PORT_TAKEN = -3;

    // F_USED = 1 and F_INACTIVE = 2 are ConnectionSlots'
    private static final int F_NOOUTPUT = 4;
    /** FULLNAT: the entry holds lport on laddr in {@link LocalPorts}. */
    private static final int F_LOCAL_PORT = 8;
    private static final int F_PROXY_ACKED = 16;
    private static final int F_TOA_ON_ACK = 32;
    private static final int F_SEQ_SET = 64;
    /** Installed or last updated by a sync message; 0x80 in the byte (flags read sign-extended, masked). */
    private static final int F_SYNCED = 128;
    private static final long OUT_SALT = 0x5851F42D4C957F2DL;

    private final long[] cHi;
    private final long[] cLo;
    private final long[] vHi;
    private final long[] vLo;
    private final long[] dHi;
    private final long[] dLo;
    /** The real server's peer: the client's address and port, or FULLNAT's local address and port. */
    private final long[] lHi;
    private final long[] lLo;
    private final char[] lports;
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
    /** proto << 48 | cport << 32 | vport << 16 | dport. */
    private final long[] ports;
    private final PersistenceTable6 templates;

    private final long seed;
    /** -1 and 0 except in tests, which squeeze every key into one fingerprint (so keys are compared in full). */
    private final int hashMask;
    private final int hashBias;
    private final LocalPorts localPorts;
    private Timeouts timeouts;
    private boolean secureTcp;

    public ConnectionTable6(int capacity, Timeouts timeouts) {
        this(capacity, timeouts, 0);
    }

    /** A table owned by worker {@code worker} (its share of the DestStats counters). */
    public ConnectionTable6(int capacity, Timeouts timeouts, int worker) {
        this(capacity, timeouts, worker, new LocalPorts(LocalPorts.DEFAULT_LOW, LocalPorts.DEFAULT_HIGH));
    }

    /** As above, with FULLNAT local ports taken from this allocator (the director's --lport-range). */
    public ConnectionTable6(int capacity, Timeouts timeouts, int worker, LocalPorts localPorts) {
        this(capacity, timeouts, worker, -1, 0, localPorts);
    }

    /** Tests: every hash is {@code hash & hashMask | hashBias}. */
    ConnectionTable6(int capacity, Timeouts timeouts, int worker, int hashMask, int hashBias) {
        this(capacity, timeouts, worker, hashMask, hashBias,
                new LocalPorts(LocalPorts.DEFAULT_LOW, LocalPorts.DEFAULT_HIGH));
    }

    private ConnectionTable6(int capacity, Timeouts timeouts, int worker, int hashMask, int hashBias,
                             LocalPorts localPorts) {
        this(capacity, timeouts, worker, hashMask, hashBias, localPorts, new SecureRandom().nextLong());
    }

    private ConnectionTable6(int capacity, Timeouts timeouts, int worker, int hashMask, int hashBias,
                             LocalPorts localPorts, long seed) {
        super(capacity, worker, seed, "IPv6 connection table");
        this.seed = seed;
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        cHi = new long[capacity];
        cLo = new long[capacity];
        vHi = new long[capacity];
        vLo = new long[capacity];
        dHi = new long[capacity];
        dLo = new long[capacity];
        lHi = new long[capacity];
        lLo = new long[capacity];
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
        this.localPorts = Objects.requireNonNull(localPorts, "localPorts");
        ports = new long[capacity];
        templates = new PersistenceTable6(Math.max(16, capacity / 4), worker);
        this.hashMask = hashMask;
        this.hashBias = hashBias;
    }

    public void setTimeouts(Timeouts timeouts) {
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
    }

    /** secure_tcp's state tables for TCP transitions (set with the IPv4 table's, by the defence). */
    public void setSecureTcp(boolean on) {
        this.secureTcp = on;
    }

    /** Bytes held by this table's arrays (references counted as 4 bytes: compressed oops). */
    public long footprintBytes() {
        long perEntry = 8 * 8 + 8 + 2 + 12 + 8 + 1 + 1 + 4 + 4 + 4 + 4 + 1
                + 1 + 1 + 2 + 2 + 4 + 4 + 4 + 4 // SYN proxy
                + 4; // claim serial
        return perEntry * capacity + indexBytes() + templates.footprintBytes();
    }

    // ------------------------------------------------------------------ lookups

    /** The live entry for a client packet, or -1. */
    public int lookupIn(int proto, long caddrHi, long caddrLo, int cport, long vaddrHi, long vaddrLo, int vport,
                        long nowNanos) {
        final long p = inPortKey(proto, cport, vport);
        final int h = hash(caddrHi, caddrLo, vaddrHi, vaddrLo, p);
        for (;;) {
            int id = -1;
            int i = h & indexMask;
            long s;
            while ((s = inIndex[i]) != 0) {
                if ((int) (s >>> 32) == h) {
                    final int c = (int) s - 1;
                    if (cLo[c] == caddrLo && vLo[c] == vaddrLo && cHi[c] == caddrHi && vHi[c] == vaddrHi
                            && (ports[c] >>> 16) == p) {
                        id = c;
                        break;
                    }
                }
                i = (i + 1) & indexMask;
            }
            if (id < 0 || nowNanos - expires[id] < 0) {
                return id;
            }
            removeEntry(id);
        }
    }

    /**
     * The live entry for a real server's reply (from daddr:dport to laddr:lport: the client for NAT,
     * a local address and port for FULLNAT), or -1; an entry that sees replies preferred over DR,
     * and of one kind the newest claim, as {@link ConnectionTable}'s probeOut says why.
     */
    public int lookupOut(int proto, long daddrHi, long daddrLo, int dport, long laddrHi, long laddrLo, int lport,
                         long nowNanos) {
        final long p = outPortKey(proto, dport, lport);
        final int h = hash(daddrHi, daddrLo, laddrHi, laddrLo, p ^ OUT_SALT);
        for (;;) {
            int seesReplies = -1;
            int inputOnly = -1;
            int i = h & indexMask;
            long s;
            while ((s = outIndex[i]) != 0) {
                if ((int) (s >>> 32) == h) {
                    final int c = (int) s - 1;
                    if (dLo[c] == daddrLo && lLo[c] == laddrLo && dHi[c] == daddrHi && lHi[c] == laddrHi
                            && outPortKey(c) == p) {
                        if (dests[c].method.seesReplies()) {
                            seesReplies = newer(seesReplies, c);
                        } else {
                            inputOnly = newer(inputOnly, c);
                        }
                    }
                }
                i = (i + 1) & indexMask;
            }
            final int id = seesReplies >= 0 ? seesReplies : inputOnly;
            if (id < 0 || nowNanos - expires[id] < 0) {
                return id;
            }
            removeEntry(id);
        }
    }

    // ------------------------------------------------------------------ insert / update / remove

    /**
     * Creates the entry of a newly scheduled connection, as {@link ConnectionTable#insert} does
     * (state NONE, inactive, 3 s until the first transition, NOOUTPUT for DR and TUN; the upper
     * threshold; conns counted), and returns its id or {@link #FULL}. Precondition: a lookupIn
     * miss for the same key.
     *
     * <p>FULLNAT: the entry also takes one of the service's IPv6 local addresses and a free port on
     * it ({@link LocalPorts}), trying them in turn from one picked by a hash of the client; it holds
     * the port until it leaves the table. When none has a free port the result is
     * {@link #NO_LOCAL_PORT} and nothing changed.
     */
    public int insert(int proto, long caddrHi, long caddrLo, int cport, long vaddrHi, long vaddrLo, int vport,
                      long daddrHi, long daddrLo, int dport, VirtualService svc, RealServer dest, long nowNanos) {
        Objects.requireNonNull(svc, "svc");
        Objects.requireNonNull(dest, "dest");
        if (size == capacity) {
            return FULL;
        }
        long laddrHi = caddrHi;
        long laddrLo = caddrLo;
        int lport = cport;
        boolean fullNat = dest.method == ForwardMethod.FULLNAT;
        if (fullNat) {
            int n = svc.localAddr6Count();
            int start = n == 0 ? 0 : Integer.remainderUnsigned(((int) caddrLo * 0x9E3779B1) ^ cport, n);
            lport = -1;
            for (int k = 0; k < n && lport < 0; k++) {
                int i = (start + k) % n;
                laddrHi = svc.localAddr6Hi(i);
                laddrLo = svc.localAddr6Lo(i);
                lport = localPorts.allocate(laddrHi, laddrLo);
            }
            if (lport < 0) {
                return NO_LOCAL_PORT;
            }
        }
        final int id = takeId();
        cHi[id] = caddrHi;
        cLo[id] = caddrLo;
        vHi[id] = vaddrHi;
        vLo[id] = vaddrLo;
        dHi[id] = daddrHi;
        dLo[id] = daddrLo;
        lHi[id] = laddrHi;
        lLo[id] = laddrLo;
        lports[id] = (char) lport;
        seqBases[id] = 0;
        seqDeltas[id] = 0;
        tsDeltas[id] = 0;
        ports[id] = ((long) (proto & 0xff) << 48) | ((long) (cport & 0xffff) << 32) | ((long) (vport & 0xffff) << 16)
                | (dport & 0xffff);
        states[id] = (byte) TcpState.NONE;
        flags[id] = (byte) (F_USED | F_INACTIVE | (dest.method.seesReplies() ? 0 : F_NOOUTPUT)
                | (fullNat ? F_LOCAL_PORT : 0));
        expires[id] = nowNanos + ConnectionTable.INITIAL_TIMEOUT_NANOS;
        services[id] = svc;
        dests[id] = dest;
        controllers[id] = -1;
        claimed(id);
        indexAdd(inIndex, hashIn(id), id);
        indexAdd(outIndex, hashOut(id), id);
        final DestStats ds = dest.stats;
        ds.addInactive(worker, 1);
        if (dest.upperThreshold != 0 && ds.activeConns() + ds.inactConns() >= dest.upperThreshold) {
            ds.setOverloaded(true);
        }
        ds.connCreated(worker);
        svc.stats.connCreated(worker);
        return id;
    }

    /** One packet of a live entry: state transition, expiry, counters, as {@link ConnectionTable#update}. */
    public void update(int id, boolean output, int tcpFlags, int bytes, long nowNanos) {
        int f = flags[id];
        if ((f & F_USED) == 0) {
            throw new IllegalArgumentException("no live IPv6 connection entry with id " + id);
        }
        final RealServer dest = dests[id];
        final VirtualService svc = services[id];
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
            timeout = tcpTimeout(svc, next);
        } else {
            timeout = udpTimeout(svc);
        }
        flags[id] = (byte) f;
        expires[id] = nowNanos + timeout;
        if (output) {
            dest.stats.outPacket(worker, bytes);
            svc.stats.outPacket(worker, bytes);
        } else {
            dest.stats.inPacket(worker, bytes);
            svc.stats.inPacket(worker, bytes);
        }
    }

    /**
     * Installs a connection a master synced, as {@link ConnectionTable#insertSynced} does
     * (ip_vs_proc_conn: no scheduler asked, "conns" not counted, activeconns or inactconns as the
     * master's INACTIVE flag says, the upper threshold checked), in the master's state, expiring
     * timeoutNanos from now; returns its id or {@link #FULL}. Precondition: a lookupIn miss. DR and
     * NAT only: a FULLNAT entry needs its local address and port (the overload below).
     */
    public int insertSynced(int proto, long caddrHi, long caddrLo, int cport, long vaddrHi, long vaddrLo, int vport,
                            long daddrHi, long daddrLo, int dport, VirtualService svc, RealServer dest, int state,
                            boolean inactive, long timeoutNanos, long nowNanos) {
        return insertSynced(proto, caddrHi, caddrLo, cport, vaddrHi, vaddrLo, vport, daddrHi, daddrLo, dport, svc,
                dest, state, inactive, timeoutNanos, caddrHi, caddrLo, cport, nowNanos);
    }

    /**
     * As above; FULLNAT: the entry holds exactly laddr:lport (the master's), reserved in
     * {@link LocalPorts}, and when that port is held here already the result is
     * {@link #LOCAL_PORT_TAKEN} and nothing changed (laddr and lport are ignored for DR and NAT).
     */
    public int insertSynced(int proto, long caddrHi, long caddrLo, int cport, long vaddrHi, long vaddrLo, int vport,
                            long daddrHi, long daddrLo, int dport, VirtualService svc, RealServer dest, int state,
                            boolean inactive, long timeoutNanos, long laddrHi, long laddrLo, int lport,
                            long nowNanos) {
        Objects.requireNonNull(svc, "svc");
        Objects.requireNonNull(dest, "dest");
        final boolean fullNat = dest.method == ForwardMethod.FULLNAT;
        if (dest.method != ForwardMethod.DR && dest.method != ForwardMethod.NAT && dest.method != ForwardMethod.TUN
                && !fullNat) {
            throw new IllegalArgumentException("IPv6 connections forward by DR, NAT, TUN or FULLNAT, not " + dest.method);
        }
        if (size == capacity) {
            return FULL;
        }
        if (!fullNat) {
            // DR and NAT: the real server's peer (the OUT key) is the client
            laddrHi = caddrHi;
            laddrLo = caddrLo;
            lport = cport;
        } else if (!localPorts.reserve(laddrHi, laddrLo, lport)) {
            return LOCAL_PORT_TAKEN;
        }
        final int id = takeId();
        cHi[id] = caddrHi;
        cLo[id] = caddrLo;
        vHi[id] = vaddrHi;
        vLo[id] = vaddrLo;
        dHi[id] = daddrHi;
        dLo[id] = daddrLo;
        lHi[id] = laddrHi;
        lLo[id] = laddrLo;
        lports[id] = (char) lport;
        seqBases[id] = 0;
        seqDeltas[id] = 0;
        tsDeltas[id] = 0;
        ports[id] = ((long) (proto & 0xff) << 48) | ((long) (cport & 0xffff) << 32) | ((long) (vport & 0xffff) << 16)
                | (dport & 0xffff);
        states[id] = (byte) state;
        flags[id] = (byte) (F_USED | F_SYNCED | (inactive ? F_INACTIVE : 0)
                | (dest.method.seesReplies() ? 0 : F_NOOUTPUT) | (fullNat ? F_LOCAL_PORT : 0));
        expires[id] = nowNanos + timeoutNanos;
        services[id] = svc;
        dests[id] = dest;
        controllers[id] = -1;
        claimed(id);
        indexAdd(inIndex, hashIn(id), id);
        indexAdd(outIndex, hashOut(id), id);
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
     * A master's update of an entry held here, as {@link ConnectionTable#applySync}: activeconns
     * and inactconns move when the INACTIVE flag changed, the state is the master's, the entry
     * expires timeoutNanos from now and is flagged synced.
     */
    public void applySync(int id, int state, boolean inactive, long timeoutNanos, long nowNanos) {
        int f = flags[id];
        if ((f & F_USED) == 0) {
            throw new IllegalArgumentException("no live IPv6 connection entry with id " + id);
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
        return proto(id) == Protocol.TCP ? tcpTimeout(services[id], state) : udpTimeout(services[id]);
    }

    /** The full timeout of a state for a service's connections (the service's own where it has one). */
    public long stateTimeoutNanos(VirtualService svc, int proto, int state) {
        return proto == Protocol.TCP ? tcpTimeout(svc, state) : udpTimeout(svc);
    }

    private long tcpTimeout(VirtualService svc, int state) {
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

    /** A new claim of id: the SYN proxy's state cleared, the claim recorded for the embryonic reclaim. */
    private void claimed(int id) {
        spStates[id] = SP_NONE;
        spHeld[id] = -1;
        recordClaim(id);
    }

    @Override
    void removeEntry(int id) {
        indexRemove(inIndex, hashIn(id), id);
        indexRemove(outIndex, hashOut(id), id);
        if ((flags[id] & F_LOCAL_PORT) != 0) {
            localPorts.release(lHi[id], lLo[id], lports[id]);
        }
        unbindDest(id);
        final int tmpl = controllers[id];
        if (tmpl >= 0) {
            templates.controlRemoved(tmpl);
            controllers[id] = -1;
        }
        if (limited[id]) {
            limited[id] = false;
            clientLimits.release(services[id].key, cHi[id], cLo[id]);
        }
        releaseId(id);
    }

    /** The persistence templates of IPv6 services, whose entries control connections here. */
    public PersistenceTable6 templates() {
        return templates;
    }

    /** Connection id was placed by template tmpl (ip_vs_control_add): the template lives while it does. */
    public void setController(int id, int tmpl, long nowNanos) {
        if (controllers[id] >= 0) {
            throw new IllegalStateException("IPv6 connection " + id + " already has a controlling template");
        }
        controllers[id] = tmpl;
        templates.controlAdded(tmpl, nowNanos);
    }

    /** The template that placed connection id, or -1. */
    public int controller(int id) {
        return controllers[id];
    }

    // ------------------------------------------------------------------ accessors

    public int proto(int id) {
        return (int) (ports[id] >>> 48) & 0xff;
    }

    public int state(int id) {
        return states[id];
    }

    public long caddrHi(int id) {
        return cHi[id];
    }

    public long caddrLo(int id) {
        return cLo[id];
    }

    public int cport(int id) {
        return (int) (ports[id] >>> 32) & 0xffff;
    }

    public long vaddrHi(int id) {
        return vHi[id];
    }

    public long vaddrLo(int id) {
        return vLo[id];
    }

    public int vport(int id) {
        return (int) (ports[id] >>> 16) & 0xffff;
    }

    public long daddrHi(int id) {
        return dHi[id];
    }

    public long daddrLo(int id) {
        return dLo[id];
    }

    public int dport(int id) {
        return (int) ports[id] & 0xffff;
    }

    /** The real server's peer address: the client's, or FULLNAT's local address (high 64 bits). */
    public long laddrHi(int id) {
        return lHi[id];
    }

    public long laddrLo(int id) {
        return lLo[id];
    }

    /** The real server's peer port: the client's, or FULLNAT's local port. */
    public int lport(int id) {
        return lports[id];
    }

    /** FULLNAT's port allocator for IPv6 local addresses. */
    public LocalPorts localPorts() {
        return localPorts;
    }

    @Override
    public int seqBase(int id) {
        return seqBases[id];
    }

    @Override
    public void setSeqBase(int id, int seq) {
        seqBases[id] = seq;
    }

    @Override
    public boolean seqSet(int id) {
        return (flags[id] & F_SEQ_SET) != 0;
    }

    @Override
    public void setSeqOffsets(int id, int seqDelta, int tsDelta) {
        seqDeltas[id] = seqDelta;
        tsDeltas[id] = tsDelta;
        flags[id] |= F_SEQ_SET;
    }

    @Override
    public int seqDelta(int id) {
        return seqDeltas[id];
    }

    @Override
    public int tsDelta(int id) {
        return tsDeltas[id];
    }

    @Override
    public boolean proxyAcked(int id) {
        return (flags[id] & F_PROXY_ACKED) != 0;
    }

    @Override
    public void markProxyAcked(int id) {
        flags[id] |= F_PROXY_ACKED;
    }

    @Override
    public boolean toaOnAckSent(int id) {
        return (flags[id] & F_TOA_ON_ACK) != 0;
    }

    @Override
    public void markToaOnAckSent(int id) {
        flags[id] |= F_TOA_ON_ACK;
    }

    @Override
    public byte synProxyState(int id) {
        return spStates[id];
    }

    @Override
    public void startSynProxy(int id, int cookieIsn, int synAckTsval, int clientIsn, int opts, int clientWin) {
        spStates[id] = SP_AWAITING_SERVER;
        spSeqDeltas[id] = cookieIsn;
        spTsDeltas[id] = synAckTsval;
        spClientIsns[id] = clientIsn;
        spOpts[id] = (char) (opts >>> 12); // the cookie data's option bits (12..21)
        spClientWins[id] = (char) clientWin;
        spWinShifts[id] = 0;
    }

    @Override
    public void spliceSynProxy(int id, int seqDelta, int tsDelta, int winShift) {
        spStates[id] = SP_SPLICED;
        spSeqDeltas[id] = seqDelta;
        spTsDeltas[id] = tsDelta;
        spWinShifts[id] = (byte) winShift;
    }

    @Override
    public int synProxySeq(int id) {
        return spSeqDeltas[id];
    }

    @Override
    public int synProxyTs(int id) {
        return spTsDeltas[id];
    }

    @Override
    public int synProxyClientIsn(int id) {
        return spClientIsns[id];
    }

    @Override
    public int synProxyOpts(int id) {
        return spOpts[id] << 12;
    }

    @Override
    public int synProxyClientWindow(int id) {
        return spClientWins[id];
    }

    @Override
    public int synProxyWinShift(int id) {
        return spWinShifts[id];
    }

    @Override
    public int synProxyHeld(int id) {
        return spHeld[id];
    }

    @Override
    public void setSynProxyHeld(int id, int slot) {
        spHeld[id] = slot;
    }

    @Override
    public VirtualService service(int id) {
        return services[id];
    }

    @Override
    public RealServer dest(int id) {
        return dests[id];
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

    /** Installed or last updated by a sync message (IP_VS_CONN_F_SYNC). */
    public boolean synced(int id) {
        return (flags[id] & F_SYNCED) != 0;
    }

    // ------------------------------------------------------------------ hashing and index upkeep

    private static long inPortKey(int proto, int cport, int vport) {
        return ((long) (proto & 0xff) << 32) | ((long) (cport & 0xffff) << 16) | (vport & 0xffff);
    }

    private static long outPortKey(int proto, int dport, int lport) {
        return ((long) (proto & 0xff) << 48) | ((long) (lport & 0xffff) << 32) | (dport & 0xffff);
    }

    private long outPortKey(int id) {
        return (ports[id] & 0x00FF_0000_0000_FFFFL) | ((long) lports[id] << 32);
    }

    private int hashIn(int id) {
        return hash(cHi[id], cLo[id], vHi[id], vLo[id], ports[id] >>> 16);
    }

    private int hashOut(int id) {
        return hash(dHi[id], dLo[id], lHi[id], lLo[id], outPortKey(id) ^ OUT_SALT);
    }

    /** Seeded mix of the two addresses and the port key (multiply-rotate rounds, SplitMix64's finalizer). */
    private int hash(long aHi, long aLo, long bHi, long bLo, long p) {
        long h = (aHi ^ seed) * 0x9E3779B97F4A7C15L;
        h = (Long.rotateLeft(h, 29) ^ aLo) * 0xBF58476D1CE4E5B9L;
        h = (Long.rotateLeft(h, 31) ^ bHi) * 0x9E3779B97F4A7C15L;
        h = (Long.rotateLeft(h, 27) ^ bLo) * 0xBF58476D1CE4E5B9L;
        h = (Long.rotateLeft(h, 29) ^ p) * 0x94D049BB133111EBL;
        h ^= h >>> 31;
        h *= 0x94D049BB133111EBL;
        h ^= h >>> 29;
        return (((int) (h >>> 32) ^ (int) h) & hashMask) | hashBias;
    }
}
