#!/usr/bin/env bash
# tests/integration/seed_python.sh BUILD_DIR: the seed's two Python programs (seed/client.py,
# seed/server.py: the kernel's TCP) against synack's tcp_server and tcp_client.
#
#   1. python3 client.py -> synack's tcp_server: the server prints what the client sent
#      (UTF-8, Chinese included), the client prints "Received data: thank you !".
#   2. synack's tcp_client -> python3 server.py: the Python server prints what tcp_client
#      sent, tcp_client prints "received: thank you !".
# Both over a tun device (synack 192.0.2.2, the kernel 192.0.2.1, one namespace) and over
# AF_PACKET on a veth pair (synack on sy0 in this namespace, the kernel's sy1 with 192.0.2.1
# in a second namespace, where the Python programs run). Every packet stays in namespaces
# the test creates; every process runs under `timeout`.
# Exit: 0 pass, 1 fail, 77 skipped (not root, python3 or ss missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
itest_init "$@"
itest_need_tools python3 ss
itest_need_examples tcp_server tcp_client
SEED=$HERE/seed

# run_all LABEL "LINK OPTIONS" [RUN-IN-KERNEL-NAMESPACE...]
run_all() {
  local label=$1 link=$2
  shift 2
  local kernel=("$@") # prefix that runs a command on the kernel's side
  local msg1="你好, synack! hello from the seed's Python client over $label"
  local msg2="hello from synack's tcp_client over $label"

  # 1. Python client -> synack tcp_server
  # shellcheck disable=SC2086
  itest_bg "$WORK/$label.server" timeout 20 "$EX/tcp_server" $link
  local server=$ITEST_LAST_PID
  itest_wait_for "$WORK/$label.server" '^listening on 192\.0\.2\.2:7788' 10
  "${kernel[@]}" timeout 20 python3 "$SEED/client.py" 192.0.2.2 7788 "$msg1" >"$WORK/$label.pyclient" 2>&1 ||
    { cat "$WORK/$label.pyclient" "$WORK/$label.server" >&2; itest_fail "$label: the Python client failed"; }
  itest_wait "$server" "$label: tcp_server"
  itest_expect "$WORK/$label.pyclient" '^Received data: thank you !$' "$label: the Python client's output"
  itest_expect "$WORK/$label.server" "^received from 192\.0\.2\.1:[0-9]+: $msg1\$" "$label: tcp_server's output"
  itest_log "$label: python3 client.py -> synack tcp_server: ok"
  itest_log "  $(grep '^received from' "$WORK/$label.server")"
  itest_log "  $(cat "$WORK/$label.pyclient")"

  # 2. synack tcp_client -> Python server (binds ('', 7788) before synack's device exists)
  itest_bg "$WORK/$label.pyserver" "${kernel[@]}" timeout 20 python3 -u "$SEED/server.py"
  local pyserver=$ITEST_LAST_PID i
  for ((i = 0; i < 200; i++)); do
    "${kernel[@]}" ss -Hltn 'sport = :7788' | grep -q 7788 && break
    sleep 0.05
  done
  # shellcheck disable=SC2086
  timeout 20 "$EX/tcp_client" $link --ip 192.0.2.1 --port 7788 --data "$msg2" >"$WORK/$label.client" 2>&1 ||
    { cat "$WORK/$label.client" "$WORK/$label.pyserver" >&2; itest_fail "$label: tcp_client failed"; }
  itest_wait "$pyserver" "$label: the Python server"
  itest_expect "$WORK/$label.client" '^received: thank you !$' "$label: tcp_client's output"
  itest_expect "$WORK/$label.pyserver" "^Received data: $msg2\$" "$label: the Python server's output"
  itest_log "$label: synack tcp_client -> python3 server.py: ok"
  itest_log "  $(cat "$WORK/$label.pyserver")"
  itest_log "  $(cat "$WORK/$label.client")"
}

# Over tun: the kernel's side is this namespace.
run_all tun "--link tun --ifname synack0 --addr 192.0.2.2/24 --peer 192.0.2.1"

# Over AF_PACKET: the kernel's veth end in a second namespace.
itest_netns KNS
ip link add sy0 type veth peer name sy1
ip link set sy1 netns "/proc/$KNS/ns/net"
itest_in "$KNS" ip addr add 192.0.2.1/24 dev sy1
itest_in "$KNS" ip link set sy1 up
run_all af_packet "--link af_packet --ifname sy0 --addr 192.0.2.2/24 --mac 02:00:00:00:02:02" itest_in "$KNS"
itest_log "all cases passed"
