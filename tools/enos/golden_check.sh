#!/usr/bin/env bash
# Golden check for refactorings of the ENOS search (sw/enos/search/): runs a few short searches (every search
# mode, both built-in networks, an adder fixed run, a fine-tuning phase) with two cimsim binaries and compares
# the SHA-256 of network.enos.json and of report.json with the timings (every key ending in "sec" or
# "sec_per_epoch", and peak_rss_bytes) removed. Exit 0: identical bytes; 1: a difference (the differing files
# are listed); 2: usage.
#   tools/enos/golden_check.sh BEFORE_CIMSIM AFTER_CIMSIM [WORKDIR]
# Example: build the commit before a change, copy build/tb/cimsim to /tmp/cimsim-before, build the change, then
#   tools/enos/golden_check.sh /tmp/cimsim-before build/tb/cimsim
# About 2-4 minutes per binary on one core. Needs the Fashion-MNIST files in /usr/share/datasets/fashion-mnist.
set -euo pipefail
if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
  echo "usage: $0 BEFORE_CIMSIM AFTER_CIMSIM [WORKDIR]   (both executables)" >&2
  exit 2
fi
before=$1 after=$2
work=${3:-$(mktemp -d /tmp/enos-golden.XXXXXX)}
mkdir -p "$work"
# A binary copied out of its build tree finds the energy tables through CIMSIM_DATA (this checkout's data/).
export CIMSIM_DATA=${CIMSIM_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/data}
common=(--train-subset 256 --test-subset 128 --batch 32 --threads 1 --no-progress --seed 3)
runs=(
  "sampling-squeezenet|--net squeezenet --mode sampling --warmup-epochs 1 --epochs 1 --finetune-epochs 1 --lambda 0.5"
  "single-shufflenet|--net shufflenet --mode single --warmup-epochs 1 --epochs 1 --finetune-epochs 0 --lambda 0.5"
  "bilevel-shufflenet|--net shufflenet --mode bilevel --warmup-epochs 1 --epochs 1 --finetune-epochs 0 --lambda 0.5"
  "sequential-squeezenet|--net squeezenet --mode sequential --warmup-epochs 0 --epochs 1 --finetune-epochs 0 --lambda 0.5"
  "knapsack-shufflenet|--net shufflenet --mode knapsack --warmup-epochs 1 --epochs 0 --finetune-epochs 1 --target-ratio 0.6 --sensitivity-images 64"
  "fixed-adder-squeezenet|--net squeezenet --mode fixed --candidates adder --epochs 1"
)
strip='import json,sys
def s(o):
    if isinstance(o, dict):
        return {k: s(v) for k, v in o.items() if not (k.endswith("sec") or k.endswith("sec_per_epoch") or k == "peak_rss_bytes")}
    if isinstance(o, list):
        return [s(v) for v in o]
    return o
sys.stdout.write(json.dumps(s(json.load(open(sys.argv[1]))), sort_keys=True))'
digest() {  # binary label -> "<label> <file> <sha256>" lines
  local bin=$1 tag=$2
  for r in "${runs[@]}"; do
    local name=${r%%|*} args=${r#*|}
    local out="$work/$tag/$name"
    rm -rf "$out"
    # shellcheck disable=SC2086
    "$bin" search $args "${common[@]}" --out-dir "$out" >"$work/$tag-$name.log" 2>&1 ||
      { echo "golden_check: $tag run $name failed (log: $work/$tag-$name.log)" >&2; exit 1; }
    echo "$name network.enos.json $(sha256sum <"$out/network.enos.json" | cut -d' ' -f1)"
    echo "$name report.json $(python3 -c "$strip" "$out/report.json" | sha256sum | cut -d' ' -f1)"
  done
}
# GOLDEN_BEFORE_ONLY=1: only the BEFORE digests (e.g. while AFTER builds); GOLDEN_REUSE_BEFORE=1 with the same
# WORKDIR then reuses them.
if [ "${GOLDEN_REUSE_BEFORE:-0}" != 1 ] || [ ! -s "$work/before.sha" ]; then
  digest "$before" before >"$work/before.sha"
fi
if [ "${GOLDEN_BEFORE_ONLY:-0}" = 1 ]; then cat "$work/before.sha"; exit 0; fi
digest "$after" after >"$work/after.sha"
cat "$work/after.sha"
if diff "$work/before.sha" "$work/after.sha" >"$work/diff.txt"; then
  echo "golden_check: all $(wc -l <"$work/after.sha") digests identical ($work)"
else
  cat "$work/diff.txt"
  echo "golden_check: DIFFERENT (see $work)"
  exit 1
fi
