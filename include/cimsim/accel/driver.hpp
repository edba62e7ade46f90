#pragma once
// Host driver of the accelerator over a HostInitiator: register access, memory layout of descriptors, packed
// weights, requantization arrays and activations (bump allocators), start, wait for the IRQ, read results and
// the cycle/energy counters, turn error codes into AcceleratorError. Runs inside the host's SC_THREAD.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <systemc>

#include "cimsim/accel/descriptor.hpp"
#include "cimsim/accel/layer.hpp"
#include "cimsim/accel/program.hpp"
#include "cimsim/accel/regmap.hpp"
#include "cimsim/soc/host_initiator.hpp"

namespace cimsim::accel {

/// The accelerator reported STATUS.ERROR (or did not answer in time: code None, timed_out true).
class AcceleratorError : public std::runtime_error {
 public:
  AcceleratorError(const std::string& what, ErrorCode c, uint32_t l, bool t = false)
      : std::runtime_error(what), code(c), layer(l), timed_out(t) {}
  ErrorCode code;
  uint32_t layer;  ///< index of the failing descriptor within its run
  bool timed_out;
};

/// Counters of one layer (or of a whole run), as read from the PERF_SEL view registers.
struct LayerStats {
  int64_t cycles = 0;
  int64_t macs = 0;
  int64_t energy_aj = 0;
  std::vector<int64_t> group_aj;  ///< energy_register_groups() order
  double energy_pj() const { return static_cast<double>(energy_aj) * 1e-6; }
};

struct RunStats {
  std::vector<LayerStats> layers;
  LayerStats total;
};

/// Result of run_network: the output of every layer (last one = the network output) and the counters.
struct NetworkResult {
  std::vector<std::vector<int8_t>> outputs;
  RunStats stats;
  sc_core::sc_time sim_time;  ///< simulated time from START to IRQ (host-observed)
};

/// Result of run_graph: the graph's output tensors (g.outputs order), per-node counters and the plan.
struct GraphResult {
  std::vector<std::vector<int8_t>> outputs;
  RunStats stats;              ///< one entry per graph node
  sc_core::sc_time sim_time;   ///< simulated time from START to IRQ (host-observed)
  ProgramPlan plan;
  bool loaded_constants = false;  ///< this run loaded (pinned) the constants; later runs find them resident
};

/// A simple bump allocator over [base, base + size).
class BumpAllocator {
 public:
  BumpAllocator(uint64_t base = 0, uint64_t size = 0) : base_(base), size_(size), next_(base) {}
  /// Returns an address aligned to `align` (a power of two); throws ConfigError when the region is full.
  uint64_t alloc(uint64_t bytes, uint64_t align = 64);
  void reset() { next_ = base_; }
  uint64_t used() const { return next_ - base_; }
  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }

 private:
  uint64_t base_, size_, next_;
};

/// Where a layer's constant data (packed weights, requant arrays) lives in system memory.
struct UploadedLayer {
  uint64_t weight_addr = 0;
  uint32_t weight_bytes = 0;
  uint64_t mult_addr = 0, shift_addr = 0, bias_addr = 0;
};

class AcceleratorDriver {
 public:
  /// `csr_base`: the accelerator's register window; [mem_base, mem_base + mem_size): system memory the
  /// driver may use: `const_bytes` (0: 3/4 of it) for constant data, kept across calls, the rest for
  /// descriptors and activations, reused by every run.
  AcceleratorDriver(HostInitiator& host, uint64_t csr_base, uint64_t mem_base, uint64_t mem_size,
                    uint64_t const_bytes = 0);

  uint32_t read_reg(uint32_t offset);
  void write_reg(uint32_t offset, uint32_t value);
  /// Reads ID/VERSION; throws AcceleratorError if the device does not identify as the ENOS accelerator.
  void probe();
  void soft_reset();

  /// Uploads a layer's packed weights and requant arrays (cached by content: an identical layer is not
  /// uploaded twice). Throws ConfigError if p.check() fails or the constant region is full (never evicts).
  UploadedLayer upload_constants(const LayerParams& p);
  /// Makes room for one program's constants before its descriptors are built: when the layers' constants
  /// that are not yet uploaded do not fit the free part of the constant region, the region is emptied (no
  /// program is running between calls, so nothing in use is evicted). Throws ConfigError naming the node
  /// (`names[i]`, or "layer i") and the bytes when the program's constants exceed the whole region.
  void prepare_constants(const std::vector<const LayerParams*>& layers, const std::vector<std::string>& names);
  /// System-memory bytes the driver uses for one layer's constants (packed weights + requant arrays, aligned).
  static uint64_t constant_upload_bytes(const LayerParams& p);
  /// Empty if every size of `s` fits its 16-bit descriptor field (n, cin, h, w, cout, kh, kw, stride, pad,
  /// groups <= 65535); else which one does not.
  static std::string descriptor_limits(const LayerShape& s);
  /// A descriptor for `p` with its constants uploaded and the given activation addresses.
  Descriptor make_descriptor(const LayerParams& p, uint64_t input_addr, uint64_t output_addr);
  /// Writes descriptors back to back at a fresh scratch address; returns it.
  uint64_t write_descriptors(const std::vector<Descriptor>& descs);
  /// Programs DESC_ADDR/LAYER_COUNT, enables IRQs, starts, waits for the IRQ (or polls STATUS when the IRQ
  /// is not wired), clears IRQ_STATUS, reads the per-layer and total counters. Throws AcceleratorError on
  /// STATUS.ERROR or timeout.
  RunStats run(uint64_t desc_addr, uint32_t count, sc_core::sc_time timeout = sc_core::sc_time(10, sc_core::SC_SEC));
  /// Reads the counters of layer `k` of the last run (PERF_SEL = k), or of the whole run (kPerfWholeRun).
  LayerStats read_stats(uint32_t view);

  /// Chained network for one input (batch = layers[0].shape.n): the output of layer i is the input of layer
  /// i+1 in memory (sizes must chain: outputs() of i == input_elems() of i+1, else ConfigError). One START
  /// for the whole list. Constants are cached, so calling it per layer or per segment is cheap.
  NetworkResult run_network(const std::vector<LayerParams>& layers, const std::vector<int8_t>& input);

  /// A whole graph in one START, on the memory hierarchy (program.hpp): resident activations stay in the
  /// activation buffer, vector ops run on the accelerator, constants are pinned in the weight buffer when they
  /// all fit (loaded by the first run of the same constants, resident afterwards). `input`: the graph input
  /// (batch x elems values). Needs set_hardware() first. Throws ConfigError / AcceleratorError.
  GraphResult run_graph(const Graph& g, const std::vector<int8_t>& input, const ProgramOptions& opt = {});
  /// The accelerator's hardware parameters (what the program compiler plans for).
  void set_hardware(const ArrayConfig& cfg) { hw_ = cfg; have_hw_ = true; }

  /// Independent layers in one START: layer i reads inputs[i] (any graph's layers whose inputs are known).
  NetworkResult run_layers(const std::vector<LayerParams>& layers, const std::vector<std::vector<int8_t>>& inputs);

  BumpAllocator& constants() { return const_; }
  BumpAllocator& scratch() { return scratch_; }
  HostInitiator& host() { return host_; }

 private:
  /// Writes the descriptor table, runs it and reads back every layer's output from `outs`.
  NetworkResult run_and_collect(const std::vector<LayerParams>& layers, const std::vector<Descriptor>& descs,
                                const std::vector<uint64_t>& outs);
  HostInitiator& host_;
  uint64_t csr_;
  BumpAllocator const_, scratch_;
  std::map<uint64_t, UploadedLayer> cache_;  ///< content hash -> uploaded constants
  std::map<uint32_t, uint64_t> pinned_;      ///< weight-buffer offset -> content hash of the constants there
  ArrayConfig hw_;
  bool have_hw_ = false;
  static uint64_t constants_hash(const LayerParams& p);
  uint64_t hash_of(const LayerParams& p) const;  ///< hash_hint_'s, else constants_hash
  /// Content hashes of the layers of the program being built (set by prepare_constants, cleared after it).
  std::map<const LayerParams*, uint64_t> hash_hint_;
};

}  // namespace cimsim::accel
