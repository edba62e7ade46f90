#!/usr/bin/env bash
# Stages an install of this build into a temporary prefix, checks the package files, then configures, builds,
# installs and runs the example consumer (examples/plug-into-your-soc) against that prefix only.
# usage: consumer_test.sh <build-dir> <source-dir>
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
fail() { echo "FAIL: $*"; exit 1; }
for f in lib/cmake/cimsim/cimsimConfig.cmake lib/cmake/cimsim/cimsimConfigVersion.cmake \
         lib/cmake/cimsim/cimsimTargets.cmake lib/pkgconfig/cimsim.pc share/cimsim/tech/45nm.json \
         share/cimsim/cimsim.svd include/cimsim/accel/accelerator_lt.hpp include/cimsim/mc2ram/macro.hpp \
         include/cimsim_fw/enos_regs.h include/cimsim_fw/mc2ram_fw.h share/cimsim/firmware/enos_fw.c; do
  [[ -e "$prefix/$f" ]] || fail "not installed: $f"
done
[[ ! -e "$prefix/include/cimsim/accel/soc.hpp" ]] || fail "testbench header accel/soc.hpp installed"
# no build-machine source path in the installed libraries (the data are found relative to the prefix)
if grep -l -F "$src/data" "$prefix"/lib/*.a; then fail "source data path compiled into an installed library"; fi
# pkg-config resolves the relocated prefix
pc=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --variable=datadir cimsim)
[[ "$(cd "$pc" && pwd)" == "$(cd "$prefix/share/cimsim" && pwd)" ]] || fail "pkg-config datadir $pc"

cmake -S "$src/examples/plug-into-your-soc" -B "$tmp/consumer" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" || { cat "$tmp/configure.log"; fail "configure"; }
cmake --build "$tmp/consumer" -j2 >"$tmp/build.log" 2>&1 || { tail -50 "$tmp/build.log"; fail "build"; }
# Issue 24: the consumer's own binary, outside the install prefix, finds the installed data without CIMSIM_DATA
# (the static libraries used to look only next to the program: "cannot find the cimsim data directory").
exe=$(find "$tmp/consumer" -maxdepth 2 -type f -name plug_into_your_soc | head -1)
[[ -n "$exe" ]] || fail "the consumer binary is not in its build tree"
(cd "$tmp" && env -u CIMSIM_DATA -u CIMSIM_TECH SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$exe") >"$tmp/run-build.log" 2>&1 ||
  { cat "$tmp/run-build.log"; fail "the consumer outside the prefix failed"; }
grep -q "energy table (found by the library): $prefix/share/cimsim/tech/45nm.json" "$tmp/run-build.log" ||
  { cat "$tmp/run-build.log"; fail "the consumer outside the prefix did not find the installed energy table"; }
cmake --install "$tmp/consumer" --prefix "$prefix" >/dev/null
# run the installed consumer from elsewhere, with no data override: the library finds <prefix>/share/cimsim
cd "$tmp"
env -u CIMSIM_DATA -u CIMSIM_TECH SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$prefix/bin/plug_into_your_soc" | tee "$tmp/run.log"
grep -q "energy table (found by the library): $prefix/share/cimsim/tech/45nm.json" "$tmp/run.log" ||
  fail "the library did not find the energy table under the prefix"
echo "consumer OK"
