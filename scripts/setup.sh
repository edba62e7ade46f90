#!/usr/bin/env bash
# Installs the Debian packages cimsim needs. Idempotent: when everything is present it only checks and exits.
# Usage: scripts/setup.sh [--no-torch] [--fuzz]
#   --no-torch skips libtorch (the ENOS search is then not built); --fuzz adds clang and its libFuzzer/sanitizer
#   runtimes for scripts/fuzz.sh.
set -euo pipefail
pkgs=(cmake g++ make pkg-config zlib1g-dev
      libsystemc-dev libeigen3-dev libboost-dev libboost-math-dev
      nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      dataset-fashion-mnist gnuplot-nox libopenblas0-pthread
      slurmctld slurmd slurm-client munge)  # Slurm: the single-node test of `cimsim sweep --slurm`
torch=1
for a in "$@"; do
  case $a in
    --no-torch) torch=0 ;;
    --fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
    *) echo "setup: unknown option $a" >&2; exit 2 ;;
  esac
done
if ((torch)); then pkgs+=(libtorch-dev python3-matplotlib); fi  # matplotlib: the ENOS study's plot
# ONNX import (libonnx-dev: the C++ protobuf API); python3-onnx/torch/torchvision make test models and run the
# ONNX tools under /usr/bin/python3 (never called by the importer itself)
pkgs+=(libonnx-dev python3-onnx)
if ((torch)); then pkgs+=(python3-torch python3-torchvision); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
