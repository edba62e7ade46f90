#!/bin/sh
# `cimsim search --onnx`: a tiny ONNX model (data/tiny_residual.onnx: BN-folded convs, ReLU6, residual Add,
# AveragePool, GlobalAveragePool, Flatten + Gemm; made by data/make_tiny_onnx.py) searched for one short epoch on a
# Fashion-MNIST subset for data/arch/edge-small.yaml; its export runs on that architecture at LT and cycle level
# with logits identical to the host reference and every layer's simulated energy equal to the prediction; the
# float weights initialise the MAC8 path (untrained, the integer network keeps the float accuracy).
# Bad input: a data set that does not fit the model's input, a file that is not ONNX: exit 2, nothing written.
# Usage: cli_onnx.sh <cimsim> <source dir> <scratch dir>
set -u
cimsim=$1
src=$2
dir=$3
arch=$src/data/arch/edge-small.yaml
models=$src/tests/enos_search/data
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail=0
common="--mode sampling --train-subset 256 --test-subset 32 --batch 32 --epochs 1 --warmup-epochs 0
  --finetune-epochs 0 --lambda 1 --no-progress"
# shellcheck disable=SC2086
"$cimsim" search --onnx "$models/tiny_residual.onnx" --arch "$arch" $common --out-dir "$dir/out" > "$dir/search.log" 2>&1 ||
  { echo "FAIL: search --onnx"; cat "$dir/search.log"; exit 1; }
grep -q "architecture .*edge-small.yaml" "$dir/search.log" || { echo "FAIL: no architecture line"; fail=1; }
python3 - "$dir/out/network.enos.json" <<'PY' || fail=1
import json, sys
ex = json.load(open(sys.argv[1]))
kinds = sorted({n["kind"] for n in ex["nodes"]})
accel = [n for n in ex["nodes"] if n["kind"] == "accel"]
ok = ex["array"]["rows"] == 8 and ex["meta"]["arch_name"] == "edge-small" and len(accel) == 4 and \
     {"add", "avgpool", "globalavgpool", "maxpool"} <= set(kinds) and ex["meta"]["search"]["onnx"].endswith("tiny_residual.onnx")
print(("ok" if ok else "FAIL") + ": export of the imported network: %d accel layers, node kinds %s, array %dx%d"
      % (len(accel), kinds, ex["array"]["rows"], ex["array"]["cols"]))
sys.exit(0 if ok else 1)
PY
for level in lt cycle; do
  "$cimsim" infer --export "$dir/out/network.enos.json" --arch "$arch" --level $level --images 8 \
    --report "$dir/infer-$level.json" > "$dir/infer-$level.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then echo "FAIL: infer --level $level exit $rc"; cat "$dir/infer-$level.log"; fail=1; continue; fi
  python3 "$src/tests/enos_search/check_infer.py" "$dir/out/network.enos.json" "$dir/infer-$level.json" \
    "imported network, $level on edge-small" || fail=1
done
# The float weights initialise the MAC8 path: with a negligible learning rate the exported integer network keeps
# the float model's accuracy (PyTorch's, written by make_tiny_onnx.py) within 1 point on the same 1000 test images.
# The data are named as IDX files (labels beside them).
fm=${CIMSIM_FMNIST:-/usr/share/datasets/fashion-mnist}
"$cimsim" search --onnx "$models/tiny_residual.onnx" --data "$fm/train-images-idx3-ubyte.gz" \
  --test-data "$fm/t10k-images-idx3-ubyte.gz" --mode fixed --candidates mac8 --epochs 1 --warmup-epochs 0 \
  --finetune-epochs 0 --train-subset 512 --test-subset 1000 --lr 1e-12 --no-progress --out-dir "$dir/init" \
  > "$dir/init.log" 2>&1 || { echo "FAIL: search --onnx (init)"; cat "$dir/init.log"; fail=1; }
python3 - "$models/tiny_residual.json" "$dir/init/report.json" <<'PY' || fail=1
import json, sys
ref, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ok = abs(r["test_acc_int"] - ref["float_top1"]) <= 0.01
print(("ok" if ok else "FAIL") + ": initialised from the ONNX weights, untrained: integer accuracy %.1f %% vs float "
      "(PyTorch) %.1f %% on %d test images" % (100 * r["test_acc_int"], 100 * ref["float_top1"], ref["test_images"]))
sys.exit(0 if ok else 1)
PY
expect2() {  # <needle> <args...>: exit 2, the needle in the message, no output directory
  needle=$1
  shift
  # shellcheck disable=SC2086
  "$cimsim" search $common --out-dir "$dir/bad" "$@" > "$dir/bad.log" 2>&1
  rc=$?
  if [ $rc -ne 2 ]; then echo "FAIL ($*): exit $rc, expected 2"; cat "$dir/bad.log"; fail=1; return; fi
  if ! grep -q -- "$needle" "$dir/bad.log"; then echo "FAIL ($*): no '$needle' in:"; cat "$dir/bad.log"; fail=1; return; fi
  if [ -e "$dir/bad" ]; then echo "FAIL ($*): $dir/bad was created"; fail=1; return; fi
  echo "ok: $* -> exit 2: $(grep cimsim: "$dir/bad.log" | head -c 400)"
}
expect2 "images are 1x28x28 but the input 'image' of .*tiny_residual_rgb32.onnx is 3x32x32" \
  --onnx "$models/tiny_residual_rgb32.onnx"
printf 'not an onnx model' > "$dir/junk.onnx"
expect2 "junk.onnx" --onnx "$dir/junk.onnx"
expect2 "input-mean: 2 values for the 1 channels of input 'image'" --onnx "$models/tiny_residual.onnx" \
  --input-mean 0.1,0.2
expect2 "they need --onnx" --input-std 0.3
expect2 "name the test images with --test-data" --onnx "$models/tiny_residual.onnx" --data "$fm/train-images-idx3-ubyte.gz"
expect2 "both name the network to search" --onnx "$models/tiny_residual.onnx" --net shufflenet
[ $fail -eq 0 ] && echo "search --onnx: all checks passed"
exit $fail
