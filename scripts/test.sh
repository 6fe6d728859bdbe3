#!/usr/bin/env bash
# Builds synack and runs its whole test suite (unit, simulation, package and, as root,
# the integration tests in network namespaces). Installs what is missing first.
#   scripts/test.sh              optimised build (RelWithDebInfo) in build/
#   scripts/test.sh --sanitize   ASan + UBSan build in build-asan/ (smaller simulation matrices)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
usage: scripts/test.sh [--sanitize]

Builds synack and runs its whole test suite with ctest: unit and simulation tests, the
compile, package and docs tests and, as root, the integration tests in network namespaces
(without root they are reported as skipped). Installs what is missing first (apt-get).

  (no option)   optimised build (RelWithDebInfo) in build/
  --sanitize    ASan + UBSan build in build-asan/ (smaller simulation matrices)
  -h, --help    this text
EOF
}

sanitize=0
for arg in "$@"; do
  case $arg in
    --sanitize) sanitize=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh
jobs=$(nproc)
if [ $sanitize -eq 1 ]; then
  dir=build-asan
    # -O1 with line tables: what ASan recommends, and half the compile time of -O2 -g.
  cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DSYNACK_SANITIZE=ON \
    -DSYNACK_TEST_SCALE=0.25 -DSYNACK_BUILD_BENCHMARKS=OFF
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build $dir -j "$jobs"
ctest --test-dir $dir --output-on-failure --timeout 900 -j "$jobs"
