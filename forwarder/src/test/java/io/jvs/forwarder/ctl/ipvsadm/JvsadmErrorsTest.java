package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.service.RealServer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad jvsadm invocations: ipvsadm's message and exit status (2 for what
 * ipvsadm's fail(2) rejects, 255 for popt errors and for operations the
 * kernel refuses, 1 for listing something missing), and nothing changed.
 */
class JvsadmErrorsTest {
    final JvsadmHarness h = new JvsadmHarness(t -> t.services().forEach(s -> {
        for (RealServer d : s.dests) {
            if (d.weight == 666) {
                throw new IllegalArgumentException("real server " + d.endpoint() + ": the data path refuses weight 666");
            }
        }
    }));

    static final String TRY = "Try `jvsadm -h' or 'jvsadm --help' for more information.";

    @Test
    void usageErrorsExitTwo() {
        h.fails("-A", 2, "You need to supply the 'service-address' option for the 'add-service' command");
        h.fails("-a -t 10.0.0.100:80", 2, "You need to supply the 'real-server' option for the 'add-server' command");
        h.fails("-A -t 10.0.0.100:80 -r 10.0.0.11", 2, "Illegal 'real-server' option with the 'add-service' command");
        h.fails("-D -t 10.0.0.100:80 -s rr", 2, "Illegal 'scheduler' option with the 'delete-service' command");
        h.fails("-C -n", 2, "Illegal 'numeric' option with the 'flush' command");
        h.fails("-L -c --timeout", 2, "The option 'timeout' conflicts with the 'connection' option in the 'list' command");
        h.fails("-L -c --stats", 2, "options conflicts in the list command");
        h.fails("-A -a", 2, "multiple commands specified");
        h.fails("-A -t 10.0.0.100:80 -t 10.0.0.100:81", 2, "multiple 'service-address' options specified");
        h.fails("-A -t 10.0.0.100", 2, "Zero port specified for non-persistent service");
        h.fails("-A -t 10.0.0.100:80 -o", 2, "One-Packet Scheduling is only for UDP virtual services");
        h.fails("-A -t 10.0.0.1000:80", 2, "illegal virtual server address[:port] specified (`10.0.0.1000:80')");
        h.fails("-A -t 10.0.0.100:80 -p 0", 2, "invalid timeout value `0' specified (expected seconds 1..2678400)");
        h.fails("-A -t 10.0.0.100:80 -p -M 255.0.255.0x", 2,
                "illegal virtual server persistent mask specified (`255.0.255.0x'; expected e.g. 255.255.255.0)");
        h.fails("-A -f 0", 2, "invalid fwmark value `0' specified");
        h.fails("-A -t 10.0.0.100:80 -s rr -b sh-port", 2, "incompatible scheduler flag `sh-port'");
        h.fails("-A -t 10.0.0.100:80 -b bogus", 2, "invalid scheduler flag `bogus'");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.11 -w 70000", 2, "illegal weight specified (`70000'; expected 0..65535)");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.11 --tun-type gue", 2, "Tunnel options conflict with forward method");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type gue", 2,
                "You need to supply the 'tun-port' option for the 'gue' tunnel type");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-port 6080", 2,
                "Illegal 'tun-port' option with the 'ipip' tunnel type");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type vxlan", 2, "illegal tunnel type specified");
        h.fails("--set 1 2", 2, "--set option requires 3 timeout values");
        h.fails("-L extra", 2, "unexpected argument extra");
        h.fails("--start-daemon primary", 2, "illegal start-daemon parameter specified");
        h.fails("-A -t 10.0.0.100:80 --laddr 10.0.0.2,nope", 2,
                "illegal local address `nope' specified (expected --laddr IPv4[,IPv4...])");
        h.fails("--add-mark -d 10.0.0.100/33 --set-mark 1", 2,
                "illegal network `10.0.0.100/33' for -d (expected ADDRESS[/PREFIX])");
        h.fails("--add-mark -d 10.0.0.100", 2, "You need to supply the 'set-mark' option for the 'add-mark' command");
    }

    /**
     * ipvsadm 1.31's IPv6 syntax (parse_service, -6, -M): malformed text gets ipvsadm's message,
     * VIPs jvs cannot serve a one-line refusal naming the option, and nothing is applied. The cases follow
     * the C code: '[' needs "]:" right after the address, text inet_pton(AF_INET6) takes is IPv6
     * without a port, a bracketed IPv4 address reads as the address alone (the ']' ended it).
     */
    @Test
    void ipv6SyntaxAsIpvsadmReadsIt() {
        h.ok("-A -t 10.0.0.100:80 -s rr");
        ServiceConfig before = h.control.config();
        String v = "illegal virtual server address[:port] specified";
        h.fails("-A -t [2001:db8::1 -s rr", 2, v + " (`[2001:db8::1')");
        h.fails("-A -t [2001:db8::1] -s rr", 2, v + " (`[2001:db8::1]')");
        h.fails("-A -t [2001:db8::1]80 -s rr", 2, v + " (`[2001:db8::1]80')");
        h.fails("-A -t [2001:db8::1]: -s rr", 2, v + " (`[2001:db8::1]:')");
        h.fails("-A -t [2001:db8::1]:65536 -s rr", 2, v + " (`[2001:db8::1]:65536')");
        h.fails("-A -t [2001:db8:::1]:80 -s rr", 2, v + " (`[2001:db8:::1]:80')");
        h.fails("-A -t [2001:db8::1]:nosuchport -s rr", 2, v + " (`[2001:db8::1]:nosuchport')");
        h.fails("-A -t [10.0.0.100]:80 -s rr", 2, "Zero port specified for non-persistent service");
        h.fails("-A -t [2001:db8::1]:80 -p -M 0", 2, "illegal ipv6 netmask specified");
        h.fails("-A -t [2001:db8::1]:80 -p -M 129", 2, "illegal ipv6 netmask specified");
        h.fails("-A -t [2001:db8::1]:80 -p -M ffff::", 2, "illegal ipv6 netmask specified");
        h.fails("-A -f 1 -6 -p -M 200", 2, "illegal ipv6 netmask specified");
        h.fails("-A -6 -f 1", 2, "-6 used before -f\n");
        h.fails("-A -t 10.0.0.100:81 -6", 2, "-6 used before -f\n");
        // VIPs jvs cannot serve: one line naming the option (ipvsadm has no message: the kernel takes them)
        h.fails("-A -t [fe80::1]:80 -s rr", 2,
                "[fe80::1]: a link-local address (fe80::/10) cannot be a virtual service address (-t [fe80::1]:80)");
        h.fails("-A -t [fe80::1%eth0]:80 -s rr", 2, v + " (`[fe80::1%eth0]:80')");
        h.fails("-A -u [ff02::1]:53 -s rr", 2,
                "[ff02::1]: a multicast address cannot be a virtual service address (-u [ff02::1]:53)");
        h.fails("-A -t [::]:80 -s rr", 2, "[::]: the unspecified address cannot be a virtual service address (-t [::]:80)");
        h.fails("-A -t [::ffff:10.0.0.1]:80 -s rr", 2, "[::ffff:10.0.0.1]: an IPv4-mapped address (write the IPv4"
                + " address) cannot be a virtual service address (-t [::ffff:10.0.0.1]:80)");
        // --laddr takes the service's family: IPv6 local addresses for an IPv6 service, IPv4 for an IPv4 one
        h.fails("-A -t [2001:db8::1]:80 --laddr 10.0.0.2", 2,
                "illegal local address `10.0.0.2' specified (expected --laddr IPv6[,IPv6...] for an IPv6 service)");
        h.fails("-A -t 10.0.0.100:80 --laddr 2001:db8::3", 2,
                "illegal local address `2001:db8::3' specified (expected --laddr IPv4[,IPv4...])");
        h.fails("-A -t [2001:db8::1]:80 --laddr fe80::3", 2,
                "local address fe80::3 (--laddr): a link-local address (fe80::/10) cannot be a FULLNAT local address");
        h.fails("-A -t [2001:db8::1]:80 --laddr 2001:db8::3,2001:db8::3", 2,
                "local address 2001:db8::3 given twice in --laddr");
        String r = "illegal real server address[:port] specified";
        h.fails("-a -t 10.0.0.100:80 -r [2001:db8::11", 2, r + " (`[2001:db8::11')");
        h.fails("-a -t 10.0.0.100:80 -r [2001:db8::11]:80 -m", 2,
                "Different address family is allowed only for tunneling servers");
        h.fails("-a -t 10.0.0.100:80 -r 2001:db8::11", 2,
                "Different address family is allowed only for tunneling servers");
        h.fails("-d -t 10.0.0.100:80 -r [2001:db8::11]:80", 255, "No such destination");
        h.ok("-A -t [2001:db8::1]:80 -s rr");
        before = h.control.config();
        // an IPv4 real server on an IPv6 NAT service: ipvsadm's own check
        h.fails("-a -t [2001:db8::1]:80 -r 10.0.0.11:80 -m", 2,
                "Different address family is allowed only for tunneling servers");
        h.fails("-a -t [2001:db8::1]:80 -r [ff02::1]:80 -m", 2,
                "[ff02::1]: not a unicast real server address (-r [ff02::1]:80)");
        h.fails("-A -t [2001:db8::1]:80 -s rr", 255, "Service already exists");
        h.fails("-a -t [2001:db8::2]:80 -r [2001:db8::11]:80 -m", 255, "Service not defined");
        assertSame(before, h.control.config(), "nothing applied");
    }

    @Test
    void atoiAsC() {
        assertEquals(64, IpvsadmParser.atoi("64"));
        assertEquals(64, IpvsadmParser.atoi(" +64abc"));
        assertEquals(-3, IpvsadmParser.atoi("-3"));
        assertEquals(0, IpvsadmParser.atoi("ffff::"));
        assertEquals(0, IpvsadmParser.atoi(""));
        assertEquals(Integer.MAX_VALUE, IpvsadmParser.atoi("99999999999999999999"));
    }

    @Test
    void poptErrorsExit255() {
        h.fails("--bogus", 255, TRY);
        h.fails("-t 10.0.0.100:80", 255, TRY);
        h.fails("-A --bogus", 255, "--bogus: unknown option");
        h.fails("-A -t", 255, "-t: missing argument");
        h.fails("-Lq", 255, "-q: unknown option");
    }

    @Test
    void kernelRefusalsExit255AndChangeNothing() {
        h.ok("-A -t 10.0.0.100:80 -s rr");
        h.ok("-a -t 10.0.0.100:80 -r 10.0.0.11");
        ServiceConfig before = h.control.config();
        h.fails("-A -t 10.0.0.100:80", 255, "Service already exists");
        h.fails("-A -t 10.0.0.100:81 -s nosuch", 255, "Scheduler or persistence engine not found (`nosuch')");
        h.fails("-E -t 10.0.0.100:81", 255, "No such service");
        h.fails("-D -t 10.0.0.100:81", 255, "No such service");
        h.fails("-a -t 10.0.0.100:81 -r 10.0.0.11", 255, "Service not defined");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.11", 255, "Destination already exists");
        h.fails("-e -t 10.0.0.100:80 -r 10.0.0.12", 255, "No such destination");
        h.fails("-d -t 10.0.0.100:80 -r 10.0.0.12", 255, "No such destination");
        h.fails("-d -t 10.0.0.100:81 -r 10.0.0.12", 255, "Service not defined");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.12 -x 1 -y 2", 255, "Numerical result out of range");
        h.fails("--delete-mark -d 10.0.0.100 --set-mark 1", 255, "No such mark rule");
        h.fails("--stop-daemon master", 255, "No daemon is running");
        h.fails("--start-daemon master --mcast-interface nosuch0", 255, "No such device");
        h.fails("-L -n -t 10.0.0.100:81", 1, "No such service");
        assertSame(before, h.control.config());
    }

    @Test
    void aChangeTheDataPathRefusesLeavesTheRunningConfigurationUntouched() {
        h.ok("-A -t 10.0.0.100:80 -s rr");
        h.ok("-a -t 10.0.0.100:80 -r 10.0.0.11 -w 5");
        ServiceConfig before = h.control.config();
        var table = h.control.table();
        String listing = h.out("-L -n");
        h.fails("-e -t 10.0.0.100:80 -r 10.0.0.11 -w 666", 255,
                "real server 10.0.0.11:80: the data path refuses weight 666");
        assertSame(before, h.control.config());
        assertSame(table, h.control.table(), "nothing published");
        assertEquals(listing, h.out("-L -n"));
    }

    @Test
    void aRestoreIsAllOrNothing() {
        h.ok("-A -t 10.0.0.100:80 -s rr");
        ServiceConfig before = h.control.config();
        Jvsadm.Result r = h.run("-R", """
                -A -t 10.0.0.100:81 -s rr
                -a -t 10.0.0.100:81 -r 10.0.0.11
                # the service on line 4 exists already
                -A -t 10.0.0.100:80 -s wrr
                -a -t 10.0.0.100:81 -r 10.0.0.12
                """);
        assertEquals(new Jvsadm.Result(255, "", "line 4: Service already exists (nothing restored)\n"), r);
        assertSame(before, h.control.config());
        r = h.run("-R", "-A -t 10.0.0.100:82 -s rr\n-a -t 10.0.0.100:82 -r 10.0.0.11 -w x\n");
        assertEquals(2, r.status());
        assertEquals("line 2: illegal weight specified (`x'; expected 0..65535) (nothing restored)\n", r.err());
        assertSame(before, h.control.config());
        r = h.run("-R", "-L -n\n");
        assertTrue(r.err().startsWith("line 1: the 'list' command does not change the configuration"), r.err());
    }

    /** ipvsadm 1.31's parse_options / generic_opt_check / libipvs answers for the sync daemon commands. */
    @Test
    void syncDaemonErrors() {
        JvsadmHarness h = new JvsadmHarness();
        h.fails("--start-daemon master --mcast-port 0", 2, "illegal mcast-port specified (`0'; expected 1..65535)");
        h.fails("--start-daemon master --mcast-port 65536", 2,
                "illegal mcast-port specified (`65536'; expected 1..65535)");
        h.fails("--start-daemon master --mcast-ttl 0", 2, "illegal mcast-ttl specified (`0'; expected 1..255)");
        h.fails("--start-daemon master --mcast-ttl 256", 2, "illegal mcast-ttl specified (`256'; expected 1..255)");
        h.fails("--start-daemon master --sync-maxlen 65508", 2,
                "illegal sync-maxlen specified (`65508'; expected 1..65507)");
        h.fails("--start-daemon master --sync-maxlen x", 2, "illegal sync-maxlen specified (`x'; expected 1..65507)");
        h.fails("--start-daemon master --syncid 256", 2, "illegal syncid specified (`256'; expected 0..255)");
        h.fails("--start-daemon master --mcast-group 10.0.0.1", 2, "invalid IPv4 mcast-group `10.0.0.1'");
        h.fails("--start-daemon master --mcast-group 224.0.0", 2, "invalid IPv4 mcast-group `224.0.0'");
        h.fails("--start-daemon master --mcast-ttl 2 --mcast-ttl 3", 2, "multiple 'mcast-ttl' options specified");
        h.fails("--stop-daemon backup --mcast-interface eth0", 2,
                "Illegal 'mcast-interface' option with the 'stop-daemon' command");
        h.fails("--start-daemon master -w 2", 2, "Illegal 'weight' option with the 'start-daemon' command");
        h.fails("--stop-daemon primary", 2, "illegal start_daemon specified");
        h.ok("--start-daemon master");
        h.fails("--start-daemon master --mcast-interface sync0", 255, "Daemon has already run");
        h.fails("--stop-daemon backup", 255, "No daemon is running");
        h.ok("--stop-daemon master");
        h.fails("--stop-daemon master", 255, "No daemon is running");
    }

    @Test
    void helpAndVersion() {
        Jvsadm.Result r = h.run("-h");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith(JvsadmHelp.version() + "\nUsage:\n  jvsadm -A|E virtual-service"), r.out());
        assertTrue(r.out().contains("--fullnat"), "documents the extensions");
        assertTrue(r.out().contains("  --scheduler    -s scheduler         one of "
                + String.join("|", io.jvs.forwarder.sched.Schedulers.NAMES) + ",\n"), r.out());
        assertEquals(new Jvsadm.Result(0, JvsadmHelp.version() + "\n", ""), h.run("--version"));
    }
}
