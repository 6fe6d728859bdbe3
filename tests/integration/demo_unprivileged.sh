#!/usr/bin/env bash
# tests/integration/demo_unprivileged.sh BUILD_DIR: the README's demo (scripts/demo.sh) run by
# an ordinary user, with the programs root built (docs/examples.md, "The demo").
#
# As root, the test drops to nobody (setpriv --reuid=65534 --regid=65534 --clear-groups); as
# another user, it runs as that user. demo.sh, demo_report.py and the two programs are copied to
# a directory that user can read but not write. Checked:
#   - `demo.sh --no-build` succeeds, says which path it took (tun where /dev/net/tun is open to
#     the user, otherwise AF_PACKET on veth pairs, with the reason), and shows the conversation
#     and the table of states;
#   - where /dev/net/tun is not open to the user, `demo.sh --no-build --link tun` fails with
#     status 1 and prints tcp_server's own error ("cannot open tun device synack0: ...") instead
#     of "no trace lines were recorded".
# Exit: 0 pass, 1 fail, 77 skipped (user namespaces not allowed, or a tool missing).
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/common/lib.bash"
BUILD_DIR=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
EX=$BUILD_DIR/examples
itest_need_tools unshare python3
[ -x "$EX/tcp_server" ] && [ -x "$EX/tcp_client" ] || itest_skip "tcp_server and tcp_client are not built"
stage=$(mktemp -d /tmp/synack-demo-unprivileged.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/tree/scripts" "$stage/tree/build/examples" "$stage/home"
cp "$HERE/../../scripts/demo.sh" "$HERE/../../scripts/demo_report.py" "$stage/tree/scripts/"
cp "$EX/tcp_server" "$EX/tcp_client" "$stage/tree/build/examples/"
chmod -R a+rX,go-w "$stage"
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null || itest_skip "setpriv (util-linux) is not installed"
  runas=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  chown 65534:65534 "$stage/home"
  user=nobody
  can_open_tun() { setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r /dev/net/tun -a -w /dev/net/tun; }
else
  runas=()
  user=$(id -un)
  can_open_tun() { test -r /dev/net/tun -a -w /dev/net/tun; }
fi
env=(env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$stage/home"
     ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}")
if ! "${runas[@]}" "${env[@]}" unshare --user --map-root-user --net true 2>"$stage/userns.err"; then
  itest_skip "user namespaces are not allowed for $user here ($(head -n1 "$stage/userns.err"))"
fi
demo() { (cd "$stage/home" && timeout --kill-after=5 90 "${runas[@]}" "${env[@]}" "$stage/tree/scripts/demo.sh" "$@"); }

rc=0
demo --no-build >"$stage/demo.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$stage/demo.out" >&2; itest_fail "demo.sh as $user: status $rc"; }
path=$(grep -m1 '^path: ' "$stage/demo.out") || { cat "$stage/demo.out" >&2; itest_fail "demo.sh did not say its path"; }
if can_open_tun; then
  [[ $path == "path: tun devices"* ]] || itest_fail "/dev/net/tun is open to $user, but: $path"
else
  [[ $path == "path: AF_PACKET on veth pairs"* ]] || itest_fail "/dev/net/tun is not open to $user, but: $path"
  grep -q "^tun: not used: /dev/net/tun is not open to $user" "$stage/demo.out" ||
    itest_fail "demo.sh did not say why tun is not used"
fi
for want in "hello from synack's tcp_client" "received: thank you !" " \[x\] setup  server/client  ESTABLISHED" \
  " \[x\] close  [a-z]* *TIME_WAIT"; do
  grep -q "$want" "$stage/demo.out" || { cat "$stage/demo.out" >&2; itest_fail "the demo's output lacks /$want/"; }
done
itest_log "demo.sh as $user: ${path#path: }: ok"

if ! can_open_tun; then
  rc=0
  demo --no-build --link tun >"$stage/tun.out" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || { cat "$stage/tun.out" >&2; itest_fail "demo.sh --link tun as $user: status $rc, expected 1"; }
  grep -q '^tcp_server said:' "$stage/tun.out" && grep -q '^  cannot open tun device synack0: ' "$stage/tun.out" ||
    { cat "$stage/tun.out" >&2; itest_fail "demo.sh --link tun did not print tcp_server's error"; }
  ! grep -q "no trace lines were recorded" "$stage/tun.out" || itest_fail "demo.sh --link tun still says 'no trace lines'"
  itest_log "demo.sh --link tun as $user: $(grep -m1 '^  cannot open tun device' "$stage/tun.out" | sed 's/^ *//'): ok"
fi
