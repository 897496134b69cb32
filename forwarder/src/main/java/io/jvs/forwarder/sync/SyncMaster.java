package io.jvs.forwarder.sync;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.PersistenceTable;
import io.jvs.forwarder.conn.PersistenceTable6;
import io.jvs.forwarder.conn.TcpState;
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
 * ({@link PersistenceTable6}) follow the same rules and go out as struct ip_vs_sync_v6 entries in
 * the same messages, as ip_vs_sync_conn mixes both families; their per-connection state has arrays
 * of its own, indexed by the IPv6 tables' ids. A FULLNAT connection carries its local address,
 * port and sequence state in jvs's option (24 for IPv4, 26 for IPv6), mandatory, so a kernel
 * backup drops it rather than install it as plain NAT.
 */
public final class SyncMaster {
    private final ConnectionTable conns;
    private final PersistenceTable templates;
    private final SyncPolicy policy;
    private final SyncQueue queue;
    private final SyncCounters counters;
    private final int[] inPkts;
    private final long[] syncEnds;
    private final byte[] oldStates;
    private final int[] tmplInPkts;
    private final long[] tmplSyncEnds;
    private final ConnectionTable6 conns6;
    private final int[] inPkts6;
    private final long[] syncEnds6;
    private final byte[] oldStates6;
    private final PersistenceTable6 templates6;
    private final int[] tmplInPkts6;
    private final long[] tmplSyncEnds6;
    private final SyncEntry scratch = new SyncEntry();

    SyncMaster(ConnectionTable conns, ConnectionTable6 conns6, SyncPolicy policy, SyncQueue queue,
               SyncCounters counters) {
        this.conns = conns;
        this.conns6 = conns6;
        inPkts6 = new int[conns6.capacity()];
        syncEnds6 = new long[conns6.capacity()];
        oldStates6 = new byte[conns6.capacity()];
        templates6 = conns6.templates();
        tmplInPkts6 = new int[templates6.capacity()];
        tmplSyncEnds6 = new long[templates6.capacity()];
        this.templates = conns.templates();
        this.policy = policy;
        this.queue = queue;
        this.counters = counters;
        inPkts = new int[conns.capacity()];
        syncEnds = new long[conns.capacity()];
        oldStates = new byte[conns.capacity()];
        tmplInPkts = new int[templates.capacity()];
        tmplSyncEnds = new long[templates.capacity()];
    }

    /**
     * An inbound (client to server) packet of connection id has been accounted.
     *
     * @param created     the packet created the connection (its id's sync state starts over)
     * @param tmplCreated the packet created the connection's template
     */
    public void inbound(int id, boolean created, boolean tmplCreated, long nowNanos) {
        if (created) {
            inPkts[id] = 0;
            syncEnds[id] = 0;
            oldStates[id] = (byte) TcpState.NONE;
        }
        final long nowMs = nowNanos / 1_000_000L;
        final VirtualService svc = conns.service(id);
        if (!svc.onePacket) { // "Do not sync ONE PACKET"
            int pkts = ++inPkts[id];
            final int state = conns.state(id);
            if (connNeeded(syncEnds, oldStates, id, conns.proto(id), state,
                    conns.stateTimeoutNanos(id, state) / 1_000_000L, pkts, nowMs)) {
                enqueueConnection(id, nowNanos);
            }
        }
        final int t = conns.controller(id);
        if (t >= 0 && templates.isLive(t)) {
            if (tmplCreated) {
                tmplInPkts[t] = 0;
                tmplSyncEnds[t] = 0;
            }
            int pkts = ++tmplInPkts[t];
            long timeoutMs = svc.persistTimeoutNanos / 1_000_000L;
            if (needed(tmplSyncEnds, t, timeoutMs, pkts, nowMs, false, true)) {
                enqueueTemplate(t, nowNanos);
            }
        }
    }

    /**
     * An inbound packet of IPv6 connection id (worker 0's {@link ConnectionTable6}) has been
     * accounted; as {@link #inbound}: the connection (FULLNAT's with option 26), then the
     * {@link PersistenceTable6} template that placed it.
     *
     * @param created     the packet created the connection (its id's sync state starts over)
     * @param tmplCreated the packet created the connection's template
     */
    public void inbound6(int id, boolean created, boolean tmplCreated, long nowNanos) {
        if (created) {
            inPkts6[id] = 0;
            syncEnds6[id] = 0;
            oldStates6[id] = (byte) TcpState.NONE;
        }
        final long nowMs = nowNanos / 1_000_000L;
        final VirtualService svc = conns6.service(id);
        // Not the SYN proxy's IPv6 connections: the IPv6 entry carries no SYN proxy option yet, and a
        // backup would install them as plain NAT, untranslated.
        if (!svc.onePacket && conns6.synProxyState(id) == io.jvs.forwarder.conn.SynProxyState.SP_NONE) {
            final int pkts = ++inPkts6[id];
            final int state = conns6.state(id);
            if (connNeeded(syncEnds6, oldStates6, id, conns6.proto(id), state,
                    conns6.stateTimeoutNanos(id, state) / 1_000_000L, pkts, nowMs)) {
                enqueueConnection6(id, nowNanos);
            }
        }
        final int t = conns6.controller(id);
        if (t >= 0 && templates6.isLive(t)) {
            if (tmplCreated) {
                tmplInPkts6[t] = 0;
                tmplSyncEnds6[t] = 0;
            }
            int pkts = ++tmplInPkts6[t];
            if (needed(tmplSyncEnds6, t, svc.persistTimeoutNanos / 1_000_000L, pkts, nowMs, false, true)) {
                enqueueTemplate6(t, nowNanos);
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

    private void enqueueConnection(int id, long nowNanos) {
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
        e.caddr = conns.caddr(id);
        e.vaddr = conns.vaddr(id);
        e.daddr = conns.daddr(id);
        if (dest.method == ForwardMethod.FULLNAT) {
            e.hasFullNat = true;
            e.localAddr = conns.laddr(id);
            e.localPort = conns.lport(id);
            e.fullNatFlags = (conns.seqSet(id) ? IpvsSync.FULLNAT_F_SEQ_SET : 0)
                    | (conns.proxyAcked(id) ? IpvsSync.FULLNAT_F_PROXY_ACKED : 0)
                    | (conns.toaOnAckSent(id) ? IpvsSync.FULLNAT_F_TOA_ON_ACK : 0);
            e.seqBase = conns.seqBase(id);
            e.seqDelta = conns.seqDelta(id);
            e.tsDelta = conns.tsDelta(id);
        }
        byte sp = conns.synProxyState(id);
        if (sp != ConnectionTable.SP_NONE) {
            // a backup taking the connection over must translate as this director does (IpvsSync, option 25)
            e.hasSynProxy = true;
            e.spState = sp == ConnectionTable.SP_SPLICED ? IpvsSync.SYNPROXY_SPLICED : IpvsSync.SYNPROXY_AWAITING;
            e.spSeq = conns.synProxySeq(id);
            e.spTs = conns.synProxyTs(id);
            e.spClientIsn = conns.synProxyClientIsn(id);
            e.spOptions = conns.synProxyOpts(id) >>> 12;
            e.spClientWindow = conns.synProxyClientWindow(id);
            e.spWinShift = conns.synProxyWinShift(id);
        }
        offer(e);
    }

    /** The IPv6 connection as struct ip_vs_sync_v6; FULLNAT's with jvs's option 26. */
    private void enqueueConnection6(int id, long nowNanos) {
        final SyncEntry e = scratch.clear();
        final RealServer dest = conns6.dest(id);
        e.type = IpvsSync.STYPE_F_INET6;
        e.protocol = conns6.proto(id);
        e.flags = forwardFlag(dest.method) | (conns6.isActive(id) ? 0 : IpvsSync.CONN_F_INACTIVE)
                | (conns6.outputSeen(id) ? 0 : IpvsSync.CONN_F_NOOUTPUT);
        e.state = conns6.state(id);
        e.cport = conns6.cport(id);
        e.vport = conns6.vport(id);
        e.dport = conns6.dport(id);
        e.fwmark = conns6.service(id).fwmark;
        e.timeout = secondsLeft(conns6.expiresAtNanos(id), nowNanos);
        e.caddrHi = conns6.caddrHi(id);
        e.caddrLo = conns6.caddrLo(id);
        e.vaddrHi = conns6.vaddrHi(id);
        e.vaddrLo = conns6.vaddrLo(id);
        e.daddrHi = conns6.daddrHi(id);
        e.daddrLo = conns6.daddrLo(id);
        if (dest.method == ForwardMethod.FULLNAT) {
            e.hasFullNat = true;
            e.localAddrHi = conns6.laddrHi(id);
            e.localAddrLo = conns6.laddrLo(id);
            e.localPort = conns6.lport(id);
            e.fullNatFlags = (conns6.seqSet(id) ? IpvsSync.FULLNAT_F_SEQ_SET : 0)
                    | (conns6.proxyAcked(id) ? IpvsSync.FULLNAT_F_PROXY_ACKED : 0)
                    | (conns6.toaOnAckSent(id) ? IpvsSync.FULLNAT_F_TOA_ON_ACK : 0);
            e.seqBase = conns6.seqBase(id);
            e.seqDelta = conns6.seqDelta(id);
            e.tsDelta = conns6.tsDelta(id);
        }
        offer(e);
    }

    /**
     * An IPv6 template as struct ip_vs_sync_v6 with IP_VS_CONN_F_TEMPLATE, as the kernel sends it:
     * the client network (the client cut to the -M prefix length) as caddr, cport 0, the VIP and
     * the key's port (0 for a port-0 service), the real server.
     */
    private void enqueueTemplate6(int t, long nowNanos) {
        final SyncEntry e = scratch.clear();
        final RealServer dest = templates6.dest(t);
        final VirtualService svc = templates6.service(t);
        e.type = IpvsSync.STYPE_F_INET6;
        e.protocol = templates6.proto(t);
        e.flags = IpvsSync.CONN_F_TEMPLATE | forwardFlag(dest.method);
        e.vport = templates6.vport(t);
        e.dport = dest.port;
        e.fwmark = svc.fwmark;
        long left = secondsLeft(templates6.expiresAtNanos(t), nowNanos);
        e.timeout = left > 0 ? left : svc.persistTimeoutNanos / 1_000_000_000L;
        e.caddrHi = templates6.clientNetHi(t);
        e.caddrLo = templates6.clientNetLo(t);
        e.vaddrHi = templates6.vaddrHi(t);
        e.vaddrLo = templates6.vaddrLo(t);
        e.daddrHi = dest.addr6Hi;
        e.daddrLo = dest.addr6Lo;
        offer(e);
    }

    private void enqueueTemplate(int t, long nowNanos) {
        final SyncEntry e = scratch.clear();
        final RealServer dest = templates.dest(t);
        final VirtualService svc = templates.service(t);
        e.protocol = templates.proto(t);
        e.flags = IpvsSync.CONN_F_TEMPLATE | forwardFlag(dest.method);
        e.state = 0;
        e.cport = 0;
        e.vport = templates.vport(t);
        e.dport = dest.port;
        e.fwmark = svc.fwmark;
        long left = secondsLeft(templates.expiresAtNanos(t), nowNanos);
        e.timeout = left > 0 ? left : svc.persistTimeoutNanos / 1_000_000_000L;
        e.caddr = templates.clientNet(t);
        e.vaddr = templates.vkey(t);
        e.daddr = dest.addr;
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
}
