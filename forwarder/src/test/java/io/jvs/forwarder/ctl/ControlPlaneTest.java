package io.jvs.forwarder.ctl;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TestSchedulers;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlPlaneTest {
    static final int VIP = Ipv4Address.parse("10.0.0.100");
    static final int RS = Ipv4Address.parse("10.0.0.11");

    final List<ServiceTable> published = new ArrayList<>();
    final List<Timeouts> timeouts = new ArrayList<>();

    ControlPlane plane(ServiceConfig initial) {
        ControlPlane p = new ControlPlane(initial, new ServiceTableBuilder(TestSchedulers.FACTORY), t -> {
            t.services().forEach(s -> s.destList().forEach(d -> {
                if (d.weight == 666) {
                    throw new IllegalArgumentException("data path refuses weight 666");
                }
            }));
        });
        p.attach(new ControlPlane.Sink() {
            @Override
            public void publish(ServiceTable table) {
                published.add(table);
            }

            @Override
            public void timeouts(Timeouts t) {
                timeouts.add(t);
            }
        });
        return p;
    }

    static ServiceConfig withService(ServiceConfig c, ServiceSpec s) {
        List<ServiceSpec> l = new ArrayList<>(c.services());
        l.add(s);
        return new ServiceConfig(l, c.fwmarkRules(), c.timeouts());
    }

    @Test
    void attachPublishesAndChangesAreWholeOrNothing() {
        ControlPlane p = plane(ServiceConfig.EMPTY);
        assertEquals(1, published.size());
        assertEquals(List.of(Timeouts.DEFAULTS), timeouts);

        ServiceSpec web = new ServiceSpec(Protocol.TCP, VIP, 80, "rr")
                .withDest(new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR));
        p.apply(c -> withService(c, web));
        assertEquals(2, published.size());
        assertEquals(1, p.table().services().size());
        ServiceTable before = p.table();
        ServiceConfig configBefore = p.config();

        // Rejected by the builder (duplicate) and by the data-path check: nothing changes, nothing published.
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> p.apply(c -> withService(c, web)));
        assertTrue(dup.getMessage().contains("Service already exists"), dup.getMessage());
        ServiceSpec evil = new ServiceSpec(Protocol.TCP, VIP, 81, "rr")
                .withDest(new ServiceSpec.Dest(RS, 81, 666, ForwardMethod.DR));
        assertThrows(IllegalArgumentException.class, () -> p.apply(c -> withService(c, evil)));
        assertSame(before, p.table());
        assertSame(configBefore, p.config());
        assertEquals(2, published.size());

        // Timeouts are pushed only when they change.
        p.apply(c -> new ServiceConfig(c.services(), c.fwmarkRules(), new TimeoutSettings(60, 0, 0, java.util.Map.of())));
        assertEquals(2, timeouts.size());
        assertEquals(60, timeouts.get(1).tcp());
        p.apply(c -> c);
        assertEquals(2, timeouts.size());
        assertEquals(4, published.size());
    }

    @Test
    void counterStateCarriesAcrossChanges() {
        ServiceSpec web = new ServiceSpec(Protocol.TCP, VIP, 80, "rr")
                .withDest(new ServiceSpec.Dest(RS, 80, 1, ForwardMethod.DR));
        ControlPlane p = plane(withService(ServiceConfig.EMPTY, web));
        var stats = p.table().lookup(Protocol.TCP, VIP, 80).dests[0].stats;
        p.apply(c -> new ServiceConfig(List.of(web.withDests(List.of(web.dests().get(0).withWeight(5)))),
                c.fwmarkRules(), c.timeouts()));
        assertSame(stats, p.table().lookup(Protocol.TCP, VIP, 80).dests[0].stats);
        assertEquals(5, p.table().lookup(Protocol.TCP, VIP, 80).dests[0].weight);
    }
}
