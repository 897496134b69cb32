package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.ctl.RateEstimator;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.Protocol;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class IpvsadmFormatTest {
    @Test
    void eachAddressIsResolvedOncePerListing() {
        List<Integer> asked = new ArrayList<>();
        IpvsadmFormat.Names names = new IpvsadmFormat.Names() {
            @Override
            public String host(int addr) {
                asked.add(addr);
                return "h" + (addr & 0xff);
            }

            @Override
            public String port(int port, int proto) {
                return Integer.toString(port);
            }
        };
        int client = Ipv4Address.parse("10.0.1.2");
        int vip = Ipv4Address.parse("10.0.0.100");
        int rs = Ipv4Address.parse("10.0.0.11");
        List<DataPathView.Connection> rows = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            rows.add(new DataPathView.Connection(Protocol.TCP, client, 40000 + i, vip, 80, rs, 80, "TIME_WAIT", 100));
        }
        String text = new IpvsadmFormat(new RateEstimator(), names).connections(rows, 0);
        assertEquals("TCP 01:40  TIME_WAIT   h2:40000           h100:80            h11:80", text.lines().toList().get(2));
        assertEquals(List.of(client, vip, rs), asked, "three lookups for 150 addresses");
        new IpvsadmFormat(new RateEstimator(), names).connections(rows, 0);
        assertEquals(6, asked.size(), "a new listing asks again (names may change)");
    }

    @Test
    void largenumIsPrintLargenum() {
        StringBuilder sb = new StringBuilder();
        for (long v : new long[]{0, 99_999_999L, 100_000_000L, 999_999_999L, 1_000_000_000L, 99_999_999_999L,
                100_000_000_000L, 99_999_999_999_999L, 100_000_000_000_000L, -1L}) {
            IpvsadmFormat.largenum(sb, v, 0);
            sb.append('|');
        }
        // "%9llu", then "%8lluK" etc.: nine characters each
        assertEquals("        0| 99999999|  100000K|  999999K|    1000M|   99999M|     100G|   99999G|     100T|"
                + "18446744T|", sb.toString());
        sb.setLength(0);
        IpvsadmFormat.largenum(sb, 123_456_789_012L, IpvsadmParser.FMT_EXACT);
        IpvsadmFormat.largenum(sb, 7, IpvsadmParser.FMT_EXACT);
        assertEquals(" 123456789012        7", sb.toString());
    }
}
