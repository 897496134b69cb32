package io.jvs.forwarder.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The namespace lab of {@code scripts/lab}, for integration tests.
 *
 * <pre>
 *   jvs-client   10.0.1.2 --- jvs-router 10.0.1.1 | 10.0.0.1 --- br0 in jvs-lan
 *   br0 --- jvs-director 10.0.0.2 (eth0; no VIP, ip_forward=0)
 *   br0 --- jvs-rsN      10.0.0.1N (eth0; VIP 10.0.0.100 on lo:0; nginx :80 and :8080)
 * </pre>
 *
 * Real servers answer {@code GET /} with {@code rsN\n}, {@code GET /blob} with
 * a 50 MiB file whose sha256 is {@link #blobSha256()}, and store
 * {@code PUT /upload/<name>} under {@link #uploadedFile(int, String)}. Port 8080
 * is the direct baseline (replies leave through the router); port 80 is the
 * service behind the VIP.
 *
 * <p>Invariants: {@link #up(int)} either returns a lab that passed
 * {@code scripts/lab up}'s own checks or throws (never skips: CI runs as root
 * and a lab that cannot start is a failure). Every command has a time limit.
 */
public final class Lab implements AutoCloseable {
    /**
     * Namespace name prefix: {@code $JVS_LAB_PREFIX} (as {@code scripts/lab}), default {@code jvs-}. Another
     * prefix (e.g. {@code jvs-t1-}) gives a second, independent lab beside a developer's.
     */
    public static final String PREFIX = prefixFromEnv();
    public static final String CLIENT = PREFIX + "client";
    public static final String ROUTER = PREFIX + "router";
    public static final String LAN = PREFIX + "lan";
    public static final String DIRECTOR = PREFIX + "director";
    public static final String VIP = "10.0.0.100";
    public static final String CLIENT_IP = "10.0.1.2";
    public static final String ROUTER_LAN_IP = "10.0.0.1";
    public static final String DIRECTOR_IP = "10.0.0.2";
    /** The router's interface on the LAN (its neighbour table holds the VIP's MAC). */
    public static final String ROUTER_LAN_IFACE = "eth1";
    public static final long BLOB_BYTES = 50L * 1024 * 1024;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private static final Pattern ADDRESS = Pattern.compile("\"address\":\"([0-9a-fA-F:]{17})\"");
    private static final Pattern LLADDR = Pattern.compile("\"lladdr\":\"([0-9a-fA-F:]{17})\"");
    private static final Pattern STATE = Pattern.compile("\"state\":\\[([^\\]]*)\\]");

    private final Path repoRoot;
    private final Path stateDir;
    private final int realServers;
    private final boolean wasUp;
    private boolean down;

    private Lab(Path repoRoot, Path stateDir, int realServers, boolean wasUp) {
        this.repoRoot = repoRoot;
        this.stateDir = stateDir;
        this.realServers = realServers;
        this.wasUp = wasUp;
    }

    /**
     * Runs {@code scripts/lab up --real-servers n} (idempotent: a lab already up
     * with n real servers is checked and reused) and returns a handle to it.
     * Throws, with the script's output, when the lab cannot start.
     */
    public static Lab up(int realServers) {
        return up(realServers, new String[0]);
    }

    /**
     * As {@link #up(int)} with extra {@code scripts/lab up} options (e.g. {@code --monitoring}). The TUN real
     * servers (jvs-ts1.., each with a jvs-agent daemon: a JVM, seconds to start and to stop) are there only
     * when the options ask for them ({@code "--tun-servers", "2"}); otherwise this passes {@code --tun-servers 0}
     * (the TUN segment, the router's eth2 and br1, is there either way).
     */
    public static Lab up(int realServers, String... options) {
        Path root = repoRoot();
        List<String> cmd = new ArrayList<>(List.of(root.resolve("scripts/lab").toString(), "up", "--real-servers",
                Integer.toString(realServers)));
        cmd.addAll(List.of(options));
        if (cmd.stream().noneMatch(o -> o.equals("--tun-servers") || o.startsWith("--tun-servers="))) {
            cmd.addAll(List.of("--tun-servers", "0"));
        }
        Exec.Result r = Exec.run(Duration.ofSeconds(120), cmd);
        if (!r.ok()) {
            throw new AssertionError("the lab did not come up (integration tests need root and network namespaces)\n"
                    + r.describe());
        }
        System.out.println(r.stdout().strip());
        boolean wasUp = r.stdout().contains("already up");
        Lab lab = new Lab(root, stateDir(), realServers, wasUp);
        lab.blobSha256(); // fails loudly when the state dir is not where we think
        return lab;
    }

    /**
     * {@code scripts/lab down}; fails when it reports a problem (e.g. a process
     * left in a lab namespace). Leaves the lab as it found it: when it was
     * already up before {@link #up(int)} (someone else's), it stays up.
     */
    public void down() {
        if (down) {
            return;
        }
        down = true;
        if (wasUp) {
            System.out.println("lab: it was up before these tests; leaving it up");
            return;
        }
        Exec.run(Duration.ofSeconds(120), List.of(repoRoot.resolve("scripts/lab").toString(), "down")).requireOk();
    }

    @Override
    public void close() {
        down();
    }

    /** The repository root: the nearest directory at or above the working directory that holds {@code mvnw}. */
    public static Path repoRoot() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = p; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("mvnw")) && Files.isDirectory(d.resolve("scripts"))) {
                return d;
            }
        }
        throw new AssertionError("no directory with mvnw at or above " + p);
    }

    /** {@code $JVS_LAB_STATE}, else {@code /run/<prefix>lab}, i.e. {@code /run/jvs-lab} (as {@code scripts/lab}). */
    public static Path stateDir() {
        String s = System.getenv("JVS_LAB_STATE");
        return Path.of(s == null || s.isBlank() ? "/run/" + PREFIX + "lab" : s);
    }

    private static String prefixFromEnv() {
        String p = System.getenv("JVS_LAB_PREFIX");
        return p == null || p.isBlank() ? "jvs-" : p;
    }

    /** Writes a file for a test run under forwarder/target/it-logs (configs the director reads, logs). */
    public Path itFile(String name, String text) {
        try {
            Path dir = repoRoot.resolve("forwarder/target/it-logs");
            Files.createDirectories(dir);
            Path p = dir.resolve(name);
            Files.writeString(p, text);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sleeps; an interrupt fails the test. */
    public static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public Path repo() {
        return repoRoot;
    }

    public Path state() {
        return stateDir;
    }

    public int realServers() {
        return realServers;
    }

    public static String rsNamespace(int rs) {
        return PREFIX + "rs" + rs;
    }

    public static String rsIp(int rs) {
        return "10.0.0.1" + rs;
    }

    // --- commands --------------------------------------------------------

    /** {@code ip netns exec ns cmd...} with the default time limit. */
    public Exec.Result exec(String ns, String... cmd) {
        return exec(DEFAULT_TIMEOUT, ns, cmd);
    }

    public Exec.Result exec(Duration timeout, String ns, String... cmd) {
        List<String> c = new ArrayList<>(List.of(ip(), "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return Exec.run(timeout, c);
    }

    /** A bash script in {@code ns}, run with {@code set -euo pipefail}. */
    public Exec.Result sh(Duration timeout, String ns, String script) {
        return exec(timeout, ns, "bash", "-c", "set -euo pipefail\n" + script);
    }

    /** {@code ip -n ns args...} (iproute2 on a namespace, no exec needed). */
    public Exec.Result ip(String ns, String... args) {
        List<String> c = new ArrayList<>(List.of(ip(), "-n", ns));
        c.addAll(List.of(args));
        return Exec.run(Duration.ofSeconds(10), c);
    }

    // --- curl in jvs-client ------------------------------------------------

    /** {@code curl args...} in jvs-client. */
    public Exec.Result curl(String... args) {
        return curl(DEFAULT_TIMEOUT, args);
    }

    public Exec.Result curl(Duration timeout, String... args) {
        String[] c = new String[args.length + 1];
        c[0] = "curl";
        System.arraycopy(args, 0, c, 1, args.length);
        return exec(timeout, CLIENT, c);
    }

    /** GET url from jvs-client; returns the body; fails on any error. */
    public String get(String url) {
        return curl(Duration.ofSeconds(15), "-sS", "--fail", "--connect-timeout", "3", "--max-time", "10", url)
                .requireOk().stdout();
    }

    /**
     * One transfer of a multi-URL curl run; {@code remote} and {@code local} are the connection's
     * "address:port" at either end, as curl saw them.
     */
    public record Transfer(int index, String body, int httpCode, int numConnects, int curlExit, String remote,
            String local) {
        public boolean ok() {
            return curlExit == 0 && httpCode == 200;
        }
    }

    private static final String MARK = "~jvs~"; // not starting with @: curl -w @x reads a file

    /**
     * GETs {@code url} {@code count} times in one curl run from jvs-client, in
     * order, stopping at the first failure ({@code --fail-early}); extra args
     * (e.g. {@code -H "Connection: close"}) apply to every transfer. Returns
     * one {@link Transfer} per attempted transfer.
     */
    public List<Transfer> getRepeatedly(String url, int count, Duration timeout, String... extra) {
        List<String> args = new ArrayList<>(List.of("-sS", "--fail-early", "--connect-timeout", "2", "--max-time", "5"));
        args.addAll(List.of(extra));
        args.addAll(List.of("-w", MARK + "%{http_code} %{num_connects} %{exitcode} %{remote_ip}:%{remote_port}"
                + " %{local_ip}:%{local_port}\\n"));
        for (int i = 0; i < count; i++) {
            args.add(url);
        }
        Exec.Result r = curl(timeout, args.toArray(String[]::new));
        if (r.timedOut()) {
            throw new AssertionError(r.describe());
        }
        List<Transfer> out = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (String line : r.stdout().split("\n", -1)) {
            int m = line.indexOf(MARK);
            if (m < 0) {
                if (!line.isEmpty() || body.length() > 0) {
                    body.append(line).append('\n');
                }
                continue;
            }
            body.append(line, 0, m);
            String[] f = line.substring(m + MARK.length()).trim().split(" ");
            out.add(new Transfer(out.size(), body.toString().strip(), Integer.parseInt(f[0]), Integer.parseInt(f[1]),
                    Integer.parseInt(f[2]), f.length > 3 ? f[3] : "", f.length > 4 ? f[4] : ""));
            body.setLength(0);
        }
        if (out.isEmpty()) {
            throw new AssertionError("curl reported no transfers\n" + r.describe());
        }
        return out;
    }

    /** A download: sha256 of the body, curl's counts and speed (bytes/s). */
    public record Download(int httpCode, long bytes, double bytesPerSecond, String sha256) {
        public double megabytesPerSecond() {
            return bytesPerSecond / 1e6;
        }
    }

    /**
     * Downloads url in jvs-client into sha256sum (no file written). Aborts when
     * it is slower than 1 MB/s for 5 s or takes more than {@code maxSeconds}.
     */
    public Download download(String url, int maxSeconds) {
        Exec.Result r = sh(Duration.ofSeconds(maxSeconds + 10L), CLIENT,
                "curl -sS --connect-timeout 3 --max-time " + maxSeconds + " --speed-limit 1000000 --speed-time 5"
                        + " -w '%{stderr}" + MARK + "%{http_code} %{size_download} %{speed_download}\\n' '" + url
                        + "' | sha256sum | cut -d' ' -f1");
        r.requireOk();
        String[] f = markedLine(r.stderr(), r).split(" ");
        return new Download(Integer.parseInt(f[0]), Long.parseLong(f[1]), Double.parseDouble(f[2]),
                r.stdout().strip());
    }

    /** An upload: the HTTP status and curl's counts and speed (bytes/s). */
    public record Upload(int httpCode, long bytes, double bytesPerSecond) {
        public double megabytesPerSecond() {
            return bytesPerSecond / 1e6;
        }
    }

    /** PUTs {@code file} (a path visible to jvs-client, e.g. {@link #blobPath()}) to url. */
    public Upload upload(String url, Path file, int maxSeconds) {
        Exec.Result r = curl(Duration.ofSeconds(maxSeconds + 10L), "-sS", "--connect-timeout", "3", "--max-time",
                Integer.toString(maxSeconds), "--speed-limit", "1000000", "--speed-time", "5", "-o", "/dev/null",
                "-w", MARK + "%{http_code} %{size_upload} %{speed_upload}\\n", "-T", file.toString(), url);
        r.requireOk();
        String[] f = markedLine(r.stdout(), r).split(" ");
        return new Upload(Integer.parseInt(f[0]), Long.parseLong(f[1]), Double.parseDouble(f[2]));
    }

    private static String markedLine(String text, Exec.Result r) {
        for (String line : text.split("\n")) {
            int m = line.indexOf(MARK);
            if (m >= 0) {
                return line.substring(m + MARK.length()).trim();
            }
        }
        throw new AssertionError("no curl -w line in output\n" + r.describe());
    }

    // --- state written by scripts/lab ------------------------------------

    public Path blobPath() {
        return stateDir.resolve("blob.bin");
    }

    /** The sha256 (hex) {@code scripts/lab up} recorded for {@code GET /blob}. */
    public String blobSha256() {
        Path p = stateDir.resolve("blob.sha256");
        try {
            String s = Files.readString(p).strip();
            if (!s.matches("[0-9a-f]{64}")) {
                throw new AssertionError(p + " does not hold a sha256: '" + s + "'");
            }
            return s;
        } catch (IOException e) {
            throw new AssertionError("cannot read " + p + " (is the lab up?)", e);
        }
    }

    /** Where real server {@code rs} stores {@code PUT /upload/<name>}. */
    public Path uploadedFile(int rs, String name) {
        return stateDir.resolve("rs" + rs).resolve("upload").resolve(name);
    }

    /** The sha256 (hex) of what real server {@code rs} stored for {@code PUT /upload/<name>}, if it has it. */
    public Optional<String> uploadedSha256(int rs, String name) {
        Path p = uploadedFile(rs, name);
        return Files.isRegularFile(p) ? Optional.of(sha256(p)) : Optional.empty();
    }

    /** nginx access log lines of real server {@code rs} (format: see scripts/lab.d/nginx.conf.in). */
    public List<String> accessLog(int rs) {
        try {
            return Files.readAllLines(stateDir.resolve("rs" + rs).resolve("access.log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String sha256(Path p) {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // --- links and neighbours ----------------------------------------------

    /** The MAC address of {@code iface} in {@code ns}, lower case. */
    public String macOf(String ns, String iface) {
        Exec.Result r = ip(ns, "-j", "link", "show", "dev", iface).requireOk();
        Matcher m = ADDRESS.matcher(r.stdout());
        if (!m.find()) {
            throw new AssertionError("no address for " + iface + " in " + ns + ": " + r.stdout());
        }
        return m.group(1).toLowerCase();
    }

    /** A neighbour table entry: MAC (null while unresolved) and NUD states. */
    public record Neighbour(String mac, String state) {
    }

    /** {@code ip -j neigh show to ip} in {@code ns}: the entry, if there is one. */
    public Optional<Neighbour> neigh(String ns, String ip) {
        Exec.Result r = ip(ns, "-j", "neigh", "show", "to", ip).requireOk();
        String s = r.stdout().strip();
        if (s.isEmpty() || s.equals("[]")) {
            return Optional.empty();
        }
        Matcher mac = LLADDR.matcher(s);
        Matcher st = STATE.matcher(s);
        return Optional.of(new Neighbour(mac.find() ? mac.group(1).toLowerCase() : null,
                st.find() ? st.group(1).replace("\"", "") : ""));
    }

    /** The MAC {@code ns} has for {@code ip}, if resolved. */
    public Optional<String> neighMac(String ns, String ip) {
        return neigh(ns, ip).map(Neighbour::mac);
    }

    /**
     * A Neighbor Solicitation for {@code target} sent from {@code iface} in {@code ns} (python's raw
     * ICMPv6 socket; the kernel fills in the checksum), and the target link-layer addresses of the
     * Neighbor Advertisements for it that come back within a second, sorted, comma-separated
     * ("" when none answered).
     */
    public String solicit(String ns, String iface, String target) {
        String script = String.join("\n",
                "import socket, struct, select, time",
                "t = socket.inet_pton(socket.AF_INET6, '" + target + "')",
                "group = 'ff02::1:ff' + t[13:14].hex() + ':' + t[14:16].hex()",
                "s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)",
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'" + iface + "')",
                "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)",
                "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)",
                "idx = socket.if_nametoindex('" + iface + "')",
                "mac = open('/sys/class/net/" + iface + "/address').read().strip()",
                "ns = struct.pack('!BBHI', 135, 0, 0, 0) + t + bytes([1, 1]) + bytes.fromhex(mac.replace(':', ''))",
                "s.sendto(ns, (group, 0, 0, idx))",
                "seen = set()",
                "end = time.time() + 1",
                "while time.time() < end:",
                "    r, _, _ = select.select([s], [], [], max(0, end - time.time()))",
                "    if not r: break",
                "    m = s.recv(1500)",
                "    if m[0] == 136 and m[8:24] == t and len(m) >= 32 and m[24] == 2:",
                "        seen.add(m[26:32].hex(':'))",
                "print(','.join(sorted(seen)))");
        return exec(Duration.ofSeconds(10), ns, "python3", "-c", script).requireOk().stdout().strip();
    }

    /** Forgets {@code ns}'s neighbour entry for {@code ip} on {@code dev}, if any. */
    public void neighForget(String ns, String ip, String dev) {
        ip(ns, "neigh", "del", ip, "dev", dev); // absent is fine
    }

    /**
     * {@code ns}'s IPv6 forwarding sysctl, IPv6 routes of every table and IPv6 policy rules: what a
     * TAP-mode director changes for IPv6 and must put back.
     */
    public String ipv6State(String ns) {
        return "forwarding=" + exec(ns, "cat", "/proc/sys/net/ipv6/conf/all/forwarding").requireOk().stdout().strip()
                + "\n" + ip(ns, "-6", "route", "show", "table", "all").requireOk().stdout()
                + ip(ns, "-6", "rule", "show").requireOk().stdout();
    }

    /** PIDs of processes in {@code ns} ({@code ip netns pids}). */
    public List<Long> pidsIn(String ns) {
        Exec.Result r = Exec.run(Duration.ofSeconds(10), List.of(ip(), "netns", "pids", ns)).requireOk();
        return r.stdout().lines().map(String::strip).filter(s -> !s.isEmpty()).map(Long::parseLong).toList();
    }

    /** The PID of the Prometheus that {@code scripts/lab up --monitoring} started in the director namespace, if any. */
    public List<Long> monitoringPids() {
        Path pid = stateDir.resolve("monitoring/prometheus.pid");
        try {
            return Files.exists(pid) ? List.of(Long.parseLong(Files.readString(pid).strip())) : List.of();
        } catch (IOException | NumberFormatException e) {
            throw new AssertionError("unreadable " + pid + ": " + e);
        }
    }

    /**
     * Puts the director namespace back to the lab's baseline between
     * directors: nothing but the lab's Prometheus may run there, and kernel forwarding is off again
     * (a forwarder in TAP mode turns it on). Returns what it had to fix.
     *
     * <p>The real servers also drop their TIME_WAIT sockets ({@code ss -K}), which the last
     * director's connections left for 60 s. The client's kernel gives each connection its own
     * timestamp offset (per 4-tuple), so a new connection that meets one of them at the real
     * server (same client port, reached through another VIP port or method before) is refused
     * by PAWS half the time: the client resets and sends its SYN again, and the director,
     * finding its entry CLOSEd, schedules it anew, as IPVS's conn_reuse_mode does. That is one
     * more scheduler pick than connections, which no test of the next director expects.
     */
    public String resetDirector() {
        forgetTimeWait();
        List<Long> pids = new ArrayList<>(pidsIn(DIRECTOR));
        pids.removeAll(monitoringPids()); // the lab's own Prometheus (up --monitoring) lives there
        if (!pids.isEmpty()) {
            throw new AssertionError("processes still run in " + DIRECTOR + ": " + pids);
        }
        String fwd = exec(Duration.ofSeconds(10), DIRECTOR, "cat", "/proc/sys/net/ipv4/ip_forward").requireOk()
                .stdout().strip();
        if (!fwd.equals("0")) {
            exec(Duration.ofSeconds(10), DIRECTOR, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0").requireOk();
            return "ip_forward was " + fwd + " in " + DIRECTOR + "; set it back to 0";
        }
        return "";
    }

    /** Kills the TIME_WAIT sockets of every real server namespace of this lab (rsN, tsN, nrsN). */
    public void forgetTimeWait() {
        Pattern server = Pattern.compile(Pattern.quote(PREFIX) + "(rs|ts|nrs)\\d+");
        for (String line : Exec.run(Duration.ofSeconds(10), List.of(ip(), "netns", "list")).requireOk().stdout()
                .lines().toList()) {
            String ns = line.split(" ", 2)[0];
            if (server.matcher(ns).matches()) {
                exec(Duration.ofSeconds(10), ns, "ss", "-K", "-t", "state", "time-wait").requireOk();
            }
        }
    }

    static String ip() {
        for (String c : List.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip")) {
            if (Files.isExecutable(Path.of(c))) {
                return c;
            }
        }
        return "ip";
    }
}
