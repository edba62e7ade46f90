#!/bin/bash
# A 2-point sweep of `cimsim search` (needs a cimsim built with libtorch; registered only then).
# Usage: search_sweep_test.sh CIMSIM WORKDIR
set -euo pipefail
CIMSIM=$(readlink -f "$1"); W=$2; SRC=$(dirname "$(readlink -f "$0")")
rm -rf "$W"; mkdir -p "$W"; cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
cp "$SRC/tiny-search.yaml" spec.yaml
"$CIMSIM" sweep spec.yaml --jobs 2 --out out > run.log 2>&1 || { cat run.log out/points/*/stderr.log; fail "sweep"; }
[ "$(grep -c ',done,' out/merged.csv)" = 2 ] || { cat out/merged.csv; fail "not 2 done points"; }
# The chosen network's energy is the all-MAC8 reference whatever the seed; accuracy is a fraction.
/usr/bin/python3 - <<'EOF' || fail "merged values"
import csv
rows = list(csv.DictReader(open("out/merged.csv")))
e = [float(rows[0]["energy_pj"]), float(rows[1]["energy_pj"]), float(rows[0]["ref_energy_pj"])]
assert e[0] == e[1] and abs(e[0] - e[2]) <= 1e-12 * e[2], rows  # same sum, another summation order
assert all(0.0 <= float(r["acc_int"]) <= 1.0 for r in rows), rows
EOF
echo "search sweep test: OK"
