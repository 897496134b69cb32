package io.jvs.forwarder.ctl.server;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Optional;

/**
 * Where jvsadm finds the director, with no flags, as ipvsadm finds its
 * kernel: {@code --control PATH}, else {@code $JVS_CONTROL}, else
 * {@value #DEFAULT}; inside a named network namespace ({@code ip netns exec
 * NAME}) the default is {@code /run/jvs/NAME/control.sock}, so one director
 * per namespace runs side by side and each jvsadm reaches its own (the file
 * system, unlike the network, is shared between namespaces).
 */
public final class ControlSocketPath {
    public static final String DEFAULT = "/run/jvs/control.sock";
    public static final String ENV = "JVS_CONTROL";

    private ControlSocketPath() {
    }

    public static Path resolve(String explicit) {
        return resolve(explicit, System.getenv());
    }

    static Path resolve(String explicit, Map<String, String> env) {
        if (explicit != null && !explicit.isEmpty()) {
            return Path.of(explicit);
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return Path.of(fromEnv);
        }
        return namespaceName().map(n -> Path.of("/run/jvs", n, "control.sock")).orElse(Path.of(DEFAULT));
    }

    /** The name under /run/netns of this process's network namespace (what `ip netns identify` prints). */
    static Optional<String> namespaceName() {
        Path netns = Path.of("/run/netns");
        if (!Files.isDirectory(netns)) {
            return Optional.empty();
        }
        try {
            // a namespace is one nsfs inode: the same file key (device and inode) as our /proc/self/ns/net
            Object self = fileKey(Path.of("/proc/self/ns/net"));
            try (DirectoryStream<Path> names = Files.newDirectoryStream(netns)) {
                for (Path p : names) {
                    try {
                        if (self.equals(fileKey(p))) {
                            return Optional.of(p.getFileName().toString());
                        }
                    } catch (IOException | SecurityException e) {
                        // a name being created or deleted: not ours
                    }
                }
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Object fileKey(Path p) throws IOException {
        Object key = Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        if (key == null) {
            throw new UnsupportedOperationException("no file keys on " + p);
        }
        return key;
    }
}
