package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The Prometheus text parser the integration tests assert with. */
class MetricsTest {
    static final String TEXT = """
            # HELP jvs_real_server_connections_total Connections scheduled to the real server.
            # TYPE jvs_real_server_connections_total counter
            jvs_real_server_connections_total{service="TCP/10.0.0.100:80",real_server="10.0.0.12:80"} 102
            jvs_real_server_connections_total{service="TCP/10.0.0.100:80",real_server="10.0.0.11:80"} 101.0
            jvs_real_server_connections_total_created{service="TCP/10.0.0.100:80",real_server="10.0.0.11:80"} 1.7E9
            jvs_service_connections_total{service="TCP/10.0.0.100:80"} 203
            jvs_connection_table_entries 0
            jvs_tx_batch_size_bucket{le="+Inf"} 4995
            odd{msg="a \\"quoted\\", {braced} value",x="1"} NaN 1700000000000
            """;

    @Test
    void parsesNamesLabelsAndValues() {
        List<Metrics.Sample> s = Metrics.parse(TEXT);
        assertEquals(7, s.size());
        assertEquals("jvs_real_server_connections_total", s.get(0).name());
        assertEquals(Map.of("service", "TCP/10.0.0.100:80", "real_server", "10.0.0.12:80"), s.get(0).labels());
        assertEquals(102.0, s.get(0).value());
        assertEquals(Map.of(), s.get(4).labels());
        assertEquals("a \"quoted\", {braced} value", s.get(6).labels().get("msg"));
        assertTrue(Double.isNaN(s.get(6).value()));
    }

    @Test
    void selectorsMatchLabelsInAnyOrderAndNamesExactly() {
        List<Metrics.Sample> s = Metrics.parse(TEXT);
        String svc = "service=\"TCP/10.0.0.100:80\"";
        assertEquals(101.0, Metrics.sum(s, "jvs_real_server_connections_total",
                "real_server=\"10.0.0.11:80\"," + svc).getAsDouble());
        assertEquals(101.0, Metrics.sum(s, "jvs_real_server_connections_total",
                "{" + svc + ",real_server=\"10.0.0.11:80\"}").getAsDouble());
        assertEquals(203.0, Metrics.sum(s, "jvs_real_server_connections_total", svc).getAsDouble());
        assertEquals(203.0, Metrics.sum(s, "jvs_service_connections_total", svc).getAsDouble());
        assertEquals(0.0, Metrics.sum(s, "jvs_connection_table_entries", "").getAsDouble());
        assertFalse(Metrics.sum(s, "jvs_connection_table", "").isPresent(), "names match exactly, not by prefix");
        assertFalse(Metrics.sum(s, "jvs_service_connections_total", "service=\"TCP/10.0.0.100:81\"").isPresent());
        // not a selector: a substring of the label text
        assertEquals(101.0, Metrics.sum(s, "jvs_real_server_connections_total", "10.0.0.11").getAsDouble());
    }
}
