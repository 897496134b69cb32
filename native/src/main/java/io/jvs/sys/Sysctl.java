package io.jvs.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** /proc/sys reads and writes (net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward). */
public final class Sysctl {
    private Sysctl() {
    }

    public static Path path(String key) {
        return Path.of("/proc/sys", key.replace('.', '/'));
    }

    /**
     * The value as the file gives it. Read line by line: Files.readString/readAllBytes trust the
     * size /proc reports and, on JDK 25, return only the first byte of a sysctl file ("4" for 40).
     */
    public static String get(String key) throws IOException {
        return String.join("\n", Files.readAllLines(path(key))).trim();
    }

    public static void set(String key, String value) throws IOException {
        Files.writeString(path(key), value);
    }
}
