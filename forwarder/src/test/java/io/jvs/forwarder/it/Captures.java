package io.jvs.forwarder.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading the lab's tcpdump captures (written with {@code tcpdump -tt}: epoch seconds first). */
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
}
