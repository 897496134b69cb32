package io.jvs.forwarder;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.PersistenceTable;
import io.jvs.forwarder.conn.PersistenceTable6;
import io.jvs.forwarder.conn.TcpState;
import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.sync.SyncControl;
import io.jvs.packet.Ipv6Address;
import io.netty.channel.EventLoop;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What jvsadm reads from the data path (the connection listing, {@code -c}): the connection
 * table and the persistence templates, then the IPv6 connection table and its templates, copied out on the event loop that owns them (they are
 * single-writer and must not be read from another thread), bounded by {@code max}.
 */
final class ConnectionListing implements DataPathView {
    /** Connection-table ids copied per event-loop task. */
    private static final int LIST_SLICE = 1 << 14;

    /** Each worker's event loop and the tables it owns (--workers: the listing is their union). */
    private final List<EventLoop> loops;
    private final List<ConnectionTable> tables;
    /** Each worker's IPv6 connections (same order as loops). */
    private final List<ConnectionTable6> tables6;
    private final SyncControl sync;

    ConnectionListing(List<EventLoop> loops, List<ConnectionTable> tables, List<ConnectionTable6> tables6,
                      SyncControl sync) {
        this.loops = List.copyOf(loops);
        this.tables = List.copyOf(tables);
        this.tables6 = List.copyOf(tables6);
        this.sync = sync;
    }

    @Override
    public SyncControl syncDaemons() {
        return sync;
    }

    @Override
    public int connectionCapacity() {
        int n = 0;
        for (ConnectionTable t : tables) {
            n += t.capacity();
        }
        return n; // the IPv4 table's, as the header's size= has always shown (IPv6's is a fraction of it)
    }

    @Override
    public Connections connections(int max) {
        // The table is walked in slices, one loop task each, so the data path never
        // stalls for more than one slice (~1 ms) however large the table is.
        List<DataPathView.Connection> out = new ArrayList<>();
        int[] total = {0};
        try {
            for (int w = 0; w < tables.size(); w++) {
                EventLoop loop = loops.get(w);
                ConnectionTable conns = tables.get(w);
                int capacity = conns.capacity();
                int templates = conns.templates().capacity();
                for (int from = 0; from < capacity; from += LIST_SLICE) {
                    int start = from;
                    loop.submit(() -> copyConnections(conns, start, Math.min(capacity, start + LIST_SLICE), max, out,
                            total)).get(10, TimeUnit.SECONDS);
                }
                // persistence templates, listed as the kernel's /proc/net/ip_vs_conn lists them
                for (int from = 0; from < templates; from += LIST_SLICE) {
                    int start = from;
                    loop.submit(() -> copyTemplates(conns, start, Math.min(templates, start + LIST_SLICE), max, out,
                            total)).get(10, TimeUnit.SECONDS);
                }
                ConnectionTable6 conns6 = tables6.get(w);
                int capacity6 = conns6.capacity();
                for (int from = 0; from < capacity6; from += LIST_SLICE) {
                    int start = from;
                    loop.submit(() -> copyConnections6(conns6, start, Math.min(capacity6, start + LIST_SLICE), max,
                            out, total)).get(10, TimeUnit.SECONDS);
                }
                int templates6 = conns6.templates().capacity();
                for (int from = 0; from < templates6; from += LIST_SLICE) {
                    int start = from;
                    loop.submit(() -> copyTemplates6(conns6.templates(), start, Math.min(templates6, start + LIST_SLICE),
                            max, out, total)).get(10, TimeUnit.SECONDS);
                }
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the data path did not answer: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        return new Connections(out, total[0]);
    }

    /** On the loop: copies live entries of ids [from, to) into out (up to max) and counts them in total[0]. */
    static void copyConnections(ConnectionTable conns, int from, int to, int max, List<DataPathView.Connection> out, int[] total) {
        long now = System.nanoTime();
        for (int id = from; id < to; id++) {
            if (!conns.isLive(id)) {
                continue;
            }
            total[0]++;
            if (out.size() < max) {
                int proto = conns.proto(id);
                String state = proto == Protocol.UDP ? "UDP" : TcpState.name(conns.state(id));
                long left = Math.max(0, conns.expiresAtNanos(id) - now) / 1_000_000_000L;
                RealServer d = conns.dest(id);
                // a TUN real server of the other family: its own address, as the kernel's
                // /proc/net/ip_vs_conn prints daddr by cp->daf
                out.add(new DataPathView.Connection(proto, conns.caddr(id), conns.cport(id), conns.vaddr(id),
                        conns.vport(id), d.ipv6 ? 0 : conns.daddr(id), conns.dport(id), state, left, null, null,
                        d.ipv6 ? new Ipv6Address(d.addr6Hi, d.addr6Lo) : null));
            }
        }
    }

    /** On the loop: as {@link #copyConnections}, for the IPv6 table. */
    static void copyConnections6(ConnectionTable6 conns, int from, int to, int max,
                                         List<DataPathView.Connection> out, int[] total) {
        long now = System.nanoTime();
        for (int id = from; id < to; id++) {
            if (!conns.isLive(id)) {
                continue;
            }
            total[0]++;
            if (out.size() < max) {
                int proto = conns.proto(id);
                String state = proto == Protocol.UDP ? "UDP" : TcpState.name(conns.state(id));
                long left = Math.max(0, conns.expiresAtNanos(id) - now) / 1_000_000_000L;
                RealServer d = conns.dest(id);
                out.add(new DataPathView.Connection(proto, 0, conns.cport(id), 0, conns.vport(id),
                        d.ipv6 ? 0 : d.addr, conns.dport(id), state, left,
                        new Ipv6Address(conns.caddrHi(id), conns.caddrLo(id)),
                        new Ipv6Address(conns.vaddrHi(id), conns.vaddrLo(id)),
                        d.ipv6 ? new Ipv6Address(conns.daddrHi(id), conns.daddrLo(id)) : null));
            }
        }
    }

    /** On the loop: as {@link #copyTemplates}, for IPv6 services' templates ({@code [client network]:0}). */
    private static void copyTemplates6(PersistenceTable6 t, int from, int to, int max,
                                       List<DataPathView.Connection> out, int[] total) {
        long now = System.nanoTime();
        for (int id = from; id < to; id++) {
            if (!t.isValid(id)) {
                continue;
            }
            total[0]++;
            if (out.size() < max) {
                RealServer d = t.dest(id);
                long left = Math.max(0, t.expiresAtNanos(id) - now) / 1_000_000_000L;
                out.add(DataPathView.Connection.ipv6(t.proto(id), new Ipv6Address(t.clientNetHi(id), t.clientNetLo(id)),
                        0, new Ipv6Address(t.vaddrHi(id), t.vaddrLo(id)), t.vport(id),
                        new Ipv6Address(d.addr6Hi, d.addr6Lo), d.port, "NONE", left));
            }
        }
    }

    /**
     * On the loop: persistence templates of ids [from, to), as IPVS shows them: state NONE,
     * client network with port 0, VIP:port (the mark as an address for fwmark services,
     * protocol IP), and the real server.
     */
    private static void copyTemplates(ConnectionTable conns, int from, int to, int max, List<DataPathView.Connection> out, int[] total) {
        PersistenceTable t = conns.templates();
        long now = System.nanoTime();
        for (int id = from; id < to; id++) {
            if (!t.isLive(id) || t.proto(id) == 0xffff) { // 0xffff: invalidated, no longer reachable
                continue;
            }
            total[0]++;
            if (out.size() < max) {
                RealServer d = t.dest(id);
                long left = Math.max(0, t.expiresAtNanos(id) - now) / 1_000_000_000L;
                out.add(new DataPathView.Connection(t.proto(id), t.clientNet(id), 0, t.vkey(id), t.vport(id),
                        d.addr, d.port, "NONE", left));
            }
        }
    }
}
