package io.jvs.forwarder.conn;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.VirtualService;


/** A fake clock, one service with one real server, and a table reading that clock. */
final class Fixture {
    static final long SECOND = 1_000_000_000L;
    static final int VIP = 0x0a00_0064;      // 10.0.0.100
    static final int RIP = 0x0a00_000b;      // 10.0.0.11
    static final int CLIENT = 0xc0a8_0105;   // 192.168.1.5 (negative as an int: sign handling)

    long now = 1_000 * SECOND;
    final DestStats destStats = new DestStats();
    final DestStats svcStats = new DestStats();
    final RealServer dest;
    final VirtualService svc;
    final ConnectionTable table;

    Fixture(ForwardMethod method) {
        this(method, Protocol.TCP, 0, 0, 1024);
    }

    Fixture(ForwardMethod method, int proto, int upper, int lower, int capacity) {
        dest = new RealServer(RIP, 80, 1, method, upper, lower, destStats);
        svc = new VirtualService(proto, VIP, 80, "rr", new RealServer[] {dest}, null, svcStats);
        table = new ConnectionTable(capacity, Timeouts.DEFAULTS, () -> now);
    }

    int insert(int cport) {
        return table.insert(svc.proto, CLIENT, cport, VIP, 80, RIP, 80, svc, dest, now);
    }

    int lookupIn(int cport) {
        return table.lookupIn(svc.proto, CLIENT, cport, VIP, 80);
    }

    int lookupOut(int cport) {
        return table.lookupOut(svc.proto, RIP, 80, CLIENT, cport);
    }

    void in(int id, int flags) {
        table.update(id, false, flags, 60, now);
    }

    void out(int id, int flags) {
        table.update(id, true, flags, 1500, now);
    }

    String state(int id) {
        return TcpState.name(table.state(id));
    }

    /** "active/inactive" of the real server. */
    String counts() {
        return destStats.activeConns() + "/" + destStats.inactConns();
    }
}
