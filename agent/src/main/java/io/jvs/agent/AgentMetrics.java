package io.jvs.agent;

import io.jvs.packet.Ipv6Address;
import io.jvs.sys.Inet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's Prometheus text (format 0.0.4): load average, established TCP
 * connections to each VIP (from /proc/net/tcp of this namespace), and the
 * decapsulator's packets and drops by reason. Computed per scrape on the
 * metrics thread.
 */
final class AgentMetrics {
    private final List<Integer> vips;
    private final List<Ipv6Address> vips6;
    private final DecapCounters counters;   // null when nothing decapsulates here
    private final String mode;

    AgentMetrics(String mode, List<Integer> vips, List<Ipv6Address> vips6, DecapCounters counters) {
        this.mode = mode;
        this.vips = vips;
        this.vips6 = vips6;
        this.counters = counters;
    }

    String scrape() {
        StringBuilder b = new StringBuilder(2048);
        b.append("# HELP jvs_agent_info The agent's mode.\n# TYPE jvs_agent_info gauge\n");
        b.append("jvs_agent_info{mode=\"").append(mode).append("\"} 1\n");
        b.append("# HELP jvs_agent_load_average System load average (/proc/loadavg).\n# TYPE jvs_agent_load_average gauge\n");
        String[] la = read("/proc/loadavg").split("\\s+");
        String[] periods = {"1m", "5m", "15m"};
        for (int i = 0; i < 3 && i < la.length; i++) {
            b.append("jvs_agent_load_average{period=\"").append(periods[i]).append("\"} ").append(la[i]).append('\n');
        }
        b.append("# HELP jvs_agent_vip_established_connections TCP connections in ESTABLISHED to each VIP.\n"
                + "# TYPE jvs_agent_vip_established_connections gauge\n");
        for (Map.Entry<Integer, Integer> e : established(read("/proc/net/tcp"), vips).entrySet()) {
            b.append("jvs_agent_vip_established_connections{vip=\"").append(Inet.format(e.getKey())).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        for (Map.Entry<Ipv6Address, Integer> e : established6(read("/proc/net/tcp6"), vips6).entrySet()) {
            b.append("jvs_agent_vip_established_connections{vip=\"").append(e.getKey()).append("\"} ")
                    .append(e.getValue()).append('\n');
        }
        if (counters != null) {
            b.append("# HELP jvs_agent_decapsulated_packets_total Tunnelled packets injected into the TUN device.\n"
                    + "# TYPE jvs_agent_decapsulated_packets_total counter\n");
            for (DecapCounters.Encap e : DecapCounters.Encap.values()) {
                b.append("jvs_agent_decapsulated_packets_total{encap=\"").append(e.name().toLowerCase())
                        .append("\"} ").append(counters.packets(e)).append('\n');
            }
            b.append("# HELP jvs_agent_decapsulated_bytes_total Bytes of inner packets injected.\n"
                    + "# TYPE jvs_agent_decapsulated_bytes_total counter\n");
            for (DecapCounters.Encap e : DecapCounters.Encap.values()) {
                b.append("jvs_agent_decapsulated_bytes_total{encap=\"").append(e.name().toLowerCase())
                        .append("\"} ").append(counters.bytes(e)).append('\n');
            }
            b.append("# HELP jvs_agent_dropped_packets_total Tunnelled packets not injected, by reason.\n"
                    + "# TYPE jvs_agent_dropped_packets_total counter\n");
            for (DecapCounters.Drop d : DecapCounters.Drop.values()) {
                b.append("jvs_agent_dropped_packets_total{reason=\"").append(d.label).append("\"} ")
                        .append(counters.drops(d)).append('\n');
            }
        }
        return b.toString();
    }

    private static String read(String f) {
        try {
            return Files.readString(Path.of(f)).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * ESTABLISHED (st 01) sockets per VIP from /proc/net/tcp text. Its
     * local_address is the __be32 printed as a host-order hex int, so on
     * little-endian machines the bytes read reversed.
     */
    static Map<Integer, Integer> established(String procNetTcp, List<Integer> vips) {
        Map<Integer, Integer> out = new LinkedHashMap<>();
        for (int v : vips) {
            out.put(v, 0);
        }
        boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
        for (String line : procNetTcp.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 4 || !f[0].endsWith(":") || !f[3].equals("01")) {
                continue;
            }
            int colon = f[1].indexOf(':');
            if (colon != 8) {
                continue;
            }
            int raw = (int) Long.parseLong(f[1].substring(0, 8), 16);
            int addr = little ? Integer.reverseBytes(raw) : raw;
            out.computeIfPresent(addr, (k, n) -> n + 1);
        }
        return out;
    }

    /**
     * ESTABLISHED sockets per IPv6 VIP from /proc/net/tcp6 text: its local_address is the four
     * __be32 words of the address, each printed as a host-order hex int (reversed bytes on
     * little-endian machines), then ":PORT".
     */
    static Map<Ipv6Address, Integer> established6(String procNetTcp6, List<Ipv6Address> vips) {
        Map<Ipv6Address, Integer> out = new LinkedHashMap<>();
        for (Ipv6Address v : vips) {
            out.put(v, 0);
        }
        if (vips.isEmpty()) {
            return out;
        }
        boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
        for (String line : procNetTcp6.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 4 || !f[0].endsWith(":") || !f[3].equals("01") || f[1].indexOf(':') != 32) {
                continue;
            }
            long[] half = new long[2];
            for (int w = 0; w < 4; w++) {
                int raw = (int) Long.parseLong(f[1].substring(w * 8, w * 8 + 8), 16);
                int word = little ? Integer.reverseBytes(raw) : raw;
                half[w >> 1] = half[w >> 1] << 32 | Integer.toUnsignedLong(word);
            }
            out.computeIfPresent(new Ipv6Address(half[0], half[1]), (k, n) -> n + 1);
        }
        return out;
    }
}
