package io.jvs.forwarder.ctl.console;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Forms to jvsadm command lines: each filled field one option, values verbatim, shell-quoted for display. */
class ConsoleCommandTest {
    static Map<String, String> form(String... nameValue) {
        Map<String, String> f = new java.util.HashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            f.put(nameValue[i], nameValue[i + 1]);
        }
        return f;
    }

    @Test
    void aServiceFormIsOneAddServiceLine() {
        ConsoleCommand c = ConsoleCommand.of(form("action", "add-service", "kind", "udp", "service", "10.0.0.100:53",
                "scheduler", "mh", "sched-flags", "mh-port", "persistent", "on", "persistence-timeout", "30",
                "netmask", "255.255.0.0", "ops", "on", "laddr", "10.0.0.3,10.0.0.4", "client-addr", "proxy"));
        assertEquals(List.of("-A", "-u", "10.0.0.100:53", "-s", "mh", "-b", "mh-port", "-M", "255.255.0.0",
                "--laddr", "10.0.0.3,10.0.0.4", "--client-addr", "proxy", "-p", "30", "-o"), c.argv());
        assertEquals("jvsadm -A -u 10.0.0.100:53 -s mh -b mh-port -M 255.255.0.0 --laddr 10.0.0.3,10.0.0.4"
                + " --client-addr proxy -p 30 -o", c.commandLine());
    }

    @Test
    void synProxyBoxOnOffAndAbsent() {
        assertEquals(List.of("-A", "-t", "10.0.0.100:80", "--synproxy"), ConsoleCommand.of(form("action",
                "add-service", "kind", "tcp", "service", "10.0.0.100:80", "synproxy", "on")).argv());
        assertEquals(List.of("-E", "-t", "10.0.0.100:80", "--no-synproxy"), ConsoleCommand.of(form("action",
                "edit-service", "kind", "tcp", "service", "10.0.0.100:80", "synproxy", "")).argv(), "unticked");
        assertEquals(List.of("-A", "-t", "10.0.0.100:80"), ConsoleCommand.of(form("action",
                "add-service", "kind", "tcp", "service", "10.0.0.100:80", "synproxy", "")).argv());
        assertEquals(List.of("-E", "-t", "10.0.0.100:80"), ConsoleCommand.of(form("action",
                "edit-service", "kind", "tcp", "service", "10.0.0.100:80")).argv(), "no field: kept");
    }

    @Test
    void emptyFieldsAreLeftToJvsadmsDefaults() {
        assertEquals(List.of("-E", "-f", "7", "-p"), ConsoleCommand.of(form("action", "edit-service", "kind",
                "fwmark", "service", "7", "scheduler", "", "persistent", "on", "persistence-timeout", " ")).argv());
        assertEquals(List.of("-D", "-t", "10.0.0.100:80"), ConsoleCommand.of(form("action", "delete-service",
                "kind", "tcp", "service", "10.0.0.100:80", "scheduler", "rr")).argv(), "delete takes only the key");
    }

    @Test
    void aServerFormCarriesMethodThresholdsAndTunnelOptions() {
        assertEquals(List.of("-e", "-t", "10.0.0.100:80", "-r", "10.0.0.11:80", "-i", "-w", "0", "-x", "9", "-y", "3",
                        "--tun-type", "gue", "--tun-port", "6080", "--tun-remcsum"),
                ConsoleCommand.of(form("action", "edit-server", "kind", "tcp", "service", "10.0.0.100:80",
                        "server", "10.0.0.11:80", "method", "tun", "weight", "0", "u-threshold", "9",
                        "l-threshold", "3", "tun-type", "gue", "tun-port", "6080", "tun-csum", "remcsum")).argv());
        assertEquals(List.of("-d", "-t", "10.0.0.100:80", "-r", "10.0.0.12"), ConsoleCommand.of(form("action",
                "delete-server", "kind", "tcp", "service", "10.0.0.100:80", "server", "10.0.0.12", "weight", "5"))
                .argv());
    }

    @Test
    void valuesAreNeverSplitAndAreQuotedForTheShell() {
        ConsoleCommand c = ConsoleCommand.of(form("action", "add-service", "kind", "tcp",
                "service", "10.0.0.100:80 -C", "scheduler", "it's"));
        assertEquals(List.of("-A", "-t", "10.0.0.100:80 -C", "-s", "it's"), c.argv());
        assertEquals("jvsadm -A -t '10.0.0.100:80 -C' -s 'it'\\''s'", c.commandLine());
    }

    @Test
    void selectsOutsideTheirListsAndUnknownActionsAreRefused() {
        assertEquals("unknown console action \"clear\"", assertThrows(IllegalArgumentException.class,
                () -> ConsoleCommand.of(form("action", "clear"))).getMessage());
        assertEquals("unknown forwarding method \"-C\" (expected one of dr, fullnat, nat, tun)",
                assertThrows(IllegalArgumentException.class, () -> ConsoleCommand.of(form("action", "add-server",
                        "kind", "tcp", "service", "1.2.3.4:80", "server", "1.2.3.5", "method", "-C"))).getMessage());
        assertEquals("unknown service kind \"sctp\" (expected one of fwmark, tcp, udp)",
                assertThrows(IllegalArgumentException.class, () -> ConsoleCommand.of(form("action", "add-service",
                        "kind", "sctp", "service", "1.2.3.4:80"))).getMessage());
    }

    @Test
    void ipv6ServicesAndFwmarkSixForms() {
        assertEquals(List.of("-A", "-f", "7", "-6", "-s", "rr", "-M", "64", "-p"), ConsoleCommand.of(form("action",
                "add-service", "kind", "fwmark", "service", "7", "ipv6", "on", "scheduler", "rr", "netmask", "64",
                "persistent", "on")).argv());
        assertEquals(List.of("-a", "-t", "[2001:db8::1]:80", "-r", "[2001:db8::11]:80", "-m"), ConsoleCommand.of(form(
                "action", "add-server", "kind", "tcp", "service", "[2001:db8::1]:80", "ipv6", "",
                "server", "[2001:db8::11]:80", "method", "nat")).argv());
    }
}
