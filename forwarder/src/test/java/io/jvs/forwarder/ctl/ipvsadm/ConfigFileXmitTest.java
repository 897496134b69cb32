package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.packet.Ipv4Address;
import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.TestSchedulers;
import io.jvs.forwarder.service.TunnelType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The config-file words for TUN (ipvsadm 1.31's --tun-*) and FULLNAT (--fullnat, --laddr, --client-addr). */
class ConfigFileXmitTest {
    static ServiceConfig parse(String text) throws ConfigException {
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
        ServiceConfig c = parse("""
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

    /** The wording is the parser's (ipvsadm's where it has one); what matters here: one line, naming line and item. */
    static void assertOneLineError(String text, String where, String mentions) {
        String e = error(text);
        assertTrue(e.startsWith(where), "names the line: " + e);
        assertTrue(e.contains(mentions), "names " + mentions + ": " + e);
        assertFalse(e.contains("\n"), "one line: " + e);
    }

    @Test
    void tunnelMistakesAreOneLineErrors() {
        String svc = "-A -t 10.0.0.100:80 -s rr\n";
        assertOneLineError(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -i --tun-type gue", "jvs.conf:2:", "tun-port");
        assertOneLineError(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -i --tun-type vxlan", "jvs.conf:2:", "tunnel type");
        assertOneLineError(svc + "-a -t 10.0.0.100:80 -r 10.0.2.11 -i --tun-type gue --tun-port 0", "jvs.conf:2:",
                "port");
    }

    @Test
    void fullNatServicesWithLocalAddressesAndClientAddressModes() throws ConfigException {
        ServiceConfig c = parse("""
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
        assertOneLineError("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 --fullnat", "jvs.conf:",
                "--laddr");
        assertOneLineError("-A -t 10.0.0.100:80 -s rr --laddr 10.0.0.3,10.0.0.300", "jvs.conf:1:", "10.0.0.300");
        assertOneLineError("-A -t 10.0.0.100:80 -s rr --laddr 10.0.0.3 --client-addr xff", "jvs.conf:1:", "xff");
    }
}
