package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.forwarder.sched.DestinationHashingSchedulerTest;
import io.jvs.forwarder.sched.MaglevHashingSchedulerTest;
import io.jvs.forwarder.sched.SourceHashingSchedulerTest;
import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hashing and failover schedulers end to end: a real jvs-forwarder (packet mode) in front of
 * three nginx real servers, real TCP from jvs-client, which gets eight extra addresses for these
 * tests. Each case starts a director with one service and checks that every connection landed on
 * the server an independent model names for that connection: the unit tests' reference models
 * of the kernel's formulas (ip_vs_sh.c, ip_vs_dh.c, ip_vs_mh.c) fed with the address and port
 * curl reports for the connection and the destination it used, and hand-computed answers for fo.
 * Nothing here asks the director's own scheduler classes. This is what the unit tests cannot
 * show: the data path hands the scheduler the client's address and port and the destination
 * address the way the formulas expect them (byte order, which address, the sh-port/mh-port
 * flags from the config file), and the director keeps the kernel's newest-first list order.
 *
 * <p>Each case also checks that its inputs can tell a right formula from a wrong one: the
 * expected servers differ between clients (or destinations), so a constant answer, or hashing
 * the wrong address, does not pass.
 */
@Timeout(300)
class SchedulerIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    /** Extra addresses on jvs-client's eth0, added for this class and removed after it. */
    static final List<String> CLIENTS = IntStream.range(0, 8).mapToObj(i -> "10.0.1." + (20 + i)).toList();
    static final int PER_CLIENT = 6;
    /** The director's Maglev table size when --mh-table-size is not given (the kernel's default). */
    static final int MH_TABLE_SIZE = 4093;
    /** dh destinations: one per client address, all marked into one fwmark service. */
    static final List<String> DH_VIPS = IntStream.range(0, CLIENTS.size()).mapToObj(i -> "10.0.0." + (100 + i)).toList();

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(3);

    @BeforeAll
    static void clientAddresses() {
        for (String c : CLIENTS) {
            LAB.lab().ip(Lab.CLIENT, "addr", "replace", c + "/24", "dev", "eth0").requireOk();
        }
    }

    @AfterAll
    static void removeClientAddresses() {
        for (String c : CLIENTS) {
            LAB.lab().ip(Lab.CLIENT, "addr", "del", c + "/24", "dev", "eth0");
        }
        for (String vip : DH_VIPS) {
            LAB.lab().neighForget(Lab.ROUTER, vip, Lab.ROUTER_LAN_IFACE);
        }
    }

    // ------------------------------------------------------------------ the cases

    @ParameterizedTest(name = "sh weights {0}")
    @ValueSource(strings = {"1 1 1", "3 1 2"})
    void shSendsEachClientAddressToItsBucketsServer(String weights) {
        int[] w = weights(weights);
        RealServer[] list = ipvsList(w);
        spread(run("sh-" + weights.replace(' ', '-'), service("-s sh", w, "-g"),
                (client, port) -> SourceHashingSchedulerTest.model(list, false, false, client, port)));
    }

    @Test
    void shPortHashesTheClientPortToo() {
        int[] w = {1, 2, 1};
        RealServer[] list = ipvsList(w);
        Map<String, Set<String>> perClient = spread(run("sh-port", service("-s sh -b sh-port", w, "-g"),
                (client, port) -> SourceHashingSchedulerTest.model(list, false, true, client, port)));
        assertTrue(perClient.values().stream().anyMatch(s -> s.size() > 1),
                "some client's connections were due on different servers (the port counts): " + perClient);
    }

    @ParameterizedTest(name = "mh weights {0}")
    @ValueSource(strings = {"1 1 1", "1 3 2"})
    void mhSendsEachClientAddressToItsSlotsServer(String weights) {
        int[] w = weights(weights);
        RealServer[] table = MaglevHashingSchedulerTest.modelTable(ipvsList(w), MH_TABLE_SIZE);
        spread(run("mh-" + weights.replace(' ', '-'), service("-s mh", w, "-g"),
                (client, port) -> MaglevHashingSchedulerTest.model(table, false, client, 0)));
    }

    @Test
    void mhPortHashesTheClientPortToo() {
        int[] w = {1, 1, 1};
        RealServer[] table = MaglevHashingSchedulerTest.modelTable(ipvsList(w), MH_TABLE_SIZE);
        Map<String, Set<String>> perClient = spread(run("mh-port", service("-s mh -b mh-port", w, "-g"),
                (client, port) -> MaglevHashingSchedulerTest.model(table, false, client, port)));
        assertTrue(perClient.values().stream().anyMatch(s -> s.size() > 1),
                "some client's connections were due on different servers (the port counts): " + perClient);
    }

    /**
     * dh hashes the destination: one fwmark service (NAT, so the real servers need no extra VIPs)
     * takes eight destinations, client i asking destination i.
     */
    @Test
    void dhSendsEachDestinationToItsBucketsServer() {
        int[] w = {1, 1, 1};
        RealServer[] list = ipvsList(w);
        StringBuilder conf = new StringBuilder("-A -f 1 -s dh\n");
        for (int rs = 1; rs <= 3; rs++) {
            conf.append("-a -f 1 -r ").append(Lab.rsIp(rs)).append(":80 -m -w 1\n");
        }
        for (String vip : DH_VIPS) {
            conf.append("--add-mark -d ").append(vip).append("/32 -p tcp --dport 80 --set-mark 1\n");
            LAB.lab().neighForget(Lab.ROUTER, vip, Lab.ROUTER_LAN_IFACE);
        }
        int byClientDiffers = 0;
        for (int i = 0; i < CLIENTS.size(); i++) {
            if (DestinationHashingSchedulerTest.model(list, addr(CLIENTS.get(i)))
                    != DestinationHashingSchedulerTest.model(list, addr(DH_VIPS.get(i)))) {
                byClientDiffers++;
            }
        }
        assertTrue(byClientDiffers > 0, "hashing the client instead of the destination must give another answer");
        Map<String, String> vipOfClient = new TreeMap<>();
        for (int i = 0; i < CLIENTS.size(); i++) {
            vipOfClient.put(CLIENTS.get(i), DH_VIPS.get(i));
        }
        spread(run("dh", conf.toString(), vipOfClient::get,
                (client, port, vip) -> DestinationHashingSchedulerTest.model(list, addr(vip))));
    }

    /** fo by hand: the highest weight; a tie goes to the first in list order (rs3, rs2, rs1). */
    @ParameterizedTest(name = "fo weights {0} -> {1}")
    @CsvSource({
            "3 1 2, rs1",
            "1 3 2, rs2",
            "1 2 3, rs3",
            "2 2 1, rs2",
    })
    void foSendsEveryConnectionToTheHighestWeight(String weights, String expected) {
        int[] w = weights(weights);
        RealServer want = ipvsList(w)[3 - Integer.parseInt(expected.substring(2))]; // list: rs3, rs2, rs1
        run("fo-" + weights.replace(' ', '-'), service("-s fo", w, "-g"), (client, port) -> want);
    }

    // ------------------------------------------------------------------ helpers

    /** The expected server of a connection from client:port (addresses as host-order ints). */
    interface Model {
        RealServer pick(int client, int port);
    }

    /** As {@link Model}, for a connection to {@code vip}. */
    interface DestModel {
        RealServer pick(int client, int port, String vip);
    }

    static int[] weights(String list) {
        return java.util.Arrays.stream(list.trim().split(" +")).mapToInt(Integer::parseInt).toArray();
    }

    /** A TCP service on VIP:80 over rs1, rs2, rs3 (added in that order) with these weights. */
    static String service(String schedulerOptions, int[] weights, String method) {
        StringBuilder conf = new StringBuilder("-A -t " + Lab.VIP + ":80 " + schedulerOptions + "\n");
        for (int i = 0; i < weights.length; i++) {
            conf.append("-a -t ").append(Lab.VIP).append(":80 -r ").append(Lab.rsIp(i + 1)).append(":80 ")
                    .append(method).append(" -w ").append(weights[i]).append('\n');
        }
        return conf.toString();
    }

    /**
     * The service's list as IPVS keeps it, newest first: rs3, rs2, rs1 for servers added rs1,
     * rs2, rs3; {@code weights[0]} is rs1's.
     */
    static RealServer[] ipvsList(int[] weights) {
        RealServer[] list = new RealServer[weights.length];
        for (int i = 0; i < weights.length; i++) {
            int rs = weights.length - i;
            list[i] = new RealServer(addr(Lab.rsIp(rs)), 80, weights[rs - 1], ForwardMethod.DR, 0, 0,
                    new DestStats());
        }
        return list;
    }

    static String nameOf(RealServer r) {
        if (r == null) {
            return "none";
        }
        for (int rs = 1; rs <= 3; rs++) {
            if (r.addr == addr(Lab.rsIp(rs))) {
                return "rs" + rs;
            }
        }
        throw new AssertionError("the model picked a server outside the lab: " + r);
    }

    /** Dotted quad to a host-order int, by hand. */
    static int addr(String dotted) {
        String[] p = dotted.split("\\.");
        return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8
                | Integer.parseInt(p[3]);
    }

    private Map<String, Set<String>> run(String tag, String conf, Model model) {
        return run(tag, conf, c -> Lab.VIP, (client, port, v) -> model.pick(client, port));
    }

    /** Fails unless the connections were due on more than one server: else a constant would pass. */
    private static Map<String, Set<String>> spread(Map<String, Set<String>> due) {
        Set<String> servers = new HashSet<>();
        due.values().forEach(servers::addAll);
        assertTrue(servers.size() > 1, "the inputs must tell servers apart: due " + due);
        return due;
    }

    /**
     * Starts a director with {@code conf}, sends {@link #PER_CLIENT} new connections from each
     * of {@link #CLIENTS} to {@code vipOf(client)}:80 and checks each landed where the model
     * says. Returns, per client address, the servers its connections were due on.
     */
    private Map<String, Set<String>> run(String tag, String conf, Function<String, String> vipOf, DestModel model) {
        LAB.lab().resetDirector();
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        ForwarderProcess director = ForwarderProcess.start(LAB.lab(), "sched-" + tag, METRICS,
                List.of("--attach", "packet:eth0", "--config", writeConfig("sched-" + tag, conf), "--metrics", METRICS));
        try {
            Map<String, Set<String>> due = new TreeMap<>();
            Map<String, Integer> landed = new TreeMap<>();
            List<String> wrong = new ArrayList<>();
            int transfers = 0;
            for (String client : CLIENTS) {
                String vip = vipOf.apply(client);
                List<Lab.Transfer> ts = LAB.lab().getRepeatedly("http://" + vip + "/", PER_CLIENT, Duration.ofSeconds(60),
                        "--interface", client, "-H", "Connection: close");
                assertEquals(PER_CLIENT, ts.size(), "curl stopped early: " + ts.getLast() + "\n" + director.logTail(30));
                for (Lab.Transfer t : ts) {
                    transfers++;
                    String[] local = t.local().split(":");
                    assertEquals(client, local[0], "curl bound the client address: " + t);
                    String want = nameOf(model.pick(addr(local[0]), Integer.parseInt(local[1]), vip));
                    due.computeIfAbsent(client, k -> new HashSet<>()).add(want);
                    landed.merge(t.body(), 1, Integer::sum);
                    if (!t.ok() || t.numConnects() != 1 || !t.body().equals(want)) {
                        wrong.add(t.local() + " -> " + vip + ": got '" + t.body() + "' (http " + t.httpCode()
                                + ", curl exit " + t.curlExit() + "), the formula says " + want);
                    }
                }
            }
            System.out.println("[sched-" + tag + "] " + transfers + " connections from " + CLIENTS.size()
                    + " client addresses; landed " + landed + "; due per client " + due);
            assertTrue(wrong.isEmpty(), wrong.size() + " of " + transfers + " connections off the formula, e.g. "
                    + wrong.subList(0, Math.min(8, wrong.size())) + "\n" + director.logTail(30));
            return due;
        } finally {
            int rc = director.stop();
            System.out.println("[sched-" + tag + "] forwarder stopped, exit " + rc + "; log " + director.log());
        }
    }

    private static String writeConfig(String tag, String conf) {
        try {
            Path dir = LAB.lab().repo().resolve("forwarder/target/it-logs");
            Files.createDirectories(dir);
            Path p = dir.resolve("director-" + tag + ".conf");
            Files.writeString(p, conf);
            return p.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
