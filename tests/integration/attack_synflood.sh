#!/usr/bin/env bash
# tests/integration/attack_synflood.sh BUILD_DIR: a SYN flood against a running synack server.
#
# Inside a network namespace of its own: examples/http_server (synack, 192.0.2.2, AF_PACKET on
# veth end sf0) and the kernel (192.0.2.1 on sf1). common/attack_sender.py writes 100,000 SYNs
# (SYNACK_TEST_SCALE scales it) with random sources in 198.51.100.0/24 and random ports onto
# sf1, bounded in count and to 30 s. The server's SYN-ACKs to those sources go to the kernel
# (synack's --gateway) and end in a blackhole route: nothing leaves the namespace.
# Meanwhile and afterwards the kernel (curl) fetches a page: it must always get it (SYN
# cookies answer once the SYN backlog of 256 is full). Checked from /stats and /proc: SYN
# cookies sent and accepted, the connection table bounded by the SYN backlog, the server's RSS
# bounded, and it still serves after the flood.
# Exit: 0 pass, 1 fail, 77 skipped (not root, or python3 / curl missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
itest_init "$@"
itest_need_tools python3 curl
itest_need_examples http_server

COUNT=$(python3 -c "import sys; print(max(10000, int(100000 * float(sys.argv[1]))))" "$SCALE")
itest_veth sf0 sf1 192.0.2.1/24
ip route add blackhole 198.51.100.0/24 # the SYN-ACKs to the spoofed sources end here
MAC=02:00:00:00:02:02

itest_bg "$WORK/server" timeout 120 "$EX/http_server" --link af_packet --ifname sf0 --mac $MAC --gateway 192.0.2.1
SERVER=$ITEST_LAST_PID
itest_wait_for "$WORK/server" 'listening on' 10

# The server process itself (SERVER is its `timeout`): its resident memory.
PROG=$(awk '{print $1}' "/proc/$SERVER/task/$SERVER/children")
[ -n "$PROG" ] || itest_fail "cannot find the http_server process under timeout ($SERVER)"
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PROG/status"; }
fetch() { curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://192.0.2.2:8080/${1:-}"; }
stat_value() { sed -nE "s/^ *tcp: +([0-9]+) $1\$/\\1/p" "$2" | head -n1; }

[ "$(fetch)" = 200 ] || itest_fail "the server does not answer before the flood"
RSS_BEFORE=$(rss_kib)

itest_bg "$WORK/flood" timeout 60 python3 "$HERE/common/attack_sender.py" synflood --ifname sf1 --dst-mac $MAC \
  --dst 192.0.2.2 --port 8080 --count "$COUNT" --seconds 30
FLOOD=$ITEST_LAST_PID

# During the flood: a legitimate client every 0.2 s; the RSS sampled.
ok=0 tries=0 peak=$RSS_BEFORE
while kill -0 "$FLOOD" 2>/dev/null; do
  tries=$((tries + 1))
  code=$(fetch) || true
  [ "$code" = 200 ] && ok=$((ok + 1))
  r=$(rss_kib)
  [ "$r" -gt "$peak" ] && peak=$r
  [ "$tries" -lt 300 ] || break
  sleep 0.2
done
itest_wait "$FLOOD" "the flood sender"
cat "$WORK/flood"
curl -sS --max-time 5 "http://192.0.2.2:8080/stats" >"$WORK/stats" || itest_fail "/stats after the flood"
r=$(rss_kib)
[ "$r" -gt "$peak" ] && peak=$r

# Afterwards: the server still serves, several times.
for i in 1 2 3 4 5; do [ "$(fetch)" = 200 ] || itest_fail "request $i after the flood failed"; done

cat "$WORK/stats"
received=$(sed -nE 's/^ +ip: +([0-9]+) total packets received$/\1/p' "$WORK/stats")
cookies=$(stat_value "SYN cookies sent" "$WORK/stats")
cookies_ok=$(stat_value "SYN cookies accepted" "$WORK/stats")
table=$(stat_value "connections in the table" "$WORK/stats")
itest_log "flood: $(cat "$WORK/flood"); server received ${received:-0} packets"
itest_log "legitimate requests during the flood: $ok of $tries answered"
itest_log "SYN cookies sent ${cookies:-0}, accepted ${cookies_ok:-0}; connections in the table $table"
itest_log "RSS: ${RSS_BEFORE} KiB before, peak ${peak} KiB"

[ "${cookies:-0}" -gt 0 ] || itest_fail "no SYN cookie was sent"
# Every request during the flood was answered (a SYN lost in a full queue is retried by the
# kernel within the 5 s limit).
[ "$tries" -gt 0 ] && [ "$ok" -eq "$tries" ] || itest_fail "only $ok of $tries requests were answered during the flood"
# The table: at most the SYN backlog (256), the accept queue and a few of ours.
[ "$table" -le 400 ] || itest_fail "$table connections in the table (bound: 256 SYN_RCVD + a few)"
# Memory: no growth with the flood's size (the sanitizer build's allocator keeps more).
limit=$((32 * 1024))
grep -q '^SYNACK_SANITIZE:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null && limit=$((256 * 1024))
[ $((peak - RSS_BEFORE)) -le $limit ] || itest_fail "RSS grew by $((peak - RSS_BEFORE)) KiB (bound $limit KiB)"

kill -TERM "$SERVER"
itest_wait "$SERVER" "http_server"
itest_log "ok"
