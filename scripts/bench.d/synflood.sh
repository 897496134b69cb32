#!/usr/bin/env bash
# scripts/bench --synflood [REPEAT] — the unpaced SYN flood of issue 15 (not CI):
#
#   hping3 -S --flood --rand-source at VIP:80 (DR, rr over rs1 and rs2, --conn-max 16384,
#   --drop-entry 1) from the client namespace for at most 30 s, while the same client opens 100
#   new connections (curl --parallel, 10 at a time, --connect-timeout 8 --max-time 10);
#   configurations, REPEAT runs each (default 3):
#     dr-w2          --workers 2 (the default on 2 CPUs), generator unpinned
#     dr-w1          --workers 1, generator unpinned (main before --workers)
#     dr-w1-pinned   --workers 1 with the director on CPU 0 and hping3 on CPU 1 (taskset): one
#                    core each
#     dr-w2-paced    --workers 2, hping3 -i u20 (HostileTrafficIT's CI pace, <= 50,000 SYN/s)
#     synproxy-w2    the same flood at a NAT --synproxy service (VIP:81), --workers 2
#   Per run: connections that succeeded, the time the 100 took, the flood's rate as the director
#   received it (rx frames/s), frames the kernel dropped from the receive rings
#   (jvs_port_kernel_drops_total), each worker's share of frames and busy time, the CPU seconds
#   hping3 and the director used, half-open entries reclaimed, the data path's drops by reason,
#   curl's failures by message, and the load average.
#
# Brings up its own lab (JVS_LAB_PREFIX, default jvs-floodb-) and takes it down on exit; writes
# bench/results/<date>-<host>-synflood.txt. Every generator is bounded by timeout(1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here"
export JVS_LAB_PREFIX=${JVS_LAB_PREFIX:-jvs-floodb-}
P=$JVS_LAB_PREFIX
REPEAT=${1:-3}
VIP=10.0.0.100
METRICS=127.0.0.1:9110
out=bench/results/$(date -u +%Y-%m-%d-%H%M)-$(hostname -s)-synflood.txt
tmp=$(mktemp -d)
DPID="" FPID=""
mkdir -p bench/results

cleanup() {
    [[ -n $FPID ]] && kill "$FPID" 2>/dev/null || true
    [[ -n $DPID ]] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null || true
    scripts/lab down >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

say() { echo "$*" | tee -a "$out"; }
metrics() { ip netns exec "${P}director" curl -s "http://$METRICS/metrics"; }
# the sum of a metric family's samples whose line matches $2 (default: all)
msum() { awk -v f="$1" -v m="${2:-}" '$1 ~ "^"f"({|$)" && (m == "" || index($1, m)) { s += $NF } END { printf "%.0f", s }' "$3"; }
# CPU seconds (user + system) of a process and all its threads
cpu() { awk '{ s += $14 + $15 } END { printf "%.2f", s / '"$(getconf CLK_TCK)"' }' /proc/"$1"/task/*/stat 2>/dev/null || echo 0; }

command -v hping3 >/dev/null || { echo "synflood-bench: hping3 is needed (apt-get install hping3)" >&2; exit 1; }
[[ -x forwarder/target/jvs-forwarder.jar || -f forwarder/target/jvs-forwarder.jar ]] \
    || { echo "synflood-bench: build first (./mvnw -B -q -DskipTests package)" >&2; exit 1; }
scripts/lab up >/dev/null

cat > "$tmp/conf" <<EOF
-A -t $VIP:80 -s rr
-a -t $VIP:80 -r 10.0.0.11:80 -g -w 1
-a -t $VIP:80 -r 10.0.0.12:80 -g -w 1
-A -t $VIP:81 -s rr --synproxy
-a -t $VIP:81 -r 10.0.0.11:80 -m -w 1
-a -t $VIP:81 -r 10.0.0.12:80 -m -w 1
EOF

# name | director flags | director prefix | hping3 prefix | hping3 pace | port
CONFIGS=(
    "dr-w2||||--flood|80"
    "dr-w1|--workers 1|||--flood|80"
    "dr-w1-pinned|--workers 1|taskset -c 0|taskset -c 1|--flood|80"
    "dr-w2-paced||||-i u20|80"
    "synproxy-w2||||--flood|81"
)

say "synflood bench $(date -u +%FT%TZ) on $(hostname -s), $(nproc) CPUs; jvs $(git rev-parse --short HEAD)"
say "hping3 -S <pace> --rand-source at $VIP:<port> from the client namespace; 100 new connections, 10 at a time"
say ""
printf '%-13s %3s %7s %8s %9s %9s %-21s %-11s %6s %6s %9s %s\n' config ok "100 in" "flood/s" "ring drop" \
    "reclaim" "worker frames %" "busy s" "hping" "jvs" "load" "drops / curl failures" | tee -a "$out"
for c in "${CONFIGS[@]}"; do
    IFS='|' read -r name dflags dpre fpre pace port <<<"$c"
    for r in $(seq "$REPEAT"); do
        # shellcheck disable=SC2086
        ip netns exec "${P}director" $dpre bin/jvs-forwarder --attach packet:eth0 --metrics "$METRICS" \
            --config "$tmp/conf" --conn-max 16384 --drop-entry 1 $dflags >"$tmp/director.log" 2>&1 &
        DPID=$!
        for _ in $(seq 100); do metrics >/dev/null 2>&1 && break; sleep 0.2; done
        # both real servers' MACs known on the client's worker before the flood
        for _ in 1 2 3 4; do
            ip netns exec "${P}client" curl -s -o /dev/null -m 3 -H 'Connection: close' "http://$VIP:$port/" || true
        done
        metrics >"$tmp/m0"
        # shellcheck disable=SC2086
        ip netns exec "${P}client" $fpre timeout 30 hping3 -q -S $pace --rand-source -p "$port" "$VIP" \
            >/dev/null 2>&1 &
        FPID=$!
        sleep 2
        hp=$(for p in $(ip netns pids "${P}client"); do [[ $(cat /proc/"$p"/comm 2>/dev/null) == hping3 ]] && echo "$p"; done | head -1)
        jv=$(for p in $(ip netns pids "${P}director"); do [[ $(cat /proc/"$p"/comm 2>/dev/null) == java ]] && echo "$p"; done | head -1)
        c0h=$(cpu "$hp"); c0d=$(cpu "$jv")
        metrics >"$tmp/m1"
        t0=$(date +%s.%N)
        ip netns exec "${P}client" curl -s --parallel --parallel-max 10 --connect-timeout 8 --max-time 10 \
            -H 'Connection: close' -o /dev/null -w '%{http_code} %{errormsg}\n' "http://$VIP:$port/?[1-100]" \
            >"$tmp/curl" 2>/dev/null || true
        t1=$(date +%s.%N)
        metrics >"$tmp/m2"
        c1h=$(cpu "$hp"); c1d=$(cpu "$jv")
        kill "$FPID" 2>/dev/null || true; wait "$FPID" 2>/dev/null || true; FPID=""
        kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=""
        ok=$(grep -c '^200' "$tmp/curl" || true)
        dt=$(echo "$t1 - $t0" | bc)
        rx1=$(msum jvs_port_rx_frames_total "" "$tmp/m1"); rx2=$(msum jvs_port_rx_frames_total "" "$tmp/m2")
        rate=$(echo "($rx2 - $rx1) / $dt" | bc)
        kd=$(( $(msum jvs_port_kernel_drops_total "" "$tmp/m2") - $(msum jvs_port_kernel_drops_total "" "$tmp/m0") ))
        rec=$(msum jvs_embryonic_removed_total "" "$tmp/m2")
        w0=$(msum jvs_worker_rx_frames_total 'worker="0"' "$tmp/m2"); w1=$(msum jvs_worker_rx_frames_total 'worker="1"' "$tmp/m2")
        share=$([[ $w1 -gt 0 ]] && echo "$(( 100 * w0 / (w0 + w1) ))/$(( 100 * w1 / (w0 + w1) ))" || echo "100 (one)")
        b0=$(awk '/^jvs_worker_event_loop_busy_seconds_total/ && /worker="0"/ { printf "%.1f", $NF }' "$tmp/m2")
        b1=$(awk '/^jvs_worker_event_loop_busy_seconds_total/ && /worker="1"/ { printf "%.1f", $NF }' "$tmp/m2")
        busy=${b0:-$(awk '/^jvs_event_loop_busy_seconds_total/ { printf "%.1f", $NF }' "$tmp/m2")}${b1:+/$b1}
        drops=$(awk '/^jvs_dropped_packets_total/ && $NF > 0 { sub(/.*reason="/, "", $1); sub(/".*/, "", $1); printf "%s=%d ", $1, $NF }' "$tmp/m2")
        fails=$(grep -v '^200' "$tmp/curl" | cut -d' ' -f2- | sed -E 's/[0-9]+ (ms|milliseconds)/N \1/g' | sort | uniq -c \
            | awk '{ $1 = $1 "x"; print }' | paste -sd';' - || true)
        printf '%-13s %3d %6.1fs %8s %9s %9s %-21s %-11s %6.1f %6.1f %9s %s\n' "$name" "$ok" "$dt" "$rate" "$kd" "$rec" \
            "$share" "$busy" "$(echo "$c1h - $c0h" | bc)" "$(echo "$c1d - $c0d" | bc)" "$(cut -d' ' -f1 /proc/loadavg)" \
            "${drops}${fails:+| $fails}" | tee -a "$out"
    done
done
say ""
say "hping / jvs: CPU seconds used while the 100 connections ran; busy s: each worker's event-loop busy time"
say "since start; ring drop: frames the kernel dropped from the receive rings during the run"
echo "synflood-bench: $out"
