#pragma once
// The accelerator's program compiler: a dataflow graph of layers (conv/FC and vector-unit ops over int8
// tensors) mapped onto the memory hierarchy. Decides, per tensor, whether it stays resident in the activation
// buffer (liveness-based first-fit allocation) or goes to system memory (DRAM); per layer, the staging region
// for its DRAM operands and whether its constants are pinned in the weight buffer (all constants of the
// program when they fit, else none); and resolves channel slices (split/concat views) into descriptor
// addressing. Plain C++ (no SystemC): the driver, the ENOS export's energy estimate and the reports all use
// the same plan, so the estimate equals the simulator's counters. Policy: docs/accelerator.md ("Memory
// hierarchy").
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/layer.hpp"
#include "cimsim/core/energy_table.hpp"

namespace cimsim::accel {

struct GraphTensor {
  std::string name;
  int c = 1, h = 1, w = 1;  ///< per image
  int view_of = -1;         ///< -1: owns storage; else a view into tensor view_of ...
  int view_c0 = 0;          ///< ... starting at this channel (split/concat slices; a flatten view has c0 0)
  int64_t elems() const { return static_cast<int64_t>(c) * h * w; }
};

struct GraphNode {
  std::string name;
  LayerParams params;       ///< shape.n is the batch; vector kinds have no weights
  std::vector<int> inputs;  ///< tensor ids (Add: 2, others: 1)
  int output = -1;          ///< tensor id
};

struct Graph {
  std::vector<GraphTensor> tensors;
  std::vector<GraphNode> nodes;  ///< topological order
  int input = 0;                 ///< the tensor the host writes (DRAM)
  std::vector<int> outputs;      ///< tensors the host reads back (DRAM)
  int batch = 1;

  int add_tensor(const std::string& name, int c, int h, int w);
  /// A channel slice [c0, c0 + c) of tensor `of` (or, with c*h*w equal to of's size and c0 = 0, a reshape).
  int add_view(const std::string& name, int of, int c0, int c, int h, int w);
  /// Empty if consistent (ids, shapes chain, views inside their base, outputs owned); else the first problem.
  std::string check() const;
  /// A chain: layer i reads layer i-1's output (the first reads the input); every layer's output is a graph
  /// output when `all_outputs`, else only the last.
  static Graph chain(const std::vector<LayerParams>& layers, bool all_outputs);
};

struct ProgramOptions {
  bool residency = true;    ///< keep activations in the activation buffer when they fit
  bool pin_weights = true;  ///< keep all constants in the weight buffer when they all fit
};

/// Where an operand is: DRAM tensor (base + byte offset) or activation-buffer offset; ctotal for slices.
struct OperandLoc {
  bool on_chip = false;
  int base = -1;           ///< owning tensor id
  uint64_t offset = 0;     ///< on chip: activation-buffer offset; DRAM: byte offset within the base tensor
  int ctotal = 0;          ///< channels per image of the base tensor (0: the operand's own)
};

struct NodePlan {
  OperandLoc in, in2, out;
  Placement place;        ///< steady state: pinned constants are resident
  bool pinned = false;    ///< constants pinned at wbuf_off (loaded by the first run, resident afterwards)
  uint32_t wbuf_off = 0;
  uint32_t stage_off = 0, stage_bytes = 0;
  LayerCost cost;         ///< steady-state cost (what later runs of the same program cost)
  LayerCost first_cost;   ///< cost of the run that loads pinned constants (equals cost when not pinned)
};

struct ProgramPlan {
  std::vector<NodePlan> nodes;
  std::vector<bool> tensor_on_chip;     ///< per tensor id (views: their base's)
  std::vector<uint64_t> tensor_ab_off;  ///< activation-buffer offset of on-chip owning tensors
  std::vector<int> tensor_owner;        ///< per tensor id: the tensor that owns its storage (itself or a view's base)
  std::vector<uint64_t> tensor_offset;  ///< per tensor id: byte offset within its owner, per image
  int64_t ab_peak = 0;                  ///< highest activation-buffer byte used by resident tensors
  int64_t pinned_bytes = 0;             ///< weight-buffer bytes of pinned constants (0: nothing pinned)
  int64_t constant_bytes = 0;           ///< all constants of the program
};

/// Plans `g` on the accelerator `cfg`. Throws ConfigError naming the node when g.check() fails or a layer
/// cannot run (BufferOverflowError when not even one output row fits its staging space).
ProgramPlan plan_program(const Graph& g, const ArrayConfig& cfg, const ProgramOptions& opt = {});

/// Bytes of a layer's constants as pinned in the weight buffer: packed weights + mult + shift + bias.
int64_t constant_bytes(const LayerParams& p);

}  // namespace cimsim::accel
