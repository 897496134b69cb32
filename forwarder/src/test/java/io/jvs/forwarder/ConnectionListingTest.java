package io.jvs.forwarder;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.ctl.RateEstimator;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmFormat;
import io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * -L -n -c of a mixed-family TUN connection names its real server in the server's family, as the
 * kernel's /proc/net/ip_vs_conn prints the destination by cp->daf (ip_vs_conn_seq_show) and
 * ipvsadm shows it: lines written out by hand.
 */
class ConnectionListingTest {
    static final IpvsadmFormat.Names NO_NAMES = new IpvsadmFormat.Names() {
        @Override
        public String host(int addr) {
            throw new AssertionError("-n asks no names");
        }

        @Override
        public String port(int port, int proto) {
            throw new AssertionError("-n asks no names");
        }
    };

    static String listed(List<DataPathView.Connection> rows) {
        return new IpvsadmFormat(new RateEstimator(), NO_NAMES).connections(rows, IpvsadmParser.FMT_NUMERIC)
                .lines().toList().get(2)
                .replaceFirst("^(TCP) \\d\\d:\\d\\d", "$1 MM:SS"); // the seconds left depend on the clock
    }

    @Test
    void anIpv4ServicesConnectionToAnIpv6TunServerListsTheServersIpv6Address() {
        RealServer ts = new RealServer(Dest.ipv6(Ipv6Address.parse("2001:db8:2::11"), 80, 1, ForwardMethod.TUN),
                new DestStats(), 1, false);
        VirtualService svc = new VirtualService(Protocol.TCP, Ipv4Address.parse("10.0.0.100"), 80, "rr",
                new RealServer[] {ts}, null, new DestStats());
        ConnectionTable t = new ConnectionTable(8, Timeouts.DEFAULTS);
        t.insert(Protocol.TCP, Ipv4Address.parse("10.0.1.2"), 40000, Ipv4Address.parse("10.0.0.100"), 80, 0, 80, svc,
                ts, System.nanoTime());
        List<DataPathView.Connection> rows = new ArrayList<>();
        ConnectionListing.copyConnections(t, 0, t.capacity(), 10, rows, new int[1]);
        assertEquals("TCP MM:SS  NONE        10.0.1.2:40000     10.0.0.100:80      [2001:db8:2::11]:80", listed(rows));
    }

    @Test
    void anIpv6ServicesConnectionToAnIpv4TunServerListsTheServersIpv4Address() {
        RealServer ts = new RealServer(new Dest(Ipv4Address.parse("10.0.2.11"), 80, 1, ForwardMethod.TUN, 0, 0),
                new DestStats(), 1, true);
        VirtualService svc = new VirtualService(Protocol.TCP, 0, 80, "rr", new RealServer[] {ts}, null,
                new DestStats());
        Ipv6Address client = Ipv6Address.parse("2001:db8:1::2");
        Ipv6Address vip = Ipv6Address.parse("2001:db8::100");
        ConnectionTable6 t = new ConnectionTable6(8, Timeouts.DEFAULTS);
        t.insert(Protocol.TCP, client.hi(), client.lo(), 40000, vip.hi(), vip.lo(), 80, 0, 0, 80, svc, ts,
                System.nanoTime());
        List<DataPathView.Connection> rows = new ArrayList<>();
        ConnectionListing.copyConnections6(t, 0, t.capacity(), 10, rows, new int[1]);
        assertEquals("TCP MM:SS  NONE        [2001:db8:1::2]:40000 [2001:db8::100]:80 10.0.2.11:80", listed(rows));
    }
}
