#!/usr/bin/env bash
# `cimsim run` end to end: a SCALE-Sim topology at both levels with the per-layer CSV (same cycles and energy at
# LT and cycle level, PASS), an architecture file, an assignment file, the plot; bad architecture / topology /
# assignment files exit 2 with the file and field named and write nothing.
set -uo pipefail
bin="$1"; src="$2"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A small topology: two chained convs, a depthwise conv, and an FC that does not chain (new segment).
cat > "$tmp/t.csv" <<'CSV'
Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides, Padding, Groups,
c1, 12, 12, 3, 3, 4, 16, 1, 1, 1,
c2, 12, 12, 1, 1, 16, 24, 1, 0, 1,
dw, 12, 12, 3, 3, 24, 24, 2, 1, 24,
fc, 1, 1, 1, 1, 100, 10, 1, 0, 1,
CSV
printf 'layer,op,mode,adc_bits,cim_rows\nc2,bwn,cim,5,64\nfc,xnor,digital\n' > "$tmp/a.csv"
for lvl in lt cycle; do
  "$bin" run --level $lvl --arch "$src/data/arch/edge-small.yaml" --topology "$tmp/t.csv" --assignment "$tmp/a.csv" \
      --op mac8 --report "$tmp/$lvl.json" --report-csv "$tmp/$lvl.csv" > "$tmp/$lvl.log" 2>&1 || { cat "$tmp/$lvl.log"; fail "run $lvl"; }
  grep -q "datapath (run_layer chained): PASS" "$tmp/$lvl.log" || fail "$lvl: no PASS"
  [[ $(wc -l < "$tmp/$lvl.csv") -ge 5 ]] || fail "$lvl: CSV has too few rows"
done
# Same cycles and energy per layer at both levels (the cycle level steps the LT model's plan).
/usr/bin/python3 - "$tmp/lt.json" "$tmp/cycle.json" <<'PY' || fail "LT and cycle level differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert len(a["layers"]) == 4, len(a["layers"])
for x, y in zip(a["layers"], b["layers"]):
    assert (x["cycles"], x["energy_aj"]) == (y["cycles"], y["energy_aj"]), (x, y)
    assert x["cycles"] == x["model_cycles"] and x["energy_aj"] == x["model_energy_aj"], x
assert [l["op"] for l in a["layers"]] == ["mac8", "bwn", "mac8", "xnor"]
assert a["layers"][1]["mode"] == "cim"
assert a["layers"][1]["in_on_chip"] and a["layers"][0]["out_on_chip"]      # c1 -> c2 stays on chip
assert not a["layers"][3]["in_on_chip"]                                      # fc starts a new segment
assert a["totals"]["operator_energy_pj"] < a["totals"]["system_energy_pj"]
PY
# Plot (gnuplot is a dependency of the project).
"$bin" run --topology "$tmp/t.csv" --plot "$tmp/e.png" > "$tmp/p.log" 2>&1 || { cat "$tmp/p.log"; fail "plot"; }
head -c 8 "$tmp/e.png" | od -An -c | grep -q "P   N   G" || fail "plot is not a PNG"

# Bad input: exit 2, the message names the file and the field, nothing written.
expect2() {  # expect2 <pattern> <args...>
  local pat="$1"; shift
  rm -f "$tmp/out.json" "$tmp/out.csv"
  "$bin" run "$@" --report "$tmp/out.json" --report-csv "$tmp/out.csv" > "$tmp/e.log" 2>&1
  local rc=$?
  [[ $rc -eq 2 ]] || { cat "$tmp/e.log"; fail "rc $rc, expected 2 for $*"; }
  grep -q -- "$pat" "$tmp/e.log" || { cat "$tmp/e.log"; fail "message lacks '$pat' for $*"; }
  [[ ! -e "$tmp/out.json" && ! -e "$tmp/out.csv" ]] || fail "output written for $*"
}
sed -e 's/rows: 16/rows: 0/' -e "s|tech: .*|tech: $src/data/tech/45nm.json|" "$src/data/arch/default.yaml" > "$tmp/bad-arch.yaml"
expect2 "bad-arch.yaml" --arch "$tmp/bad-arch.yaml"
expect2 "array.rows" --arch "$tmp/bad-arch.yaml"
sed -e 's/weight_bytes: 65536/weight_bytes: 64/' -e "s|tech: .*|tech: $src/data/tech/45nm.json|" "$src/data/arch/default.yaml" > "$tmp/tiny.yaml"
expect2 "buffers.weight_bytes" --arch "$tmp/tiny.yaml"
printf 'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nc1, 4, 4, 7, 7, 3, 8, 1,\n' > "$tmp/big-kernel.csv"
expect2 "big-kernel.csv" --topology "$tmp/big-kernel.csv"
printf 'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nc1, 8, x8, 3, 3, 3, 8, 1,\n' > "$tmp/nan.csv"
expect2 "IFMAP Width" --topology "$tmp/nan.csv"
printf 'Layer name, IFMAP Height, IFMAP Width, Filter Height\nc1, 8, 8, 3\n' > "$tmp/cols.csv"
expect2 "cols.csv" --topology "$tmp/cols.csv"
printf 'layer,op,mode\nnope,mac8,digital\n' > "$tmp/unknown.csv"
expect2 "nope" --topology "$tmp/t.csv" --assignment "$tmp/unknown.csv"
printf 'layer,op,mode\nc1,mac8,cim\n' > "$tmp/badcim.csv"
expect2 "badcim.csv" --topology "$tmp/t.csv" --assignment "$tmp/badcim.csv"
expect2 "--op" --topology "$tmp/t.csv" --op mac9
# Issue 21: the analytic level (same per-layer numbers as LT, no data), memory sizes, SCALE-Sim .cfg and GEMM files.
"$bin" run --level analytic --arch "$src/data/arch/edge-small.yaml" --topology "$tmp/t.csv" --assignment "$tmp/a.csv" \
    --op mac8 --report "$tmp/an.json" > "$tmp/an.log" 2>&1 || { cat "$tmp/an.log"; fail "run analytic"; }
grep -q "not run (analytic level" "$tmp/an.log" || fail "analytic: no 'not run'"
grep -q "warning: .*'dw' produces 24x6x6, 'fc' reads 100x1x1" "$tmp/an.log" || { cat "$tmp/an.log"; fail "analytic: no chain-break warning"; }
/usr/bin/python3 - "$tmp/an.json" "$tmp/lt.json" <<'PY' || fail "analytic and LT differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["config"]["level"] == "analytic" and a["check"] == "not run"
assert len(a["layers"]) == len(b["layers"])
for x, y in zip(a["layers"], b["layers"]):
    for k in ("cycles", "macs", "dram_bytes", "energy_aj", "components_pj"):
        assert x[k] == y[k], (k, x, y)
PY
expect2 "smaller than this workload needs" --topology "$tmp/t.csv" --memory 4K
expect2 "run: --memory" --topology "$tmp/t.csv" --memory 12Q
"$bin" run --topology "$tmp/t.csv" --memory 64M > "$tmp/m.log" 2>&1 || { cat "$tmp/m.log"; fail "--memory 64M"; }
printf '[general]\nrun_name = mine\n\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nIfmapSramSzkB: 32\nFilterSramSzkB: 16\nOfmapSramSzkB: 32\nDataflow : ws\nBandwidth : 8\n' > "$tmp/ok.cfg"
"$bin" run --arch "$tmp/ok.cfg" --topology "$tmp/t.csv" > "$tmp/cfg.log" 2>&1 || { cat "$tmp/cfg.log"; fail "run .cfg"; }
grep -q "arch mine (.*ok.cfg): array 8x8" "$tmp/cfg.log" || { cat "$tmp/cfg.log"; fail ".cfg not read as the architecture"; }
sed 's/Dataflow : ws/Dataflow : os/' "$tmp/ok.cfg" > "$tmp/os.cfg"
expect2 "Dataflow" --arch "$tmp/os.cfg"
printf '[architecture_presets]\nArrayHight: 8\n' > "$tmp/typo.cfg"
expect2 "unknown key 'ArrayHight'" --arch "$tmp/typo.cfg"
printf 'Layer, M, N, K,\nqk, 64, 32, 16,\nv, 64, 16, 32,\n' > "$tmp/g.csv"
"$bin" run --topology "$tmp/g.csv" > "$tmp/g.log" 2>&1 || { cat "$tmp/g.log"; fail "GEMM"; }
grep -q "PASS" "$tmp/g.log" || fail "GEMM: no PASS"
printf 'Layer, M, N, K,\nqk, 64, 0, 16,\n' > "$tmp/g0.csv"
expect2 "g0.csv: row 2, field 'N'" --topology "$tmp/g0.csv"
echo "cli_run_test: OK"
