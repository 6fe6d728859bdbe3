#!/usr/bin/env bash
# The synack demo: the seed's TCP server and client, both running on synack, talk to each
# other through the Linux kernel, and every segment and state change is printed. See usage().
#
# Two paths, the same conversation:
#   tun        tcp_client (synack, 198.51.100.2) --tun synack1--> Linux kernel (forwards)
#                                                 --tun synack0--> tcp_server (synack, 192.0.2.2:7788)
#   af_packet  the same addresses over two veth pairs (synack on sy1 and sy0 with AF_PACKET, the
#              kernel on sy1k 198.51.100.1 and sy0k 192.0.2.1), for where tun cannot be opened
# Everything runs inside a network namespace the script creates (as root: `unshare --net`;
# otherwise `unshare --user --map-root-user --net`), so nothing touches this machine's
# interfaces. The path is chosen as follows and always printed: --link forces one; otherwise
# tun where /dev/net/tun can be opened (root, or the usual mode 0666), else af_packet; and if
# tun fails all the same, its error is printed and the demo runs again over af_packet.
# When a program fails, what it said is printed (its log is deleted only after that).
# tests/integration/demo.sh runs it with --no-build and the test's build directory.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/demo.sh [--no-build] [--link tun|af_packet]

The synack demo: synack's tcp_client (198.51.100.2) talks to synack's tcp_server
(192.0.2.2:7788) through the Linux kernel, which forwards between them; every segment and
state change is printed, then the seed's table of the 11 TCP states with the visited ones
marked. It runs inside a network namespace of its own: nothing touches this machine's
interfaces.

  (no option)       install what is missing (apt-get, as root), build, run
  --no-build        use the programs already built (no apt-get, no cmake)
  --link tun        tun devices (needs root, or /dev/net/tun open to you: mode 0666)
  --link af_packet  AF_PACKET on veth pairs (works without root where user namespaces are allowed)
  -h, --help        this text

Without --link: tun where /dev/net/tun can be opened, otherwise af_packet; the demo says
which. Without root it runs in `unshare --user --map-root-user --net`.

environment:
  SYNACK_BUILD_DIR=DIR  the build directory to build into and run from (default: build/)
EOF
}

build=""
[ -z "${SYNACK_BUILD_DIR:-}" ] || build=$(realpath -m "$SYNACK_BUILD_DIR") # relative to the caller
cd "$(dirname "$0")/.."
build=${build:-$PWD/build}
export SYNACK_BUILD_DIR=$build

if [ "${1:-}" = "--inside" ]; then
  # ---- inside the new network namespace: run the two programs, leave their logs in $out ----
  out=$2 link=$3
  ip link set lo up
  sysctl -qw net.ipv4.ip_forward=1
  if [ "$link" = tun ]; then
    server_link=(--ifname synack0 --peer 192.0.2.1)
    client_link=(--ifname synack1 --peer 198.51.100.1)
  else
    # Two veth pairs: synack's ends (no kernel address) and the kernel's ends (the gateways).
    for pair in "sy0 sy0k 192.0.2.1/24" "sy1 sy1k 198.51.100.1/24"; do
      read -r a b addr <<<"$pair"
      ip link add "$a" type veth peer name "$b"
      ip addr add "$addr" dev "$b"
      ip link set "$a" up
      ip link set "$b" up
    done
    server_link=(--link af_packet --ifname sy0 --mac 02:00:00:00:02:02)
    client_link=(--link af_packet --ifname sy1 --mac 02:00:00:00:01:02)
  fi
  timeout 30 "$build/examples/tcp_server" "${server_link[@]}" --addr 192.0.2.2/24 --gateway 192.0.2.1 \
    --trace >"$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    grep -q "^listening" "$out/server.log" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  if ! grep -q "^listening" "$out/server.log"; then
    wait "$server" 2>/dev/null || true
    echo server >"$out/failed"
    exit 1
  fi
  status=0
  timeout 20 "$build/examples/tcp_client" "${client_link[@]}" --addr 198.51.100.2/24 --gateway 198.51.100.1 \
    --ip 192.0.2.2 --port 7788 --data "hello from synack's tcp_client" --trace >"$out/client.log" 2>&1 || status=$?
  # The server exits by itself once its connection is closed (TIME_WAIT); don't wait forever.
  for _ in $(seq 100); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  [ "$status" -eq 0 ] || echo client >"$out/failed"
  exit "$status"
fi

link=auto
no_build=0
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) no_build=1 ;;
    --link)
      [ $# -ge 2 ] || { echo "demo.sh: --link needs tun or af_packet (see --help)" >&2; exit 2; }
      link=$2
      shift
      ;;
    --link=*) link=${1#--link=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case $link in
  auto | tun | af_packet) ;;
  *) echo "demo.sh: --link $link: must be tun or af_packet" >&2; exit 2 ;;
esac

programs_built() { [ -x "$build/examples/tcp_server" ] && [ -x "$build/examples/tcp_client" ]; }
writable() { # the build directory, or where it would be created
  if [ -e "$build" ]; then [ -w "$build" ]; else [ -w "$(dirname "$build")" ]; fi
}

if [ $no_build -eq 1 ]; then
  programs_built || { echo "demo.sh: $build/examples/tcp_server or tcp_client is not built (run without --no-build)" >&2; exit 1; }
else
  if ! scripts/install-deps.sh; then
    programs_built || exit 1
    echo "demo.sh: could not install the missing packages; trying with the programs already built in $build" >&2
  fi
  if writable; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build" --target tcp_server tcp_client
  elif programs_built; then
    echo "demo.sh: $build is not writable by $(id -un): using the programs already built there" \
      "(set SYNACK_BUILD_DIR to a directory you can write to build your own)"
  else
    echo "demo.sh: $build is not writable by $(id -un) and holds no build: set SYNACK_BUILD_DIR to a" \
      "directory you can write (SYNACK_BUILD_DIR=\$HOME/synack-build scripts/demo.sh)" >&2
    exit 1
  fi
fi

if [ "$(id -u)" -eq 0 ]; then
  ns=(unshare --net)
  who="as root, in a network namespace of its own (unshare --net)"
else
  ns=(unshare --user --map-root-user --net)
  who="as $(id -un), in unshare --user --map-root-user --net"
  if ! err=$(unshare --user --map-root-user --net true 2>&1); then
    echo "demo.sh: without root the demo needs an unprivileged user namespace, and this system refuses" \
      "one (${err:-unshare failed}); run it as root, or allow them (sysctl kernel.unprivileged_userns_clone=1," \
      "user.max_user_namespaces > 0)" >&2
    exit 1
  fi
fi

tun_reason="" # why tun is not used, when it is not
chosen=$link   # auto, or what --link forced
if [ "$link" = auto ]; then
  if [ ! -e /dev/net/tun ]; then
    link=af_packet
    tun_reason="there is no /dev/net/tun here"
  elif [ ! -r /dev/net/tun ] || [ ! -w /dev/net/tun ]; then
    link=af_packet
    tun_reason="/dev/net/tun is not open to $(id -un) (mode $(stat -c %a /dev/net/tun), owner $(stat -c %U /dev/net/tun))"
  else
    link=tun
  fi
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

describe() {
  if [ "$1" = tun ]; then
    echo "path: tun devices synack1 and synack0, $who"
  else
    echo "path: AF_PACKET on veth pairs sy1 and sy0, $who"
  fi
}

# Prints what the programs said (their lines other than the trace).
said() {
  local side
  for side in server client; do
    [ -s "$out/$side.log" ] || continue
    echo "tcp_$side said:"
    grep -Ev '^[0-9]+\.[0-9]+s ' "$out/$side.log" | sed 's/^/  /' || true
  done
}

run() { # run LINK: the programs in a new namespace; their logs in $out
  rm -f "$out/failed" "$out/server.log" "$out/client.log"
  "${ns[@]}" "$0" --inside "$out" "$1"
}

echo
echo "== synack's tcp_client (198.51.100.2) -> Linux kernel -> synack's tcp_server (192.0.2.2:7788) =="
[ -z "$tun_reason" ] || echo "tun: not used: $tun_reason"
describe "$link"
echo
status=0
run "$link" || status=$?
if [ $status -ne 0 ] && [ "$chosen" = auto ] && [ "$link" = tun ] &&
  grep -q '^cannot open tun device' "$out/server.log" 2>/dev/null; then
  # tun was possible on paper but not in fact: say why, and take the path that needs neither.
  echo "tun: $(grep -m1 '^cannot open tun device' "$out/server.log")"
  link=af_packet
  echo "so the demo runs again, on the other $(describe "$link")"
  echo
  status=0
  run "$link" || status=$?
fi
if [ $status -ne 0 ]; then
  failed=$(cat "$out/failed" 2>/dev/null || echo "a program")
  echo "demo.sh: the demo failed (tcp_$failed, status $status)" >&2
  said >&2
  exit 1
fi
python3 scripts/demo_report.py "$out/server.log" "$out/client.log" || { said >&2; exit 1; }
