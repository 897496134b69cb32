package io.jvs.forwarder.sync;

import io.jvs.forwarder.conn.ConnectionEntries;
import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.PersistenceTable;
import io.jvs.forwarder.conn.PersistenceTable6;
import io.jvs.forwarder.conn.SynProxyState;
import io.jvs.forwarder.conn.TcpState;
import io.jvs.forwarder.conn.TemplateTable;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.IpvsSync;
import io.jvs.packet.SyncEntry;

/**
 * The master's half on the data path: after each inbound packet of a connection, decides as
 * ip_vs_sync_conn / ip_vs_sync_conn_needed do whether the connection (and then its persistence
 * template) is synced, and if so copies it into the {@link SyncQueue} the sender thread reads.
 *
 * <p>Runs on the event loop only and allocates nothing: its per-connection state (the kernel's
 * cp-&gt;in_pkts, cp-&gt;sync_endtime, cp-&gt;old_state) lives in arrays indexed by the connection
 * and template ids, allocated when the master daemon starts (so a director without a master
 * daemon pays nothing for them). Times are milliseconds, the kernel's jiffies at HZ=1000.
 *
 * <p>TCP is synced in ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT and TIME_WAIT only
 * (sync_persist_mode 0); a change into one of those other than ESTABLISHED is sent at once, the
 * rest when the inbound packet count hits threshold, threshold + period, ... UDP follows the
 * count only. Templates are synced each time a connection they control is examined (period
 * &gt; 0), as the kernel does. The timeout sent is what is left of the entry's (equal to the
 * state's full timeout right after the packet that refreshed it, which is what the kernel sends).
 *
 * <p>IPv6 connections ({@link ConnectionTable6}, {@link #inbound6}) and their templates
 * ({@link PersistenceTable6}) follow the same rules on the same path (one {@link Family} per
 * address family: the tables and the per-entry state arrays, indexed by that family's ids) and go
 * out as struct ip_vs_sync_v6 entries in the same messages, as ip_vs_sync_conn mixes both
 * families. A FULLNAT connection carries its local address, port and sequence state in jvs's
 * option (24 for IPv4, 26 for IPv6), a SYN-proxied one its proxy state in option 25 (both
 * families), all mandatory, so a kernel backup drops them rather than install them as plain NAT.
 */
public final class SyncMaster {
    private final Family v4;
    private final Family v6;
    private final SyncPolicy policy;
    private final SyncQueue queue;
    private final SyncCounters counters;
    private final SyncEntry scratch = new SyncEntry();

    SyncMaster(ConnectionTable conns, ConnectionTable6 conns6, SyncPolicy policy, SyncQueue queue,
               SyncCounters counters) {
        this.v4 = new V4(conns);
        this.v6 = new V6(conns6);
        this.policy = policy;
        this.queue = queue;
        this.counters = counters;
    }

    /**
     * An inbound (client to server) packet of connection id has been accounted.
     *
     * @param created     the packet created the connection (its id's sync state starts over)
     * @param tmplCreated the packet created the connection's template
     */
    public void inbound(int id, boolean created, boolean tmplCreated, long nowNanos) {
        inbound(v4, id, created, tmplCreated, nowNanos);
    }

    /**
     * An inbound packet of IPv6 connection id (worker 0's {@link ConnectionTable6}) has been
     * accounted; as {@link #inbound}: the connection, then the {@link PersistenceTable6} template
     * that placed it.
     *
     * @param created     the packet created the connection (its id's sync state starts over)
     * @param tmplCreated the packet created the connection's template
     */
    public void inbound6(int id, boolean created, boolean tmplCreated, long nowNanos) {
        inbound(v6, id, created, tmplCreated, nowNanos);
    }

    private void inbound(Family f, int id, boolean created, boolean tmplCreated, long nowNanos) {
        final ConnectionEntries conns = f.conns;
        if (created) {
            f.inPkts[id] = 0;
            f.syncEnds[id] = 0;
            f.oldStates[id] = (byte) TcpState.NONE;
        }
        final long nowMs = nowNanos / 1_000_000L;
        final VirtualService svc = conns.service(id);
        if (!svc.onePacket) { // "Do not sync ONE PACKET"
            final int pkts = ++f.inPkts[id];
            final int state = conns.state(id);
            if (connNeeded(f.syncEnds, f.oldStates, id, conns.proto(id), state,
                    conns.stateTimeoutNanos(id, state) / 1_000_000L, pkts, nowMs)) {
                enqueueConnection(f, id, nowNanos);
            }
        }
        final int t = conns.controller(id);
        final TemplateTable templates = f.templates;
        if (t >= 0 && templates.isLive(t)) {
            if (tmplCreated) {
                f.tmplInPkts[t] = 0;
                f.tmplSyncEnds[t] = 0;
            }
            final int pkts = ++f.tmplInPkts[t];
            if (needed(f.tmplSyncEnds, t, svc.persistTimeoutNanos / 1_000_000L, pkts, nowMs, false, true)) {
                enqueueTemplate(f, t, nowNanos);
            }
        }
    }

    /** ip_vs_sync_conn_needed for a connection (either family's arrays: ends, old states). */
    private boolean connNeeded(long[] ends, byte[] olds, int id, int proto, int state, long timeoutMs, int pkts,
                               long nowMs) {
        if (proto == Protocol.TCP) {
            if (!syncedState(state)) {
                return false;
            }
            boolean force = state != olds[id];
            if (force && state != TcpState.ESTABLISHED) {
                olds[id] = (byte) state;
                ends[id] = (nowMs + timeoutMs) & ~3L;
                return true;
            }
            if (needed(ends, id, timeoutMs, pkts, nowMs, force, false)) {
                olds[id] = (byte) state;
                return true;
            }
            return false;
        }
        return needed(ends, id, timeoutMs, pkts, nowMs, false, false);
    }

    /** The TCP states sync_persist_mode 0 syncs. */
    static boolean syncedState(int state) {
        return state == TcpState.ESTABLISHED || state == TcpState.FIN_WAIT || state == TcpState.CLOSE
                || state == TcpState.CLOSE_WAIT || state == TcpState.TIME_WAIT;
    }

    /** ip_vs_sync_conn_needed from its refresh-period check on; updates the sync end time when true. */
    private boolean needed(long[] ends, int id, long timeoutMs, int pkts, long nowMs, boolean force,
                           boolean template) {
        final long orig = ends[id];
        long n = (nowMs + timeoutMs) & ~3L;
        final long refresh = policy.refreshPeriodMillis();
        if (refresh > 0) {
            long diff = n - orig;
            long minDiff = Math.max(timeoutMs >> 1, 10_000L);
            if (Math.abs(diff) < Math.min(refresh, minDiff)) {
                int retries = (int) (orig & 3);
                if (retries >= policy.retries()) {
                    return false;
                }
                if (nowMs - (orig - timeoutMs + (refresh >> 3)) < 0) {
                    return false;
                }
                n |= retries + 1;
            }
        }
        final int period = policy.period();
        if (period > 0) {
            if (!template && pkts % period != policy.threshold()) {
                return false;
            }
        } else if (refresh == 0 && pkts != policy.threshold()) {
            return false;
        }
        ends[id] = n;
        return true;
    }

    /** The connection as struct ip_vs_sync_v4 or _v6; FULLNAT's with jvs's option 24 or 26, the SYN proxy's with 25. */
    private void enqueueConnection(Family f, int id, long nowNanos) {
        final ConnectionEntries conns = f.conns;
        final SyncEntry e = scratch.clear();
        final RealServer dest = conns.dest(id);
        e.protocol = conns.proto(id);
        e.flags = forwardFlag(dest.method) | (conns.isActive(id) ? 0 : IpvsSync.CONN_F_INACTIVE)
                | (conns.outputSeen(id) ? 0 : IpvsSync.CONN_F_NOOUTPUT);
        e.state = conns.state(id);
        e.cport = conns.cport(id);
        e.vport = conns.vport(id);
        e.dport = conns.dport(id);
        e.fwmark = conns.service(id).fwmark;
        e.timeout = secondsLeft(conns.expiresAtNanos(id), nowNanos);
        final boolean fullNat = dest.method == ForwardMethod.FULLNAT;
        f.addresses(e, id, fullNat);
        if (fullNat) {
            e.hasFullNat = true;
            e.localPort = conns.lport(id);
            e.fullNatFlags = (conns.seqSet(id) ? IpvsSync.FULLNAT_F_SEQ_SET : 0)
                    | (conns.proxyAcked(id) ? IpvsSync.FULLNAT_F_PROXY_ACKED : 0)
                    | (conns.toaOnAckSent(id) ? IpvsSync.FULLNAT_F_TOA_ON_ACK : 0);
            e.seqBase = conns.seqBase(id);
            e.seqDelta = conns.seqDelta(id);
            e.tsDelta = conns.tsDelta(id);
        }
        final byte sp = conns.synProxyState(id);
        if (sp != SynProxyState.SP_NONE) {
            // a backup taking the connection over must translate as this director does (IpvsSync, option 25)
            e.hasSynProxy = true;
            e.spState = sp == SynProxyState.SP_SPLICED ? IpvsSync.SYNPROXY_SPLICED : IpvsSync.SYNPROXY_AWAITING;
            e.spSeq = conns.synProxySeq(id);
            e.spTs = conns.synProxyTs(id);
            e.spClientIsn = conns.synProxyClientIsn(id);
            e.spOptions = conns.synProxyOpts(id) >>> 12;
            e.spClientWindow = conns.synProxyClientWindow(id);
            e.spWinShift = conns.synProxyWinShift(id);
        }
        offer(e);
    }

    /**
     * A template with IP_VS_CONN_F_TEMPLATE, as the kernel sends it: the client network (the
     * client cut to the -M mask or prefix length) as caddr, cport 0, the VIP (or fwmark key) and
     * the key's port (0 for a port-0 service), the real server; an IPv6 one as struct ip_vs_sync_v6.
     */
    private void enqueueTemplate(Family f, int t, long nowNanos) {
        final TemplateTable templates = f.templates;
        final SyncEntry e = scratch.clear();
        final RealServer dest = templates.dest(t);
        final VirtualService svc = templates.service(t);
        e.protocol = templates.proto(t);
        e.flags = IpvsSync.CONN_F_TEMPLATE | forwardFlag(dest.method);
        e.vport = templates.vport(t);
        e.dport = dest.port;
        e.fwmark = svc.fwmark;
        long left = secondsLeft(templates.expiresAtNanos(t), nowNanos);
        e.timeout = left > 0 ? left : svc.persistTimeoutNanos / 1_000_000_000L;
        f.templateAddresses(e, t, dest);
        offer(e);
    }

    private void offer(SyncEntry e) {
        if (!queue.offer(e)) {
            counters.dropped(SyncDrop.QUEUE_FULL);
        }
    }

    /** Whole seconds left, rounded up (0 when due). */
    private static long secondsLeft(long expiresNanos, long nowNanos) {
        long left = expiresNanos - nowNanos;
        return left <= 0 ? 0 : (left + 999_999_999L) / 1_000_000_000L;
    }

    /** IP_VS_CONN_F_* forwarding bits; FULLNAT goes as masquerading plus jvs's option. */
    static int forwardFlag(ForwardMethod m) {
        return switch (m) {
            case DR -> IpvsSync.CONN_F_DROUTE;
            case TUN -> IpvsSync.CONN_F_TUNNEL;
            case NAT, FULLNAT -> IpvsSync.CONN_F_MASQ;
        };
    }

    /**
     * One family's tables and the master's per-entry sync state for them (the kernel's in_pkts,
     * sync_endtime, old_state), indexed by the tables' ids; only the addresses differ by family.
     */
    private abstract static class Family {
        final ConnectionEntries conns;
        final TemplateTable templates;
        final int[] inPkts;
        final long[] syncEnds;
        final byte[] oldStates;
        final int[] tmplInPkts;
        final long[] tmplSyncEnds;

        Family(ConnectionEntries conns) {
            this.conns = conns;
            this.templates = conns.templates();
            inPkts = new int[conns.capacity()];
            syncEnds = new long[conns.capacity()];
            oldStates = new byte[conns.capacity()];
            tmplInPkts = new int[templates.capacity()];
            tmplSyncEnds = new long[templates.capacity()];
        }

        /** The entry's type and connection id's client, VIP and real server (and FULLNAT's local address). */
        abstract void addresses(SyncEntry e, int id, boolean fullNat);

        /** The entry's type and template t's client network, VIP and real server. */
        abstract void templateAddresses(SyncEntry e, int t, RealServer dest);
    }

    /** struct ip_vs_sync_v4 (type 0, the entry's default). */
    private static final class V4 extends Family {
        private final ConnectionTable c;
        private final PersistenceTable p;

        V4(ConnectionTable c) {
            super(c);
            this.c = c;
            this.p = c.templates();
        }

        @Override
        void addresses(SyncEntry e, int id, boolean fullNat) {
            e.caddr = c.caddr(id);
            e.vaddr = c.vaddr(id);
            e.daddr = c.daddr(id);
            if (fullNat) {
                e.localAddr = c.laddr(id);
            }
        }

        @Override
        void templateAddresses(SyncEntry e, int t, RealServer dest) {
            e.caddr = p.clientNet(t);
            e.vaddr = p.vkey(t);
            e.daddr = dest.addr;
        }
    }

    /** struct ip_vs_sync_v6 (type STYPE_F_INET6, three 16-byte addresses). */
    private static final class V6 extends Family {
        private final ConnectionTable6 c;
        private final PersistenceTable6 p;

        V6(ConnectionTable6 c) {
            super(c);
            this.c = c;
            this.p = c.templates();
        }

        @Override
        void addresses(SyncEntry e, int id, boolean fullNat) {
            e.type = IpvsSync.STYPE_F_INET6;
            e.caddrHi = c.caddrHi(id);
            e.caddrLo = c.caddrLo(id);
            e.vaddrHi = c.vaddrHi(id);
            e.vaddrLo = c.vaddrLo(id);
            e.daddrHi = c.daddrHi(id);
            e.daddrLo = c.daddrLo(id);
            if (fullNat) {
                e.localAddrHi = c.laddrHi(id);
                e.localAddrLo = c.laddrLo(id);
            }
        }

        @Override
        void templateAddresses(SyncEntry e, int t, RealServer dest) {
            e.type = IpvsSync.STYPE_F_INET6;
            e.caddrHi = p.clientNetHi(t);
            e.caddrLo = p.clientNetLo(t);
            e.vaddrHi = p.vaddrHi(t);
            e.vaddrLo = p.vaddrLo(t);
            e.daddrHi = dest.addr6Hi;
            e.daddrLo = dest.addr6Lo;
        }
    }
}
