#!/usr/bin/env bash
# tests/integration/kernel_interop.sh BUILD_DIR: synack's TCP against the Linux kernel's TCP.
#
# Inside a network namespace of its own, examples/bulk (synack, 192.0.2.2 on a tun device or,
# for the last case, AF_PACKET on a veth pair) and common/kpeer.py (the kernel's sockets,
# 192.0.2.1) exchange data; every case compares the SHA-256 and byte count each side printed.
#   1. the kernel connects to synack and sends 50 MiB; the kernel closes first. Options: synack's
#      --info says MSS, window scale, SACK and timestamps were negotiated; the kernel's side is
#      read with `ss -tin` while the connection is open (plus TCP_INFO, since some ss versions
#      omit "ts" and "sack"); the window scales and MSS of both sides must agree.
#      The tun has its default offload: synack received GRO-coalesced packets (far fewer IP
#      packets than MSS-sized segments).
#   2. synack connects to the kernel and sends 50 MiB; synack closes first (TIME_WAIT). The tun
#      has its default offload: synack's counters must show TSO super-segments (far fewer IP
#      packets than TCP segments). 2b: both directions again (8 MiB) with --no-offload.
#   3. closes driven by each side: synack receives 1 MiB and closes first; synack sends and
#      waits for the kernel's FIN; an echo both ways (synack echoes what the kernel sends).
#   4. a kernel RST (SO_LINGER {1, 0} + close) ends synack's connection with connection_reset,
#      while synack receives and while it sends.
#   5. the 50 MiB case 1 and 2 over AF_PACKET (8 MiB each way). Sending, synack's packet socket
#      has its default offload (PACKET_VNET_HDR): its counters must show TSO super-segments; and
#      once more without offload.
# Volumes scale with SYNACK_TEST_SCALE (the sanitizer build runs smaller ones).
# Exit: 0 pass, 1 fail, 77 skipped (not root, or python3 or ss missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
itest_init "$@"
itest_need_tools python3 ss
itest_need_examples bulk
KPEER=(python3 "$HERE/common/kpeer.py")

BIG=$(itest_scaled $((50 << 20)))
SMALL=$((1 << 20))
AFP=$(itest_scaled $((8 << 20)))
LINK=(--link tun --ifname synack0)

# check_tso NAME: synack's counters (bulk --counters) show TSO super-segments: each IP packet it
# wrote carried many TCP segments (the kernel cut them).
check_tso() {
  local name=$1 s=$WORK/$1.synack ip_out tcp_out
  ip_out=$(itest_field "$s" '^ +ip: +([0-9]+) requests sent')
  tcp_out=$(itest_field "$s" '^ +tcp: +([0-9]+) segments sent out')
  if [ -z "$ip_out" ] || [ -z "$tcp_out" ] || [ $((ip_out * 4)) -gt "$tcp_out" ]; then
    cat "$s" >&2
    itest_fail "$name: no TSO super-segments: $ip_out IP packets for $tcp_out TCP segments"
  fi
  itest_log "$name: offload: $ip_out IP packets carried $tcp_out TCP segments"
}

# synack_listens NAME "BULK ARGS" "KPEER ARGS": synack accepts, the kernel connects.
synack_listens() {
  local name=$1 s=$WORK/$1.synack k=$WORK/$1.kernel
  # shellcheck disable=SC2086
  itest_bg "$s" timeout 60 "$EX/bulk" $2 "${LINK[@]}"
  local pid=$ITEST_LAST_PID
  itest_wait_for "$s" '^listening' 10
  # shellcheck disable=SC2086
  timeout 60 "${KPEER[@]}" $3 >"$k" 2>&1 || { cat "$s" "$k" >&2; itest_fail "$name: the kernel side failed"; }
  wait "$pid" || SYNACK_RC=$?
}
# kernel_listens NAME "BULK ARGS" "KPEER ARGS": the kernel accepts, synack connects.
kernel_listens() {
  local name=$1 s=$WORK/$1.synack k=$WORK/$1.kernel
  # shellcheck disable=SC2086
  itest_bg "$k" timeout 60 "${KPEER[@]}" $3
  local pid=$ITEST_LAST_PID
  itest_wait_for "$k" '^listening' 10
  # shellcheck disable=SC2086
  timeout 60 "$EX/bulk" $2 "${LINK[@]}" >"$s" 2>&1 || SYNACK_RC=$?
  wait "$pid" || { cat "$s" "$k" >&2; itest_fail "$name: the kernel side failed"; }
}
run_case() { # run_case synack_listens|kernel_listens NAME BULK KPEER [expected synack status]
  SYNACK_RC=0
  "$1" "$2" "$3" "$4"
  if [ "$SYNACK_RC" -ne "${5:-0}" ]; then
    cat "$WORK/$2.synack" "$WORK/$2.kernel" >&2
    itest_fail "$2: bulk exited with $SYNACK_RC, expected ${5:-0}"
  fi
}

# check_transfer NAME BYTES_SYNACK_SENT BYTES_KERNEL_SENT: both directions arrived intact.
check_transfer() {
  local name=$1 s=$WORK/$1.synack k=$WORK/$1.kernel
  local re_sent='^sent ([0-9]+ bytes sha256=[0-9a-f]{64})$' re_recv='^received ([0-9]+ bytes sha256=[0-9a-f]{64})$'
  local s_sent s_recv k_sent k_recv
  s_sent=$(itest_field "$s" "$re_sent")
  s_recv=$(itest_field "$s" "$re_recv")
  k_sent=$(itest_field "$k" "$re_sent")
  k_recv=$(itest_field "$k" "$re_recv")
  if [ -z "$s_sent" ] || [ "$s_sent" != "$k_recv" ] || [ "$k_sent" != "$s_recv" ] ||
    [ "${s_sent%% *}" != "$2" ] || [ "${k_sent%% *}" != "$3" ]; then
    cat "$s" "$k" >&2
    itest_fail "$name: the data differ (synack sent $s_sent / kernel received $k_recv; kernel sent $k_sent / synack received $s_recv)"
  fi
  itest_log "$name: ok: synack sent ${s_sent%% *} B, received ${s_recv%% *} B, digests match; $(grep '^closed' "$s")"
}

# check_options NAME: the options each side reports agree.
check_options() {
  local name=$1 s=$WORK/$1.synack k=$WORK/$1.kernel
  itest_expect "$s" '^info: state=ESTABLISHED .* wscale=1 .* sack=1 ts=1 ' "$name: synack's negotiated options"
  itest_expect "$k" '^ss: .*wscale:[0-9]+,[0-9]+ .*mss:[0-9]+' "$name: the kernel's ss -tin line"
  local ss_line ti_line
  ss_line=$(grep '^ss: ' "$k")
  ti_line=$(grep '^tcp_info: ' "$k")
  # ts and sack: ss prints them where it can; TCP_INFO always has them.
  for opt in ts sack; do
    if ! grep -qw "$opt" <<<"${ss_line#ss: }" && ! grep -qE "options=([a-z]+,)*$opt(,|$| )" <<<"$ti_line"; then
      itest_fail "$name: the kernel did not negotiate $opt: $ss_line / $ti_line"
    fi
  done
  local k_snd k_rcv k_mss s_snd s_rcv s_mss s_peer_mss
  k_snd=$(sed -nE 's/.*wscale:([0-9]+),([0-9]+).*/\1/p' <<<"$ss_line")
  k_rcv=$(sed -nE 's/.*wscale:([0-9]+),([0-9]+).*/\2/p' <<<"$ss_line")
  k_mss=$(sed -nE 's/.* mss:([0-9]+).*/\1/p' <<<"$ss_line")
  s_snd=$(itest_field "$s" '^info: .* snd_wscale=([0-9]+) .*')
  s_rcv=$(itest_field "$s" '^info: .* rcv_wscale=([0-9]+) .*')
  s_mss=$(itest_field "$s" '^info: .* mss=([0-9]+) peer_mss.*')
  s_peer_mss=$(itest_field "$s" '^info: .* peer_mss=([0-9]+) .*')
  # The kernel's send scale is the one synack announced for its receive window, and so on.
  [ "$k_snd" = "$s_rcv" ] && [ "$k_rcv" = "$s_snd" ] ||
    itest_fail "$name: window scales disagree: kernel wscale:$k_snd,$k_rcv, synack snd=$s_snd rcv=$s_rcv"
  # Both send 1460 - 12 (timestamps) = 1448-byte segments on a 1500-byte MTU.
  [ "$k_mss" = 1448 ] && [ "$s_mss" = 1448 ] && [ "$s_peer_mss" = 1460 ] ||
    itest_fail "$name: MSS: kernel mss:$k_mss, synack mss=$s_mss peer_mss=$s_peer_mss (expected 1448, 1448, 1460)"
  itest_log "$name: options ok: kernel wscale:$k_snd,$k_rcv mss:$k_mss ts sack; synack snd_wscale=$s_snd rcv_wscale=$s_rcv mss=$s_mss"
}

# 1. kernel -> synack, 50 MiB; the kernel closes first, synack follows (CLOSE_WAIT, LAST_ACK).
run_case synack_listens k2s "recv --listen 5001 --info --counters" "send --connect 192.0.2.2:5001 --bytes $BIG --ss"
check_options k2s
check_transfer k2s 0 "$BIG"
itest_expect "$WORK/k2s.synack" '^closed CLOSED ' "k2s: synack closed second (LAST_ACK -> CLOSED)"
# GRO: the kernel handed synack coalesced segments (far fewer packets than MSS-sized segments).
ip_in=$(itest_field "$WORK/k2s.synack" '^ +ip: +([0-9]+) total packets received')
if [ -z "$ip_in" ] || [ $((ip_in * 4)) -gt $((BIG / 1448)) ]; then
  cat "$WORK/k2s.synack" >&2
  itest_fail "k2s: no coalesced segments: $ip_in IP packets for $BIG bytes"
fi
itest_log "k2s: offload: $ip_in IP packets carried $BIG bytes"

# 2. synack -> kernel, 50 MiB; synack closes first (FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT).
run_case kernel_listens s2k "send --connect 192.0.2.1:5002 --bytes $BIG --info --counters" "recv --listen 192.0.2.1:5002 --ss"
check_options s2k
check_transfer s2k "$BIG" 0
itest_expect "$WORK/s2k.synack" '^closed TIME_WAIT ' "s2k: synack closed first (TIME_WAIT)"
check_tso s2k

# 2b. the same without offload: bare 1500-byte packets and full checksums both ways.
run_case synack_listens k2s_plain "recv --listen 5021 --no-offload" "send --connect 192.0.2.2:5021 --bytes $AFP"
check_transfer k2s_plain 0 "$AFP"
run_case kernel_listens s2k_plain "send --connect 192.0.2.1:5022 --bytes $AFP --no-offload" \
  "recv --listen 192.0.2.1:5022"
check_transfer s2k_plain "$AFP" 0

# 3. who closes: synack receives 1 MiB and closes first; synack sends and the kernel closes
#    first; synack echoes the kernel's 1 MiB and closes when the kernel has.
run_case synack_listens recv_close_first "recv --listen 5003 --bytes $SMALL --close first" \
  "send --connect 192.0.2.2:5003 --bytes $SMALL --close wait"
check_transfer recv_close_first 0 "$SMALL"
itest_expect "$WORK/recv_close_first.synack" '^closed TIME_WAIT ' "recv_close_first: synack closed first"
run_case kernel_listens send_close_wait "send --connect 192.0.2.1:5004 --bytes $SMALL --close wait" \
  "recv --listen 192.0.2.1:5004 --bytes $SMALL --close first"
check_transfer send_close_wait "$SMALL" 0
itest_expect "$WORK/send_close_wait.synack" '^closed CLOSED ' "send_close_wait: the kernel closed first"
run_case synack_listens echo "echo --listen 5005" "send --connect 192.0.2.2:5005 --bytes $SMALL"
check_transfer echo "$SMALL" "$SMALL"

# 4. a RST from the kernel: synack's recv, then synack's send, fail with connection_reset.
run_case kernel_listens rst_recv "recv --connect 192.0.2.1:5006" \
  "send --listen 192.0.2.1:5006 --bytes $SMALL --close rst" 1
itest_expect "$WORK/rst_recv.synack" '^bulk: error: recv: connection_reset ' "rst_recv: synack saw the RST"
itest_log "rst_recv: ok: $(grep '^bulk: error' "$WORK/rst_recv.synack")"
run_case kernel_listens rst_send "send --connect 192.0.2.1:5007 --bytes $BIG" \
  "recv --listen 192.0.2.1:5007 --bytes $SMALL --close rst" 1
itest_expect "$WORK/rst_send.synack" '^bulk: error: (send|recv): connection_reset ' "rst_send: synack saw the RST"
itest_log "rst_send: ok: $(grep '^bulk: error' "$WORK/rst_send.synack")"

# 5. the same over AF_PACKET: synack on veth end sy0 (its own MAC), the kernel on sy1.
itest_veth sy0 sy1 192.0.2.1/24
LINK=(--link af_packet --ifname sy0 --mac 02:00:00:00:02:02)
run_case synack_listens afp_k2s "recv --listen 5011 --info" "send --connect 192.0.2.2:5011 --bytes $AFP --ss"
check_options afp_k2s
check_transfer afp_k2s 0 "$AFP"
run_case kernel_listens afp_s2k "send --connect 192.0.2.1:5012 --bytes $AFP --counters" "recv --listen 192.0.2.1:5012"
check_transfer afp_s2k "$AFP" 0
check_tso afp_s2k
run_case kernel_listens afp_s2k_plain "send --connect 192.0.2.1:5013 --bytes $AFP --no-offload" \
  "recv --listen 192.0.2.1:5013"
check_transfer afp_s2k_plain "$AFP" 0
itest_log "all cases passed"
