#!/usr/bin/env bash
# The README's example ("A client, errors included") is examples/readme_client.cpp (built with the examples): the
# code block in README.md must be the file's contents, line for line.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
block=$(awk '/^## A client, errors included/{f=1} f&&/^```cpp/{g=1;next} g&&/^```/{exit} g{print}' "$src/README.md")
file=$(tail -n +2 "$src/examples/readme_client.cpp")
if [ "$block" != "$file" ]; then
  echo "README.md's example differs from examples/readme_client.cpp:" >&2
  diff <(echo "$block") <(echo "$file") >&2 || true
  exit 1
fi
echo "README example matches examples/readme_client.cpp"
