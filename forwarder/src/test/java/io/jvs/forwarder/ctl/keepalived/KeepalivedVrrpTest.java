package io.jvs.forwarder.ctl.keepalived;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.vrrp.VrrpConfig;
import io.jvs.packet.Ipv4Address;
import io.jvs.packet.Ipv6Address;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** vrrp_instance / vrrp_sync_group in keepalived.conf: what jvs runs, and what it refuses with file and line. */
class KeepalivedVrrpTest {
    @TempDir
    Path dir;

    KeepalivedConf load(String text) throws Exception {
        Path f = dir.resolve("k.conf");
        Files.writeString(f, text);
        return KeepalivedConf.load(f);
    }

    static final String FULL = """
            global_defs {
                router_id d1
                vrrp_version 3
            }
            vrrp_sync_group G1 {
                group {
                    VI_1
                    VI_2
                }
                notify_master "/bin/echo group master"
            }
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 51
                priority 150
                advert_int 0.5
                nopreempt
                preempt_delay 30
                virtual_ipaddress {
                    10.0.0.100
                    10.0.0.101/24 dev eth0 label eth0:1
                }
                track_interface {
                    eth1
                }
                notify_master /usr/local/bin/m.sh
                notify_backup "/usr/local/bin/b.sh arg"
                notify_fault /usr/local/bin/f.sh
                notify /usr/local/bin/any.sh
                garp_master_delay 2
                garp_master_repeat 3
                smtp_alert
                unicast_src_ip 10.0.0.2
                unicast_peer {
                    10.0.0.3
                }
            }
            vrrp_instance VI_2 {
                interface eth1
                virtual_router_id 51
                version 2
                authentication {
                    auth_type PASS
                    auth_pass secret12
                }
                virtual_ipaddress {
                    10.0.2.100
                }
            }
            """;

    @Test
    void readsEveryKeyword() throws Exception {
        KeepalivedConf k = load(FULL);
        VrrpConfig v = k.vrrp();
        assertEquals(2, v.instances().size());
        VrrpConfig.Instance a = v.instances().get(0);
        assertEquals("VI_1", a.name());
        assertEquals("eth0", a.iface());
        assertEquals(51, a.vrid());
        assertEquals(150, a.priority());
        assertEquals(50, a.advertIntCentis());
        assertEquals(3, a.version(), "global vrrp_version 3");
        assertEquals(VrrpConfig.InitialState.MASTER, a.state());
        assertTrue(a.nopreempt());
        assertEquals(30_000, a.preemptDelayMs());
        assertNull(a.authPass());
        assertEquals(List.of(new VrrpConfig.Address(Ipv4Address.parse("10.0.0.100"), 32, null),
                new VrrpConfig.Address(Ipv4Address.parse("10.0.0.101"), 24, "eth0")), a.addresses());
        assertEquals(List.of("eth1"), a.trackInterfaces());
        assertEquals(List.of("/usr/local/bin/m.sh"), a.notifyMaster());
        assertEquals(List.of("/usr/local/bin/b.sh", "arg"), a.notifyBackup());
        assertEquals(List.of("/usr/local/bin/f.sh"), a.notifyFault());
        assertEquals(List.of("/usr/local/bin/any.sh"), a.notifyAny());
        assertEquals(2000, a.garpMasterDelayMs());
        assertEquals(3, a.garpMasterRepeat());
        assertTrue(a.smtpAlert());
        assertEquals(Ipv4Address.parse("10.0.0.2"), a.unicastSrc());
        assertEquals(List.of(Ipv4Address.parse("10.0.0.3")), a.unicastPeers());

        VrrpConfig.Instance b = v.instances().get(1);
        assertEquals(2, b.version(), "the instance's own version");
        assertEquals("secret12", b.authPass());
        assertEquals(100, b.priority(), "keepalived's default priority");
        assertEquals(100, b.advertIntCentis(), "keepalived's default advert_int 1 s");
        assertEquals(VrrpConfig.InitialState.BACKUP, b.state());
        assertEquals(5000, b.garpMasterDelayMs(), "keepalived's default garp_master_delay");
        assertEquals(5, b.garpMasterRepeat(), "keepalived's default garp_master_repeat");

        assertEquals(List.of(new VrrpConfig.SyncGroup("G1", List.of("VI_1", "VI_2"), List.of("/bin/echo", "group",
                "master"), List.of(), List.of(), List.of())), v.syncGroups());
        assertTrue(k.ignoredReport().contains("smtp_alert (") && k.ignoredReport().contains("k.conf:33)"),
                k.ignoredReport());
        assertTrue(!k.ignoredReport().contains("vrrp_instance"), k.ignoredReport());
    }

    private static final String HEAD = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n";
    private static final String ADDR = "    virtual_ipaddress {\n        10.0.0.100\n    }\n";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "    priority 256\\n|4: priority \"256\": expected a number 1..255",
        "    state LEADER\\n|4: state \"LEADER\": expected MASTER or BACKUP",
        "    advert_int 1.5\\n|4: advert_int 1.5: VRRPv2 advertises whole seconds 1..255",
        "    use_vmac\\n|4: vrrp_instance VI_1: use_vmac is not supported by jvs",
        "    track_script {\\n        chk\\n    }\\n|4: vrrp_instance VI_1: track_script is not supported by jvs",
        "    frobnicate 1\\n|4: vrrp_instance VI_1: unknown keyword \"frobnicate\"",
        "    authentication {\\n        auth_type AH\\n        auth_pass x\\n    }\\n|5: auth_type AH is not supported by jvs (PASS only)",
        "    authentication {\\n        auth_type PASS\\n    }\\n|4: authentication needs auth_type PASS and auth_pass",
        "    virtual_ipaddress {\\n        10.0.0.100 via 10.0.0.1\\n    }\\n|5: virtual_ipaddress 10.0.0.100: \"via\" is not supported by jvs",
        "    virtual_ipaddress {\\n        10.0.0.300\\n    }\\n|5: \"10.0.0.300\" is not an IPv4 address",
        "    track_interface {\\n        eth1 weight 10\\n    }\\n|5: track_interface eth1: weights are not supported by jvs",
        "    priority 255\\n|1: vrrp_instance VI_1: priority 255 (the address owner) needs state MASTER",
        "    virtual_ipaddress {\\n        2001:db8::100\\n    }\\n|8: virtual_ipaddress 10.0.0.100: vrrp_instance VI_1 is IPv6 (its first address decides); one instance advertises one family",
        "    native_ipv6\\n|6: virtual_ipaddress 10.0.0.100: vrrp_instance VI_1 is IPv6 (native_ipv6); one instance advertises one family",
        "    unicast_peer {\\n        fe80::3\\n    }\\n|4: vrrp_instance VI_1: an IPv6 address in an IPv4 instance",
        "    virtual_ipaddress_excluded {\\n        2001:db8::zz\\n    }\\n|5: \"2001:db8::zz\" is not an IPv6 address",
        "    virtual_ipaddress_excluded {\\n        fe80::1\\n    }\\n|5: \"fe80::1\": a link-local address (fe80::/10)",
        "    virtual_ipaddress_excluded {\\n        2001:db8::100/129\\n    }\\n|5: prefix length \"129\": expected a number 0..128",
        "    virtual_ipaddress_excluded {\\n        2001:db8::100 via x\\n    }\\n|5: virtual_ipaddress_excluded 2001:db8::100: \"via\" is not supported by jvs",
    })
    void malformedOrUnsupportedLinesNameFileAndLine(String line, String expected) throws Exception {
        String text = HEAD + line.replace("\\n", "\n") + ADDR + "}\n";
        ConfigException e = assertThrows(ConfigException.class, () -> load(text));
        assertEquals(dir.resolve("k.conf") + ":" + expected, e.getMessage().substring(0,
                Math.min(e.getMessage().length(), (dir.resolve("k.conf") + ":" + expected).length())), e.getMessage());
    }

    @Test
    void missingInterfaceOrRouterIdIsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("vrrp_instance VI_1 {\n" + ADDR + "}\n"));
        assertEquals(dir.resolve("k.conf") + ":1: vrrp_instance VI_1 has no interface", e.getMessage());
        e = assertThrows(ConfigException.class, () -> load("vrrp_instance VI_1 {\n    interface eth0\n" + ADDR + "}\n"));
        assertEquals(dir.resolve("k.conf") + ":1: vrrp_instance VI_1 has no virtual_router_id", e.getMessage());
    }

    @Test
    void twoInstancesWithOneVridOnOneInterfaceAreRefusedByName() {
        String two = HEAD + ADDR + "}\nvrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 51\n"
                + "    virtual_ipaddress {\n        10.0.0.101\n    }\n}\n";
        ConfigException e = assertThrows(ConfigException.class, () -> load(two));
        assertEquals(dir.resolve("k.conf") + ":8: vrrp_instance VI_2: virtual_router_id 51 on eth0 is already used"
                + " by vrrp_instance VI_1", e.getMessage());
    }

    @Test
    void oneAddressInTwoInstancesIsRefusedByName() {
        String two = HEAD + ADDR + "}\nvrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 52\n"
                + ADDR + "}\n";
        ConfigException e = assertThrows(ConfigException.class, () -> load(two));
        assertEquals(dir.resolve("k.conf") + ":8: vrrp_instance VI_2: address 10.0.0.100 is also in vrrp_instance"
                + " VI_1", e.getMessage());
    }

    @Test
    void ipv6AddressesOfVirtualIpaddressExcludedFollowTheInstance() throws Exception {
        KeepalivedConf k = load(HEAD + ADDR + """
                    virtual_ipaddress_excluded {
                        2001:db8::100/64 dev eth0
                        2001:db8::101
                        10.0.0.200/24
                    }
                }
                """);
        VrrpConfig.Instance i = k.vrrp().instances().getFirst();
        assertEquals(List.of(Ipv6Address.parse("2001:db8::100"), Ipv6Address.parse("2001:db8::101")), i.addresses6());
        assertEquals(List.of(new VrrpConfig.Address(Ipv4Address.parse("10.0.0.100"), 32, null)), i.addresses(),
                "advertised: the IPv4 virtual_ipaddress only");
        // 2001:db8::100 = 0x20010db8_00000000, 0x00000000_00000100
        assertEquals(List.of(0x20010db800000000L, 0x100L, 0x20010db800000000L, 0x101L),
                java.util.Arrays.stream(i.addrs6()).boxed().toList());
        assertTrue(k.ignoredReport().contains("10.0.0.200/24 ("), "an IPv4 excluded address changes nothing: "
                + k.ignoredReport());
    }

    @Test
    void oneIpv6AddressInTwoInstancesOrOnAnotherDeviceIsRefused() {
        String excl = "    virtual_ipaddress_excluded {\n        2001:db8::100\n    }\n";
        String two = HEAD + ADDR + excl + "}\nvrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 52\n"
                + "    virtual_ipaddress {\n        10.0.0.101\n    }\n" + excl + "}\n";
        ConfigException e = assertThrows(ConfigException.class, () -> load(two));
        assertEquals(dir.resolve("k.conf") + ":18: vrrp_instance VI_2: address 2001:db8::100 is also in vrrp_instance"
                + " VI_1", e.getMessage());
        e = assertThrows(ConfigException.class, () -> load(HEAD + ADDR
                + "    virtual_ipaddress_excluded {\n        2001:db8::100 dev eth1\n    }\n}\n"));
        assertEquals(dir.resolve("k.conf") + ":8: vrrp_instance VI_1: address 2001:db8::100 dev eth1: jvs answers"
                + " for an instance's addresses on its interface eth0 only", e.getMessage());
    }

    @Test
    void aSyncGroupOfAnUnknownInstanceIsRefused() {
        String g = HEAD + ADDR + "}\nvrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\n";
        ConfigException e = assertThrows(ConfigException.class, () -> load(g));
        assertEquals(dir.resolve("k.conf") + ":8: vrrp_sync_group G: no vrrp_instance VI_9", e.getMessage());
    }

    private static final String V6 = """
            vrrp_instance VI_6 {
                interface eth0
                virtual_router_id 52
                priority 150
                virtual_ipaddress {
                    2001:db8::254/64 dev eth0
                    2001:db8::100
                }
            %s}
            """;

    /**
     * keepalived (vrrp_parser.c, vrrp.c): the first virtual_ipaddress makes the instance IPv6,
     * and an IPv6 instance speaks VRRPv3 whatever global_defs' vrrp_version says.
     */
    @Test
    void anIpv6InstanceSpeaksVrrpv3ForItsIpv6Addresses() throws Exception {
        KeepalivedConf k = load("global_defs {\n    vrrp_version 2\n}\n" + V6.formatted("""
                    unicast_src_ip fe80::2
                    unicast_peer {
                        fe80::3
                        2001:db8::3
                    }
                    virtual_ipaddress_excluded {
                        2001:db8::200
                    }
                """));
        VrrpConfig.Instance i = k.vrrp().instances().getFirst();
        assertTrue(i.ipv6());
        assertEquals(3, i.version(), "IPv6: VRRPv3 (RFC 5798)");
        assertEquals(List.of(Ipv6Address.parse("2001:db8::254"), Ipv6Address.parse("2001:db8::100")), i.virtual6());
        assertEquals(List.of(), i.addresses());
        assertEquals(Ipv6Address.parse("fe80::2"), i.unicastSrc6());
        assertEquals(List.of(Ipv6Address.parse("fe80::3"), Ipv6Address.parse("2001:db8::3")), i.unicastPeers6());
        assertEquals(List.of(Ipv6Address.parse("2001:db8::200")), i.addresses6());
        // advertised first, then excluded: 2001:db8::254, ::100, ::200 as (hi, lo)
        assertEquals(List.of(0x20010db800000000L, 0x254L, 0x20010db800000000L, 0x100L, 0x20010db800000000L, 0x200L),
                java.util.Arrays.stream(i.held6()).boxed().toList());
        VrrpConfig.Instance n = load(V6.formatted("    native_ipv6\n")).vrrp().instances().getFirst();
        assertTrue(n.ipv6(), "native_ipv6 with IPv6 addresses");
    }

    @Test
    void anIpv6InstanceRefusesVrrpv2AndIpv4UnicastAddresses() {
        ConfigException e = assertThrows(ConfigException.class, () -> load(V6.formatted("    version 2\n")));
        assertEquals(dir.resolve("k.conf") + ":9: vrrp_instance VI_6: version 2 with IPv6 addresses: jvs speaks"
                + " VRRPv3 (RFC 5798) over IPv6 only", e.getMessage());
        e = assertThrows(ConfigException.class, () -> load(V6.formatted("    unicast_src_ip 10.0.0.2\n")));
        assertEquals(dir.resolve("k.conf") + ":9: vrrp_instance VI_6: an IPv4 address in an IPv6 instance (its first"
                + " virtual_ipaddress decides the family)", e.getMessage());
        e = assertThrows(ConfigException.class, () -> load(V6.formatted("    virtual_ipaddress {\n        10.0.0.9\n"
                + "    }\n")));
        assertEquals(dir.resolve("k.conf") + ":10: virtual_ipaddress 10.0.0.9: vrrp_instance VI_6 is IPv6 (its first"
                + " address decides); one instance advertises one family", e.getMessage());
        e = assertThrows(ConfigException.class, () -> load(HEAD + ADDR
                + "    virtual_ipaddress_excluded {\n        2001:db8::254\n    }\n}\n" + V6.formatted("")));
        assertEquals(dir.resolve("k.conf") + ":16: vrrp_instance VI_6: address 2001:db8::254 is also in vrrp_instance"
                + " VI_1", e.getMessage());
        e = assertThrows(ConfigException.class, () -> load(HEAD + "    native_ipv6\n}\n"));
        assertEquals(dir.resolve("k.conf") + ":1: vrrp_instance VI_1 has no virtual_ipaddress", e.getMessage());
    }
}
