#!/bin/sh
# `cimsim search --arch`: the energies the search sees come from the architecture file. A search on
# data/arch/edge-small.yaml prices its layers differently from the default hardware; its export records that
# architecture and runs on it (`cimsim infer --arch`) at LT and cycle level with logits identical to the host
# reference and the simulated energy of every layer equal to the export's predicted_energy_pj; a checkpoint made
# for edge-small is refused (exit 2, naming --arch) by a run on other hardware.
# Usage: cli_arch.sh <cimsim> <source dir> <scratch dir>
set -u
cimsim=$1
src=$2
dir=$3
arch=$src/data/arch/edge-small.yaml
rm -rf "$dir" && mkdir -p "$dir" || exit 1
fail=0
common="--net squeezenet --mode sampling --train-subset 256 --test-subset 32 --batch 32 --epochs 1 --warmup-epochs 0
  --finetune-epochs 0 --lambda 1 --no-progress"
# shellcheck disable=SC2086
"$cimsim" search $common --arch "$arch" --out-dir "$dir/edge" > "$dir/edge.log" 2>&1 || { cat "$dir/edge.log"; exit 1; }
# shellcheck disable=SC2086
"$cimsim" search $common --out-dir "$dir/default" > "$dir/default.log" 2>&1 || { cat "$dir/default.log"; exit 1; }
python3 - "$dir" <<'PY' || fail=1
import json, sys
d = sys.argv[1]
e, f = json.load(open(d + "/edge/report.json")), json.load(open(d + "/default/report.json"))
ex = json.load(open(d + "/edge/network.enos.json"))
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
diff = [l["name"] for l, m in zip(e["layers"], f["layers"]) if l["candidate_energy_pj"] != m["candidate_energy_pj"]]
check(len(diff) > 0, "layer energies differ from the default hardware at %d of %d layers" % (len(diff), len(e["layers"])))
check(e["ref_energy_pj"] != f["ref_energy_pj"], "all-MAC8 reference %.1f pJ (edge-small) vs %.1f pJ (default)"
      % (e["ref_energy_pj"], f["ref_energy_pj"]))
check(ex["array"]["rows"] == 8 and ex["array"]["cols"] == 8 and ex["array"]["vector_lanes"] == 8
      and ex["array"]["weight_buffer_bytes"] == 16384, "export array is edge-small's: %s" % ex["array"])
check(ex["meta"]["arch_name"] == "edge-small" and e["hardware"]["arch_name"] == "edge-small"
      and e["hardware"]["arch_fingerprint"] != f["hardware"]["arch_fingerprint"], "arch recorded with its fingerprint")
sys.exit(0 if ok else 1)
PY
for level in lt cycle; do
  "$cimsim" infer --export "$dir/edge/network.enos.json" --arch "$arch" --level $level --images 8 \
    --report "$dir/infer-$level.json" > "$dir/infer-$level.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then echo "FAIL: infer --level $level exit $rc"; cat "$dir/infer-$level.log"; fail=1; continue; fi
  python3 "$src/tests/enos_search/check_infer.py" "$dir/edge/network.enos.json" "$dir/infer-$level.json" \
    "$level on edge-small" || fail=1
done
# A checkpoint made for edge-small is not resumed on the default hardware (nor with another --tech).
# shellcheck disable=SC2086
"$cimsim" search $common --out-dir "$dir/edge" --resume > "$dir/resume.log" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "made for another architecture (--arch)" "$dir/resume.log"; then
  echo "ok: resume on other hardware -> exit 2: $(head -c 300 "$dir/resume.log")"
else
  echo "FAIL: resume on other hardware: exit $rc"; cat "$dir/resume.log"; fail=1
fi
# ... nor with another energy table (mac8 at 0.4 pJ instead of 0.3).
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); j['energy_pj']['accel']['digital']['mac8']=0.4
json.dump(j, open(sys.argv[2], 'w'))" "$src/data/tech/45nm.json" "$dir/45nm-mac8.json"
# shellcheck disable=SC2086
"$cimsim" search $common --arch "$arch" --tech "$dir/45nm-mac8.json" --out-dir "$dir/edge" --resume > "$dir/resume.log" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "made for another energy table (--tech)" "$dir/resume.log"; then
  echo "ok: resume with another table -> exit 2: $(grep cimsim: "$dir/resume.log" | head -c 300)"
else
  echo "FAIL: resume with another table: exit $rc"; cat "$dir/resume.log"; fail=1
fi
[ $fail -eq 0 ] && echo "search --arch: all checks passed"
exit $fail
