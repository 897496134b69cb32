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
