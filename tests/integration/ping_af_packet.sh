#!/bin/bash
# tests/integration/ping_af_packet.sh BUILD_DIR: the kernel pings synack over a veth pair,
# synack's end driven through AF_PACKET (Ethernet + ARP in synack).
#
# Two network namespaces this script creates (docs/examples.md, "The integration tests"): A,
# where the script runs, holds veth0 (no kernel address; synack_link_responder binds AF_PACKET
# to it, synack is 192.0.2.2/24 with veth0's MAC); B, held by a `sleep` the script starts (and ends by pid),
# holds veth1 with the kernel's 192.0.2.1/24. Both disappear with their last process, so
# nothing is left behind even on failure. `ping -c 20 192.0.2.2` from B must get 20 replies
# (the kernel resolves 192.0.2.2 through synack's ARP), and tshark must find no malformed
# packet and no bad checksum in synack's pcap.
# Exit: 0 pass, 1 fail, 77 skipped (no privilege to create a network namespace).
set -u

build=${1:?usage: ping_af_packet.sh BUILD_DIR}
helper="$build/tests/integration/synack_link_responder"

if [ "${2:-}" != "--inside" ]; then
  if [ ! -x "$helper" ]; then
    echo "ping_af_packet: $helper is not built (ninja synack_link_responder)" >&2
    exit 1
  fi
  if ! unshare --net true 2>/dev/null; then
    echo "ping_af_packet: SKIPPED: creating a network namespace needs root or CAP_NET_ADMIN" \
         "(or run inside: unshare --user --map-root-user --net)" >&2
    exit 77
  fi
  work=$(mktemp -d /tmp/synack-ping-af-packet.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  # Bounded: the whole run stops after 120 s whatever happens.
  timeout --kill-after=5 120 unshare --net bash "$0" "$build" --inside "$work"
  exit $?
fi

# ---- inside namespace A ----------------------------------------------------------------
work=$3
ip link set lo up

# Namespace B, alive while this sleep runs (at most 100 s).
unshare --net sleep 100 &
b_pid=$!
helper_pid=
trap 'kill -KILL $helper_pid $b_pid 2>/dev/null' EXIT
here=$(readlink /proc/self/ns/net)
for _ in $(seq 100); do
  there=$(readlink "/proc/$b_pid/ns/net" 2>/dev/null) || break
  [ "$there" != "$here" ] && break
  sleep 0.01
done
inb() { nsenter --net="/proc/$b_pid/ns/net" "$@"; }
fail() {
  echo "ping_af_packet: FAIL: $*" >&2
  exit 1
}

ip link add veth0 type veth peer name veth1 netns "/proc/$b_pid/ns/net" || fail "cannot create the veth pair"
sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1 2>/dev/null
inb ip link set lo up
inb sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1 2>/dev/null
inb ip addr add 192.0.2.1/24 dev veth1 || fail "cannot address veth1"
inb ip link set veth1 up || fail "cannot set veth1 up"

"$helper" --link af_packet --ifname veth0 --addr 192.0.2.2/24 \
  --pcap "$work/af_packet.pcap" --seconds 60 >"$work/helper.out" 2>&1 &
helper_pid=$!
for _ in $(seq 100); do # up to 5 s
  grep -q '^ready' "$work/helper.out" 2>/dev/null && break
  kill -0 "$helper_pid" 2>/dev/null || break
  sleep 0.05
done
if ! grep -q '^ready' "$work/helper.out"; then
  cat "$work/helper.out" >&2
  fail "the responder did not start"
fi
# The kernel drops what veth1 sends until it has finished bringing the link up.
for _ in $(seq 100); do
  inb ip -o link show veth1 | grep -q 'state UP' && break
  sleep 0.02
done

status=0
inb ping -c 20 -i 0.05 -W 2 -q 192.0.2.2 >"$work/ping.out" 2>&1
ping_rc=$?
cat "$work/ping.out"
if [ $ping_rc -ne 0 ] || ! grep -q '20 packets transmitted, 20 received' "$work/ping.out"; then
  echo "ping_af_packet: FAIL: not every ping was answered" >&2
  status=1
fi
mac=$(ip -br link show veth0 | awk '{print $3}')
[ -n "$mac" ] || fail "cannot read veth0's MAC address"
neigh=$(inb ip neigh show 192.0.2.2 dev veth1)
echo "kernel's neighbour entry: $neigh (synack's MAC: $mac)"
if ! grep -q -i "$mac" <<<"$neigh"; then
  echo "ping_af_packet: FAIL: the kernel did not resolve 192.0.2.2 to synack's MAC" >&2
  status=1
fi

kill -TERM "$helper_pid"
wait "$helper_pid"
helper_rc=$?
kill -TERM "$b_pid" 2>/dev/null
wait "$b_pid" 2>/dev/null
cat "$work/helper.out"
if [ $helper_rc -ne 0 ]; then
  echo "ping_af_packet: FAIL: the responder exited with $helper_rc" >&2
  status=1
fi
grep -q 'echo replies sent' "$work/helper.out" || { echo "ping_af_packet: FAIL: no echo reply counted" >&2; status=1; }
grep -qE 'arp: +[0-9]+ replies sent' "$work/helper.out" || { echo "ping_af_packet: FAIL: no ARP reply counted" >&2; status=1; }

if command -v tshark >/dev/null 2>&1; then
  opts=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE)
  n=$(tshark -r "$work/af_packet.pcap" "${opts[@]}" -Y icmp 2>/dev/null | wc -l)
  a=$(tshark -r "$work/af_packet.pcap" "${opts[@]}" -Y arp 2>/dev/null | wc -l)
  echo "ping_af_packet: tshark reads $n ICMP and $a ARP packets"
  if [ "$n" -lt 40 ] || [ "$a" -lt 2 ]; then
    echo "ping_af_packet: FAIL: expected at least 40 ICMP and 2 ARP packets in the pcap" >&2
    status=1
  fi
  if tshark -r "$work/af_packet.pcap" "${opts[@]}" -V 2>&1 |
     grep -E -i 'malformed|\[incorrect|checksum status: bad|Expert Info \(Error' >&2; then
    echo "ping_af_packet: FAIL: tshark found malformed packets or bad checksums" >&2
    status=1
  fi
else
  echo "ping_af_packet: tshark is not installed: the pcap was not checked"
fi

[ $status -eq 0 ] && echo "ping_af_packet: PASS"
exit $status
