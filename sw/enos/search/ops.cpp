// ENOS search: quantizers + straight-through estimators, the CIM chunk/ADC model in training,
// the bit-exact integer path, BN folding into the accelerator's requantization. See docs/enos.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/enos/runtime.hpp"
#include "cimsim/enos/search/torch_impl.hpp"

namespace cimsim::enos::search {

using accel::Mode;
using accel::Op;
using torch::Tensor;
namespace F = torch::nn::functional;

// ---------------------------------------------------------------------------------------------------------
// Shared operator arithmetic (training: STE tensors; integer path: exact float64)

namespace {

Tensor ste(const Tensor& hard, const Tensor& soft) { return soft + (hard - soft).detach(); }

// Fused straight-through quantizers on activations: one pass forward, one backward. Written as chains of
// floor/clamp/ste tensor ops they were half of a training step's CPU time (bench_search_cost --profile).
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// q = clamp(floor(x / div + 0.5), lo, hi), and with `relu` q = 0 where x <= 0. Gradient 1/div where
/// (`clip`: the unclamped rounded value lies in [lo, hi]; `relu`: x > 0), else 0; without `clip` everywhere.
/// The same values and gradients as relu, then clamp(round_ste(x / div), lo, hi) (or ste(hard, x / div)).
struct RoundClampFn : torch::autograd::Function<RoundClampFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x_in, double div, double lo, double hi, bool clip,
                        bool relu) {
    const Tensor x = x_in.contiguous();
    TORCH_CHECK(x.scalar_type() == torch::kFloat32, "RoundClampFn: float32 input expected");
    Tensor q = torch::empty_like(x);
    Tensor mask = torch::empty(x.sizes(), x.options().dtype(torch::kFloat32));
    const float* xp = x.data_ptr<float>();
    float* qp = q.data_ptr<float>();
    float* mp = mask.data_ptr<float>();
    const float d = static_cast<float>(div), l = static_cast<float>(lo), h = static_cast<float>(hi);
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) {
      const float v = std::floor(xp[i] / d + 0.5f);
      const bool pass = (!relu || xp[i] > 0.0f) && (!clip || (v >= l && v <= h));
      qp[i] = (relu && !(xp[i] > 0.0f)) ? 0.0f : std::min(std::max(v, l), h);
      mp[i] = pass ? 1.0f / d : 0.0f;
    }
    ctx->save_for_backward({mask});
    return q;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    const Tensor mask = ctx->get_saved_variables()[0];
    return {g[0] * mask, Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

/// The ADC: per chunk j, code = clamp(floor(x[:, j] / div + 0.5), lo, hi) with a clipped straight-through
/// gradient (1/div where the rounded value lies in [lo, hi]), summed over j. x: [N, J, ...] -> [N, ...].
struct RoundClampSumFn : torch::autograd::Function<RoundClampSumFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x_in, double div, double lo, double hi) {
    const Tensor x = x_in.contiguous();
    TORCH_CHECK(x.scalar_type() == torch::kFloat32 && x.dim() >= 2, "RoundClampSumFn: float32 [N, J, ...]");
    const int64_t N = x.size(0), J = x.size(1), R = x.numel() / std::max<int64_t>(1, N * J);
    std::vector<int64_t> osz(x.sizes().begin(), x.sizes().end());
    osz.erase(osz.begin() + 1);
    Tensor out = torch::zeros(osz, x.options());
    Tensor mask = torch::empty_like(x);
    const float* xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    float* mp = mask.data_ptr<float>();
    const float d = static_cast<float>(div), l = static_cast<float>(lo), h = static_cast<float>(hi);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < J; ++j) {
        const float* xr = xp + (n * J + j) * R;
        float* mr = mp + (n * J + j) * R;
        float* orow = op + n * R;
        for (int64_t i = 0; i < R; ++i) {
          const float v = std::floor(xr[i] / d + 0.5f);
          mr[i] = (v >= l && v <= h) ? 1.0f / d : 0.0f;
          orow[i] += std::min(std::max(v, l), h);
        }
      }
    ctx->save_for_backward({mask});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {g[0].unsqueeze(1) * ctx->get_saved_variables()[0], Tensor(), Tensor(), Tensor()};
  }
};

/// Sign with a straight-through gradient to clamp(x / 32, -1, 1): q = 1 for x > 0, `at_zero` for x == 0, -1
/// below (XNOR's activations: at_zero -1; MF's sign: 0).
struct SignSteFn : torch::autograd::Function<SignSteFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x_in, double at_zero) {
    const Tensor x = x_in.contiguous();
    TORCH_CHECK(x.scalar_type() == torch::kFloat32, "SignSteFn: float32 input expected");
    Tensor q = torch::empty_like(x);
    Tensor mask = torch::empty_like(x);
    const float* xp = x.data_ptr<float>();
    float* qp = q.data_ptr<float>();
    float* mp = mask.data_ptr<float>();
    const float z = static_cast<float>(at_zero);
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) {
      qp[i] = xp[i] > 0.0f ? 1.0f : xp[i] < 0.0f ? -1.0f : z;
      mp[i] = (xp[i] >= -32.0f && xp[i] <= 32.0f) ? 1.0f / 32.0f : 0.0f;
    }
    ctx->save_for_backward({mask});
    return q;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {g[0] * ctx->get_saved_variables()[0], Tensor()};
  }
};

/// Binary-gate combination (ProxylessNAS): the output is `oa` (the active candidate's, unchanged); the backward
/// passes the gradient to `oa` and gives each gate g_j the gradient <dL/dy, outs[j]> (`outs`: every gated
/// candidate's output without a graph, the active one's included). One pass per gate instead of the multiplies,
/// adds and sums of y = oa + sum_j (g_j - g_j.detach()) outs[j].
struct GateFn : torch::autograd::Function<GateFn> {
  static Tensor forward(AutogradContext* ctx, const Tensor& oa, const Tensor& g, at::TensorList outs) {
    ctx->save_for_backward(outs.vec());
    ctx->saved_data["gdtype"] = static_cast<int64_t>(g.scalar_type());
    return oa.detach().clone();
  }
  static variable_list backward(AutogradContext* ctx, variable_list gout) {
    const auto outs = ctx->get_saved_variables();
    const Tensor d = gout[0].contiguous();
    TORCH_CHECK(d.scalar_type() == torch::kFloat32, "GateFn: float32");
    const float* dp = d.data_ptr<float>();
    const int64_t n = d.numel();
    std::vector<double> dots;
    for (const Tensor& o_in : outs) {
      const Tensor o = o_in.contiguous();
      const float* op = o.data_ptr<float>();
      double sum = 0;
      for (int64_t i0 = 0; i0 < n; i0 += 4096) {  // float partial sums per block, double across blocks
        const int64_t i1 = std::min(n, i0 + 4096);
        float part = 0;
        for (int64_t i = i0; i < i1; ++i) part += dp[i] * op[i];
        sum += part;
      }
      dots.push_back(sum);
    }
    variable_list r = {gout[0],
                       torch::tensor(dots, torch::kFloat64).to(static_cast<c10::ScalarType>(ctx->saved_data["gdtype"].toInt()))};
    r.resize(2 + outs.size());
    return r;
  }
};

Tensor conv(const Tensor& x, const Tensor& w, int stride, int pad, int groups) {
  return torch::conv2d(x, w, {}, stride, pad, 1, groups);
}

/// The adder's core on unfolded inputs: out[b, o, l] = -sum_k |x[b, k, l] - w[b mod G, o, k]| for x [B, K, L],
/// w [G, cog, K]; gradient to x: sum_o g[b, o, l] sign(w - x) (AdderNet's input gradient on integer codes),
/// none to w (the training path gives the weight its full-precision gradient separately). Loops with the
/// accumulator running along L vectorize; torch::cdist reduced each (l, o) pair on its own and made the adder
/// the costliest candidate (3x a MAC8 step, bench_search_cost).
struct AdderCoreFn : torch::autograd::Function<AdderCoreFn> {
  template <typename T>
  static void fwd(const T* x, const T* w, T* out, int64_t B, int64_t G, int64_t cog, int64_t K, int64_t L) {
    for (int64_t b = 0; b < B; ++b) {
      const T* xb = x + b * K * L;
      const T* wg = w + (b % G) * cog * K;
      for (int64_t o = 0; o < cog; ++o) {
        T* ob = out + (b * cog + o) * L;
        std::fill(ob, ob + L, T(0));
        for (int64_t k = 0; k < K; ++k) {
          const T wv = wg[o * K + k];
          const T* xk = xb + k * L;
          for (int64_t l = 0; l < L; ++l) ob[l] -= std::abs(xk[l] - wv);
        }
      }
    }
  }
  template <typename T>
  static void bwd(const T* x, const T* w, const T* g, T* gx, int64_t B, int64_t G, int64_t cog, int64_t K,
                  int64_t L) {
    for (int64_t b = 0; b < B; ++b) {
      const T* xb = x + b * K * L;
      const T* wg = w + (b % G) * cog * K;
      for (int64_t k = 0; k < K; ++k) {
        const T* xk = xb + k * L;
        T* gk = gx + (b * K + k) * L;
        std::fill(gk, gk + L, T(0));
        for (int64_t o = 0; o < cog; ++o) {
          const T wv = wg[o * K + k];
          const T* go = g + (b * cog + o) * L;
          for (int64_t l = 0; l < L; ++l)
            gk[l] += go[l] * (static_cast<T>(wv > xk[l]) - static_cast<T>(wv < xk[l]));
        }
      }
    }
  }
  static Tensor forward(AutogradContext* ctx, const Tensor& x_in, const Tensor& w_in) {
    const Tensor x = x_in.contiguous(), w = w_in.detach().to(x.scalar_type()).contiguous();
    const int64_t B = x.size(0), K = x.size(1), L = x.size(2), G = w.size(0), cog = w.size(1);
    Tensor out = torch::empty({B, cog, L}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_fwd", [&] {
      fwd<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), B, G, cog, K, L);
    });
    ctx->save_for_backward({x, w});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list gout) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &w = saved[1];
    const Tensor g = gout[0].contiguous();
    const int64_t B = x.size(0), K = x.size(1), L = x.size(2), G = w.size(0), cog = w.size(1);
    Tensor gx = torch::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "adder_bwd", [&] {
      bwd<scalar_t>(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), gx.data_ptr<scalar_t>(),
                    B, G, cog, K, L);
    });
    return {gx, Tensor()};
  }
};

/// -sum |x - w| over each window; `xp` already padded.
Tensor adder_conv(const Tensor& xp, const Tensor& w, int stride, int groups, int oh, int ow) {
  const int64_t N = xp.size(0), cout = w.size(0), cig = w.size(1), kh = w.size(2), kw = w.size(3);
  const int64_t Kg = cig * kh * kw, cog = cout / groups, L = static_cast<int64_t>(oh) * ow;
  const Tensor unf = F::unfold(xp, F::UnfoldFuncOptions({kh, kw}).stride(stride));  // [N, C*kh*kw, L]
  const Tensor out = AdderCoreFn::apply(unf.reshape({N * groups, Kg, L}), w.reshape({groups, cog, Kg}));
  return out.view({N, cout, oh, ow});
}

struct Prepped {
  Tensor a, b;
};

/// Input transformation of an operator (pad-then-transform where the transform maps 0 to nonzero: XNOR).
Prepped prep_input(Op op, const Tensor& x, int pad, bool train) {
  switch (op) {
    case Op::MAC4: {
      if (train) return {round_clamp_ste(x, 16, -8, 7, false), {}};
      return {torch::clamp(torch::floor((x + 8) / 16), -8, 7), {}};
    }
    case Op::XNOR: {
      const Tensor xp = pad > 0 ? torch::constant_pad_nd(x, {pad, pad, pad, pad}, 0) : x;
      if (train) return {sign_ste(xp, -1.0), {}};
      return {torch::where(xp > 0, torch::ones_like(xp), -torch::ones_like(xp)), {}};
    }
    case Op::MF: {
      return {train ? sign_ste(x, 0.0) : torch::sign(x), x.abs()};
    }
    case Op::ADDER: return {pad > 0 ? torch::constant_pad_nd(x, {pad, pad, pad, pad}, 0) : x, {}};
    default: return {x, {}};
  }
}

}  // namespace

Tensor round_clamp_ste(const Tensor& x, double div, double lo, double hi, bool clip, bool relu) {
  return RoundClampFn::apply(x, div, lo, hi, clip, relu);
}
Tensor sign_ste(const Tensor& x, double at_zero) { return SignSteFn::apply(x, at_zero); }
Tensor round_clamp_sum_ste(const Tensor& x, double div, double lo, double hi) {
  return RoundClampSumFn::apply(x, div, lo, hi);
}

namespace {

/// MF's weight sign (straight-through to w / 32 in training).
Tensor mf_weight_sign(const Tensor& w, bool train) {
  return train ? ste(torch::sign(w), torch::clamp(w / 32, -1, 1)) : torch::sign(w);
}

/// Sum of operator terms over the whole reduction with integer weights `w` (possibly masked to a chunk).
Tensor op_sum(Op op, const Prepped& in, const Tensor& w, const accel::LayerShape& s, bool train) {
  switch (op) {
    case Op::XNOR: return conv(in.a, w, s.stride, 0, s.groups);
    case Op::MF: {
      const Tensor ws = mf_weight_sign(w, train);
      return conv(in.a, w.abs(), s.stride, s.pad, s.groups) + conv(in.b, ws, s.stride, s.pad, s.groups);
    }
    case Op::ADDER: {
      if (!train) return adder_conv(in.a, w, s.stride, s.groups, s.out_h(), s.out_w());
      // AdderNet gradients. d(-|x - w|)/dw = sign(x - w) is -sign(w) wherever |w| > x, i.e. almost everywhere
      // for int8 post-ReLU inputs against weights of magnitude up to 127: the weight gradient then ignores the
      // data and the network stayed at chance. The full-precision form (x - w) restores it. It is the gradient
      // of conv(x, w) - |w|^2 / 2 (per output channel), added as a zero-valued straight-through term; the
      // input keeps sign(w - x) (= HardTanh(w - x) on integer codes) through the adder core (AdderCoreFn).
      const Tensor y = adder_conv(in.a, w.detach(), s.stride, s.groups, s.out_h(), s.out_w());
      const Tensor sw = conv(in.a.detach(), w, s.stride, 0, s.groups) -
                        0.5 * w.pow(2).sum({1, 2, 3}).view({1, -1, 1, 1});
      return y + (sw - sw.detach());
    }
    default: return conv(in.a, w, s.stride, s.pad, s.groups);
  }
}

/// Convolution split into partial sums over consecutive chunks of `rows` reduction indices (the flattened
/// (cin/groups, kh, kw) order of the weights, i.e. the CIM array's rows): [N, J, cout, oh, ow].
/// For groups == 1 the chunks become the groups of one grouped convolution: chunk j reads only the input
/// channels its rows touch (gathered, padded to the widest chunk with zero-weight repeats) with the weight
/// masked to its rows, so the layer costs about one convolution's multiply-adds. (Masking the whole weight per
/// chunk cost J convolutions; per-chunk channel slices paid a full-size input gradient per chunk; one im2col
/// and a batched product measured slower than both on CPU: bench_search_cost.)
Tensor chunked_conv(const Tensor& x, const Tensor& w, int stride, int pad, int groups, int rows) {
  const int64_t cout = w.size(0), cig = w.size(1), kh = w.size(2), kw = w.size(3), kk = kh * kw, Kg = cig * kk;
  const int64_t J = (Kg + rows - 1) / rows;
  if (groups != 1) {
    const Tensor r = torch::arange(Kg, w.options()).view({1, cig, kh, kw});
    std::vector<Tensor> parts;
    for (int64_t j = 0; j < J; ++j)
      parts.push_back(conv(x, w * ((r >= j * rows) & (r < (j + 1) * rows)).to(w.dtype()), stride, pad, groups));
    return torch::stack(parts, 1);
  }
  int64_t cmax = 0;
  for (int64_t j = 0; j < J; ++j) {
    const int64_t lo = j * rows, hi = std::min(Kg, (j + 1) * rows);
    cmax = std::max(cmax, (hi - 1) / kk + 1 - lo / kk);
  }
  std::vector<int64_t> idx(static_cast<size_t>(J * cmax));
  std::vector<float> mask(static_cast<size_t>(J * cmax * kk), 0.0f);
  for (int64_t j = 0; j < J; ++j) {
    const int64_t lo = j * rows, hi = std::min(Kg, (j + 1) * rows), c0 = lo / kk, c1 = (hi - 1) / kk + 1;
    for (int64_t c = 0; c < cmax; ++c) {
      idx[static_cast<size_t>(j * cmax + c)] = c0 + c < c1 ? c0 + c : c0;  // padding slots: weight 0
      if (c0 + c >= c1) continue;
      for (int64_t t = 0; t < kk; ++t) {
        const int64_t f = (c0 + c) * kk + t;
        if (f >= lo && f < hi) mask[static_cast<size_t>((j * cmax + c) * kk + t)] = 1.0f;
      }
    }
  }
  const Tensor ix = torch::tensor(idx, torch::kInt64);
  const Tensor m = torch::tensor(mask, torch::kFloat32).to(w.dtype()).view({J, 1, cmax, kh, kw});
  const Tensor wj = (w.index_select(1, ix).view({cout, J, cmax, kh, kw}).permute({1, 0, 2, 3, 4}) * m)
                        .reshape({J * cout, cmax, kh, kw});
  const Tensor out = conv(x.index_select(1, ix), wj, stride, pad, static_cast<int>(J));  // [N, J*cout, oh, ow]
  return out.view({out.size(0), J, cout, out.size(2), out.size(3)});
}

/// Partial sums per CIM chunk: [N, J, cout, oh, ow].
Tensor chunk_sums(Op op, const Prepped& in, const Tensor& w, const accel::LayerShape& s, int rows, bool train) {
  const int64_t K = s.reduction();
  const int64_t J = (K + rows - 1) / rows;
  if (J == 1) return op_sum(op, in, w, s, train).unsqueeze(1);
  switch (op) {
    case Op::XNOR: return chunked_conv(in.a, w, s.stride, 0, s.groups, rows);  // input padded by prep_input
    case Op::MF: {
      const Tensor ws = mf_weight_sign(w, train);
      return chunked_conv(in.a, w.abs(), s.stride, s.pad, s.groups, rows) +
             chunked_conv(in.b, ws, s.stride, s.pad, s.groups, rows);
    }
    case Op::ADDER: throw ConfigError("the CIM macro does not run the adder operator");
    default: return chunked_conv(in.a, w, s.stride, s.pad, s.groups, rows);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Searchable layer

SearchLayerImpl::SearchLayerImpl(std::string name_, const accel::LayerShape& shape_, bool relu_,
                                 std::vector<Candidate> cands_, int adc_bits)
    : name(std::move(name_)), shape(shape_), relu(relu_), cands(std::move(cands_)) {
  shape.n = 1;
  const std::string why = shape.check();
  if (!why.empty()) throw ConfigError("layer '" + name + "': " + why);
  if (cands.empty()) throw ConfigError("layer '" + name + "': no candidates");
  const int64_t fan_in = shape.reduction();
  auto init = [&] {
    return torch::randn({shape.cout, shape.cin / shape.groups, shape.kh, shape.kw}) *
           std::sqrt(2.0 / static_cast<double>(fan_in));
  };
  weight = register_parameter("weight", init());
  auto has = [&](Family f) {
    return std::any_of(cands.begin(), cands.end(), [&](const Candidate& c) { return family_of(c.op) == f; });
  };
  // The other families start from the same random filter (one draw: a single-family layer initializes as it
  // always did); after MAC8 pre-training the search restarts MF from the trained correlation filter.
  if (has(Family::MultFree)) weight_mf = register_parameter("weight_mf", weight.detach().clone());
  if (has(Family::Adder)) weight_adder = register_parameter("weight_adder", weight.detach().clone());
  alpha = register_parameter("alpha", torch::zeros({static_cast<int64_t>(cands.size())}));
  for (size_t k = 0; k < cands.size(); ++k) {
    bns.push_back(register_module("bn" + std::to_string(k),
                                  torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(shape.cout).momentum(0.1))));
    cim.push_back(cim_params_for(cands[k].op, adc_bits, fan_in));
  }
  out_obs = std::make_shared<Observer>();
  energy_pj.assign(cands.size(), 0.0);
}

namespace {
/// Integer weights of a candidate (STE in training) and the per-channel dequantization factor.
std::pair<Tensor, Tensor> quantize_weight(Op op, const Tensor& w, double s_in, bool train) {
  const Tensor amax = w.detach().abs().amax({1, 2, 3}, true).clamp_min(1e-8);
  const Tensor mean_abs = w.detach().abs().mean({1, 2, 3}, true).clamp_min(1e-8);
  Tensor hard, soft, d;
  switch (op) {
    case Op::MAC8:
    case Op::MF:
    case Op::ADDER: {
      const Tensor s = amax / 127;
      soft = w / s;
      hard = torch::clamp(torch::floor(soft + 0.5), -127, 127);
      d = op == Op::ADDER ? torch::full_like(s, s_in) : s * s_in;
      break;
    }
    case Op::MAC4: {
      const Tensor s = amax / 7;
      soft = w / s;
      hard = torch::clamp(torch::floor(soft + 0.5), -7, 7);
      d = s * (16.0 * s_in);
      break;
    }
    case Op::BWN:
    case Op::XNOR: {
      soft = w / mean_abs;
      hard = torch::where(w > 0, torch::ones_like(w), -torch::ones_like(w));
      d = op == Op::BWN ? mean_abs * s_in : mean_abs;
      break;
    }
    case Op::DEEPSHIFT: {
      const Tensor s = amax / 64;
      soft = w / s;
      const Tensor mag = soft.detach().abs();
      const Tensor e = torch::clamp(torch::floor(torch::log2(mag.clamp_min(1e-12)) + 0.5), 0, 6);
      hard = torch::sign(soft.detach()) * torch::pow(2.0, e) * (mag >= std::sqrt(0.5)).to(w.dtype());
      d = s * s_in;
      break;
    }
  }
  hard = hard.detach();
  return {train ? ste(hard, soft) : hard, d.reshape({-1})};
}
}  // namespace

Family family_of(Op op) {
  return op == Op::MF ? Family::MultFree : op == Op::ADDER ? Family::Adder : Family::Correlation;
}

torch::Tensor& SearchLayerImpl::weight_for(int k) {
  switch (family_of(cands.at(static_cast<size_t>(k)).op)) {
    case Family::MultFree: return weight_mf;
    case Family::Adder: return weight_adder;
    default: return weight;
  }
}

torch::Tensor SearchLayerImpl::int_weights(int k) {
  torch::NoGradGuard ng;
  return quantize_weight(cands.at(static_cast<size_t>(k)).op, weight_for(k), 1.0, false).first;
}

std::pair<Tensor, Tensor> SearchLayerImpl::candidate_acc(int k, const Tensor& q, double s_in) {
  const Candidate c = cands.at(static_cast<size_t>(k));
  auto [wq, d] = quantize_weight(c.op, weight_for(k), s_in, true);
  const Prepped in = prep_input(c.op, q, shape.pad, true);
  if (c.mode == Mode::Digital) return {op_sum(c.op, in, wq, shape, true), d};
  const accel::CimParams& cp = cim[static_cast<size_t>(k)];
  const double half = static_cast<double>(1 << (cp.adc_bits - 1));
  const Tensor ps = chunk_sums(c.op, in, wq, shape, cp.rows, true);
  Tensor acc;  // sum over chunks of the ADC codes (clipped STE)
  if (train_noise_lsb > 0 && is_training()) {
    acc = round_clamp_sum_ste(ps * (half / cp.adc_range) + train_noise_lsb * torch::randn_like(ps), 1.0, -half,
                              half - 1);
  } else {
    acc = round_clamp_sum_ste(ps, cp.adc_range / half, -half, half - 1);
  }
  return {acc, d * (cp.adc_range / half)};
}

torch::Tensor SearchLayerImpl::candidate_out(int k, const Tensor& q, double s_in) {
  auto [acc, d] = candidate_acc(k, q, s_in);
  const Tensor x = acc * d.view({1, -1, 1, 1});
  auto& bn = bns[static_cast<size_t>(k)];
  if (bn_calibrate && family_of(cands[static_cast<size_t>(k)].op) == Family::Correlation) {
    torch::NoGradGuard ng;
    const Tensor mean = x.mean({0, 2, 3}), var = x.var({0, 2, 3}, false);
    bn->weight.copy_(torch::sqrt(var + bn->options.eps()));
    bn->bias.copy_(mean);
    if (!init_bias.empty())
      bn->bias.add_(torch::from_blob(init_bias.data(), {static_cast<int64_t>(init_bias.size())}, torch::kFloat32));
    bn->running_mean.copy_(mean);
    bn->running_var.copy_(var);
  }
  return bn(x);
}

torch::Tensor SearchLayerImpl::forward(const Tensor& q, double s_in, Combine how, double tau) {
  Tensor y;
  if (how == Combine::Fixed) {
    y = candidate_out(chosen, q, s_in);
  } else if (how == Combine::Mixed) {
    const Tensor p = torch::softmax(alpha, 0);
    for (size_t k = 0; k < cands.size(); ++k) {
      const Tensor yk = candidate_out(static_cast<int>(k), q, s_in) * p[static_cast<int64_t>(k)];
      y = y.defined() ? y + yk : yk;
    }
  } else if (how == Combine::Path) {
    last_sampled = path;
    y = candidate_out(path, q, s_in);
  } else if (how == Combine::TwoPath || how == Combine::Gates) {
    // Binary gates (ProxylessNAS) over the gated candidates `ks` (TwoPath: the two in `pair`, their gates the
    // softmax of their two alphas; Gates: every candidate, gates softmax(alpha)): one, drawn with its gate
    // probability, alone gives the output and the weight and input gradients; the others run forward only, so
    // that each gate still gets dL/dg_j = <dL/dy, o_j> (GateFn). One path's forward and backward plus forwards,
    // instead of every gated path forward and backward.
    std::vector<int> ks;
    Tensor g;
    int a = 0;  // index into ks of the active candidate
    if (how == Combine::TwoPath) {
      ks = {pair[0], pair[1]};
      if (pair[1] != pair[0]) {
        g = torch::softmax(alpha.index_select(0, torch::tensor({int64_t{pair[0]}, int64_t{pair[1]}}, torch::kInt64)), 0);
        a = torch::rand({1}).item<double>() < g[0].item<double>() ? 0 : 1;
      }
    } else {
      for (int k = 0; k < static_cast<int>(cands.size()); ++k) ks.push_back(k);
      g = torch::softmax(alpha, 0);
      a = static_cast<int>(torch::multinomial(g.detach(), 1).item<int64_t>());
    }
    last_sampled = ks[static_cast<size_t>(a)];
    const Tensor oa = candidate_out(last_sampled, q, s_in);
    if (!g.defined()) {  // a layer with one candidate
      y = oa;
    } else {
      std::vector<Tensor> outs;
      for (size_t j = 0; j < ks.size(); ++j) {
        if (static_cast<int>(j) == a) {
          outs.push_back(oa.detach());
          continue;
        }
        torch::NoGradGuard ng;
        outs.push_back(candidate_out(ks[j], q, s_in));
      }
      y = GateFn::apply(oa, g, outs);
    }
  } else if (how == Combine::Uniform) {  // one path, alpha untouched
    const int k = static_cast<int>(torch::randint(static_cast<int64_t>(cands.size()), {1}).item<int64_t>());
    last_sampled = k;
    y = candidate_out(k, q, s_in);
  } else {  // Gumbel-softmax, straight-through: one candidate computed, gradient to alpha through its prob.
    const Tensor u = torch::rand_like(alpha).clamp(1e-10, 1.0 - 1e-10);
    const Tensor soft = torch::softmax((alpha - torch::log(-torch::log(u))) / tau, 0);
    const int k = static_cast<int>(soft.argmax().item<int64_t>());
    last_sampled = k;
    const Tensor sk = soft[k];
    y = candidate_out(k, q, s_in) * (1.0 + sk - sk.detach());
  }
  if (is_training()) {
    const Tensor yd = y.detach();
    out_obs->update((relu ? yd.max().clamp_min(0) : yd.abs().max()).item<double>());
  }
  // relu, then clamp(round_ste(y / s_out), relu ? 0 : -128, 127), fused
  return round_clamp_ste(y, out_obs->scale(), relu ? 0.0 : -128.0, 127.0, true, relu);
}

void SearchLayerImpl::clamp_gamma() {
  torch::NoGradGuard ng;
  for (auto& bn : bns) bn->weight.clamp_min_(1e-3);
}

accel::LayerParams SearchLayerImpl::export_params(int k, double s_in, double s_out) {
  torch::NoGradGuard ng;
  const Candidate c = cands.at(static_cast<size_t>(k));
  accel::LayerParams p;
  p.shape = shape;
  p.op = c.op;
  p.mode = c.mode;
  if (c.mode == Mode::Cim) p.cim = cim[static_cast<size_t>(k)];
  auto [wq, d] = quantize_weight(c.op, weight_for(k), s_in, false);
  if (c.mode == Mode::Cim) d = d * (p.cim.adc_range / static_cast<double>(1 << (p.cim.adc_bits - 1)));
  const Tensor wflat = wq.reshape({-1}).to(torch::kInt64).contiguous();
  p.weights.resize(static_cast<size_t>(wflat.numel()));
  const int64_t* wp = wflat.data_ptr<int64_t>();
  for (size_t i = 0; i < p.weights.size(); ++i) p.weights[i] = static_cast<int8_t>(wp[i]);
  auto& bn = bns[static_cast<size_t>(k)];
  const Tensor A = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
  const Tensor B = bn->bias - A * bn->running_mean;
  const Tensor Ad = (A * d).to(torch::kFloat64).contiguous(), Bd = B.to(torch::kFloat64).contiguous();
  p.rq.relu = relu;
  for (int oc = 0; oc < shape.cout; ++oc) {
    const double ad = Ad[oc].item<double>(), b = Bd[oc].item<double>();
    // y / s_out = acc * M + b / s_out; requant: (acc * mult + bias) / 2^shift with mult / 2^shift ~ M and the
    // bias carried in the same 2^-shift units, so its fraction of an output code survives (an accumulator
    // unit is 2.5-16 output codes on XNOR / CIM layers: rounding the bias to whole units moved thresholds).
    const double M = ad / s_out, bo = b / s_out;
    int32_t mult = 0, shift = 0;
    int64_t bias = 0;
    if (std::isfinite(M) && M > 0) {
      int e = static_cast<int>(std::floor(std::log2(M)));
      shift = std::clamp(22 - e, 0, 62);
      const double m = std::round(M * std::ldexp(1.0, shift));
      mult = static_cast<int32_t>(std::min(m, 2147483647.0));
    }
    if (std::isfinite(bo)) {  // |bias| <= 2^60 keeps acc * mult + bias + 2^(shift-1) inside int64
      const double lim = std::ldexp(1.0, 60);
      bias = static_cast<int64_t>(std::clamp(std::round(bo * std::ldexp(1.0, shift)), -lim, lim));
    }
    p.rq.mult.push_back(mult);
    p.rq.shift.push_back(shift);
    p.rq.bias.push_back(bias);
  }
  const std::string why = p.check();
  if (!why.empty()) throw ConfigError("layer '" + name + "' export: " + why);
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Bit-exact integer path

torch::Tensor int_layer_acc(const accel::LayerParams& p, const torch::Tensor& x_in) {
  const std::string why = p.check();
  if (!why.empty()) throw ConfigError(why);
  const auto& s = p.shape;
  if (x_in.dim() != 4 || x_in.size(1) != s.cin || x_in.size(2) != s.h || x_in.size(3) != s.w)
    throw ConfigError("integer layer: input shape " + std::to_string(x_in.dim() == 4 ? x_in.size(1) : -1) + "x" +
                      std::to_string(x_in.dim() == 4 ? x_in.size(2) : -1) + "x" +
                      std::to_string(x_in.dim() == 4 ? x_in.size(3) : -1) + " does not match the layer's " +
                      std::to_string(s.cin) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w));
  torch::NoGradGuard ng;
  // Every partial sum of a convolution is an integer bounded by K * max|term|: below 2^24 float32 (oneDNN,
  // fast) is exact in any summation order; otherwise float64 (exact below 2^53).
  const bool f32 = s.reduction() * accel::max_abs_term(p.op) < (int64_t{1} << 24);
  const auto dt = f32 ? torch::kFloat32 : torch::kFloat64;
  const Tensor x = x_in.to(dt);
  std::vector<double> wv(p.weights.begin(), p.weights.end());
  const Tensor w = torch::tensor(wv, torch::kFloat64).to(dt).view({s.cout, s.cin / s.groups, s.kh, s.kw});
  const Prepped in = prep_input(p.op, x, s.pad, false);
  if (p.mode == Mode::Digital) return op_sum(p.op, in, w, s, false).to(torch::kFloat64);
  const auto& c = p.cim;
  const Tensor ps = chunk_sums(p.op, in, w, s, c.rows, false).to(torch::kFloat64);  // [N, J, cout, oh, ow]
  const double half = static_cast<double>(int32_t{1} << (c.adc_bits - 1));
  Tensor v = (ps * half) / static_cast<double>(c.adc_range);
  if (c.gain_sigma != 0.0) {
    std::vector<double> g(static_cast<size_t>(s.cout));
    for (int oc = 0; oc < s.cout; ++oc) g[static_cast<size_t>(oc)] = accel::cim_gain(c, oc);
    v = v * torch::tensor(g, torch::kFloat64).view({1, 1, s.cout, 1, 1});
  }
  if (c.noise_lsb != 0.0) {
    const int64_t J = ps.size(1), oh = s.out_h(), ow = s.out_w();
    const int64_t per_image = static_cast<int64_t>(s.cout) * oh * ow;
    std::vector<double> nz(static_cast<size_t>(J * per_image));
    const CounterRng rng(c.seed, 1);
    for (int64_t j = 0; j < J; ++j)
      for (int64_t o = 0; o < per_image; ++o)
        nz[static_cast<size_t>(j * per_image + o)] = c.noise_lsb * rng.gauss(static_cast<uint64_t>(o * J + j));
    v = v + torch::tensor(nz, torch::kFloat64).view({1, J, s.cout, oh, ow});
  }
  const Tensor code = torch::clamp(torch::floor(v + 0.5), -half, half - 1);
  return code.sum(1);
}

torch::Tensor int_layer_forward(const accel::LayerParams& p, const torch::Tensor& x) {
  const Tensor acc = int_layer_acc(p, x).to(torch::kInt64);
  const int64_t C = p.shape.cout;
  auto vec = [&](const auto& v) {
    std::vector<int64_t> t(v.begin(), v.end());
    return torch::tensor(t, torch::kInt64).view({1, C, 1, 1});
  };
  // acc * mult + bias + 2^(shift-1) in int64 tensors (accel::requantize uses 128 bits): exact when
  // |acc| * mult + |bias| + 2^(shift-1) < 2^63, checked per channel with |acc| <= K * max|term|.
  const __int128 amax = static_cast<__int128>(p.shape.reduction()) * accel::max_abs_term(p.op);
  std::vector<int64_t> rnd(static_cast<size_t>(C)), div(static_cast<size_t>(C));
  for (int64_t i = 0; i < C; ++i) {
    const size_t c = static_cast<size_t>(i);
    const int32_t sh = p.rq.shift[c];
    rnd[c] = sh > 0 ? (int64_t{1} << (sh - 1)) : 0;
    div[c] = int64_t{1} << sh;
    const int64_t b = p.rq.bias[c];
    const __int128 bound = amax * p.rq.mult[c] + (b < 0 ? -static_cast<__int128>(b) : b) + rnd[c];
    if (bound > INT64_MAX)
      throw ConfigError("integer layer: requant of channel " + std::to_string(i) +
                        " (mult, shift, bias = " + std::to_string(p.rq.mult[c]) + ", " + std::to_string(sh) + ", " +
                        std::to_string(b) + ") can exceed 64 bits");
  }
  Tensor t = acc * vec(p.rq.mult) + vec(p.rq.bias) + torch::tensor(rnd, torch::kInt64).view({1, C, 1, 1});
  t = torch::div(t, torch::tensor(div, torch::kInt64).view({1, C, 1, 1}), "floor");
  return torch::clamp(t, p.rq.relu ? 0 : -128, 127).to(torch::kFloat64);
}

namespace {
Tensor rescale_int(const Tensor& x, int32_t mult, int32_t shift) {
  if (mult == 1 && shift == 0) return x;
  Tensor t = x.to(torch::kInt64) * static_cast<int64_t>(mult);
  if (shift > 0) t = torch::div(t + (int64_t{1} << (shift - 1)), int64_t{1} << shift, "floor");
  return t.to(torch::kFloat64);
}
Tensor avg_round(const Tensor& sum, int64_t n) {
  return torch::clamp(torch::div(sum.to(torch::kInt64) * 2 + n, 2 * n, "floor"), -128, 127).to(torch::kFloat64);
}
}  // namespace

torch::Tensor int_network_forward(const NetworkExport& e, const torch::Tensor& x) {
  torch::NoGradGuard ng;
  std::map<std::string, Tensor> t{{e.input.name, x.to(torch::kFloat64)}};
  for (const Node& n : e.nodes) {
    std::vector<Tensor> in;
    for (const auto& name : n.inputs) {
      auto it = t.find(name);
      if (it == t.end()) throw ConfigError("node '" + n.name + "': unknown input tensor '" + name + "'");
      in.push_back(it->second);
    }
    if (in.empty()) throw ConfigError("node '" + n.name + "' has no inputs");
    const Tensor& a = in[0];
    Tensor out;
    switch (n.kind) {
      case NodeKind::Accel: out = int_layer_forward(n.layer, a); break;
      case NodeKind::MaxPool: {
        const Tensor ap = n.pad > 0 ? torch::constant_pad_nd(a, {n.pad, n.pad, n.pad, n.pad}, -128) : a;
        out = torch::max_pool2d(ap, n.kernel, n.stride);
        break;
      }
      case NodeKind::AvgPool:
        out = avg_round(torch::avg_pool2d(a, n.kernel, n.stride, 0, false, true, 1), int64_t{n.kernel} * n.kernel);
        break;
      case NodeKind::GlobalAvgPool: out = avg_round(a.sum({2, 3}, true), a.size(2) * a.size(3)); break;
      case NodeKind::ChannelShuffle: out = shuffle_channels(a, n.groups); break;
      case NodeKind::Split: out = a.narrow(1, n.begin, n.end - n.begin); break;
      case NodeKind::Flatten: out = a.reshape({a.size(0), -1, 1, 1}); break;
      case NodeKind::Concat: {
        std::vector<Tensor> parts;
        for (size_t i = 0; i < in.size(); ++i)
          parts.push_back(torch::clamp(rescale_int(in[i], n.in_mult.at(i), n.in_shift.at(i)), -128, 127));
        out = torch::cat(parts, 1);
        break;
      }
      case NodeKind::Add: {
        Tensor s = rescale_int(in[0], n.in_mult.at(0), n.in_shift.at(0));
        for (size_t i = 1; i < in.size(); ++i) s = s + rescale_int(in[i], n.in_mult.at(i), n.in_shift.at(i));
        out = torch::clamp(s, n.relu ? 0 : -128, 127);
        break;
      }
    }
    t[n.output] = out;
  }
  auto it = t.find(e.output);
  if (it == t.end()) throw ConfigError("export: output tensor '" + e.output + "' is never produced");
  return it->second.reshape({x.size(0), -1});
}

torch::Tensor quantize_images(const uint8_t* pixels, int64_t n, int c, int h, int w, double scale,
                              const std::vector<double>& mean, const std::vector<double>& stdv) {
  std::vector<float> lut(static_cast<size_t>(c) * 256);
  for (int ch = 0; ch < c; ++ch)
    for (int p = 0; p < 256; ++p)
      lut[static_cast<size_t>(ch) * 256 + static_cast<size_t>(p)] = static_cast<float>(enos::quantize_pixel(
          static_cast<uint8_t>(p), scale, mean.empty() ? 0.0 : mean.at(static_cast<size_t>(ch)),
          stdv.empty() ? 1.0 : stdv.at(static_cast<size_t>(ch))));
  Tensor out = torch::empty({n, c, h, w}, torch::kFloat32);
  float* o = out.data_ptr<float>();
  const int64_t plane = static_cast<int64_t>(h) * w;
  for (int64_t i = 0; i < n; ++i)
    for (int ch = 0; ch < c; ++ch) {
      const float* l = lut.data() + static_cast<size_t>(ch) * 256;
      const int64_t base = (i * c + ch) * plane;
      for (int64_t j = 0; j < plane; ++j) o[base + j] = l[pixels[base + j]];
    }
  return out;
}

}  // namespace cimsim::enos::search
