package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.service.ClientAddressMode;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTimeouts;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.sync.SyncSettings;
import io.jvs.packet.Ipv6Address;

import java.util.List;

/**
 * One parsed ipvsadm (or jvs extension) command line, as {@link IpvsadmParser}
 * makes it: the command, the virtual service and real server it names, and
 * every option with ipvsadm's defaults filled in (weight 1, direct routing,
 * netmask /32, persistence 300 s for a bare {@code -p}). Immutable.
 *
 * @param command       what to do
 * @param options       the {@link IpvsadmParser} option bits that were given
 * @param proto         service protocol (TCP/UDP), 0 for fwmark or none
 * @param addr          service VIP, host order
 * @param port          service port
 * @param fwmark        fwmark service, 0 = an address service
 * @param scheduler     {@code -s}, null when not given
 * @param schedFlags    {@code -b} as ServiceSpec.SCHED_FLAG_* bits
 * @param persistTimeout {@code -p}, 0 = not persistent
 * @param persistMask   {@code -M}, host order (-1 = /32)
 * @param onePacket     {@code -o}
 * @param localAddrs    {@code --laddr} (jvs FULLNAT) of an IPv4 service, null when not given
 * @param clientAddress {@code --client-addr} (jvs FULLNAT), null when not given
 * @param destAddr      {@code -r} address, host order
 * @param destPort      {@code -r} port (the service's for DR/TUN, as ipvsadm forces)
 * @param method        forwarding method (default DR)
 * @param weight        {@code -w} (default 1)
 * @param upperThreshold {@code -x}
 * @param lowerThreshold {@code -y}
 * @param tunType       {@code --tun-type}
 * @param tunPort       {@code --tun-port}
 * @param tunFlags      {@code --tun-csum}/{@code --tun-remcsum}
 * @param format        listing format bits ({@link IpvsadmParser#FMT_NUMERIC} ...)
 * @param timeouts      {@code --set tcp tcpfin udp}
 * @param state         {@code --state-timeout STATE}: canonical state name
 * @param stateSeconds  {@code --state-timeout ... SECONDS}
 * @param rule          {@code --add-mark}/{@code --delete-mark}
 * @param daemonState   {@code --start-daemon}/{@code --stop-daemon} state
 * @param svcTimeouts   {@code --svc-timeout TCP,TCPFIN,UDP} (jvs), null when not given
 * @param daemon        {@code --start-daemon}'s options ({@code --mcast-interface} defaulting to
 *                      ipvsadm's "eth0", 0 for each option not given), null for other commands
 * @param clientOptions {@code --allow}, {@code --deny}, {@code --conn-limit}, {@code --rate-limit}
 *                      (jvs), each null when not given
 */
public record IpvsadmCommand(Command command, long options, int proto, int addr, int port, int fwmark,
                             String scheduler, int schedFlags, int persistTimeout, int persistMask,
                             boolean onePacket, List<Integer> localAddrs, ClientAddressMode clientAddress,
                             int destAddr, int destPort, ForwardMethod method, int weight, int upperThreshold,
                             int lowerThreshold, TunnelType tunType, int tunPort, int tunFlags, int format,
                             int[] timeouts, String state, int stateSeconds, FwmarkRule rule,
                             String daemonState, ServiceTimeouts svcTimeouts, SyncSettings daemon,
                             ClientOptions clientOptions, Ipv6Address addr6, Ipv6Address destAddr6,
                             List<Ipv6Address> localAddrs6) {

    /** ipvsadm's commands (cmdnames order) and jvs's extensions after them. */
    public enum Command {
        ADD_SERVICE("add-service"), EDIT_SERVICE("edit-service"), DELETE_SERVICE("delete-service"),
        FLUSH("flush"), LIST("list"), ADD_SERVER("add-server"), DELETE_SERVER("delete-server"),
        EDIT_SERVER("edit-server"), SET("set"), START_DAEMON("start-daemon"), STOP_DAEMON("stop-daemon"),
        RESTORE("restore"), SAVE("save"), ZERO("zero"),
        /** jvs: one TCP state's timeout. */
        STATE_TIMEOUT("state-timeout"),
        /** jvs: fwmark rules. */
        ADD_MARK("add-mark"), DELETE_MARK("delete-mark"),
        HELP("help"), VERSION("version");

        /** The name ipvsadm uses in its messages ("add-service"). */
        public final String ipvsadmName;

        Command(String ipvsadmName) {
            this.ipvsadmName = ipvsadmName;
        }

        /** True for commands that change the configuration. */
        public boolean changesConfig() {
            return switch (this) {
                case ADD_SERVICE, EDIT_SERVICE, DELETE_SERVICE, FLUSH, ADD_SERVER, DELETE_SERVER, EDIT_SERVER,
                     SET, STATE_TIMEOUT, ADD_MARK, DELETE_MARK -> true;
                default -> false;
            };
        }
    }

    public boolean has(long option) {
        return (options & option) != 0;
    }

    public boolean isFwmark() {
        return fwmark != 0;
    }

    /** An IPv6 service: {@code -t/-u [addr]:port} ({@link #addr6} its VIP) or {@code -f N -6} ({@code ::}). */
    public boolean isIpv6() {
        return addr6 != null;
    }

    /** The identity of the service this command names. */
    public ServiceSpec.Identity identity() {
        return ServiceSpec.Identity.of(isIpv6(), fwmark, proto, addr, addr6, port);
    }
}
