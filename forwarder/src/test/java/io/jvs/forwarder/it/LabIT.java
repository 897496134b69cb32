package io.jvs.forwarder.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lab without any forwarder: the direct paths (client -> router ->
 * real server :8080, replies by the real servers' "ipproto tcp sport 8080"
 * rule) and the helpers ForwarderIT relies on. When this fails, ForwarderIT's
 * failures say nothing about the forwarder.
 */
@Timeout(120)
class LabIT {
    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);

    @Test
    void clientReachesEachRealServerDirectly() {
        for (int rs = 1; rs <= 2; rs++) {
            String url = "http://" + Lab.rsIp(rs) + ":8080/";
            List<Lab.Transfer> ts = LAB.lab().getRepeatedly(url, 10, Duration.ofSeconds(30), "-H", "Connection: close");
            int r = rs;
            assertEquals(10, ts.size(), "transfers from " + url + ": " + ts);
            assertTrue(ts.stream().allMatch(t -> t.ok() && t.body().equals("rs" + r) && t.numConnects() == 1),
                    url + " answered " + ts);
        }
    }

    @Test
    void blobAndUploadDirect() throws IOException {
        Lab.Download d = LAB.lab().download("http://" + Lab.rsIp(2) + ":8080/blob", 60);
        String name = "labit-" + System.nanoTime() + ".bin";
        Lab.Upload u = LAB.lab().upload("http://" + Lab.rsIp(2) + ":8080/upload/" + name, LAB.lab().blobPath(), 60);
        String stored = LAB.lab().uploadedSha256(2, name).orElse("missing");
        Files.deleteIfExists(LAB.lab().uploadedFile(2, name));
        System.out.printf("direct 50 MiB from rs2: GET %.1f MB/s, PUT %.1f MB/s%n", d.megabytesPerSecond(),
                u.megabytesPerSecond());
        assertAll(
                () -> assertEquals(Lab.BLOB_BYTES, Files.size(LAB.lab().blobPath()), "blob size"),
                () -> assertEquals(Lab.sha256(LAB.lab().blobPath()), LAB.lab().blobSha256(), "recorded blob sha256"),
                () -> assertEquals(200, d.httpCode()),
                () -> assertEquals(Lab.BLOB_BYTES, d.bytes()),
                () -> assertEquals(LAB.lab().blobSha256(), d.sha256(), "downloaded sha256"),
                () -> assertEquals(201, u.httpCode()),
                () -> assertEquals(LAB.lab().blobSha256(), stored, "uploaded sha256"));
    }

    @Test
    void directorIsBareAndNothingAnswersForTheVip() {
        assertEquals("", LAB.lab().resetDirector(), "the director namespace's baseline");
        assertEquals("02:6a:76:00:00:02", LAB.lab().macOf(Lab.DIRECTOR, "eth0"));
        LAB.lab().neighForget(Lab.ROUTER, Lab.VIP, Lab.ROUTER_LAN_IFACE);
        Exec.Result r = LAB.lab().curl(Duration.ofSeconds(10), "-s", "--connect-timeout", "2", "http://" + Lab.VIP + "/");
        assertTrue(!r.ok(), "without a director nothing may answer for the VIP (the real servers keep quiet "
                + "about it: arp_ignore=1)\n" + r.describe());
        assertTrue(LAB.lab().neighMac(Lab.ROUTER, Lab.VIP).isEmpty(),
                "the router resolved the VIP without a director: " + LAB.lab().neigh(Lab.ROUTER, Lab.VIP));
    }

    @Test
    void resetDirectorLeavesTheRealServersNoTimeWait() {
        // nginx closes first after a "Connection: close" answer: the TIME_WAIT stays at rs1
        LAB.lab().curl("-sS", "--fail", "-o", "/dev/null", "-H", "Connection: close",
                "http://" + Lab.rsIp(1) + ":8080/", "http://" + Lab.rsIp(1) + ":8080/").requireOk();
        assertTrue(timeWait(1) >= 1, "rs1 holds the TIME_WAIT of the client's connections");
        LAB.lab().resetDirector();
        assertEquals(0, timeWait(1), "rs1's TIME_WAIT sockets after resetDirector");
        assertEquals(0, timeWait(2), "rs2's TIME_WAIT sockets after resetDirector");
    }

    private static long timeWait(int rs) {
        return LAB.lab().exec(Lab.rsNamespace(rs), "ss", "-Htn", "state", "time-wait").requireOk().stdout().lines()
                .filter(l -> !l.isBlank()).count();
    }

    @Test
    void accessLogRecordsTheClient() {
        String agent = "labit-" + System.nanoTime();
        LAB.lab().curl("-sS", "--fail", "-A", agent, "http://" + Lab.rsIp(1) + ":8080/").requireOk();
        List<String> lines = LAB.lab().accessLog(1).stream().filter(l -> l.contains(agent)).toList();
        assertEquals(1, lines.size(), "access log lines for " + agent);
        assertTrue(lines.getFirst().contains(" " + Lab.CLIENT_IP + ":"), lines.getFirst());
        assertTrue(lines.getFirst().contains("-> " + Lab.rsIp(1) + ":8080 "), lines.getFirst());
    }
}
