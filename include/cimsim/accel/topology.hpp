#pragma once
// Workloads for `cimsim run`: SCALE-Sim topology CSV files (one layer per row) and per-layer assignment files
// (operator, computing mode, CIM parameters per layer). Format: docs/accelerator.md ("Workloads").
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/accel/layer.hpp"

namespace cimsim::accel {

struct TopologyLayer {
  std::string name;
  LayerShape shape;  ///< n = 1; padding and depthwise as documented (columns beyond SCALE-Sim's eight)
  int row = 0;       ///< 1-based line number in the file (for messages)
};

struct Topology {
  std::string name;    ///< file stem
  std::string origin;  ///< path
  std::vector<TopologyLayer> layers;
};

/// Reads a SCALE-Sim topology CSV. Throws IoError / ConfigError naming the file, row and field (missing
/// columns, non-numeric fields, zero or negative sizes, kernel larger than the padded input, ...).
Topology load_topology(const std::string& path);
/// The same from text; `origin` names the file in messages (and gives the topology its name).
Topology parse_topology(const std::string& text, const std::string& origin);
/// Sum of the layers' MACs (LayerShape::macs()).
int64_t topology_macs(const Topology& t);

/// One layer's choice in an assignment file.
struct LayerChoice {
  std::string layer;  ///< layer name as in the topology
  Op op = Op::MAC8;
  Mode mode = Mode::Digital;
  CimParams cim;      ///< rows / adc_bits (defaults when not given)
  std::string origin;  ///< assignment file it came from ("" for a uniform choice), for messages
  int row = 0;         ///< 1-based line number in that file
};

/// Reads an assignment file (one choice per layer name). Throws ConfigError naming file/row/field for unknown
/// operators or modes and (op, mode) pairs the hardware cannot run. Layers the topology lacks are refused by
/// apply_assignment.
std::vector<LayerChoice> load_assignment(const std::string& path);
/// The same from text; `origin` names the file in messages.
std::vector<LayerChoice> parse_assignment(const std::string& text, const std::string& origin);

/// The choice for every topology layer: `uniform` for layers the assignment does not name (or all, when
/// `assignment` is empty). Throws ConfigError when the assignment names a layer the topology lacks, or a
/// choice is invalid at a layer (e.g. CIM rows > cim_rows is checked later by the cost model).
std::vector<LayerChoice> apply_assignment(const Topology& t, const std::vector<LayerChoice>& assignment,
                                          const LayerChoice& uniform);

}  // namespace cimsim::accel
