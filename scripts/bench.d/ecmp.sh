#!/usr/bin/env bash
# scripts/bench --ecmp — N active directors behind the router's ECMP route (issue 14), one run:
#
#   1. aggregate short connections/s (wrk, Connection: close) and UDP packets/s (trafgen, 64-byte
#      frames, 16 source ports, a fixed offered rate) with 1, 2 and 3 directors announcing the VIP;
#      UDP pps = the directors' forwarded packets (jvs_service_packets_total, direction in) per second
#   2. detection times: kill -9 of one jvs (the TUN device's routes go with it: the liveness hook),
#      a director's link cut (its BIRD and jvs alive but unreachable: BFD), the same without BFD (the
#      BGP hold timer, 6 s in the lab); each time = the event to the router's route losing the director
#   3. withdrawal to zero traffic on a graceful stop (SIGTERM under UDP load): jvs's own log line
#      "N packet(s) for a VIP came after the withdrawal, the last M ms after it"
#
# Brings up its own lab (JVS_LAB_PREFIX, default jvs-ecmpb-; --directors 3) and takes it down on
# exit. Writes bench/results/<date>-<host>-ecmp.txt. Everything is bounded in time and rate.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$here"
export JVS_LAB_PREFIX=${JVS_LAB_PREFIX:-jvs-ecmpb-}
P=$JVS_LAB_PREFIX
STATE=/run/${P}lab
VIP=10.0.0.100
ROUTER=${P}router CLIENT=${P}client
SHORT_D=${ECMP_SHORT_SECONDS:-8}
UDP_D=${ECMP_UDP_SECONDS:-5}
UDP_RATE=${ECMP_UDP_PPS:-150000}
out=bench/results/$(date -u +%Y-%m-%d-%H%M)-$(hostname -s)-ecmp.txt
tmp=$(mktemp -d)
declare -A PID=()

say() { echo "ecmp-bench: $*" | tee -a "$out"; }
now_ms() { date +%s%3N; }
dns() { echo "${P}director$1"; }

start_jvs() { # start_jvs K: jvs on director K, waits until it announces
  local k=$1 i
  ip netns exec "$(dns "$k")" bin/jvs-forwarder --attach packet:eth0 --config "$tmp/jvs.conf" --sloppy-tcp 1 \
    --announce-table 200 --bird-socket "$STATE/bird/$(dns "$k")/bird.ctl" --drain-time 3 \
    --control "$tmp/d$k.sock" >"$tmp/d$k.log" 2>&1 &
  PID[$k]=$!
  for ((i = 0; i < 600; i++)); do
    grep -q "ECMP: 1 VIP" "$tmp/d$k.log" 2>/dev/null && return 0
    kill -0 "${PID[$k]}" 2>/dev/null || { cat "$tmp/d$k.log"; echo "jvs on director$k exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "jvs on director$k did not start" >&2; exit 1
}
stop_jvs() { local k=$1; [ -n "${PID[$k]:-}" ] && kill "${PID[$k]}" 2>/dev/null && wait "${PID[$k]}" 2>/dev/null || true; PID[$k]=; }
hops() { ip -n "$ROUTER" route show "$VIP/32" | grep -o 'via [0-9.]*' | awk '{print $2}' | sort | tr '\n' ' '; }
await_hops() { # await_hops N: the route has N next hops (a single path has one "via")
  local i
  for ((i = 0; i < 600; i++)); do [ "$(hops | wc -w)" = "$1" ] && return 0; sleep 0.05; done
  echo "the router's route did not reach $1 next hop(s): $(hops)" >&2; exit 1
}
# await_drop IP: ms until the router's route no longer has IP (polled every 5 ms)
await_drop() {
  local ip=$1 t0=$2 i
  for ((i = 0; i < 6000; i++)); do
    [[ " $(hops) " == *" $ip "* ]] || { echo $(($(now_ms) - t0)); return 0; }
    sleep 0.005
  done
  echo timeout
}
udp_in() { # forwarded UDP packets, summed over directors 1..N
  local k s=0 v
  for ((k = 1; k <= $1; k++)); do
    v=$(ip netns exec "$(dns "$k")" curl -s --max-time 3 http://127.0.0.1:9110/metrics |
      awk '/^jvs_service_packets_total\{direction="in",service="UDP\/10.0.0.100:9000"\}/ {printf "%d", $2}')
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

cleanup() {
  local k
  for k in "${!PID[@]}"; do [ -n "${PID[$k]}" ] && kill "${PID[$k]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/lab down >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p bench/results
: >"$out"
scripts/lab down >/dev/null 2>&1 || true
scripts/lab up --directors 3 --tun-servers 0 >/dev/null
cat >"$tmp/jvs.conf" <<'EOF'
-A -t 10.0.0.100:80 -s mh -b mh-port
-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
-a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1
-A -u 10.0.0.100:9000 -s mh -b mh-port
-a -u 10.0.0.100:9000 -r 10.0.0.11:9000 -g -w 1
-a -u 10.0.0.100:9000 -r 10.0.0.12:9000 -g -w 1
EOF
mac_router=$(ip -n "$ROUTER" link show eth0 | awk '/link\/ether/ {print $2}')
mac_client=$(ip -n "$CLIENT" link show eth0 | awk '/link\/ether/ {print $2}')
echo "{ eth(da=$mac_router, sa=$mac_client), ipv4(saddr=10.0.1.2, daddr=$VIP, ttl=64), udp(sp=dinc(10000, 10015), dp=9000), fill(0x6a, 18) }" >"$tmp/udp.cfg"
say "$(date -u +%FT%TZ) load before: $(uptime | sed 's/.*load average/load average/'); $(nproc) cores"

for n in 1 2 3; do
  start_jvs "$n"
  await_hops "$n"
  sleep 1
  cps=$(ip netns exec "$CLIENT" timeout $((SHORT_D + 10)) wrk -t2 -c32 -d"${SHORT_D}s" -H 'Connection: close' "http://$VIP/" 2>/dev/null |
    awk '/Requests\/sec/ {print $2}')
  u0=$(udp_in "$n"); t0=$(now_ms)
  ip netns exec "$CLIENT" timeout $((UDP_D * 3 + 5)) trafgen -o eth0 -i "$tmp/udp.cfg" -P 1 -Q -b "${UDP_RATE}pps" \
    -n $((UDP_RATE * UDP_D)) >/dev/null 2>&1 || true
  sleep 0.3
  u1=$(udp_in "$n"); t1=$(now_ms)
  pps=$(awk -v p=$((u1 - u0)) -v ms=$((t1 - t0 - 300)) 'BEGIN { printf "%.0f", p * 1000 / ms }')
  say "directors=$n short_conn_per_s=${cps:-0} udp_forwarded_pps=$pps (offered $UDP_RATE) load=$(cut -d' ' -f1 /proc/loadavg)"
done

# detection: kill -9 of jvs on director3 (the liveness hook)
t0=$(now_ms); kill -9 "${PID[3]}"; wait "${PID[3]}" 2>/dev/null || true; PID[3]=
say "kill -9 of jvs (director3) to the router dropping it: $(await_drop 10.0.0.4 "$t0") ms"
start_jvs 3; await_hops 3

# detection: director3's link cut, BFD on, then off (hold timer)
for bfd in on off; do
  scripts/lab bird bfd "$bfd" >/dev/null
  for ((i = 0; i < 200; i++)); do
    [ "$(hops | wc -w)" = 3 ] && [ "$(birdc -s "$STATE/bird/$ROUTER/bird.ctl" show protocols | grep -c Established)" = 3 ] && break
    sleep 0.1
  done
  sleep 2
  t0=$(now_ms); ip -n "$(dns 3)" link set eth0 down
  say "director3's link cut (BFD $bfd) to the router dropping it: $(await_drop 10.0.0.4 "$t0") ms"
  ip -n "$(dns 3)" link set eth0 up
  ip -n "$(dns 3)" route replace default via 10.0.0.1
  await_hops 3
done
scripts/lab bird bfd on >/dev/null

# withdrawal to zero traffic: SIGTERM to director2 under UDP load
ip netns exec "$CLIENT" timeout 20 trafgen -o eth0 -i "$tmp/udp.cfg" -P 1 -Q -b 20000pps -n 200000 >/dev/null 2>&1 &
tg=$!
sleep 2
t0=$(now_ms); kill "${PID[2]}"
drop=$(await_drop 10.0.0.3 "$t0")
wait "${PID[2]}" 2>/dev/null || true; PID[2]=
kill "$tg" 2>/dev/null || true; wait "$tg" 2>/dev/null || true
say "graceful stop (director2, UDP at 20000 pps): SIGTERM to the router dropping it: $drop ms; jvs: $(grep -o '[0-9]* packet(s) for a VIP came after the withdrawal, the last [0-9]* ms after it' "$tmp/d2.log")"
say "results in $out"
