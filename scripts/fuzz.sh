#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan, no libtorch) into build-fuzz/, seeds each
# target's corpus (shipped files + seeds the target generates) and runs every target for a given time.
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target ...]     (default: every target)
# Env:   FUZZ_NICE=1 runs the fuzzers under `nice -n 19`; FUZZ_JOBS=N build jobs (default nproc);
#        FUZZ_PARALLEL=N runs N targets at a time (default 1; .ci/run uses nproc);
#        FUZZ_NO_BUILD=1 uses the targets already in build-fuzz/ (e.g. for several fuzz.sh runs in parallel).
# Output: one line per target "target runs crashes"; findings (crash-*, leak-*, timeout-*, oom-*) are kept in
# build-fuzz/artifacts/<target>/, logs in build-fuzz/logs/. Exit status 1 if any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
build=1
if [[ "${FUZZ_NO_BUILD:-0}" == 1 && -f build-fuzz/fuzz/targets.txt ]]; then build=0; fi
if ((build)) && { ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "ok installed"; }; then
  scripts/setup.sh --no-torch --fuzz
fi
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# ccache: paths relative to this checkout, and no working directory in the hash of these -g builds, so another
# clone of the project (a CI run) reuses the objects.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
if ((build)); then
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" -DCIMSIM_FUZZ=ON \
  -DCIMSIM_WITH_TORCH=OFF -DCIMSIM_BUILD_TESTS=OFF -DCIMSIM_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
fi
mapfile -t lines <build-fuzz/fuzz/targets.txt
declare -A seeds=()
all=()
for l in "${lines[@]}"; do
  t=${l%% *}
  all+=("$t")
  seeds[$t]=${l#"$t"}
done
targets=("$@")
if ((${#targets[@]} == 0)); then targets=("${all[@]}"); fi
if ((build)); then cmake --build build-fuzz -j "$jobs" --target "${targets[@]}" >/dev/null; fi
nice_cmd=()
if [[ "${FUZZ_NICE:-0}" == 1 ]]; then nice_cmd=(nice -n 19); fi
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
parallel=${FUZZ_PARALLEL:-1}
# One target: seeds its corpus, fuzzes, writes "target runs findings" to build-fuzz/logs/<target>.result.
fuzz_one() {
  local t=$1 corpus=build-fuzz/corpus/$1 art=build-fuzz/artifacts/$1 log=build-fuzz/logs/$1.log rc=0 s
  mkdir -p "$corpus" "$art" build-fuzz/logs
  for s in ${seeds[$t]}; do cp -f "$s" "$corpus/"; done
  CIMSIM_FUZZ_SEED_DIR=$corpus "build-fuzz/fuzz/$t" -runs=0 "$corpus" >/dev/null 2>&1 || true
  "${nice_cmd[@]}" "build-fuzz/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$art/" "$corpus" >"$log" 2>&1 || rc=$?
  local runs found
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  found=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if ((rc != 0)) && ((found == 0)); then found=1; fi
  echo "$t ${runs:-0} $found" >"build-fuzz/logs/$t.result"
}
for t in "${targets[@]}"; do
  rm -f "build-fuzz/logs/$t.result"
  if ((parallel > 1)); then
    while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
    fuzz_one "$t" &
  else
    fuzz_one "$t"
  fi
done
wait
status=0
printf "%-20s %12s %8s\n" target runs crashes
for t in "${targets[@]}"; do
  read -r _ runs found <"build-fuzz/logs/$t.result" 2>/dev/null || { runs=0 found=1; }
  printf "%-20s %12s %8s\n" "$t" "$runs" "$found"
  if ((found > 0)); then status=1; echo "  see build-fuzz/logs/$t.log and build-fuzz/artifacts/$t/"; fi
done
exit $status
