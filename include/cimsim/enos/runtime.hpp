#pragma once
// Host integer reference runtime for an ENOS export (plain C++, no SystemC): image quantization, the host
// nodes' exact integer semantics (documented in export.hpp and docs/enos-export.md), and a graph executor
// whose accelerator nodes are run by a pluggable callback: accel::run_layer for the reference
// (HostRuntime), the SystemC accelerator for the simulator runtime (sim_runtime.hpp).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cimsim/enos/export.hpp"

namespace cimsim::enos {

/// clamp(round_half_away(((p / 255.0) - mean) / stdv / scale), -128, 127), in double, in this order.
int8_t quantize_pixel(uint8_t p, double scale, double mean = 0.0, double stdv = 1.0);
/// Quantizes one image (input.c x input.h x input.w uint8 pixels, CHW) with the export's input parameters.
std::vector<int8_t> quantize_image(const NetworkExport& e, const uint8_t* pixels);

/// The host nodes' integer kernels (one image, CHW int8).
namespace hostop {
/// floor((x*m + 2^(s-1)) / 2^s) for s > 0, x*m for s == 0 (no clamp).
int64_t rescale(int64_t x, int32_t mult, int32_t shift);
/// floor((2*sum + n) / (2n)), n > 0.
int8_t avg_round(int64_t sum, int64_t n);
void max_pool(const int8_t* in, int c, int h, int w, int kernel, int stride, int pad, int8_t* out);
void avg_pool(const int8_t* in, int c, int h, int w, int kernel, int stride, int8_t* out);
void global_avg_pool(const int8_t* in, int c, int h, int w, int8_t* out);
void channel_shuffle(const int8_t* in, int c, int h, int w, int groups, int8_t* out);
}  // namespace hostop

/// Work of one host node per image: elements read, written, and arithmetic/compare operations.
struct HostOpWork {
  std::string node;
  NodeKind kind = NodeKind::MaxPool;
  int64_t in_elems = 0, out_elems = 0, ops = 0;
};
/// One entry per non-Accel node, in execution order (Split/Flatten/Shuffle: ops = 0, pure data movement).
std::vector<HostOpWork> host_op_work(const NetworkExport& e);

struct InferenceResult {
  std::vector<int8_t> logits;  ///< the output tensor (classes values)
  int prediction = -1;         ///< argmax of logits (lowest index on ties)
};

/// Runs accelerator node `index` (nodes[index].kind == Accel) on one image: `in` holds the input tensor
/// (cin*h*w), `out` receives cout*out_h*out_w values.
using AccelRunner = std::function<void(size_t index, const Node& node, const int8_t* in, int8_t* out)>;

/// Walks the graph for one image at a time. Keeps every tensor of the last run (for tests and debugging).
class GraphExecutor {
 public:
  /// Throws ConfigError if e.check() fails. `e` must outlive the executor.
  explicit GraphExecutor(const NetworkExport& e);
  /// `image`: quantized input tensor (input.elems() values).
  InferenceResult run(const int8_t* image, const AccelRunner& accel);
  /// A tensor of the last run (input or node output). Throws ConfigError for an unknown name.
  const std::vector<int8_t>& tensor(const std::string& name) const;
  const NetworkExport& network() const { return e_; }

 private:
  const NetworkExport& e_;
  std::vector<Shape3> shapes_;               ///< per tensor slot
  std::vector<std::vector<int8_t>> values_;  ///< per tensor slot (0 = input, i+1 = node i's output)
  std::vector<std::vector<int>> node_inputs_;
};

/// Runs one host (non-Accel) node: `ins` are the input tensors with shapes `in_shapes`; `out` is resized.
void run_host_node(const Node& n, const std::vector<const std::vector<int8_t>*>& ins,
                   const std::vector<Shape3>& in_shapes, std::vector<int8_t>& out);

/// argmax, lowest index on ties; -1 for an empty vector.
int argmax(const std::vector<int8_t>& v);

/// The reference: Accel nodes through cimsim::accel::run_layer (batch 1 per image, so CIM noise streams are
/// those of a one-image layer call, the same as the simulator runtime's).
class HostRuntime {
 public:
  explicit HostRuntime(const NetworkExport& e) : e_(e), g_(e_) {}
  InferenceResult infer(const int8_t* image);
  InferenceResult infer_pixels(const uint8_t* pixels) { return infer(quantize_image(e_, pixels).data()); }
  const GraphExecutor& executor() const { return g_; }

 private:
  NetworkExport e_;
  GraphExecutor g_;
};

}  // namespace cimsim::enos
