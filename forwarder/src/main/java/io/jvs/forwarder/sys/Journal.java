package io.jvs.forwarder.sys;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The undo journal ("state file"): one line per change {@code up} is about to
 * make, written and forced to disk BEFORE the change, so {@code down} can undo
 * everything after a crash at any point. Lines (fields separated by one space):
 *
 * <pre>
 *   sysctl KEY OLD-VALUE                 restore the old value
 *   addr DEV A.B.C.D/LEN LABEL           delete the address (if present)
 *   route A.B.C.D/LEN DEV TABLE SCOPE    delete the route (if present)
 *   tun DEV                              delete the persistent TUN device (if present)
 *   linkup DEV                           set the device down again (if present)
 *   defroute GW DEV METRIC PROTO | defroute none   put the main default route back as it was
 * </pre>
 *
 * Every undo is idempotent (it checks the kernel's view first), so a line
 * written just before a crash, for a change that never happened, undoes nothing.
 * Invariant: {@code down} replays lines newest first and deletes the file only
 * when every undo succeeded.
 */
public final class Journal {
    public static final String HEADER = "# jvs-agent undo journal: written before each change; `jvs-agent down` replays it newest first";
    /** Test hook: halt the JVM right after journalling this many changes (before making the last one). */
    public static final String CRASH_ENV = "JVS_AGENT_TEST_CRASH_AT";

    private final Path file;
    private final List<String> entries;
    private final int crashAt;
    private FileChannel out;

    private Journal(Path file, List<String> entries, int crashAt) {
        this.file = file;
        this.entries = entries;
        this.crashAt = crashAt;
    }

    public static Journal open(Path file) throws IOException {
        List<String> e = new ArrayList<>();
        if (Files.exists(file)) {
            for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!l.isBlank() && !l.startsWith("#")) {
                    e.add(l.strip());
                }
            }
        }
        String c = System.getenv(CRASH_ENV);
        return new Journal(file, e, c == null || c.isBlank() ? -1 : Integer.parseInt(c.strip()));
    }

    public Path file() {
        return file;
    }

    public boolean exists() {
        return Files.exists(file);
    }

    public List<String> entries() {
        return List.copyOf(entries);
    }

    private int recorded;

    /** Appends one undo line and forces it to disk. */
    public void record(String entry) throws IOException {
        if (out == null) {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            boolean fresh = !Files.exists(file) || Files.size(file) == 0;
            out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            if (fresh) {
                out.write(StandardCharsets.UTF_8.encode(HEADER + "\n"));
            }
        }
        out.write(StandardCharsets.UTF_8.encode(entry + "\n"));
        out.force(true);
        entries.add(entry);
        recorded++;
        if (recorded == crashAt) {
            System.err.println("jvs-agent: " + CRASH_ENV + "=" + crashAt + ": halting after journalling '" + entry + "'");
            Runtime.getRuntime().halt(86);
        }
    }

    /** Rewrites the file with what is left to undo, or deletes it when nothing is. */
    public void rewrite(List<String> remaining) throws IOException {
        close();
        entries.clear();
        entries.addAll(remaining);
        if (remaining.isEmpty()) {
            Files.deleteIfExists(file);
            return;
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, HEADER + "\n" + String.join("\n", remaining) + "\n");
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public void close() throws IOException {
        if (out != null) {
            out.close();
            out = null;
        }
    }
}
