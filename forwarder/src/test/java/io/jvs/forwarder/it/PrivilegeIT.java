package io.jvs.forwarder.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jvs-forwarder --user nobody --control-group G} in the lab: every thread of the running
 * director, read from /proc/PID/task/TID/status, has nobody's uid and gid (real, effective, saved,
 * filesystem) and groups, no inheritable or ambient capability and no_new_privs; only
 * the event loop and jvs-admin hold a capability, exactly CAP_NET_ADMIN (effective, permitted and
 * bounding); every other thread holds none. A member of G (a user the test creates and removes)
 * configures a DR service through the control socket, whose mode is 0660 and group G; someone
 * outside G is refused; HTTP crosses the VIP. An unknown user or group is a one-line error and
 * nothing starts.
 */
@Timeout(300)
class PrivilegeIT {
    static final String METRICS = ForwarderProcess.DEFAULT_METRICS;
    static final long CAP_NET_ADMIN = 1L << 12;
    /** A group and a member of it, named after the lab (at most 32 characters, as useradd wants). */
    static final String GROUP = name("ctl");
    static final String MEMBER = name("op");

    @RegisterExtension
    static final LabExtension LAB = LabExtension.up(2);
    ForwarderProcess director;

    /** A command in the root namespace (accounts, stat). */
    static Exec.Result root(String... cmd) {
        return Exec.run(Duration.ofSeconds(30), List.of(cmd));
    }

    static String name(String suffix) {
        String n = (Lab.PREFIX.replaceAll("[^a-z0-9-]", "") + suffix);
        return n.length() > 30 ? n.substring(n.length() - 30) : n;
    }

    @BeforeAll
    static void accounts() {
        Exec.Result g = root("groupadd", GROUP);
        assertTrue(g.ok() || g.stderr().contains("already exists"), g.describe());
        Exec.Result u = root("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                "-G", GROUP, MEMBER);
        assertTrue(u.ok() || u.stderr().contains("already exists"), u.describe());
    }

    @AfterAll
    static void removeAccounts() {
        root("userdel", MEMBER);
        root("groupdel", GROUP);
    }

    @AfterEach
    void stopDirector() {
        ForwarderProcess.stopAndResetLab(director, LAB.lab());
        director = null;
    }

    Exec.Result jvsadmAs(String user, String... args) {
        List<String> cmd = new ArrayList<>(List.of("runuser", "-u", user, "--",
                LAB.lab().repo().resolve("bin/jvsadm").toString()));
        cmd.addAll(List.of(args));
        return LAB.lab().exec(Duration.ofSeconds(30), Lab.DIRECTOR, cmd.toArray(String[]::new));
    }

    static Map<String, String> status(Path task) throws IOException {
        Map<String, String> m = new HashMap<>();
        for (String line : Files.readAllLines(task.resolve("status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                m.put(line.substring(0, colon), line.substring(colon + 1).strip());
            }
        }
        m.put("comm", Files.readString(task.resolve("comm")).strip());
        return m;
    }

    @Test
    void everyThreadRunsAsTheUserWithOnlyNetAdminWhereNeededAndTrafficFlows() throws IOException {
        director = ForwarderProcess.start(LAB.lab(), "privilege", METRICS, List.of("--attach", "packet:eth0",
                "--metrics", METRICS, "--user", "nobody", "--control-group", GROUP));
        String nobodyUid = root("id", "-u", "nobody").stdout().strip();
        String nobodyGid = root("id", "-g", "nobody").stdout().strip();
        assertEquals("65534", nobodyUid, "the lab's nobody");

        // The control socket: group GROUP, 0660; its member configures the director, others cannot.
        Path socket = Path.of("/run/jvs", Lab.DIRECTOR, "control.sock");
        Exec.Result ls = root("stat", "-c", "%A %G", socket.toString());
        assertEquals("srw-rw---- " + GROUP, ls.stdout().strip(), ls.describe());
        Exec.Result add = jvsadmAs(MEMBER, "-A", "-t", Lab.VIP + ":80", "-s", "rr");
        assertEquals(0, add.exitCode(), add.describe() + "\n" + director.logTail(30));
        assertEquals(0, jvsadmAs(MEMBER, "-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(1), "-g").exitCode());
        assertEquals(0, jvsadmAs(MEMBER, "-a", "-t", Lab.VIP + ":80", "-r", Lab.rsIp(2), "-g").exitCode());
        Exec.Result outsider = jvsadmAs("daemon", "-L", "-n");
        assertNotEquals(0, outsider.exitCode(), "daemon is not in " + GROUP);
        assertTrue(outsider.stderr().contains("Permission denied"), outsider.describe());

        List<Lab.Transfer> ts = LAB.lab().getRepeatedly("http://" + Lab.VIP + "/", 6, Duration.ofSeconds(60),
                "-H", "Connection: close");
        assertTrue(ts.stream().allMatch(Lab.Transfer::ok), "HTTP through the VIP: " + ts);
        assertTrue(ts.stream().map(Lab.Transfer::body).distinct().count() == 2, "both real servers: " + ts);

        List<Path> tasks;
        try (var s = Files.list(Path.of("/proc", Long.toString(director.pid()), "task"))) {
            tasks = s.toList();
        }
        assertTrue(tasks.size() > 10, "a JVM's threads: " + tasks.size());
        List<String> privileged = new ArrayList<>();
        for (Path t : tasks) {
            Map<String, String> st = status(t);
            String who = st.get("comm") + " (" + t.getFileName() + ")";
            assertEquals(String.join("\t", nobodyUid, nobodyUid, nobodyUid, nobodyUid), st.get("Uid").replaceAll("\\s+", "\t"), who);
            assertEquals(String.join("\t", nobodyGid, nobodyGid, nobodyGid, nobodyGid), st.get("Gid").replaceAll("\\s+", "\t"), who);
            assertEquals(nobodyGid, st.get("Groups"), who + ": nobody's groups (getgrouplist: its own group only)");
            assertEquals("1", st.get("NoNewPrivs"), who);
            assertEquals(0L, Long.parseUnsignedLong(st.get("CapInh"), 16), who);
            assertEquals(0L, Long.parseUnsignedLong(st.get("CapAmb"), 16), who);
            long eff = Long.parseUnsignedLong(st.get("CapEff"), 16);
            long prm = Long.parseUnsignedLong(st.get("CapPrm"), 16);
            assertEquals(prm, eff, who);
            if (prm != 0) {
                assertEquals(CAP_NET_ADMIN, prm, who + ": CAP_NET_ADMIN only");
                assertEquals(CAP_NET_ADMIN, Long.parseUnsignedLong(st.get("CapBnd"), 16), who + ": bounding set");
                privileged.add(st.get("comm"));
            }
        }
        assertEquals(List.of("jvs-admin", "multiThreadIoEv"), privileged.stream().sorted().toList(),
                "the threads that keep CAP_NET_ADMIN");
    }

    @Test
    void unknownUserOrGroupIsOneLineAndNothingStarts() throws IOException {
        // A director that ran as nobody leaves its socket behind (its directory is root's; README).
        Path socket = Path.of("/run/jvs", Lab.DIRECTOR, "control.sock");
        Files.deleteIfExists(socket);
        for (String[] bad : new String[][]{{"--user", "no-such-user-jvs"}, {"--control-group", "no-such-group-jvs"}}) {
            List<String> cmd = new ArrayList<>(List.of(LAB.lab().repo().resolve("bin/jvs-forwarder").toString(),
                    "--attach", "packet:eth0", "--metrics", METRICS));
            cmd.addAll(List.of(bad));
            Exec.Result r = LAB.lab().exec(Duration.ofSeconds(60), Lab.DIRECTOR, cmd.toArray(String[]::new));
            assertEquals(2, r.exitCode(), r.describe());
            assertEquals("jvs-forwarder: " + bad[0] + " \"" + bad[1] + "\": no such "
                    + (bad[0].equals("--user") ? "user" : "group") + "\n", r.stderr(), r.describe());
            assertFalse(Files.exists(socket), "no control socket");
        }
    }
}
