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

    public static String get(String key) throws IOException {
        return Files.readString(path(key)).trim();
    }

    public static void set(String key, String value) throws IOException {
        Files.writeString(path(key), value);
    }
}
