package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.SchedulerFactory;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.forwarder.service.TestSchedulers;
import io.jvs.forwarder.service.VirtualService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigFileTest {
    private static final SchedulerFactory SCHEDULERS = JvsadmHarness.SCHEDULERS;
    private static final int VIP = Ipv4Address.parse("10.0.0.100");

    @TempDir
    Path dir;

    private static ServiceConfig parse(String text) throws ConfigException {
        return ConfigFile.parse("jvs.conf", text.lines().toList(), SCHEDULERS);
    }

    /** The message of the parse error of {@code text}. */
    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> parse(text)).getMessage();
    }

    private static int ip(String s) {
        return Ipv4Address.parse(s);
    }

    // ---------------------------------------------------------------- happy paths

    @Test
    void parsesIpvsadmSaveOutput() throws Exception {
        ServiceConfig c = parse("""
                -A -t 10.0.0.100:80 -s rr
                -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
                -a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 3
                -A -u 10.0.0.100:53 -s wrr
                -a -u 10.0.0.100:53 -r 10.0.0.21:5353 -m -w 2
                -a -u 10.0.0.100:53 -r 10.0.0.22:53 -i -w 0
                """);
        assertEquals(2, c.services().size());
        ServiceSpec web = c.services().get(0);
        assertEquals(new ServiceSpec(Protocol.TCP, VIP, 80, "rr", List.of(
                new ServiceSpec.Dest(ip("10.0.0.11"), 80, 1, ForwardMethod.DR),
                new ServiceSpec.Dest(ip("10.0.0.12"), 80, 3, ForwardMethod.DR))), web);
        ServiceSpec dns = c.services().get(1);
        assertEquals(Protocol.UDP, dns.proto());
        assertEquals(53, dns.port());
        assertEquals("wrr", dns.scheduler());
        assertEquals(new ServiceSpec.Dest(ip("10.0.0.21"), 5353, 2, ForwardMethod.NAT), dns.dests().get(0));
        assertEquals(new ServiceSpec.Dest(ip("10.0.0.22"), 53, 0, ForwardMethod.TUN), dns.dests().get(1));
        assertEquals(TimeoutSettings.DEFAULTS, c.timeouts());
    }

    @Test
    void commentsBlankLinesLeadingIpvsadmAndDefaults() throws Exception {
        ServiceConfig c = parse("""
                # jvs director

                ipvsadm -A -t 10.0.0.100:80            # no -s: wlc
                \t-a -t 10.0.0.100:80 -r 10.0.0.11     # no port, no method, no weight
                ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.12:80 -m
                   # indented comment
                """);
        ServiceSpec s = c.services().getFirst();
        assertEquals("wlc", s.scheduler());
        assertEquals(new ServiceSpec.Dest(ip("10.0.0.11"), 80, 1, ForwardMethod.DR, 0, 0), s.dests().get(0));
        assertEquals(new ServiceSpec.Dest(ip("10.0.0.12"), 80, 1, ForwardMethod.NAT, 0, 0), s.dests().get(1));
    }

    @Test
    void longOptionsAndEqualsForm() throws Exception {
        ServiceConfig c = parse("""
                --add-service --tcp-service 10.0.0.100:443 --scheduler=wrr
                --add-server --tcp-service=10.0.0.100:443 --real-server 10.0.0.11:8443 --masquerading --weight 7 --u-threshold 100 --l-threshold=50
                --add-server --tcp-service 10.0.0.100:443 --real-server 10.0.0.12 --ipip
                --add-server --tcp-service 10.0.0.100:443 --real-server 10.0.0.13 --gatewaying
                --add-service --udp-service 10.0.0.100:53
                """);
        ServiceSpec s = c.services().getFirst();
        assertEquals("wrr", s.scheduler());
        assertEquals(new ServiceSpec.Dest(ip("10.0.0.11"), 8443, 7, ForwardMethod.NAT, 100, 50), s.dests().get(0));
        assertEquals(ForwardMethod.TUN, s.dests().get(1).method());
        assertEquals(ForwardMethod.DR, s.dests().get(2).method());
        assertEquals(Protocol.UDP, c.services().get(1).proto());
    }

    @Test
    void optionsInAnyOrderAndCommandAnywhere() throws Exception {
        ServiceConfig c = parse("""
                -s rr -t 10.0.0.100:80 -A
                -w 4 -r 10.0.0.11:80 -a -t 10.0.0.100:80
                """);
        assertEquals("rr", c.services().getFirst().scheduler());
        assertEquals(4, c.services().getFirst().dests().getFirst().weight());
    }

    @Test
    void thresholdsShortForm() throws Exception {
        ServiceConfig c = parse("""
                -A -t 10.0.0.100:80 -s rr
                -a -t 10.0.0.100:80 -r 10.0.0.11:80 -x 1000 -y 800
                -a -t 10.0.0.100:80 -r 10.0.0.12:80 -x 10
                """);
        ServiceSpec.Dest d = c.services().getFirst().dests().getFirst();
        assertEquals(1000, d.upperThreshold());
        assertEquals(800, d.lowerThreshold());
        assertEquals(10, c.services().getFirst().dests().get(1).upperThreshold());
    }

    @Test
    void drAndTunnelUseTheServicePortAsIpvsadmDoes() throws Exception {
        ServiceConfig c = parse("""
                -A -t 10.0.0.100:80 -s rr
                -a -t 10.0.0.100:80 -r 10.0.0.11:8080 -g
                -a -t 10.0.0.100:80 -r 10.0.0.12:8080 -i
                -a -t 10.0.0.100:80 -r 10.0.0.13:8080 -m
                """);
        List<ServiceSpec.Dest> d = c.services().getFirst().dests();
        assertEquals(80, d.get(0).port());
        assertEquals(80, d.get(1).port());
        assertEquals(8080, d.get(2).port());
    }

    @Test
    void portNames() throws Exception {
        ServiceConfig c = parse("""
                -A -t 10.0.0.100:http -s rr
                -a -t 10.0.0.100:80 -r 10.0.0.11:http-alt -m
                -A -u 10.0.0.100:domain -s rr
                """);
        assertEquals(80, c.services().getFirst().port());
        assertEquals(8080, c.services().getFirst().dests().getFirst().port());
        assertEquals(53, c.services().get(1).port());
    }

    @Test
    void timeouts() throws Exception {
        ServiceConfig c = parse("""
                --set 900 120 300
                --state-timeout time_wait 2
                --state-timeout SYN_RECV 30
                --state-timeout Close_Wait 45
                """);
        TimeoutSettings t = c.timeouts();
        assertEquals(900, t.tcp());
        assertEquals(120, t.tcpFin());
        assertEquals(300, t.udp());
        assertEquals(Map.of("TIME_WAIT", 2, "SYN_RECV", 30, "CLOSE_WAIT", 45), t.states());
        assertEquals(List.of("ESTABLISHED", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE_WAIT"),
                List.copyOf(t.tcpStateTimeouts().keySet()), "kernel state order");
        assertTrue(c.services().isEmpty());
    }

    @Test
    void setZeroKeepsEarlierValues() throws Exception {
        TimeoutSettings t = parse("""
                --set 900 120 300
                --set 0 60 0
                """).timeouts();
        assertEquals(900, t.tcp());
        assertEquals(60, t.tcpFin());
        assertEquals(300, t.udp());
        assertEquals(TimeoutSettings.DEFAULTS, parse("--set 0 0 0").timeouts());
    }

    @Test
    void laterLinesWinBetweenSetAndStateTimeout() throws Exception {
        TimeoutSettings t = parse("""
                --set 900 120 300
                --state-timeout established 5
                """).timeouts();
        assertEquals(5, t.tcpStateTimeouts().get("ESTABLISHED"));
        assertEquals(120, t.tcpStateTimeouts().get("FIN_WAIT"));

        t = parse("""
                --state-timeout established 5
                --state-timeout fin_wait 7
                --set 900 0 300
                """).timeouts();
        assertEquals(900, t.tcpStateTimeouts().get("ESTABLISHED"));
        assertEquals(7, t.tcpStateTimeouts().get("FIN_WAIT"), "--set's 0 keeps FIN_WAIT");

        t = parse("""
                --state-timeout time_wait 5
                --state-timeout TIME_WAIT 9
                """).timeouts();
        assertEquals(Map.of("TIME_WAIT", 9), t.states());
    }

    @Test
    void emptyFileIsNoServices() throws Exception {
        assertEquals(ServiceConfig.EMPTY, parse(""));
        assertEquals(ServiceConfig.EMPTY, parse("# nothing yet\n\n"));
    }

    @Test
    void readsAFile() throws Exception {
        Path f = dir.resolve("jvs.conf");
        Files.writeString(f, "-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n");
        ServiceConfig c = ConfigFile.parse(f, SCHEDULERS);
        assertEquals(1, c.services().getFirst().dests().size());

        Files.writeString(f, "-A -t 10.0.0.100:80 -s rrr\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFile.parse(f, SCHEDULERS));
        assertEquals(f + ":1: Scheduler or persistence engine not found (`rrr')",
                e.getMessage());
        assertEquals(1, e.line());
        assertEquals(f.toString(), e.source());
    }

    @Test
    void fileProblems() throws IOException {
        Path missing = dir.resolve("nope.conf");
        assertEquals(missing + ": no such file",
                assertThrows(ConfigException.class, () -> ConfigFile.parse(missing, SCHEDULERS)).getMessage());
        Path binary = dir.resolve("bin.conf");
        Files.write(binary, new byte[]{'-', 'A', ' ', (byte) 0xff, (byte) 0xfe, '\n'});
        assertEquals(binary + ": not UTF-8 text",
                assertThrows(ConfigException.class, () -> ConfigFile.parse(binary, SCHEDULERS)).getMessage());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFile.parse(dir, SCHEDULERS));
        assertTrue(e.getMessage().startsWith(dir + ": cannot read"), e.getMessage());
        assertEquals(0, e.line());
    }

    @Test
    void defaultParseChecksNamesWithSchedulersCreate() throws IOException {
        Path f = dir.resolve("jvs.conf");
        Files.writeString(f, "-A -t 10.0.0.100:80 -s no-such-scheduler\n", StandardCharsets.UTF_8);
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFile.parse(f));
        assertEquals(f + ":1: Scheduler or persistence engine not found (`no-such-scheduler')",
                e.getMessage());
    }

    /** The specs build into the table the data path gets: newest destination first. */
    @Test
    void buildsIntoATableNewestFirst() throws Exception {
        ServiceConfig c = parse("""
                -A -t 10.0.0.100:80 -s rr
                -a -t 10.0.0.100:80 -r 10.0.0.11:80
                -a -t 10.0.0.100:80 -r 10.0.0.12:80
                -a -t 10.0.0.100:80 -r 10.0.0.13:80
                """);
        ServiceTable t = new ServiceTableBuilder(SCHEDULERS).build(c.services(), ServiceTable.EMPTY);
        VirtualService s = t.lookup(Protocol.TCP, VIP, 80);
        assertEquals(List.of("10.0.0.13:80", "10.0.0.12:80", "10.0.0.11:80"),
                s.destList().stream().map(RealServer::endpoint).toList());
    }

    // ---------------------------------------------------------------- every error

    @Test
    void badValuesNameTheLineAndSayWhatIpvsadmSays() {
        assertEquals("jvs.conf:1: illegal virtual server address[:port] specified (`10.0.0.300:80')",
                error("-A -t 10.0.0.300:80 -s rr"));
        assertEquals("jvs.conf:2: illegal real server address[:port] specified (`10.0.0.11:-1')",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:-1 -m"));
        assertEquals("jvs.conf:1: [fe80::1]: a link-local address (fe80::/10) cannot be a virtual service address"
                + " (-t [fe80::1]:80)", error("-A -t [fe80::1]:80 -s rr"));
        assertEquals("jvs.conf:1: illegal virtual server address[:port] specified (`10.0.0.100:65536')",
                error("-A -t 10.0.0.100:65536 -s rr"));
        assertEquals("jvs.conf:1: Zero port specified for non-persistent service", error("-A -t 10.0.0.100 -s rr"));
        assertEquals("jvs.conf:2: illegal weight specified (`65536'; expected 0..65535)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -w 65536"));
        assertEquals("jvs.conf:2: illegal u_threshold specified (`many'; expected 0..2147483647)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -x many"));
        assertEquals("jvs.conf:2: Numerical result out of range",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -x 10 -y 50"));
        assertEquals("jvs.conf:1: --set option requires 3 timeout values", error("--set 900 120"));
        assertEquals("jvs.conf:1: unexpected argument 4", error("--set 1 2 3 4"));
        assertEquals("jvs.conf:1: invalid timeout value `2m' specified (expected seconds 0..2678400)",
                error("--set 900 2m 300"));
        assertEquals("jvs.conf:1: invalid timeout value `0' specified (expected seconds 1..2678400)",
                error("--state-timeout time_wait 0"));
        assertEquals("jvs.conf:2: unknown TCP state \"TIMEWAIT\" (expected one of NONE ESTABLISHED SYN_SENT "
                        + "SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK)",
                error("--set 900 120 300\n--state-timeout TIMEWAIT 2"));
    }

    @Test
    void kernelAnswersNameTheLine() {
        assertEquals("jvs.conf:3: Scheduler or persistence engine not found (`rrr')", error("# web\n\n-A -t 10.0.0.100:80 -s rrr"));
        assertEquals("jvs.conf:3: Service already exists",
                error("-A -t 10.0.0.100:80 -s rr\n-A -u 10.0.0.100:80 -s rr\n-A -t 10.0.0.100:http -s wrr"));
        assertEquals("jvs.conf:1: Service not defined", error("-a -t 10.0.0.100:81 -r 10.0.0.11:80"));
        // DR forces the service port, so these two are the same destination for ipvsadm too.
        assertEquals("jvs.conf:3: Destination already exists", error("""
                -A -t 10.0.0.100:80 -s rr
                -a -t 10.0.0.100:80 -r 10.0.0.11:8080 -g
                -a -t 10.0.0.100:80 -r 10.0.0.11:9090 -g
                """));
        // the first problem is the one reported
        assertEquals("jvs.conf:2: Scheduler or persistence engine not found (`x')",
                error("-A -t 10.0.0.100:80 -s rr\n-A -t 10.0.0.100:81 -s x\n-A -t 10.0.0.300:80"));
    }

    @Test
    void schedulerCheckedWithTheFactoryGiven() throws Exception {
        SchedulerFactory onlyMh = (name, flags, dests) -> {
            if (!name.equals("mh")) {
                throw new IllegalArgumentException("nope");
            }
            return TestSchedulers.create("rr", dests);
        };
        assertEquals("mh", ConfigFile.parse("x", List.of("-A -t 10.0.0.100:80 -s mh"), onlyMh)
                .services().getFirst().scheduler());
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigFile.parse("x", List.of("-A -t 10.0.0.100:80 -s rr"), onlyMh));
        assertEquals("x:1: Scheduler or persistence engine not found (`rr')", e.getMessage());
    }

    @Test
    void aTrialBuildCatchesWhatOnlyTheFullBuildSees() {
        // A scheduler that accepts the name but not this destination list.
        SchedulerFactory picky = (name, flags, dests) -> {
            if (dests.length > 1) {
                throw new IllegalArgumentException("at most one real server");
            }
            return TestSchedulers.create(name, dests);
        };
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFile.parse("x", List.of(
                "-A -t 10.0.0.100:80 -s rr",
                "-a -t 10.0.0.100:80 -r 10.0.0.11",
                "-a -t 10.0.0.100:80 -r 10.0.0.12"), picky));
        assertEquals("x: TCP 10.0.0.100:80: scheduler \"rr\": at most one real server", e.getMessage());
    }

    @Test
    void byteOrderMarkIsIgnored() throws Exception {
        Path f = dir.resolve("bom.conf");
        Files.writeString(f, "\uFEFF-A -t 10.0.0.100:80 -s rr\n", StandardCharsets.UTF_8);
        assertEquals(1, ConfigFile.parse(f, SCHEDULERS).services().size());
    }

    @Test
    void optionProblemsInIpvsadmWords() {
        assertEquals("jvs.conf:1: -q: unknown option", error("-A -t 10.0.0.100:80 -q"));
        assertEquals("jvs.conf:1: --sched: unknown option", error("-A -t 10.0.0.100:80 --sched rr"));
        assertEquals("jvs.conf:1: -s: missing argument", error("-A -t 10.0.0.100:80 -s"));
        assertEquals("jvs.conf:1: Illegal 'weight' option with the 'add-service' command",
                error("-A -t 10.0.0.100:80 -w 1"));
        assertEquals("jvs.conf:1: You need to supply the 'service-address' option for the 'add-service' command",
                error("-A -s rr"));
        assertEquals("jvs.conf:2: You need to supply the 'real-server' option for the 'add-server' command",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -w 1"));
        assertEquals("jvs.conf:2: multiple 'forwarding-method' options specified",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -g -m"));
        assertEquals("jvs.conf:1: multiple 'service-address' options specified",
                error("-A -t 10.0.0.100:80 -u 10.0.0.100:80"));
        assertEquals("jvs.conf:1: multiple commands specified", error("-A -a -t 10.0.0.100:80"));
        assertEquals("jvs.conf:1: unexpected argument rr", error("-A -t 10.0.0.100:80 rr"));
        assertEquals("jvs.conf:1: --gatewaying=yes: option does not take an argument",
                error("-a --gatewaying=yes"));
        assertEquals("jvs.conf:1: Try `jvsadm -h' or 'jvsadm --help' for more information.",
                error("-t 10.0.0.100:80 -s rr"));
        assertEquals("jvs.conf:1: Try `jvsadm -h' or 'jvsadm --help' for more information.", error("ipvsadm"));
        assertEquals("jvs.conf:1: the 'list' command does not change the configuration (expected -A, -E, -D, -C,"
                + " -a, -e, -d, --set, --state-timeout, --add-mark or --delete-mark)", error("-L -n"));
    }

    @Test
    void fullExpressiveness() throws Exception {
        ServiceConfig c = parse("""
                -A -t 10.0.0.100:0 -s rr -p -M 255.255.255.0
                -A -f 1 -s wlc -p 1800
                -a -f 1 -r 10.0.0.11 -g
                -A -u 10.0.0.100:53 -s sh -b sh-fallback -o
                -A -t 10.0.0.100:443 -s rr --laddr 10.0.0.2 --client-addr proxy
                -a -t 10.0.0.100:443 -r 10.0.2.11:8443 --fullnat -w 4
                -a -t 10.0.0.100:0 -r 10.0.0.12 -i --tun-type gue --tun-port 6080 --tun-nocsum
                --add-mark -s 10.9.0.0/16 -d 10.0.0.100 -p tcp --dport 21 --set-mark 1
                -E -t 10.0.0.100:0 -s wrr -p 600
                """);
        ServiceSpec pcc = c.services().getFirst();
        assertEquals(600, pcc.persistTimeout());
        assertEquals("wrr", pcc.scheduler());
        assertEquals(-1, pcc.persistMask(), "-E without -M: /32 again, as the kernel's edit");
        assertEquals(io.jvs.forwarder.service.TunnelType.GUE, pcc.dests().getFirst().tunType());
        assertEquals(6080, pcc.dests().getFirst().tunPort());
        assertEquals(1, c.services().get(1).fwmark());
        assertEquals(1800, c.services().get(1).persistTimeout());
        ServiceSpec dns = c.services().get(2);
        assertEquals(ServiceSpec.SCHED_FLAG_1, dns.schedFlags());
        assertTrue(dns.onePacket());
        ServiceSpec fnat = c.services().get(3);
        assertEquals(List.of(ip("10.0.0.2")), fnat.localAddrs());
        assertEquals(io.jvs.forwarder.service.ClientAddressMode.PROXY_V2, fnat.clientAddress());
        assertEquals(new ServiceSpec.Dest(ip("10.0.2.11"), 8443, 4, ForwardMethod.FULLNAT), fnat.dests().getFirst());
        assertEquals(List.of(new io.jvs.forwarder.service.FwmarkRule(ip("10.9.0.0"), 16, VIP, 32, Protocol.TCP, 21,
                21, 1)), c.fwmarkRules());
    }
}
