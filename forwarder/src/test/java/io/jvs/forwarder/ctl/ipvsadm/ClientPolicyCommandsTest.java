package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.ServiceConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * jvsadm's client-policy options: {@code --allow}, {@code --deny}, {@code --conn-limit},
 * {@code --rate-limit} on -A/-E, {@code -L --limits}, and the -S/-R round trip; bad input is one
 * line naming the item, and nothing changes.
 */
class ClientPolicyCommandsTest {
    final JvsadmHarness h = new JvsadmHarness(t -> { });

    @Test
    void optionsAreListedSavedAndRestored() {
        h.ok("-A -t 10.0.0.100:80 -s rr --allow 10.0.1.0/24,192.0.2.7 --deny 10.0.1.128/25 --conn-limit 3"
                + " --rate-limit 20/40");
        h.ok("-A -u 10.0.0.100:53 -s rr");
        assertEquals(String.format("%-33s %8s %8s %9s %13s%n", "Prot LocalAddress:Port", "Allow", "Deny", "ConnLimit",
                "Rate/Burst")
                + String.format("%-33s %8d %8d %9d %13s%n", "TCP  10.0.0.100:80", 2, 1, 3, "20/40")
                + String.format("%-33s %8d %8d %9d %13s%n", "UDP  10.0.0.100:53", 0, 0, 0, "0/0"),
                h.out("-L --limits"));
        String saved = h.out("-S -n");
        assertEquals("-A -t 10.0.0.100:80 -s rr --allow 10.0.1.0/24,192.0.2.7 --deny 10.0.1.128/25 --conn-limit 3"
                + " --rate-limit 20/40\n-A -u 10.0.0.100:53 -s rr\n", saved);
        ServiceConfig before = h.control.config();
        h.ok("-C");
        assertEquals(0, h.run("-R", saved).status());
        assertEquals(before.services(), h.control.config().services(), "-S then -R gives the same services");
        // -E keeps what it does not name; "none" empties a list; a rate of 0 removes the limit
        h.ok("-E -t 10.0.0.100:80 -s rr --deny none --rate-limit 0");
        assertEquals("-A -t 10.0.0.100:80 -s rr --allow 10.0.1.0/24,192.0.2.7 --conn-limit 3\n"
                + "-A -u 10.0.0.100:53 -s rr\n", h.out("-S -n"));
        h.ok("-E -t 10.0.0.100:80 -s rr --rate-limit 5");
        assertEquals("-A -t 10.0.0.100:80 -s rr --allow 10.0.1.0/24,192.0.2.7 --conn-limit 3 --rate-limit 5/5\n"
                + "-A -u 10.0.0.100:53 -s rr\n", h.out("-S -n"));
    }

    @Test
    void badPrefixesAndLimitsAreOneLineNamingTheItemAndChangeNothing() {
        h.ok("-A -t 10.0.0.100:80 -s rr --conn-limit 2");
        ServiceConfig before = h.control.config();
        h.fails("-E -t 10.0.0.100:80 --allow 10.0.1.0/24,10.0.1.300", 2,
                "illegal client prefix specified in --allow (`10.0.1.300': expected A.B.C.D[/LEN] with LEN 0..32)");
        h.fails("-E -t 10.0.0.100:80 --deny 10.0.0.0/33", 2,
                "illegal client prefix specified in --deny (`10.0.0.0/33': expected A.B.C.D[/LEN] with LEN 0..32)");
        h.fails("-E -t 10.0.0.100:80 --deny 10.0.0.1/8", 2,
                "illegal client prefix specified in --deny (`10.0.0.1/8' has host bits set (the network is 10.0.0.0/8))");
        h.fails("-E -t 10.0.0.100:80 --allow 10.0.0.0/8,", 2,
                "illegal client prefix specified in --allow (`': expected A.B.C.D[/LEN] with LEN 0..32)");
        h.fails("-E -t 10.0.0.100:80 --conn-limit 1000001", 2,
                "illegal connection limit specified (`1000001'; expected 0..1000000)");
        h.fails("-E -t 10.0.0.100:80 --conn-limit -1", 2,
                "illegal connection limit specified (`-1'; expected 0..1000000)");
        h.fails("-E -t 10.0.0.100:80 --rate-limit 10/0", 2,
                "illegal rate limit burst specified (`0'; expected 1..1000000)");
        h.fails("-E -t 10.0.0.100:80 --rate-limit fast", 2,
                "illegal rate limit specified (`fast'; expected 0..1000000)");
        h.fails("-E -t 10.0.0.100:80 --rate-limit 0/5", 2,
                "illegal rate limit specified (`0/5'; a burst needs a rate: expected RATE[/BURST] with RATE 1..1000000)");
        h.fails("-a -t 10.0.0.100:80 -r 10.0.0.11 --conn-limit 5", 2,
                "Illegal 'conn-limit' option with the 'add-server' command");
        assertSame(before, h.control.config(), "nothing applied");
        Jvsadm.Result r = h.run("-R", "-E -t 10.0.0.100:80 --conn-limit 9\n-E -t 10.0.0.100:80 --deny 1.2.3.4/40\n");
        assertEquals(2, r.status());
        assertEquals("line 2: illegal client prefix specified in --deny (`1.2.3.4/40': expected A.B.C.D[/LEN] with "
                + "LEN 0..32) (nothing restored)\n", r.err());
        assertSame(before, h.control.config());
    }
}
