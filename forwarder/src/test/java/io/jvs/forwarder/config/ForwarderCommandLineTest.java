package io.jvs.forwarder.config;

import io.jvs.forwarder.config.ForwarderCommandLine.Action;
import io.jvs.forwarder.config.ForwarderCommandLine.Attach;
import io.jvs.forwarder.config.ForwarderCommandLine.AttachKind;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ForwarderCommandLineTest {

    private static String error(String... args) {
        UsageException e = assertThrows(UsageException.class, () -> ForwarderCommandLine.parse(args));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void defaults() throws Exception {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0");
        assertEquals(Action.RUN, o.action());
        assertEquals(new Attach(AttachKind.PACKET, "eth0"), o.attach());
        assertEquals(Optional.empty(), o.lan());
        assertEquals(Optional.empty(), o.config());
        assertEquals(Optional.of(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 9110)), o.metrics());
        assertEquals(1048576, o.connMax());
        assertEquals(32, o.ringMemoryMib());
        assertEquals("--attach packet:eth0 --metrics 127.0.0.1:9110 --conn-max 1048576 --ring-memory 32",
                o.toString());
    }

    @Test
    void everything() throws Exception {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "tap:jvs0", "--lan", "eth1", "--config",
                "/etc/jvs/jvs.conf", "--metrics", "0.0.0.0:9100", "--conn-max", "67108864");
        assertEquals(new Attach(AttachKind.TAP, "jvs0"), o.attach());
        assertEquals("tap:jvs0", o.attach().toString());
        assertEquals(Optional.of("eth1"), o.lan());
        assertEquals(Optional.of(Path.of("/etc/jvs/jvs.conf")), o.config());
        assertEquals(9100, o.metrics().orElseThrow().getPort());
        assertEquals("0.0.0.0", o.metrics().orElseThrow().getHostString());
        assertEquals(64 << 20, o.connMax());
    }

    @Test
    void equalsFormAndMetricsOffAndIpv6() throws Exception {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach=packet:veth-d0", "--metrics=off",
                "--ring-memory=1024", "--conn-max=1");
        assertEquals(Optional.empty(), o.metrics());
        assertEquals(1024, o.ringMemoryMib());
        assertEquals(1, o.connMax());
        o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--metrics", "[::1]:9110", "--ring-memory", "1");
        assertEquals(InetAddress.getByName("::1"), o.metrics().orElseThrow().getAddress());
        assertEquals(1, o.ringMemoryMib());
        assertTrue(o.toString().contains("--metrics [0:0:0:0:0:0:0:1]:9110"), o.toString());
    }

    @Test
    void mhTableSizeIsOneOfTheKernelsPrimes() throws Exception {
        assertEquals(4093, ForwarderCommandLine.parse("--attach", "packet:eth0").mhTableSize());
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--mh-table-size", "65521");
        assertEquals(65521, o.mhTableSize());
        assertTrue(o.toString().endsWith(" --mh-table-size 65521"), o.toString());
        assertEquals(251, ForwarderCommandLine.parse("--attach", "tap:t0", "--mh-table-size=251").mhTableSize());
        assertEquals("--mh-table-size 4096: expected one of the kernel's mh table primes "
                        + "[251,509,1021,2039,4093,8191,16381,32749,65521,131071]",
                error("--attach", "packet:eth0", "--mh-table-size", "4096"));
        assertTrue(error("--attach", "packet:eth0", "--mh-table-size", "big").startsWith("--mh-table-size \"big\""));
        assertTrue(error("--attach", "packet:eth0", "--mh-table-size").startsWith("--mh-table-size needs a value"));
        assertTrue(ForwarderCommandLine.usage().contains("--mh-table-size PRIME"));
    }

    @Test
    void helpAndVersionNeedNothingElse() throws Exception {
        assertEquals(Action.HELP, ForwarderCommandLine.parse("-h").action());
        assertEquals(Action.HELP, ForwarderCommandLine.parse("--attach", "packet:eth0", "--help").action());
        assertEquals(Action.VERSION, ForwarderCommandLine.parse("--version").action());
        assertTrue(ForwarderCommandLine.version().startsWith("jvs-forwarder "), ForwarderCommandLine.version());
        String usage = ForwarderCommandLine.usage();
        for (String flag : new String[]{"--attach packet:IFACE", "--attach tap:NAME", "--attach xdp:IFACE[:QUEUE]", "--lan", "--config",
                "--metrics", "--conn-max", "--ring-memory", "--help", "--version", "127.0.0.1:9110", "1048576",
                "67108864", "1..1024", "default 32"}) {
            assertTrue(usage.contains(flag), flag);
        }
        assertTrue(usage.lines().allMatch(l -> l.length() <= 100), usage);
    }

    @Test
    void attachIsRequiredAndChecked() {
        assertEquals("--attach is required: packet:IFACE, tap:NAME or xdp:IFACE[:QUEUE]", error());
        assertEquals("--attach is required: packet:IFACE, tap:NAME or xdp:IFACE[:QUEUE]", error("--config", "x.conf"));
        assertEquals("--attach \"eth0\": expected packet:IFACE, tap:NAME or xdp:IFACE[:QUEUE]", error("--attach", "eth0"));
        assertEquals("--attach \"af_packet:eth0\": expected packet:IFACE, tap:NAME or xdp:IFACE[:QUEUE]",
                error("--attach", "af_packet:eth0"));
        assertEquals("--attach packet:\"\": not an interface name (1-15 characters, no '/', ':' or spaces)",
                error("--attach", "packet:"));
        assertEquals("--attach tap:\"a-very-long-name0\": not an interface name "
                + "(1-15 characters, no '/', ':' or spaces)", error("--attach", "tap:a-very-long-name0"));
        assertEquals("--attach packet:\"eth0:1\": not an interface name (1-15 characters, no '/', ':' or spaces)",
                error("--attach", "packet:eth0:1"));
        assertEquals("--attach needs a value: packet:IFACE, tap:NAME or xdp:IFACE[:QUEUE]", error("--attach"));
        assertEquals("--attach needs a value: packet:IFACE, tap:NAME or xdp:IFACE[:QUEUE]", error("--attach", "--lan", "eth0"));
    }

    @Test
    void lanOnlyWithTap() {
        assertEquals("--lan is for --attach tap:NAME (packet mode sends on eth0)",
                error("--attach", "packet:eth0", "--lan", "eth1"));
        assertEquals("--lan \"../x\": not an interface name (1-15 characters, no '/', ':' or spaces)",
                error("--attach", "tap:jvs0", "--lan", "../x"));
    }

    @Test
    void ringMemoryOnlyWithPacket() {
        assertEquals("--ring-memory is for --attach packet:IFACE (a TAP device has no ring)",
                error("--attach", "tap:jvs0", "--ring-memory", "32"));
    }

    @Test
    void kernelIngressDropOnlyWithPacketAndZeroOrOne() throws UsageException {
        assertEquals("--kernel-ingress-drop is for --attach packet:IFACE (in TAP mode the kernel routes the frames"
                + " into the TAP)", error("--attach", "tap:jvs0", "--kernel-ingress-drop", "0"));
        assertEquals("--kernel-ingress-drop is for --attach packet:IFACE (the XDP program already keeps them from"
                + " the kernel)", error("--attach", "xdp:eth0", "--kernel-ingress-drop", "1"));
        assertEquals("--kernel-ingress-drop \"2\": expected 0 or 1", error("--attach", "packet:eth0",
                "--kernel-ingress-drop", "2"));
        assertTrue(ForwarderCommandLine.parse("--attach", "packet:eth0").kernelIngressDrop(), "on by default");
        assertFalse(ForwarderCommandLine.parse("--attach", "packet:eth0", "--kernel-ingress-drop", "0")
                .kernelIngressDrop());
    }

    @Test
    void badMetrics() {
        String expected = "expected ADDR:PORT (e.g. 127.0.0.1:9110, [::1]:9110) or off";
        assertEquals("--metrics \"9110\": " + expected, error("--attach", "packet:eth0", "--metrics", "9110"));
        assertEquals("--metrics \"localhost:9110\": " + expected,
                error("--attach", "packet:eth0", "--metrics", "localhost:9110"));
        assertEquals("--metrics \"::1:9110\": " + expected, error("--attach", "packet:eth0", "--metrics", "::1:9110"));
        assertEquals("--metrics \"[1.2.3.4]:9110\": " + expected,
                error("--attach", "packet:eth0", "--metrics", "[1.2.3.4]:9110"));
        assertEquals("--metrics \"127.0.0.1:0\": port must be 1..65535",
                error("--attach", "packet:eth0", "--metrics", "127.0.0.1:0"));
        assertEquals("--metrics \"127.0.0.1:http\": port must be 1..65535",
                error("--attach", "packet:eth0", "--metrics", "127.0.0.1:http"));
        assertEquals("--metrics \"OFF\": " + expected, error("--attach", "packet:eth0", "--metrics", "OFF"));
    }

    @Test
    void badNumbers() {
        assertEquals("--conn-max \"0\": expected a number of connections, 1..67108864",
                error("--attach", "packet:eth0", "--conn-max", "0"));
        assertEquals("--conn-max \"67108865\": expected a number of connections, 1..67108864",
                error("--attach", "packet:eth0", "--conn-max", "67108865"));
        assertEquals("--conn-max \"1M\": expected a number of connections, 1..67108864",
                error("--attach", "packet:eth0", "--conn-max", "1M"));
        assertEquals("--conn-max \"-5\": expected a number of connections, 1..67108864",
                error("--attach", "packet:eth0", "--conn-max", "-5"));
        assertEquals("--ring-memory \"0\": expected MiB, 1..1024",
                error("--attach", "packet:eth0", "--ring-memory", "0"));
        assertEquals("--ring-memory \"1025\": expected MiB, 1..1024",
                error("--attach", "packet:eth0", "--ring-memory", "1025"));
        assertEquals("--ring-memory \"32M\": expected MiB, 1..1024",
                error("--attach", "packet:eth0", "--ring-memory", "32M"));
    }

    @Test
    void unknownRepeatedAndStray() {
        assertEquals("unknown option \"--atach\" (see --help)", error("--atach", "packet:eth0"));
        assertEquals("unknown option \"-a\" (see --help)", error("-a", "packet:eth0"));
        assertEquals("unknown option \"--metrics-port\" (see --help)",
                error("--attach", "packet:eth0", "--metrics-port=1"));
        assertEquals("--config given twice", error("--attach", "packet:eth0", "--config", "a", "--config", "b"));
        assertEquals("unexpected argument \"jvs.conf\" (all settings are --flags)",
                error("--attach", "packet:eth0", "jvs.conf"));
        assertEquals("--config needs a value: a file of ipvsadm rules", error("--attach", "packet:eth0", "--config="));
        assertEquals("--config needs a value: a file of ipvsadm rules", error("--attach", "packet:eth0", "--config"));
    }

    @Test
    void xdpAttachmentsWithAndWithoutQueue() throws Exception {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "xdp:eth0", "--attach", "xdp:eth1:3");
        assertEquals(java.util.List.of(new Attach(AttachKind.XDP, "eth0", Attach.EVERY_QUEUE),
                new Attach(AttachKind.XDP, "eth1", 3)),
                o.attachments());
        assertEquals("--attach xdp:eth0 --attach xdp:eth1:3 --metrics 127.0.0.1:9110 --conn-max 1048576",
                o.toString());
    }

    @Test
    void xdpBadQueueMixAndRepeatRefusedInOneLine() {
        assertEquals("--attach \"xdp:eth0:x\": queue \"x\" is not a number from 0 to 63",
                error("--attach", "xdp:eth0:x"));
        assertEquals("--attach \"xdp:eth0:64\": queue \"64\" is not a number from 0 to 63",
                error("--attach", "xdp:eth0:64"));
        assertEquals("--attach \"xdp:eth0:\": queue \"\" is not a number from 0 to 63",
                error("--attach", "xdp:eth0:"));
        assertEquals("--attach xdp:eth0 and --attach packet:eth1 do not mix: every attachment of a director is"
                + " xdp:, or none is", error("--attach", "xdp:eth0", "--attach", "packet:eth1"));
        assertEquals("--attach xdp:eth0:1 given twice: one attachment per interface",
                error("--attach", "xdp:eth0", "--attach", "xdp:eth0:1"));
        assertEquals("--ring-memory is for --attach packet:IFACE (an AF_XDP socket sizes its own rings)",
                error("--attach", "xdp:eth0", "--ring-memory", "32"));
    }

    @Test
    void severalPacketAttachmentsInOrder() throws Exception {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--attach=packet:eth1",
                "--arp-on", "10.0.0.100=eth0", "--arp-on", "10.0.0.100=eth1", "--arp-on", "10.0.3.200=eth1");
        assertEquals(java.util.List.of(new Attach(AttachKind.PACKET, "eth0"), new Attach(AttachKind.PACKET, "eth1")),
                o.attachments());
        assertEquals(new Attach(AttachKind.PACKET, "eth0"), o.attach());
        assertEquals(java.util.Map.of(0x0a00_0064, java.util.List.of("eth0", "eth1"),
                0x0a00_03c8, java.util.List.of("eth1")), o.arpOn());
        assertEquals("--attach packet:eth0 --attach packet:eth1 --arp-on 10.0.0.100=eth0 --arp-on 10.0.0.100=eth1"
                + " --arp-on 10.0.3.200=eth1 --metrics 127.0.0.1:9110 --conn-max 1048576 --ring-memory 32",
                o.toString());
    }

    @Test
    void tapWithSeveralLans() throws Exception {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "tap:jvs0", "--lan", "eth0", "--lan", "eth1");
        assertEquals(java.util.List.of("eth0", "eth1"), o.lans());
        assertEquals(Optional.of("eth0"), o.lan());
        assertTrue(o.toString().startsWith("--attach tap:jvs0 --lan eth0 --lan eth1 "), o.toString());
    }

    @Test
    void attachmentMixesAndRepeatsThatMakeNoSense() {
        assertEquals("--attach packet:eth0 given twice: one attachment per interface",
                error("--attach", "packet:eth0", "--attach", "packet:eth0"));
        assertEquals("--lan eth0 given twice: one port per interface",
                error("--attach", "tap:jvs0", "--lan", "eth0", "--lan", "eth0"));
        assertEquals("--attach tap:jvs0 and --attach packet:eth0 do not mix: in TAP mode name the interfaces frames"
                + " leave by with --lan IFACE", error("--attach", "packet:eth0", "--attach", "tap:jvs0"));
        assertEquals("--attach tap:jvs1: one tap:NAME only (it carries all traffic routed to jvs); name the"
                + " interfaces frames leave by with --lan IFACE",
                error("--attach", "tap:jvs0", "--attach", "tap:jvs1", "--lan", "eth0"));
        assertEquals("--lan jvs0 is the TAP device itself: --lan names an interface frames leave by",
                error("--attach", "tap:jvs0", "--lan", "jvs0"));
        assertEquals("--lan is for --attach tap:NAME (packet mode sends on eth0)",
                error("--attach", "packet:eth0", "--attach", "packet:eth1", "--lan", "eth2"));
        assertEquals("--attach given 8 times: at most 7 interfaces", error("--attach", "packet:e1", "--attach",
                "packet:e2", "--attach", "packet:e3", "--attach", "packet:e4", "--attach", "packet:e5", "--attach",
                "packet:e6", "--attach", "packet:e7", "--attach", "packet:e8"));
    }

    @Test
    void arpOnNamesAnAttachedInterface() {
        assertEquals("--arp-on 10.0.0.100=eth9: eth9 is not attached (--attach packet:IFACE)",
                error("--attach", "packet:eth0", "--arp-on", "10.0.0.100=eth9"));
        assertEquals("--arp-on 10.0.0.100=jvs0: jvs0 is not attached (--lan IFACE)",
                error("--attach", "tap:jvs0", "--lan", "eth0", "--arp-on", "10.0.0.100=jvs0"));
        assertEquals("--arp-on \"10.0.0.100\": expected ADDR=IFACE (a VIP or local address and an attached"
                + " interface)", error("--attach", "packet:eth0", "--arp-on", "10.0.0.100"));
        assertEquals("--arp-on \"vip=eth0\": expected ADDR=IFACE (a VIP or local address and an attached"
                + " interface)", error("--attach", "packet:eth0", "--arp-on", "vip=eth0"));
        assertEquals("--arp-on 10.0.0.100=eth0 given twice",
                error("--attach", "packet:eth0", "--arp-on", "10.0.0.100=eth0", "--arp-on", "10.0.0.100=eth0"));
        assertTrue(ForwarderCommandLine.usage().contains("--arp-on ADDR=IFACE"));
    }

    @Test
    void controlApiAndRunningConfig() throws Exception {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--control", "/run/jvs/a.sock",
                "--control-http=127.0.0.1:9120", "--control-token-file", "/etc/jvs/token", "--save-to",
                "/var/lib/jvs/running.conf");
        assertEquals(Optional.of("/run/jvs/a.sock"), o.control());
        assertEquals(Optional.of(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 9120)), o.controlHttp());
        assertEquals(Optional.of(Path.of("/etc/jvs/token")), o.controlTokenFile());
        assertEquals(Optional.of(Path.of("/var/lib/jvs/running.conf")), o.saveTo());
        ForwarderCommandLine none = ForwarderCommandLine.parse("--attach", "packet:eth0");
        assertEquals(Optional.empty(), none.control());
        assertEquals(Optional.empty(), none.controlHttp());
        assertEquals(Optional.empty(), none.saveTo());
        // a token without the HTTP API is the web console's login
        assertEquals(Optional.of(Path.of("/t")), ForwarderCommandLine.parse("--attach", "packet:eth0",
                "--control-token-file", "/t").controlTokenFile());
        ForwarderCommandLine tls = ForwarderCommandLine.parse("--attach", "packet:eth0", "--metrics-tls-cert",
                "/c.pem", "--metrics-tls-key", "/k.pem");
        assertEquals(Optional.of(Path.of("/c.pem")), tls.metricsTlsCert());
        assertEquals(Optional.of(Path.of("/k.pem")), tls.metricsTlsKey());
        assertEquals("--metrics-tls-cert and --metrics-tls-key go together (a PEM certificate chain and its"
                        + " private key)", assertThrows(UsageException.class, () -> ForwarderCommandLine.parse(
                "--attach", "packet:eth0", "--metrics-tls-cert", "/c.pem")).getMessage());
        assertEquals("--metrics-tls-cert is for the metrics port, and --metrics is off",
                assertThrows(UsageException.class, () -> ForwarderCommandLine.parse("--attach", "packet:eth0",
                        "--metrics", "off", "--metrics-tls-cert", "/c.pem", "--metrics-tls-key", "/k.pem"))
                        .getMessage());
        assertEquals(Optional.of(Path.of("/etc/jvs/synproxy.key")), ForwarderCommandLine.parse("--attach",
                "packet:eth0", "--synproxy-key", "/etc/jvs/synproxy.key").synProxyKey());
        assertEquals(Optional.empty(), none.synProxyKey());
        assertEquals("--synproxy-key needs a value: a file of at least 16 secret bytes (the SYN proxy's cookie key)",
                assertThrows(UsageException.class, () -> ForwarderCommandLine.parse("--attach", "packet:eth0",
                        "--synproxy-key=")).getMessage());
        assertEquals("--control-http \"off\": expected ADDR:PORT (e.g. 127.0.0.1:9120)",
                assertThrows(UsageException.class, () -> ForwarderCommandLine.parse("--attach", "packet:eth0",
                        "--control-http", "off")).getMessage());
        assertEquals("--save-to needs a value: a file for the running configuration",
                assertThrows(UsageException.class, () -> ForwarderCommandLine.parse("--attach", "packet:eth0",
                        "--save-to=")).getMessage());
    }

    @Test
    void keepalivedFileIsExclusiveWithConfig() throws UsageException {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--keepalived",
                "/etc/keepalived/keepalived.conf");
        assertEquals(java.util.Optional.of(java.nio.file.Path.of("/etc/keepalived/keepalived.conf")), o.keepalived());
        assertEquals(java.util.Optional.empty(), o.config());
        assertEquals("--config and --keepalived are exclusive: the services come from one file",
                error("--attach", "packet:eth0", "--config", "a", "--keepalived", "b"));
        assertEquals("--keepalived needs a value: a keepalived.conf", error("--attach", "packet:eth0", "--keepalived="));
    }

    @Test
    void ipvsSysctlsForRemovedAndQuiescedServers() throws Exception {
        assertEquals(io.jvs.forwarder.conn.ConnPolicy.DEFAULTS,
                ForwarderCommandLine.parse("--attach", "packet:eth0").connPolicy());
        assertEquals(new io.jvs.forwarder.conn.ConnPolicy(true, false, false),
                ForwarderCommandLine.parse("--attach", "packet:eth0", "--expire-nodest-conn", "1").connPolicy());
        assertEquals(new io.jvs.forwarder.conn.ConnPolicy(false, true, false),
                ForwarderCommandLine.parse("--attach", "packet:eth0", "--expire-quiescent-template=1").connPolicy());
        UsageException e = assertThrows(UsageException.class,
                () -> ForwarderCommandLine.parse("--attach", "packet:eth0", "--expire-nodest-conn", "2"));
        assertTrue(e.getMessage().contains("0 or 1"), e.getMessage());
    }

    @Test
    void floodDefenceFlagsAreTheKernelsSysctlsAndBadValuesAreOneLine() throws Exception {
        assertEquals(io.jvs.forwarder.conn.DefenseSettings.OFF,
                ForwarderCommandLine.parse("--attach", "packet:eth0").connPolicy().defense());
        assertEquals(new io.jvs.forwarder.conn.DefenseSettings(1, 2, 3, 5000, 7),
                ForwarderCommandLine.parse("--attach", "packet:eth0", "--drop-entry", "1", "--drop-packet", "2",
                        "--secure-tcp", "3", "--amemthresh", "5000", "--am-droprate=7").connPolicy().defense());
        assertEquals("--drop-entry \"4\": expected 0, 1, 2 or 3 (off, automatic, automatic and on, always)",
                error("--attach", "packet:eth0", "--drop-entry", "4"));
        assertEquals("--secure-tcp \"on\": expected 0, 1, 2 or 3 (off, automatic, automatic and on, always)",
                error("--attach", "packet:eth0", "--secure-tcp", "on"));
        assertEquals("--amemthresh \"-1\": expected a number of free connection-table entries, 0..67108864",
                error("--attach", "packet:eth0", "--amemthresh", "-1"));
        assertEquals("--am-droprate \"2147483648\": expected a rate 0..2147483647 (one new connection in N dropped)",
                error("--attach", "packet:eth0", "--am-droprate", "2147483648"));
    }

    @Test
    void theEcmpProfileAndItsDefaults() throws Exception {
        assertTrue(ForwarderCommandLine.parse("--attach", "packet:eth0").announce().isEmpty(), "off unless asked for");
        assertEquals(new ForwarderCommandLine.Announce(200, "jvs-announce", java.nio.file.Path.of("/run/bird/bird.ctl"), 2),
                ForwarderCommandLine.parse("--attach", "packet:eth0", "--announce-table", "200").announce().orElseThrow());
        assertEquals(new ForwarderCommandLine.Announce(7, "anno0", java.nio.file.Path.of("/tmp/b.ctl"), 0),
                ForwarderCommandLine.parse("--attach", "packet:eth0", "--announce-table=7", "--announce-device", "anno0",
                        "--bird-socket", "/tmp/b.ctl", "--drain-time", "0").announce().orElseThrow());
        assertEquals("--announce-table \"253\": expected a kernel routing table number, 1..252",
                error("--attach", "packet:eth0", "--announce-table", "253"));
        assertEquals("--drain-time \"3601\": expected seconds, 0..3600",
                error("--attach", "packet:eth0", "--announce-table", "200", "--drain-time", "3601"));
        assertEquals("--drain-time is for the ECMP profile, and --announce-table is not given",
                error("--attach", "packet:eth0", "--drain-time", "5"));
        assertEquals("--bird-socket is for the ECMP profile, and --announce-table is not given",
                error("--attach", "packet:eth0", "--bird-socket", "/run/bird/bird.ctl"));
    }

    @Test
    void sloppyTcpIsASysctlFlagAndSloppyUdpIsRefusedWithTheReason() throws Exception {
        assertFalse(ForwarderCommandLine.parse("--attach", "packet:eth0").connPolicy().sloppyTcp(), "IPVS's default: 0");
        assertEquals(new io.jvs.forwarder.conn.ConnPolicy(false, false, true),
                ForwarderCommandLine.parse("--attach", "packet:eth0", "--sloppy-tcp", "1").connPolicy());
        assertEquals(io.jvs.forwarder.conn.ConnPolicy.DEFAULTS,
                ForwarderCommandLine.parse("--attach", "packet:eth0", "--sloppy-tcp=0").connPolicy());
        assertEquals("--sloppy-tcp \"2\": expected 0 or 1",
                assertThrows(UsageException.class,
                        () -> ForwarderCommandLine.parse("--attach", "packet:eth0", "--sloppy-tcp", "2")).getMessage());
        assertEquals("--sloppy-udp: IPVS has no sloppy_udp (only sloppy_tcp and sloppy_sctp); every UDP datagram "
                        + "of an unknown flow is scheduled already, as in the kernel",
                assertThrows(UsageException.class,
                        () -> ForwarderCommandLine.parse("--attach", "packet:eth0", "--sloppy-udp", "1")).getMessage());
    }

    @Test
    void userAndControlGroup() throws UsageException {
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--user", "jvs",
                "--control-group=jvsadm");
        assertEquals(Optional.of("jvs"), o.user());
        assertEquals(Optional.of("jvsadm"), o.controlGroup());
        ForwarderCommandLine none = ForwarderCommandLine.parse("--attach", "packet:eth0");
        assertEquals(Optional.empty(), none.user());
        assertEquals(Optional.empty(), none.controlGroup());
        assertEquals("--user \"a b\": expected a user name to run as once everything is open",
                error("--attach", "packet:eth0", "--user", "a b"));
        assertEquals("--control-group \"\": expected a group name whose members may use the control socket",
                error("--attach", "packet:eth0", "--control-group="));
        assertEquals("--user given twice", error("--attach", "packet:eth0", "--user", "a", "--user", "b"));
    }

    @Test
    void workersDefaultToTheOnlineCpusCappedByTheAttachment() throws Exception {
        assertEquals(Math.min(Runtime.getRuntime().availableProcessors(), 256),
                ForwarderCommandLine.parse("--attach", "packet:eth0").workers());
        assertEquals(Math.min(Runtime.getRuntime().availableProcessors(), 256),
                ForwarderCommandLine.parse("--attach", "tap:jvs0", "--lan", "eth0").workers(),
                "TAP mode: one queue per online CPU");
        assertEquals(1, ForwarderCommandLine.parse("--attach", "tap:jvs0", "--lan", "eth0", "--user", "nobody").workers(),
                "TAP mode with --user: one queue (no CAP_BPF to reload the steering program)");
        assertEquals(1, ForwarderCommandLine.parse("--attach", "xdp:eth0").workers(), "XDP: one socket");
        assertEquals(2, ForwarderCommandLine.parse("--attach", "tap:jvs0", "--lan", "eth0", "--workers", "2").workers(),
                "a multi-queue TAP, one queue per worker");
        assertEquals(1, ForwarderCommandLine.parse("--attach", "packet:eth0", "--lport-range", "5000-5000").workers(),
                "one local port: one slice");
        assertEquals(2, ForwarderCommandLine.parse("--attach", "packet:eth0", "--workers", "2").workers());
        assertEquals(256, ForwarderCommandLine.parse("--attach", "packet:eth0", "--workers=256").workers());
        assertEquals(1, ForwarderCommandLine.parse("--attach", "xdp:eth0").workers(), "XDP: one worker by default");
        assertEquals(2, ForwarderCommandLine.parse("--attach", "xdp:eth0", "--workers", "2").workers(),
                "XDP: a socket per rx queue and worker");
    }

    @Test
    void badWorkers() {
        String expected = "expected a number of workers, 1..256";
        assertEquals("--workers \"0\": " + expected, error("--attach", "packet:eth0", "--workers", "0"));
        assertEquals("--workers \"257\": " + expected, error("--attach", "packet:eth0", "--workers", "257"));
        assertEquals("--workers \"two\": " + expected, error("--attach", "packet:eth0", "--workers", "two"));
        assertEquals("--user nobody: --attach xdp:eth0 with --workers 2 loads its XDP program on every change,"
                + " which needs CAP_BPF; run it as root or with --workers 1",
                error("--attach", "xdp:eth0", "--workers", "2", "--user", "nobody"));
        assertEquals("--user nobody: --attach tap:jvs0 with --workers 2 loads its TAP steering program on every change,"
                + " which needs CAP_BPF; run it as root or with --workers 1",
                error("--attach", "tap:jvs0", "--lan", "eth0", "--workers", "2", "--user", "nobody"));
        assertEquals("--workers 4: more than the 3 ports of --lport-range (each worker owns a slice of them)",
                error("--attach", "packet:eth0", "--lport-range", "7000-7002", "--workers", "4"));
    }

    /** --conn-max6: the IPv6 table's size; default a sixteenth of --conn-max, at least 1024 (hand-computed). */
    @Test
    void connMax6DefaultsToASixteenthOfConnMaxAndIsItsOwnWhenGiven() throws UsageException {
        assertEquals(65536, ForwarderCommandLine.parse("--attach", "packet:eth0").connMax6(), "1048576 / 16");
        assertEquals(1024, ForwarderCommandLine.parse("--attach", "packet:eth0", "--conn-max", "4096").connMax6(),
                "4096 / 16 = 256, raised to 1024");
        ForwarderCommandLine o = ForwarderCommandLine.parse("--attach", "packet:eth0", "--conn-max6", "2000000");
        assertEquals(2000000, o.connMax6());
        assertEquals(1048576, o.connMax(), "the IPv4 table's size unchanged");
        assertEquals("--attach packet:eth0 --metrics 127.0.0.1:9110 --conn-max 1048576 --conn-max6 2000000"
                + " --ring-memory 32", o.toString());
        assertEquals("--conn-max6 \"0\": expected a number of connections, 1..67108864",
                error("--attach", "packet:eth0", "--conn-max6", "0"));
    }
}
