#!/usr/bin/env bash
# Done-means check of issue 20: torchvision's SqueezeNet 1.1, ShuffleNet V2 x1.0, MobileNet V2 and ResNet-18,
# exported to ONNX by /usr/bin/python3 torch.onnx.export with its default settings (random weights, 1x3x224x224),
# run through `cimsim run --onnx` at LT and cycle level on every architecture in data/arch/. Prints one line per
# net/arch/level (PASS = simulator outputs equal the datapath reference; energy; cycles; wall time) and writes
# the same as a Markdown table to OUT/torchvision_check.md. Not a ctest (minutes, 45 MB models).
# Usage: tools/onnx/torchvision_check.sh [OUT]   (default build/onnx-torchvision; CIMSIM=path/to/cimsim)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/onnx-torchvision}
cimsim=${CIMSIM:-build/tb/cimsim}
nets=(squeezenet1_1 shufflenet_v2_x1_0 mobilenet_v2 resnet18)
mkdir -p "$out"
for n in "${nets[@]}"; do
  [ -f "$out/$n.onnx" ] && continue
  /usr/bin/python3 - "$n" "$out/$n.onnx" <<'PY' 2>&1 | grep -v -i warn || true
import sys, torch, torchvision
name, path = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
m = getattr(torchvision.models, name)().eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), path)
PY
  [ -f "$out/$n.onnx" ] || { echo "export of $n failed" >&2; exit 1; }
done
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
md="$out/torchvision_check.md"
{
  echo "| network | architecture | level | check | energy (uJ/image) | cycles | import + quantise (s) | simulation (s) | whole command (s) |"
  echo "|---|---|---|---|---:|---:|---:|---:|---:|"
} > "$md"
fails=0
for a in data/arch/*.yaml; do
  for n in "${nets[@]}"; do
    for lvl in lt cycle; do
      t0=$(date +%s.%N)
      set +e
      log=$("$cimsim" run --onnx "$out/$n.onnx" --arch "$a" --level "$lvl" 2>&1)
      rc=$?
      set -e
      t1=$(date +%s.%N)
      wall=$(echo "$t1 - $t0" | bc)
      total=$(echo "$log" | awk '$1 == "total" {print $(NF-1), $(NF-4)}')
      pj=${total%% *}
      cyc=${total##* }
      if [ $rc -eq 0 ] && echo "$log" | grep -q "check against the datapath (run_layer chained): PASS"; then
        check=PASS
      else
        check="FAIL (exit $rc: $(echo "$log" | grep -m1 -iE 'error|fail' | cut -c1-120 || true))"
        fails=$((fails + 1))
      fi
      uj=$( [ -n "$pj" ] && echo "scale=3; $pj / 1000000" | bc || echo "-")
      iq=$(echo "$log" | sed -n 's/^onnx: .* imported in \([0-9.]*\) s .* quantised in \([0-9.]*\) s.*/\1 + \2/p')
      iq=$( [ -n "$iq" ] && printf %.2f "$(echo "$iq" | bc)" || echo "-")
      sw=$(echo "$log" | sed -n 's/^simulated .*; wall \([0-9.]*\) s$/\1/p')
      printf "%-20s %-12s %-6s %-6s %10s uJ %10s cycles  import+quantise %5s s  simulation %6s s  command %7.2f s\n" \
        "$n" "$(basename "$a" .yaml)" "$lvl" "$check" "$uj" "${cyc:--}" "$iq" "${sw:--}" "$wall"
      echo "| $n | $(basename "$a" .yaml) | $lvl | $check | $uj | ${cyc:--} | $iq | ${sw:--} | $(printf %.2f "$wall") |" >> "$md"
    done
  done
done
echo "table: $md"
[ $fails -eq 0 ] || { echo "$fails run(s) failed" >&2; exit 1; }
