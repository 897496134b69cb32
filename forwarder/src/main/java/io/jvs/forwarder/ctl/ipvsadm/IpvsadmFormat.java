package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.ctl.DataPathView;
import io.jvs.forwarder.ctl.RateEstimator;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;
import io.jvs.forwarder.service.ForwardMethod;
import io.jvs.forwarder.service.FwmarkRule;
import io.jvs.forwarder.service.Protocol;
import io.jvs.forwarder.service.RealServer;
import io.jvs.forwarder.service.ServiceSpec;
import io.jvs.forwarder.service.ServiceTable;
import io.jvs.forwarder.service.TunnelType;
import io.jvs.forwarder.service.VirtualService;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_EXACT;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_NOSORT;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_NUMERIC;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_PERSISTENTCONN;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_RATE;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_RULE;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_STATS;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_THRESHOLDS;
import static io.jvs.forwarder.ctl.ipvsadm.IpvsadmParser.FMT_TUN_INFO;

/**
 * ipvsadm 1.31's output, byte for byte: list_all, print_title,
 * print_service_entry, print_largenum, list_conn/print_conn, list_timeout and
 * the {@code -S} rule form, with the same printf formats, truncation (service
 * names to 33 characters, real servers to 28), sort order (ipvs_cmp_services,
 * ipvs_cmp_dests) and name resolution (addresses by reverse lookup, ports by
 * {@code /etc/services}) unless {@code -n}.
 *
 * <p>jvs additions appear only where ipvsadm has nothing to say: "FullNat" in
 * the Forward column, and in {@code -S} output {@code --fullnat},
 * {@code --laddr}/{@code --client-addr}, {@code -x}/{@code -y} when set (ipvsadm
 * -S drops them), then fwmark rules and non-default timeouts after the
 * services, all of which {@code -R} and the config file read back.
 */
public final class IpvsadmFormat {
    /** The IPVS version ipvsadm prints in its banner (the kernel's IP_VS_VERSION_CODE). */
    public static final String IPVS_VERSION = "1.2.1";

    /** Host and port names, as getnameinfo/getservbyport give them. */
    public interface Names {
        /** A host name for the address, or its dotted form. */
        String host(int addr);

        /** A service name for the port, or its number. */
        String port(int port, int proto);

        /** A host name for the IPv6 address (gethostbyaddr with AF_INET6), or its inet_ntop form. */
        default String host6(Ipv6Address addr) {
            return addr.toString();
        }

        /**
         * These names, each address looked up once: a listing asks for the same
         * VIP and real servers on every line (reverse DNS can take seconds).
         * Not thread-safe: one per listing.
         */
        static Names cached(Names names) {
            if (names == null) {
                return null;
            }
            java.util.Map<Integer, String> hosts = new java.util.HashMap<>();
            java.util.Map<Ipv6Address, String> hosts6 = new java.util.HashMap<>();
            return new Names() {
                @Override
                public String host(int addr) {
                    return hosts.computeIfAbsent(addr, names::host);
                }

                @Override
                public String host6(Ipv6Address addr) {
                    return hosts6.computeIfAbsent(addr, names::host6);
                }

                @Override
                public String port(int port, int proto) {
                    return names.port(port, proto);
                }
            };
        }

        /** The JDK's resolver and {@code /etc/services}. */
        static Names system() {
            PortNames ports = PortNames.system();
            return new Names() {
                @Override
                public String host(int addr) {
                    try {
                        byte[] b = {(byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr};
                        return InetAddress.getByAddress(b).getHostName();
                    } catch (UnknownHostException e) {
                        return Ipv4Address.toString(addr);
                    }
                }

                @Override
                public String host6(Ipv6Address addr) {
                    byte[] b = new byte[16];
                    for (int i = 0; i < 8; i++) {
                        b[i] = (byte) (addr.hi() >>> (56 - 8 * i));
                        b[8 + i] = (byte) (addr.lo() >>> (56 - 8 * i));
                    }
                    try {
                        InetAddress a = InetAddress.getByAddress(b);
                        String name = a.getHostName();
                        // the JDK answers its own literal ("2001:db8:0:0:0:0:0:1") when there is no name
                        return name.equals(a.getHostAddress()) ? addr.toString() : name;
                    } catch (UnknownHostException e) {
                        return addr.toString();
                    }
                }

                @Override
                public String port(int port, int proto) {
                    String n = ports.name(port, proto);
                    return n != null ? n : Integer.toString(port);
                }
            };
        }
    }

    private final RateEstimator stats;
    private final Names names;

    public IpvsadmFormat(RateEstimator stats, Names names) {
        this.stats = stats;
        this.names = names;
    }

    // ------------------------------------------------------------------ names

    /** addrport_to_anyname. */
    String addrPort(int addr, int port, int proto, int format) {
        if ((format & FMT_NUMERIC) != 0) {
            return Ipv4Address.toString(addr) + ":" + port;
        }
        return names.host(addr) + ":" + names.port(port, proto);
    }

    /**
     * addrport_to_anyname for either family: {@code [addr]:port} for IPv6 ({@code addr6} non-null),
     * into ipvsadm's 60-byte buffer (snprintf keeps 59 characters).
     */
    String addrPort(int addr, Ipv6Address addr6, int port, int proto, int format) {
        if (addr6 == null) {
            return addrPort(addr, port, proto, format);
        }
        String s = (format & FMT_NUMERIC) != 0 ? "[" + addr6 + "]:" + port
                : "[" + names.host6(addr6) + "]:" + names.port(port, proto);
        return s.length() > 59 ? s.substring(0, 59) : s;
    }

    // ------------------------------------------------------------------ listings

    /** This format with a name cache for one listing. */
    private IpvsadmFormat oneListing() {
        return new IpvsadmFormat(stats, Names.cached(names));
    }

    /** list_all: banner, title, every service. */
    public String listAll(ServiceTable table, int connCapacity, int format) {
        return oneListing().listAllNow(table, connCapacity, format);
    }

    private String listAllNow(ServiceTable table, int connCapacity, int format) {
        StringBuilder sb = new StringBuilder();
        if ((format & FMT_RULE) == 0) {
            sb.append("IP Virtual Server version ").append(IPVS_VERSION).append(" (size=").append(connCapacity)
                    .append(")\n");
        }
        title(sb, format);
        for (VirtualService s : sorted(table.services(), format)) {
            serviceEntry(sb, s, format);
        }
        return sb.toString();
    }

    /** list_service: title and one service (no banner). */
    public String listService(VirtualService s, int format) {
        IpvsadmFormat f = oneListing();
        StringBuilder sb = new StringBuilder();
        title(sb, format);
        f.serviceEntry(sb, s, format);
        return sb.toString();
    }

    /** ipvsadm -S: the rule form, then jvs's fwmark rules and timeouts when they are not the defaults. */
    public String save(ServiceTable table, TimeoutSettings timeouts, int format) {
        StringBuilder sb = new StringBuilder(listAll(table, 0, format | FMT_RULE));
        for (FwmarkRule r : table.fwmarkRules()) {
            sb.append("--add-mark ").append(r).append('\n');
        }
        if (timeouts.tcp() != 0 || timeouts.tcpFin() != 0 || timeouts.udp() != 0) {
            sb.append("--set ").append(timeouts.tcp()).append(' ').append(timeouts.tcpFin()).append(' ')
                    .append(timeouts.udp()).append('\n');
        }
        for (Map.Entry<String, Integer> e : timeouts.states().entrySet()) {
            sb.append("--state-timeout ").append(e.getKey().toLowerCase(Locale.ROOT)).append(' ')
                    .append(e.getValue()).append('\n');
        }
        return sb.toString();
    }

    /** list_timeout. */
    public static String timeouts(int tcp, int tcpFin, int udp) {
        return "Timeout (tcp tcpfin udp): " + tcp + " " + tcpFin + " " + udp + "\n";
    }

    /** {@code -S}: the client-policy options a service has, as -A takes them. */
    private static void clientPolicy(StringBuilder sb, io.jvs.forwarder.service.ClientPolicy cp) {
        if (!cp.allow().isEmpty()) {
            sb.append(" --allow ").append(prefixes(cp.allow()));
        }
        if (!cp.deny().isEmpty()) {
            sb.append(" --deny ").append(prefixes(cp.deny()));
        }
        if (cp.connLimit() != 0) {
            sb.append(" --conn-limit ").append(cp.connLimit());
        }
        if (cp.rate() != 0) {
            sb.append(" --rate-limit ").append(cp.rate()).append('/').append(cp.burst());
        }
    }

    private static String prefixes(List<io.jvs.forwarder.service.ClientPrefix> list) {
        StringBuilder b = new StringBuilder(list.size() * 16);
        for (io.jvs.forwarder.service.ClientPrefix p : list) {
            b.append(b.isEmpty() ? "" : ",").append(p);
        }
        return b.toString();
    }

    /**
     * jvs: {@code -L --limits}, each service's client policy in ipvsadm-style columns: the number
     * of allow and deny prefixes, the per-client connection limit and new-connection rate/burst
     * (0 = none).
     */
    public static String limits(List<io.jvs.forwarder.service.VirtualService> services) {
        StringBuilder sb = new StringBuilder(String.format("%-33s %8s %8s %9s %13s%n", "Prot LocalAddress:Port",
                "Allow", "Deny", "ConnLimit", "Rate/Burst"));
        for (io.jvs.forwarder.service.VirtualService v : services) {
            io.jvs.forwarder.service.ClientPolicy cp = v.spec.clientPolicy();
            String name = v.fwmark != 0 ? "FWM  " + Integer.toUnsignedString(v.fwmark) + (v.ipv6 ? " IPv6" : "")
                    : String.format("%-4s %s", Protocol.name(v.proto), ServiceSpec.hostPort(v.addr, v.spec.addr6(), v.port));
            sb.append(String.format("%-33s %8d %8d %9d %13s%n", name, cp.allow().size(), cp.deny().size(),
                    cp.connLimit(), cp.rate() + "/" + cp.burst()));
        }
        return sb.toString();
    }

    /** jvs: {@code -L --marks}, the fwmark rules in the order they are tried. */
    public static String marks(List<FwmarkRule> rules) {
        StringBuilder sb = new StringBuilder("Mark rules (first match wins)\n");
        for (FwmarkRule r : rules) {
            sb.append("--add-mark ").append(r).append('\n');
        }
        return sb.toString();
    }

    /**
     * jvs: {@code -L --vrrp}, one line per VRRP instance (configuration order), then the
     * received packets dropped by reason; without VRRP configured, the header alone.
     */
    public static String vrrp(io.jvs.forwarder.vrrp.VrrpStatus status) {
        StringBuilder sb = new StringBuilder(String.format("%-16s %-8s %-10s %4s %2s %4s %-7s %-15s %s%n",
                "Instance", "State", "Interface", "VRID", "V", "Prio", "Advert", "Master", "Addresses"));
        for (io.jvs.forwarder.vrrp.VrrpStatus.Instance i : status.instances()) {
            String addrs = String.join(",", i.addresses());
            String advert = i.advertIntCentis() % 100 == 0 ? (i.advertIntCentis() / 100) + "s"
                    : String.format(java.util.Locale.ROOT, "%.2fs", i.advertIntCentis() / 100.0);
            sb.append(String.format("%-16s %-8s %-10s %4d %2d %4d %-7s %-15s %s%n", i.name(), i.state(), i.iface(),
                    i.vrid(), i.version(), i.priority(), advert,
                    i.master().isEmpty() ? "-" : i.master(), addrs));
        }
        if (!status.instances().isEmpty()) {
            StringBuilder d = new StringBuilder();
            status.dropped().forEach((k, v) -> {
                if (v > 0) {
                    d.append(' ').append(k).append('=').append(v);
                }
            });
            sb.append("Adverts dropped:").append(d.isEmpty() ? " none" : d).append('\n');
        }
        return sb.toString();
    }

    /** list_conn: the header and one line per entry (print_conn). */
    public String connections(List<DataPathView.Connection> conns, int format) {
        return oneListing().connectionsNow(conns, format);
    }

    private String connectionsNow(List<DataPathView.Connection> conns, int format) {
        StringBuilder sb = new StringBuilder("IPVS connection entries\n");
        if ((format & FMT_PERSISTENTCONN) != 0) {
            // rows carry pe name/data only for persistence-engine entries, which jvs does not have
            sb.append(String.format("pro expire %-11s %-18s %-18s %-18s %-16s %s%n", "state", "source", "virtual",
                    "destination", "pe name", "pe_data"));
        } else {
            sb.append(String.format("pro expire %-11s %-18s %-18s %s%n", "state", "source", "virtual", "destination"));
        }
        // "%-3s %-6s %-11s %-18s %-18s %s\n" with expire "%02d:%02d", by hand: a listing may have 100k rows
        for (DataPathView.Connection c : conns) {
            left(sb, c.proto() == 0 ? "IP" : Protocol.name(c.proto()), 3).append(' ');
            long min = c.expiresSeconds() / 60;
            long sec = c.expiresSeconds() % 60;
            int start = sb.length();
            sb.append(min < 10 ? "0" : "").append(min).append(':').append(sec < 10 ? "0" : "").append(sec);
            spaces(sb, 6 - (sb.length() - start)).append(' ');
            left(sb, c.state(), 11).append(' ');
            // print_conn: each address in its own family ("[addr]:port" for AF_INET6): /proc/net/ip_vs_conn
            // prints the destination by cp->daf, so a mixed TUN entry's real server is of the other family
            left(sb, addrPort(c.caddr(), c.caddr6(), c.cport(), c.proto(), format), 18).append(' ');
            left(sb, addrPort(c.vaddr(), c.vaddr6(), c.vport(), c.proto(), format), 18).append(' ');
            sb.append(addrPort(c.daddr(), c.daddr6(), c.dport(), c.proto(), format)).append('\n');
        }
        return sb.toString();
    }

    /** printf's "%-Ns". */
    private static StringBuilder left(StringBuilder sb, String s, int width) {
        return spaces(sb.append(s), width - s.length());
    }

    private static StringBuilder spaces(StringBuilder sb, int n) {
        for (int i = 0; i < n; i++) {
            sb.append(' ');
        }
        return sb;
    }

    private static void title(StringBuilder sb, int format) {
        if ((format & FMT_STATS) != 0) {
            sb.append(String.format("%-33s %8s %8s %8s %8s %8s%n  -> RemoteAddress:Port%n",
                    "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"));
        } else if ((format & FMT_RATE) != 0) {
            sb.append(String.format("%-33s %8s %8s %8s %8s %8s%n  -> RemoteAddress:Port%n",
                    "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"));
        } else if ((format & FMT_THRESHOLDS) != 0) {
            sb.append(String.format("%-33s %-10s %-10s %-10s %-10s%n  -> RemoteAddress:Port%n",
                    "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"));
        } else if ((format & FMT_PERSISTENTCONN) != 0) {
            sb.append(String.format("%-33s %-9s %-11s %-10s %-10s%n  -> RemoteAddress:Port%n",
                    "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"));
        } else if ((format & FMT_TUN_INFO) != 0) {
            sb.append("Prot LocalAddress:Port Scheduler Flags\n"
                    + "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n");
        } else if ((format & FMT_RULE) == 0) {
            sb.append("Prot LocalAddress:Port Scheduler Flags\n"
                    + "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        }
    }

    /** ipvs_cmp_services (fwmark, protocol, address, port; C int differences), unless --nosort. */
    static List<VirtualService> sorted(List<VirtualService> services, int format) {
        if ((format & FMT_NOSORT) != 0) {
            return services;
        }
        Comparator<VirtualService> fixed = Comparator.comparingInt((VirtualService v) -> v.fwmark)
                .thenComparing(v -> v.ipv6)
                .thenComparingInt(v -> v.proto)
                .thenComparing((a, b) -> a.ipv6 ? compareUnsigned128(a.addr6Hi, a.addr6Lo, b.addr6Hi, b.addr6Lo)
                        : Integer.compareUnsigned(a.addr, b.addr))
                .thenComparingInt(v -> v.port);
        Comparator<VirtualService> ipvsCmpServices = Comparator.comparingInt((VirtualService v) -> 0)
                .thenComparing((a, b) -> Integer.signum(a.fwmark - b.fwmark))
                .thenComparing((a, b) -> Integer.signum(af(a.ipv6) - af(b.ipv6)))
                .thenComparing((a, b) -> Integer.signum(a.proto - b.proto))
                .thenComparing((a, b) -> a.ipv6 ? cmp128(a.addr6Hi, a.addr6Lo, b.addr6Hi, b.addr6Lo)
                        : Integer.signum(a.addr - b.addr))
                .thenComparing((a, b) -> Integer.signum(a.port - b.port));
        return qsort(services, fixed, ipvsCmpServices);
    }

    /**
     * ipvsadm's qsort with its own comparator (ipvs_cmp_services, ipvs_cmp_dests). Those subtract
     * addresses as C ints, so for addresses 2^31 or more apart the order is not transitive
     * (10.0.0.1 before 95.0.0.1 before 180.0.0.1 before 10.0.0.1), and what ipvsadm prints for such
     * a set depends on the order the kernel hands it. jvs first puts the set in one fixed order
     * (unsigned), then merges as glibc's msort does: ipvsadm's order wherever that is a total
     * order, and otherwise one order that depends only on the set, so {@code -S} then {@code -R}
     * prints the same text (IpvsadmFuzzTest, RestoreFuzzTest). List.sort would also be free to
     * throw on such a comparator ("Comparison method violates its general contract").
     */
    static <T> List<T> qsort(List<T> items, Comparator<? super T> fixed, Comparator<? super T> cmp) {
        List<T> in = new ArrayList<>(items);
        in.sort(fixed);
        @SuppressWarnings("unchecked")
        T[] a = (T[]) in.toArray();
        msort(a, 0, a.length, cmp, a.clone());
        return java.util.Arrays.asList(a);
    }

    /** glibc's msort_with_tmp: halves of n/2 and n - n/2, the left element first on a tie. */
    private static <T> void msort(T[] a, int from, int n, Comparator<? super T> cmp, T[] tmp) {
        if (n <= 1) {
            return;
        }
        int n1 = n / 2;
        msort(a, from, n1, cmp, tmp);
        msort(a, from + n1, n - n1, cmp, tmp);
        int i = from;
        int j = from + n1;
        int end = from + n;
        int k = from;
        while (i < from + n1 && j < end) {
            tmp[k++] = cmp.compare(a[i], a[j]) <= 0 ? a[i++] : a[j++];
        }
        while (i < from + n1) {
            tmp[k++] = a[i++];
        }
        System.arraycopy(tmp, from, a, from, k - from); // the rest of the right half is in place
    }

    private static int compareUnsigned128(long aHi, long aLo, long bHi, long bLo) {
        int r = Long.compareUnsigned(aHi, bHi);
        return r != 0 ? r : Long.compareUnsigned(aLo, bLo);
    }

    /** AF_INET (2) or AF_INET6 (10): ipvs_cmp_services orders by family after the mark. */
    private static int af(boolean ipv6) {
        return ipv6 ? 10 : 2;
    }

    /** ipvs_cmp_*'s IPv6 address order: the four 32-bit words in turn, each a C int difference. */
    private static int cmp128(long aHi, long aLo, long bHi, long bLo) {
        int[] a = {(int) (aHi >>> 32), (int) aHi, (int) (aLo >>> 32), (int) aLo};
        int[] b = {(int) (bHi >>> 32), (int) bHi, (int) (bLo >>> 32), (int) bLo};
        for (int i = 0; i < 4; i++) {
            int r = a[i] - b[i];
            if (r != 0) {
                return Integer.signum(r);
            }
        }
        return 0;
    }

    /** ipvs_cmp_dests (address, then port) through {@link #qsort}, unless --nosort; else the kernel's list order. */
    static List<RealServer> sortedDests(RealServer[] dests, int format) {
        if ((format & FMT_NOSORT) != 0) {
            return List.of(dests);
        }
        Comparator<RealServer> fixed = Comparator.comparing((RealServer d) -> d.ipv6)
                .thenComparing((a, b) -> compareUnsigned128(words(a)[0], words(a)[1], words(b)[0], words(b)[1]))
                .thenComparingInt(d -> d.port);
        return qsort(List.of(dests), fixed, (a, b) -> { // by d1's family (a mixed pair reads the union's words)
            int r = a.ipv6 ? cmp128(a.addr6Hi, a.addr6Lo, words(b)[0], words(b)[1])
                    : Integer.signum(a.addr - (b.ipv6 ? (int) (b.addr6Hi >>> 32) : b.addr));
            return r != 0 ? r : Integer.signum(a.port - b.port);
        });
    }

    /** A server's address as the 16 bytes of nf_inet_addr (an IPv4 one in the first word, the rest zero). */
    private static long[] words(RealServer d) {
        return d.ipv6 ? new long[] {d.addr6Hi, d.addr6Lo} : new long[] {(long) d.addr << 32, 0};
    }

    private void serviceEntry(StringBuilder sb, VirtualService se, int format) {
        boolean rule = (format & FMT_RULE) != 0;
        String svcName;
        if (se.fwmark != 0) {
            // "-f %d -6" / "FWM  %d IPv6" for an AF_INET6 fwmark service
            svcName = (rule ? "-f " : "FWM  ") + Integer.toUnsignedString(se.fwmark)
                    + (se.ipv6 ? (rule ? " -6" : " IPv6") : "");
        } else {
            String vname = addrPort(se.addr, se.spec.addr6(), se.port, se.proto, format);
            if (rule) {
                svcName = (se.proto == Protocol.TCP ? "-t " : "-u ") + vname;
            } else {
                svcName = String.format("%-4s %s", Protocol.name(se.proto), vname);
                if (!se.ipv6 && svcName.length() > 33) { // svc_name[33] = '\0' only if af != AF_INET6
                    svcName = svcName.substring(0, 33);
                }
            }
        }
        ServiceSpec spec = se.spec;
        if (rule) {
            sb.append("-A ").append(svcName).append(" -s ").append(se.schedulerName);
            if (spec.persistent()) {
                sb.append(" -p ").append(spec.persistTimeout());
                if (spec.isIpv6()) {
                    if (spec.persistMask() != 128) {
                        sb.append(" -M ").append(spec.persistMask()); // " -M %i": a prefix length
                    }
                } else if (spec.persistMask() != -1) {
                    sb.append(" -M ").append(Ipv4Address.toString(spec.persistMask()));
                }
            }
            if (spec.onePacket()) {
                sb.append(" -o");
            }
            if ((spec.schedFlags() & ServiceSpec.SCHED_FLAGS) != 0) {
                sb.append(" -b ").append(schedFlags(spec));
            }
            if (!spec.localAddrs().isEmpty()) {
                sb.append(" --laddr ");
                for (int i = 0; i < spec.localAddrs().size(); i++) {
                    sb.append(i == 0 ? "" : ",").append(Ipv4Address.toString(spec.localAddrs().get(i)));
                }
            }
            if (!spec.localAddrs6().isEmpty()) {
                sb.append(" --laddr ");
                for (int i = 0; i < spec.localAddrs6().size(); i++) {
                    sb.append(i == 0 ? "" : ",").append(spec.localAddrs6().get(i));
                }
            }
            if (spec.clientAddress() != io.jvs.forwarder.service.ClientAddressMode.NONE) {
                sb.append(" --client-addr ").append(spec.clientAddress().configName());
            }
            if (!spec.timeouts().isGlobal()) {
                sb.append(" --svc-timeout ").append(spec.timeouts().tcp()).append(',')
                        .append(spec.timeouts().tcpFin()).append(',').append(spec.timeouts().udp());
            }
            if (spec.synProxy()) {
                sb.append(" --synproxy");
            }
            clientPolicy(sb, spec.clientPolicy());
        } else if ((format & FMT_STATS) != 0) {
            sb.append(String.format("%-33s", svcName));
            largenums(sb, stats.stats(se.stats), 0, format);
        } else if ((format & FMT_RATE) != 0) {
            sb.append(String.format("%-33s", svcName));
            largenums(sb, stats.rates(se.stats), 0, format);
        } else {
            sb.append(svcName).append(' ').append(se.schedulerName);
            if ((spec.schedFlags() & ServiceSpec.SCHED_FLAGS) != 0) {
                sb.append(" (").append(schedFlags(spec)).append(')');
            }
            if (spec.persistent()) {
                sb.append(" persistent ").append(spec.persistTimeout());
                if (spec.isIpv6()) {
                    if (spec.persistMask() != 128) {
                        sb.append(" mask ").append(spec.persistMask());
                    }
                } else if (spec.persistMask() != -1) {
                    sb.append(" mask ").append(Ipv4Address.toString(spec.persistMask()));
                }
            }
            if (spec.onePacket()) {
                sb.append(" ops");
            }
            if (spec.synProxy()) {
                sb.append(" synproxy"); // after ipvsadm's flags, in their style
            }
        }
        sb.append('\n');

        for (RealServer e : sortedDests(se.dests, format)) {
            String dname = addrPort(e.addr, e.spec.addr6(), e.port, se.proto, format);
            if (!rule && !e.ipv6 && dname.length() > 28) { // dname[28] = '\0' only if e->af != AF_INET6
                dname = dname.substring(0, 28);
            }
            int active = e.stats.activeConnsVolatile();
            int inact = e.stats.inactConnsVolatile();
            if (rule) {
                sb.append("-a ").append(svcName).append(" -r ").append(dname).append(' ').append(e.method.flag())
                        .append(" -w ").append(e.weight);
                if (e.method == ForwardMethod.TUN) { // print_tunnel_rule
                    sb.append(" --tun-type ").append(e.tunType.ipvsadmName());
                    if (e.tunType == TunnelType.GUE) {
                        sb.append(" --tun-port ").append(e.tunPort);
                    }
                    if (e.tunType != TunnelType.IPIP) {
                        sb.append(' ').append(switch (e.tunFlags) {
                            case TunnelType.FLAG_CSUM -> "--tun-csum";
                            case TunnelType.FLAG_REMCSUM -> "--tun-remcsum";
                            default -> "--tun-nocsum";
                        });
                    }
                }
                if (e.upperThreshold != 0) {
                    sb.append(" -x ").append(e.upperThreshold);
                }
                if (e.lowerThreshold != 0) {
                    sb.append(" -y ").append(e.lowerThreshold);
                }
                sb.append('\n');
            } else if ((format & FMT_STATS) != 0) {
                sb.append(String.format("  -> %-28s", dname));
                largenums(sb, stats.stats(e.stats), 0, format);
                sb.append('\n');
            } else if ((format & FMT_RATE) != 0) {
                long[] r = stats.rates(e.stats);
                sb.append(String.format("  -> %-28s %8d %8d %8d", dname, r[0], r[1], r[2]));
                largenums(sb, r, 3, format);
                sb.append('\n');
            } else if ((format & FMT_THRESHOLDS) != 0) {
                sb.append(String.format("  -> %-28s %-10d %-10d %-10d %-10d%n", dname, e.upperThreshold,
                        e.lowerThreshold, active, inact));
            } else if ((format & FMT_PERSISTENTCONN) != 0) {
                sb.append(String.format("  -> %-28s %-9d %-11d %-10d %-10d%n", dname, e.weight,
                        e.stats.persistConnsVolatile(), active, inact));
            } else if ((format & FMT_TUN_INFO) != 0) {
                sb.append(String.format("  -> %-28s %-7s %-13s %-6d %-10d %-10d%n", dname, e.method.ipvsadmName(),
                        tunInfo(e), e.weight, active, inact));
            } else {
                sb.append(String.format("  -> %-28s %-7s %-6d %-10d %-10d%n", dname, e.method.ipvsadmName(),
                        e.weight, active, inact));
            }
        }
    }

    private static String tunInfo(RealServer e) {
        if (e.method != ForwardMethod.TUN) {
            return "n/a";
        }
        String flags = switch (e.tunFlags) {
            case TunnelType.FLAG_CSUM -> "+c";
            case TunnelType.FLAG_REMCSUM -> "r+c";
            default -> "-c";
        };
        return switch (e.tunType) {
            case IPIP -> "ipip";
            case GUE -> "gue:" + e.tunPort + ":" + flags;
            case GRE -> "gre:" + flags;
        };
    }

    /**
     * print_sched_flags: sh-/mh- names for those schedulers, flag-N otherwise. One deliberate
     * difference: ipvsadm prints nothing for flag-3 on an sh or mh service, so its {@code -S} of
     * {@code -s mh -b flag-3} is {@code -b } with no argument, which {@code -R} refuses, and of
     * {@code -b sh-port,flag-3} loses the flag. jvs prints flag-3 after their names: what it
     * saves restores to what it had (found by IpvsadmFuzzTest).
     */
    public static String schedFlags(ServiceSpec spec) {
        int f = spec.schedFlags();
        List<String> names = new ArrayList<>(3);
        String s = spec.scheduler();
        if (s.equals("sh") || s.equals("mh")) {
            if ((f & ServiceSpec.SCHED_FLAG_1) != 0) {
                names.add(s + "-fallback");
            }
            if ((f & ServiceSpec.SCHED_FLAG_2) != 0) {
                names.add(s + "-port");
            }
            if ((f & ServiceSpec.SCHED_FLAG_3) != 0) {
                names.add("flag-3");
            }
        } else {
            if ((f & ServiceSpec.SCHED_FLAG_1) != 0) {
                names.add("flag-1");
            }
            if ((f & ServiceSpec.SCHED_FLAG_2) != 0) {
                names.add("flag-2");
            }
            if ((f & ServiceSpec.SCHED_FLAG_3) != 0) {
                names.add("flag-3");
            }
        }
        return String.join(",", names);
    }

    private static void largenums(StringBuilder sb, long[] v, int from, int format) {
        for (int i = from; i < v.length; i++) {
            largenum(sb, v[i], format);
        }
    }

    /** print_largenum: "%9llu", or scaled K/M/G/T past 8 digits unless --exact. Values are unsigned. */
    static void largenum(StringBuilder sb, long i, int format) {
        String exact = Long.toUnsignedString(i);
        if ((format & FMT_EXACT) != 0) {
            sb.append(String.format("%" + (exact.length() <= 8 ? 9 : exact.length() + 1) + "s", exact));
            return;
        }
        if (Long.compareUnsigned(i, 100_000_000L) < 0) {
            sb.append(String.format("%9s", exact));
        } else if (Long.compareUnsigned(i, 1_000_000_000L) < 0) {
            sb.append(String.format("%8sK", Long.divideUnsigned(i, 1000)));
        } else if (Long.compareUnsigned(i, 100_000_000_000L) < 0) {
            sb.append(String.format("%8sM", Long.divideUnsigned(i, 1_000_000)));
        } else if (Long.compareUnsigned(i, 100_000_000_000_000L) < 0) {
            sb.append(String.format("%8sG", Long.divideUnsigned(i, 1_000_000_000L)));
        } else {
            sb.append(String.format("%8sT", Long.divideUnsigned(i, 1_000_000_000_000L)));
        }
    }
}
