#!/usr/bin/env python3
"""scripts/bench --soak MINUTES: the director under steady mixed load and constant change.

One jvs-forwarder (packet mode) in the lab's director namespace with six services: HTTP and UDP,
each through DR, NAT and FULLNAT, over the lab's two real servers (nginx :80, a UDP echo on
:9100 that this script starts). For MINUTES:

  load      from the client namespace, one worker per (kind, method): HTTP short connections
            (Connection: close), HTTP keep-alive (one connection, reconnected after an error),
            UDP request/echo (a new socket, so a new connection, per request); every request
            recorded with its start and end time, outcome and the real server that answered
  changes   every second a jvsadm change (bin/jvsadm, its own JVM, over the control socket):
            the weight of a real server in rotation, 1..3, on one service
  flaps     every 10 s (at :02) rs2 leaves every service, as keepalived's checker removes a
            failed real server (one `jvsadm -R` of six -d lines: one change), and comes back
            5 s later (six -a lines)
  reload    every minute (at :09, rs2 in rotation) SIGHUP: --config re-read, weights reset
  samples   every 5 s: heap (the JVM's own metric), RSS and threads (/proc), open fds,
            connection-table entries, data-path drops; GC pauses from the JVM's GC log

A failed request is attributed: a keep-alive request on a connection bound to rs2 that started
while rs2 was out of rotation (IPVS drops the packets of a removed server's connections, and so
does jvs), or a new request that was in flight when rs2 was removed (it may have been scheduled
to rs2 just before), is "against a server leaving rotation"; every other failure started against
servers in rotation, and the target for those is 0.

Subcommands (the bench calls `run`; the others run inside namespaces):
  run     --minutes M --prefix P --repo DIR --tmp DIR --out BASE
  client  --until EPOCH --out FILE        (client namespace)
  echo    --bind A,B --port N             (a real server's namespace)
"""
import argparse
import http.client
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

VIP = "10.0.0.100"
RS = {"rs1": "10.0.0.11", "rs2": "10.0.0.12"}
LADDR = "10.0.0.50"
UDP_RS_PORT = 9100
# method -> (jvsadm flag, HTTP VIP port, UDP VIP port, -A extra)
METHODS = {
    "dr": ("-g", 80, 9100, ""),
    "nat": ("-m", 81, 9101, ""),
    "fullnat": ("--fullnat", 82, 9102, " --laddr " + LADDR),
}
KINDS = ("short", "keepalive", "udp")
FLAP_PERIOD, FLAP_DOWN_AT, FLAP_DOWN_FOR = 10, 2, 5
HUP_PERIOD, HUP_AT = 60, 9
SAMPLE_EVERY = 5
REQUEST_TIMEOUT = 2.0


# ---------------------------------------------------------------- echo (in a real server's namespace)
def echo(binds, port):
    socks = []
    for a in binds:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, port))  # one socket per address: a reply leaves from the address asked (the VIP for DR)
        socks.append(s)
    name = socket.gethostname()
    import selectors
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    me = os.environ.get("SOAK_RS", "rs?").encode()
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            data, peer = s.recvfrom(2048)
            s.sendto(me + b" " + data, peer)


# ---------------------------------------------------------------- client (in the client namespace)
class Recorder:
    def __init__(self, path):
        self.f = open(path, "w", buffering=1)
        self.lock = threading.Lock()

    def rec(self, kind, method, t0, t1, ok, server, err):
        with self.lock:
            self.f.write(f"{kind}\t{method}\t{t0:.4f}\t{t1:.4f}\t{1 if ok else 0}\t{server}\t{err}\n")


def body_server(b):
    s = b.decode(errors="replace").strip()
    return s if s in RS else ""


def short_worker(rec, method, until):
    port = METHODS[method][1]
    while time.time() < until:
        t0 = time.time()
        try:
            c = http.client.HTTPConnection(VIP, port, timeout=REQUEST_TIMEOUT)
            c.request("GET", "/", headers={"Connection": "close"})
            r = c.getresponse()
            b = r.read()
            c.close()
            srv = body_server(b)
            ok = r.status == 200 and srv != ""
            rec.rec("short", method, t0, time.time(), ok, srv or "-", "" if ok else f"status {r.status}")
        except Exception as e:  # every failure is a result here
            rec.rec("short", method, t0, time.time(), False, "-", type(e).__name__)
        time.sleep(0.05)


def keepalive_worker(rec, method, until):
    port = METHODS[method][1]
    c, srv = None, "-"
    while time.time() < until:
        t0 = time.time()
        try:
            if c is None:
                c, srv = http.client.HTTPConnection(VIP, port, timeout=REQUEST_TIMEOUT), "-"
            c.request("GET", "/")
            r = c.getresponse()
            b = r.read()
            got = body_server(b)
            ok = r.status == 200 and got != "" and (srv == "-" or got == srv)
            prev, srv = srv, got or srv
            rec.rec("keepalive", method, t0, time.time(), ok, srv,
                    "" if ok else (f"status {r.status}" if r.status != 200 else f"server changed {prev}->{got}"))
            if r.getheader("Connection", "").lower() == "close":
                c.close()
                c = None
        except Exception as e:
            rec.rec("keepalive", method, t0, time.time(), False, srv, type(e).__name__)
            try:
                c.close()
            except Exception:
                pass
            c = None
        time.sleep(0.02)


def udp_worker(rec, method, until):
    port = METHODS[method][2]
    n = 0
    while time.time() < until:
        n += 1
        payload = f"{method} {n}".encode()
        t0 = time.time()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(REQUEST_TIMEOUT)
        try:
            s.connect((VIP, port))  # a reply from any other address is not delivered
            s.send(payload)
            data = s.recv(2048)
            parts = data.split(b" ", 1)
            srv = parts[0].decode(errors="replace")
            ok = len(parts) == 2 and parts[1] == payload and srv in RS
            rec.rec("udp", method, t0, time.time(), ok, srv if srv in RS else "-", "" if ok else "bad echo")
        except Exception as e:
            rec.rec("udp", method, t0, time.time(), False, "-", type(e).__name__)
        finally:
            s.close()
        time.sleep(0.05)


def client(until, out):
    rec = Recorder(out)
    workers = {"short": short_worker, "keepalive": keepalive_worker, "udp": udp_worker}
    ts = [threading.Thread(target=workers[k], args=(rec, m, until), daemon=True) for k in KINDS for m in METHODS]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


# ---------------------------------------------------------------- run (root namespace)
class Soak:
    def __init__(self, a):
        self.a = a
        self.P = a.prefix
        self.ns_dir, self.ns_cli = self.P + "director", self.P + "client"
        self.tmp = a.tmp
        self.procs = []
        self.events = []      # (t, what, detail, ok, seconds)
        self.samples = []     # dicts
        self.rs2_out = []     # [t_down, t_up]
        self.weights = {}
        self.director = None
        self.final_drops, self.ring_drops = [], 0

    def nsx(self, ns, *cmd, **kw):
        return ["ip", "netns", "exec", ns, *cmd]

    def start(self, ns, cmd, log, env=None):
        p = subprocess.Popen(self.nsx(ns, *cmd), stdout=open(log, "w"), stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def conf(self):
        lines = ["# scripts/bench --soak: HTTP and UDP through DR, NAT and FULLNAT over rs1, rs2"]
        for m, (flag, hport, uport, extra) in METHODS.items():
            lines.append(f"-A -t {VIP}:{hport} -s wrr{extra}")
            for ip in RS.values():
                lines.append(f"-a -t {VIP}:{hport} -r {ip}:80 {flag} -w 1")
            lines.append(f"-A -u {VIP}:{uport} -s wrr{extra}")
            for ip in RS.values():
                lines.append(f"-a -u {VIP}:{uport} -r {ip}:{UDP_RS_PORT} {flag} -w 1")
        return "\n".join(lines) + "\n"

    def dests(self, server):
        """(service, real server, flag) of every service for one real server."""
        ip = RS[server]
        out = []
        for m, (flag, hport, uport, extra) in METHODS.items():
            out.append((f"-t {VIP}:{hport}", f"{ip}:80", flag))
            out.append((f"-u {VIP}:{uport}", f"{ip}:{UDP_RS_PORT}", flag))
        return out

    def jvsadm(self, what, args, stdin=None):
        t0 = time.time()
        r = subprocess.run(self.nsx(self.ns_dir, os.path.join(self.a.repo, "bin/jvsadm"), *args), input=stdin,
                           capture_output=True, text=True, timeout=60)
        dt = time.time() - t0
        ok = r.returncode == 0
        self.events.append((t0, what, " ".join(args) + ("" if ok else " -> " + (r.stderr.strip() or r.stdout.strip())[:120]),
                            ok, dt))
        return ok

    def metrics(self):
        r = subprocess.run(self.nsx(self.ns_dir, "curl", "-s", "--max-time", "2", "http://127.0.0.1:9110/metrics"),
                           capture_output=True, text=True)
        m = {}
        for line in r.stdout.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            try:
                name_labels, value = line.rsplit(" ", 1)
                v = float(value)
            except ValueError:
                continue
            name = name_labels.split("{", 1)[0]
            labels = name_labels[len(name):]
            m.setdefault(name, []).append((labels, v))
        return m

    @staticmethod
    def msum(m, name, label_filter=None):
        return sum(v for lab, v in m.get(name, []) if label_filter is None or label_filter in lab)

    def sample(self, t_start):
        pid = self.director.pid
        st = {}
        try:
            for line in open(f"/proc/{pid}/status"):
                k, _, v = line.partition(":")
                st[k] = v.strip()
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            return
        m = self.metrics()
        self.samples.append({
            "t": time.time() - t_start,
            "rss_mb": int(st.get("VmRSS", "0 kB").split()[0]) / 1024,
            "threads": int(st.get("Threads", "0")),
            "fds": fds,
            "heap_mb": self.msum(m, "jvm_memory_used_bytes", 'area="heap"') / 2**20,
            "conns": self.msum(m, "jvs_connection_table_entries"),
            "drops": self.msum(m, "jvs_dropped_packets_total"),
            "gc_count": self.msum(m, "jvm_gc_collection_seconds_count"),
            "gc_s": self.msum(m, "jvm_gc_collection_seconds_sum"),
        })

    def run(self):
        a = self.a
        conf = os.path.join(self.tmp, "soak.conf")
        open(conf, "w").write(self.conf())
        for i, (name, ip) in enumerate(RS.items(), 1):
            env = dict(os.environ, SOAK_RS=name)
            self.start(self.P + name, ["python3", __file__, "echo", "--bind", f"{VIP},{ip}", "--port", str(UDP_RS_PORT)],
                       os.path.join(self.tmp, f"echo-{name}.log"), env)
        gclog = os.path.join(self.tmp, "gc.log")
        env = dict(os.environ, JVS_JAVA_OPTS=f"-Xlog:gc:file={gclog}:uptime")
        self.director = self.start(self.ns_dir, ["env", f"JVS_JAVA_OPTS=-Xlog:gc:file={gclog}:uptime",
                                                 os.path.join(a.repo, "bin/jvs-forwarder"), "--attach", "packet:eth0",
                                                 "--config", conf, "--metrics", "127.0.0.1:9110",
                                                 # a datagram of a UDP connection whose real server was removed is
                                                 # rescheduled, not dropped until the entry's 300 s run out (IPVS's
                                                 # default 0 would fail every request whose new source port matches
                                                 # such an entry: a request "against" a server out of rotation)
                                                 "--expire-nodest-conn", "1"],
                                   os.path.join(self.tmp, "director.log"), env)
        for _ in range(300):
            if self.director.poll() is not None:
                raise SystemExit("soak: the director exited at start: " + open(os.path.join(self.tmp, "director.log")).read()[-800:])
            if self.metrics().get("jvs_connection_table_entries") is not None:
                break
            time.sleep(0.1)
        else:
            raise SystemExit("soak: the director's metrics did not answer in 30 s")
        # every service answers before the clock starts (JIT warm-up, neighbours resolved)
        for m, (flag, hport, uport, extra) in METHODS.items():
            for _ in range(100):
                r = subprocess.run(self.nsx(self.ns_cli, "curl", "-s", "--max-time", "1", f"http://{VIP}:{hport}/"),
                                   capture_output=True, text=True)
                if r.stdout.strip() in RS:
                    break
                time.sleep(0.2)
            else:
                raise SystemExit(f"soak: {m} service {VIP}:{hport} does not answer")
        load_before = open("/proc/loadavg").read().split()[:3]
        t_start = time.time()
        until = t_start + a.minutes * 60
        client_out = os.path.join(self.tmp, "requests.tsv")
        cli = self.start(self.ns_cli, ["python3", __file__, "client", "--until", f"{until:.3f}", "--out", client_out],
                         os.path.join(self.tmp, "client.log"))
        for s in RS:
            for svc, dest, flag in self.dests(s):
                self.weights[(svc, dest)] = 1
        rs2_in = True
        sec = 0
        next_sample = 0
        last_minute = -1
        while time.time() < until:
            el = time.time() - t_start
            if el >= next_sample:
                self.sample(t_start)
                next_sample += SAMPLE_EVERY
            minute = int(el // 60)
            if minute != last_minute:
                last_minute = minute
                print(f"soak: {minute}/{a.minutes} min, "
                      f"{sum(1 for e in self.events if e[1] == 'change')} changes, director RSS "
                      f"{self.samples[-1]['rss_mb']:.0f} MB" if self.samples else "", flush=True)
            phase = sec % FLAP_PERIOD
            if phase == FLAP_DOWN_AT and rs2_in:
                lines = "".join(f"-d {svc} -r {dest}\n" for svc, dest, flag in self.dests("rs2"))
                t = time.time()
                if self.jvsadm("flap-down", ["-R"], lines):
                    rs2_in = False
                    self.rs2_out.append([t, None])
            elif phase == FLAP_DOWN_AT + FLAP_DOWN_FOR and not rs2_in:
                lines = "".join(f"-a {svc} -r {dest} {flag} -w 1\n" for svc, dest, flag in self.dests("rs2"))
                if self.jvsadm("flap-up", ["-R"], lines):
                    rs2_in = True
                    self.rs2_out[-1][1] = time.time()
                    for svc, dest, flag in self.dests("rs2"):
                        self.weights[(svc, dest)] = 1
            elif sec % HUP_PERIOD == HUP_AT and rs2_in:
                t = time.time()
                os.kill(self.director.pid, signal.SIGHUP)
                self.events.append((t, "sighup", "", True, 0.0))
                for k in self.weights:
                    self.weights[k] = 1
            else:
                servers = ["rs1"] + (["rs2"] if rs2_in else [])
                s = random.choice(servers)
                svc, dest, flag = random.choice(self.dests(s))
                w = random.choice([x for x in (1, 2, 3) if x != self.weights[(svc, dest)]])
                if self.jvsadm("change", ["-e", *svc.split(), "-r", dest, flag, "-w", str(w)]):
                    self.weights[(svc, dest)] = w
            if self.director.poll() is not None:
                self.events.append((time.time(), "director-died", "", False, 0.0))
                break
            sec += 1
            delay = t_start + sec - time.time()
            if delay > 0:
                time.sleep(delay)
            # a slow jvsadm (its own JVM) may eat a second: the schedule skips, it never bunches up
            while t_start + sec < time.time() - 1:
                sec += 1
        cli.wait(timeout=REQUEST_TIMEOUT * 3 + 30)
        if self.rs2_out and self.rs2_out[-1][1] is None:
            self.rs2_out[-1][1] = time.time()
        self.sample(t_start)
        m = self.metrics()
        self.final_drops = sorted(((lab, v) for lab, v in m.get("jvs_dropped_packets_total", []) if v > 0),
                                  key=lambda x: -x[1])
        self.ring_drops = self.msum(m, "jvs_port_kernel_drops_total")
        load_after = open("/proc/loadavg").read().split()[:3]
        alive = self.director.poll() is None
        self.stop_all()
        return Report(self, t_start, client_out, gclog, load_before, load_after, alive).write(a.out)


# ---------------------------------------------------------------- report
class Report:
    def __init__(self, soak, t_start, requests, gclog, load_before, load_after, alive):
        self.s, self.t0, self.alive = soak, t_start, alive
        self.load_before, self.load_after = load_before, load_after
        self.reqs = []
        for line in open(requests):
            f = line.rstrip("\n").split("\t")
            if len(f) == 7:
                self.reqs.append((f[0], f[1], float(f[2]), float(f[3]), f[4] == "1", f[5], f[6]))
        self.pauses = []        # ms
        self.pause_kinds = {}   # "Pause Young (Allocation Failure)" -> [ms...]
        pat = re.compile(r"(Pause [^(]*\([^)]*\)).* (\d+(?:\.\d+)?)ms$")
        if os.path.exists(gclog):
            for line in open(gclog):
                mm = pat.search(line.strip())
                if mm:
                    self.pauses.append(float(mm.group(2)))
                    self.pause_kinds.setdefault(mm.group(1).strip(), []).append(float(mm.group(2)))
        # the removal takes effect somewhere inside the jvsadm call: [its start, its end]
        self.removals = [(t, t + dt) for t, w, d, ok, dt in soak.events if w == "flap-down" and ok]

    def classify(self, r):
        kind, method, t0, t1, ok, srv, err = r
        if ok:
            return "ok"
        if kind == "keepalive" and srv == "rs2" and any(a <= t1 and t0 <= b for a, b in self.s.rs2_out):
            return "leaving"    # a connection bound to rs2 while rs2 was out of rotation
        if kind != "keepalive" and any(a <= t1 and t0 <= b for a, b in self.removals):
            return "leaving"    # in flight while rs2 was being removed: maybe scheduled to it
        return "in_rotation"

    def write(self, base):
        s = self.s
        cls = [self.classify(r) for r in self.reqs]
        rows = []
        tot = {"n": 0, "ok": 0, "leaving": 0, "in_rotation": 0}
        for k in KINDS:
            for m in METHODS:
                idx = [i for i, r in enumerate(self.reqs) if r[0] == k and r[1] == m]
                c = {"n": len(idx), "ok": 0, "leaving": 0, "in_rotation": 0}
                for i in idx:
                    c[cls[i]] += 1
                lat = sorted(self.reqs[i][3] - self.reqs[i][2] for i in idx if cls[i] == "ok")
                p50 = lat[len(lat) // 2] * 1000 if lat else 0
                p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0
                rows.append((k, m, c, p50, p99))
                for x in tot:
                    tot[x] += c[x]
        ev = s.events
        changes = [e for e in ev if e[1] == "change"]
        flaps = [e for e in ev if e[1].startswith("flap")]
        hups = [e for e in ev if e[1] == "sighup"]
        jl = sorted(e[4] for e in ev if e[1] != "sighup")
        minutes = s.a.minutes
        dur = (max((r[3] for r in self.reqs), default=self.t0) - self.t0)
        smp = s.samples
        first, last = (smp[0], smp[-1]) if smp else ({}, {})
        p = sorted(self.pauses)
        in_rot_fail = [r for r, c in zip(self.reqs, cls) if c == "in_rotation"]
        with open(base + ".md", "w") as f:
            w = lambda x="": f.write(x + "\n")
            w(f"# jvs soak, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(self.t0))}, {minutes} minutes")
            w()
            w(f"`scripts/bench --soak {minutes}` on {socket.gethostname()} ({os.cpu_count()} cores, shared with other "
              f"engineers' builds and tests while it ran: load {' '.join(self.load_before)} before, "
              f"{' '.join(self.load_after)} after). jvs {s.a.commit}. One jvs-forwarder (packet mode, eth0) with "
              "six services, HTTP (:80 DR, :81 NAT, :82 FULLNAT) and UDP echo (:9100 DR, :9101 NAT, :9102 FULLNAT) "
              "over rs1 and rs2; from the client namespace one worker per kind and method (HTTP short connections "
              "every 50 ms, HTTP keep-alive every 20 ms on one connection, UDP request/echo every 50 ms on a new "
              "socket each). Every second a jvsadm change (a weight, 1..3, of a real server in rotation); every "
              "10 s rs2 leaves all six services (`jvsadm -R`, six -d lines: what keepalived does on a failed "
              "check) and comes back 5 s later; every minute SIGHUP (re-reads --config). `--expire-nodest-conn 1`: "
              "a packet of a connection whose real server left expires it (a UDP datagram is rescheduled). Details: "
              "scripts/bench.d/soak.py.")
            w()
            w("## Requests")
            w()
            w(f"**Failed requests that started against servers in rotation: {tot['in_rotation']}** (target 0) of "
              f"{tot['n']:,} requests; {tot['leaving']} more failed against rs2 while it left rotation (a keep-alive "
              "connection bound to rs2 while rs2 was out, whose packets IPVS and jvs drop; or a new request in "
              "flight at the moment rs2 was removed).")
            w()
            w("| kind | method | requests | ok | failed, server in rotation | failed, server leaving | p50 ms | p99 ms |")
            w("|---|---|---|---|---|---|---|---|")
            for k, m, c, p50, p99 in rows:
                w(f"| {k} | {m} | {c['n']:,} | {c['ok']:,} | {c['in_rotation']} | {c['leaving']} | {p50:.1f} | {p99:.1f} |")
            w(f"| all | | {tot['n']:,} | {tot['ok']:,} | {tot['in_rotation']} | {tot['leaving']} | | |")
            if in_rot_fail:
                w()
                w("Failures against servers in rotation (first 20): " + "; ".join(
                    f"{r[0]} {r[1]} at {r[2] - self.t0:.1f} s ({r[6]}, server {r[5]})" for r in in_rot_fail[:20]))
            fails = [(r, c) for r, c in zip(self.reqs, cls) if c != "ok"]
            if fails:
                w()
                w("Failed requests by the second of the 10-s flap cycle they started in (rs2 is removed at second "
                  f"{FLAP_DOWN_AT} and re-added at second {FLAP_DOWN_AT + FLAP_DOWN_FOR}; a request times out after "
                  f"{REQUEST_TIMEOUT:.0f} s):")
                w()
                w("| second | " + " | ".join(str(i) for i in range(FLAP_PERIOD)) + " |")
                w("|---|" + "---|" * FLAP_PERIOD)
                for label in ("in_rotation", "leaving"):
                    h = [0] * FLAP_PERIOD
                    for r, c in fails:
                        if c == label:
                            h[int(r[2] - self.t0) % FLAP_PERIOD] += 1
                    w(f"| {'in rotation' if label == 'in_rotation' else 'leaving'} | " + " | ".join(str(x) for x in h) + " |")
            w()
            w("What the director counted (its metrics at the end): "
              + (", ".join(f"{lab or 'drops'} {v:.0f}" for lab, v in s.final_drops) or "no data-path drop")
              + f"; frames the kernel dropped on the receive rings (jvs_port_kernel_drops_total): {s.ring_drops:.0f}.")
            w()
            w("## Control")
            w()
            w(f"- jvsadm changes: {len(changes)} ({sum(1 for e in changes if not e[3])} refused); flaps: "
              f"{sum(1 for e in flaps if e[1] == 'flap-down' and e[3])} removals, "
              f"{sum(1 for e in flaps if e[1] == 'flap-up' and e[3])} re-adds ({sum(1 for e in flaps if not e[3])} refused); "
              f"SIGHUPs: {len(hups)}")
            if jl:
                w(f"- jvsadm round trip (a JVM per call, the machine shared): p50 {jl[len(jl) // 2] * 1000:.0f} ms, "
                  f"max {jl[-1] * 1000:.0f} ms")
            refused = [e for e in ev if not e[3]]
            for e in refused[:5]:
                w(f"- refused at {e[0] - self.t0:.1f} s: {e[1]} {e[2]}")
            w(f"- the director {'ran to the end' if self.alive else 'DIED during the run'}")
            w()
            w("## Director resources over time")
            w()
            w(f"Sampled every {SAMPLE_EVERY} s; one row a minute (and the last sample). Heap: the JVM's used heap "
              "(Prometheus client's jvm_memory_used_bytes, area heap: it saws with the young collections); RSS and "
              "threads: /proc/PID/status; fds: /proc/PID/fd; connections: jvs_connection_table_entries.")
            w()
            w("| t (s) | heap MB | RSS MB | threads | fds | connections | drops (total) | GCs |")
            w("|---|---|---|---|---|---|---|---|")
            shown = []
            for x in smp:
                if not shown or x["t"] >= shown[-1]["t"] + 59.5 or x is smp[-1]:
                    shown.append(x)
            for x in shown:
                w(f"| {x['t']:.0f} | {x['heap_mb']:.1f} | {x['rss_mb']:.1f} | {x['threads']} | {x['fds']} | "
                  f"{x['conns']:.0f} | {x['drops']:.0f} | {x['gc_count']:.0f} |")
            if len(smp) >= 4:
                half = len(smp) // 2
                def mean(key, part):
                    return statistics.mean(y[key] for y in part)
                w()
                w("Second half against first half (means; flat means ~1.00): " + ", ".join(
                    f"{k} {mean(k, smp[half:]) / max(mean(k, smp[:half]), 1e-9):.2f}" for k in ("heap_mb", "rss_mb", "fds", "threads", "conns")))
                w(f"RSS min/max {min(y['rss_mb'] for y in smp):.0f}/{max(y['rss_mb'] for y in smp):.0f} MB, "
                  f"fds min/max {min(y['fds'] for y in smp)}/{max(y['fds'] for y in smp)}, "
                  f"threads min/max {min(y['threads'] for y in smp)}/{max(y['threads'] for y in smp)}, "
                  f"connections min/max {min(y['conns'] for y in smp):.0f}/{max(y['conns'] for y in smp):.0f}.")
            w()
            w("## GC pauses")
            w()
            for kind, ms in sorted(self.pause_kinds.items()):
                w(f"- {kind}: {len(ms)}, max {max(ms):.2f} ms, total {sum(ms):.0f} ms")
            if p:
                w()
                w(f"{len(p)} pauses (ParallelGC, `-Xlog:gc`), {sum(p):.0f} ms in all ({sum(p) / 10 / max(dur, 1):.3f} % of "
                  f"the run): p50 {p[len(p) // 2]:.2f} ms, p99 {p[min(len(p) - 1, int(len(p) * 0.99))]:.2f} ms, "
                  f"max {p[-1]:.2f} ms.")
            else:
                w("No GC pause logged.")
            w()
            w(f"![soak]({os.path.basename(base)}.svg)")
        self.svg(base + ".svg", cls)
        with open(base + ".tsv", "w") as f:
            f.write("t_s\theap_mb\trss_mb\tthreads\tfds\tconnections\tdrops\tgc_count\tgc_s\n")
            for x in smp:
                f.write(f"{x['t']:.1f}\t{x['heap_mb']:.2f}\t{x['rss_mb']:.2f}\t{x['threads']}\t{x['fds']}\t"
                        f"{x['conns']:.0f}\t{x['drops']:.0f}\t{x['gc_count']:.0f}\t{x['gc_s']:.4f}\n")
        print(open(base + ".md").read())
        return 0 if tot["in_rotation"] == 0 and self.alive else 1

    def svg(self, path, cls):
        smp = self.s.samples
        W, H, L, R, T = 900, 160, 70, 20, 30
        panels = [
            ("heap and RSS (MB)", [("heap_mb", "#1f77b4"), ("rss_mb", "#d62728")]),
            ("open fds and threads", [("fds", "#2ca02c"), ("threads", "#9467bd")]),
            ("connection-table entries", [("conns", "#ff7f0e")]),
        ]
        dur = max([x["t"] for x in smp] + [1])
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{T + (H + 40) * (len(panels) + 1)}" '
               'font-family="sans-serif" font-size="11">',
               f'<text x="{L}" y="18" font-size="14">jvs soak: {self.s.a.minutes} min, DR/NAT/FULLNAT, '
               f'HTTP short + keep-alive + UDP; jvsadm change 1/s, flap /10 s, SIGHUP /min</text>']
        def frame(y0, title, ymax):
            out.append(f'<text x="{L}" y="{y0 - 6}">{title}</text>')
            out.append(f'<rect x="{L}" y="{y0}" width="{W - L - R}" height="{H}" fill="none" stroke="#999"/>')
            for i in range(5):
                yv = ymax * i / 4
                yy = y0 + H - H * i / 4
                out.append(f'<text x="{L - 6}" y="{yy + 4}" text-anchor="end">{yv:.0f}</text>')
            for mnt in range(0, int(dur // 60) + 1):
                xx = L + (W - L - R) * mnt * 60 / dur
                out.append(f'<line x1="{xx:.1f}" y1="{y0}" x2="{xx:.1f}" y2="{y0 + H}" stroke="#eee"/>')
                out.append(f'<text x="{xx:.1f}" y="{y0 + H + 12}" text-anchor="middle">{mnt} min</text>')
        y0 = T + 20
        for title, series in panels:
            ymax = max([x[k] for x in smp for k, _ in series] + [1]) * 1.15
            frame(y0, title + " — " + ", ".join(f'<tspan fill="{c}">{k}</tspan>' for k, c in series), ymax)
            for k, c in series:
                pts = " ".join(f"{L + (W - L - R) * x['t'] / dur:.1f},{y0 + H - H * x[k] / ymax:.1f}" for x in smp)
                out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.5"/>')
            y0 += H + 40
        # requests per 5 s and failures
        buckets = int(dur // 5) + 1
        okb, lvb, frb = [0] * buckets, [0] * buckets, [0] * buckets
        for r, c in zip(self.reqs, cls):
            b = min(buckets - 1, max(0, int((r[2] - self.t0) // 5)))
            (okb if c == "ok" else lvb if c == "leaving" else frb)[b] += 1
        ymax = max(okb + [1]) / 5 * 1.15
        frame(y0, 'requests/s (<tspan fill="#7f7f7f">ok</tspan>), failures in 5 s (<tspan fill="#bcbd22">'
                  'server leaving</tspan>, <tspan fill="#d62728">server in rotation</tspan>)', ymax)
        pts = " ".join(f"{L + (W - L - R) * (i * 5 + 2.5) / dur:.1f},{y0 + H - H * (okb[i] / 5) / ymax:.1f}" for i in range(buckets))
        out.append(f'<polyline points="{pts}" fill="none" stroke="#7f7f7f" stroke-width="1.5"/>')
        for i in range(buckets):
            xx = L + (W - L - R) * (i * 5 + 2.5) / dur
            if lvb[i]:
                out.append(f'<circle cx="{xx:.1f}" cy="{y0 + H - 4}" r="{min(8, 2 + lvb[i])}" fill="#bcbd22"/>')
            if frb[i]:
                out.append(f'<circle cx="{xx:.1f}" cy="{y0 + 8}" r="{min(8, 2 + frb[i])}" fill="#d62728"/>')
        out.append("</svg>")
        open(path, "w").write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--minutes", type=int, required=True)
    r.add_argument("--prefix", required=True)
    r.add_argument("--repo", required=True)
    r.add_argument("--tmp", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--commit", default="unknown")
    c = sub.add_parser("client")
    c.add_argument("--until", type=float, required=True)
    c.add_argument("--out", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--bind", required=True)
    e.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    if a.cmd == "echo":
        signal.signal(signal.SIGTERM, lambda *x: sys.exit(0))
        echo(a.bind.split(","), a.port)
    elif a.cmd == "client":
        signal.signal(signal.SIGTERM, lambda *x: sys.exit(0))
        client(a.until, a.out)
    else:
        s = Soak(a)
        def bye(*x):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, bye)
        try:
            sys.exit(s.run())
        finally:
            s.stop_all()


if __name__ == "__main__":
    main()
