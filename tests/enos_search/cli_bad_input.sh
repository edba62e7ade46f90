#!/bin/sh
# `cimsim search` bad input end to end: an assignment naming an unknown layer or operator, XNOR at the
# classifier, a corrupt checkpoint: exit code 2, a message naming the file and the problem, nothing overwritten.
# Usage: cli_bad_input.sh <cimsim> <scratch dir>
set -u
cimsim=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir/out" || exit 1
echo "keep me" > "$dir/out/report.json"
fail=0
expect2() {  # <needle> <args...>
  needle=$1
  shift
  "$cimsim" search --train-subset 64 --test-subset 16 --batch 16 --epochs 1 --warmup-epochs 0 --finetune-epochs 0 \
    --no-progress --out-dir "$dir/out" "$@" > "$dir/log" 2>&1
  rc=$?
  if [ $rc -ne 2 ]; then echo "FAIL ($*): exit $rc, expected 2"; cat "$dir/log"; fail=1; return; fi
  if ! grep -q -- "$needle" "$dir/log"; then echo "FAIL ($*): no '$needle' in:"; cat "$dir/log"; fail=1; return; fi
  echo "ok: $* -> exit 2: $(head -c 300 "$dir/log")"
}
printf '{"layers": [{"name": "conv9", "candidate": "mac8"}]}' > "$dir/unknown-layer.json"
expect2 "has no layer 'conv9'" --assignment "$dir/unknown-layer.json"
printf '{"layers": [{"name": "conv1", "candidate": "mac16"}]}' > "$dir/unknown-op.json"
expect2 "unknown-op.json: layers\[0\] (layer 'conv1'): unknown operator 'mac16'" --assignment "$dir/unknown-op.json"
printf '{"layers": [{"name": "fc", "candidate": "xnor"}]}' > "$dir/xnor-fc.json"
expect2 "candidate 'xnor' is not valid at layer 'fc'" --assignment "$dir/xnor-fc.json"
expect2 "cannot be combined with --mode sampling" --assignment "$dir/xnor-fc.json" --mode sampling
echo "not a checkpoint" > "$dir/out/checkpoint.pt"
expect2 "checkpoint.pt' is corrupt" --mode fixed --candidates mac8 --resume
[ "$(cat "$dir/out/report.json")" = "keep me" ] || { echo "FAIL: report.json was overwritten"; fail=1; }
[ "$(cat "$dir/out/checkpoint.pt")" = "not a checkpoint" ] || { echo "FAIL: checkpoint.pt was overwritten"; fail=1; }
[ $fail -eq 0 ] && echo "all bad inputs: exit 2, nothing overwritten"
exit $fail
