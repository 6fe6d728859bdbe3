#!/usr/bin/env bash
# tests/integration/demo.sh BUILD_DIR: the README's demo (scripts/demo.sh), run with the
# test's build directory (SYNACK_BUILD_DIR=BUILD_DIR scripts/demo.sh --no-build: no apt-get, no
# rebuild). Its output must show, in order, the 3-way handshake (client SYN, server SYN-ACK,
# client ACK), the data both ways (the client's text and "thank you !", printed by both
# programs), the close segments (a FIN from each side, the last one ACKed), and the table of
# the 11 states with every state but CLOSING marked [x].
# Exit: 0 pass, 1 fail, 77 skipped (not root, python3 missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
itest_init "$@"
itest_need_tools python3
itest_need_examples tcp_server tcp_client

SYNACK_BUILD_DIR=$BUILD_DIR timeout 60 "$HERE/../../scripts/demo.sh" --no-build >"$WORK/demo.out" 2>&1 ||
  { cat "$WORK/demo.out" >&2; itest_fail "scripts/demo.sh failed"; }

timeout 10 python3 - "$WORK/demo.out" <<'EOF' || { cat "$WORK/demo.out" >&2; itest_fail "the demo's output (see above)"; }
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
seg = re.compile(r"^ *[0-9.]+s  (client|server)  sends    (\S+) > (\S+) \[([A-Z.]+)\] .* len=(\d+)$")
sends = [m.groups() for m in map(seg.match, text.splitlines()) if m]
problems = []

def find(start, pred, what):
    for i in range(start, len(sends)):
        if pred(*sends[i]):
            return i
    problems.append(f"no {what} after segment {start}")
    return len(sends)

# The handshake, in order.
syn = find(0, lambda side, s, d, f, n: side == "client" and f == "S", "client SYN")
synack = find(syn, lambda side, s, d, f, n: side == "server" and f == "S.", "server SYN-ACK")
ack = find(synack, lambda side, s, d, f, n: side == "client" and f == "." and n == "0", "client ACK")
# The data, both ways.
data = find(ack, lambda side, s, d, f, n: side == "client" and "P" in f and int(n) > 0, "client data")
reply = find(ack, lambda side, s, d, f, n: side == "server" and int(n) == len("thank you !"), "server reply")
for line in ("[server] received from 198.51.100.2:", "hello from synack's tcp_client", "[client] received: thank you !"):
    if line not in text:
        problems.append(f"missing: {line}")
# The close: a FIN from each side, and an ACK of the later one from the other side.
fins = {side: i for i, (side, s, d, f, n) in reversed(list(enumerate(sends))) if "F" in f}
if set(fins) != {"client", "server"}:
    problems.append(f"FINs seen from {sorted(fins)} only")
else:
    last_side = max(fins, key=fins.get)
    other = "client" if last_side == "server" else "server"
    find(fins[last_side] + 1, lambda side, s, d, f, n: side == other and f == "." and n == "0", "ACK of the last FIN")
# The table of states.
for state in ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "CLOSE_WAIT",
              "FIN_WAIT_2", "LAST_ACK", "TIME_WAIT"):
    if not re.search(rf"^ \[x\] \S+ +\S+ +{state} ", text, re.M):
        problems.append(f"state {state} is not marked [x]")
if not re.search(r"^ \[ \] \S+ +\S+ +CLOSING ", text, re.M):
    problems.append("CLOSING should be listed and not visited")
for p in problems:
    print(f"[demo] {p}", file=sys.stderr)
print(f"[demo] {len(sends)} segments sent; handshake at {syn},{synack},{ack}; data at {data},{reply}; "
      f"FINs at {sorted(fins.values())}")
sys.exit(1 if problems else 0)
EOF
itest_log "the demo shows the handshake, the data, the close and 10 of the 11 states: ok"
