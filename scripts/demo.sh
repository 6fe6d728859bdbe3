#!/usr/bin/env bash
# The synack demo: the seed's TCP server and client, both running on synack, talk to each
# other through the Linux kernel, and every segment and state change is printed:
#
#   tcp_client (synack, 198.51.100.2) --tun synack1--> Linux kernel (forwards)
#                                      --tun synack0--> tcp_server (synack, 192.0.2.2:7788)
#
# You see the 3-way handshake, the data and its ACKs, the 4-way close, the states each side
# went through, and the seed's table of 11 states with the visited ones marked.
# Installs what is missing, builds, runs everything inside a network namespace it creates
# (nothing touches this machine's interfaces), and cleans up after itself.
#   scripts/demo.sh            as root (or with user namespaces: it uses unshare -Urn then)
#   scripts/demo.sh --no-build  use the programs already built (no apt-get, no cmake)
#   SYNACK_BUILD_DIR=DIR        the build directory to build into and run from (build/)
# (tests/integration/demo.sh runs it with --no-build and the test's build directory.)
set -euo pipefail
build=""
[ -z "${SYNACK_BUILD_DIR:-}" ] || build=$(realpath -m "$SYNACK_BUILD_DIR") # relative to the caller
cd "$(dirname "$0")/.."
build=${build:-$PWD/build}
export SYNACK_BUILD_DIR=$build

if [ "${1:-}" = "--inside" ]; then
  # ---- inside the new network namespace ----
  out=$2
  ip link set lo up
  sysctl -qw net.ipv4.ip_forward=1
  server_log=$out/server.log
  client_log=$out/client.log
  timeout 30 "$build/examples/tcp_server" --ifname synack0 --addr 192.0.2.2/24 --peer 192.0.2.1 \
    --gateway 192.0.2.1 --trace >"$server_log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    grep -q "listening" "$server_log" 2>/dev/null && break
    sleep 0.05
  done
  status=0
  timeout 20 "$build/examples/tcp_client" --ifname synack1 --addr 198.51.100.2/24 --peer 198.51.100.1 \
    --gateway 198.51.100.1 --ip 192.0.2.2 --port 7788 --data "hello from synack's tcp_client" \
    --trace >"$client_log" 2>&1 || status=$?
  # The server exits by itself once its connection is closed (TIME_WAIT); don't wait forever.
  for _ in $(seq 100); do
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  python3 scripts/demo_report.py "$server_log" "$client_log"
  exit "$status"
fi

case "${1:-}" in
  "") ;;
  --no-build) ;;
  -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
  *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
esac
if [ "${1:-}" = --no-build ]; then
  for p in tcp_server tcp_client; do
    [ -x "$build/examples/$p" ] || { echo "demo.sh: $build/examples/$p is not built (run without --no-build)" >&2; exit 1; }
  done
else
  scripts/install-deps.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target tcp_server tcp_client
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo
echo "== synack's tcp_client (198.51.100.2) -> Linux kernel -> synack's tcp_server (192.0.2.2:7788) =="
echo
if [ "$(id -u)" -eq 0 ]; then
  unshare --net "$0" --inside "$out"
else
  # Without root: a user namespace gives CAP_NET_ADMIN inside it (if the system allows it).
  if ! unshare --user --map-root-user --net true 2>/dev/null; then
    echo "demo: needs root, or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)" >&2
    exit 1
  fi
  unshare --user --map-root-user --net "$0" --inside "$out"
fi
