#!/usr/bin/env bash
# tests/integration/attack_malformed.sh BUILD_DIR: malformed packets of every kind at a running
# synack server.
#
# Inside a network namespace of its own: examples/http_server (synack, 192.0.2.2, AF_PACKET on
# veth end mf0) and the kernel (192.0.2.1 on mf1). common/attack_sender.py writes every kind of
# malformed IPv4/TCP packet onto mf1 (AF_PACKET: the bytes reach synack exactly as written):
# every truncation, bad versions, header and total lengths, a bad IP checksum, a fragment past
# 65535, a bad TCP checksum, TCP data offsets below 5 and past the segment, option lengths of
# 0 and 1 and past the header and wrong for their kind, a 127/8 source, a packet for another
# host; 200 rounds (SYNACK_TEST_SCALE scales it), bounded to 30 s. Meanwhile and afterwards the
# kernel (curl) fetches pages; /stats must show every kind of drop counted, and the server
# must exit cleanly on SIGTERM.
# Exit: 0 pass, 1 fail, 77 skipped (not root, or python3 / curl missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
itest_init "$@"
itest_need_tools python3 curl
itest_need_examples http_server

ROUNDS=$(python3 -c "import sys; print(max(20, int(200 * float(sys.argv[1]))))" "$SCALE")
itest_veth mf0 mf1 192.0.2.1/24
MAC=02:00:00:00:02:02

itest_bg "$WORK/server" timeout 120 "$EX/http_server" --link af_packet --ifname mf0 --mac $MAC
SERVER=$ITEST_LAST_PID
itest_wait_for "$WORK/server" 'listening on' 10

fetch() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://192.0.2.2:8080/${1:-}"; }
[ "$(fetch)" = 200 ] || itest_fail "the server does not answer before the flood"

itest_bg "$WORK/flood" timeout 60 python3 "$HERE/common/attack_sender.py" malformed --ifname mf1 --dst-mac $MAC \
  --dst 192.0.2.2 --src 192.0.2.1 --port 8080 --rounds "$ROUNDS" --seconds 30
FLOOD=$ITEST_LAST_PID
ok=0 tries=0
while kill -0 "$FLOOD" 2>/dev/null && [ "$tries" -lt 300 ]; do
  tries=$((tries + 1))
  [ "$(fetch)" = 200 ] && ok=$((ok + 1))
  sleep 0.1
done
itest_wait "$FLOOD" "the malformed-packet sender"
for i in 1 2 3; do [ "$(fetch)" = 200 ] || itest_fail "request $i after the flood failed"; done
curl -sS --max-time 5 "http://192.0.2.2:8080/stats" >"$WORK/stats" || itest_fail "/stats after the flood"
cat "$WORK/stats"
itest_log "$(cat "$WORK/flood"); legitimate requests during it: $ok of $tries answered"
[ "$ok" -eq "$tries" ] || itest_fail "only $ok of $tries requests were answered during the flood"

# Every kind of drop is counted (names as /stats prints them).
count() { sed -nE "s/^ *$1: +([0-9]+) $2\$/\\1/p" "$WORK/stats" | head -n1; }
for c in "ip|truncated packets" "ip|bad header \\(version or lengths\\)" "ip|bad header checksums" \
  "ip|packets not for us" "ip|martian sources" "tcp|bad segments \\(malformed\\)" "tcp|bad checksums"; do
  v=$(count "${c%%|*}" "${c#*|}")
  [ "${v:-0}" -ge "$ROUNDS" ] || itest_fail "counter '${c#*|}' is ${v:-0}, expected at least $ROUNDS"
done

kill -TERM "$SERVER"
itest_wait "$SERVER" "http_server"
itest_log "ok"
