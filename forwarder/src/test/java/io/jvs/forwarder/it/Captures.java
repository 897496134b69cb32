package io.jvs.forwarder.it;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading what a failover test captured: tcpdump files (written with {@code tcpdump -tt}) and downloads. */
final class Captures {
    private Captures() {
    }

    /** Milliseconds from {@code afterMillis} (epoch) to the first captured IP packet after it, or -1 when none came. */
    static long firstPacketAfter(long afterMillis, Path... dumps) throws IOException {
        double first = Double.MAX_VALUE;
        for (Path dump : dumps) {
            for (String line : Files.readAllLines(dump)) {
                int sp = line.indexOf(' ');
                if (sp > 0 && line.contains(" IP ") && Character.isDigit(line.charAt(0))) {
                    double t = Double.parseDouble(line.substring(0, sp)) * 1000;
                    if (t > afterMillis && t < first) {
                        first = t;
                    }
                }
            }
        }
        return first == Double.MAX_VALUE ? -1 : Math.round(first - afterMillis);
    }

    /** SHA-256 of the first {@code bytes} bytes of {@code file} (a download compared with the served blob). */
    static String sha256Prefix(Path file, long bytes) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = bytes;
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; left -= n) {
                md.update(buf, 0, n);
            }
            assertEquals(0, left, file + " holds fewer than " + bytes + " bytes");
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
