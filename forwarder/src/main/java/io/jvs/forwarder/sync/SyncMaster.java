package io.jvs.forwarder.sync;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.PersistenceTable;
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
    private final SyncEntry scratch = new SyncEntry();

    SyncMaster(ConnectionTable conns, SyncPolicy policy, SyncQueue queue, SyncCounters counters) {
        this.conns = conns;
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
            if (connNeeded(id, pkts, nowMs)) {
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

    private boolean connNeeded(int id, int pkts, long nowMs) {
        final int state = conns.state(id);
        final long timeoutMs = conns.stateTimeoutNanos(id, state) / 1_000_000L;
        if (conns.proto(id) == Protocol.TCP) {
            if (!syncedState(state)) {
                return false;
            }
            boolean force = state != oldStates[id];
            if (force && state != TcpState.ESTABLISHED) {
                oldStates[id] = (byte) state;
                syncEnds[id] = (nowMs + timeoutMs) & ~3L;
                return true;
            }
            if (needed(syncEnds, id, timeoutMs, pkts, nowMs, force, false)) {
                oldStates[id] = (byte) state;
                return true;
            }
            return false;
        }
        return needed(syncEnds, id, timeoutMs, pkts, nowMs, false, false);
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
