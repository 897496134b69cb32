package io.jvs.forwarder.it;

import io.jvs.packet.Ipv6Address;
import io.jvs.packet.Ipv6Header;
import io.jvs.sys.AfPacket;
import io.jvs.sys.Libc;
import io.jvs.sys.RtNetlink;

import java.nio.charset.StandardCharsets;

/**
 * Run by {@link Ipv6NativeIT} inside its namespace (its own JVM: a namespace is per process):
 * prints what jvs reads of the IPv6 routes and addresses through rtnetlink, then joins and
 * leaves one solicited-node group on an interface through its packet socket, printing the
 * interface's link-layer multicast list (ip maddr) after each.
 */
public final class Ipv6NativeProbe {
    private Ipv6NativeProbe() {
    }

    public static void main(String[] args) throws Exception {
        String iface = args[0];
        Ipv6Address target = Ipv6Address.parse(args[1]);
        for (RtNetlink.Route6 r : RtNetlink.routes6(RtNetlink.RT_TABLE_MAIN)) {
            System.out.println("route6 " + new Ipv6Address(r.dstHi(), r.dstLo()) + "/" + r.dstLen() + " via "
                    + new Ipv6Address(r.gatewayHi(), r.gatewayLo()) + " oif " + r.oif());
        }
        for (RtNetlink.Address6 a : RtNetlink.addresses6()) {
            System.out.println("addr6 " + new Ipv6Address(a.hi(), a.lo()) + "/" + a.prefixLen() + " ifindex "
                    + a.ifindex() + " scope " + a.scope());
        }
        int ifindex = Libc.ifNameToIndex(iface);
        System.out.println("ifindex " + iface + " " + ifindex);
        int fd = AfPacket.openSocket();
        AfPacket.bind(fd, ifindex, AfPacket.ETH_P_ALL, iface);
        long group = Ipv6Header.multicastMac(Ipv6Header.solicitedNodeLo(target.lo()));
        AfPacket.multicastMembership(fd, ifindex, group, true);
        System.out.println("joined:\n" + maddr(iface));
        AfPacket.multicastMembership(fd, ifindex, group, false);
        System.out.println("left:\n" + maddr(iface));
        Libc.close(fd);
    }

    private static String maddr(String iface) throws Exception {
        Process p = new ProcessBuilder("ip", "maddr", "show", "dev", iface).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}
