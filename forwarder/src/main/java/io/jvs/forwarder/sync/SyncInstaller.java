package io.jvs.forwarder.sync;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.PersistenceTable;
import io.jvs.forwarder.conn.PersistenceTable6;
import io.jvs.forwarder.conn.SynProxyState;
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
 * and templates count in persistconns. IPv6 entries go into the {@link ConnectionTable6} of the
 * same event loop, found by the IPv6 service (proto, VIP, port; or -f mark -6) and real server
 * (address, port) they name, and IPv6 templates into its {@link PersistenceTable6}; an IPv6
 * FULLNAT entry takes the master's local address and port from jvs's option 26; DR, NAT, TUN
 * (ip6ip6, GUE) and FULLNAT entries alike. The SYN proxy's option 25 sets the proxy's state of
 * an entry of either family ({@link #applyState}). Allocation-free per entry.
 */
final class SyncInstaller implements Runnable {
    /** ip_vs_proc_conn's timeout for a template sent without one (3 minutes). */
    private static final long TEMPLATE_DEFAULT_TIMEOUT_NANOS = 180_000_000_000L;

    private final ConnectionTable conns;
    private final ConnectionTable6 conns6;
    private final PersistenceTable templates;
    private final PersistenceTable6 templates6;
    private final ServiceRegistry services;
    private final SyncQueue queue;
    private final SyncCounters counters;
    /** Set by the receiver when it schedules a run; cleared by the run before it drains. */
    final AtomicBoolean scheduled = new AtomicBoolean();
    private final SyncEntry e = new SyncEntry();
    private final LongSupplier clock;

    SyncInstaller(ConnectionTable conns, ConnectionTable6 conns6, ServiceRegistry services, SyncQueue queue,
                  SyncCounters counters) {
        this(conns, conns6, services, queue, counters, System::nanoTime);
    }

    /** Tests: expiry times from this clock. */
    SyncInstaller(ConnectionTable conns, ConnectionTable6 conns6, ServiceRegistry services, SyncQueue queue,
                  SyncCounters counters, LongSupplier clock) {
        this.clock = clock;
        this.conns = conns;
        this.conns6 = conns6;
        this.templates = conns.templates();
        this.templates6 = conns6.templates();
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
        if (e.ipv6()) {
            install6(e, table, now);
            return;
        }
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
        applyState(conns, id, e, fullNat);
    }

    /** ip_vs_proc_conn for an IPv6 entry (af AF_INET6): the same steps over the IPv6 table. */
    private void install6(SyncEntry e, ServiceTable table, long now) {
        final VirtualService svc = e.fwmark != 0 ? table.lookupFwmark6(e.fwmark)
                : table.classify6(e.protocol, e.vaddrHi, e.vaddrLo, e.vport); // with the port-0 retry
        if (svc == null) {
            counters.dropped(SyncDrop.NO_SERVICE);
            return;
        }
        RealServer dest = svc.dest6(e.daddrHi, e.daddrLo, e.dport);
        if (dest == null) {
            dest = svc.dest6(e.daddrHi, e.daddrLo, 0);
        }
        if (dest == null) {
            counters.dropped(SyncDrop.NO_DEST);
            return;
        }
        if (e.template()) {
            installTemplate6(e, svc, dest, now);
            return;
        }
        final boolean fullNat = dest.method == ForwardMethod.FULLNAT;
        if (fullNat && !e.hasFullNat) {
            counters.dropped(SyncDrop.FULLNAT_OPTION_MISSING);
            return;
        }
        final boolean inactive = (e.flags & IpvsSync.CONN_F_INACTIVE) != 0;
        int id = conns6.lookupIn(e.protocol, e.caddrHi, e.caddrLo, e.cport, e.vaddrHi, e.vaddrLo, e.vport, now);
        if (id >= 0 && (conns6.daddrHi(id) != e.daddrHi || conns6.daddrLo(id) != e.daddrLo
                || conns6.dport(id) != e.dport
                || fullNat && (conns6.laddrHi(id) != e.localAddrHi || conns6.laddrLo(id) != e.localAddrLo
                || conns6.lport(id) != e.localPort))) {
            if (inactive) {
                counters.dropped(SyncDrop.STALE); // the expiration message of a connection already replaced
                return;
            }
            conns6.remove(id);
            id = -1;
        }
        final long given = e.timeout * 1_000_000_000L;
        if (id >= 0) {
            conns6.applySync(id, e.state, inactive, given > 0 ? given : conns6.stateTimeoutNanos(id, e.state), now);
            counters.updated();
        } else {
            long timeout = given > 0 ? given : conns6.stateTimeoutNanos(svc, e.protocol, e.state);
            id = conns6.insertSynced(e.protocol, e.caddrHi, e.caddrLo, e.cport, e.vaddrHi, e.vaddrLo, e.vport,
                    e.daddrHi, e.daddrLo, e.dport, svc, dest, e.state, inactive, timeout, e.localAddrHi, e.localAddrLo,
                    e.localPort, now);
            if (id == ConnectionTable6.FULL) {
                counters.dropped(SyncDrop.TABLE_FULL);
                return;
            }
            if (id == ConnectionTable6.LOCAL_PORT_TAKEN) {
                counters.dropped(SyncDrop.LOCAL_PORT_TAKEN);
                return;
            }
            counters.installed();
        }
        applyState(conns6, id, e, fullNat);
    }

    /**
     * The master's FULLNAT (options 24/26) and SYN proxy (option 25) state onto installed or updated
     * entry id, either family: this director translates (or completes the splice) as the master would.
     */
    private static void applyState(SynProxyState conns, int id, SyncEntry e, boolean fullNat) {
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
            conns.startSynProxy(id, e.spSeq, e.spTs, e.spClientIsn, e.spOptions << 12, e.spClientWindow);
            if (e.spState == IpvsSync.SYNPROXY_SPLICED) {
                conns.spliceSynProxy(id, e.spSeq, e.spTs, e.spWinShift);
            }
        }
    }

    /** ip_vs_proc_conn for an IPv6 template: its client network keeps the master's real server here. */
    private void installTemplate6(SyncEntry e, VirtualService svc, RealServer dest, long now) {
        long timeout = e.timeout > 0 ? e.timeout * 1_000_000_000L : TEMPLATE_DEFAULT_TIMEOUT_NANOS;
        int t = templates6.lookup(e.protocol, e.caddrHi, e.caddrLo, e.vaddrHi, e.vaddrLo, e.vport, now);
        if (t >= 0) {
            templates6.applySync(t, timeout, now);
            counters.updated();
            return;
        }
        if (templates6.insert(e.protocol, e.caddrHi, e.caddrLo, e.vaddrHi, e.vaddrLo, e.vport, svc, dest, timeout,
                now) < 0) {
            counters.dropped(SyncDrop.TABLE_FULL);
            return;
        }
        counters.installed();
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
