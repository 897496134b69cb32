package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel side of the IPv6 data path's building blocks, in a namespace of its own (no lab
 * needed): rtnetlink's IPv6 route and address dumps as {@code RtNetlink.routes6/addresses6}
 * read them (compared with what was configured by {@code ip}), and the solicited-node
 * membership jvs takes on an attached interface (PACKET_ADD_MEMBERSHIP, PACKET_MR_MULTICAST)
 * showing in, then leaving, the interface's multicast list.
 */
@Timeout(60)
class Ipv6NativeIT {
    static final String NS = Lab.PREFIX + "ndp";

    static Exec.Result sh(String... cmd) {
        return Exec.run(Duration.ofSeconds(20), List.of(cmd));
    }

    @BeforeAll
    static void namespace() {
        sh("ip", "netns", "del", NS); // a leftover of an earlier run with this prefix
        sh("ip", "netns", "add", NS).requireOk();
        sh("ip", "-n", NS, "link", "add", "d0", "type", "veth", "peer", "name", "d1").requireOk();
        sh("ip", "-n", NS, "link", "set", "d1", "up").requireOk();
        sh("ip", "-n", NS, "link", "set", "d0", "up").requireOk();
        sh("ip", "-n", NS, "-6", "addr", "add", "2001:db8::2/64", "dev", "d0", "nodad").requireOk();
        sh("ip", "-n", NS, "-6", "route", "add", "2001:db8:5::/48", "via", "2001:db8::1", "dev", "d0").requireOk();
    }

    @AfterAll
    static void cleanup() {
        sh("ip", "netns", "del", NS);
    }

    @Test
    void routesAddressesAndSolicitedNodeMembershipAsTheKernelHasThem() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Exec.Result r = sh("ip", "netns", "exec", NS, java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Ipv6NativeProbe.class.getName(), "d0", "2001:db8::100")
                .requireOk();
        String out = r.stdout();
        String ifindex = out.lines().filter(l -> l.startsWith("ifindex d0 ")).findFirst().orElseThrow().substring(11);
        String joined = out.substring(out.indexOf("joined:"), out.indexOf("left:"));
        String left = out.substring(out.indexOf("left:"));
        assertAll(
                () -> assertTrue(out.contains("route6 2001:db8::/64 via :: oif " + ifindex + "\n"), out),
                () -> assertTrue(out.contains("route6 2001:db8:5::/48 via 2001:db8::1 oif " + ifindex + "\n"), out),
                () -> assertTrue(out.contains("addr6 2001:db8::2/64 ifindex " + ifindex + " scope 0\n"), out),
                () -> assertTrue(joined.contains("link  33:33:ff:00:01:00"), joined),
                () -> assertTrue(!left.contains("33:33:ff:00:01:00"), left));
    }
}
