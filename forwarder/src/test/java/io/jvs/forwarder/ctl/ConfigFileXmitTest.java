package io.jvs.forwarder.ctl;

import io.jvs.forwarder.packet.Ipv4Address;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.TestSchedulers;
import io.jvs.forwarder.service.TunnelType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The config-file words for TUN (ipvsadm 1.31's --tun-*) and FULLNAT (--fullnat, --laddr, --client-addr). */
class ConfigFileXmitTest {
    static ForwarderConfig parse(String text) throws ConfigException {
        return ConfigFile.parse("jvs.conf", text.lines().toList(), TestSchedulers.FACTORY);
    }

    static String error(String text) {
        return assertThrows(ConfigException.class, () -> parse(text)).getMessage();
    }

    static int ip(String s) {
        return Ipv4Address.parse(s);
    }

    @Test
    void tunnelTypesPortsAndChecksums() throws ConfigException {
        ForwarderConfig c = parse("""
                -A -t 10.0.0.100:80 -s rr
                -a -t 10.0.0.100:80 -r 10.0.2.11 -i
                -a -t 10.0.0.100:80 -r 10.0.2.12 -i --tun-type gue --tun-port 6080
                -a -t 10.0.0.100:80 -r 10.0.2.13 -i --tun-type=gue --tun-port=6081 --tun-csum
                """);
        List<ServiceSpec.Dest> d = c.services().getFirst().dests();
        assertEquals(TunnelType.IPIP, d.get(0).tunType());
        assertEquals(ForwardMethod.TUN, d.get(1).method());
        assertEquals(TunnelType.GUE, d.get(1).tunType());
        assertEquals(6080, d.get(1).tunPort());
        assertEquals(TunnelType.FLAG_NOCSUM, d.get(1).tunFlags());
        assertEquals(6081, d.get(2).tunPort());
        assertEquals(TunnelType.FLAG_CSUM, d.get(2).tunFlags());
    }

    @Test
    void tunnelOptionsAreCheckedWithOneLineErrors() {
        String svc = "-A -t 10.0.0.100:80 -s rr\n";
        assertEquals("jvs.conf:2: --tun-type gue needs --tun-port PORT (the real server's GUE port)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -i --tun-type gue"));
        assertEquals("jvs.conf:2: option --tun-type is only for tunnel real servers (-i)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -m --tun-type gue --tun-port 1"));
        assertEquals("jvs.conf:2: option --tun-port is only for --tun-type gue",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -i --tun-port 6080"));
        assertEquals("jvs.conf:2: unknown tunnel type \"vxlan\" (expected ipip, gue or gre) for --tun-type",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -i --tun-type vxlan"));
        assertEquals("jvs.conf:2: illegal tunnel port \"0\" for --tun-port (expected 1..65535)",
                error(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -i --tun-type gue --tun-port 0"));
    }

    @Test
    void fullNatServicesWithLocalAddressesAndClientAddressModes() throws ConfigException {
        ForwarderConfig c = parse("""
                -A -t 10.0.0.100:80 -s rr --laddr 10.0.0.3,10.0.0.4 --client-addr proxy
                -a -t 10.0.0.100:80 -r 10.0.0.11:8080 --fullnat -w 2
                -A -t 10.0.0.100:81 -s rr --laddr 10.0.0.3 --client-addr toa
                -a -t 10.0.0.100:81 -r 10.0.0.12 --fullnat
                """);
        ServiceSpec proxy = c.services().get(0);
        assertEquals(List.of(ip("10.0.0.3"), ip("10.0.0.4")), proxy.localAddrs());
        assertEquals(ClientAddressMode.PROXY_V2, proxy.clientAddress());
        assertEquals(ForwardMethod.FULLNAT, proxy.dests().getFirst().method());
        assertEquals(8080, proxy.dests().getFirst().port(), "FULLNAT may change the port, as NAT");
        ServiceSpec toa = c.services().get(1);
        assertEquals(ClientAddressMode.TOA, toa.clientAddress());
        assertEquals(81, toa.dests().getFirst().port(), "no port: the service's");
    }

    @Test
    void fullNatMistakesAreOneLineErrors() {
        assertEquals("jvs.conf:1: TCP 10.0.0.100:80 -r 10.0.0.11:80: a FULLNAT real server needs the service's"
                        + " local addresses (--laddr)",
                error("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 --fullnat"));
        assertEquals("jvs.conf:1: illegal local address \"10.0.0.300\" in --laddr \"10.0.0.3,10.0.0.300\""
                        + " (expected IPv4 addresses separated by commas, e.g. 10.0.0.3,10.0.0.4)",
                error("-A -t 10.0.0.100:80 -s rr --laddr 10.0.0.3,10.0.0.300"));
        assertEquals("jvs.conf:1: unknown client address mode \"xff\" (expected none, toa or proxy) for --client-addr",
                error("-A -t 10.0.0.100:80 -s rr --laddr 10.0.0.3 --client-addr xff"));
        assertEquals("jvs.conf:1: --client-addr is for FULLNAT services: give their local addresses with --laddr",
                error("-A -t 10.0.0.100:80 -s rr --client-addr toa"));
        assertEquals("jvs.conf:2: options -m and --fullnat conflict (multiple 'forwarding-method' options specified)",
                error("-A -t 10.0.0.100:80 -s rr --laddr 10.0.0.3\n-a -t 10.0.0.100:80 -r 10.0.0.11 -m --fullnat"));
    }
}
