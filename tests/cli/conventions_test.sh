#!/usr/bin/env bash
# CLI conventions (issue 23, docs/cli.md): one ctest per rule. Each case runs cimsim the way a user would and
# checks the exit code, the text and the files written.
# Usage: conventions_test.sh <cimsim binary> <source dir> <case>
set -u
bin=$1
src=$2
case_name=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset SYSTEMC_DISABLE_COPYRIGHT_MESSAGE CIMSIM_SYSTEMC_BANNER CIMSIM_TRACES
fail() { echo "FAIL [$case_name]: $*"; echo "--- stdout:"; head -c 3000 "$tmp/out"; echo "--- stderr:"; head -c 3000 "$tmp/err"; exit 1; }
# run <args...>: runs cimsim in $tmp/wd (a fresh working directory), output in $tmp/out and $tmp/err, rc in $rc
mkdir -p "$tmp/wd"
run() { (cd "$tmp/wd" && timeout 120 "$bin" "$@") >"$tmp/out" 2>"$tmp/err"; rc=$?; }
usage_error() {  # usage_error <text that must appear on stderr> -- <args...>
  local want=$1; shift 2
  run "$@"
  [[ $rc -eq 2 ]] || fail "exit $rc, expected 2 for: $*"
  grep -qF -- "$want" "$tmp/err" || fail "stderr lacks '$want' for: $*"
}
case $case_name in
  banner_silenced)  # SystemC's banner on --help, --version, errors: gone by default, back on request
    for a in "--help" "--version" "run --help" "run --bogus"; do
      run $a
      ! grep -q "Copyright" "$tmp/out" "$tmp/err" || fail "banner printed for '$a'"
    done
    run --version
    [[ $rc -eq 0 ]] || fail "--version exit $rc"
    (cd "$tmp/wd" && CIMSIM_SYSTEMC_BANNER=1 "$bin" --version) >"$tmp/out" 2>&1
    grep -q "Copyright" "$tmp/out" || fail "CIMSIM_SYSTEMC_BANNER=1 does not show the banner" ;;
  usage_errors_exit_2)  # CLI11's own codes were 104-109
    usage_error "not expected" -- run --bogus
    usage_error "--level" -- run --level fast
    usage_error "--chains" -- sample --chains
    usage_error "subcommand" --
    usage_error "subcommand" -- frobnicate
    usage_error "--jobs" -- sweep "$src/data/sweeps/accel-dse.yaml" --jobs 0
    usage_error "--images" -- infer --images many
    run --help; [[ $rc -eq 0 ]] || fail "--help exit $rc" ;;
  did_you_mean)
    usage_error "did you mean --topology?" -- run --topolgy x.csv
    usage_error "did you mean --samples?" -- sample --sampels 10
    usage_error "did you mean --out-dir?" -- sweep "$src/data/sweeps/accel-dse.yaml" --out-dri x
    usage_error "did you mean 'cimsim run'?" -- rnu
    usage_error "did you mean 'cimsim sample'?" -- sampel --chains 2
    usage_error "did you mean 'cimsim sweep'?" -- swep x.yaml ;;
  defaults_in_help)  # every option that takes a value and has a default shows it
    for s in run infer sample sweep; do
      run $s --help
      [[ $rc -eq 0 ]] || fail "$s --help exit $rc"
      case $s in
        run) want=("--level TEXT:{analytic,lt,cycle}=lt" "--seed UINT=1" "--op TEXT=mac8" "--adc-bits INT:INT in [1 - 16]=5") ;;
        infer) want=("--level TEXT=lt" "--images INT=100") ;;
        sample) want=("--chains INT=4" "--samples UINT=500" "--seed UINT=1" "--level TEXT:{lt,cycle}=cycle" "--step FLOAT=auto") ;;
        sweep) want=("--out-dir,--out") ;;
      esac
      for w in "${want[@]}"; do grep -qF -- "$w" "$tmp/out" || fail "$s --help lacks '$w'"; done
    done ;;
  out_dir_everywhere)  # --out-dir DIR in every subcommand, outputs relative to the working directory
    run run --level lt --out-dir res
    [[ $rc -eq 0 ]] || fail "run --out-dir exit $rc"
    for f in report.json layers.csv energy.png; do [[ -s "$tmp/wd/res/$f" ]] || fail "run --out-dir: no res/$f"; done
    run sample --level lt --samples 50 --out-dir smp --no-plots
    [[ $rc -eq 0 && -s "$tmp/wd/smp/report.json" && -s "$tmp/wd/smp/draws.csv" ]] || fail "sample --out-dir"
    for s in run infer sample sweep; do run $s --help; grep -q -- "--out-dir" "$tmp/out" || fail "$s has no --out-dir"; done
    # the older per-file flags stay as aliases
    run run --level lt --report r.json
    [[ $rc -eq 0 && -s "$tmp/wd/r.json" ]] || fail "run --report alias" ;;
  vcd_relative_to_cwd)  # a relative --vcd lands in the working directory, never in the source tree
    run run --level cycle --vcd sub/t
    [[ $rc -eq 0 ]] || fail "run --vcd exit $rc"
    [[ -s "$tmp/wd/sub/t.vcd" ]] || fail "relative --vcd not under the working directory"
    [[ ! -e "$src/traces/sub/t.vcd" ]] || fail "relative --vcd landed in the source tree"
    run run --level cycle --vcd bare
    [[ -s "$tmp/wd/bare.vcd" ]] || fail "bare --vcd name not in the working directory" ;;
  meaningless_combinations)
    usage_error "--op applies to the layers of a --topology" -- run --op xnor
    usage_error "--mode applies to the layers of a --topology" -- run --mode cim
    usage_error "--vcd-detail needs --vcd" -- run --level cycle --vcd-detail
    usage_error "add --level cycle" -- run --level lt --vcd
    usage_error "add --level cycle" -- sample --level lt --vcd
    usage_error "--no-draws needs --out-dir" -- sample --no-draws
    [[ ! -e "$tmp/wd/traces" ]] || fail "a refused command wrote a trace" ;;
  sample_no_draws_progress)
    (cd "$tmp/wd" && CIMSIM_PROGRESS=1 timeout 120 "$bin" sample --level lt --chains 2 --samples 100000 --out-dir o \
       --no-draws --no-plots) >"$tmp/out" 2>"$tmp/err"
    [[ $? -eq 0 ]] || fail "exit"
    [[ -s "$tmp/wd/o/report.json" && ! -e "$tmp/wd/o/draws.csv" ]] || fail "--no-draws wrote draws.csv"
    grep -q "diagnostics: 1/" "$tmp/err" || fail "no progress during the diagnostics"
    grep -q "diagnostics done" "$tmp/err" || fail "no end of diagnostics" ;;
  traces_defined)  # every VCD a command writes: no x/z, every variable given a value, a view that opens on it
    check_view() {  # check_view <vcd> <scope that must be in the view>
      local vcd=$1 scope=$2 view=${1%.vcd}.gtkw
      /usr/bin/python3 "$src/tests/cli/vcd_check.py" "$vcd" >>"$tmp/out" || fail "$(tail -1 "$tmp/out")"
      [[ -s "$view" ]] || fail "no view $view"
      grep -qF "[dumpfile] \"$vcd\"" "$view" || fail "$view does not name $vcd"
      grep -q "^$scope\." "$view" || fail "$view lacks the scope $scope"
      grep -q '^\*-' "$view" || fail "$view has no zoom line"
      [[ $(stat -c %a "$vcd") == 644 && $(stat -c %a "$view") == 644 ]] || fail "trace or view not mode 0644"
      grep -q "view (whole run, names): gtkwave" "$tmp/out" || fail "no view announced"
    }
    (cd "$tmp/wd" && umask 022 && "$bin" run --level cycle --vcd "$tmp/wd/acc" --vcd-detail) >"$tmp/out" 2>"$tmp/err" || fail "run"
    check_view "$tmp/wd/acc.vcd" "SystemC.soc.accel"
    for f in accel-state accel-op accel-mode; do
      grep -q '^@2024' "$tmp/wd/acc.gtkw" || fail "no translated signal"
      cmp -s "$tmp/wd/$f.txt" "$src/traces/$f.txt" || fail "$f.txt differs from the shipped traces/$f.txt"
    done
    grep -q "^5 COMPUTE" "$tmp/wd/accel-state.txt" && grep -q "^1 cim" "$tmp/wd/accel-mode.txt" || fail "filter text"
    (cd "$tmp/wd" && umask 022 && "$bin" sample --level cycle --samples 40 --vcd "$tmp/wd/mc") >"$tmp/out" 2>"$tmp/err" || fail "sample"
    check_view "$tmp/wd/mc.vcd" "SystemC.mc2ram"
    grep -q "SystemC.mc2ram.chain0.prop0" "$tmp/wd/mc.gtkw" || fail "the traced chain is not named"
    cmp -s "$tmp/wd/mc2ram-stage.txt" "$src/traces/mc2ram-stage.txt" || fail "mc2ram-stage.txt differs from traces/"
    if [[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz || -n "${CIMSIM_FMNIST:-}" ]]; then
      (cd "$tmp/wd" && umask 022 && "$bin" infer --synthetic 3 --level cycle --images 2 --vcd "$tmp/wd/inf") \
        >"$tmp/out" 2>"$tmp/err" || fail "infer"
      check_view "$tmp/wd/inf.vcd" "SystemC.enos_soc.accel"
    fi ;;
  headline_in_reports)  # the headline figures in every report: JSON keys and CSV columns (docs/cli.md)
    run run --level cycle --out-dir r
    [[ $rc -eq 0 ]] || fail "run"
    grep -q "headline (per inference, steady state)" "$tmp/out" || fail "run prints no headline"
    grep -q "^first run: +" "$tmp/out" || fail "run does not label the first run"
    run sample --level lt --samples 200 --out-dir s --no-plots
    [[ $rc -eq 0 ]] || fail "sample"
    grep -q "effective samples per uJ" "$tmp/out" || fail "sample prints no headline"
    reports=("$tmp/wd/r/report.json" "$tmp/wd/r/layers.csv" "$tmp/wd/s/report.json")
    if [[ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz || -n "${CIMSIM_FMNIST:-}" ]]; then
      run infer --synthetic 3 --level lt --images 3 --out-dir i
      [[ $rc -eq 0 ]] || fail "infer"
      reports+=("$tmp/wd/i/report.json" "$tmp/wd/i/layers.csv")
      [[ -s "$tmp/wd/i/energy.png" ]] || fail "infer wrote no plot"
    fi
    /usr/bin/python3 - "${reports[@]}" <<'PY' || fail "headline keys or columns missing"
import csv, json, math, sys
acc = ["pj_per_mac_system", "pj_per_mac_operator", "tops_per_w_system", "tops_per_w_operator", "uj_per_inference",
       "latency_ms", "inferences_per_s", "edp_uj_ms"]
for p in sys.argv[1:]:
    if p.endswith(".csv"):
        rows = list(csv.DictReader(open(p)))
        for k in acc:
            assert k in rows[0], (p, k)
        tot = rows[-1]
        assert tot["layer"] == "total", p
        # one formula, checked from the CSV's own columns: TOPS/W = 2 / (pJ/MAC), latency = cycles / clock
        assert math.isclose(float(tot["tops_per_w_system"]), 2 / float(tot["pj_per_mac_system"]), rel_tol=1e-4), tot
        continue
    j = json.load(open(p))
    if "headline" in j and "steady_state" in j["headline"]:
        h = j["headline"]["steady_state"]
        for k in acc + ["latency_s", "edp_j_s", "clock_hz"]:
            assert h.get(k) is not None, (p, k)
        assert "extra_energy_pj" in j["headline"]["first_run"], p
        assert math.isclose(h["inferences_per_s"] * h["latency_s"], 1.0, rel_tol=1e-9), h
    else:
        h = j["headline"]
        for k in ["pj_per_sample", "ns_per_sample", "ns_per_sample_per_chain", "samples_per_s", "ess_per_uj", "energy_uj"]:
            assert h.get(k) is not None, (p, k)
        assert math.isclose(h["pj_per_sample"], j["energy_per_sample_pj"], rel_tol=1e-9), h
print("headline keys ok in", len(sys.argv) - 1, "reports")
PY
    ;;
  *) echo "unknown case $case_name"; exit 1 ;;
esac
echo "ok [$case_name]"
