package io.jvs.forwarder.sync;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.PersistenceTable;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.IpvsSync;
import io.jvs.packet.SyncEntry;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * The backup's half on the data path (ip_vs_proc_conn): runs on the event loop, which owns the
 * connection and template tables, and installs or updates the entries the receiver thread
 * checked and queued. No scheduler is asked and no scheduler state is touched; activeconns and
 * inactconns follow the master's INACTIVE flag, as ip_vs_bind_dest does for synced connections,
 * and templates count in persistconns. Allocation-free per entry.
 */
final class SyncInstaller implements Runnable {
    /** ip_vs_proc_conn's timeout for a template sent without one (3 minutes). */
    private static final long TEMPLATE_DEFAULT_TIMEOUT_NANOS = 180_000_000_000L;

    private final ConnectionTable conns;
    private final PersistenceTable templates;
    private final ServiceRegistry services;
    private final SyncQueue queue;
    private final SyncCounters counters;
    /** Set by the receiver when it schedules a run; cleared by the run before it drains. */
    final AtomicBoolean scheduled = new AtomicBoolean();
    private final SyncEntry e = new SyncEntry();
    private final LongSupplier clock;

    SyncInstaller(ConnectionTable conns, ServiceRegistry services, SyncQueue queue, SyncCounters counters) {
        this(conns, services, queue, counters, System::nanoTime);
    }

    /** Tests: expiry times from this clock. */
    SyncInstaller(ConnectionTable conns, ServiceRegistry services, SyncQueue queue, SyncCounters counters,
                  LongSupplier clock) {
        this.clock = clock;
        this.conns = conns;
        this.templates = conns.templates();
        this.services = services;
        this.queue = queue;
        this.counters = counters;
    }

    @Override
    public void run() {
        scheduled.set(false);
        long now = clock.getAsLong();
        while (queue.poll(e)) {
            install(e, now);
        }
    }

    void install(SyncEntry e, long now) {
        final ServiceTable table = services.current();
        VirtualService svc;
        if (e.fwmark != 0) {
            svc = table.lookupFwmark(e.fwmark);
        } else {
            svc = table.lookup(e.protocol, e.vaddr, e.vport);
            if (svc == null) {
                svc = table.lookup(e.protocol, e.vaddr, 0); // a port-0 (all ports) persistent service
            }
        }
        if (svc == null) {
            counters.dropped(SyncDrop.NO_SERVICE);
            return;
        }
        RealServer dest = svc.dest(e.daddr, e.dport);
        if (dest == null) {
            dest = svc.dest(e.daddr, 0);
        }
        if (dest == null) {
            counters.dropped(SyncDrop.NO_DEST);
            return;
        }
        if (e.template()) {
            installTemplate(e, svc, dest, now);
        } else {
            installConnection(e, svc, dest, now);
        }
    }

    private void installTemplate(SyncEntry e, VirtualService svc, RealServer dest, long now) {
        long timeout = e.timeout > 0 ? e.timeout * 1_000_000_000L : TEMPLATE_DEFAULT_TIMEOUT_NANOS;
        int t = templates.lookup(e.protocol, e.caddr, e.vaddr, e.vport, now);
        if (t >= 0) {
            templates.applySync(t, timeout, now);
            counters.updated();
            return;
        }
        if (templates.insert(e.protocol, e.caddr, e.vaddr, e.vport, svc, dest, timeout, now) < 0) {
            counters.dropped(SyncDrop.TABLE_FULL);
            return;
        }
        counters.installed();
    }

    private void installConnection(SyncEntry e, VirtualService svc, RealServer dest, long now) {
        final boolean fullNat = dest.method == ForwardMethod.FULLNAT;
        if (fullNat && !e.hasFullNat) {
            counters.dropped(SyncDrop.FULLNAT_OPTION_MISSING);
            return;
        }
        final boolean inactive = (e.flags & IpvsSync.CONN_F_INACTIVE) != 0;
        int id = conns.lookupIn(e.protocol, e.caddr, e.cport, e.vaddr, e.vport, now);
        if (id >= 0 && (conns.daddr(id) != e.daddr || conns.dport(id) != e.dport
                || fullNat && (conns.laddr(id) != e.localAddr || conns.lport(id) != e.localPort))) {
            if (inactive) {
                // "the expiration message for the connection that was already replaced"
                counters.dropped(SyncDrop.STALE);
                return;
            }
            conns.remove(id);
            id = -1;
        }
        final long given = e.timeout * 1_000_000_000L;
        if (id >= 0) {
            conns.applySync(id, e.state, inactive, given > 0 ? given : conns.stateTimeoutNanos(id, e.state), now);
            counters.updated();
        } else {
            long timeout = given > 0 ? given : defaultTimeout(e, svc);
            id = conns.insertSynced(e.protocol, e.caddr, e.cport, e.vaddr, e.vport, e.daddr, e.dport, svc, dest,
                    e.state, inactive, timeout, e.localAddr, e.localPort, now);
            if (id == ConnectionTable.FULL) {
                counters.dropped(SyncDrop.TABLE_FULL);
                return;
            }
            if (id == ConnectionTable.LOCAL_PORT_TAKEN) {
                counters.dropped(SyncDrop.LOCAL_PORT_TAKEN);
                return;
            }
            counters.installed();
        }
        if (fullNat) {
            conns.setSeqBase(id, e.seqBase);
            if ((e.fullNatFlags & IpvsSync.FULLNAT_F_SEQ_SET) != 0) {
                conns.setSeqOffsets(id, e.seqDelta, e.tsDelta);
            }
            if ((e.fullNatFlags & IpvsSync.FULLNAT_F_PROXY_ACKED) != 0) {
                conns.markProxyAcked(id);
            }
            if ((e.fullNatFlags & IpvsSync.FULLNAT_F_TOA_ON_ACK) != 0) {
                conns.markToaOnAckSent(id);
            }
        }
        if (e.hasSynProxy) {
            // the master's SYN proxy state: this director translates (or completes the splice) as it would
            conns.startSynProxy(id, e.spSeq, e.spTs, e.spClientIsn,
                    e.spOptions << 12, e.spClientWindow);
            if (e.spState == IpvsSync.SYNPROXY_SPLICED) {
                conns.spliceSynProxy(id, e.spSeq, e.spTs, e.spWinShift);
            }
        }
    }

    /** The state's timeout from the table (a sync entry with timeout 0, as version 0 sent). */
    private long defaultTimeout(SyncEntry e, VirtualService svc) {
        if (e.protocol == Protocol.TCP) {
            if (e.state == io.jvs.forwarder.conn.TcpState.ESTABLISHED && svc.tcpTimeoutNanos != 0) {
                return svc.tcpTimeoutNanos;
            }
            return conns.timeouts().nanos(e.state);
        }
        return svc.udpTimeoutNanos != 0 ? svc.udpTimeoutNanos : conns.timeouts().udpNanos();
    }
}
