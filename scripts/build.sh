#!/usr/bin/env bash
# Configures and builds camrelay with a CMake preset (default: "default"; "asan" for the
# ASan + UBSan build). Incremental: re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-default}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
