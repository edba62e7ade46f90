#!/usr/bin/env bash
# Sets up, builds and runs the main job. Outputs go to out/, VCD traces to traces/.
#  1. the accelerator SoC testbench: a small multi-layer network on the cycle-level model, per-layer cycles and
#     energy, checked against the datapath, VCD trace;
#  2. MC2RAM: the paper's 2-D two-component GMM sampled on the cycle-level macro, with diagnostics, plots, VCD;
#  3. a short ENOS search on Fashion-MNIST (a few minutes on 2 cores) and inference of its export on the
#     simulated accelerator (LT level), compared with the host integer reference and the search's energy estimate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
mkdir -p out
cimsim=build/tb/cimsim

echo "== 1. accelerator testbench (cycle level) =="
$cimsim run --level cycle --vcd traces/accel --vcd-detail --out-dir out/run

echo
echo "== 1b. a SCALE-Sim topology on an architecture file: per-layer CSV and energy plot (LT) =="
$cimsim run --arch data/arch/default.yaml --topology data/topologies/enos-squeezenet-32x32.csv --op xnor \
  --mode cim --out-dir out/topology

echo
echo "== 2. MC2RAM sampling (cycle level, paper's GMM) =="
$cimsim sample --level cycle --chains 4 --samples 500 --vcd traces/mc2ram --out-dir out/sample

if [[ -x "$cimsim" ]] && $cimsim search --help >/dev/null 2>&1; then
  echo
  echo "== 3. ENOS search (short) and inference on the simulator =="
  $cimsim search --net shufflenet --mode sampling --candidates mac8,mac4,deepshift,bwn,mac4-cim,bwn-cim \
    --lambda 1 --train-subset 12000 --test-subset 2000 --epochs 2 --finetune-epochs 1 --seed 1 \
    --out-dir out/search --force  # --force: each run of this script replaces its own demo search
  $cimsim infer --export out/search/network.enos.json --level lt --images 300 --out-dir out/infer
else
  echo "(ENOS search not built: libtorch missing; skipping step 3)"
fi
echo
echo "Outputs: out/{run,topology,sample,search,infer}/ (report.json, layers.csv, energy.png, draws, plots, ENOS export)"
echo "and traces/ (accel.vcd, mc2ram.vcd, each with its GTKWave view: gtkwave traces/accel.vcd traces/accel.gtkw)"
