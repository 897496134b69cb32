package io.jvs.forwarder.ctl;

import io.jvs.forwarder.packet.Ipv4Address;
import io.jvs.forwarder.sched.Scheduler;
import io.jvs.forwarder.sched.SchedulerFactory;
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
    private static final SchedulerFactory SCHEDULERS = TestSchedulers.FACTORY;
    private static final int VIP = Ipv4Address.parse("10.0.0.100");

    @TempDir
    Path dir;

    private static ForwarderConfig parse(String text) throws ConfigException {
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
        ForwarderConfig c = parse("""
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
        ForwarderConfig c = parse("""
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
        ForwarderConfig c = parse("""
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
        ForwarderConfig c = parse("""
                -s rr -t 10.0.0.100:80 -A
                -w 4 -r 10.0.0.11:80 -a -t 10.0.0.100:80
                """);
        assertEquals("rr", c.services().getFirst().scheduler());
        assertEquals(4, c.services().getFirst().dests().getFirst().weight());
    }

    @Test
    void thresholdsShortForm() throws Exception {
        ForwarderConfig c = parse("""
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
        ForwarderConfig c = parse("""
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
        ForwarderConfig c = parse("""
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
        ForwarderConfig c = parse("""
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
        assertEquals(ForwarderConfig.EMPTY, parse(""));
        assertEquals(ForwarderConfig.EMPTY, parse("# nothing yet\n\n"));
    }

    @Test
    void readsAFile() throws Exception {
        Path f = dir.resolve("jvs.conf");
        Files.writeString(f, "-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n");
        ForwarderConfig c = ConfigFile.parse(f, SCHEDULERS);
        assertEquals(1, c.services().getFirst().dests().size());

        Files.writeString(f, "-A -t 10.0.0.100:80 -s rrr\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFile.parse(f, SCHEDULERS));
        assertEquals(f + ":1: unknown scheduler \"rrr\" (Scheduler or persistence engine not found)",
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
        assertEquals(f + ":1: unknown scheduler \"no-such-scheduler\" (Scheduler or persistence engine not found)",
                e.getMessage());
    }

    /** The specs build into the table the data path gets: newest destination first. */
    @Test
    void buildsIntoATableNewestFirst() throws Exception {
        ForwarderConfig c = parse("""
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
    void badAddresses() {
        assertEquals("jvs.conf:1: illegal virtual service address \"10.0.0.300:80\" (expected an IPv4 "
                        + "address:port, e.g. 10.0.0.100:80; host names are not resolved)",
                error("-A -t 10.0.0.300:80 -s rr"));
        assertEquals("jvs.conf:1: illegal virtual service address \"lb.example.com:http\" (expected an IPv4 "
                        + "address:port, e.g. 10.0.0.100:80; host names are not resolved)",
                error("-A -t lb.example.com:http -s rr"));
        assertEquals("jvs.conf:2: illegal real server address \"10.0.0:80\" (expected an IPv4 "
                        + "address[:port], e.g. 10.0.0.11:80; host names are not resolved)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0:80"));
        assertEquals("jvs.conf:1: IPv6 virtual service \"[2001:db8::1]:80\" is not supported yet",
                error("-A -t [2001:db8::1]:80 -s rr"));
    }

    @Test
    void badPorts() {
        assertEquals("jvs.conf:1: illegal port \"65536\" in virtual service \"10.0.0.100:65536\" "
                + "(expected 0..65535 or a service name such as http)", error("-A -t 10.0.0.100:65536 -s rr"));
        assertEquals("jvs.conf:1: illegal port \"htp\" in virtual service \"10.0.0.100:htp\" "
                + "(expected 0..65535 or a service name such as http)", error("-A -t 10.0.0.100:htp -s rr"));
        assertEquals("jvs.conf:1: illegal port \"\" in virtual service \"10.0.0.100:\" "
                + "(expected 0..65535 or a service name such as http)", error("-A -t 10.0.0.100: -s rr"));
        assertEquals("jvs.conf:1: virtual service \"10.0.0.100\" has no port "
                + "(Zero port specified for non-persistent service)", error("-A -t 10.0.0.100 -s rr"));
        assertEquals("jvs.conf:1: virtual service \"10.0.0.100:0\" has no port "
                + "(Zero port specified for non-persistent service)", error("-A -t 10.0.0.100:0 -s rr"));
        assertEquals("jvs.conf:2: illegal real server port 0 in \"10.0.0.11:0\" (expected 1..65535)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:0 -m"));
        assertEquals("jvs.conf:2: illegal port \"-1\" in real server \"10.0.0.11:-1\" "
                        + "(expected 0..65535 or a service name such as http)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:-1 -m"));
    }

    @Test
    void missingArguments() {
        assertEquals("jvs.conf:1: option -s needs a scheduler name", error("-A -t 10.0.0.100:80 -s"));
        assertEquals("jvs.conf:1: option -s needs a scheduler name", error("-A -s -t 10.0.0.100:80"));
        assertEquals("jvs.conf:1: option --scheduler needs a scheduler name", error("-A -t 10.0.0.100:80 --scheduler"));
        assertEquals("jvs.conf:1: option -t needs a service address (IP:PORT)", error("-A -t"));
        assertEquals("jvs.conf:2: option -r needs a real server address (IP[:PORT])",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r -g"));
        assertEquals("jvs.conf:2: option -w needs a weight (0..65535)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -w"));
        assertEquals("jvs.conf:1: -A needs -t or -u with the virtual service address "
                + "(You need to supply the 'service-address' option)", error("-A -s rr"));
        assertEquals("jvs.conf:2: -a needs -r REAL-SERVER[:PORT] "
                        + "(You need to supply the 'real-server' option for the 'add-server' command)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -w 1"));
    }

    @Test
    void unknownScheduler() {
        assertEquals("jvs.conf:3: unknown scheduler \"rrr\" (Scheduler or persistence engine not found)",
                error("# web\n\n-A -t 10.0.0.100:80 -s rrr"));
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
        assertEquals("x:1: unknown scheduler \"rr\" (nope)", e.getMessage());
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
        assertEquals("x:1: TCP 10.0.0.100:80: scheduler \"rr\": at most one real server", e.getMessage());
    }

    @Test
    void serverBeforeItsService() {
        assertEquals("jvs.conf:1: -a for service TCP 10.0.0.100:81 which was not added (Service not defined)",
                error("-a -t 10.0.0.100:81 -r 10.0.0.11:80\n-A -t 10.0.0.100:81 -s rr"));
        assertEquals("jvs.conf:5: -a for service TCP 10.0.0.100:81 which was not added (Service not defined)",
                error("""
                        -A -t 10.0.0.100:80 -s rr
                        -a -t 10.0.0.100:80 -r 10.0.0.11:80
                        -A -u 10.0.0.100:81 -s rr
                        # the UDP service is not the TCP one
                        -a -t 10.0.0.100:81 -r 10.0.0.11:80
                        """));
    }

    @Test
    void serverOfAServiceWithoutPort() {
        assertEquals("jvs.conf:2: virtual service \"10.0.0.100\" has no port "
                        + "(Zero port specified for non-persistent service)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100 -r 10.0.0.11"));
    }

    @Test
    void byteOrderMarkIsIgnored() throws Exception {
        Path f = dir.resolve("bom.conf");
        Files.writeString(f, "\uFEFF-A -t 10.0.0.100:80 -s rr\n", StandardCharsets.UTF_8);
        assertEquals(1, ConfigFile.parse(f, SCHEDULERS).services().size());
    }

    @Test
    void duplicateService() {
        assertEquals("jvs.conf:3: -A for service TCP 10.0.0.100:80 which was already added on line 1 "
                        + "(Service already exists)",
                error("-A -t 10.0.0.100:80 -s rr\n-A -u 10.0.0.100:80 -s rr\n-A -t 10.0.0.100:http -s wrr"));
    }

    @Test
    void duplicateDestination() {
        assertEquals("jvs.conf:3: -a -r 10.0.0.11:80 for service TCP 10.0.0.100:80 which already has it, "
                        + "added on line 2 (Destination already exists)",
                error("""
                        -A -t 10.0.0.100:80 -s rr
                        -a -t 10.0.0.100:80 -r 10.0.0.11:80 -w 1
                        -a -t 10.0.0.100:80 -r 10.0.0.11 -w 2
                        """));
        // DR forces the service port, so these two are the same destination for ipvsadm too.
        assertEquals("jvs.conf:3: -a -r 10.0.0.11:80 for service TCP 10.0.0.100:80 which already has it, "
                        + "added on line 2 (Destination already exists)",
                error("""
                        -A -t 10.0.0.100:80 -s rr
                        -a -t 10.0.0.100:80 -r 10.0.0.11:8080 -g
                        -a -t 10.0.0.100:80 -r 10.0.0.11:9090 -g
                        """));
    }

    @Test
    void badWeights() {
        String svc = "-A -t 10.0.0.100:80 -s rr\n";
        assertEquals("jvs.conf:2: illegal weight \"65536\" for -w (expected 0..65535)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -w 65536"));
        assertEquals("jvs.conf:2: illegal weight \"-1\" for -w (expected 0..65535)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -w -1"));
        assertEquals("jvs.conf:2: illegal weight \"heavy\" for --weight (expected 0..65535)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 --weight heavy"));
        assertEquals("jvs.conf:2: illegal weight \"1.5\" for -w (expected 0..65535)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -w 1.5"));
    }

    @Test
    void badThresholds() {
        String svc = "-A -t 10.0.0.100:80 -s rr\n";
        assertEquals("jvs.conf:2: illegal upper threshold \"many\" for -x (expected 0..2147483647)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -x many"));
        assertEquals("jvs.conf:2: illegal lower threshold \"99999999999\" for -y (expected 0..2147483647)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -x 1 -y 99999999999"));
        assertEquals("jvs.conf:2: lower threshold 50 (-y) is higher than upper threshold 10 (-x; 0 = none)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -x 10 -y 50"));
        assertEquals("jvs.conf:2: lower threshold 5 (-y) is higher than upper threshold 0 (-x; 0 = none)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -y 5"));
    }

    @Test
    void badTimeouts() {
        assertEquals("jvs.conf:1: --set needs 3 values: tcp tcpfin udp, in seconds "
                + "(--set option requires 3 timeout values)", error("--set 900 120"));
        assertEquals("jvs.conf:1: --set needs 3 values: tcp tcpfin udp, in seconds "
                + "(--set option requires 3 timeout values)", error("--set 1 2 3 4"));
        assertEquals("jvs.conf:1: invalid timeout value \"2m\" for tcpfin (expected seconds 0..2678400; "
                + "0 keeps the current value)", error("--set 900 2m 300"));
        assertEquals("jvs.conf:1: invalid timeout value \"-1\" for tcp (expected seconds 0..2678400; "
                + "0 keeps the current value)", error("--set -1 0 0"));
        assertEquals("jvs.conf:1: invalid timeout value \"2678401\" for udp (expected seconds 0..2678400; "
                + "0 keeps the current value)", error("--set 0 0 2678401"));
        assertEquals("jvs.conf:1: invalid timeout value \"0\" for TIME_WAIT (expected seconds 1..2678400)",
                error("--state-timeout time_wait 0"));
        assertEquals("jvs.conf:1: invalid timeout value \"soon\" for SYN_RECV (expected seconds 1..2678400)",
                error("--state-timeout syn_recv soon"));
        assertEquals("jvs.conf:1: --state-timeout needs a TCP state name and seconds, "
                + "e.g. --state-timeout time_wait 2", error("--state-timeout time_wait"));
    }

    @Test
    void unknownStateName() {
        assertEquals("jvs.conf:2: unknown TCP state \"TIMEWAIT\" (expected one of NONE ESTABLISHED SYN_SENT "
                        + "SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK)",
                error("--set 900 120 300\n--state-timeout TIMEWAIT 2"));
    }

    @Test
    void unknownAndMisplacedOptions() {
        assertEquals("jvs.conf:1: unknown option \"-q\"", error("-A -t 10.0.0.100:80 -q"));
        assertEquals("jvs.conf:1: unknown option \"--sched\"", error("-A -t 10.0.0.100:80 --sched rr"));
        assertEquals("jvs.conf:1: unknown option \"-At\"", error("-At 10.0.0.100:80"));
        assertEquals("jvs.conf:1: option -w is not allowed with -A", error("-A -t 10.0.0.100:80 -w 1"));
        assertEquals("jvs.conf:1: option -r is not allowed with -A", error("-A -t 10.0.0.100:80 -r 10.0.0.11"));
        assertEquals("jvs.conf:2: option -s is not allowed with -a",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -s rr"));
        assertEquals("jvs.conf:1: option -t is not allowed with --set", error("--set 1 2 3 -t 10.0.0.100:80"));
        assertEquals("jvs.conf:1: option --gatewaying takes no value (got \"--gatewaying=yes\")",
                error("-a --gatewaying=yes"));
        assertEquals("jvs.conf:1: unexpected argument \"ops\"", error("-A -t 10.0.0.100:80 -s rr ops"));
        assertEquals("jvs.conf:1: unexpected argument \"rr\"", error("-A -t 10.0.0.100:80 rr"));
    }

    @Test
    void commandProblems() {
        assertEquals("jvs.conf:1: no command (expected -A, -a, --set or --state-timeout)",
                error("-t 10.0.0.100:80 -s rr"));
        assertEquals("jvs.conf:1: no command (expected -A, -a, --set or --state-timeout)", error("hello"));
        assertEquals("jvs.conf:1: \"ipvsadm\" without a command (expected -A, -a, --set or --state-timeout)",
                error("ipvsadm"));
        assertEquals("jvs.conf:1: more than one command: -A and -a (multiple commands specified)",
                error("-A -a -t 10.0.0.100:80"));
        assertEquals("jvs.conf:1: command -C (--clear) does not belong in a config file "
                + "(expected -A, -a, --set or --state-timeout)", error("-C"));
        assertEquals("jvs.conf:1: command -E (--edit-service) does not belong in a config file "
                + "(expected -A, -a, --set or --state-timeout)", error("-E -t 10.0.0.100:80 -s wrr"));
    }

    @Test
    void conflictingAndRepeatedOptions() {
        String svc = "-A -t 10.0.0.100:80 -s rr\n";
        assertEquals("jvs.conf:2: options -g and -m conflict (multiple 'forwarding-method' options specified)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -g -m"));
        assertEquals("jvs.conf:2: option -w given twice", error(svc + "-a -t 10.0.0.100:80 -r 10.0.0.11 -w 1 -w 2"));
        assertEquals("jvs.conf:1: options -t and -u conflict (multiple 'service' options specified)",
                error("-A -t 10.0.0.100:80 -u 10.0.0.100:80"));
    }

    @Test
    void notSupportedYet() {
        assertEquals("jvs.conf:1: option -p (--persistent) is not supported yet",
                error("-A -t 10.0.0.100:80 -s rr -p 300"));
        assertEquals("jvs.conf:1: option -f (--fwmark-service) is not supported yet", error("-A -f 1 -s rr"));
        assertEquals("jvs.conf:1: option -M (--netmask) is not supported yet",
                error("-A -t 10.0.0.100:80 -s rr -M 255.255.255.0"));
        assertEquals("jvs.conf:1: option -b (--sched-flags) is not supported yet",
                error("-A -t 10.0.0.100:80 -s sh -b sh-port"));
        assertEquals("jvs.conf:1: option -o (--ops) is not supported yet", error("-A -u 10.0.0.100:53 -s rr -o"));
        assertEquals("jvs.conf:1: option --pe is not supported yet", error("-A -u 10.0.0.100:5060 -s rr --pe sip"));
    }

    @Test
    void reportsTheFirstErrorOnlyAndNothingElse() {
        // Line 2 is bad, line 3 worse; the first one is reported.
        assertEquals("jvs.conf:2: unknown scheduler \"x\" (Scheduler or persistence engine not found)",
                error("-A -t 10.0.0.100:80 -s rr\n-A -t 10.0.0.100:81 -s x\n-A -t 10.0.0.300:80"));
    }
}
