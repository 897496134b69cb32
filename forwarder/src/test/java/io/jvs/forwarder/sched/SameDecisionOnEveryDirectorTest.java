package io.jvs.forwarder.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.ctl.ipvsadm.ConfigFile;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.VirtualService;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ECMP (issue 14): directors behind one multipath route must send a flow to the same real server,
 * whichever of them the router picks. Three directors are three tables built apart from the same
 * lines (own builder, own scheduler instances); the consistent-hash schedulers give the same
 * server for every flow. The real servers' order is part of the configuration: mh built over
 * them in another order decides differently, which is why the configuration digest keeps the order.
 */
class SameDecisionOnEveryDirectorTest {
    static VirtualService director(String sched, boolean reversed) throws Exception {
        List<String> lines = new java.util.ArrayList<>(List.of(
                "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1",
                "-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 2",
                "-a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 1"));
        lines.addFirst("-A -t 10.0.0.100:80 -s " + sched);
        if (reversed) {
            List<String> rs = new java.util.ArrayList<>(lines.subList(1, lines.size()));
            java.util.Collections.reverse(rs);
            lines = new java.util.ArrayList<>(List.of(lines.getFirst()));
            lines.addAll(rs);
        }
        ServiceConfig c = ConfigFile.parse("director", lines, Schedulers.factory(4093));
        ServiceTable t = new ServiceTableBuilder(Schedulers.factory(4093)).build(c.services(), c.fwmarkRules(), ServiceTable.EMPTY);
        return t.services().getFirst();
    }

    @ParameterizedTest
    @ValueSource(strings = {"mh -b mh-port", "mh", "sh -b sh-port", "sh", "dh"})
    void everyDirectorPicksTheSameServerForEveryFlow(String sched) throws Exception {
        VirtualService[] directors = {director(sched, false), director(sched, false), director(sched, false)};
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 5000; i++) {
            int client = 0x0a00_0100 + (i * 7919 % 65536);
            int port = 1024 + (i * 104729 % 60000);
            int vip = sched.equals("dh") ? 0x0a00_0064 + (i % 50) : 0x0a00_0064;
            RealServer first = directors[0].scheduler.schedule(client, port, vip, 80);
            assertNotNull(first);
            used.add(first.addr);
            for (int d = 1; d < directors.length; d++) {
                RealServer other = directors[d].scheduler.schedule(client, port, vip, 80);
                assertEquals(first.addr, other.addr, sched + ": director" + (d + 1) + " for client " + i);
            }
        }
        assertTrue(used.size() > 1, sched + " spreads flows: " + used);
    }

    @org.junit.jupiter.api.Test
    void mhOverTheSameServersInAnotherOrderDecidesDifferently() throws Exception {
        VirtualService a = director("mh -b mh-port", false);
        VirtualService b = director("mh -b mh-port", true);
        int differ = 0;
        for (int i = 0; i < 5000; i++) {
            int client = 0x0a00_0100 + (i * 7919 % 65536);
            int port = 1024 + (i * 104729 % 60000);
            if (a.scheduler.schedule(client, port, 0x0a00_0064, 80).addr != b.scheduler.schedule(client, port, 0x0a00_0064, 80).addr) {
                differ++;
            }
        }
        assertTrue(differ > 0, "another order, another table");
    }
}
