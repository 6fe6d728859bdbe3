#!/bin/sh
# The benchmark suite (docs/benchmarks.md says what it measures):
#   benchmarks/run.sh [--quick] [--only bulk,pingpong,connect,hold,sim,link]
# builds bench_net, bench_link and http_server (Release, in build-bench/), runs every
# benchmark in network namespaces it creates (and removes), and writes
# docs/benchmarks/results.json, docs/benchmarks.md and docs/benchmarks/*.svg.
# --quick: one repetition of each, short durations (to check that everything runs).
# Needs root (network namespaces, tun, AF_PACKET); without it, exits with 77 (skipped).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${SYNACK_BENCH_BUILD:-$root/build-bench}

if [ "$(id -u)" != 0 ] || ! unshare --net true 2>/dev/null; then
  echo "benchmarks/run.sh: SKIPPED: needs root (network namespaces, tun devices, AF_PACKET)" >&2
  exit 77
fi
for tool in ip taskset wrk python3 cmake ninja; do
  command -v "$tool" >/dev/null || { echo "benchmarks/run.sh: $tool is missing" >&2; exit 1; }
done

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSYNACK_BUILD_BENCHMARKS=ON \
  -DSYNACK_BUILD_EXAMPLES=ON >/dev/null
ninja -C "$build" bench_net bench_link bench_tcp_sink bench_tcp_source http_server

status=0
python3 "$here/suite.py" --build "$build" "$@" || status=$?
if [ "$status" = 0 ]; then
  python3 "$here/report.py" "$root/docs/benchmarks/results.json" "$root/docs/benchmarks.md"
fi
exit "$status"
