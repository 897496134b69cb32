package io.jvs.forwarder.ctl.keepalived;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jvs.forwarder.config.ConfigException;
import io.jvs.forwarder.ctl.ipvsadm.JvsadmHarness;
import io.jvs.forwarder.ctl.ipvsadm.RoundTrip;
import io.jvs.forwarder.testkit.FuzzChecks;
import io.jvs.packet.Ipv6Address;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The keepalived.conf reader on text the fuzzer writes (an included file beside it, so
 * {@code include} is exercised; include patterns are kept inside the fuzz directory). Properties:
 * it loads or throws a {@link ConfigException} whose message is one line naming file and line,
 * never anything else; a loaded configuration, applied to a director, prints ({@code -S -n}) and
 * re-parses to itself.
 */
class KeepalivedFuzzTest {
    /** Above this many services a loaded configuration is not applied or round-tripped (cost, not a limit of jvs). */
    private static final int APPLY_MAX_SERVICES = 1_000;
    /** IPv6 group ranges wider than an IPv4 one (256 addresses) are not loaded at all (cost, not a limit of jvs). */
    private static final int MAX_IPV6_RANGE = 256;
    private static final Path DIR;

    static {
        try {
            // tmpfs where there is one: every input is written to a file, and on this VM's ext4 (mounted
            // with discard) the fuzz thread spent ~19% of its time blocked in those writes.
            Path shm = Path.of("/dev/shm");
            DIR = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "jvs-keepalived-fuzz")
                    : Files.createTempDirectory("jvs-keepalived-fuzz");
            DIR.toFile().deleteOnExit(); // registered first, deleted last (when its files are gone)
            Path rs = DIR.resolve("rs.inc");
            Files.writeString(rs, "real_server 10.0.0.12 80 {\n weight 2\n TCP_CHECK {\n"
                    + " connect_timeout 2\n }\n}\n");
            rs.toFile().deleteOnExit();
            DIR.resolve("keepalived.conf").toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = FuzzChecks.CI_DURATION)
    void read(byte[] input) throws IOException {
        String text = new String(input, StandardCharsets.UTF_8);
        // An include may name only files in the fuzz directory (no /dev/zero, no ../..).
        String confined = text.replace("/", "_").replace("..", "__").replace("include", "include ./");
        Path file = DIR.resolve("keepalived.conf");
        Files.writeString(file, confined);
        if (confined.contains("virtual_server_group") && hasWideIpv6Range(file)) {
            return;
        }
        KeepalivedConf conf;
        try {
            conf = KeepalivedConf.load(file);
        } catch (ConfigException e) {
            assertNotNull(e.getMessage());
            FuzzChecks.shortError("keepalived.conf", e.getMessage(), 1, confined);
            return;
        }
        FuzzChecks.noStackTrace("ignored keywords", conf.ignoredReport(), confined);
        if (conf.config().services().size() > APPLY_MAX_SERVICES) {
            // Instrumented, applying and round-tripping thousands of services takes seconds;
            // KeepalivedConfTest.aGroupRangeOf63731AddressesSavesAndRestores covers that size.
            return;
        }
        JvsadmHarness h = new JvsadmHarness();
        try {
            h.control.apply(old -> conf.config());
        } catch (IllegalArgumentException e) {
            FuzzChecks.shortError("applying keepalived.conf", e.getMessage(), 1, confined);
            return;
        }
        assertEquals(conf.config(), h.control.config());
        RoundTrip.check(h);
    }

    /**
     * True when a virtual_server_group entry is an IPv6 range of more than {@link #MAX_IPV6_RANGE}
     * addresses (a range ends at a hex value of the last 16-bit group, so up to 65,536). Loading one
     * builds a service per address: the fuzzer's corpus filled with such inputs and ran at ~100
     * executions/s, where 10^7 executions need ~1,400/s. Entries the reader or address parser
     * refuses are left to the load, which must refuse them too.
     */
    private static boolean hasWideIpv6Range(Path file) {
        List<KeepalivedReader.Node> top;
        try {
            top = KeepalivedReader.read(file);
        } catch (ConfigException e) {
            return false;
        }
        for (KeepalivedReader.Node n : top) {
            if (!n.keyword().equals("virtual_server_group") || !n.hasBlock()) {
                continue;
            }
            for (KeepalivedReader.Node entry : n.children()) {
                String a = entry.keyword();
                int dash = a.indexOf('-');
                if (dash < 0 || a.indexOf(':') < 0) {
                    continue;
                }
                try {
                    long firstLow16 = Ipv6Address.parse(a.substring(0, dash)).lo() & 0xffff;
                    if (Integer.parseInt(a.substring(dash + 1), 16) - firstLow16 >= MAX_IPV6_RANGE) {
                        return true;
                    }
                } catch (IllegalArgumentException e) { // NumberFormatException too: the load refuses it
                    continue;
                }
            }
        }
        return false;
    }
}
