#!/bin/sh
# `cimsim search` bad input end to end: an assignment naming an unknown layer or operator, XNOR at the
# classifier, a corrupt checkpoint, a bad architecture file: exit code 2 (a missing --arch/--tech file: 3, an
# I/O error), a message naming the file and the problem, nothing overwritten.
# Usage: cli_bad_input.sh <cimsim> <scratch dir>
set -u
cimsim=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir/out" || exit 1
fail=0
expect2() { expectrc 2 "$@"; }
expectrc() {  # <exit code> <needle> <args...>
  want=$1
  needle=$2
  shift 2
  "$cimsim" search --train-subset 64 --test-subset 16 --batch 16 --epochs 1 --warmup-epochs 0 --finetune-epochs 0 \
    --no-progress --out-dir "$dir/out" "$@" > "$dir/log" 2>&1
  rc=$?
  if [ $rc -ne "$want" ]; then echo "FAIL ($*): exit $rc, expected $want"; cat "$dir/log"; fail=1; return; fi
  if ! grep -q -- "$needle" "$dir/log"; then echo "FAIL ($*): no '$needle' in:"; cat "$dir/log"; fail=1; return; fi
  echo "ok: $* -> exit $want: $(head -c 300 "$dir/log")"
}
printf '{"layers": [{"name": "conv9", "candidate": "mac8"}]}' > "$dir/unknown-layer.json"
expect2 "has no layer 'conv9'" --assignment "$dir/unknown-layer.json"
printf '{"layers": [{"name": "conv1", "candidate": "mac16"}]}' > "$dir/unknown-op.json"
expect2 "unknown-op.json: layers\[0\] (layer 'conv1'): unknown operator 'mac16'" --assignment "$dir/unknown-op.json"
printf '{"layers": [{"name": "fc", "candidate": "xnor"}]}' > "$dir/xnor-fc.json"
expect2 "candidate 'xnor' is not valid at layer 'fc'" --assignment "$dir/xnor-fc.json"
expect2 "cannot be combined with --mode sampling" --assignment "$dir/xnor-fc.json" --mode sampling
expectrc 3 "cannot open $dir/nosuch.yaml" --arch "$dir/nosuch.yaml"  # I/O errors: exit 3
printf 'name: x\narray: {rows: 0, cols: 8}\n' > "$dir/bad-arch.yaml"
expect2 "bad-arch.yaml" --arch "$dir/bad-arch.yaml"
expectrc 3 "cannot open $dir/nosuch.json" --tech "$dir/nosuch.json"
echo "keep me" > "$dir/out/report.json"
echo "not a checkpoint" > "$dir/out/checkpoint.pt"
expect2 "checkpoint.pt' is corrupt" --mode fixed --candidates mac8 --resume
[ "$(cat "$dir/out/report.json")" = "keep me" ] || { echo "FAIL: report.json was overwritten"; fail=1; }
[ "$(cat "$dir/out/checkpoint.pt")" = "not a checkpoint" ] || { echo "FAIL: checkpoint.pt was overwritten"; fail=1; }
[ $fail -eq 0 ] && echo "all bad inputs: exit 2, nothing overwritten"
exit $fail
