package io.jvs.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The undo journal's own rules: each line is on disk before the change is made, undo goes
 * newest first, what cannot be undone stays (in its order), and lines for changes that are
 * not in the kernel undo nothing. The lines used here name a device that does not exist, so
 * their undo checks the kernel, finds nothing and changes nothing.
 */
class JournalTest {
    static final String HEADER = "# test journal";
    /** Undoes nothing: no such sysctl / no such device in this namespace. */
    static final String ABSENT_SYSCTL = "sysctl net.ipv4.conf.jvs-nodev0.arp_ignore 0";
    static final String ABSENT_ROUTE = "route 192.0.2.1/32 jvs-nodev0 254 253";
    static final String ABSENT_TAP = "tap jvs-nodev0";

    /** Records undone lines and failures in the order undo reports them. */
    static final class Recorder implements Journal.Report {
        final List<String> undone = new ArrayList<>();
        final List<String> failed = new ArrayList<>();

        @Override
        public void undone(String what) {
            undone.add(what);
        }

        @Override
        public void failed(String entry, Exception cause) {
            failed.add(entry);
        }
    }

    @Test
    void eachLineIsOnDiskBeforeTheChangeAndTheFileGoesWhenAllIsUndone(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sub/state");
        List<String> onDiskAtHook = new ArrayList<>();
        Journal j = Journal.open(file, HEADER, (n, entry) -> {
            try {
                onDiskAtHook.add(n + ": " + Files.readString(file));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        j.record(ABSENT_SYSCTL);
        j.record(ABSENT_ROUTE);
        assertEquals(List.of("1: " + HEADER + "\n" + ABSENT_SYSCTL + "\n",
                "2: " + HEADER + "\n" + ABSENT_SYSCTL + "\n" + ABSENT_ROUTE + "\n"), onDiskAtHook);
        j.close();

        Journal again = Journal.open(file, HEADER, (n, e) -> { });
        assertEquals(List.of(ABSENT_SYSCTL, ABSENT_ROUTE), again.entries(), "read back from the file");
        Recorder r = new Recorder();
        assertTrue(again.undo(r));
        assertEquals(List.of(), r.undone, "nothing in the kernel to undo");
        assertEquals(List.of(), r.failed);
        assertFalse(Files.exists(file), "an empty journal file is deleted");
        assertEquals(List.of(), again.entries());
    }

    @Test
    void undoGoesNewestFirstAndKeepsWhatCannotBeUndoneInItsOrder(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("state");
        Journal j = Journal.open(file, HEADER, (n, e) -> { });
        j.record("bogus first");
        j.record(ABSENT_TAP);
        j.record("bogus second");
        Recorder r = new Recorder();
        assertFalse(j.undo(r), "two lines could not be undone");
        assertEquals(List.of("bogus second", "bogus first"), r.failed, "newest first");
        assertEquals(List.of("bogus first", "bogus second"), j.entries());
        assertEquals(HEADER + "\nbogus first\nbogus second\n", Files.readString(file), "the file keeps them");
    }

    @Test
    void aChangeThatFailedIsForgotten() throws IOException {
        Journal j = Journal.inMemory();
        j.record(ABSENT_SYSCTL);
        j.record(ABSENT_ROUTE);
        j.record(ABSENT_SYSCTL);
        j.abandon(ABSENT_SYSCTL);
        assertEquals(List.of(ABSENT_SYSCTL, ABSENT_ROUTE), j.entries(), "only the newest of equal lines goes");
        assertTrue(j.file().isEmpty());
        assertTrue(j.undo(new Recorder()));
        assertEquals(List.of(), j.entries());
    }

    @Test
    void linesSayWhatToUndo() {
        assertEquals("sysctl net.ipv4.ip_forward 0", Journal.sysctl("net.ipv4.ip_forward", "0"));
        assertEquals("addr lo 10.0.0.100/32 lo:0", Journal.addr("lo", 0x0a00_0064, 32, "lo:0"));
        assertEquals("route 10.0.0.100/32 jvs0 254 253", Journal.route(0x0a00_0064, 32, "jvs0", 254, 253));
        assertEquals("route 0.0.0.0/0 jvs0 4242 253", Journal.route(0, 0, "jvs0", 4242, 253));
        assertEquals("rule 10.0.0.11/32 eth0 4242 4242", Journal.rule(0x0a00_000b, 32, "eth0", 4242, 4242));
        assertEquals("tun jvs-tun0", Journal.tun("jvs-tun0"));
        assertEquals("tap jvs0", Journal.tap("jvs0"));
        assertEquals("linkup jvs-tun0", Journal.linkUp("jvs-tun0"));
        assertEquals("defroute 10.0.1.1 eth0 100 4 10.0.1.2", Journal.defaultRoute(
                new RtNetlink.RouteEntry(0, 0, 0x0a00_0101, 3, 100, 254, 0, 4, 0x0a00_0102), "eth0"));
        assertEquals("defroute none", Journal.noDefaultRoute());
        assertEquals("addr6 lo 2001:db8::100/128", Journal.addr6("lo", new io.jvs.packet.Ipv6Address(0x2001_0db8_0000_0000L,
                0x100L), 128));
        assertEquals("defroute6 fe80::1 eth0 1024 9", Journal.defaultRoute6(new RtNetlink6.Route(
                io.jvs.packet.Ipv6Address.UNSPECIFIED, 0, new io.jvs.packet.Ipv6Address(0xfe80_0000_0000_0000L, 1L), 3, 1024,
                254, 9, 1), "eth0"));
        assertEquals("defroute6 none", Journal.noDefaultRoute6());
        assertEquals("route6 2001:db8::100/128 jvs0 254", Journal.route6(new io.jvs.packet.Ipv6Address(
                0x2001_0db8_0000_0000L, 0x100L), 128, "jvs0", 254));
        assertEquals("route6 ::/0 jvs0 4242", Journal.route6(io.jvs.packet.Ipv6Address.UNSPECIFIED, 0, "jvs0", 4242));
        assertEquals("rule6 2001:db8::11/128 eth0 4242 4242", Journal.rule6(new io.jvs.packet.Ipv6Address(
                0x2001_0db8_0000_0000L, 0x11L), 128, "eth0", 4242, 4242));
    }
}
