#!/usr/bin/env bash
# Installs what synack's build, tests, examples and demo need on Debian/Ubuntu, if missing.
# Idempotent and non-interactive; runs apt-get only when a package is absent.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config       # build
  liburing-dev libfmt-dev doctest-dev     # synack's dependencies
  clang libclang-rt-14-dev                # fuzzing (libFuzzer) and LeakSanitizer
  iproute2 iputils-ping tshark procps     # network namespaces, ping, pcap checks
  python3 curl wrk                        # the seed's Python programs, HTTP checks
  ethtool util-linux                      # veth offloads in tests; unshare, setpriv, nsenter
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
  $SUDO apt-get update -q </dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi
