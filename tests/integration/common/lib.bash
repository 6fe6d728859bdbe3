# tests/integration/common/lib.bash: what the integration tests share (their rules: docs/examples.md,
# "The integration tests").
#
#   source "$(dirname "$0")/common/lib.bash"
#   itest_init "$@"                 # BUILD_DIR from $1; root check (77); re-exec in a new netns
#   itest_need_tools python3 ss     # 77 when one is missing
#   itest_need_examples bulk        # the example binaries, from $BUILD_DIR/examples
#   itest_netns ns                  # a second namespace: itest_in "$ns" cmd...
#   itest_bg LOG timeout 20 prog... # a background process, ended by pid at exit
#   itest_wait_for LOG REGEX [SECONDS]
#
# Every test runs inside a network namespace of its own (`unshare --net`: it vanishes with its
# last process, so nothing is left behind even if the test is killed); extra namespaces are
# held by a `sleep` started with `unshare --net`, ended by pid at exit. Every process is
# started under `timeout`. Addresses: 192.0.2.0/24, 198.51.100.0/24, 127.0.0.0/8 only.
# SCALE (SYNACK_TEST_SCALE, 1 by default; the sanitizer build sets it lower) scales data volumes.

set -euo pipefail

ITEST_NAME=$(basename "$0" .sh)
ITEST_PIDS=()
ITEST_DIR=""

itest_log() { echo "[$ITEST_NAME] $*"; }
itest_skip() { echo "[$ITEST_NAME] SKIPPED: $*" >&2; exit 77; }
itest_fail() {
  echo "[$ITEST_NAME] FAILED: $*" >&2
  exit 1
}

itest_cleanup() {
  local pid
  for pid in "${ITEST_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${ITEST_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$ITEST_DIR" ] && [ -z "${ITEST_KEEP:-}" ]; then rm -rf "$ITEST_DIR"; fi
}

# itest_init BUILD_DIR: checks the privileges, then runs the rest of the script inside a new
# network namespace with lo up. Sets BUILD_DIR, SCALE, WORK (a temporary directory).
itest_init() {
  BUILD_DIR=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
  if [ -z "${ITEST_IN_NETNS:-}" ]; then
    [ "$(id -u)" -eq 0 ] || itest_skip "needs root (network namespaces, tun and veth devices); run as root"
    command -v unshare >/dev/null || itest_skip "unshare (util-linux) is not installed"
    ITEST_IN_NETNS=1 exec timeout --kill-after=5 "${ITEST_TIMEOUT:-170}" unshare --net -- bash "$0" "$BUILD_DIR"
  fi
  ip link set lo up
  SCALE=${SYNACK_TEST_SCALE:-}
  if [ -z "$SCALE" ]; then
    SCALE=1
    if grep -q '^SYNACK_SANITIZE:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then SCALE=0.25; fi
  fi
  ITEST_DIR=$(mktemp -d "/tmp/synack-$ITEST_NAME.XXXXXX")
  WORK=$ITEST_DIR
  trap itest_cleanup EXIT
  trap 'exit 130' INT TERM
}

# itest_scaled BYTES: BYTES * SCALE, at least 1 MiB.
itest_scaled() { python3 -c "import sys; print(max(1 << 20, int($1 * float(sys.argv[1]))))" "$SCALE"; }

itest_need_tools() {
  local t
  for t in "$@"; do command -v "$t" >/dev/null || itest_skip "$t is not installed (scripts/install-deps.sh installs it)"; done
}

# itest_need_examples NAME...: sets EX to the examples directory.
itest_need_examples() {
  EX=$BUILD_DIR/examples
  local e
  for e in "$@"; do
    [ -x "$EX/$e" ] || itest_skip "$EX/$e is not built (SYNACK_BUILD_EXAMPLES=OFF?)"
  done
}

# itest_bg LOG CMD...: starts CMD in the background, its output in LOG; PID in ITEST_LAST_PID.
itest_bg() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  ITEST_LAST_PID=$!
  ITEST_PIDS+=("$ITEST_LAST_PID")
}

# itest_wait_for LOG REGEX [SECONDS]: waits until LOG has a line matching REGEX.
itest_wait_for() {
  local log=$1 re=$2 limit=${3:-10} i
  for ((i = 0; i < limit * 20; i++)); do
    grep -qE "$re" "$log" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "--- $log:" >&2
  cat "$log" >&2 || true
  itest_fail "timed out waiting for /$re/ in $(basename "$log")"
}

# itest_wait PID [what]: waits for a background process; fails on a non-zero status.
itest_wait() {
  local pid=$1 what=${2:-process} rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || itest_fail "$what exited with status $rc"
}

# itest_netns VAR: creates another network namespace, held by a sleeping process whose pid
# goes in VAR; run commands in it with `itest_in "$VAR" cmd...`.
itest_netns() {
  unshare --net -- sleep 300 </dev/null >/dev/null 2>&1 &
  local pid=$! i
  ITEST_PIDS+=("$pid")
  for ((i = 0; i < 100; i++)); do
    [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.02
  done
  nsenter --net="/proc/$pid/ns/net" ip link set lo up
  printf -v "$1" %s "$pid"
}
itest_in() {
  local pid=$1
  shift
  nsenter --net="/proc/$pid/ns/net" -- "$@"
}

# itest_expect FILE REGEX what: FILE must have a line matching REGEX.
itest_expect() {
  grep -qE "$2" "$1" || {
    echo "--- $1:" >&2
    cat "$1" >&2
    itest_fail "$3: no line matches /$2/ in $(basename "$1")"
  }
}

# itest_field FILE REGEX: the first capture group of the first line matching REGEX (sed -E).
itest_field() { sed -nE "s/$2/\\1/p" "$1" | head -n1; }

# itest_veth A B [ADDR]: a veth pair for AF_PACKET: synack on A (no kernel address), the
# kernel on B with 192.0.2.1/24 (or ADDR). The offloads stay as the kernel sets them: checksum
# offload (the af_packet link handles partial checksums) and TSO/GSO (the kernel's TCP hands
# the veth 64 KiB super-frames, which the af_packet link receives whole: its receive buffers
# hold 64 KiB). SYNACK_ITEST_NO_OFFLOAD=1 turns segmentation offload off on B.
itest_veth() {
  local a=$1 b=$2 addr=${3:-192.0.2.1/24}
  ip link add "$a" type veth peer name "$b"
  ip addr add "$addr" dev "$b"
  [ -z "${SYNACK_ITEST_NO_OFFLOAD:-}" ] || ethtool -K "$b" tso off gso off >/dev/null
  ip link set "$a" up
  ip link set "$b" up
}
