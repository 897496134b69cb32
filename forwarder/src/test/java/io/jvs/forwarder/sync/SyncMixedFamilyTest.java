package io.jvs.forwarder.sync;

import io.jvs.forwarder.conn.ConnectionTable;
import io.jvs.forwarder.conn.ConnectionTable6;
import io.jvs.forwarder.conn.Timeouts;
import io.jvs.forwarder.sched.Schedulers;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.ServiceRegistry;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceSpec.Dest;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.ServiceTableBuilder;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The kernel's ip_vs_genl_new_daemon refuses to start a sync daemon (-EINVAL) while any real
 * server is of another family than its service's (mixed_address_family_dests > 0: a sync entry has
 * no field for the destination's family); so does jvs, for the master and the backup, before
 * anything is opened. The same table without the mixed server gets past that check.
 */
class SyncMixedFamilyTest {
    static final SyncSettings SETTINGS = new SyncSettings("jvs-no-such-if0", 0, 0, 0, 0, 0);

    static SyncDaemons daemons(List<Dest> dests) {
        ServiceRegistry registry = new ServiceRegistry();
        registry.publish(new ServiceTableBuilder(Schedulers::create).build(List.of(
                new ServiceSpec(Protocol.TCP, 0x0a00_0064, 80, "rr", dests)), ServiceTable.EMPTY));
        return new SyncDaemons(new ConnectionTable(64, Timeouts.DEFAULTS), new ConnectionTable6(64, Timeouts.DEFAULTS),
                registry, Runnable::run, SyncPolicy.DEFAULTS);
    }

    @Test
    void aDaemonDoesNotStartWhileARealServerIsOfTheOtherFamily() {
        Dest tun4 = new Dest(0x0a00_020b, 80, 1, ForwardMethod.TUN, 0, 0);
        Dest tun6 = Dest.ipv6(Ipv6Address.parse("2001:db8:2::11"), 80, 1, ForwardMethod.TUN);
        SyncDaemons mixed = daemons(List.of(tun4, tun6));
        for (SyncRole role : List.of(SyncRole.MASTER, SyncRole.BACKUP)) {
            assertEquals("Invalid argument: real server [2001:db8:2::11]:80 of TCP/10.0.0.100:80 is of the other"
                            + " family than its service (a tunnel): the sync protocol cannot carry it, as IPVS's",
                    assertThrows(SyncException.class, () -> mixed.start(role, SETTINGS)).getMessage());
        }
        assertFalse(mixed.running());
        // without the IPv6 server the start goes on to the interface (which this test does not have)
        assertEquals("No such device", assertThrows(SyncException.class,
                () -> daemons(List.of(tun4)).start(SyncRole.MASTER, SETTINGS)).getMessage());
    }
}
