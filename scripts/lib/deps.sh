# scripts/lib/deps.sh — the one place that knows jvs's system dependencies: which
# Debian package each command needs, grouped by what needs it, and how they are
# installed. scripts/demo, scripts/test and scripts/bench source it and call
#   jvs_deps [--no-install] SET         SET: demo | test | bench | bench-micro | bench-compose | compose
# before anything else; run directly it does the same:
#   scripts/lib/deps.sh [--no-install] SET
#   scripts/lib/deps.sh --list SET      prints "group tool package" for each thing SET needs
#
# A dependency is present when its tool is found on PATH (so a tool installed some
# other way counts), and the JDK when scripts/lib/jdk.sh finds one >= 25. What is
# missing is installed, as root on a Debian-like system, with one `apt-get update`
# and one `apt-get install`, after one line saying what and why. Debian's packages
# of prometheus, vsftpd, haproxy... would start their services in the root
# namespace: service starts are forbidden during the install (policy-rc.d exit 101),
# and the policy file is removed afterwards only when it was written here; the
# tests and the bench start their own daemons inside the lab's namespaces.
# --no-install (or not root, or no apt-get) installs nothing and names the packages
# in one line; --no-install then lets the caller carry on, the others stop it.
#
# SystemDepsTest (forwarder module, part of ./mvnw verify) runs this file with fake
# apt-get/apt-cache/id on PATH and pins the package list of each SET: a package
# added here is added there too. Test hooks: JVS_POLICY_RC_D (default
# /usr/sbin/policy-rc.d), JVS_JVM_DIR (scripts/lib/jdk.sh; default /usr/lib/jvm).

# group|tool|Debian package|what needs it
JVS_DEPS=(
  "build|curl|curl|./mvnw fetches Maven with it"
  "build|update-ca-certificates|ca-certificates|./mvnw: HTTPS to Maven Central"
  "lab|ip|iproute2|scripts/lab: namespaces, veths, bridges, routes"
  "lab|ss|iproute2|scripts/lab, ServiceSemanticsIT: listening sockets"
  "lab|nginx|nginx-light|the lab's real servers"
  "lab|curl|curl|scripts/lab's checks, the demo's and the integration tests' client"
  "lab|openssl|openssl|scripts/lab's test blob; ServiceSemanticsIT's TLS server"
  "lab|sysctl|procps|scripts/lab: per-namespace sysctls"
  "lab|flock|util-linux|scripts/lab and bin/jvs-agent: locks"
  "lab|sha256sum|coreutils|scripts/lab: blob checksums"
  "tests|nft|nftables|TunLabIT: nftables counters and rules in the lab"
  "tests|tcpdump|tcpdump|XmitIT: the TOA option on the wire"
  "tests|python3|python3|XmitIT: a client that holds a connection open"
  "tests|wrk|wrk|FullNatShortConnectionsIT: short connections as the benchmark makes them"
  "tests|keepalived|keepalived|VrrpIT: Debian's keepalived (VRRP only) next to jvs, scripts/lab keepalived"
  "tests|arping|iputils-arping|VrrpIT: who answers ARP for a VRRP address"
  "tests|bird|bird2|EcmpIT, scripts/lab up --directors N: BGP + BFD on the router and each director"
  "tests|hping3|hping3|SynProxyIT, HostileTrafficIT: spoofed-source SYN floods and bad-cookie ACKs"
  "monitoring|prometheus|prometheus|MonitoringIT, scripts/lab up --monitoring"
  "monitoring|chromium|chromium|MonitoringIT: the status page in headless chromium"
  "ftp|vsftpd|vsftpd|ServiceSemanticsIT: passive FTP through a fwmark service"
  "compose|docker-compose|docker-compose|ComposeLabIT, ComposeIT, scripts/compose, scripts/bench --target compose"
  "compose|dockerd|docker.io|scripts/compose, ComposeIT: the Docker engine (started by scripts/compose)"
  "compose|debootstrap|debootstrap|scripts/compose: the base image from Debian's archive"
  "bench|wrk|wrk|scripts/bench: HTTP scenarios"
  "bench|iperf3|iperf3|scripts/bench: bulk TCP"
  "bench|trafgen|netsniff-ng|scripts/bench: 64-byte UDP"
  "bench|haproxy|haproxy|scripts/bench: the haproxy peer"
  "bench|nft|nftables|scripts/bench: the kernel-nat peer, UDP counters at the real servers"
  "bench|python3|python3|scripts/bench: the report (scripts/bench.d/report.py)"
)
# SET -> groups ("jdk": a JDK >= 25), and what the one-line message calls the SET
declare -A JVS_DEPS_SETS=(
  [demo]="jdk build lab"
  [test]="jdk build lab tests monitoring ftp compose"
  [bench]="jdk build lab bench"
  [bench-micro]="jdk build"
  [bench-compose]="compose"
  [compose]="jdk build compose"
)
declare -A JVS_DEPS_WHO=(
  [demo]="scripts/demo" [test]="scripts/test" [bench]="scripts/bench"
  [bench-micro]="scripts/bench --micro" [bench-compose]="scripts/bench --target compose"
  [compose]="scripts/compose"
)
# The JDK's packages, in order of preference: Temurin from Adoptium's apt repository
# (https://adoptium.net/installation/linux/) when it is configured, else Debian's OpenJDK.
JVS_JDK_PACKAGES=(temurin-25-jdk openjdk-25-jdk-headless)
JVS_LIB=${BASH_SOURCE[0]%/*}
[ "$JVS_LIB" != "${BASH_SOURCE[0]}" ] || JVS_LIB=.
JVS_LIB=$(cd "$JVS_LIB" && pwd) # builtins only: the helper's test runs it with a PATH of fakes

jvs_have_jdk() { # true when scripts/lib/jdk.sh finds a JDK >= 25 (in a subshell: nothing exported)
  (. "$JVS_LIB/jdk.sh") >/dev/null 2>&1
}

jvs_deps() {
  local install=1 list=0
  while [ $# -gt 0 ]; do
    case $1 in
      --no-install) install=0; shift ;;
      --list) list=1; shift ;;
      *) break ;;
    esac
  done
  local set=${1:-}
  if [ $# -ne 1 ] || [ -z "${JVS_DEPS_SETS[$set]+x}" ]; then
    echo "jvs deps: usage: jvs_deps [--no-install|--list] demo|test|bench|bench-micro|bench-compose|compose" >&2
    return 2
  fi
  local who=${JVS_DEPS_WHO[$set]} groups=" ${JVS_DEPS_SETS[$set]} " row group tool pkg rest
  local -a pkgs=() missing_tools=() groups_missing=()
  local -A by_group=()
  local wants_jdk=0 need_jdk=0 what=
  [[ $groups == *" jdk "* ]] && wants_jdk=1
  for row in "${JVS_DEPS[@]}"; do
    IFS='|' read -r group tool pkg rest <<<"$row"
    [[ $groups == *" $group "* ]] || continue
    if [ "$list" = 1 ]; then
      echo "$group $tool $pkg"
    elif ! command -v "$tool" >/dev/null 2>&1 && [[ " ${missing_tools[*]} " != *" $tool "* ]]; then
      missing_tools+=("$tool")
      [ -n "${by_group[$group]:-}" ] || groups_missing+=("$group")
      by_group[$group]+=" $tool"
      [[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
    fi
  done
  # "what" reads "lab: nginx curl; monitoring: chromium": the tools after what needs them
  for group in "${groups_missing[@]}"; do what+="${what:+; }$group:${by_group[$group]}"; done
  if [ "$list" = 1 ]; then
    [ "$wants_jdk" = 0 ] || echo "jdk - ${JVS_JDK_PACKAGES[0]} (or ${JVS_JDK_PACKAGES[1]})"
    return 0
  fi
  if [ "$wants_jdk" = 1 ] && ! jvs_have_jdk; then
    need_jdk=1
    what+="${what:+; }a JDK >= 25"
  fi
  [ -n "$what" ] || return 0

  # One line each: what is missing (by what needs it), and the command that would install it.
  local todo=
  [ "${#pkgs[@]}" = 0 ] || todo="apt-get install ${pkgs[*]}"
  [ "$need_jdk" = 0 ] ||
    todo="${todo:+$todo, and }a JDK >= 25 (apt-get install ${JVS_JDK_PACKAGES[0]} from Adoptium's apt repository, or ${JVS_JDK_PACKAGES[1]})"
  if [ "$install" = 0 ]; then
    echo "jvs: $who is missing $what; --no-install, so not installing: $todo" >&2
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "jvs: $who is missing $what; not root, so not installing: as root, $todo" >&2
    return 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "jvs: $who is missing $what; no apt-get here: install the equivalent of $todo" >&2
    return 1
  fi

  if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null; then
    echo "jvs: apt-get update failed; $who is missing $what ($todo)" >&2
    return 1
  fi
  local jdk_pkg= p
  if [ "$need_jdk" = 1 ]; then
    for p in "${JVS_JDK_PACKAGES[@]}"; do
      if apt-cache show "$p" >/dev/null 2>&1; then jdk_pkg=$p; pkgs+=("$p"); break; fi
    done
  fi
  if [ "${#pkgs[@]}" -gt 0 ]; then
    echo "jvs: $who installs ${pkgs[*]} with apt-get (missing: $what; no service starts during the install)"
    if ! jvs_apt_install_guarded "${pkgs[@]}"; then
      echo "jvs: apt-get install ${pkgs[*]} failed (see above); $who needs them" >&2
      return 1
    fi
  fi
  if [ "$need_jdk" = 1 ] && [ -z "$jdk_pkg" ]; then
    echo "jvs: $who needs a JDK >= 25 and apt knows neither ${JVS_JDK_PACKAGES[*]}: add Adoptium's apt repository (https://adoptium.net/installation/linux/) and apt-get install ${JVS_JDK_PACKAGES[0]}, or set JAVA_HOME to a JDK >= 25" >&2
    return 1
  fi
  if [ "$need_jdk" = 1 ] && ! jvs_have_jdk; then
    echo "jvs: apt-get installed $jdk_pkg, but scripts/lib/jdk.sh still finds no JDK >= 25 under ${JVS_JVM_DIR:-/usr/lib/jvm}; set JAVA_HOME to it" >&2
    return 1
  fi
  return 0
}

# apt-get install PACKAGES with service starts forbidden (policy-rc.d exit 101), in a
# subshell so that its traps are its own: the policy file goes on any exit only when
# it was written here.
jvs_apt_install_guarded() (
  policy=${JVS_POLICY_RC_D:-/usr/sbin/policy-rc.d}
  if [ ! -e "$policy" ]; then
    trap 'rm -f "$policy"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    printf '#!/bin/sh\n# written by jvs scripts/lib/deps.sh for one apt-get install\nexit 101\n' >"$policy"
    chmod +x "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  jvs_deps "$@"
  exit $?
fi
