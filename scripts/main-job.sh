#!/usr/bin/env bash
# Sets up, builds and runs the main job: the accelerator SoC testbench on a small multi-layer network
# (per-layer cycles and energy, VCD in traces/). Outputs go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
mkdir -p out
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
build/tb/cimsim run --level cycle --vcd --report out/run-report.json
