package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.sched.Schedulers;

/**
 * jvsadm's {@code -v} and {@code -h} text: ipvsadm 1.31's version line and
 * usage, with jvs's extensions. Answered by the jvsadm client itself and by
 * the director (HTTP API) alike, so it lives apart from {@link Jvsadm}, which
 * runs commands against a director.
 */
public final class JvsadmHelp {
    private JvsadmHelp() {
    }

    /** ipvsadm's version line, for jvsadm. */
    public static String version() {
        String v = JvsadmHelp.class.getPackage().getImplementationVersion();
        return "jvsadm " + (v == null ? "v0.1.0" : "v" + v) + " (ipvsadm v1.31 compatible, IPVS v"
                + IpvsadmFormat.IPVS_VERSION + ")";
    }

    /** ipvsadm 1.31's usage text for jvsadm, with jvs's extensions. */
    public static String usage() {
        String p = "jvsadm";
        return version() + "\n" + """
                Usage:
                  %1$s -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
                        [-o] [--laddr address[,address...]] [--client-addr none|toa|proxy]
                        [--svc-timeout tcp,tcpfin,udp] [--[no-]synproxy] [--allow prefix[,prefix...]|none]
                        [--deny prefix[,prefix...]|none] [--conn-limit n] [--rate-limit rate[/burst]]
                  %1$s -D virtual-service
                  %1$s -C
                  %1$s -R
                  %1$s -S [-n]
                  %1$s -a|e virtual-service -r server-address [options]
                  %1$s -d virtual-service -r server-address
                  %1$s -L|l [virtual-service] [options]
                  %1$s -Z [virtual-service]
                  %1$s --set tcp tcpfin udp
                  %1$s --state-timeout state seconds
                  %1$s --add-mark|--delete-mark [-6] [-s net[/len]] [-d net[/len]] [-p tcp|udp] [--dport port[:port]] --set-mark mark
                  %1$s --start-daemon {master|backup} [daemon-options]
                  %1$s --stop-daemon {master|backup}
                  %1$s -h

                Commands:
                Either long or short options are allowed.
                  --add-service     -A        add virtual service with options
                  --edit-service    -E        edit virtual service with options
                  --delete-service  -D        delete virtual service
                  --clear           -C        clear the whole table
                  --restore         -R        restore rules from stdin
                  --save            -S        save rules to stdout
                  --add-server      -a        add real server with options
                  --edit-server     -e        edit real server with options
                  --delete-server   -d        delete real server
                  --list            -L|-l     list the table
                  --zero            -Z        zero counters in a service or all services
                  --set tcp tcpfin udp        set connection timeout values
                  --state-timeout state secs  set one TCP state's timeout (jvs)
                  --add-mark                  add a fwmark rule (jvs; what iptables -j MARK did)
                  --delete-mark               delete a fwmark rule (jvs)
                  --start-daemon              start connection sync daemon
                  --stop-daemon               stop connection sync daemon
                  --help            -h        display this help message

                virtual-service:
                  --tcp-service|-t  service-address   service-address is host[:port]
                  --udp-service|-u  service-address   service-address is host[:port]
                  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

                Options:
                  --scheduler    -s scheduler         one of %2$s,
                                                      the default scheduler is wlc.
                  --persistent   -p [timeout]         persistent service
                  --netmask      -M netmask           persistent granularity mask
                  --real-server  -r server-address    server-address is host (and port)
                  --gatewaying   -g                   gatewaying (direct routing) (default)
                  --ipip         -i                   ipip encapsulation (tunneling)
                  --masquerading -m                   masquerading (NAT)
                  --fullnat                           full NAT (jvs): needs the service's --laddr
                  --tun-type      type                one of ipip|gue|gre,
                                                      the default tunnel type is ipip.
                  --tun-port      port                tunnel destination port
                  --tun-nocsum                        tunnel encapsulation without checksum
                  --tun-csum                          tunnel encapsulation with checksum
                  --tun-remcsum                       tunnel encapsulation with remote checksum
                  --weight       -w weight            capacity of real server
                  --u-threshold  -x uthreshold        upper threshold of connections
                  --l-threshold  -y lthreshold        lower threshold of connections
                  --laddr        address[,address]    FULLNAT local addresses of the director (jvs)
                  --client-addr  none|toa|proxy       how FULLNAT servers learn the client (jvs)
                  --svc-timeout  tcp,tcpfin,udp       the service's own timeouts, 0 = global (jvs)
                  --synproxy                          answer SYNs with SYN cookies (NAT/FULLNAT, jvs)
                  --no-synproxy                       -E: turn that off (without either, -E keeps it)
                  --allow        prefix[,prefix]|none only these clients may connect (jvs)
                  --deny         prefix[,prefix]|none these clients may not connect (jvs)
                  --conn-limit   n                    connections per client at once, 0 = none (jvs)
                  --rate-limit   rate[/burst]         new connections per second per client (jvs)
                  --mcast-interface interface         multicast interface for connection sync
                  --syncid sid                        syncid for connection sync (default=255)
                  --mcast-group address               IPv4 group (default=224.0.0.81)
                  --mcast-port port                   UDP port (default=8848)
                  --mcast-ttl ttl                     Multicast TTL (default=1)
                  --sync-maxlen length                Max sync message length (default=1472)
                  --connection   -c                   output of current IPVS connections
                  --timeout                           output of timeout (tcp tcpfin udp)
                  --daemon                            output of daemon information
                  --stats                             output of statistics information
                  --rate                              output of rate information
                  --exact                             expand numbers (display exact values)
                  --thresholds                        output of thresholds information
                  --persistent-conn                   output of persistent connection info
                  --tun-info                          output of tunnel information
                  --marks                             output of fwmark rules (jvs)
                  --limits                            output of client ACLs and limits (jvs)
                  --vrrp                              output of VRRP instances (jvs)
                  --nosort                            disable sorting output of service/server entries
                  --sort                              does nothing, for backwards compatibility
                  --ops          -o                   one-packet scheduling
                  --numeric      -n                   numeric output of addresses and ports
                  --sched-flags  -b flags             scheduler flags (comma-separated)

                The director: /run/jvs/control.sock (inside a named network namespace
                /run/jvs/NETNS/control.sock); the JVS_CONTROL environment variable or
                --control PATH (first argument) names another.
                """.formatted(p, String.join("|", Schedulers.NAMES));
    }
}
