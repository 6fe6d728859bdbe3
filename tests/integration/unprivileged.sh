#!/usr/bin/env bash
# tests/integration/unprivileged.sh BUILD_DIR: the examples run without root, inside
# `unshare --user --map-root-user --net` (docs/examples.md, "Without root").
#
# As root, the test drops to the unprivileged user nobody (setpriv --reuid=65534
# --regid=65534 --clear-groups); as another user, it runs as that user. The programs and
# scripts are copied to a directory that user can read. Inside the user + network namespace:
#   - tun: tcp_server opens a tun device and the seed's Python client talks to it; where
#     /dev/net/tun is not accessible to unprivileged users (some machines make it 0600), the
#     test checks instead that tcp_server fails with one line and status 1, and says so;
#   - AF_PACKET on a veth pair (always possible with CAP_NET_ADMIN and CAP_NET_RAW in the
#     namespace): the seed's client -> tcp_server, 2 MiB kernel -> bulk with matching
#     SHA-256, curl -> http_server.
# Exit: 0 pass, 1 fail, 77 skipped (user namespaces not allowed, or a tool missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"

if [ "${2:-}" != --inner ]; then
  BUILD_DIR=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
  itest_need_tools unshare python3 curl
  [ -x /usr/bin/python3 ] || itest_skip "/usr/bin/python3 is missing (the unprivileged user's python)"
  itest_need_examples tcp_server bulk http_server
  stage=$(mktemp -d /tmp/synack-unprivileged.XXXXXX)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/examples" "$stage/common" "$stage/seed" "$stage/work"
  cp "$EX/tcp_server" "$EX/bulk" "$EX/http_server" "$stage/examples/"
  cp "$HERE/common/lib.bash" "$HERE/common/kpeer.py" "$stage/common/"
  cp "$HERE/seed/client.py" "$stage/seed/"
  cp "$0" "$stage/unprivileged.sh"
  chmod -R a+rX "$stage"
  if [ "$(id -u)" -eq 0 ]; then
    command -v setpriv >/dev/null || itest_skip "setpriv (util-linux) is not installed"
    runas=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    chown 65534:65534 "$stage/work"
    who="nobody (uid 65534)"
  else
    runas=()
    who="$(id -un) (uid $(id -u))"
  fi
  env=(env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$stage/work"
       ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" SYNACK_TEST_SCALE="${SYNACK_TEST_SCALE:-1}")
  if ! "${runas[@]}" "${env[@]}" unshare --user --map-root-user --net true 2>"$stage/userns.err"; then
    itest_skip "user namespaces are not allowed for $who here ($(head -n1 "$stage/userns.err")); see sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces"
  fi
  itest_log "running as $who in unshare --user --map-root-user --net"
  rc=0
  timeout --kill-after=5 120 "${runas[@]}" "${env[@]}" \
    unshare --user --map-root-user --net -- bash "$stage/unprivileged.sh" "$stage" --inner || rc=$?
  exit "$rc"
fi

# ---- inside the user and network namespace, as the unprivileged user's "root" ----
stage=$1
BUILD_DIR=$stage
EX=$stage/examples
WORK=$stage/work
ITEST_NAME=unprivileged
trap itest_cleanup EXIT
trap 'exit 130' INT TERM
ip link set lo up
itest_log "uid_map: $(tr -s ' ' <"/proc/self/uid_map")"

# tun: works where /dev/net/tun is open to everyone (the usual 0666).
rc=0
timeout 10 "$EX/tcp_server" --ifname synack0 --count 1 >"$WORK/tun.server" 2>&1 &
server=$!
ITEST_PIDS+=("$server")
for _ in $(seq 100); do
  grep -q '^listening' "$WORK/tun.server" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.05
done
if grep -q '^listening on 192\.0\.2\.2:7788' "$WORK/tun.server"; then
  timeout 10 python3 "$stage/seed/client.py" 192.0.2.2 7788 "unprivileged over tun" >"$WORK/tun.client" 2>&1 ||
    { cat "$WORK/tun.client" >&2; itest_fail "tun: the seed's client failed"; }
  itest_wait "$server" "tun: tcp_server"
  itest_expect "$WORK/tun.client" '^Received data: thank you !$' "tun: the client's output"
  itest_expect "$WORK/tun.server" '^received from 192\.0\.2\.1:[0-9]+: unprivileged over tun$' "tun: the server's output"
  itest_log "tun: the seed's client -> tcp_server without root: ok"
else
  wait "$server" || rc=$?
  [ "$rc" -eq 1 ] && [ "$(wc -l <"$WORK/tun.server")" -eq 1 ] && grep -q '^cannot open tun device synack0: ' "$WORK/tun.server" ||
    { cat "$WORK/tun.server" >&2; itest_fail "tun: tcp_server failed (status $rc) without a one-line error"; }
  itest_log "tun: NOT RUN: /dev/net/tun is not open to unprivileged users on this machine ($(stat -c '%a %U' /dev/net/tun 2>/dev/null)); tcp_server said: $(cat "$WORK/tun.server") (status 1)"
fi

# AF_PACKET on a veth pair.
itest_veth sy0 sy1 192.0.2.1/24
LINK=(--link af_packet --ifname sy0 --mac 02:00:00:00:02:02)
itest_bg "$WORK/afp.server" timeout 10 "$EX/tcp_server" "${LINK[@]}"
server=$ITEST_LAST_PID
itest_wait_for "$WORK/afp.server" '^listening on 192\.0\.2\.2:7788'
timeout 10 python3 "$stage/seed/client.py" 192.0.2.2 7788 "unprivileged over af_packet" >"$WORK/afp.client" 2>&1 ||
  { cat "$WORK/afp.client" "$WORK/afp.server" >&2; itest_fail "af_packet: the seed's client failed"; }
itest_wait "$server" "af_packet: tcp_server"
itest_expect "$WORK/afp.client" '^Received data: thank you !$' "af_packet: the client's output"
itest_expect "$WORK/afp.server" '^received from 192\.0\.2\.1:[0-9]+: unprivileged over af_packet$' "af_packet: the server's output"
itest_log "af_packet: the seed's client -> tcp_server without root: ok"

itest_bg "$WORK/afp.bulk" timeout 30 "$EX/bulk" recv --listen 5001 "${LINK[@]}"
bulk=$ITEST_LAST_PID
itest_wait_for "$WORK/afp.bulk" '^listening'
timeout 30 python3 "$stage/common/kpeer.py" send --connect 192.0.2.2:5001 --bytes 2M >"$WORK/afp.kpeer" 2>&1 ||
  { cat "$WORK/afp.kpeer" "$WORK/afp.bulk" >&2; itest_fail "af_packet: the kernel's sender failed"; }
itest_wait "$bulk" "af_packet: bulk recv"
sent=$(itest_field "$WORK/afp.kpeer" '^sent ([0-9]+ bytes sha256=[0-9a-f]+)$')
got=$(itest_field "$WORK/afp.bulk" '^received ([0-9]+ bytes sha256=[0-9a-f]+)$')
[ -n "$sent" ] && [ "$sent" = "$got" ] || itest_fail "af_packet: the kernel sent '$sent', bulk received '$got'"
itest_log "af_packet: 2 MiB kernel -> bulk, SHA-256 equal: ok"

itest_bg "$WORK/afp.http" timeout 30 "$EX/http_server" --port 8080 "${LINK[@]}"
http=$ITEST_LAST_PID
itest_wait_for "$WORK/afp.http" '^http_server: listening'
page=$(timeout 10 curl -sS http://192.0.2.2:8080/) || itest_fail "af_packet: curl failed"
grep -q 'Hello from synack' <<<"$page" || itest_fail "af_packet: unexpected page: $page"
kill -TERM "$http"
itest_wait "$http" "af_packet: http_server after SIGTERM"
itest_log "af_packet: curl -> http_server, SIGTERM -> exit 0: ok"
