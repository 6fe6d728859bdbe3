#!/bin/bash
# tests/integration/ping_tun.sh BUILD_DIR: the kernel pings synack through a tun device.
#
# Inside a network namespace this script creates (it disappears with its last process, so
# nothing is left behind even on failure; docs/examples.md, "The integration tests"),
# synack_link_responder runs the whole stack on a tun device it creates (kernel side
# 192.0.2.1/24, synack 192.0.2.2) and records a pcap. `ping -c 20 192.0.2.2` from the kernel
# side must get 20 replies, and tshark must find no malformed packet and no bad checksum in
# the pcap.
# Exit: 0 pass, 1 fail, 77 skipped (no privilege to create a network namespace).
set -u

build=${1:?usage: ping_tun.sh BUILD_DIR}
helper="$build/tests/integration/synack_link_responder"

if [ "${2:-}" != "--inside" ]; then
  if [ ! -x "$helper" ]; then
    echo "ping_tun: $helper is not built (ninja synack_link_responder)" >&2
    exit 1
  fi
  if ! unshare --net true 2>/dev/null; then
    echo "ping_tun: SKIPPED: creating a network namespace needs root or CAP_NET_ADMIN" \
         "(or run inside: unshare --user --map-root-user --net)" >&2
    exit 77
  fi
  work=$(mktemp -d /tmp/synack-ping-tun.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  # Bounded: the whole run stops after 120 s whatever happens.
  timeout --kill-after=5 120 unshare --net bash "$0" "$build" --inside "$work"
  exit $?
fi

# ---- inside the new network namespace --------------------------------------------------
work=$3
ip link set lo up

"$helper" --link tun --ifname synack0 --addr 192.0.2.2/24 --peer 192.0.2.1 \
  --pcap "$work/tun.pcap" --seconds 60 >"$work/helper.out" 2>&1 &
helper_pid=$!
stop_helper() {
  if kill -0 "$helper_pid" 2>/dev/null; then
    kill -TERM "$helper_pid"
    wait "$helper_pid"
    return $?
  fi
  wait "$helper_pid"
}
trap 'kill -KILL "$helper_pid" 2>/dev/null' EXIT

for _ in $(seq 100); do # up to 5 s
  grep -q '^ready' "$work/helper.out" 2>/dev/null && break
  kill -0 "$helper_pid" 2>/dev/null || break
  sleep 0.05
done
if grep -q 'cannot open /dev/net/tun\|no /dev/net/tun' "$work/helper.out"; then
  cat "$work/helper.out" >&2
  echo "ping_tun: SKIPPED: /dev/net/tun cannot be opened here" >&2
  exit 77
fi
if ! grep -q '^ready' "$work/helper.out"; then
  echo "ping_tun: FAIL: the responder did not start:" >&2
  cat "$work/helper.out" >&2
  exit 1
fi

status=0
ping -c 20 -i 0.05 -W 2 -q 192.0.2.2 >"$work/ping.out" 2>&1
ping_rc=$?
cat "$work/ping.out"
if [ $ping_rc -ne 0 ] || ! grep -q '20 packets transmitted, 20 received' "$work/ping.out"; then
  echo "ping_tun: FAIL: not every ping was answered" >&2
  status=1
fi

stop_helper
helper_rc=$?
cat "$work/helper.out"
if [ $helper_rc -ne 0 ]; then
  echo "ping_tun: FAIL: the responder exited with $helper_rc" >&2
  status=1
fi
if ! grep -q 'echo replies sent' "$work/helper.out"; then
  echo "ping_tun: FAIL: the responder counted no echo reply" >&2
  status=1
fi

if command -v tshark >/dev/null 2>&1; then
  opts=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)
  n=$(tshark -r "$work/tun.pcap" "${opts[@]}" -Y icmp 2>/dev/null | wc -l)
  echo "ping_tun: tshark reads $n ICMP packets"
  if [ "$n" -lt 40 ]; then
    echo "ping_tun: FAIL: expected at least 40 ICMP packets in the pcap" >&2
    status=1
  fi
  if tshark -r "$work/tun.pcap" "${opts[@]}" -V 2>&1 |
     grep -E -i 'malformed|\[incorrect|checksum status: bad|Expert Info \(Error' >&2; then
    echo "ping_tun: FAIL: tshark found malformed packets or bad checksums" >&2
    status=1
  fi
else
  echo "ping_tun: tshark is not installed: the pcap was not checked"
fi

[ $status -eq 0 ] && echo "ping_tun: PASS"
exit $status
