package io.jvs.forwarder.ctl.ipvsadm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.forwarder.vrrp.VrrpState;
import io.jvs.forwarder.vrrp.VrrpStatus;
import io.jvs.packet.Ipv4Address;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** jvs's {@code -L --vrrp}: parsed as a list command of its own, printed one instance per line. */
class VrrpListingTest {
    @Test
    void listsEachInstanceAndTheDrops() {
        Map<String, Long> dropped = new LinkedHashMap<>();
        dropped.put("ttl", 0L);
        dropped.put("auth", 3L);
        dropped.put("foreign_vrid", 12L);
        VrrpStatus s = new VrrpStatus(List.of(
                new VrrpStatus.Instance("VI_1", "G1", "eth0", 51, 2, 150, 100, VrrpState.MASTER,
                        Ipv4Address.parse("10.0.0.2"), new int[] {Ipv4Address.parse("10.0.0.100"),
                        Ipv4Address.parse("10.0.0.101")}, 2, 40, 3),
                new VrrpStatus.Instance("VI_2", "", "eth1", 7, 3, 100, 50, VrrpState.BACKUP, 0,
                        new int[] {Ipv4Address.parse("10.0.2.100")}, 1, 0, 9)), dropped);
        assertEquals("""
                Instance         State    Interface  VRID  V Prio Advert  Master          Addresses
                VI_1             MASTER   eth0         51  2  150 1s      10.0.0.2        10.0.0.100,10.0.0.101
                VI_2             BACKUP   eth1          7  3  100 0.50s   -               10.0.2.100
                Adverts dropped: auth=3 foreign_vrid=12
                """, IpvsadmFormat.vrrp(s));
    }

    @Test
    void anIpv6InstanceShowsItsIpv6MasterAndAddresses() {
        Map<String, Long> dropped = new LinkedHashMap<>();
        dropped.put("address_list", 1L);
        VrrpStatus s = new VrrpStatus(List.of(
                new VrrpStatus.Instance("VI_6", "", "eth0", 61, 3, 150, 100, VrrpState.BACKUP, 0, new int[0], 1, 0, 7,
                        List.of(io.jvs.packet.Ipv6Address.parse("2001:db8::254"),
                                io.jvs.packet.Ipv6Address.parse("2001:db8::100")),
                        io.jvs.packet.Ipv6Address.parse("fe80::6a:76ff:fe00:3")),
                new VrrpStatus.Instance("VI_7", "", "eth0", 62, 3, 100, 100, VrrpState.BACKUP, 0, new int[0], 0, 0, 0,
                        List.of(io.jvs.packet.Ipv6Address.parse("2001:db8::300")), null)), dropped);
        assertEquals("""
                Instance         State    Interface  VRID  V Prio Advert  Master          Addresses
                VI_6             BACKUP   eth0         61  3  150 1s      fe80::6a:76ff:fe00:3 2001:db8::254,2001:db8::100
                VI_7             BACKUP   eth0         62  3  100 1s      -               2001:db8::300
                Adverts dropped: address_list=1
                """, IpvsadmFormat.vrrp(s));
    }

    @Test
    void withoutVrrpOnlyTheHeader() {
        assertEquals("Instance         State    Interface  VRID  V Prio Advert  Master          Addresses\n",
                IpvsadmFormat.vrrp(VrrpStatus.NONE));
    }

    @Test
    void parsesAsAListOptionThatTakesNoFormat() throws IpvsadmException {
        IpvsadmParser p = new IpvsadmParser("jvsadm");
        assertTrue(p.parse(List.of("-L", "--vrrp")).has(IpvsadmParser.OPT_VRRP));
        IpvsadmException e = assertThrows(IpvsadmException.class, () -> p.parse(List.of("-L", "--vrrp", "--stats")));
        assertEquals("options conflicts in the list command", e.getMessage().lines().findFirst().orElse(""));
        e = assertThrows(IpvsadmException.class, () -> p.parse(List.of("-L", "--vrrp", "--marks")));
        assertTrue(e.getMessage().contains("Illegal") || e.getMessage().contains("conflict"), e.getMessage());
    }
}
