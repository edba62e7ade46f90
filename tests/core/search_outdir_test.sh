#!/usr/bin/env bash
# Issue 24, case 1 and 3: `cimsim search` never loses a run. An --out-dir holding a run is refused without
# --resume/--force (nothing touched); --resume refuses a checkpoint of another configuration naming the setting,
# a checkpoint whose tensor record was damaged (zip CRC-32) and a FIFO (no hang). Usage: <cimsim> <scratch dir>
set -u
bin=$1
dir=$2
rm -rf "$dir" && mkdir -p "$dir" || exit 1
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
fail=0
search() {  # <out dir> <extra args...>: a tiny fixed-mode training
  local out=$1
  shift
  timeout 120 "$bin" search --mode fixed --candidates mac8 --train-subset 32 --test-subset 16 --batch 16 --epochs 1 \
    --warmup-epochs 0 --finetune-epochs 0 --threads 1 --no-progress --out-dir "$out" "$@" >"$dir/log" 2>&1
}
expect() {  # <exit code> <needle> <out dir> <args...>
  local want=$1 needle=$2
  shift 2
  search "$@"
  local rc=$?
  if [[ $rc -ne $want ]]; then echo "FAIL ($*): exit $rc, expected $want"; cat "$dir/log"; fail=1; return; fi
  if ! grep -qF -- "$needle" "$dir/log"; then echo "FAIL ($*): no '$needle' in:"; cat "$dir/log"; fail=1; return; fi
  echo "ok ($*): exit $rc: $(grep -F -- "$needle" "$dir/log" | head -c 300)"
}
sums() { (cd "$1" && sha1sum checkpoint.pt report.json network.enos.json 2>/dev/null); }

search "$dir/a" || { echo "FAIL: the first run failed"; cat "$dir/log"; exit 1; }
before=$(sums "$dir/a")
# 1. A finished run is not replaced without being told (it used to be overwritten, exit 0).
expect 2 "already holds a search run" "$dir/a" --seed 7
[[ "$(sums "$dir/a")" == "$before" ]] || { echo "FAIL: the run's files changed"; fail=1; }
# --resume and --force contradict each other.
expect 2 "--resume and --force" "$dir/a" --resume --force
# --resume of another configuration names the differing setting.
expect 2 "'lr' (checkpoint 0.002, this run 0.003)" "$dir/a" --resume --lr 0.003
[[ "$(sums "$dir/a")" == "$before" ]] || { echo "FAIL: the run's files changed"; fail=1; }
# --resume of the same configuration is accepted (same bytes).
expect 0 "test accuracy" "$dir/a" --resume
[[ "$(sums "$dir/a" | grep network)" == "$(echo "$before" | grep network)" ]] ||
  { echo "FAIL: resuming a finished run changed its network"; fail=1; }
# 3. A flipped byte inside a tensor record (the zip CRC-32 no longer matches) was resumed from, exit 0.
cp -r "$dir/a" "$dir/b"
/usr/bin/python3 - "$dir/b/checkpoint.pt" <<'PY' || { echo "FAIL: cannot damage the checkpoint"; fail=1; }
import struct, sys, zipfile
p = sys.argv[1]
z = zipfile.ZipFile(p)
info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
raw = bytearray(open(p, "rb").read())
nlen, xlen = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
off = info.header_offset + 30 + nlen + xlen + info.file_size // 2
raw[off] ^= 0x10
open(p, "wb").write(raw)
print("flipped a bit of", info.filename, "at", off)
PY
expect 2 "does not match its CRC-32" "$dir/b" --resume
# 8. A FIFO as checkpoint.pt blocked forever.
mkdir -p "$dir/c" && mkfifo "$dir/c/checkpoint.pt"
expect 3 "a FIFO, not a regular file" "$dir/c" --resume
# --force replaces the run.
expect 0 "test accuracy" "$dir/a" --force --seed 7
[[ "$(sums "$dir/a")" != "$before" ]] || { echo "FAIL: --force did not replace the run"; fail=1; }
[[ $fail -eq 0 ]] && echo "search out-dir guard: all cases pass"
exit $fail
