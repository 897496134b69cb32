package io.jvs.forwarder.announce;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvs.forwarder.config.ServiceConfig;
import io.jvs.forwarder.ctl.ipvsadm.ConfigFile;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.packet.Ipv4Address;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Which VIPs a director announces: those with a service that can take a new flow. */
class VipRoutesTest {
    static List<String> served(String... lines) throws Exception {
        ServiceConfig c = ConfigFile.parse("test", List.of(lines), io.jvs.forwarder.sched.Schedulers.factory(4093));
        ServiceTable t = new ServiceTableBuilder(io.jvs.forwarder.sched.Schedulers.factory(4093)).build(c.services(), c.fwmarkRules(), ServiceTable.EMPTY);
        return VipRoutes.served(t).stream().map(Ipv4Address::toString).toList();
    }

    @Test
    void aVipWithAServerOfWeightAboveZeroIsServed() throws Exception {
        assertEquals(List.of("10.0.0.100", "10.0.0.101"), served(
                "-A -t 10.0.0.101:80 -s mh", "-a -t 10.0.0.101:80 -r 10.0.0.11:80 -g -w 1",
                "-A -t 10.0.0.100:80 -s mh", "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 0",
                "-A -u 10.0.0.100:53 -s mh", "-a -u 10.0.0.100:53 -r 10.0.0.12:53 -g -w 1"));
    }

    @Test
    void aVipWhoseServersAreAllAtWeightZeroOrGoneIsWithdrawn() throws Exception {
        assertEquals(List.of(), served("-A -t 10.0.0.100:80 -s mh", "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 0"));
        assertEquals(List.of(), served("-A -t 10.0.0.100:80 -s mh"));
    }

    static List<String> served6(String... lines) throws Exception {
        ServiceConfig c = ConfigFile.parse("test", List.of(lines), io.jvs.forwarder.sched.Schedulers.factory(4093));
        ServiceTable t = new ServiceTableBuilder(io.jvs.forwarder.sched.Schedulers.factory(4093)).build(c.services(), c.fwmarkRules(), ServiceTable.EMPTY);
        return VipRoutes.served6(t).stream().map(Object::toString).toList();
    }

    @Test
    void ipv6VipsAreServedApartFromTheIpv4Ones() throws Exception {
        String[] conf = {
            "-A -t [2001:db8::101]:80 -s mh", "-a -t [2001:db8::101]:80 -r [2001:db8::11]:80 -g -w 1",
            "-A -t [2001:db8::100]:80 -s mh", "-a -t [2001:db8::100]:80 -r [2001:db8::11]:80 -g -w 1",
            "-A -t [2001:db8::102]:80 -s mh", "-a -t [2001:db8::102]:80 -r [2001:db8::11]:80 -g -w 0",
            "-A -t 10.0.0.100:80 -s mh", "-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1"};
        assertEquals(List.of("2001:db8::100", "2001:db8::101"), served6(conf), "in address order; weight 0 withdrawn");
        assertEquals(List.of("10.0.0.100"), served(conf), "the IPv4 routes are the IPv4 VIPs only");
    }

    @Test
    void aFwmarkServiceHasNoAddressToAnnounce() throws Exception {
        assertEquals(List.of(), served("-A -f 1 -s mh", "-a -f 1 -r 10.0.0.11:80 -g -w 1"));
    }
}
