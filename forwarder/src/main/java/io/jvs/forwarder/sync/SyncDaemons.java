package io.jvs.forwarder.sync;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.Ipv4Address;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The director's connection sync daemons, as the kernel's start_sync_thread / stop_sync_thread
 * run them: at most one master (sends) and one backup (receives), each with its own settings;
 * both may run at once. Started and stopped by jvsadm ({@code --start-daemon},
 * {@code --stop-daemon}) or by the keepalived glue ({@link #switchRole}).
 *
 * <p>Threads: the master's sender and the backup's receiver each have their own; the data path's
 * share ({@link SyncMaster}, {@link SyncInstaller}) runs on the event loop, which owns the
 * tables. Methods here are synchronized (control threads).
 */
public final class SyncDaemons implements SyncControl, AutoCloseable {
    /** Entries queued between the data path and the sender or receiver thread. */
    static final int QUEUE_CAPACITY = 1 << 14;

    private final ConnectionTable conns;
    private final ConnectionTable6 conns6;
    private final ServiceRegistry services;
    private final Executor loop;
    private final SyncPolicy policy;
    private final SyncHook hook = new SyncHook();
    private final SyncCounters counters = new SyncCounters();

    private Running master;
    private Running backup;
    /** keepalived's lvs_sync_daemon settings, for {@link #switchRole}; null without one. */
    private SyncSettings keepalived;
    private SyncRole role = SyncRole.NONE;

    /** What runs for one role, with the settings it reports (maxLen effective). */
    private record Running(SyncSettings settings, AutoCloseable thread) {
    }

    /**
     * @param conns6 the IPv6 connection table of the same event loop (IPv6 connections are synced too)
     * @param loop the event loop that owns conns and conns6 (installs run there)
     */
    public SyncDaemons(ConnectionTable conns, ConnectionTable6 conns6, ServiceRegistry services, Executor loop,
                       SyncPolicy policy) {
        this.conns = Objects.requireNonNull(conns, "conns");
        this.conns6 = Objects.requireNonNull(conns6, "conns6");
        this.services = Objects.requireNonNull(services, "services");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    /** Why no daemon may start on this director (null: they may); see {@link #refuseStart}. */
    private volatile String refusal;

    /**
     * Makes every later {@link #start} fail with {@code why}: with --workers 2 or more the
     * connections live in several single-writer tables, which one daemon does not serve yet.
     */
    public SyncDaemons refuseStart(String why) {
        this.refusal = Objects.requireNonNull(why);
        return this;
    }

    /** What the data path calls per inbound packet. */
    public SyncHook hook() {
        return hook;
    }

    public SyncCounters counters() {
        return counters;
    }

    /** Starts the master or backup daemon (ipvsadm --start-daemon). */
    @Override
    public synchronized void start(SyncRole role, SyncSettings s) throws SyncException {
        if (refusal != null) {
            throw new SyncException(refusal);
        }
        if (role == SyncRole.MASTER ? master != null : backup != null) {
            throw new SyncException("Daemon has already run");
        }
        String mixed = mixedFamilyDest(services.current());
        if (mixed != null) {
            // ip_vs_genl_new_daemon: -EINVAL while mixed_address_family_dests > 0 (a sync entry
            // has no field for the real server's family)
            throw new SyncException("Invalid argument: " + mixed + " is of the other family than its service"
                    + " (a tunnel): the sync protocol cannot carry it, as IPVS's");
        }
        NetworkInterface ni;
        try {
            ni = NetworkInterface.getByName(s.iface());
        } catch (SocketException e) {
            ni = null;
        }
        if (ni == null) {
            throw new SyncException("No such device");
        }
        int mtu;
        List<int[]> nets = new ArrayList<>();
        InetAddress bind = null;
        try {
            mtu = ni.getMTU();
        } catch (SocketException e) {
            throw new SyncException("No such device", e);
        }
        for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
            if (ia.getAddress() instanceof Inet4Address a) {
                int prefix = ia.getNetworkPrefixLength();
                int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
                nets.add(new int[] {a.hashCode() & mask, mask});
                if (bind == null) {
                    bind = a;
                }
            }
        }
        // no IPv4 address: the master binds the wildcard (bind_mcastif_addr only complains) and
        // the backup, with no subnet to accept from, takes nothing (counted as foreign_source)
        SyncSettings shown = s.effective(role, mtu);
        int maxLen = shown.maxLen();
        try {
            if (role == SyncRole.MASTER) {
                SyncQueue q = new SyncQueue(QUEUE_CAPACITY);
                SyncSender sender = new SyncSender(q, counters, s, ni, bind, maxLen);
                counters.queues(q::size, null);
                hook.master(new SyncMaster(conns, conns6, policy, q, counters));
                sender.start();
                master = new Running(shown, sender);
            } else {
                SyncQueue q = new SyncQueue(QUEUE_CAPACITY);
                SyncInstaller installer = new SyncInstaller(conns, conns6, services, q, counters);
                int[] n = new int[nets.size()];
                int[] m = new int[nets.size()];
                for (int i = 0; i < n.length; i++) {
                    n[i] = nets.get(i)[0];
                    m[i] = nets.get(i)[1];
                }
                SyncReceiver receiver = new SyncReceiver(q, counters, installer, loop, s, ni, n, m, maxLen);
                counters.queues(null, q::size);
                receiver.start();
                backup = new Running(shown, receiver);
            }
        } catch (IOException e) {
            throw new SyncException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
    }

    /** The first real server of another family than its service's, as "real server X of S"; null if none. */
    static String mixedFamilyDest(ServiceTable table) {
        for (VirtualService v : table.services()) {
            for (RealServer d : v.dests) {
                if (d.ipv6 != v.ipv6) {
                    return "real server " + d.endpoint() + " of " + v.label();
                }
            }
        }
        return null;
    }

    /** Whether a master or a backup daemon runs (a real server of the other family is then refused). */
    public synchronized boolean running() {
        return master != null || backup != null;
    }

    /** Stops the master or backup daemon (ipvsadm --stop-daemon). */
    @Override
    public synchronized void stop(SyncRole role) throws SyncException {
        Running r = role == SyncRole.MASTER ? master : backup;
        if (r == null) {
            throw new SyncException("No daemon is running");
        }
        if (role == SyncRole.MASTER) {
            hook.master(null);
            master = null;
        } else {
            backup = null;
        }
        try {
            r.thread().close();
        } catch (Exception e) {
            throw new SyncException(e.getMessage(), e);
        }
    }

    /** The running daemons' settings: master first, then backup (as the kernel dumps them). */
    @Override
    public synchronized List<Daemon> list() {
        List<Daemon> l = new ArrayList<>(2);
        if (master != null) {
            l.add(new Daemon(SyncRole.MASTER, master.settings()));
        }
        if (backup != null) {
            l.add(new Daemon(SyncRole.BACKUP, backup.settings()));
        }
        return l;
    }

    /** One running daemon: its role and settings with the kernel's defaults filled in. */
    public record Daemon(SyncRole role, SyncSettings settings) {
    }

    /**
     * keepalived's {@code lvs_sync_daemon}: the settings the role switch starts daemons with.
     * The role stays NONE until {@link #switchRole} is called.
     */
    public synchronized void keepalived(SyncSettings s) {
        this.keepalived = Objects.requireNonNull(s);
    }

    /**
     * The glue for keepalived's lvs_sync_daemon: the VRRP instance named there changed state.
     * MASTER: stop the backup daemon and start the master (ipvs_syncd_master); BACKUP: the
     * reverse (ipvs_syncd_backup); NONE (FAULT, stopped): stop both. The VRRP state listener calls
     * this; without an lvs_sync_daemon it does nothing.
     */
    public synchronized void switchRole(SyncRole next) throws SyncException {
        if (keepalived == null || next == role) {
            return;
        }
        role = next;
        if (next != SyncRole.MASTER && master != null) {
            stop(SyncRole.MASTER);
        }
        if (next != SyncRole.BACKUP && backup != null) {
            stop(SyncRole.BACKUP);
        }
        if (next == SyncRole.MASTER || next == SyncRole.BACKUP) {
            start(next, keepalived);
        }
    }

    /** The role keepalived's glue last set. */
    public synchronized SyncRole role() {
        return role;
    }

    @Override
    public synchronized void close() {
        for (SyncRole r : new SyncRole[] {SyncRole.MASTER, SyncRole.BACKUP}) {
            if (r == SyncRole.MASTER ? master != null : backup != null) {
                try {
                    stop(r);
                } catch (SyncException ignored) {
                    // closing: nothing more to do
                }
            }
        }
    }

    static InetAddress inet(int addr) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (addr >>> 24), (byte) (addr >>> 16),
                (byte) (addr >>> 8), (byte) addr});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }

    /** ipvsadm's list_daemon line for one daemon. */
    public static String format(Daemon d) {
        SyncSettings s = d.settings();
        StringBuilder b = new StringBuilder();
        b.append(d.role().word()).append(" sync daemon (mcast=").append(s.iface()).append(", syncid=")
                .append(s.syncId());
        if (s.maxLen() != 0) {
            b.append(", maxlen=").append(s.maxLen());
        }
        if (s.group() != 0) {
            b.append(", group=").append(Ipv4Address.toString(s.group()));
        }
        if (s.port() != 0) {
            b.append(", port=").append(s.port());
        }
        if (s.ttl() != 0) {
            b.append(", ttl=").append(s.ttl());
        }
        return b.append(")\n").toString();
    }
}
