#!/usr/bin/env python3
"""scripts/bench's report: raw measurements (TSV) -> markdown table + SVG chart.

usage: report.py META.env STATUS.tsv RAW.tsv OUT.md OUT.svg

RAW.tsv lines: peer, scenario, param, run, "k=v k=v ..." (one measurement each).
Every figure in the tables is the median over the repeated runs with [min-max].
"""
import html
import re
import statistics
import sys
from collections import defaultdict

meta_path, status_path, raw_path, md_path, svg_path = sys.argv[1:6]

meta = {}
for line in open(meta_path):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        meta[k] = v

status = []  # (peer, status, scenarios)
servers_of, attach_of, versus_of = {}, {}, {}
for line in open(status_path):
    f = line.rstrip("\n").split("\t")
    p, st, scen = f[0], f[1], f[2]
    servers_of[p] = f[3] if len(f) > 3 else "rs"
    attach_of[p] = f[4] if len(f) > 4 else "-"
    if len(f) > 5 and f[5] not in ("", "-"):
        versus_of[p] = f[5]  # the peers table's last column: this peer's kernel peer (IPv6 section)
    status.append((p, st, scen.split()))
peer_order = [p for p, _, _ in status]
status_of = {p: st for p, st, _ in status}
scen_of = {p: sc for p, _, sc in status}

# data[peer][scenario][param] -> list of dicts
data = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
jvs_metrics = defaultdict(list)
for line in open(raw_path):
    f = line.rstrip("\n").split("\t")
    if len(f) < 5:
        continue
    peer, scen, param, run, rest = f[0], f[1], f[2], f[3], "\t".join(f[4:])
    if scen == "metrics":
        jvs_metrics[peer].append(rest)
        continue
    kv = {}
    for tok in rest.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                kv[k] = float(v)
            except ValueError:
                kv[k] = v
    data[peer][scen][param].append(kv)


def values(peer, scen, param, key):
    return [r[key] for r in data[peer][scen].get(param, []) if key in r and "failed" not in r]


def one_param(peer, scen):
    ps = list(data[peer][scen].keys())
    return ps[0] if ps else None


def stats(vs):
    if not vs:
        return None
    return statistics.median(vs), min(vs), max(vs)


def fmt_num(x, unit=""):
    if x is None:
        return "—"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    elif abs(x) >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def cell(st, unit=""):
    if st is None:
        return "—"
    med, lo, hi = st
    if lo == hi:
        return fmt_num(med, unit)
    return f"{fmt_num(med, unit)} [{fmt_num(lo)}–{fmt_num(hi)}]"


def scen_stat(peer, scen, key):
    p = one_param(peer, scen)
    return stats(values(peer, scen, p, key)) if p else None


def failed_runs(peer, scen):
    return sum(1 for p in data[peer][scen] for r in data[peer][scen][p] if "failed" in r)


# ---------------------------------------------------------------- UDP curve
def udp_rates(peer):
    return sorted(data[peer]["udp"].keys(), key=lambda r: int(r))


def udp_point(peer, rate):
    rs = [r for r in data[peer]["udp"][rate] if "delivered_pps" in r]
    if not rs:
        return None
    return {k: statistics.median([r[k] for r in rs if k in r]) for k in rs[0] if isinstance(rs[0][k], float)}


def udp_max(peer):
    pts = [udp_point(peer, r) for r in udp_rates(peer)]
    pts = [p for p in pts if p]
    if not pts:
        return None
    best = max(pts, key=lambda p: p["delivered_pps"])
    # min/max of the delivered rate over the runs at the best step
    rate = [r for r in udp_rates(peer) if udp_point(peer, r) is best or udp_point(peer, r) == best][0]
    vs = values(peer, "udp", rate, "delivered_pps")
    return best, (statistics.median(vs), min(vs), max(vs))


def udp_no_loss(peer, threshold=0.1):
    """Highest offered rate (measured) below which every step lost < threshold %."""
    best = None
    for r in udp_rates(peer):
        p = udp_point(peer, r)
        if not p:
            continue
        if p["loss_pct"] < threshold:
            best = p["offered_pps"]
        else:
            break
    return best


def udp_generator_bound(peer):
    """No loss even at the highest step: the peer's limit lies beyond what the generator offered."""
    rs = udp_rates(peer)
    p = udp_point(peer, rs[-1]) if rs else None
    return bool(p) and p["loss_pct"] < 0.1


def worker_shares(rows, key="worker_rx"):
    """Per-worker share (%) of the summed KEY=d0:d1:.. of some runs; None without them."""
    tot = None
    for r in rows:
        v = r.get(key)
        if v is None:
            continue
        parts = [float(x) for x in str(v).split(":")] if isinstance(v, str) else [v]
        tot = parts if tot is None else [a + b for a, b in zip(tot, parts)]
    if not tot or sum(tot) <= 0:
        return None
    return [100 * x / sum(tot) for x in tot]


def fmt_shares(sh):
    return "/".join(f"{x:.0f}" for x in sh) if sh else "—"


def scen_rows(peer, scen):
    return [r for p in data[peer][scen] for r in data[peer][scen][p] if "failed" not in r]


def balance_cell(peer):
    """Worker shares of received frames per scenario (workers >= 2), e.g. 'short 52/48, udp 50/50'."""
    parts = []
    for scen, label in (("short", "short"), ("keepalive", "ka"), ("latency", "lat"), ("udp", "udp")):
        sh = worker_shares(scen_rows(peer, scen)) if scen in data[peer] else None
        if sh:
            conns = worker_shares(scen_rows(peer, scen), "worker_conns") if scen == "short" else None
            parts.append(f"{label} {fmt_shares(sh)}" + (f" (connections {fmt_shares(conns)})" if conns else ""))
    return ", ".join(parts)


udp_peers = [p for p in peer_order if status_of[p] == "ok" and data.get(p, {}).get("udp") and udp_max(p)]


# ---------------------------------------------------------------- markdown
out = []
w = out.append
quick = meta.get("mode") == "quick"
w(f"# jvs load benchmark — {meta['date']} on {meta['host']}{' (--quick)' if quick else ''}")
w("")
w(f"Measured by `{meta['argv']}` in {int(meta['elapsed_s']) // 60} min {int(meta['elapsed_s']) % 60} s. "
  "Every peer ran in the same run on the same namespace lab (client — router — LAN bridge — director, "
  "2 nginx real servers on the LAN; the TUN peers' 2 behind the router on its second segment, the two-NIC peers' 2 behind "
  "the director's eth1, each peer's set in the results table); each figure is the **median [min–max]** over the repeated runs "
  f"({meta['repeat']} for HTTP and iperf3, {meta['udp_repeat']} per UDP rate).")
w("")
w(f"- client side: {meta.get('clients', '1')} client address(es) (10.0.1.2 and up, each its own namespace but the first; "
  "one wrk per address and URL, the connections split between them; the UDP frames cycle through the addresses), "
  "so that the PACKET_FANOUT hash of the client address spreads connections over `--workers 2`")
w(f"- machine: {meta['cpu']}, **{meta['cores']} cores** shared by the generators, the director and the real servers; "
  f"kernel {meta['kernel']}; load average before {meta['load_before']}, after {meta['load_after']}")
w(f"- versions: jvs {meta['jvs']}; {meta['jdk']}; wrk {meta['wrk']}; iperf3 {meta['iperf3']}; trafgen {meta['trafgen']}; "
  f"haproxy {meta['haproxy']}; nginx {meta['nginx']}; nftables {meta['nft']}")
w("")

# ---- summary
lat_rate = meta.get("lat_rate") or "?"
w("## Results")
w("")
TOPO = {"rs": "LAN (rs1, rs2)", "ts": "TUN segment (ts1, ts2)", "nrs": "two-NIC (nrs1, nrs2 behind eth1)",
        "rs6": "LAN over IPv6 (rs1, rs2)", "ts6": "TUN segment over IPv6 (ts1, ts2)"}
w(f"| peer | servers | short conn/s | keep-alive req/s | keep-alive p50 / p99 / p99.9 µs | at {lat_rate} req/s: p50 / p99 / p99.9 µs "
  "| UDP 64 B max delivered pps | UDP no-loss rate | UDP loss % at each step (asked kpps: loss) "
  "| CPU ms per Mpkt (director process / machine) | iperf3 1 stream Gbit/s | iperf3 16 streams Gbit/s "
  "| --workers 2: each worker's share, % (w0/w1), of the frames received per scenario (short: and of the connections scheduled) |")
w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for peer in peer_order:
    st = status_of[peer]
    topo = TOPO.get(servers_of.get(peer, "rs"), servers_of.get(peer, "rs"))
    if st != "ok":
        w(f"| {peer} | {topo} | {st} | | | | | | | | | | |")
        continue
    sc = scen_of[peer]

    def c(scen, key, unit=""):
        if scen not in sc:
            return "n/a"
        if failed_runs(peer, scen) and not data[peer][scen]:
            return "FAILED"
        s = cell(scen_stat(peer, scen, key), unit)
        nf = failed_runs(peer, scen)
        return s + (f" ({nf} failed)" if nf else "")

    def lat(scen):
        if scen not in sc:
            return "n/a"
        ps = [scen_stat(peer, scen, k) for k in ("p50_us", "p99_us", "p999_us")]
        if any(p is None for p in ps):
            return "—"
        txt = " / ".join(fmt_num(p[0]) for p in ps)
        if scen == "latency":
            r = scen_stat(peer, scen, "rps")
            txt += f" (achieved {fmt_num(r[0])} req/s)" if r else ""
        return txt

    if "udp" in sc and data[peer]["udp"] and udp_max(peer):
        m = udp_max(peer)
        udp_cell = cell(m[1]) if m else "—"
        nl = udp_no_loss(peer)
        nl_cell = fmt_num(nl) if nl is not None else "< lowest step"
        if udp_generator_bound(peer):
            udp_cell = "≥ " + udp_cell + " ¹"
            if nl is not None:  # a loss at a lower step stays "< lowest step"
                nl_cell = "≥ " + nl_cell + " ¹"
        best = m[0] if m else {}
        cpu = "—"
        if best:
            proc = best.get("proc_ms_per_mpkt")
            cpu = f"{fmt_num(proc) if proc is not None else '—'} / {fmt_num(best.get('busy_ms_per_mpkt'))}"
    else:
        udp_cell = nl_cell = cpu = "n/a"
    if "udp" in sc and data[peer]["udp"]:
        steps = []
        for r in udp_rates(peer):
            pt = udp_point(peer, r)
            steps.append(f"{int(r) // 1000}: {pt['loss_pct']:.1f}" if pt else f"{int(r) // 1000}: —")
        loss_cell = ", ".join(steps)
    else:
        loss_cell = "n/a"
    if attach_of.get(peer, "-").endswith("-w2"):
        bal = balance_cell(peer) or "—"
    elif peer.startswith("jvs-"):
        bal = "1 worker"
    else:
        bal = "n/a"
    w(f"| {peer} | {topo} | {c('short', 'rps')} | {c('keepalive', 'rps')} | {lat('keepalive')} | {lat('latency')} "
      f"| {udp_cell} | {nl_cell} | {loss_cell} | {cpu} | {c('iperf1', 'gbps')} | {c('iperf16', 'gbps')} | {bal} |")
w("")
w("¹ no loss even at the highest rate step: this peer's limit lies beyond what the generator (trafgen on the same 2 cores) "
  "could offer, so the figure is a lower bound, and a ratio of jvs to it is an upper bound.")
w("")
w("n/a: the scenario does not apply to that peer (haproxy does not forward UDP; kernel-fwd routes the VIP to rs1 only "
  "and stands for plain kernel forwarding in the UDP and latency scenarios; kernel-fwd6 routes the VIP6 to rs1 only too, "
  "so its HTTP figures are one nginx's where the balancing peers have two).")
w("")

# ---- targets
def med(peer, scen, key):
    s = scen_stat(peer, scen, key) if peer in data else None
    return s[0] if s else None


def ratio_line(name, num, den, target, fmt="{:.2f}x", cmp="ge"):
    if num is None or den is None or den == 0:
        return f"| {name} | — | {target} | not measured |"
    r = num / den
    ok = r >= float(target.split("x")[0].lstrip(">= ")) if cmp == "ge" else None
    return f"| {name} | {fmt.format(r)} ({fmt_num(num)} / {fmt_num(den)}) | {target} | {'met' if ok else '**MISSED**'} |"


w("## Targets (issue 3), measured in this run")
w("")
w("| target | measured | wanted | verdict |")
w("|---|---|---|---|")
w(ratio_line("HTTP short conn/s: jvs DR (packet) / haproxy", med("jvs-dr-packet", "short", "rps"), med("haproxy", "short", "rps"), ">= 1.0x"))
w(ratio_line("HTTP short conn/s: jvs DR (TAP) / haproxy", med("jvs-dr-tap", "short", "rps"), med("haproxy", "short", "rps"), ">= 1.0x"))
w(ratio_line("HTTP short conn/s: jvs NAT (packet) / kernel NAT", med("jvs-nat-packet", "short", "rps"), med("kernel-nat", "short", "rps"), ">= 0.8x"))
w(ratio_line("HTTP short conn/s: jvs NAT (TAP) / kernel NAT", med("jvs-nat-tap", "short", "rps"), med("kernel-nat", "short", "rps"), ">= 0.8x"))
w(ratio_line("HTTP short conn/s: jvs NAT (XDP) / kernel NAT", med("jvs-nat-xdp", "short", "rps"), med("kernel-nat", "short", "rps"), ">= 0.8x"))
w(ratio_line("TCP bulk (iperf3, 1 stream): jvs NAT (XDP) / jvs NAT (packet)", med("jvs-nat-xdp", "iperf1", "gbps"), med("jvs-nat-packet", "iperf1", "gbps"), ">= 0.0x (reported: no GSO through XDP, issue 17)"))
# UDP
kf = udp_max("kernel-fwd") if "kernel-fwd" in udp_peers else None
for jp in ("jvs-dr-packet", "jvs-dr-tap", "jvs-dr-xdp"):
    jm = udp_max(jp) if jp in udp_peers else None
    if kf and jm:
        k = kf[0]["delivered_pps"]
        j = jm[0]["delivered_pps"]
        half = 0.5 * k
        losses = [(udp_point(jp, r)["offered_pps"], udp_point(jp, r)["loss_pct"]) for r in udp_rates(jp) if udp_point(jp, r)]
        below = [(o, l) for o, l in losses if o < half]
        lossy = [f"{fmt_num(o)} pps: {l:.2f} %" for o, l in below if l >= 0.1]
        ok = j >= half and not lossy
        verdict = ("met" if ok else "**MISSED**") if below else ("**MISSED**" if j < half else "undetermined: no rate step below that rate")
        if udp_generator_bound("kernel-fwd"):
            lossy_note = " — kernel-fwd lost nothing at any step (generator-bound): its true max is higher, so this ratio is an upper bound"
        else:
            lossy_note = ""
        w(f"| 64 B UDP delivered pps: {jp} / kernel-fwd (max over the rate steps) | {j / k:.2f}x ({fmt_num(j)} / {fmt_num(k)}); "
          f"loss below {fmt_num(half)} pps: {'; '.join(lossy) if lossy else ('none (< 0.1 % at every step below)' if below else 'no step was below it')}{lossy_note} | >= 0.5x, no loss below | {verdict} |")
    else:
        w(f"| 64 B UDP delivered pps: {jp} / kernel-fwd | — | >= 0.5x | not measured |")
d99 = med("direct", "latency", "p99_us")
j99 = med("jvs-dr-packet", "latency", "p99_us")
if d99 is not None and j99 is not None:
    added = j99 - d99
    w(f"| p99 added by jvs DR (packet) over direct at {lat_rate} req/s (half of its keep-alive max) | {added:+.0f} µs ({fmt_num(j99)} − {fmt_num(d99)}) | <= 100 µs | {'met' if added <= 100 else '**MISSED**'} |")
else:
    w("| p99 added by jvs DR over direct at half its max rate | — | <= 100 µs | not measured |")
sc1m = data.get("jvs-conntable", {}).get("scale", {}).get("1000000")
if sc1m:
    b = sc1m[0]["bytes_per_conn"]
    w(f"| memory per tracked connection at 1M (heap delta / entries) | {b:.0f} B | <= 256 B | {'met' if b <= 256 else '**MISSED**'} |")
for jp in udp_peers:
    if not jp.startswith("jvs-"):
        continue
    pts = [x for r in udp_rates(jp) for x in data[jp]["udp"][r] if "alloc_kb_per_s" in x]
    if len(pts) < 2:
        continue
    lo = min(pts, key=lambda x: x["delivered_pps"])
    hi = max(pts, key=lambda x: x["delivered_pps"])
    dpps = hi["delivered_pps"] - lo["delivered_pps"]
    # marginal bytes per extra packet per second: what grows with the rate is per-packet (or per-burst)
    slope = (hi["alloc_kb_per_s"] - lo["alloc_kb_per_s"]) * 1024 / dpps if dpps > 0 else 0.0
    grows = slope >= 0.5
    if lo["delivered_pps"] <= 0 or hi["delivered_pps"] < 1.5 * lo["delivered_pps"]:
        # the steps delivered about the same rate (a generator or peer limit): no slope to read
        w(f"| no allocation per packet, live ({jp}): `jvs_event_loop_allocated_bytes_total` during the UDP steps "
          f"| {lo['alloc_kb_per_s']:.0f} KB/s at {fmt_num(lo['delivered_pps'])} pps, {hi['alloc_kb_per_s']:.0f} KB/s at {fmt_num(hi['delivered_pps'])} pps "
          f"| ~0 B/packet | undetermined: the delivered rates differ by less than 1.5x |")
        continue
    w(f"| no allocation per packet, live ({jp}): `jvs_event_loop_allocated_bytes_total` during the UDP steps "
      f"| {lo['alloc_kb_per_s']:.0f} KB/s at {fmt_num(lo['delivered_pps'])} pps, {hi['alloc_kb_per_s']:.0f} KB/s at {fmt_num(hi['delivered_pps'])} pps: "
      f"{slope:.2f} B per additional packet | ~0 B/packet | "
      f"{'**MISSED**: allocation grows with the packet rate' if grows else 'met per packet (what remains is time-based: periodic tasks)'} |")
w("")

# ---- issue 13: workers, the two-NIC director, TUN
def reported(name, num, den, wanted="reported", le=None, ge=None):
    if num is None or den is None or den == 0:
        return f"| {name} | — | {wanted} | not measured |"
    r = num / den
    verdict = "reported"
    if ge is not None:
        verdict = "met" if r >= ge else "**MISSED**"
    if le is not None:
        verdict = "met" if r <= le else "**MISSED**"
    return f"| {name} | {r:.2f}x ({fmt_num(num)} / {fmt_num(den)}) | {wanted} | {verdict} |"


def udp_best(peer):
    m = udp_max(peer) if peer in udp_peers else None
    return m[0] if m else None


def udp_best_key(peer, key):
    b = udp_best(peer)
    return b.get(key) if b else None


rows13 = []
for jp in ("jvs-nat-packet", "jvs-nat-packet-w2", "jvs-nat-tap"):
    rows13.append(reported(f"HTTP short conn/s: {jp} / kernel-nat", med(jp, "short", "rps"), med("kernel-nat", "short", "rps"), ">= 1.0x", ge=1.0))
for base in ("jvs-dr-packet", "jvs-nat-packet", "jvs-fullnat-packet", "jvs-tun-packet", "jvs-nat2nic-packet", "jvs-dr-xdp"):
    w2 = base + "-w2"
    if w2 in data or base in data:
        rows13.append(reported(f"HTTP short conn/s: {w2} / {base} (workers 2 vs 1)", med(w2, "short", "rps"), med(base, "short", "rps")))
        rows13.append(reported(f"HTTP keep-alive req/s: {w2} / {base}", med(w2, "keepalive", "rps"), med(base, "keepalive", "rps")))
        rows13.append(reported(f"UDP 64 B max delivered pps: {w2} / {base}", udp_best_key(w2, "delivered_pps"), udp_best_key(base, "delivered_pps")))
for jp in ("jvs-dr-packet", "jvs-dr-packet-w2", "jvs-nat-packet", "jvs-nat-packet-w2", "jvs-dr-xdp", "jvs-dr-xdp-w2"):
    rows13.append(reported(f"machine CPU per forwarded packet (busy ms/Mpkt at the best UDP step): {jp} / kernel-fwd",
                           udp_best_key(jp, "busy_ms_per_mpkt"), udp_best_key("kernel-fwd", "busy_ms_per_mpkt"), "<= 1.0x", le=1.0))
if "jvs-dr-packet-nodrop" in data:
    rows13.append(reported("kernel ingress drop: machine CPU per forwarded packet (busy ms/Mpkt at the best UDP step), "
                           "jvs-dr-packet / jvs-dr-packet-nodrop", udp_best_key("jvs-dr-packet", "busy_ms_per_mpkt"),
                           udp_best_key("jvs-dr-packet-nodrop", "busy_ms_per_mpkt")))
    rows13.append(reported("kernel ingress drop: UDP 64 B max delivered pps, jvs-dr-packet / jvs-dr-packet-nodrop",
                           udp_best_key("jvs-dr-packet", "delivered_pps"), udp_best_key("jvs-dr-packet-nodrop", "delivered_pps")))
    rows13.append(reported("kernel ingress drop: HTTP short conn/s, jvs-dr-packet / jvs-dr-packet-nodrop",
                           med("jvs-dr-packet", "short", "rps"), med("jvs-dr-packet-nodrop", "short", "rps")))
for jp in ("jvs-nat2nic-packet", "jvs-nat2nic-packet-w2", "jvs-nat2nic-tap"):
    rows13.append(reported(f"two-NIC NAT, HTTP short conn/s: {jp} / kernel-nat2nic", med(jp, "short", "rps"), med("kernel-nat2nic", "short", "rps"), ">= 1.0x", ge=1.0))
    rows13.append(reported(f"two-NIC NAT, HTTP keep-alive req/s: {jp} / kernel-nat2nic", med(jp, "keepalive", "rps"), med("kernel-nat2nic", "keepalive", "rps")))
    rows13.append(reported(f"two-NIC NAT, UDP 64 B max delivered pps: {jp} / kernel-nat2nic", udp_best_key(jp, "delivered_pps"), udp_best_key("kernel-nat2nic", "delivered_pps")))
for jp in ("jvs-tun-packet", "jvs-tun-tap"):
    rows13.append(reported(f"TUN (agent decapsulation), HTTP short conn/s: {jp} / jvs-dr-packet", med(jp, "short", "rps"), med("jvs-dr-packet", "short", "rps")))
    rows13.append(reported(f"TUN, UDP 64 B max delivered pps: {jp} / jvs-dr-packet", udp_best_key(jp, "delivered_pps"), udp_best_key("jvs-dr-packet", "delivered_pps")))
rows13 = [r for r in rows13 if not r.endswith("| not measured |")]
if rows13:
    w("## Workers, the two-NIC director and TUN (issue 13), measured in this run")
    w("")
    w("Ratios of medians between peers of this run; \"reported\" rows have no target. Worker shares of each "
      "-w2 peer are in the results table's last column.")
    w("")
    w("| ratio | measured | wanted | verdict |")
    w("|---|---|---|---|")
    for r in rows13:
        w(r)
    w("")
# ---- issue 16: IPv6, each jvs peer against its IPv6 kernel peer of the same run
def p99(peer):
    return med(peer, "latency", "p99_us")


rows16 = []
KERNEL_WHAT = {"kernel-fwd6": "kernel routing of the VIP6 to rs1", "kernel-nat6": "nftables ip6 DNAT",
               "kernel-fullnat6": "nftables ip6 DNAT + SNAT to the local address"}
v6_peers = [p for p in peer_order if servers_of.get(p, "rs").endswith("6")]
for jp in v6_peers:
    kp = versus_of.get(jp)
    if not kp:
        continue
    what = KERNEL_WHAT.get(kp)
    rows16.append(reported(f"HTTP short conn/s: {jp} / {kp}" + (f" ({what})" if what else ""), med(jp, "short", "rps"), med(kp, "short", "rps")))
    rows16.append(reported(f"HTTP keep-alive req/s: {jp} / {kp}", med(jp, "keepalive", "rps"), med(kp, "keepalive", "rps")))
    rows16.append(reported(f"p99 µs at {lat_rate} req/s: {jp} / {kp} (lower is better)", p99(jp), p99(kp)))
    rows16.append(reported(f"UDP 64 B max delivered pps: {jp} / {kp}", udp_best_key(jp, "delivered_pps"), udp_best_key(kp, "delivered_pps")))
    rows16.append(reported(f"machine CPU per forwarded packet (busy ms/Mpkt at the best UDP step): {jp} / {kp}",
                           udp_best_key(jp, "busy_ms_per_mpkt"), udp_best_key(kp, "busy_ms_per_mpkt")))
    rows16.append(reported(f"iperf3 1 stream Gbit/s (to rs1): {jp} / {kp}", med(jp, "iperf1", "gbps"), med(kp, "iperf1", "gbps")))
# haproxy6 terminates TCP on the director: the proxy every IPv6 method is also set against for new connections
for jp in v6_peers:
    if jp in versus_of:
        rows16.append(reported(f"HTTP short conn/s: {jp} / haproxy6", med(jp, "short", "rps"), med("haproxy6", "short", "rps")))
# TUN against DR of the same family, as the IPv4 section does
rows16.append(reported("HTTP short conn/s: jvs-tun6-packet / jvs-dr6-packet", med("jvs-tun6-packet", "short", "rps"), med("jvs-dr6-packet", "short", "rps")))
# each IPv6 peer against its IPv4 namesake (jvs-nat6-tap / jvs-nat-tap, haproxy6 / haproxy, ...), where both ran
for p6 in v6_peers:
    p4 = re.sub(r"6(?=-|$)", "", p6, count=1)
    rows16.append(reported(f"IPv6 / IPv4, HTTP short conn/s: {p6} / {p4}", med(p6, "short", "rps"), med(p4, "short", "rps")))
    rows16.append(reported(f"IPv6 / IPv4, UDP 64 B max delivered pps: {p6} / {p4}", udp_best_key(p6, "delivered_pps"), udp_best_key(p4, "delivered_pps")))
rows16 = [r for r in rows16 if not r.endswith("| not measured |")]
d6, j6 = p99("direct6"), p99("jvs-dr6-packet")
if d6 is not None and j6 is not None:
    rows16.append(f"| p99 added by jvs-dr6-packet over direct6 at {lat_rate} req/s | {j6 - d6:+.0f} µs ({fmt_num(j6)} − {fmt_num(d6)}) | reported | reported |")
if rows16:
    w("## IPv6 (issue 16), measured in this run")
    w("")
    w("Ratios of medians between peers of this run: each jvs IPv6 peer against its IPv6 kernel peer, the last column "
      "of scripts/bench.d/peers (DR and TUN: kernel-fwd6, the director's kernel routing the VIP6 to rs1, one nginx, the "
      "replies bypassing the director as theirs do; NAT: kernel-nat6, nftables ip6 DNAT over both; FULLNAT: "
      "kernel-fullnat6, that DNAT plus SNAT to the local address), against haproxy6, and IPv6 against IPv4 where both ran. "
      "IPv6 UDP frames are 64 bytes (its smallest above IPv4's 60).")
    w("")
    w("| ratio | measured | wanted | verdict |")
    w("|---|---|---|---|")
    for r in rows16:
        w(r)
    w("")
w("JMH B/op for every per-packet, scheduler and connection-table benchmark: `scripts/bench --micro` "
  "(its own results file, `*-micro.md`).")
w("")

# ---- UDP curve
if udp_peers:
    w("## UDP loss curve (64-byte frames)")
    w("")
    w("Offered = frames the client sent (its eth0 tx counter), delivered = frames counted by an nftables counter in each "
      "real server's input hook (then dropped); per step: delivered pps (loss %), medians; for --workers 2 peers "
      "\"w A/B\": each worker's share of the frames it received (jvs_worker_rx_frames_total) during the step, %.")
    w("")
    rates = udp_rates(udp_peers[0])
    w("| peer | " + " | ".join(f"{int(r) // 1000}k pps asked" for r in rates) + " |")
    w("|---|" + "---|" * len(rates))
    for p in udp_peers:
        cells = []
        for r in rates:
            pt = udp_point(p, r) if r in data[p]["udp"] else None
            sh = worker_shares(data[p]["udp"][r]) if r in data[p]["udp"] else None
            cells.append("—" if not pt else f"{fmt_num(pt['offered_pps'])} → {fmt_num(pt['delivered_pps'])} ({pt['loss_pct']:.1f} %)"
                         + (f" w {fmt_shares(sh)}" if sh else ""))
        w(f"| {p} | " + " | ".join(cells) + " |")
    w("")
    w("CPU per million delivered packets at the best step: *director process* = utime + stime of the jvs JVM "
      "(/proc/PID/stat) — the kernel's AF_PACKET/TAP work on its behalf runs in softirq and is not in it; "
      "*machine* = all non-idle CPU time of the machine (/proc/stat user+nice+system+irq+softirq), generator and "
      "real servers included, the only fair figure for the kernel peers, whose work is all softirq.")
    w("")
    w("| peer | offered → delivered pps at best step | director process ms/Mpkt | machine busy ms/Mpkt | machine softirq ms/Mpkt | jvs RX ring drops |")
    w("|---|---|---|---|---|---|")
    for p in udp_peers:
        b = udp_max(p)[0]
        w(f"| {p} | {fmt_num(b['offered_pps'])} → {fmt_num(b['delivered_pps'])} | {fmt_num(b.get('proc_ms_per_mpkt'))} "
          f"| {fmt_num(b.get('busy_ms_per_mpkt'))} | {fmt_num(b.get('softirq_ms_per_mpkt'))} | {fmt_num(b.get('ring_drops'))} |")
    w("")

# ---- scale
sc = data.get("jvs-conntable", {}).get("scale", {})
if sc:
    w("## Connection table scale")
    w("")
    w("`io.jvs.bench.scale.ConnTableScale`: the forwarder's `ConnectionTable` in one JVM (not through the lab). "
      "*Heap per connection* = live heap after filling a table of capacity N with N TCP connections minus live heap "
      "before creating it (MemoryMXBean after System.gc()), / N; *footprint* = the table's own array accounting "
      "(`footprintBytes()`). *New connections/s while full*: one thread doing, per connection, remove the oldest entry + "
      "lookupIn miss + rr pick + insert + update (SYN), with the table at N live entries.")
    w("")
    w("| entries | capacity | heap per connection | footprint per connection | new connections/s while full |")
    w("|---|---|---|---|---|")
    for n in sorted(sc, key=int):
        r = sc[n][0]
        w(f"| {int(n):,} | {int(r['capacity']):,} | {r['bytes_per_conn']:.0f} B | {r['footprint_per_conn']:.0f} B | {fmt_num(r['new_conn_per_s'])} |")
    w("")

# ---- jvs metrics
if jvs_metrics:
    w("## jvs counters at the end of each peer's run (non-zero drops, RX ring drops, table entries)")
    w("")
    w("```")
    for p, lines in jvs_metrics.items():
        for l in lines:
            w(f"{p}: {l}")
    w("```")
    w("")

# ---- how
w("## How it was measured")
w("")
w(f"- **short**: {meta['wrk_c']} connections in all, `wrk -t1 -cC -d{meta['wrk_d']}s --timeout 2s -H 'Connection: close' -s scripts/bench.d/wrk-report.lua http://10.0.0.100/` "
  f"from each of the {meta.get('clients', '1')} client addresses (direct: one wrk per client address and real server `http://10.0.0.1N:8080/`), "
  "the connections split between the instances, rates summed, latency the worst instance's.")
w(f"- **keep-alive**: the same without `Connection: close`.")
w(f"- **latency at a fixed rate**: keep-alive, each connection waits {meta['lat_delay_ms']} ms before each request "
  f"(wrk `delay()`), with enough connections for {lat_rate} req/s = half of jvs-dr-packet's keep-alive median; "
  "latency counts from send to response, not the wait. Same offered rate for every peer.")
w(f"- **UDP**: `trafgen -o eth0 -P 1 -Q -b RATEpps -n RATE*{meta['udp_d']}` in the client namespace, 60-byte frames "
  "(18-byte payload) from 16 source ports and every client address to VIP:9000 (direct: to each real server's :9000), rates "
  f"{', '.join(meta['udp_rates'].split())} pps asked.")
w(f"- **iperf3**: `iperf3 -c 10.0.0.100 -p 5201 -t {meta['iperf_d']} -P 1|16 -J` to rs1 (direct: rs1:5202, whose replies go to the router).")
w("- **peers**: direct = client → router → real server :8080 (replies straight back through the router); "
  "kernel-fwd = director with ip_forward=1 and `ip route add 10.0.0.100/32 via 10.0.0.11` (router: static neighbour VIP → director); "
  "kernel-nat = VIP on the director's eth0, ip_forward=1, "
  "`nft ... dnat to numgen inc mod 2 map { 0 : 10.0.0.11, 1 : 10.0.0.12 }` (replies return through the director: the real servers' default route); "
  "haproxy = `mode tcp`, `balance roundrobin`, `nbthread 1`, VIP local on the director, server-side connections from 10.0.0.2; "
  "jvs = `bin/jvs-forwarder --attach packet:eth0 --workers 1` (`-w2`: `--workers 2`), `--attach tap:jvsb0 --lan eth0 --workers 1` "
  "or `--attach xdp:eth0` with an ipvsadm config "
  "(`-A -t 10.0.0.100:80 -s rr`, `-a ... -g|-m|-i|--fullnat`, same for -u :9000 and -t :5201 → the first real server), IPVS default timeouts; "
  "jvs-tun-* = `-i` (IPIP) to ts1, ts2 on the lab's second segment behind the router, decapsulated by the lab's jvs-agent "
  "(userspace, a TUN device holding the VIP), replies straight through the router; "
  "two-NIC (`scripts/lab up --nat-two-nic`): the real servers nrs1, nrs2 on 10.0.3.0/24 behind the director's eth1, their default gateway; "
  "jvs-nat2nic-* = `--attach packet:eth0 --attach packet:eth1` or `--attach tap:jvsb0 --lan eth0 --lan eth1`, "
  "kernel-nat2nic = kernel-nat's nftables DNAT to nrs1, nrs2 on that director.")
w("- **IPv6 peers** (servers \"LAN over IPv6\"): the same rs1, rs2 at 2001:db8::11, ::12, the VIP6 2001:db8::100 (on-link on the LAN), "
  "the client addresses 2001:db8:1::2 and up; wrk to `http://[2001:db8::100]/` (direct6: `http://[2001:db8::1N]:8080/`), "
  "UDP 64-byte frames (14 + 40 + 8 + 2) to [VIP6]:9000, `iperf3 -c 2001:db8::100 -p 5201` (direct6: 2001:db8::11 -p 5202). "
  "jvs-{dr6,nat6,fullnat6,tun6}-packet = `--attach packet:eth0 --workers 1`, jvs-{dr6,nat6}-tap = `--attach tap:jvsb0 --lan eth0 --workers 1`, with "
  "`-A -t [2001:db8::100]:80 -s rr`, `-a ... -r [2001:db8::1N]:80 -g|-m|--fullnat` (DR: the VIP6 on the real servers' lo by "
  "`jvs-agent up --mode dr --vip 2001:db8::100`, down afterwards; NAT: their IPv6 default route is the director, the lab's; "
  "FULLNAT: `--laddr 2001:db8::50`); jvs-tun6-packet: `-r [2001:db8:2::1N]:80 -i` (ip6ip6) to ts1, ts2 on the TUN segment "
  "(\"TUN segment over IPv6\"), the lab's jvs-agent decapsulating there with the VIP6 on its jvs-tun0; "
  "kernel-fwd6 = IPv6 forwarding on and `ip -6 route add 2001:db8::100/128 via 2001:db8::11` (router: static neighbour VIP6 → "
  "director; the VIP6 on rs1's lo as for DR); kernel-nat6 = the VIP6 on the director's eth0, IPv6 forwarding on, "
  "`nft ... table ip6 ... dnat to numgen inc mod 2 map { 0 : 2001:db8::11, 1 : 2001:db8::12 }`; kernel-fullnat6 = that, and "
  "2001:db8::50 on the director's eth0 with `ip6 daddr { 2001:db8::11, 2001:db8::12 } snat to 2001:db8::50` in postrouting; haproxy6 = haproxy's "
  "configuration bound to `ipv6@2001:db8::100:80`, servers `ipv6@2001:db8::1N:80`. The director's IPv6 forwarding is "
  "0 for jvs (it refuses IPv6 services otherwise) and after every peer.")
w("- Absolute numbers on a shared 2-core VM are noisy; the ratios between peers of the same run are the result.")
w("")
not_run = [f"{p} ({st})" for p, st, _ in status if st != "ok"]
if not_run:
    w("Not run: " + "; ".join(not_run) + ". A listed peer joins by flipping its status in scripts/bench.d/peers.")
    w("")
open(md_path, "w").write("\n".join(out))

# ---------------------------------------------------------------- SVG
COLORS = {"direct": "#7f7f7f", "kernel-fwd": "#bcbd22", "kernel-nat": "#8c564b", "haproxy": "#9467bd",
          "jvs-dr-packet": "#1f77b4", "jvs-nat-packet": "#ff7f0e", "jvs-dr-tap": "#2ca02c", "jvs-nat-tap": "#d62728"}
PALETTE = ["#17becf", "#e377c2", "#aec7e8", "#ffbb78"]


def color(p):
    if p not in COLORS:
        COLORS[p] = PALETTE[len(COLORS) % len(PALETTE)]
    return COLORS[p]


ok_peers = [p for p in peer_order if status_of[p] == "ok"]
panels = [
    ("HTTP short connections/s", lambda p: scen_stat(p, "short", "rps") if "short" in scen_of[p] else None, 1),
    ("HTTP keep-alive requests/s", lambda p: scen_stat(p, "keepalive", "rps") if "keepalive" in scen_of[p] else None, 1),
    (f"p99 latency µs at {lat_rate} req/s (lower is better)", lambda p: scen_stat(p, "latency", "p99_us") if "latency" in scen_of[p] else None, 1),
    ("UDP 64 B max delivered kpps", lambda p: (lambda m: tuple(x / 1000 for x in m[1]) if m else None)(udp_max(p)) if p in udp_peers else None, 1),
    ("iperf3 1 stream Gbit/s", lambda p: scen_stat(p, "iperf1", "gbps") if "iperf1" in scen_of[p] else None, 1),
    ("iperf3 16 streams Gbit/s", lambda p: scen_stat(p, "iperf16", "gbps") if "iperf16" in scen_of[p] else None, 1),
]
PW, PH, COLS = 470, 250, 2
rows = (len(panels) + 1 + COLS - 1) // COLS
W, H = PW * COLS + 20, PH * rows + 110
s = []
s.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">')
s.append(f'<rect width="{W}" height="{H}" fill="white"/>')
s.append(f'<text x="10" y="20" font-size="15" font-weight="bold">{html.escape("jvs load benchmark — " + meta["date"] + " — " + meta["host"] + (" (--quick)" if quick else ""))}</text>')
s.append(f'<text x="10" y="38">{html.escape(meta["cpu"] + ", " + meta["cores"] + " cores; bars = median, whiskers = min–max over repeated runs")}</text>')
# legend
lx = 10
for p in ok_peers:
    s.append(f'<rect x="{lx}" y="48" width="10" height="10" fill="{color(p)}"/><text x="{lx + 14}" y="57">{html.escape(p)}</text>')
    lx += 16 + 7 * len(p) + 12


def bar_panel(x0, y0, title, fn):
    s.append(f'<text x="{x0 + 10}" y="{y0 + 16}" font-weight="bold">{html.escape(title)}</text>')
    items = [(p, fn(p)) for p in ok_peers]
    items = [(p, v) for p, v in items if v is not None]
    if not items:
        s.append(f'<text x="{x0 + 10}" y="{y0 + 40}">no data</text>')
        return
    top = max(v[2] for _, v in items) * 1.15 or 1
    gx, gy, gw, gh = x0 + 50, y0 + 28, PW - 70, PH - 70
    s.append(f'<line x1="{gx}" y1="{gy + gh}" x2="{gx + gw}" y2="{gy + gh}" stroke="#333"/>')
    for k in range(5):
        v = top * k / 4
        y = gy + gh - gh * k / 4
        s.append(f'<line x1="{gx}" y1="{y:.1f}" x2="{gx + gw}" y2="{y:.1f}" stroke="#eee"/>')
        s.append(f'<text x="{gx - 4}" y="{y + 4:.1f}" text-anchor="end">{html.escape(fmt_num(v))}</text>')
    bw = gw / len(items)
    for i, (p, (m, lo, hi)) in enumerate(items):
        bx = gx + i * bw + bw * 0.15
        w_ = bw * 0.7
        bh = gh * m / top
        s.append(f'<rect x="{bx:.1f}" y="{gy + gh - bh:.1f}" width="{w_:.1f}" height="{bh:.1f}" fill="{color(p)}"><title>{html.escape(p)}: {html.escape(cell((m, lo, hi)))}</title></rect>')
        cx = bx + w_ / 2
        ylo, yhi = gy + gh - gh * lo / top, gy + gh - gh * hi / top
        s.append(f'<line x1="{cx:.1f}" y1="{ylo:.1f}" x2="{cx:.1f}" y2="{yhi:.1f}" stroke="#000"/>')
        s.append(f'<line x1="{cx - 4:.1f}" y1="{yhi:.1f}" x2="{cx + 4:.1f}" y2="{yhi:.1f}" stroke="#000"/>')
        s.append(f'<line x1="{cx - 4:.1f}" y1="{ylo:.1f}" x2="{cx + 4:.1f}" y2="{ylo:.1f}" stroke="#000"/>')
        s.append(f'<text x="{cx:.1f}" y="{gy + gh - bh - 4:.1f}" text-anchor="middle" font-size="9">{html.escape(fmt_num(m))}</text>')
        s.append(f'<text x="{cx:.1f}" y="{gy + gh + 12}" text-anchor="middle" font-size="8">{html.escape(p.replace("jvs-", ""))}</text>')


for i, (title, fn, _) in enumerate(panels):
    bar_panel(10 + (i % COLS) * PW, 70 + (i // COLS) * PH, title, fn)

# loss curve panel
i = len(panels)
x0, y0 = 10 + (i % COLS) * PW, 70 + (i // COLS) * PH
s.append(f'<text x="{x0 + 10}" y="{y0 + 16}" font-weight="bold">UDP offered vs delivered kpps (64 B)</text>')
curves = {p: [udp_point(p, r) for r in udp_rates(p)] for p in udp_peers}
curves = {p: [c for c in cs if c] for p, cs in curves.items()}
allpts = [c for cs in curves.values() for c in cs]
if allpts:
    top = max(max(c["offered_pps"], c["delivered_pps"]) for c in allpts) * 1.1
    gx, gy, gw, gh = x0 + 50, y0 + 28, PW - 70, PH - 70
    s.append(f'<line x1="{gx}" y1="{gy + gh}" x2="{gx + gw}" y2="{gy + gh}" stroke="#333"/><line x1="{gx}" y1="{gy}" x2="{gx}" y2="{gy + gh}" stroke="#333"/>')
    s.append(f'<line x1="{gx}" y1="{gy + gh}" x2="{gx + gw}" y2="{gy}" stroke="#ccc" stroke-dasharray="4,3"/>')
    for k in range(5):
        v = top * k / 4
        s.append(f'<text x="{gx - 4}" y="{gy + gh - gh * k / 4 + 4:.1f}" text-anchor="end">{v / 1000:.0f}</text>')
        s.append(f'<text x="{gx + gw * k / 4:.1f}" y="{gy + gh + 14}" text-anchor="middle">{v / 1000:.0f}</text>')
    for p, cs in curves.items():
        pts = " ".join(f"{gx + gw * c['offered_pps'] / top:.1f},{gy + gh - gh * c['delivered_pps'] / top:.1f}" for c in cs)
        s.append(f'<polyline points="{pts}" fill="none" stroke="{color(p)}" stroke-width="2"/>')
        for c in cs:
            s.append(f'<circle cx="{gx + gw * c["offered_pps"] / top:.1f}" cy="{gy + gh - gh * c["delivered_pps"] / top:.1f}" r="2.5" fill="{color(p)}"><title>{html.escape(p)}: {fmt_num(c["offered_pps"])} → {fmt_num(c["delivered_pps"])} pps ({c["loss_pct"]:.2f} % loss)</title></circle>')
    s.append(f'<text x="{gx + gw / 2}" y="{gy + gh + 28}" text-anchor="middle">offered kpps (dashed: no loss)</text>')
s.append("</svg>")
open(svg_path, "w").write("\n".join(s))
