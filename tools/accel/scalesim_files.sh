#!/usr/bin/env bash
# Runs every topology file of a SCALE-Sim checkout through `cimsim run --topology` at the analytic level (and at
# LT when the file has under 20 G MACs) and prints one row per file: what each level did. SCALE-Sim's files are
# not in this repository: give the path of a checkout (its topologies/ folder).
#   tools/accel/scalesim_files.sh CIMSIM_BINARY SCALESIM_TOPOLOGIES_DIR [ARCH] [LT_MAX_MACS]
set -uo pipefail
bin=${1:?cimsim binary}
dir=${2:?SCALE-Sim topologies folder}
arch=${3:-$(dirname "$0")/../../data/arch/large.yaml}
lt_max=${4:-20000000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| file | layers | MACs | warnings | analytic | analytic s | LT | LT s |\n|---|---|---|---|---|---|---|---|\n'
find "$dir" -name '*.csv' | LC_ALL=C sort | while read -r f; do
  rel=${f#"$dir"/}
  t0=$(date +%s.%N)
  "$bin" run --level analytic --arch "$arch" --topology "$f" --report "$tmp/a.json" >"$tmp/a.out" 2>"$tmp/a.err"
  rc=$?
  t1=$(date +%s.%N)
  warn=$(grep -c '^warning:' "$tmp/a.err")
  if [ $rc -eq 0 ]; then
    read -r layers macs < <(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(len(j['layers']), j['totals']['macs'])" "$tmp/a.json")
    an="ok"
  else
    layers="-"; macs="-"
    an="exit $rc: $(grep -v '^warning:' "$tmp/a.err" | grep -v -i 'copyright\|rights reserved\|^ *$\|systemc' | tail -1 | sed "s|$dir/||g" | cut -c1-160)"
  fi
  ta=$(python3 -c "print(f'{$t1-$t0:.2f}')")
  lt="-"; tl="-"
  if [ $rc -eq 0 ] && [ "$macs" -lt "$lt_max" ]; then
    t0=$(date +%s.%N)
    "$bin" run --level lt --arch "$arch" --topology "$f" --report "$tmp/l.json" >"$tmp/l.out" 2>"$tmp/l.err"
    lrc=$?
    t1=$(date +%s.%N)
    tl=$(python3 -c "print(f'{$t1-$t0:.2f}')")
    if [ $lrc -eq 0 ]; then
      same=$(python3 -c "
import json,sys
a=json.load(open(sys.argv[1])); l=json.load(open(sys.argv[2]))
keys=['cycles','macs','dram_bytes','energy_aj']
print('PASS, = analytic' if all(x[k]==y[k] for x,y in zip(a['layers'],l['layers']) for k in keys) and len(a['layers'])==len(l['layers']) else 'PASS, DIFFERS from analytic')" "$tmp/a.json" "$tmp/l.json")
      lt="$same"
    else
      lt="exit $lrc: $(grep -v '^warning:' "$tmp/l.err" "$tmp/l.out" | tail -1 | cut -c1-120)"
    fi
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$rel" "$layers" "$macs" "$warn" "$an" "$ta" "$lt" "$tl"
done
