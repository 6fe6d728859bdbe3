#!/usr/bin/env bash
# tests/compile/run.sh MODE CXX SOURCE_DIR [DEPENDENCY_INCLUDE_DIRS]: tests that compile a
# user's program and look at the compiler's verdict (registered in tests/compile/CMakeLists.txt).
#
#   nodiscard  forgotten_co_await.cpp with -Werror: the control (-DSYNACK_AWAIT, every
#              operation awaited) compiles; as written (each co_await forgotten) the compile
#              fails with a "nodiscard" diagnostic on every line marked `// forgotten: NAME`,
#              and with no other error.
#   warnings   header_warnings.cpp with -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror
#              -O2: synack's headers, included with -I as a user includes them, give no warning.
#   headers    every public header compiles on its own: a generated translation unit per
#              header that includes it (twice: its include guard works) and nothing else.
#
# DEPENDENCY_INCLUDE_DIRS (;-separated: fmt's and liburing's) are passed with -isystem: their
# warnings are not ours. Exit: 0 pass, 1 fail, 77 skipped (the compiler is not installed).
set -uo pipefail
mode=${1:?usage: run.sh nodiscard|warnings CXX SOURCE_DIR [INCLUDE_DIRS]}
cxx=${2:?}
src=${3:?}
deps=${4:-}
here=$src/tests/compile

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "SKIPPED: $cxx is not installed (Debian: apt-get install ${cxx%%++*}; clang++ comes with clang)"
  exit 77
fi
flags=(-std=c++20 -I"$src/include")
IFS=';' read -ra dirs <<<"$deps"
for d in "${dirs[@]}"; do
  [ -n "$d" ] && [ "$d" != /usr/include ] && flags+=(-isystem "$d")
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "$($cxx --version | head -n1)"

case $mode in
  nodiscard)
    file=$here/forgotten_co_await.cpp
    if ! "$cxx" "${flags[@]}" -Werror -fsyntax-only -DSYNACK_AWAIT "$file" >"$work/control.log" 2>&1; then
      cat "$work/control.log"
      echo "FAIL: the control (every operation awaited) does not compile: the test itself is broken"
      exit 1
    fi
    echo "control: every operation awaited: compiles with -Werror"
    if "$cxx" "${flags[@]}" -Werror -fsyntax-only "$file" >"$work/forgotten.log" 2>&1; then
      echo "FAIL: a forgotten co_await compiles with -Werror (no [[nodiscard]] warning)"
      exit 1
    fi
    status=0
    count=0
    while IFS=: read -r line text; do
      name=${text##*// forgotten: }
      count=$((count + 1))
      if grep -qE "forgotten_co_await\.cpp:$line:[0-9]+: (error|warning): .*nodiscard" "$work/forgotten.log"; then
        echo "ok: a forgotten co_await on $name (line $line) is a nodiscard error"
      else
        echo "FAIL: a forgotten co_await on $name (line $line) compiles without a nodiscard diagnostic"
        status=1
      fi
    done < <(grep -n '// forgotten: ' "$file")
    if other=$(grep -E "(error|warning):" "$work/forgotten.log" | grep -v nodiscard | grep -v "warnings being treated as errors"); then
      echo "$other"
      echo "FAIL: errors other than the forgotten co_awaits (the test itself is broken)"
      status=1
    fi
    [ "$status" -eq 0 ] && echo "all $count forgotten co_awaits are rejected"
    exit "$status"
    ;;
  warnings)
    file=$here/header_warnings.cpp
    warn=(-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror)
    echo "$cxx ${warn[*]} -O2 -c header_warnings.cpp"
    if "$cxx" "${flags[@]}" "${warn[@]}" -O2 -c "$file" -o "$work/header_warnings.o" >"$work/log" 2>&1; then
      echo "ok: no warning from synack's headers"
      exit 0
    fi
    cat "$work/log"
    echo
    echo "FAIL: warnings in synack's headers (each once):"
    grep -E "^[^ ]*: (error|warning): " "$work/log" | sed -E 's/^([^:]+:[0-9]+):[0-9]+:/\1:/' | sort -u
    exit 1
    ;;
  headers)
    status=0
    count=0
    for h in $(cd "$src/include" && find synack -name '*.hpp' | sort); do
      tu=$work/$(echo "$h" | tr '/.' '__').cpp
      printf '#include "%s"\n#include "%s"\n' "$h" "$h" >"$tu"
      count=$((count + 1))
    done
    # Two at a time (the machines have 2 cores); each parse is a few seconds.
    if ! find "$work" -name '*.cpp' -print0 |
      xargs -0 -P "$(nproc)" -n 1 sh -c '"$0" "$@" -fsyntax-only -Werror "$1" >"$1.log" 2>&1 || echo "$1" >>'"$work"'/failed' \
        "$cxx" "${flags[@]}"; then
      status=1
    fi
    if [ -s "$work/failed" ]; then
      while read -r tu; do
        echo "FAIL: $(head -n1 "$tu" | sed 's/#include //') does not compile on its own:"
        head -n 20 "$tu.log"
      done <"$work/failed"
      status=1
    fi
    [ "$status" -eq 0 ] && echo "ok: all $count public headers compile on their own"
    exit "$status"
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
