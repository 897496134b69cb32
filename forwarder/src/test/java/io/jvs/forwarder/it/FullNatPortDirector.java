package io.jvs.forwarder.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The director of the FULLNAT local-port tests (FullNatPortReuseIT, FullNatShortConnectionsIT):
 * VIP:81 over rs1 and rs2 by FULLNAT from one local address, closing states timed out after 1 s
 * and a local port range of {@code ports}, so that ports are reused many times within a test.
 */
final class FullNatPortDirector {
    private FullNatPortDirector() {
    }

    /** Resets the director namespace and starts jvs-forwarder with {@code attach} (logged under tag). */
    static ForwarderProcess start(Lab lab, String tag, List<String> attach, String lip, int ports, String metrics) {
        String fixed = lab.resetDirector();
        if (!fixed.isEmpty()) {
            System.out.println("[" + tag + "] " + fixed);
        }
        lab.neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        Path conf = lab.itFile(tag + ".conf", """
                -A -t %1$s:81 -s rr --laddr %2$s
                -a -t %1$s:81 -r %3$s:80 --fullnat -w 1
                -a -t %1$s:81 -r %4$s:80 --fullnat -w 1
                --state-timeout time_wait 1
                --state-timeout close 1
                --state-timeout fin_wait 1
                --state-timeout last_ack 1
                --state-timeout close_wait 1
                """.formatted(Lab.VIP, lip, Lab.rsIp(1), Lab.rsIp(2)));
        List<String> args = new ArrayList<>(attach);
        // A small table (twice the port range, so the ports run out before the table does): the
        // expiry sweep passes over it within a second or so, so ports come back soon after their
        // connection's 1 s timeout.
        int connMax = Integer.highestOneBit(ports) * 2;
        args.addAll(List.of("--config", conf.toString(), "--metrics", metrics, "--conn-max", Integer.toString(connMax),
                "--lport-range", "40000-" + (40000 + ports - 1)));
        return ForwarderProcess.start(lab, tag, metrics, args);
    }
}
