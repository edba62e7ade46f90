#!/usr/bin/env bash
# Configures and builds cimsim into build/ (Release). Extra arguments go to cmake's configure step.
# ccache, when installed, with paths relative to this checkout (CCACHE_BASEDIR), so another clone or worktree on
# the same machine reuses the objects of files it has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >/dev/null
cmake --build build -j "$jobs"
