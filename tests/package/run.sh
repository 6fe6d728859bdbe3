#!/usr/bin/env bash
# Builds and runs tests/package/consumer/main.cpp against synack in one of three ways.
# usage: run.sh find_package|add_subdirectory|pkg_config SOURCE_DIR BINARY_DIR CXX
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
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
