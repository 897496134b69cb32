package io.jvs.forwarder.ctl.ipvsadm;

import io.jvs.forwarder.config.TimeoutSettings;
import io.jvs.forwarder.ctl.RateEstimator;
import io.jvs.forwarder.service.ServiceTable;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;

/**
 * The running configuration on disk ({@code --save-to FILE}): after every
 * change it is written in {@code jvsadm -S -n} form, atomically (a temporary
 * file in the same directory, fsync-ed, then renamed over the old one), so a
 * restarted director loads exactly what was running, and a crash mid-write
 * leaves the previous version.
 */
public final class RunningConfig {
    private final Path file;

    public RunningConfig(Path file) {
        this.file = file.toAbsolutePath();
    }

    public Path file() {
        return file;
    }

    /** The text saved: -S -n form (services, real servers, marks, timeouts). */
    public static String text(ServiceTable table, TimeoutSettings timeouts) {
        return "# jvs running configuration, written on every change (jvsadm -S -n form)\n"
                + new IpvsadmFormat(new RateEstimator(), null).save(table, timeouts, IpvsadmParser.FMT_NUMERIC);
    }

    /** Writes the table (the published one) and timeouts; on failure the previous file stays as it was. */
    public void save(ServiceTable table, TimeoutSettings timeouts) throws IOException {
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        byte[] bytes = text(table, timeouts).getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
