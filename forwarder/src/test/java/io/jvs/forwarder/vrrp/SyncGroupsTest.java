package io.jvs.forwarder.vrrp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.jvs.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Two instances in one vrrp_sync_group (and a third outside it) move together, on a fake clock. */
class SyncGroupsTest {
    static final long S = 1_000_000_000L;
    static final int ME = Ipv4Address.parse("10.0.0.2");
    static final int PEER = Ipv4Address.parse("10.0.0.3");

    final SyncGroups groups = new SyncGroups(List.of(new VrrpConfig.SyncGroup("G1", List.of("VI_1", "VI_2"),
            List.of(), List.of(), List.of(), List.of())));
    final List<String> led = new ArrayList<>();
    final VrrpInstance.Actions actions = new VrrpInstance.Actions() {
        @Override
        public void send(VrrpInstance i, int priority) {
        }

        @Override
        public void transition(VrrpInstance i, VrrpState from, VrrpState to) {
            VrrpConfig.SyncGroup g = groups.follow(i.name(), from, to, now);
            if (g != null) {
                led.add(g.name() + " " + to + " by " + i.name());
            }
        }
    };
    long now;

    VrrpInstance instance(String name, int vrid, int priority) {
        VrrpInstance i = new VrrpInstance(new VrrpConfig.Instance(name, "eth0", vrid, priority, 100, 2,
                VrrpConfig.InitialState.BACKUP, false, 0, null,
                List.of(new VrrpConfig.Address(Ipv4Address.parse("10.0.0." + (100 + vrid)), 32, null)), List.of(),
                List.of(), List.of(), List.of(), List.of(), 5000, 5, false, 0, List.of(), "t:1"), ME, actions);
        groups.add(i);
        return i;
    }

    static VrrpPacket.Advert advert(int vrid, int priority) {
        return new VrrpPacket.Advert(2, vrid, priority, 100, new int[] {1}, 0, new byte[8], PEER);
    }

    @Test
    void membersBecomeMasterBackupAndFaultTogether() {
        VrrpInstance a = instance("VI_1", 1, 150);
        VrrpInstance b = instance("VI_2", 2, 100); // longer master-down interval than VI_1
        VrrpInstance c = instance("VI_3", 3, 100); // no group
        a.start(0);
        b.start(0);
        c.start(0);
        now = 3_420_000_000L; // VI_1's master-down (3 s + 106/256 s) has passed, VI_2's (3.609 s) has not
        a.tick(now);
        b.tick(now);
        c.tick(now);
        assertEquals(VrrpState.MASTER, a.state());
        assertEquals(VrrpState.MASTER, b.state(), "VI_2 follows VI_1 to MASTER");
        assertEquals(VrrpState.BACKUP, c.state(), "VI_3 is in no group");
        assertEquals(List.of("G1 MASTER by VI_1"), led, "the group moved once, led by VI_1");

        now = 5 * S;
        b.receive(advert(2, 200), now); // a better master for VI_2 only
        assertEquals(VrrpState.BACKUP, b.state());
        assertEquals(VrrpState.BACKUP, a.state(), "VI_1 follows VI_2 to BACKUP");

        now = 20 * S;
        a.tick(now);
        assertEquals(VrrpState.MASTER, a.state());
        assertEquals(VrrpState.MASTER, b.state());
        a.interfaceDown(now);
        assertEquals(VrrpState.FAULT, a.state());
        assertEquals(VrrpState.FAULT, b.state(), "VI_2 follows VI_1 to FAULT");
        a.interfaceUp(now + S);
        assertEquals(VrrpState.BACKUP, a.state());
        assertEquals(VrrpState.BACKUP, b.state(), "and out of it");
        assertNull(groups.groupOf("VI_3"));
    }
}
