#!/usr/bin/env bash
# Sets up (packages), builds and runs the whole GoogleTest suite under ctest.
# Usage: scripts/test.sh              the normal suite (build/, Release, with libtorch)
#        scripts/test.sh --sanitize   the suite under AddressSanitizer + UndefinedBehaviorSanitizer with leak
#                                     detection on (build-asan/, no libtorch: the search is not built)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
if [[ "${1:-}" == "--sanitize" ]]; then
  scripts/setup.sh --no-torch
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  # ccache: paths relative to this checkout, and no working directory in the hash of this -g build, so another
  # clone (a CI run) reuses the objects. -O1 -g1: quicker to compile than -O2 -g, still line numbers in reports;
  # assertions stay on (no NDEBUG).
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
    -DCIMSIM_SANITIZE=ON -DCIMSIM_WITH_TORCH=OFF -DCIMSIM_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
  cmake --build build-asan -j "$jobs"
  # halt_on_error: the first report fails the test; detect_leaks: leaks fail it too (LeakSanitizer).
  # Suppressions (scripts/lsan.supp) cover third-party allocations only; see docs/robustness.md.
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
  cd build-asan && ctest --output-on-failure -j "$jobs"
  exit
fi
scripts/setup.sh
scripts/build.sh
cd build && ctest --output-on-failure -j "$jobs"
