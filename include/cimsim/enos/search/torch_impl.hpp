#pragma once
// ENOS search internals (libtorch): the searchable layer with its candidate quantizers/STEs, the network
// graph, the bit-exact integer inference path and the export builder. Used by sw/enos/search and its tests;
// everything else should use search.hpp.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/model_graph.hpp"
#include "cimsim/enos/search/search.hpp"

namespace cimsim::enos::search {

/// Running estimate of a tensor's max |value| (EMA, momentum 0.9); scale = value / 127. A fixed observer
/// (ReLU6 / Clip outputs: value = the clip maximum, so the int8 clamp at 127 is the clip) never moves.
struct Observer {
  double value = 0;
  bool init = false;
  bool fixed = false;
  void update(double m) {
    if (fixed) return;
    value = init ? 0.9 * value + 0.1 * m : m;
    init = true;
  }
  double scale() const { return (init && value > 1e-8 ? value : 1.0) / 127.0; }
};

/// How a layer combines its candidates in a forward pass.
/// Mixed: softmax-weighted sum (DARTS); Sampled: Gumbel-softmax straight-through; Fixed: the chosen candidate;
/// Uniform: one candidate drawn uniformly per step (no gradient to alpha); Path: the candidate in `path` (set by
/// the caller: sandwich-rule supernet training, REINFORCE samples); TwoPath: binary gates over the two candidates
/// in `pair` (ProxylessNAS): one, drawn with the softmax of their two alphas, is the output and trains; the other
/// runs forward only; both alphas get the gate gradient. Gates: the same over every candidate of the layer (one
/// drawn from softmax(alpha) trains, all run forward, every alpha gets the gate gradient).
enum class Combine { Mixed, Sampled, Fixed, Uniform, Path, TwoPath, Gates };

/// Weight family of an operator. Quantizers of one correlation filter (MAC8, MAC4, deep-shift, BWN, XNOR and
/// their CIM variants) share one real weight; MF and the adder compute other functions and own theirs.
enum class Family { Correlation = 0, MultFree = 1, Adder = 2 };
Family family_of(accel::Op op);

/// One conv/FC layer with one real weight per family among its candidates and one BatchNorm (affine,
/// gamma >= 1e-3) per candidate. Activations enter and leave as integer-valued float tensors (int8 codes) with
/// per-tensor scales.
class SearchLayerImpl : public torch::nn::Module {
 public:
  SearchLayerImpl(std::string name, const accel::LayerShape& shape, bool relu, std::vector<Candidate> cands,
                  int adc_bits);
  /// Accumulator of candidate k in integer units (float tensor) and its per-channel dequantization factor
  /// (real pre-BN value = acc * d[oc]). `q` is the int8 input code tensor, `s_in` its scale.
  std::pair<torch::Tensor, torch::Tensor> candidate_acc(int k, const torch::Tensor& q, double s_in);
  /// Real (post-BN) output of candidate k.
  torch::Tensor candidate_out(int k, const torch::Tensor& q, double s_in);
  /// Forward: combine the candidates, ReLU, fake-quantize to int8 with the output observer's scale.
  torch::Tensor forward(const torch::Tensor& q, double s_in, Combine how, double tau = 1.0);
  torch::Tensor probs() const { return torch::softmax(alpha, 0); }
  /// Hard integer weights of candidate k (OIHW) as used by candidate_acc.
  torch::Tensor int_weights(int k);
  /// LayerParams of candidate k with BN folded into (mult, shift, bias); `s_in`, `s_out` the tensor scales.
  accel::LayerParams export_params(int k, double s_in, double s_out);
  void clamp_gamma();

  std::string name;
  accel::LayerShape shape;  ///< n = 1
  bool relu;
  std::vector<Candidate> cands;
  std::vector<accel::CimParams> cim;  ///< per candidate
  /// The real weight candidate k trains (its family's).
  torch::Tensor& weight_for(int k);
  torch::Tensor weight, alpha;  ///< weight: the correlation family's
  torch::Tensor weight_mf, weight_adder;  ///< defined only if a candidate of that family is offered
  std::vector<torch::nn::BatchNorm2d> bns;
  std::shared_ptr<Observer> out_obs;
  std::vector<double> energy_pj;      ///< per candidate, per image
  int chosen = 0;                     ///< Fixed / discretized candidate
  int last_sampled = 0;
  int path = 0;                       ///< Combine::Path
  int pair[2] = {0, 0};               ///< Combine::TwoPath
  double train_noise_lsb = 0;
  /// Initialised from a graph's float weights (SearchNetImpl::calibrate_from_weights sets the BatchNorms).
  bool from_weights = false;
  std::vector<float> init_bias;       ///< the graph's bias (empty: zero)
  /// During calibrate_from_weights: the next candidate_out of a correlation-family candidate sets that
  /// candidate's BatchNorm from its batch statistics so that it outputs pre-BN value + bias on this batch.
  bool bn_calibrate = false;
};
TORCH_MODULE(SearchLayer);

/// Fused straight-through quantizer of activations (float32): q = clamp(floor(x / div + 0.5), lo, hi), with
/// `relu` q = 0 where x <= 0; gradient 1/div where (`clip`: lo <= floor(x / div + 0.5) <= hi; `relu`: x > 0),
/// else 0 (without `clip`: 1/div everywhere). Same values and gradients as the tensor chain relu, then
/// clamp(x / div + (floor(x / div + 0.5) - x / div).detach(), lo, hi).
torch::Tensor round_clamp_ste(const torch::Tensor& x, double div, double lo, double hi, bool clip, bool relu = false);
/// round_clamp_ste(x, div, lo, hi, true).sum(1) in one pass (the ADC codes of x [N, J, ...] summed over chunks).
torch::Tensor round_clamp_sum_ste(const torch::Tensor& x, double div, double lo, double hi);
/// Sign (float32) with a straight-through gradient to clamp(x / 32, -1, 1): 1 above zero, -1 below, `at_zero`
/// at zero.
torch::Tensor sign_ste(const torch::Tensor& x, double at_zero);

/// A graph node over tensor slots (slot 0 = the network input).
struct GNode {
  NodeKind kind = NodeKind::Accel;
  std::string name;
  int layer = -1;
  std::vector<int> in;
  int out = -1;
  int kernel = 0, stride = 1, pad = 0, groups = 1, begin = 0, end = 0;
  std::shared_ptr<Observer> obs;  ///< Add: its output scale (requantizes every input)
  bool relu = false;              ///< Add: ReLU (or Clip, with a fixed observer) after the sum
};
struct GTensor {
  std::string name;
  int c = 0, h = 0, w = 0;
};

class SearchNetImpl : public torch::nn::Module {
 public:
  /// A built-in network (builtin_graph: "squeezenet" | "shufflenet"); input c x h x w; `classes` outputs.
  SearchNetImpl(const std::string& net, int c, int h, int w, int classes, const std::vector<Candidate>& cands,
                int adc_bits);
  /// The supernet of a float network graph: one searchable layer per Conv node, the other nodes as host/vector
  /// ops. Scales: every tensor joined by a Concat (and the scale-keeping ops around it: pools, shuffle, split,
  /// flatten) shares one observer, so that concatenation is the identity; an Add has its own output scale and
  /// rescales its inputs (the export's in_mult/in_shift); a Clip (ReLU6) output's scale is fixed to
  /// clip_max / 127 (the int8 clamp is the clip, as post-training quantisation does). The graph's float weights,
  /// when present, initialise the layers (docs/enos.md, "Search on your network"). Throws ConfigError prefixed
  /// with `origin` (the file) naming the node for a graph the search cannot represent.
  SearchNetImpl(const ModelGraph& g, const std::vector<Candidate>& cands, int adc_bits, const std::string& origin = "");
  /// x: int8 input codes [N, C, H, W] (float). Returns logits (int8 codes, float). With `mixed_layer` >= 0 that
  /// layer combines by `Combine::Gates` and every other is Fixed (sequential mode).
  torch::Tensor forward(const torch::Tensor& x, Combine how, double tau = 1.0, int mixed_layer = -1);
  /// Sum over layers of sum_k p_k E_k (differentiable in alpha); with `hard_except` >= 0 every other layer
  /// contributes its argmax candidate's energy.
  torch::Tensor expected_energy(int hard_except = -1) const;
  double chosen_energy() const;
  double ref_energy() const;  ///< every layer MAC8 digital
  double ref_operator_energy() const { return ref_op_pj_; }  ///< its compute + ADC + DAC energy
  void set_energies(const accel::ArrayConfig& cfg, const EnergyTable& table);
  std::vector<torch::Tensor> weight_params();  ///< everything trained by Adam: all but alphas and adder weights
  std::vector<torch::Tensor> adder_params();   ///< adder weights (SGD with AdderNet's adaptive per-layer rate)
  std::vector<torch::Tensor> alpha_params();
  void discretize();  ///< chosen = argmax alpha
  /// chosen = the assigned candidate of every layer. Throws ConfigError (prefixed with `origin`) for a layer the
  /// network lacks, a layer left out, or a candidate the layer does not offer (XNOR at the classifier).
  void assign(const std::vector<LayerAssignment>& a, const std::string& origin);
  /// `skeleton`: placeholder MAC8 layers (zero weights, identity requantization) for planning the program
  /// (placements) before training.
  NetworkExport export_network(const std::string& dataset, const accel::ArrayConfig& cfg, bool skeleton = false);
  std::vector<double> observer_values() const;
  void set_observer_values(const std::vector<double>& v);
  /// For a graph with float weights: one no-gradient training-mode forward of `x` along `path` (per layer the
  /// candidate index; the MAC8 path) in which every layer initialised from weights sets the path candidate's
  /// BatchNorm to gamma = sqrt(var + eps), beta = bias + mean and running statistics (mean, var) of its batch, so
  /// that in training and in eval mode it outputs the float layer (pre-BN value + bias) on this data; the
  /// observers learn the imported network's activation ranges. The layer's other correlation-family candidates
  /// (which approximate the same convolution) copy that BatchNorm. Layers without weights are untouched.
  void calibrate_from_weights(const torch::Tensor& x, const std::vector<int>& path);

  std::string net;
  std::vector<SearchLayer> layers;
  std::vector<GNode> nodes;
  std::vector<GTensor> tensors;
  std::vector<std::shared_ptr<Observer>> observers;  ///< all distinct observers (checkpointed)
  int classes = 10;
  double input_scale = 1.0 / 127.0;
  std::vector<double> input_mean, input_std;  ///< per input channel (empty: 0 and 1), as in the export
  int out_tensor = -1;                        ///< the logits tensor

 private:
  void build(const ModelGraph& g, const std::string& origin);
  void conv(const ModelNode& m, int out, const std::shared_ptr<Observer>& obs);
  std::vector<Candidate> cands_;
  int adc_bits_;
  std::vector<double> ref_pj_;
  double vector_pj_ = 0;  ///< the vector-unit ops of the program (operator-independent), per image
  double ref_op_pj_ = 0;

 public:
  /// Per searchable layer: its placement in the program plan (set by set_energies).
  std::vector<accel::Placement> layer_place;
  /// Energy of the vector-unit ops per image (set by set_energies).
  double vector_energy_pj() const { return vector_pj_; }
};
TORCH_MODULE(SearchNet);

/// Bit-exact integer evaluation of one accelerator layer (float64 convolutions, int64 requantization),
/// the same function as accel::run_layer. `x`: int8 codes [N, cin, h, w] in any dtype. Returns int8 codes
/// as float64 [N, cout, oh, ow]. CIM noise uses the per-image output index (the runtime's batch-1 calls).
/// Throws ConfigError if p.check() fails or x's shape does not match p.shape.
torch::Tensor int_layer_forward(const accel::LayerParams& p, const torch::Tensor& x);
/// Pre-requantization accumulators (float64, exact integers).
torch::Tensor int_layer_acc(const accel::LayerParams& p, const torch::Tensor& x);
/// Integer evaluation of a whole export on a batch of int8 input codes; returns logits (float64 codes).
torch::Tensor int_network_forward(const NetworkExport& e, const torch::Tensor& x);
/// Quantized input codes for uint8 images (N x c x h x w), as the runtime quantizes them.
/// With per-channel `mean` / `stdv` (empty: 0 / 1) as the export's input normalisation (enos::quantize_pixel).
torch::Tensor quantize_images(const uint8_t* pixels, int64_t n, int c, int h, int w, double scale,
                              const std::vector<double>& mean = {}, const std::vector<double>& stdv = {});
/// Channel shuffle of an NCHW tensor with `groups` groups (the host op, shared by the float and integer paths).
inline torch::Tensor shuffle_channels(const torch::Tensor& a, int64_t groups) {
  const int64_t N = a.size(0), C = a.size(1), H = a.size(2), W = a.size(3);
  return a.view({N, groups, C / groups, H, W}).transpose(1, 2).reshape({N, C, H, W});
}

}  // namespace cimsim::enos::search
