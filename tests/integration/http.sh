#!/usr/bin/env bash
# tests/integration/http.sh BUILD_DIR: examples/http_server (synack, 192.0.2.2:8080 on a tun
# device) with curl, wrk and raw requests from the kernel's side (192.0.2.1):
#   - curl: GET / (status, body, Content-Length), HEAD, /stats, 404, 405, "Connection: close",
#     and two URLs on one kept-alive connection;
#   - raw requests (python3): pipelined requests answered in order, 400 for a malformed
#     request, 431 for a too-large header section, 413 for a too-large body, HTTP/1.0;
#   - wrk -t2 -c50 -d3s, keep-alive and with "Connection: close": requests completed, no
#     socket errors, no non-2xx responses;
#   - SIGTERM: an idle kept-alive connection is closed, the server exits 0.
# Exit: 0 pass, 1 fail, 77 skipped (not root; curl, wrk or python3 missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
itest_init "$@"
itest_need_tools curl wrk python3
itest_need_examples http_server
URL=http://192.0.2.2:8080

itest_bg "$WORK/server" timeout 100 "$EX/http_server" --port 8080 --ifname synack0
server=$ITEST_LAST_PID
itest_wait_for "$WORK/server" '^http_server: listening on http://192\.0\.2\.2:8080/'

# curl_check NAME EXPECTED_STATUS CURL_ARGS...: the response's head and body in WORK/NAME.*
curl_check() {
  local name=$1 want=$2
  shift 2
  local got
  got=$(timeout 10 curl -sS -o "$WORK/$name.body" -D "$WORK/$name.head" -w '%{http_code}' "$@") ||
    itest_fail "$name: curl failed ($got)"
  [ "$got" = "$want" ] || { cat "$WORK/$name.head" >&2; itest_fail "$name: status $got, expected $want"; }
}
header() { tr -d '\r' <"$WORK/$1.head" | sed -nE "s/^$2: (.*)$/\\1/Ip" | head -n1; }

curl_check get 200 "$URL/"
grep -q '<h1>Hello from synack</h1>' "$WORK/get.body" || itest_fail "GET /: unexpected body"
[ "$(header get Content-Length)" = "$(stat -c %s "$WORK/get.body")" ] || itest_fail "GET /: Content-Length is not the body's size"
[ "$(header get Content-Type)" = "text/html; charset=utf-8" ] || itest_fail "GET /: Content-Type"
curl_check head 200 -I "$URL/"
[ "$(header head Content-Length)" = "$(header get Content-Length)" ] || itest_fail "HEAD /: Content-Length differs from GET's"
! grep -q "<h1>" "$WORK/head.body" || itest_fail "HEAD /: has a body" # (curl -I prints the head as its output)
curl_check stats 200 "$URL/stats"
grep -q '^http: ' "$WORK/stats.body" && grep -qE '^ +tcp: ' "$WORK/stats.body" || itest_fail "/stats: no counters"
curl_check missing 404 "$URL/no/such/page"
curl_check post 405 -X POST -d 'x=1' "$URL/"
[ "$(header post Allow)" = "GET, HEAD" ] || itest_fail "405 without Allow: GET, HEAD"
curl_check close 200 -H 'Connection: close' "$URL/"
[ "$(header close Connection)" = close ] || itest_fail "Connection: close was not answered with Connection: close"
timeout 10 curl -sS -v -o /dev/null -o /dev/null "$URL/" "$URL/stats" 2>"$WORK/reuse.log" || itest_fail "curl with two URLs failed"
grep -qiE 're-?using existing connection' "$WORK/reuse.log" || { cat "$WORK/reuse.log" >&2; itest_fail "curl did not reuse the kept-alive connection"; }
itest_log "curl: GET, HEAD, /stats, 404, 405, Connection: close, keep-alive reuse: ok"

# Raw requests: pipelining, errors, bounds.
timeout 20 python3 - <<'EOF' || itest_fail "raw requests (see above)"
import socket, sys

def exchange(data, expect_close=True):
    s = socket.create_connection(("192.0.2.2", 8080), timeout=5)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out

def statuses(raw):
    """The status of each response, framed by Content-Length (a HEAD's response has no body)."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, f"an incomplete response: {raw[:60]!r}"
        lines = head.split(b"\r\n")
        assert lines[0].startswith(b"HTTP/1.1 "), f"not a status line: {lines[0]!r}"
        out.append(int(lines[0].split()[1]))
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if heads and heads.pop(0):
            length = 0
        raw = rest[length:]
    return out

heads = []  # for each response expected, whether its request was a HEAD

def check(name, got, want):
    if got != want:
        print(f"{name}: got {got}, expected {want}", file=sys.stderr)
        sys.exit(1)
    shown = got if len(got) <= 8 else f"{len(got)} responses, {got[:2]} ... {got[-2:]}"
    print(f"[http] raw: {name}: {shown}")

host = b"Host: 192.0.2.2\r\n"
pipelined = (b"GET / HTTP/1.1\r\n" + host + b"\r\n" + b"GET /nope HTTP/1.1\r\n" + host + b"\r\n" +
             b"HEAD /stats HTTP/1.1\r\n" + host + b"\r\n" + b"GET /stats HTTP/1.1\r\n" + host +
             b"Connection: close\r\n\r\n")
heads = [False, False, True, False]
check("4 pipelined requests in one segment (GET, GET, HEAD, GET)", statuses(exchange(pipelined)), [200, 404, 200, 200])
many = (b"GET / HTTP/1.1\r\n" + host + b"\r\n") * 300 + b"GET /x HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"
check("301 pipelined requests", statuses(exchange(many)), [200] * 300 + [404])
check("a body is skipped, the next request answered",
      statuses(exchange(b"POST / HTTP/1.1\r\n" + host + b"Content-Length: 5\r\n\r\nhello" +
                        b"GET / HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n")), [405, 200])
check("malformed request line", statuses(exchange(b"GARBAGE\r\n\r\n")), [400])
check("HTTP/1.1 without Host", statuses(exchange(b"GET / HTTP/1.1\r\n\r\n")), [400])
check("a 9000-byte header section", statuses(exchange(b"GET / HTTP/1.1\r\n" + host + b"X: " + b"a" * 9000 + b"\r\n\r\n")), [431])
check("a 2 MB body", statuses(exchange(b"POST / HTTP/1.1\r\n" + host + b"Content-Length: 2000000\r\n\r\n")), [413])
check("HTTP/1.0 closes", statuses(exchange(b"GET / HTTP/1.0\r\n\r\n")), [200])
EOF
itest_log "raw: pipelining, 400, 431, 413, HTTP/1.0: ok"

# wrk_check NAME WRK_ARGS...: requests done, no socket errors, no non-2xx responses.
wrk_check() {
  local name=$1
  shift
  timeout 30 wrk -t2 -c50 -d3s "$@" "$URL/" >"$WORK/$name.wrk" 2>&1 || { cat "$WORK/$name.wrk" >&2; itest_fail "$name: wrk failed"; }
  local requests
  requests=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' "$WORK/$name.wrk")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || { cat "$WORK/$name.wrk" >&2; itest_fail "$name: no requests completed"; }
  if grep -q 'Socket errors' "$WORK/$name.wrk" &&
    ! grep -qE 'Socket errors: connect 0, read 0, write 0, timeout 0$' "$WORK/$name.wrk"; then
    cat "$WORK/$name.wrk" >&2
    itest_fail "$name: socket errors"
  fi
  if grep -q 'Non-2xx' "$WORK/$name.wrk"; then
    cat "$WORK/$name.wrk" >&2
    itest_fail "$name: non-2xx responses"
  fi
  itest_log "$name: ok: $requests requests, $(sed -nE 's/^Requests\/sec: *(.*)/\1/p' "$WORK/$name.wrk") requests/s"
}
wrk_check wrk_keepalive
wrk_check wrk_close -H 'Connection: close'

# Graceful shutdown: an idle kept-alive connection is closed by the server, which exits 0.
timeout 20 python3 - "$server" <<'EOF' || itest_fail "graceful shutdown (see above)"
import os, signal, socket, sys
s = socket.create_connection(("192.0.2.2", 8080), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
first = s.recv(65536)
assert first.startswith(b"HTTP/1.1 200 "), first[:40]
os.kill(int(sys.argv[1]), signal.SIGTERM)
rest = s.recv(65536)
assert rest == b"", f"expected the server's FIN, got {rest[:40]!r}"
print("[http] SIGTERM: the idle kept-alive connection was closed by the server")
EOF
itest_wait "$server" "http_server after SIGTERM"
itest_expect "$WORK/server" '^http_server: shutting down' "http_server's shutdown message"
itest_log "SIGTERM: graceful shutdown, exit 0: ok ($(tail -n1 "$WORK/server"))"
