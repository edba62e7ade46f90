// libFuzzer-style entry points for the workload loaders; see accel_workload_fuzz.hpp.
#include "accel_workload_fuzz.hpp"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "cimsim/accel/arch.hpp"
#include "cimsim/accel/topology.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::fuzz {
namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz: accepted input breaks an invariant: %s\n", what);
  std::abort();
}

const accel::Topology& small_topology() {
  static const accel::Topology t = accel::parse_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "conv1, 8, 8, 3, 3, 4, 8, 1,\nconv2, 6, 6, 3, 3, 8, 8, 1,\nfc, 1, 1, 1, 1, 128, 10, 1,\n",
      "fuzz-topology.csv");
  return t;
}

}  // namespace

int fuzz_arch(const uint8_t* data, size_t size) {
  try {
    const accel::Architecture a =
        accel::parse_architecture(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    if (!a.array.check().empty()) broken("ArrayConfig::check");
    if (a.array.weight_buffer_bytes < accel::min_weight_buffer_bytes(a.array)) broken("weight buffer minimum");
    if (a.array.act_buffer_bytes < accel::min_act_buffer_bytes(a.array)) broken("activation buffer minimum");
    if (a.array.rows > accel::ArchLimits::kMaxArrayDim || a.array.cols > accel::ArchLimits::kMaxArrayDim)
      broken("array limits");
  } catch (const ConfigError&) {
  } catch (const IoError&) {
  }
  return 0;
}

int fuzz_topology(const uint8_t* data, size_t size) {
  try {
    const accel::Topology t =
        accel::parse_topology(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
    if (t.layers.empty()) broken("empty topology accepted");
    std::set<std::string> names;
    for (const auto& l : t.layers) {
      if (!l.shape.check().empty()) broken("LayerShape::check");
      if (l.shape.out_h() < 1 || l.shape.out_w() < 1) broken("output size");
      if (!names.insert(l.name).second) broken("duplicate layer name");
    }
    (void)accel::topology_macs(t);
  } catch (const ConfigError&) {
  } catch (const IoError&) {
  }
  return 0;
}

int fuzz_assignment(const uint8_t* data, size_t size) {
  try {
    const auto a = accel::parse_assignment(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
    for (const auto& c : a)
      if (c.mode == accel::Mode::Cim && !accel::cim_supported(c.op)) broken("CIM operator");
    const auto all = accel::apply_assignment(small_topology(), a, accel::LayerChoice{});
    if (all.size() != small_topology().layers.size()) broken("apply_assignment size");
  } catch (const ConfigError&) {
  } catch (const IoError&) {
  }
  return 0;
}

}  // namespace cimsim::fuzz

#ifdef CIMSIM_FUZZ_TARGET
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cimsim::fuzz::CIMSIM_FUZZ_TARGET(data, size);
}
#endif
