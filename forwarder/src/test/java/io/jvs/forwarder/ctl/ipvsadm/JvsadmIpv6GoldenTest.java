package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.service.DestStats;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.VirtualService;
import io.jvs.packet.Ipv6Address;
import io.jvs.forwarder.ctl.DataPathView;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.jvs.forwarder.ctl.ipvsadm.JvsadmGoldenTest.BANNER;
import static io.jvs.forwarder.ctl.ipvsadm.JvsadmGoldenTest.TITLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * ipvsadm 1.31's IPv6 output, the expected text written from ipvsadm.c and libipvs.c:
 * addrport_to_anyname prints {@code "%s%s%s:%u"} with "[" and "]" around an AF_INET6 address
 * (inet_ntop, or gethostbyaddr's name without -n); print_service_entry builds
 * {@code "%s  %s"} (protocol, two blanks, name) and cuts it to 33 characters ({@code svc_name[33] = '\0'})
 * and a real server to 28 ({@code dname[28] = '\0'}) only when the family is not AF_INET6, so long IPv6
 * names run past the {@code %-33s}/{@code %-28s} columns; an AF_INET6 fwmark service is
 * {@code "FWM  %d IPv6"} / {@code "-f %d -6"}; the persistence netmask of an IPv6 service is a prefix
 * length, printed {@code " mask %i"} / {@code " -M %i"} unless 128; ipvs_cmp_services orders by
 * fwmark, then family (AF_INET 2 before AF_INET6 10), protocol, the address word by word, port.
 */
class JvsadmIpv6GoldenTest {
    final JvsadmHarness h = new JvsadmHarness();

    @Test
    void listNumericSaveAndRestoreRoundTrip() {
        h.ok("-A -t [2001:db8::1]:80 -s rr");
        h.ok("-a -t [2001:db8::1]:80 -r [2001:db8::12]:8080 -m -w 2");
        h.ok("-a -t [2001:db8::1]:80 -r [2001:db8::11]:80 -m");
        assertEquals(BANNER + TITLE
                + "TCP  [2001:db8::1]:80 rr\n"
                + "  -> [2001:db8::11]:80            Masq    1      0          0         \n"
                + "  -> [2001:db8::12]:8080          Masq    2      0          0         \n", h.out("-L -n"));
        String saved = "-A -t [2001:db8::1]:80 -s rr\n"
                + "-a -t [2001:db8::1]:80 -r [2001:db8::11]:80 -m -w 1\n"
                + "-a -t [2001:db8::1]:80 -r [2001:db8::12]:8080 -m -w 2\n";
        assertEquals(saved, h.out("-S -n"));
        // -R of the saved text into an empty director gives the same table
        JvsadmHarness other = new JvsadmHarness();
        for (String line : saved.split("\n")) {
            other.ok(line);
        }
        assertEquals(saved, other.out("-S -n"));
        assertEquals(TITLE + "TCP  [2001:db8::1]:80 rr\n"
                + "  -> [2001:db8::11]:80            Masq    1      0          0         \n"
                + "  -> [2001:db8::12]:8080          Masq    2      0          0         \n",
                h.out("-L -n -t [2001:db8::1]:80"));
        h.ok("-e -t [2001:db8::1]:80 -r [2001:db8::12]:8080 -m -w 5");
        h.ok("-d -t [2001:db8::1]:80 -r [2001:db8::11]:80");
        assertEquals("-A -t [2001:db8::1]:80 -s rr\n-a -t [2001:db8::1]:80 -r [2001:db8::12]:8080 -m -w 5\n",
                h.out("-S -n"));
        h.ok("-D -t [2001:db8::1]:80");
        assertEquals("", h.out("-S -n"));
    }

    /** IPv6 FULLNAT: --laddr with IPv6 local addresses, FullNat real servers; -S -n re-parses to the same table. */
    @Test
    void fullNatWithIpv6LocalAddressesSavesAndRestores() {
        h.ok("-A -t [2001:db8::1]:80 -s rr --laddr 2001:db8::3,2001:db8::4 --client-addr toa");
        h.ok("-a -t [2001:db8::1]:80 -r [2001:db8::11]:8080 --fullnat -w 2");
        assertEquals(BANNER + TITLE + "TCP  [2001:db8::1]:80 rr\n"
                + "  -> [2001:db8::11]:8080          FullNat 2      0          0         \n", h.out("-L -n"));
        String saved = "-A -t [2001:db8::1]:80 -s rr --laddr 2001:db8::3,2001:db8::4 --client-addr toa\n"
                + "-a -t [2001:db8::1]:80 -r [2001:db8::11]:8080 --fullnat -w 2\n";
        assertEquals(saved, h.out("-S -n"));
        JvsadmHarness other = new JvsadmHarness();
        for (String line : saved.split("\n")) {
            other.ok(line);
        }
        assertEquals(saved, other.out("-S -n"));
        // -E without --laddr keeps the local addresses
        h.ok("-E -t [2001:db8::1]:80 -s wlc");
        assertEquals(saved.replace("-s rr", "-s wlc"), h.out("-S -n"));
    }

    @Test
    void namesWithoutNumericUseBracketsAndReverseNames() {
        h.ok("-A -t [2001:db8::1]:80 -s rr");
        h.ok("-a -t [2001:db8::1]:80 -r [2001:db8::11]:80 -g");
        // NAMES: 2001:db8::11 is rs6.lab, port 80 is http, others print numerically
        assertEquals(BANNER + TITLE + "TCP  [2001:db8::1]:http rr\n"
                + "  -> [rs6.lab]:http               Route   1      0          0         \n", h.out("-L"));
        assertEquals("-A -t [2001:db8::1]:http -s rr\n-a -t [2001:db8::1]:http -r [rs6.lab]:http -g -w 1\n",
                h.out("-S"));
    }

    @Test
    void longNamesAreNotCutForIpv6() {
        h.ok("-A -u [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:5353 -s wlc");
        h.ok("-a -u [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:5353 -r [2001:db8:aaaa:bbbb:cccc:dddd:eeee:11]:5353 -m");
        // 48 and 44 characters: printed whole, the columns after them pushed right
        assertEquals(BANNER + TITLE + "UDP  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:5353 wlc\n"
                + "  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:11]:5353 Masq    1      0          0         \n",
                h.out("-L -n"));
        String title = "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
                + "  -> RemoteAddress:Port\n";
        assertEquals(BANNER + title
                + "UDP  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:5353        0        0        0        0        0\n"
                + "  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:11]:5353        0        0        0        0        0\n",
                h.out("-L -n --stats"));
        String rateTitle = "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
                + "  -> RemoteAddress:Port\n";
        // --rate: the service line is five print_largenum ("%9llu"); a server's "%8u %8u %8u" then two
        assertEquals(BANNER + rateTitle
                + "UDP  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:5353        0        0        0        0        0\n"
                + "  -> [2001:db8:aaaa:bbbb:cccc:dddd:eeee:11]:5353        0        0        0        0        0\n",
                h.out("-L -n --rate"));
    }

    @Test
    void statsOfAnIpv6Service() {
        h.ok("-A -t [2001:db8::1]:443 -s rr");
        h.ok("-a -t [2001:db8::1]:443 -r [2001:db8::11]:443 -g");
        VirtualService s = h.control.table().lookup6(Protocol.TCP, Ipv6Address.parse("2001:db8::1").hi(),
                Ipv6Address.parse("2001:db8::1").lo(), 443);
        assertNotNull(s);
        DestStats rs = s.dests[0].stats;
        for (int i = 0; i < 3; i++) {
            s.stats.connCreated();
            rs.connCreated();
        }
        s.stats.inPacket(100);
        rs.inPacket(100);
        assertEquals("TCP  [2001:db8::1]:443                   3        1        0      100        0",
                h.out("-L -n --stats").lines().toList().get(3));
        assertEquals("  -> [2001:db8::11]:443                  3        1        0      100        0",
                h.out("-L -n --stats").lines().toList().get(4));
    }

    @Test
    void persistencePrefixAndFwmarkIpv6() {
        h.ok("-A -t [2001:db8::1]:443 -s wlc -p 600 -M 64");
        h.ok("-A -t [2001:db8::2]:443 -s wlc -p");
        h.ok("-A -f 7 -6 -s rr");
        h.ok("-a -f 7 -6 -r 2001:db8::11 -g");
        h.ok("-A -f 7 -s rr");
        h.ok("-A -t 10.0.0.100:443 -s sh -p 60 -M 255.255.255.0");
        assertEquals(BANNER + TITLE
                + "TCP  10.0.0.100:443 sh persistent 60 mask 255.255.255.0\n"
                + "TCP  [2001:db8::1]:443 wlc persistent 600 mask 64\n"
                + "TCP  [2001:db8::2]:443 wlc persistent 300\n"
                + "FWM  7 rr\n"
                + "FWM  7 IPv6 rr\n"
                + "  -> [2001:db8::11]:0             Route   1      0          0         \n", h.out("-L -n"));
        assertEquals("-A -t 10.0.0.100:443 -s sh -p 60 -M 255.255.255.0\n"
                + "-A -t [2001:db8::1]:443 -s wlc -p 600 -M 64\n"
                + "-A -t [2001:db8::2]:443 -s wlc -p 300\n"
                + "-A -f 7 -s rr\n"
                + "-A -f 7 -6 -s rr\n"
                + "-a -f 7 -6 -r [2001:db8::11]:0 -g -w 1\n", h.out("-S -n"));
        h.ok("-D -f 7 -6");
        assertEquals("FWM  7 rr", h.out("-L -n").lines().toList().getLast());
        // -M after -f -6 is a prefix length; -E keeps the service's family
        h.ok("-A -f 8 -6 -p 30 -M 48");
        assertEquals("-A -f 8 -6 -s wlc -p 30 -M 48", h.out("-S -n").lines().toList().getLast());
    }

    /**
     * What the director now forwards over IPv6, listed and saved as ipvsadm 1.31's
     * print_service_entry prints it: "FWM  %d IPv6" / "-f %d -6", " persistent %u" then
     * " mask %i" for an IPv6 prefix other than 128, " ops" (-L) / " -o" (-S) for one-packet
     * scheduling, real servers "  -> %-28s %-7s %-6d %-10u %-10u" sorted by address; then jvs's
     * IPv6 mark rule (-S, after the services, with -6 first) and a per-client limit as -A takes it.
     */
    @Test
    void ipv6FwmarkOnePacketAndLimitsAsIpvsadmPrintsThem() {
        h.ok("-A -f 5 -6 -s rr -p 300 -M 64");
        h.ok("-a -f 5 -6 -r [2001:db8::12]:8080 -g");
        h.ok("-a -f 5 -6 -r [2001:db8::11]:8080 -m");
        h.ok("-A -u [2001:db8::1]:53 -s rr -o");
        h.ok("-A -f 9 -6 -s rr -o");
        h.ok("-A -t [2001:db8::1]:80 -s rr --conn-limit 3");
        h.ok("--add-mark -6 -d 2001:db8::100/128 -p tcp --dport 80 --set-mark 5");
        assertEquals(BANNER + TITLE
                + "TCP  [2001:db8::1]:80 rr\n"
                + "UDP  [2001:db8::1]:53 rr ops\n"
                + "FWM  5 IPv6 rr persistent 300 mask 64\n"
                + "  -> [2001:db8::11]:8080          Masq    1      0          0         \n"
                + "  -> [2001:db8::12]:8080          Route   1      0          0         \n"
                + "FWM  9 IPv6 rr ops\n", h.out("-L -n"));
        assertEquals("-A -t [2001:db8::1]:80 -s rr --conn-limit 3\n"
                + "-A -u [2001:db8::1]:53 -s rr -o\n"
                + "-A -f 5 -6 -s rr -p 300 -M 64\n"
                + "-a -f 5 -6 -r [2001:db8::11]:8080 -m -w 1\n"
                + "-a -f 5 -6 -r [2001:db8::12]:8080 -g -w 1\n"
                + "-A -f 9 -6 -s rr -o\n"
                + "--add-mark -6 -d 2001:db8::100/128 -p tcp --dport 80 --set-mark 5\n", h.out("-S -n"));
        assertEquals("Mark rules (first match wins)\n"
                + "--add-mark -6 -d 2001:db8::100/128 -p tcp --dport 80 --set-mark 5\n", h.out("-L --marks"));
        h.ok("--delete-mark -6 -d 2001:db8::100 -p tcp --dport 80 --set-mark 5");
        assertEquals("Mark rules (first match wins)\n", h.out("-L --marks"));
    }

    @Test
    void mixedFamiliesOnlyForTunnels() {
        h.ok("-A -t 10.0.0.100:80 -s rr");
        h.ok("-a -t 10.0.0.100:80 -r [2001:db8::11]:80 -i");
        h.ok("-A -t [2001:db8::1]:80 -s rr");
        h.ok("-a -t [2001:db8::1]:80 -r 10.0.0.12 -i --tun-type gue --tun-port 6080");
        assertEquals(BANNER + TITLE
                + "TCP  10.0.0.100:80 rr\n"
                + "  -> [2001:db8::11]:80            Tunnel  1      0          0         \n"
                + "TCP  [2001:db8::1]:80 rr\n"
                + "  -> 10.0.0.12:80                 Tunnel  1      0          0         \n", h.out("-L -n"));
        assertEquals("-A -t 10.0.0.100:80 -s rr\n"
                + "-a -t 10.0.0.100:80 -r [2001:db8::11]:80 -i -w 1 --tun-type ipip\n"
                + "-A -t [2001:db8::1]:80 -s rr\n"
                + "-a -t [2001:db8::1]:80 -r 10.0.0.12:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n",
                h.out("-S -n"));
        h.fails("-e -t [2001:db8::1]:80 -r 10.0.0.12 -m", 2,
                "Different address family is allowed only for tunneling servers");
    }

    @Test
    void servicesSortByFamilyThenAddressWords() {
        h.ok("-A -t [2001:db8::2]:80 -s rr");
        h.ok("-A -t [2001:db8::1]:81 -s rr");
        h.ok("-A -t [2001:db8::1]:80 -s rr");
        h.ok("-A -u [2001:db8::1]:80 -s rr");
        h.ok("-A -u 10.0.0.1:80 -s rr");
        assertEquals(BANNER + TITLE
                + "UDP  10.0.0.1:80 rr\n"
                + "TCP  [2001:db8::1]:80 rr\n"
                + "TCP  [2001:db8::1]:81 rr\n"
                + "TCP  [2001:db8::2]:80 rr\n"
                + "UDP  [2001:db8::1]:80 rr\n", h.out("-L -n"));
    }

    /**
     * print_conn: "%-3s %-6s %-11s %-18s %-18s %s\n" with addrport_to_anyname, so an AF_INET6 line
     * has "[addr]:port" in each column, longer ones running past the 18.
     */
    @Test
    void connectionsOfIpv6() {
        h.connections = List.of(
                DataPathView.Connection.ipv6(Protocol.TCP, Ipv6Address.parse("2001:db8::100"), 40000,
                        Ipv6Address.parse("2001:db8::1"), 80, Ipv6Address.parse("2001:db8::11"), 80, "ESTABLISHED", 899),
                DataPathView.Connection.ipv6(Protocol.UDP, Ipv6Address.parse("::2"), 53, Ipv6Address.parse("::1"), 53,
                        Ipv6Address.parse("::3"), 53, "UDP", 5));
        assertEquals("IPVS connection entries\n"
                + "pro expire state       source             virtual            destination\n"
                + "TCP 14:59  ESTABLISHED [2001:db8::100]:40000 [2001:db8::1]:80   [2001:db8::11]:80\n"
                + "UDP 00:05  UDP         [::2]:53           [::1]:53           [::3]:53\n", h.out("-L -n -c"));
        assertEquals("TCP 14:59  ESTABLISHED [2001:db8::100]:40000 [2001:db8::1]:http [rs6.lab]:http",
                h.out("-L -c").lines().toList().get(2));
    }
}
