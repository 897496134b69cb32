package io.jvs.forwarder.vrrp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jvs.packet.Ipv4Address;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The state machine on a fake clock (nanoseconds from 0), its sends and transitions recorded. */
class VrrpInstanceTest {
    static final long S = 1_000_000_000L;
    static final long MS = 1_000_000L;
    static final int ME = Ipv4Address.parse("10.0.0.2");
    static final int PEER_LOW = Ipv4Address.parse("10.0.0.1");
    static final int PEER_HIGH = Ipv4Address.parse("10.0.0.3");

    final List<String> log = new ArrayList<>();
    final VrrpInstance.Actions actions = new VrrpInstance.Actions() {
        @Override
        public void send(VrrpInstance i, int priority) {
            log.add("send " + priority);
        }

        @Override
        public void transition(VrrpInstance i, VrrpState from, VrrpState to) {
            log.add(from + "->" + to);
        }
    };

    static VrrpConfig.Instance config(int version, int priority, VrrpConfig.InitialState state, boolean nopreempt,
                                      long preemptDelayMs) {
        return new VrrpConfig.Instance("VI_1", "eth0", 51, priority, 100, version, state, nopreempt, preemptDelayMs,
                null, List.of(new VrrpConfig.Address(Ipv4Address.parse("10.0.0.100"), 32, null)), List.of(),
                List.of(), List.of(), List.of(), List.of(), 5000, 5, false, 0, List.of(), "t:1");
    }

    VrrpInstance instance(int version, int priority) {
        return new VrrpInstance(config(version, priority, VrrpConfig.InitialState.BACKUP, false, 0), ME, actions);
    }

    static VrrpPacket.Advert advert(int priority, int src) {
        return new VrrpPacket.Advert(2, 51, priority, 100, new int[] {Ipv4Address.parse("10.0.0.100")}, 0,
                new byte[8], src);
    }

    /** Runs tick every 10 ms from {@code from} to {@code to}; returns the first time the state was {@code s}, or -1. */
    static long runUntil(VrrpInstance i, long from, long to, VrrpState s) {
        for (long t = from; t <= to; t += 10 * MS) {
            i.tick(t);
            if (i.state() == s) {
                return t;
            }
        }
        return -1;
    }

    @Test
    void masterDownIntervalIsThreeAdvertsPlusSkew() {
        // RFC 3768: skew (256 - 100) / 256 s = 609.375 ms; 3 x 1 s + skew
        assertEquals(3 * S + 609_375_000L, instance(2, 100).masterDownIntervalNanos());
        // v3: skew (256 - 150) x 100 cs / 256 = 414.0625 ms
        assertEquals(3 * S + 414_062_500L, instance(3, 150).masterDownIntervalNanos());
    }

    @Test
    void aBackupWithNobodyElseBecomesMasterAfterTheMasterDownInterval() {
        VrrpInstance i = instance(2, 100);
        i.start(0);
        assertEquals(VrrpState.BACKUP, i.state());
        long at = runUntil(i, 0, 10 * S, VrrpState.MASTER);
        assertEquals(3_610 * MS, at, "first 10 ms tick past 3.609375 s");
        assertEquals(List.of("INIT->BACKUP", "send 100", "BACKUP->MASTER"), log);
        log.clear();
        runUntil(i, at + 10 * MS, at + 2 * S + 5 * MS, VrrpState.FAULT);
        assertEquals(List.of("send 100", "send 100"), log, "one advert per advert_int");
    }

    @Test
    void theOwnerConfiguredMasterStartsAsMaster() {
        VrrpInstance i = new VrrpInstance(config(2, 255, VrrpConfig.InitialState.MASTER, false, 0), ME, actions);
        i.start(0);
        assertEquals(VrrpState.MASTER, i.state());
        assertEquals(List.of("send 255", "INIT->MASTER"), log);
    }

    @Test
    void aHigherMasterKeepsABackupDownAndItsSilenceLetsItTakeOver() {
        VrrpInstance i = instance(2, 100);
        i.start(0);
        for (long t = 0; t <= 10 * S; t += S) {
            i.receive(advert(150, PEER_HIGH), t);
            assertEquals(-1, runUntil(i, t, t + S - MS, VrrpState.MASTER));
        }
        // the master dies after its advert at 10 s: master down at 10 s + 3.609375 s
        assertEquals(13_610 * MS, runUntil(i, 10 * S + S, 20 * S, VrrpState.MASTER));
    }

    @Test
    void priorityZeroLetsTheBackupTakeOverAfterItsSkew() {
        VrrpInstance i = instance(2, 100);
        i.start(0);
        i.receive(advert(150, PEER_HIGH), 0);
        i.receive(advert(0, PEER_HIGH), 500 * MS);
        assertEquals(500 * MS + 610 * MS, runUntil(i, 500 * MS, 5 * S, VrrpState.MASTER));
    }

    @Test
    void aMasterAnswersPriorityZeroAtOnce() {
        VrrpInstance i = instance(2, 100);
        i.start(0);
        runUntil(i, 0, 5 * S, VrrpState.MASTER);
        log.clear();
        i.receive(advert(0, PEER_HIGH), 4 * S);
        assertEquals(List.of("send 100"), log);
    }

    @Test
    void preemption() {
        VrrpInstance i = instance(2, 150);
        i.start(0);
        // a lower master keeps advertising: ignored, so the master-down timer runs out
        for (long t = 0; t < 3 * S; t += S) {
            i.receive(advert(100, PEER_LOW), t);
        }
        assertEquals(3_420 * MS, runUntil(i, 0, 10 * S, VrrpState.MASTER));
        log.clear();
        i.receive(advert(100, PEER_LOW), 4 * S);
        assertEquals(List.of("send 150"), log, "the lower one hears us at once");
    }

    @Test
    void nopreemptKeepsTheLowerMaster() {
        VrrpInstance i = new VrrpInstance(config(2, 150, VrrpConfig.InitialState.BACKUP, true, 0), ME, actions);
        i.start(0);
        for (long t = 0; t <= 20 * S; t += S) {
            i.receive(advert(100, PEER_LOW), t);
            assertEquals(-1, runUntil(i, t, t + S - MS, VrrpState.MASTER));
        }
    }

    @Test
    void preemptDelayWaitsBeforePreempting() {
        VrrpInstance i = new VrrpInstance(config(2, 150, VrrpConfig.InitialState.BACKUP, false, 10_000), ME,
                actions);
        i.start(0);
        long t = 0;
        for (; t <= 9 * S; t += S) {
            i.receive(advert(100, PEER_LOW), t);
            assertEquals(-1, runUntil(i, t, t + S - MS, VrrpState.MASTER), "at " + t);
        }
        // from 10 s the lower master's adverts are ignored: master-down after the last accepted (9 s)
        for (; t <= 15 * S; t += S) {
            i.receive(advert(100, PEER_LOW), t);
            if (runUntil(i, t, t + S - MS, VrrpState.MASTER) >= 0) {
                break;
            }
        }
        assertEquals(VrrpState.MASTER, i.state());
        assertEquals(12 * S, t, "9 s + 3.414 s falls in the second after 12 s");
    }

    @Test
    void aMasterYieldsToAHigherPriorityOrAnEqualOneFromAHigherAddress() {
        VrrpInstance i = instance(2, 100);
        i.start(0);
        runUntil(i, 0, 5 * S, VrrpState.MASTER);
        i.receive(advert(100, PEER_LOW), 5 * S);
        assertEquals(VrrpState.MASTER, i.state(), "equal priority, lower address");
        i.receive(advert(100, PEER_HIGH), 5 * S);
        assertEquals(VrrpState.BACKUP, i.state(), "equal priority, higher address");
        runUntil(i, 5 * S, 20 * S, VrrpState.MASTER);
        i.receive(advert(101, PEER_LOW), 20 * S);
        assertEquals(VrrpState.BACKUP, i.state(), "higher priority");
    }

    @Test
    void aDownTrackedInterfaceMeansFaultAndAMasterSaysGoodbye() {
        VrrpInstance i = instance(2, 100);
        i.start(0);
        runUntil(i, 0, 5 * S, VrrpState.MASTER);
        log.clear();
        i.interfaceDown(5 * S);
        assertEquals(List.of("send 0", "MASTER->FAULT"), log);
        assertEquals(-1, runUntil(i, 5 * S, 20 * S, VrrpState.MASTER), "no adverts, no timers in FAULT");
        i.receive(advert(50, PEER_LOW), 20 * S);
        assertEquals(VrrpState.FAULT, i.state());
        i.interfaceUp(21 * S);
        assertEquals(VrrpState.BACKUP, i.state());
        assertEquals(21 * S + 3_610 * MS, runUntil(i, 21 * S, 30 * S, VrrpState.MASTER));
    }

    @Test
    void shutdownOfAMasterSendsPriorityZero() {
        VrrpInstance i = instance(3, 100);
        i.start(0);
        runUntil(i, 0, 5 * S, VrrpState.MASTER);
        log.clear();
        i.shutdown();
        assertEquals(List.of("send 0"), log);
    }

    @Test
    void v3BackupLearnsTheMastersAdvertInterval() {
        VrrpInstance i = instance(3, 100);
        i.start(0);
        i.receive(new VrrpPacket.Advert(3, 51, 200, 50, new int[] {1}, 0, new byte[0], PEER_HIGH), 0);
        // 3 x 0.5 s + (256-100) x 0.5 s / 256 = 1.5 s + 304.6875 ms
        assertEquals(1_810 * MS, runUntil(i, 0, 5 * S, VrrpState.MASTER));
    }

    /**
     * RFC 5798 section 6.4.3 over IPv6: between equal priorities the higher primary (link-local)
     * address wins, compared as an unsigned 128-bit number.
     */
    @Test
    void anIpv6MasterYieldsToAnEqualPriorityFromAHigherLinkLocalAddress() {
        io.jvs.packet.Ipv6Address me = io.jvs.packet.Ipv6Address.parse("fe80::6a:76ff:fe00:2");
        VrrpConfig.Instance c = new VrrpConfig.Instance("VI_6", "eth0", 51, 100, 100, 3,
                VrrpConfig.InitialState.BACKUP, false, 0, null, List.of(), List.of(), List.of(), List.of(), List.of(),
                List.of(), 5000, 5, false, 0, List.of(), "t:1", List.of(),
                List.of(io.jvs.packet.Ipv6Address.parse("2001:db8::254")), null, List.of());
        VrrpInstance i = new VrrpInstance(c, me.hi(), me.lo(), actions);
        i.start(0);
        runUntil(i, 0, 5 * S, VrrpState.MASTER);
        assertEquals(me.lo(), i.masterLo());
        i.receive(advert6(100, "fe80::6a:76ff:fe00:1"), 5 * S);
        assertEquals(VrrpState.MASTER, i.state(), "equal priority, lower address");
        i.receive(advert6(100, "fe80::fc00:ff:fe00:3"), 5 * S); // the low 64 bits' top bit set: unsigned
        assertEquals(VrrpState.BACKUP, i.state(), "equal priority, higher address");
        assertEquals(io.jvs.packet.Ipv6Address.parse("fe80::fc00:ff:fe00:3").lo(), i.masterLo());
    }

    static VrrpPacket.Advert advert6(int priority, String src) {
        io.jvs.packet.Ipv6Address a = io.jvs.packet.Ipv6Address.parse(src);
        io.jvs.packet.Ipv6Address gw = io.jvs.packet.Ipv6Address.parse("2001:db8::254");
        return new VrrpPacket.Advert(3, 51, priority, 100, new int[0], 0, new byte[0], 0, a.hi(), a.lo(),
                new long[] {gw.hi(), gw.lo()});
    }
}
