package io.jvs.forwarder.sched;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.Scheduler;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.packet.Ipv6Address;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The kernel's IPv6 hashing in the address-hashing schedulers: ip_vs_sh_hashkey,
 * ip_vs_dh_hashkey, ip_vs_mh_hashkey and ip_vs_lblc(r)_hashkey fold an AF_INET6 address as
 * {@code addr_fold = ip6[0] ^ ip6[1] ^ ip6[2] ^ ip6[3]} and hash {@code ntohl(addr_fold)} where
 * they hash an IPv4 address. Expected values worked out by hand:
 * <pre>
 * 2001:db8::1:2      words 20010db8 00000000 00000000 00010002  fold 0x20000dba
 *   hash_32(0x20000dba, 8) = (0x20000dba * 0x61c88647 mod 2^32) >> 24 = 26
 * 2001:db8::abcd:0:1 words 20010db8 00000000 0000abcd 00000001  fold 0x2001a674
 *   hash_32(0x2001a674, 8) = 188
 * </pre>
 */
class Ipv6HashingTest {
    static RealServer v6(String addr, int weight, boolean ipv6Service) {
        return new RealServer(ServiceSpec.Dest.ipv6(Ipv6Address.parse(addr), 80, weight, ForwardMethod.NAT),
                new DestStats(), weight, ipv6Service);
    }

    @Test
    void foldIsTheXorOfTheFourWords() {
        Ipv6Address a = Ipv6Address.parse("2001:db8::1:2");
        assertEquals(0x20000dba, Scheduler.fold6(a.hi(), a.lo()));
        Ipv6Address b = Ipv6Address.parse("2001:db8::abcd:0:1");
        assertEquals(0x2001a674, Scheduler.fold6(b.hi(), b.lo()));
    }

    @Test
    void sourceHashingBucketOfAnIpv6Client() {
        RealServer[] d = {v6("2001:db8::10", 1, true), v6("2001:db8::11", 1, true)};
        SourceHashingScheduler sh = new SourceHashingScheduler(0, d);
        Ipv6Address client = Ipv6Address.parse("2001:db8::1:2");
        // bucket 26; weights 1 fill the 256 buckets alternately: bucket 26 is d[0]
        assertSame(d[0], sh.schedule6(client.hi(), client.lo(), 40000, 0, 0, 80));
        Ipv6Address other = Ipv6Address.parse("2001:db8::abcd:0:1"); // bucket 188: d[0]; 189 would be d[1]
        assertSame(d[0], sh.schedule6(other.hi(), other.lo(), 40000, 0, 0, 80));
        Ipv6Address odd = Ipv6Address.parse("2001:db8::abcd:0:0"); // fold 0x2001a675
        int bucket = KernelHash.hash32(0x2001a675, 8);
        assertSame(d[bucket % 2], sh.schedule6(odd.hi(), odd.lo(), 40000, 0, 0, 80));
    }

    @Test
    void destinationHashingBucketOfAnIpv6Destination() {
        RealServer[] d = {v6("2001:db8::10", 1, true), v6("2001:db8::11", 1, true), v6("2001:db8::12", 1, true)};
        DestinationHashingScheduler dh = new DestinationHashingScheduler(d);
        Ipv6Address dst = Ipv6Address.parse("2001:db8::abcd:0:1");
        // bucket 188, 188 % 3 = 2
        assertSame(d[2], dh.schedule6(0, 0, 1234, dst.hi(), dst.lo(), 80));
    }

    @Test
    void maglevPermutesIpv6ServersByTheirFold() {
        // ip_vs_mh_permutate hashes dest->addr with svc->af: for an IPv6 service the fold, so the
        // table equals the one built from IPv4 servers whose addresses are those folds
        RealServer[] six = {v6("2001:db8::10", 1, true), v6("2001:db8::abcd:0:1", 1, true)};
        assertEquals(0x20010da8, six[0].hashAddr);
        assertEquals(0x2001a674, six[1].hashAddr);
        RealServer[] four = {new RealServer(0x20010da8, 80, 1, ForwardMethod.NAT, 0, 0, new DestStats()),
                new RealServer(0x2001a674, 80, 1, ForwardMethod.NAT, 0, 0, new DestStats())};
        MaglevHashingScheduler m6 = new MaglevHashingScheduler(0, six);
        MaglevHashingScheduler m4 = new MaglevHashingScheduler(0, four);
        for (int c = 0; c < 2000; c++) {
            RealServer a = m6.schedule(c * 7919, 0, 0, 80);
            RealServer b = m4.schedule(c * 7919, 0, 0, 80);
            assertEquals(a == six[0] ? 0 : 1, b == four[0] ? 0 : 1, "client " + c);
        }
        // an IPv6 tunnel server of an IPv4 service hashes the union's first word
        assertEquals(0x20010db8, v6("2001:db8::10", 1, false).hashAddr);
    }

    /**
     * lblc/lblcr: ip_vs_lblc_hashkey buckets an IPv6 destination by its fold, but the entry is the
     * whole address (ip_vs_addr_equal). 2001:db8::1 (words 20010db8 0 0 1) and 2001:db8:0:1::
     * (words 20010db8 1 0 0) both fold to 0x20010db9: two entries, not one.
     */
    @Test
    void localityCachesKeepWholeIpv6Addresses() {
        Ipv6Address a = Ipv6Address.parse("2001:db8::1");
        Ipv6Address b = Ipv6Address.parse("2001:db8:0:1::");
        assertEquals(Scheduler.fold6(a.hi(), a.lo()), Scheduler.fold6(b.hi(), b.lo()));
        RealServer[] d = {v6("2001:db8::10", 1, true), v6("2001:db8::11", 1, true)};
        LocalityLeastConnectionScheduler lblc = new LocalityLeastConnectionScheduler(d, true);
        lblc.schedule6(0, 0, 1, a.hi(), a.lo(), 80);
        lblc.schedule6(0, 0, 1, b.hi(), b.lo(), 80);
        lblc.schedule6(0, 0, 1, a.hi(), a.lo(), 80);
        assertEquals(2, lblc.cache().entries());
        LocalityReplicatedLeastConnectionScheduler lblcr = new LocalityReplicatedLeastConnectionScheduler(d, true);
        lblcr.schedule6(0, 0, 1, a.hi(), a.lo(), 80);
        lblcr.schedule6(0, 0, 1, b.hi(), b.lo(), 80);
        assertEquals(2, lblcr.cache().entries());
        // the director's factory makes IPv6 services' lblc wide
        Scheduler made = Schedulers.factory(MaglevHashingScheduler.DEFAULT_TABLE_SIZE).create("lblc", 0, d, true);
        made.schedule6(0, 0, 1, a.hi(), a.lo(), 80);
        made.schedule6(0, 0, 1, b.hi(), b.lo(), 80);
        assertEquals(2, ((LocalityLeastConnectionScheduler) made).cache().entries());
    }
}
