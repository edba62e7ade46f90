#!/usr/bin/env bash
# Sets up (packages), builds and runs the whole GoogleTest suite under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
cd build && ctest --output-on-failure -j "$jobs"
