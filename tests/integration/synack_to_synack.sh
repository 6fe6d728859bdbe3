#!/usr/bin/env bash
# tests/integration/synack_to_synack.sh BUILD_DIR: synack talks to synack, the Linux kernel
# forwarding between two tun devices (the demo's set-up, scripts/demo.sh):
#
#   client side: synack 198.51.100.2 --tun synack1-- kernel (forwards) --tun synack0-- 192.0.2.2 server side
#
#   1. the seed's exchange: tcp_client -> tcp_server: the server prints the client's text and
#      address, the client prints "received: thank you !", both exit 0.
#   2. bulk: 16 MiB one way (bulk send -> bulk recv), then an echo both ways (bulk send ->
#      bulk echo); the SHA-256 each side printed must match.
#   3. echo_server --count 3 serves three bulk clients at once (three more tun devices,
#      198.51.100.4/30, .8/30, .12/30), each checking that what came back is what it sent.
#   4. echo_server stops on SIGTERM: its idle client gets the server's FIN, the status is 0.
# Volumes scale with SYNACK_TEST_SCALE. Exit: 0 pass, 1 fail, 77 skipped (not root).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
itest_init "$@"
itest_need_tools python3
itest_need_examples tcp_server tcp_client bulk echo_server
sysctl -qw net.ipv4.ip_forward=1

SERVER=(--ifname synack0 --addr 192.0.2.2/24 --peer 192.0.2.1 --gateway 192.0.2.1)
CLIENT=(--ifname synack1 --addr 198.51.100.2/24 --peer 198.51.100.1 --gateway 198.51.100.1)
BIG=$(itest_scaled $((16 << 20)))
ECHO=$(itest_scaled $((4 << 20)))

# 1. The seed's programs, both on synack.
itest_bg "$WORK/server" timeout 20 "$EX/tcp_server" "${SERVER[@]}"
server=$ITEST_LAST_PID
itest_wait_for "$WORK/server" '^listening on 192\.0\.2\.2:7788'
timeout 20 "$EX/tcp_client" "${CLIENT[@]}" --ip 192.0.2.2 --port 7788 --data "hello from synack to synack" \
  >"$WORK/client" 2>&1 || { cat "$WORK/client" "$WORK/server" >&2; itest_fail "tcp_client failed"; }
itest_wait "$server" tcp_server
itest_expect "$WORK/server" '^received from 198\.51\.100\.2:[0-9]+: hello from synack to synack$' "tcp_server's output"
itest_expect "$WORK/client" '^received: thank you !$' "tcp_client's output"
itest_log "tcp_client -> tcp_server: ok: $(grep '^received from' "$WORK/server") / $(cat "$WORK/client")"

# same_digest FILE_A LINE_A FILE_B LINE_B what: "sent N bytes sha256=H" style lines agree.
same_digest() {
  local a b
  a=$(itest_field "$1" "^$2 ([0-9]+ bytes sha256=[0-9a-f]+)\$")
  b=$(itest_field "$3" "^$4 ([0-9]+ bytes sha256=[0-9a-f]+)\$")
  if [ -z "$a" ] || [ "$a" != "$b" ]; then
    cat "$1" "$3" >&2
    itest_fail "$5: '$2 $a' vs '$4 $b'"
  fi
}

# 2. Bulk one way, then echo.
itest_bg "$WORK/bulk_recv" timeout 60 "$EX/bulk" recv --listen 5001 "${SERVER[@]}"
pid=$ITEST_LAST_PID
itest_wait_for "$WORK/bulk_recv" '^listening'
timeout 60 "$EX/bulk" send --connect 192.0.2.2:5001 --bytes "$BIG" "${CLIENT[@]}" >"$WORK/bulk_send" 2>&1 ||
  { cat "$WORK/bulk_send" "$WORK/bulk_recv" >&2; itest_fail "bulk send failed"; }
itest_wait "$pid" "bulk recv"
same_digest "$WORK/bulk_send" sent "$WORK/bulk_recv" received "bulk send -> bulk recv"
itest_expect "$WORK/bulk_send" "^sent $BIG bytes" "bulk send's count"
itest_log "bulk send -> bulk recv: ok: $(grep '^closed' "$WORK/bulk_send")"

itest_bg "$WORK/bulk_echo" timeout 60 "$EX/bulk" echo --listen 5002 "${SERVER[@]}"
pid=$ITEST_LAST_PID
itest_wait_for "$WORK/bulk_echo" '^listening'
timeout 60 "$EX/bulk" send --connect 192.0.2.2:5002 --bytes "$ECHO" "${CLIENT[@]}" \
  >"$WORK/bulk_echo_client" 2>&1 || { cat "$WORK/bulk_echo_client" "$WORK/bulk_echo" >&2; itest_fail "bulk send (echo) failed"; }
itest_wait "$pid" "bulk echo"
same_digest "$WORK/bulk_echo_client" sent "$WORK/bulk_echo_client" received "echo: what came back"
same_digest "$WORK/bulk_echo_client" sent "$WORK/bulk_echo" received "echo: what the server got"
itest_log "bulk send -> bulk echo: ok: $(grep '^closed' "$WORK/bulk_echo_client")"

# 3. echo_server with three clients at once, each on a tun device of its own.
itest_bg "$WORK/echo_server" timeout 60 "$EX/echo_server" --count 3 "${SERVER[@]}"
server=$ITEST_LAST_PID
itest_wait_for "$WORK/echo_server" '^echo_server: listening'
clients=()
for i in 1 2 3; do
  net=$((4 * i))
  itest_bg "$WORK/echo_client$i" timeout 60 "$EX/bulk" send --connect 192.0.2.2:7 --bytes "$ECHO" \
    --seed "$i" --ifname "synack$((i + 1))" --addr "198.51.100.$((net + 2))/30" --peer "198.51.100.$((net + 1))" \
    --gateway "198.51.100.$((net + 1))"
  clients+=("$ITEST_LAST_PID")
done
for i in 1 2 3; do itest_wait "${clients[$((i - 1))]}" "echo client $i"; done
itest_wait "$server" echo_server
for i in 1 2 3; do
  same_digest "$WORK/echo_client$i" sent "$WORK/echo_client$i" received "echo_server client $i"
  itest_expect "$WORK/echo_server" "^echo_server: 198\.51\.100\.$((4 * i + 2)):[0-9]+ echoed $ECHO bytes, closed\$" \
    "echo_server's report of client $i"
done
itest_log "echo_server with 3 clients at once: ok"

# 4. echo_server --count 0 stops on SIGTERM: its idle client (the kernel's) gets EOF, exit 0.
itest_bg "$WORK/echo_sigterm" timeout 30 "$EX/echo_server" "${SERVER[@]}"
server=$ITEST_LAST_PID
itest_wait_for "$WORK/echo_sigterm" '^echo_server: listening'
timeout 20 python3 - "$server" <<'EOF' || itest_fail "echo_server: SIGTERM with a client connected (see above)"
import os, signal, socket, sys
s = socket.create_connection(("192.0.2.2", 7), timeout=10)
s.sendall(b"ping")
assert s.recv(16) == b"ping"
os.kill(int(sys.argv[1]), signal.SIGTERM)
assert s.recv(16) == b"", "expected the server's FIN"
EOF
itest_wait "$server" "echo_server after SIGTERM"
itest_log "echo_server: SIGTERM closes the idle client and exits 0: ok"
itest_log "all cases passed"
