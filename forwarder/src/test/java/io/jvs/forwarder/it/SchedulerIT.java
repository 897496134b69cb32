package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hashing and failover schedulers end to end: a real jvs-forwarder (packet mode, DR) in
 * front of three nginx real servers, real TCP from jvs-client. Each case starts a director with
 * one service, opens 60 new connections from the client's one address and checks that every one
 * landed on the server the scheduler's formula names for that client (sh, mh), that destination
 * (dh) or that weight set (fo). This is what the unit tests cannot show: the data path hands the
 * scheduler the client and destination addresses the way the formulas expect them.
 */
@Timeout(300)
class SchedulerIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static Lab lab;

    @BeforeAll
    static void labUp() {
        lab = Lab.up(3);
    }

    @AfterAll
    static void labDown() {
        if (lab != null) {
            lab.down();
        }
    }

    /**
     * The server the scheduler picks for jvs-client -> VIP:80, computed with the scheduler over
     * the service's list as the director builds it (newest first: rs3, rs2, rs1).
     */
    static String expected(String scheduler, int flags, int[] weights) {
        RealServer[] list = new RealServer[weights.length];
        for (int i = 0; i < weights.length; i++) {
            int rs = weights.length - i; // newest first
            list[i] = new RealServer(Ipv4Address.parse(Lab.rsIp(rs)), 80, weights[rs - 1], ForwardMethod.DR, 0, 0,
                    new DestStats());
        }
        RealServer r = Schedulers.create(scheduler, flags, list).schedule(Ipv4Address.parse(Lab.CLIENT_IP), 0,
                Ipv4Address.parse(Lab.VIP), 80);
        for (int rs = 1; rs <= weights.length; rs++) {
            if (r.addr == Ipv4Address.parse(Lab.rsIp(rs))) {
                return "rs" + rs;
            }
        }
        throw new AssertionError("picked a server outside the lab: " + r);
    }

    @ParameterizedTest(name = "{0} weights {1}")
    @CsvSource({
            "sh, 1 1 1",
            "sh, 3 1 2",
            "mh, 1 1 1",
            "dh, 1 1 1",
            "fo, 1 3 2",
    })
    void everyConnectionFromOneClientLandsWhereTheFormulaSays(String scheduler, String weightList) {
        String[] parts = weightList.trim().split(" ");
        int[] weights = new int[parts.length];
        StringBuilder conf = new StringBuilder("-A -t " + Lab.VIP + ":80 -s " + scheduler + "\n");
        for (int i = 0; i < parts.length; i++) {
            weights[i] = Integer.parseInt(parts[i]);
            conf.append("-a -t ").append(Lab.VIP).append(":80 -r ").append(Lab.rsIp(i + 1)).append(":80 -g -w ")
                    .append(weights[i]).append('\n');
        }
        String want = expected(scheduler, 0, weights);
        String tag = "sched-" + scheduler + "-" + weightList.trim().replace(' ', '-');
        lab.resetDirector();
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        ForwarderProcess director = ForwarderProcess.start(lab, tag, METRICS,
                List.of("--attach", "packet:eth0", "--config", writeConfig(tag, conf.toString()), "--metrics", METRICS));
        try {
            List<Lab.Transfer> ts = lab.getRepeatedly("http://" + Lab.VIP + "/", 60, Duration.ofSeconds(60),
                    "-H", "Connection: close");
            Map<String, Integer> perServer = new TreeMap<>();
            List<String> failed = new ArrayList<>();
            for (Lab.Transfer t : ts) {
                perServer.merge(t.body(), 1, Integer::sum);
                if (!t.ok() || t.numConnects() != 1) {
                    failed.add("#" + t.index() + " http " + t.httpCode() + " curl exit " + t.curlExit());
                }
            }
            System.out.println("[" + tag + "] 60 x GET / from " + Lab.CLIENT_IP + ": " + perServer + ", formula: " + want);
            assertEquals(60, ts.size(), "curl stopped early: " + (ts.isEmpty() ? "-" : ts.getLast()));
            assertTrue(failed.isEmpty(), failed.toString());
            assertEquals(Map.of(want, 60), perServer, director.logTail(30));
        } finally {
            int rc = director.stop();
            System.out.println("[" + tag + "] forwarder stopped, exit " + rc + "; log " + director.log());
        }
    }

    private static String writeConfig(String tag, String conf) {
        try {
            Path dir = lab.repo().resolve("forwarder/target/it-logs");
            Files.createDirectories(dir);
            Path p = dir.resolve("director-" + tag + ".conf");
            Files.writeString(p, conf);
            return p.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
