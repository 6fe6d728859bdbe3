#!/usr/bin/env bash
# Builds and runs tests/package/consumer/main.cpp against synack in one of four ways.
# usage: run.sh find_package|add_subdirectory|pkg_config|without_doctest SOURCE_DIR BINARY_DIR CXX
set -euo pipefail
mode=$1 src=$2 bin=$3 cxx=$4
work=$(mktemp -d "${bin}/package-${mode}.XXXXXX")
trap 'rm -rf "$work"' EXIT
consumer="$src/tests/package/consumer"

install_synack() {
  cmake --install "$bin" --prefix "$work/prefix" >/dev/null
}

case $mode in
  find_package)
    install_synack
    cmake -S "$consumer" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DSYNACK_CONSUMER_MODE=find_package >/dev/null
    cmake --build "$work/build" >/dev/null
    "$work/build/consumer"
    ;;
  add_subdirectory)
    cmake -S "$consumer" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
      -DSYNACK_CONSUMER_MODE=add_subdirectory -DSYNACK_SOURCE_DIR="$src" >/dev/null
    cmake --build "$work/build" >/dev/null
    # synack is not the top-level project there: its tests must not have been configured.
    if [ -e "$work/build/synack/tests" ]; then
      echo "add_subdirectory: synack's tests were configured in a consumer build" >&2
      exit 1
    fi
    "$work/build/consumer"
    ;;
  pkg_config)
    install_synack
    export PKG_CONFIG_PATH="$work/prefix/share/pkgconfig"
    flags=$(pkg-config --cflags --libs synack)
    # shellcheck disable=SC2086
    "$cxx" "$consumer/main.cpp" -o "$work/consumer" $flags
    "$work/consumer"
    ;;
  without_doctest)
    # A library-only build and install on a machine without doctest (hidden here): the
    # top-level configure succeeds and says the unit tests are skipped, and what it installs
    # serves a consumer through find_package.
    cmake -S "$src" -B "$work/lib" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_DISABLE_FIND_PACKAGE_doctest=ON \
      -DSYNACK_BUILD_EXAMPLES=OFF -DSYNACK_BUILD_BENCHMARKS=OFF >"$work/configure.log" 2>&1 ||
      { cat "$work/configure.log" >&2; echo "without_doctest: the configure failed" >&2; exit 1; }
    if ! grep -q "doctest was not found, so the unit tests .* are skipped" "$work/configure.log"; then
      cat "$work/configure.log" >&2
      echo "without_doctest: the configure did not say that the unit tests are skipped" >&2
      exit 1
    fi
    grep "doctest was not found" "$work/configure.log"
    if cmake --build "$work/lib" --target help | grep -q '^test_util'; then
      echo "without_doctest: test_util is still a target" >&2
      exit 1
    fi
    cmake --install "$work/lib" --prefix "$work/prefix" >/dev/null
    cmake -S "$consumer" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DSYNACK_CONSUMER_MODE=find_package >/dev/null
    cmake --build "$work/build" >/dev/null
    "$work/build/consumer"
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
