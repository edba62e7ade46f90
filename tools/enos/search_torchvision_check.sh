#!/usr/bin/env bash
# `cimsim search --onnx` on torchvision's SqueezeNet 1.1, ShuffleNet V2 x1.0, MobileNet V2 and ResNet-18 (exported
# by torch.onnx.export with default settings, random weights, 1x3x224x224; the same files as
# tools/onnx/torchvision_check.sh), for every architecture in data/arch/: a one-epoch `--mode single` search on a
# tiny synthetic 3x224x224 IDX data set (8 training, 4 test images; accuracy is meaningless, the point is that
# the supernet builds, trains, searches and exports), with a strong energy weight so that the layers leave MAC8;
# then `cimsim run --export` of the result on that architecture. Checks: the run's datapath check passes and its
# simulated energy per image equals the search's energy_pj (the exported network's plan). Also shown: how far the
# search's own per-layer estimates (placements from the all-MAC8 skeleton's plan) are from that plan. Prints one line per network/architecture/level and writes OUT/search_torchvision.md.
# Not a ctest (minutes, 45 MB of models).
# Usage: tools/enos/search_torchvision_check.sh [OUT] [MODELS]   (CIMSIM=path/to/cimsim, LEVELS="lt cycle", ARCHS="data/arch/edge-small.yaml")
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/search-torchvision}
models=${2:-build/onnx-torchvision}
cimsim=${CIMSIM:-build/tb/cimsim}
levels=${LEVELS:-lt}
nets=(squeezenet1_1 shufflenet_v2_x1_0 mobilenet_v2 resnet18)
mkdir -p "$out" "$models"
for n in "${nets[@]}"; do
  [ -f "$models/$n.onnx" ] && continue
  /usr/bin/python3 - "$n" "$models/$n.onnx" <<'PY' 2>&1 | grep -v -i warn || true
import sys, torch, torchvision
name, path = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
m = getattr(torchvision.models, name)().eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), path)
PY
done
/usr/bin/python3 - "$out" <<'PY'
import struct, sys, numpy as np
rng = np.random.default_rng(1)
for name, n in (("train", 8), ("t10k", 4)):
    x = rng.integers(0, 256, size=(n, 3, 224, 224), dtype=np.uint8)
    open(f"{sys.argv[1]}/{name}-images-idx3-ubyte", "wb").write(struct.pack(">IIIII", 0x804, n, 3, 224, 224) + x.tobytes())
    y = rng.integers(0, 10, size=n, dtype=np.uint8)
    open(f"{sys.argv[1]}/{name}-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + y.tobytes())
PY
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
md="$out/search_torchvision.md"
{
  echo "| network | architecture | layers | candidates chosen | search energy (uJ/image, % of all-MAC8) | level | run check | simulated = searched | search-time layer estimate vs export plan (%) |"
  echo "|---|---|---:|---|---:|---|---|---|---|"
} > "$md"
fails=0
for a in ${ARCHS:-data/arch/*.yaml}; do
  an=$(basename "$a" .yaml)
  for n in "${nets[@]}"; do
    d="$out/$n-$an"
    rm -rf "$d"
    if ! "$cimsim" search --onnx "$models/$n.onnx" --arch "$a" --data "$out/train-images-idx3-ubyte" \
        --test-data "$out/t10k-images-idx3-ubyte" --mode single --lambda 20 --alpha-lr 2 --epochs 1 --warmup-epochs 0 \
        --finetune-epochs 0 --batch 2 --train-subset 8 --test-subset 4 --no-progress --out-dir "$d" > "$d.log" 2>&1; then
      echo "FAIL $n $an: search (see $d.log)"; echo "| $n | $an | | search failed | | | FAIL | |" >> "$md"; fails=$((fails + 1)); continue
    fi
    for lvl in $levels; do
      set +e
      "$cimsim" run --export "$d/network.enos.json" --arch "$a" --level "$lvl" --report "$d/run-$lvl.json" > "$d/run-$lvl.log" 2>&1
      rc=$?
      set -e
      line=$(python3 - "$d" "$lvl" "$rc" "$n" "$an" <<'PY'
import collections, json, sys
d, lvl, rc, n, an = sys.argv[1:]
r = json.load(open(d + "/report.json")); e = json.load(open(d + "/network.enos.json"))
pred = {x["name"]: x["predicted_energy_pj"] for x in e["nodes"] if x["kind"] == "accel"}
# the search's own per-layer estimate (placements of the all-MAC8 skeleton's plan) vs the exported network's plan
# (which may pin more constants once layers left MAC8): the largest differences, for reading; not a failure
dmax = max(100.0 * (l["energy_pj"] - pred[l["name"]]) / pred[l["name"]] for l in r["layers"])
dmin = min(100.0 * (l["energy_pj"] - pred[l["name"]]) / pred[l["name"]] for l in r["layers"])
try:
    run = json.load(open(d + "/run-%s.json" % lvl)); sim = run["totals"]["energy_pj"]; check = run["check"]
except Exception:
    sim, check = float("nan"), "none (exit %s)" % rc
equal = abs(sim - r["energy_pj"]) <= 1e-9 * r["energy_pj"]
ok = rc == "0" and check == "PASS" and equal
c = collections.Counter(l["candidate"] for l in r["layers"])
print("%s||| %s | %s | %d | %s | %.1f (%.1f %%) | %s | %s | %s | %+.2f .. %+.2f |" % (
    "ok" if ok else "FAIL", n, an, len(r["layers"]), ", ".join("%s %d" % kv for kv in c.most_common()),
    r["energy_pj"] * 1e-6, 100 * r["energy_pj"] / r["ref_energy_pj"], lvl, check,
    "yes" if equal else "no: %.3f vs %.3f" % (sim, r["energy_pj"]), dmin, dmax))
PY
)
      echo "${line#*||}" >> "$md"
      echo "${line%%||*} $n $an $lvl: ${line#*||}"
      [ "${line%%||*}" = ok ] || fails=$((fails + 1))
    done
  done
done
echo "wrote $md; $fails failure(s)"
exit $((fails > 0))
