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
  bool gemm = false;   ///< read as SCALE-Sim's GEMM format (M, N, K per row)
  /// One line each: what was read differently from a strict reading (ignored columns and fields, blank and
  /// section rows skipped, repeated names renamed, columns read by position). Messages name file and row.
  std::vector<std::string> warnings;
};

/// How to read a topology file: by its header (Auto: `M, N, K` columns mean GEMM), or forced.
enum class TopologyFormat { Auto, Conv, Gemm };

/// Reads a SCALE-Sim topology CSV (convolution or GEMM format; comma or tab separated). Throws IoError /
/// ConfigError naming the file, row and field (missing columns, non-numeric fields, zero or negative sizes,
/// kernel larger than the padded input, ...).
Topology load_topology(const std::string& path, TopologyFormat format = TopologyFormat::Auto);
/// The same from text; `origin` names the file in messages (and gives the topology its name).
Topology parse_topology(const std::string& text, const std::string& origin,
                        TopologyFormat format = TopologyFormat::Auto);

/// Where the layers of `t` split into chained segments: indices of the first layer of every segment (0
/// first). Layer i chains to layer i-1 when its input has the previous output's shape, or the same number of
/// values (a flatten); otherwise a new segment starts with its input from DRAM and, when `warnings` is given,
/// one line names both layers and why they do not chain (channels, size: padding folded into the IFMAP size,
/// a pooling layer not in the file, a reshape).
std::vector<size_t> topology_segment_starts(const Topology& t, std::vector<std::string>* warnings = nullptr);
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
