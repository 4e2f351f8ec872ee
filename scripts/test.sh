#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every tier (unit, integration)
# with ctest. With --asan (or CI=true) the ASan + UBSan build runs the suite as well.
set -euo pipefail
cd "$(dirname "$0")/.."

asan=0
for arg in "$@"; do
    case "$arg" in
        --asan) asan=1 ;;
        *) echo "usage: $0 [--asan]" >&2; exit 2 ;;
    esac
done
if [ "${CI:-}" = "true" ]; then
    asan=1
fi

scripts/deps.sh all
scripts/build.sh default
ctest --preset default -j 2

if [ "$asan" = 1 ]; then
    echo "== ASan + UBSan build =="
    scripts/build.sh asan
    ctest --preset asan -j 2
fi
