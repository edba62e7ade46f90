#!/bin/bash
# `cimsim sweep` local backend end to end, on tiny `cimsim run` points (LT model):
#  - bad specs and bad point options are rejected (exit 2) before anything runs;
#  - a 4-point sweep killed with SIGKILL after its first point resumes without rerunning finished points;
#  - the merged CSV equals a table built from direct `cimsim run --report` runs (python3 json, independent);
#  - a corrupt report is rerun, a failing point is recorded without stopping the others;
#  - --slurm without sbatch exits 2, a failing sbatch exits 3, --slurm --dry-run writes the array script.
# Usage: local_sweep_test.sh CIMSIM WORKDIR
set -euo pipefail
CIMSIM=$(readlink -f "$1"); W=$2; SRC=$(dirname "$(readlink -f "$0")")
rm -rf "$W"; mkdir -p "$W"; cd "$W"; W=$(pwd -P)
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {  # expect_rc RC LOG PATTERN -- command...
  local want=$1 log=$2 pat=$3; shift 4
  set +e; "$@" > "$log" 2>&1; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat "$log"; fail "exit $rc, expected $want: $*"; }
  grep -q -- "$pat" "$log" || { cat "$log"; fail "no '$pat' in the output of: $*"; }
}
done_count() { grep -l '"status": "done"' out/points/*/point.json 2>/dev/null | wc -l; }

cp "$SRC/tiny-run.yaml" spec.yaml

# --- bad input: nothing runs, exit 2, the message names the file/key or the point
sed 's/^metrics:/metrix:/' spec.yaml > bad-key.yaml
expect_rc 2 e1.log "bad-key.yaml:8: metrix: unknown key" -- "$CIMSIM" sweep bad-key.yaml --out bad1
sed -e 's/array: \[4x4, 8x8\]/arrey: [4x4, 8x8]/' -e '/^plots:/d' spec.yaml > bad-opt.yaml
expect_rc 2 e2.log "point 0 (p000-arrey4x4-seed1): .cimsim run. has no option --arrey" -- \
  "$CIMSIM" sweep bad-opt.yaml --out bad2
sed 's/seed: \[1, 2\]/seed: [1, x2]/' spec.yaml > bad-val.yaml
expect_rc 2 e3.log "2 of 4 points are rejected" -- "$CIMSIM" sweep bad-val.yaml --out bad3
grep -q "point 1 (p001-array4x4-seedx2): Could not convert: --seed = x2" e3.log || { cat e3.log; fail "e3"; }
[ ! -e bad1 ] && [ ! -e bad2 ] && [ ! -e bad3 ] || fail "a rejected sweep created output"

# --- kill -9 after the first finished point, then resume
"$CIMSIM" sweep spec.yaml --jobs 1 --out out > run1.log 2>&1 &
PID=$!
for _ in $(seq 1200); do [ "$(done_count)" -ge 1 ] && break; sleep 0.05; done
kill -9 "$PID"; wait "$PID" 2>/dev/null || true
n1=$(done_count)
[ "$n1" -ge 1 ] && [ "$n1" -lt 4 ] || fail "kill after the first point left $n1 points done (want 1..3)"
sleep 0.5  # the runner and the simulation die with their parent (PR_SET_PDEATHSIG)
md5sum $(grep -l '"status": "done"' out/points/*/point.json) > done-before.md5
"$CIMSIM" sweep spec.yaml --jobs 2 --out out > run2.log 2>&1 || { cat run2.log; fail "resume failed"; }
grep -q "4 points, $n1 already done or running, $((4 - n1)) to run" run2.log || { cat run2.log; fail "resume count"; }
grep -q "4/4 done" run2.log || { cat run2.log; fail "no progress line 4/4"; }
md5sum -c --quiet done-before.md5 || fail "a finished point was rerun"
[ "$(done_count)" = 4 ] || fail "not all points done after resume"
[ -s out/plots/cycles.png ] && [ -s out/summary.json ] || fail "plot or summary missing"

# --- independent reference: direct runs, table built by python3 from the reports
for a in 4x4 8x8; do for s in 1 2; do
  "$CIMSIM" run --level lt --array $a --seed $s --report ref-$a-$s.json > /dev/null
done; done
/usr/bin/python3 - > expected.csv <<'EOF'
import json
print("index,point,block,array,seed,status,cycles,energy_pj,dma,check")
i = 0
for a in ["4x4", "8x8"]:
    for s in [1, 2]:
        r = json.load(open(f"ref-{a}-{s}.json"))
        t = r["totals"]
        print(f"{i},p{i:03d}-array{a}-seed{s},0,{a},{s},done,{t['cycles']},{json.dumps(t['energy_pj'])},{json.dumps(t['components_pj']['dma'])},{r['check']}")
        i += 1
EOF
# energy_pj: both sides print the shortest round-trip decimal of the same double (nlohmann / python json).
diff expected.csv out/merged.csv || fail "merged.csv differs from the direct runs"

# --- corrupt report: that point alone reruns
cp out/points/p002-array8x8-seed1/point.json p2-before.json
echo '{"totals": {"cycles": 1}}' > out/points/p002-array8x8-seed1/report.json
"$CIMSIM" sweep spec.yaml --status --out out > st.log
grep -q "p002-array8x8-seed1: pending: the report .* is not the one this point wrote" st.log || { cat st.log; fail "status"; }
"$CIMSIM" sweep spec.yaml --jobs 2 --out out > run3.log 2>&1 || { cat run3.log; fail "rerun"; }
grep -q "4 points, 3 already done or running, 1 to run" run3.log || { cat run3.log; fail "rerun count"; }
! cmp -s p2-before.json out/points/p002-array8x8-seed1/point.json || fail "the corrupt point was not rerun"
diff expected.csv out/merged.csv || fail "merged.csv after the rerun"

# --- a point the subcommand rejects at run time fails alone; exit 1; the error is recorded
cat > failing.yaml <<'EOF'
name: f2
command: run
points:
  - list: [{array: 0x4}, {array: 4x4}]
metrics: {cycles: /totals/cycles}
EOF
expect_rc 1 f.log "1/2 done, 1 failed" -- "$CIMSIM" sweep failing.yaml --jobs 2 --out fout
grep -q '"error": "exit status 2: cimsim: configuration error: run: --array must be RxC' fout/summary.json || \
  { cat fout/summary.json; fail "error not recorded"; }
grep -q "^1,p001-array4x4,0,4x4,done,[0-9]" fout/merged.csv || { cat fout/merged.csv; fail "other point"; }

# --- Slurm submission errors (no Slurm needed here)
mkdir -p nobin fakebin
expect_rc 2 s1.log "sbatch not found on PATH" -- env PATH="$W/nobin" "$CIMSIM" sweep spec.yaml --slurm --out sout
printf '#!/bin/sh\necho "sbatch: error: Invalid partition name specified" >&2\nexit 1\n' > fakebin/sbatch
chmod +x fakebin/sbatch
expect_rc 3 s2.log "sbatch failed (exit status 1)" -- env PATH="$W/fakebin" "$CIMSIM" sweep spec.yaml --slurm --out sout
expect_rc 0 s3.log "not submitted (--dry-run)" -- env PATH="$W/nobin" "$CIMSIM" sweep spec.yaml --slurm --dry-run --out sout
grep -q '^#SBATCH --array=0-3%2$' sout/slurm/t4.sbatch || { cat sout/slurm/t4.sbatch; fail "array line"; }
grep -q -- "--point \"\$SLURM_ARRAY_TASK_ID\"" sout/slurm/t4.sbatch || fail "runner line"
grep -q -- "sweep '$W/sout/slurm/t4.spec.yaml' --out" sout/slurm/t4.sbatch && cmp -s spec.yaml sout/slurm/t4.spec.yaml || fail "spec snapshot"
echo "local sweep test: OK"
