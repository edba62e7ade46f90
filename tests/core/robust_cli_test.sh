#!/usr/bin/env bash
# Issue 24 through the cimsim binary: outputs checked before the work and written independently; every input
# file bounded before it is read (non-regular files, alias bombs, deep JSON, a second YAML document, sweep
# points in total). Each case: exit code, error class, the file/field named; never a hang, a crash or a lost file.
# Usage: robust_cli_test.sh <cimsim binary> <case>
set -u
bin=$1
case_name=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
data=${CIMSIM_DATA_SRC:-$(dirname "$0")/../../data}
fail() { echo "FAIL [$case_name]: $*"; echo "--- stdout:"; head -c 2000 "$tmp/out"; echo "--- stderr:"; cat "$tmp/err"; exit 1; }
limit_memory() {  # no case may allocate without bound: 4 GB of address space (ASan: per allocation)
  if ldd "$bin" | grep -q libasan; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}:max_allocation_size_mb=4000:allocator_may_return_null=0"
  else
    ulimit -v 4000000
  fi
}
# expect <exit code> <error class text> <text that must appear> -- <command...>
expect() {
  local want=$1 class=$2 named=$3
  shift 4
  timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [[ $rc -eq $want ]] || fail "exit code $rc, expected $want: $*"
  grep -qF -- "$class" "$tmp/err" || fail "message lacks the error class '$class'"
  grep -qF -- "$named" "$tmp/err" || fail "message does not name '$named'"
  echo "ok [$case_name]: exit $rc: $(head -c 300 "$tmp/err")"
}
echo x >"$tmp/regular"
laughs() {  # a YAML alias bomb of about 1.7 KB: 10^9 nodes once expanded
  echo "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"
  for i in 1 2 3 4 5 6 7 8; do
    p=$((i - 1))
    echo "a$i: &a$i [*a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p]"
  done
}
limit_memory
case $case_name in
  run_outputs_checked_first)  # a bad path failed after the whole simulation (exit 3 at the end)
    expect 3 "I/O error" "--report-csv $tmp/regular/x.csv" -- "$bin" run --level lt \
      --topology "$data/topologies/resnet18.csv" --report-csv "$tmp/regular/x.csv"
    grep -q "check against" "$tmp/out" && fail "it simulated before checking the output path"
    mkdir "$tmp/dir"
    expect 3 "I/O error" "--report" -- "$bin" run --level lt --report "$tmp/dir"
    expect 3 "I/O error" "--plot" -- "$bin" run --level lt --plot "$tmp/regular/p.png"
    expect 3 "I/O error" "--report" -- "$bin" infer --synthetic 1 --level host --report "$tmp/regular/r.json" ;;
  run_bad_csv_keeps_report)  # a failing CSV or plot discarded the valid JSON report
    expect 3 "I/O error" "--plot" -- "$bin" run --level lt --report "$tmp/r.json" --report-csv "$tmp/q" \
      --plot "$tmp/q/p.png"
    /usr/bin/python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['check'] == 'PASS'" "$tmp/r.json" ||
      fail "the JSON report was not written"
    [[ -s "$tmp/q" ]] || fail "the CSV was not written"
    grep -qF "written: --report-csv --report" "$tmp/err" || fail "the message does not say what was written" ;;
  dev_zero_inputs)  # read until memory ran out
    expect 3 "I/O error" "/dev/zero: it is a character device" -- "$bin" run --level lt --arch /dev/zero
    expect 3 "I/O error" "/dev/zero: it is a character device" -- "$bin" run --level lt --topology /dev/zero
    expect 3 "I/O error" "/dev/zero: it is a character device" -- "$bin" sample --gmm /dev/zero --samples 10 --no-plots
    CIMSIM_TECH=/dev/zero expect 3 "I/O error" "/dev/zero: it is a character device" -- "$bin" run --level lt
    expect 3 "I/O error" "/dev/zero: it is a character device" -- "$bin" sweep /dev/zero --dry-run
    expect 3 "I/O error" "/dev/zero: it is a character device" -- "$bin" run --level lt --export /dev/zero
    # A regular file over the limit of its kind is a configuration error naming the limit's variable.
    head -c 5000 /dev/zero | tr '\0' ' ' >"$tmp/big.yaml"
    CIMSIM_MAX_CONFIG_BYTES=4096 expect 2 "configuration error" "CIMSIM_MAX_CONFIG_BYTES" -- \
      "$bin" run --level lt --arch "$tmp/big.yaml" ;;
  fifo_inputs)  # blocked forever
    mkfifo "$tmp/arch.yaml" "$tmp/spec.yaml"
    expect 3 "I/O error" "$tmp/arch.yaml: it is a FIFO" -- "$bin" run --level lt --arch "$tmp/arch.yaml"
    expect 3 "I/O error" "$tmp/spec.yaml: it is a FIFO" -- "$bin" sweep "$tmp/spec.yaml" --dry-run
    # A FIFO as a sweep point's record: the status answers (the point will be rerun) instead of blocking.
    printf 'name: f\ncommand: run\noptions: {level: lt}\nnaming: only\npoints: [{grid: {seed: [1]}}]\n' >"$tmp/s.yaml"
    mkdir -p "$tmp/sw/points/only" && mkfifo "$tmp/sw/points/only/point.json"
    timeout 60 "$bin" sweep "$tmp/s.yaml" --out "$tmp/sw" --status >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [[ $rc -ne 124 ]] || fail "sweep --status blocked on a FIFO point.json"
    grep -qF "unreadable" "$tmp/out" "$tmp/err" || fail "the FIFO record is not reported"
    echo "ok [$case_name]: sweep --status with a FIFO point.json: exit $rc" ;;
  yaml_alias_bomb)  # 1.7 KB -> 3.4 GB and std::bad_alloc through a noexcept frame
    laughs >"$tmp/bomb.yaml"
    expect 2 "configuration error" "$tmp/bomb.yaml: YAML expands to more than 1000000 nodes" -- \
      "$bin" sample --gmm "$tmp/bomb.yaml" --samples 10 --no-plots
    expect 2 "configuration error" "YAML expands to more than 1000000 nodes" -- \
      "$bin" run --level lt --arch "$tmp/bomb.yaml"
    { printf 'name: b\ncommand: run\npoints: [{grid: {seed: [1]}}]\n'; laughs | sed 's/^/x/'; } >"$tmp/bspec.yaml"
    expect 2 "configuration error" "YAML expands to more than 1000000 nodes" -- "$bin" sweep "$tmp/bspec.yaml" --dry-run ;;
  second_yaml_document)  # the second document was ignored silently
    { cat "$data/arch/default.yaml"; printf -- '---\narray: {rows: 2}\n'; } >"$tmp/two.yaml"
    expect 2 "configuration error" "second YAML document" -- "$bin" run --level lt --arch "$tmp/two.yaml"
    grep -qF "$tmp/two.yaml" "$tmp/err" || fail "file not named" ;;
  deep_export)  # 200,000-deep meta: stack overflow in a recursive JSON copy (SIGSEGV)
    /usr/bin/python3 -c "import sys; n=200000; open(sys.argv[1],'w').write('{\"format\": \"enos-export\", \"meta\": ' + '['*n + ']'*n + '}')" "$tmp/deep.enos.json"
    expect 2 "configuration error" "JSON nested deeper than 256 levels" -- "$bin" run --level lt --export "$tmp/deep.enos.json"
    expect 2 "configuration error" "$tmp/deep.enos.json" -- "$bin" infer --export "$tmp/deep.enos.json" --level host ;;
  sweep_total_points)  # 2.2 KB expanded to 30.1 M points (the limit was per block)
    {
      printf 'name: many\ncommand: run\npoints:\n'
      printf '  - &blk {grid: {a: &v [0,1,2,3,4,5,6,7,8,9], b: *v, c: *v, d: *v}}\n'
      for i in $(seq 1 30); do echo "  - *blk"; done
    } >"$tmp/many.yaml"
    expect 2 "configuration error" "points[10].grid: brings the sweep to more than 100000 points in total" -- \
      "$bin" sweep "$tmp/many.yaml" --dry-run
    grep -qF "$tmp/many.yaml" "$tmp/err" || fail "file not named" ;;
  gmm_mean_1e300)  # 8,000 identical draws and "TV nan", exit 0
    printf 'weights: [1.0]\nmeans: [[1.0e300]]\ncovariances: [[[1.0]]]\n' >"$tmp/far.yaml"
    expect 2 "configuration error" "more than 2^36 state LSBs" -- \
      "$bin" sample --gmm "$tmp/far.yaml" --samples 1000 --no-plots --out-dir "$tmp/out"
    grep -qF "$tmp/far.yaml" "$tmp/err" || fail "file not named"
    [[ ! -e "$tmp/out/report.json" ]] || fail "a report was written" ;;
  options_without_effect)  # accepted silently
    # (the rule for run's per-layer options lives in tb/cli/common.cpp, issue 23)
    expect 2 "configuration error" "--assignment" -- "$bin" run --level lt --assignment "$tmp/regular"
    expect 2 "configuration error" "--op" -- "$bin" run --level lt --op mac4
    expect 2 "configuration error" "--vcd-detail" -- "$bin" run --level lt --vcd-detail
    expect 2 "configuration error" "--gemm says how to read --topology" -- "$bin" run --level lt --gemm ;;
  layers_beyond_1024)  # a raw bus-write error, exit 1
    /usr/bin/python3 -c "
import sys
rows = ['Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,']
rows += ['l%d, 4, 4, 1, 1, 2, 2, 1,' % i for i in range(1100)]
open(sys.argv[1], 'w').write('\\n'.join(rows) + '\\n')" "$tmp/long.csv"
    expect 2 "configuration error" "descriptors per start" -- "$bin" run --level lt --topology "$tmp/long.csv" ;;
  *) echo "unknown case $case_name"; exit 1 ;;
esac
