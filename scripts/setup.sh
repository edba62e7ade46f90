#!/usr/bin/env bash
# Installs the Debian packages cimsim needs. Idempotent: when everything is present it only checks and exits.
# Usage: scripts/setup.sh [--no-torch]   (--no-torch skips libtorch: the ENOS search is then not built)
set -euo pipefail
pkgs=(cmake g++ make pkg-config zlib1g-dev
      libsystemc-dev libeigen3-dev libboost-dev libboost-math-dev
      nlohmann-json3-dev libcli11-dev libyaml-cpp-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      dataset-fashion-mnist gnuplot-nox libopenblas0-pthread
      slurmctld slurmd slurm-client munge)  # Slurm: the single-node test of `cimsim sweep --slurm`
if [[ "${1:-}" != "--no-torch" ]]; then pkgs+=(libtorch-dev); fi
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
