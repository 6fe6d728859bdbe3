#!/usr/bin/env bash
# examples/tests/bad_arguments.sh BUILD_DIR: the examples answer bad input with one clear line
# on stderr and exit status 2, before they open any device (so no root is needed): numbers
# out of range say the range, options that do not fit together say why, and the end of input
# at tcp_client's prompts is reported as such. Valid options get past the parsing.
set -uo pipefail
ex=${1:?usage: bad_arguments.sh BUILD_DIR}/examples
for p in tcp_server tcp_client http_server bulk; do
  [ -x "$ex/$p" ] || { echo "FAIL: $ex/$p is not built"; exit 1; }
done
failures=0
checks=0
# As root, in a network namespace of its own: a regression that gets past the parsing must not
# create a tun device among this machine's interfaces.
sandbox=()
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && unshare --net true 2>/dev/null; then
  sandbox=(unshare --net)
fi

# expect STATUS REGEX STDIN COMMAND...: runs COMMAND with STDIN, checks its status and that its
# stderr is one line matching REGEX.
expect() {
  local want=$1 regex=$2 input=$3
  shift 3
  local err rc=0
  err=$(printf '%s' "$input" | timeout 5 "${sandbox[@]}" "$@" 2>&1 >/dev/null) || rc=$?
  checks=$((checks + 1))
  local shown="${*#"$ex/"}"
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $shown: status $rc, expected $want; said: $err"
    failures=$((failures + 1))
  elif ! grep -Eq -- "$regex" <<<"$err"; then
    echo "FAIL: $shown: said '$err', expected /$regex/"
    failures=$((failures + 1))
  elif [ "$want" -eq 2 ] && [ "$(wc -l <<<"$err")" -ne 1 ]; then
    echo "FAIL: $shown: more than one line: $err"
    failures=$((failures + 1))
  else
    echo "ok: $shown -> $rc: $err"
  fi
}

# Numbers: out of range says the range; only what is not a number says "not a number".
expect 2 '^tcp_server: --port 70000: must be between 1 and 65535$' '' "$ex/tcp_server" --port 70000
expect 2 '^tcp_server: --port 0: must be between 1 and 65535$' '' "$ex/tcp_server" --port 0
expect 2 '^tcp_server: --backlog -1: must be between 1 and 65535$' '' "$ex/tcp_server" --backlog -1
expect 2 '^tcp_server: --backlog=-1: must be between 1 and 65535$|^tcp_server: --backlog -1: must be between 1 and 65535$' \
  '' "$ex/tcp_server" --backlog=-1
expect 2 '^tcp_server: --count 99999999999999999999999: must be between 0 and 18446744073709551615$' '' \
  "$ex/tcp_server" --count 99999999999999999999999
expect 2 '^tcp_server: --port 77a: not a number$' '' "$ex/tcp_server" --port 77a
expect 2 '^tcp_server: --port : not a number \(empty\)$' '' "$ex/tcp_server" --port ''
expect 2 '^tcp_server: --mtu 100: must be between 576 and 65535$' '' "$ex/tcp_server" --mtu 100
expect 2 '^tcp_client: --port 70000: must be between 1 and 65535$' '' "$ex/tcp_client" --port 70000
expect 2 '^http_server: --max-connections 0: must be between 1 and 65536$' '' "$ex/http_server" --max-connections 0
expect 2 '^bulk: --bytes -5M: must be between' '' "$ex/bulk" send --connect 192.0.2.1:5001 --bytes -5M

# Addresses that do not fit together.
expect 2 '^tcp_server: --gateway 10\.0\.0\.1 is not in synack.s network 192\.0\.2\.0/24 \(--addr 192\.0\.2\.2/24\)' '' \
  "$ex/tcp_server" --gateway 10.0.0.1
expect 2 '^tcp_server: --gateway 192\.0\.2\.2 is synack.s own address' '' "$ex/tcp_server" --gateway 192.0.2.2
expect 2 '^tcp_server: --peer 192\.0\.2\.2 is synack.s own address \(--addr 192\.0\.2\.2/24\)' '' \
  "$ex/tcp_server" --peer 192.0.2.2
expect 2 '^tcp_client: --peer 192\.0\.2\.1 \(the default\) is synack.s own address' '' \
  "$ex/tcp_client" --addr 192.0.2.1/24 --ip 192.0.2.2 --port 1 --data x
expect 2 '^tcp_server: --peer 192\.0\.2\.1 \(the default\) is not in synack.s network 10\.0\.0\.0/24 .*no --gateway' '' \
  "$ex/tcp_server" --addr 10.0.0.2/24

# The end of input at tcp_client's prompts is not a bad address.
expect 2 '^tcp_client: server ip: no answer \(end of input\); give it with --ip$' '' "$ex/tcp_client"
expect 2 '^tcp_client: server port: no answer \(end of input\); give it with --port$' $'192.0.2.1\n' "$ex/tcp_client"
expect 2 '^tcp_client: data to send: no answer \(end of input\); give it with --data$' $'192.0.2.1\n7788\n' "$ex/tcp_client"
expect 2 "^tcp_client: server ip: 'nonsense' is not an IPv4 address" $'nonsense\n' "$ex/tcp_client"
expect 2 "^tcp_client: server port: '70000': must be between 1 and 65535$" $'192.0.2.1\n70000\n' "$ex/tcp_client"

# Controls: valid options get past the parsing and fail only at opening the link (status 1),
# with or without root (a missing interface, or no permission).
expect 1 '^cannot open AF_PACKET on nosuchif0: ' '' "$ex/tcp_server" --link af_packet --ifname nosuchif0 \
  --addr 10.0.0.2/24 --gateway 10.0.0.1 --port 65535 --backlog 1
expect 1 '^cannot open AF_PACKET on nosuchif0: ' $'192.0.2.1\n7788\nhello\n' "$ex/tcp_client" --link af_packet \
  --ifname nosuchif0 --addr 192.0.2.5/24 --peer 192.0.2.5
expect 0 '' '' "$ex/tcp_server" --help

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
