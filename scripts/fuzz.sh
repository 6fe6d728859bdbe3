#!/usr/bin/env bash
# Builds synack's libFuzzer targets with clang into build-fuzz/ and runs each one for a bounded
# time on a copy of its seed corpus (tests/fuzz/corpus/<target>/). Fails if any target crashes,
# leaks, trips a sanitizer or a property (the crashing input's path is in the log), and prints
# execs/s and coverage per target. See docs/fuzzing.md.
#   scripts/fuzz.sh [seconds-per-target] [target...]   default 60 s, every target
# Environment: SYNACK_FUZZ_CXX (default clang++), SYNACK_FUZZ_JOBS (build jobs, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

# The targets tests/fuzz/CMakeLists.txt defines (SYNACK_FUZZ_TARGETS).
read -ra all_targets <<<"$(sed -n 's/^set(SYNACK_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)"
usage() {
  cat <<EOF
usage: scripts/fuzz.sh [SECONDS] [TARGET...]

Builds synack's libFuzzer targets with clang into build-fuzz/ and runs each for SECONDS
(default 60) on a copy of its seed corpus (tests/fuzz/corpus/TARGET/). Fails if a target
crashes, leaks or trips a sanitizer or a property; prints execs/s and coverage per target.
See docs/fuzzing.md.

  TARGET        one of: ${all_targets[*]} (default: all)
  -h, --help    this text

environment: SYNACK_FUZZ_CXX (default clang++), SYNACK_FUZZ_JOBS (build jobs, default nproc)
EOF
}
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
esac
secs=${1:-60}
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || { echo "fuzz.sh: SECONDS must be a positive number, not '$secs' (see --help)" >&2; exit 2; }
[ $# -gt 0 ] && shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${all_targets[@]}")
fi
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target $t (one of: ${all_targets[*]})" >&2; exit 2; }
done

scripts/install-deps.sh
dir=build-fuzz
cxx=${SYNACK_FUZZ_CXX:-clang++}
jobs=${SYNACK_FUZZ_JOBS:-$(nproc)}
start=$SECONDS
# Assertions stay on (no NDEBUG): the library's own asserts are properties too.
cmake -S . -B $dir -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" -DSYNACK_BUILD_FUZZERS=ON \
  -DSYNACK_BUILD_EXAMPLES=OFF -DSYNACK_BUILD_BENCHMARKS=OFF -DSYNACK_INSTALL=OFF >/dev/null
cmake --build $dir -j "$jobs" --target $(printf 'fuzz_%s ' "${targets[@]}")
echo "fuzz: built in $((SECONDS - start)) s"

runs=$dir/fuzz-runs
rm -rf "$runs"
mkdir -p "$runs"
failed=()
rows=()
for t in "${targets[@]}"; do
  work=$runs/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  log=$work/log.txt
  echo "fuzz: $t for ${secs} s"
  status=0
  # The first corpus directory receives what libFuzzer finds; the seed corpus is only read.
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  final=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$final")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$final")
  execs=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  units=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  corpus=$(find "$work/corpus" -type f | wc -l)
  seeds=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
  result=ok
  if [ $status -ne 0 ]; then
    result="FAILED ($status)"
    failed+=("$t")
    echo "fuzz: $t FAILED; the end of its log ($log):"
    tail -40 "$log"
    for a in "$work"/artifacts/*; do
      [ -e "$a" ] && echo "fuzz: $t: crashing input kept at $a (replay: $dir/tests/fuzz/fuzz_$t $a)"
    done
  fi
  rows+=("$(printf '%-11s %9s %12s %7s %7s %6s %8s  %s' "$t" "${execs:-?}" "${units:-?}" "${cov:-?}" "${ft:-?}" \
    "$seeds" "+$corpus" "$result")")
done

echo
echo "fuzz: ${secs} s per target (clang $("$cxx" -dumpversion), -fsanitize=fuzzer,address,undefined)"
printf '%-11s %9s %12s %7s %7s %6s %8s  %s\n' target "execs/s" executions "cov" "ft" seeds "new" result
for r in "${rows[@]}"; do echo "$r"; done
echo "fuzz: $((SECONDS - start)) s in all"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
