// The accelerator's plain-C++ datapath. See include/cimsim/accel/datapath.hpp and docs/accelerator-numerics.md.
//
// Speed: every operator is rewritten as an input transform followed by one of three term kernels, so the inner
// loops are branch-free and auto-vectorize:
//   MAC8, BWN, DEEPSHIFT: term = x * w           (BWN: w = +-1; DEEPSHIFT: w = +-2^e, x * 2^e = x << e)
//   MAC4:                 term = x4 * w, x4 = clamp((x + 8) >> 4, -8, 7)   (applied to the input once)
//   XNOR:                 term = xb * w, xb = x > 0 ? 1 : -1                 (applied to the input once)
//   MF:                   term = sign(x) * |w| + sign(w) * |x|
//   ADDER:                term = -|x - w|
// Padding zeros are transformed like any input (MAC4 -> 0, XNOR -> -1), which is what "padding inserts literal
// zeros before the operator" means. The input patches of a tile of output pixels are gathered (im2col) into a
// contiguous buffer, so each (weight row, patch) dot product walks two contiguous int8 arrays.
#include "cimsim/accel/datapath.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::accel {

namespace {

// The layer loops are compiled twice on x86-64 (AVX2 and baseline) and picked at load time by the CPU
// (GCC function multiversioning). Integer results are identical; the CIM double arithmetic is identical
// too (no contraction, no reassociation, same libm calls).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(CIMSIM_NO_CLONES)
#define CIMSIM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CIMSIM_CLONES
#endif

enum class Kern { Mul, Mf, Adder };

inline int8_t prep_input(Op op, int8_t x) {
  switch (op) {
    case Op::MAC4: {
      const int v = (static_cast<int>(x) + 8) >> 4;  // arithmetic shift: floor((x + 8) / 16)
      return static_cast<int8_t>(std::clamp(v, -8, 7));
    }
    case Op::XNOR: return static_cast<int8_t>(x > 0 ? 1 : -1);
    default: return x;
  }
}

Kern kernel_of(Op op) {
  switch (op) {
    case Op::MF: return Kern::Mf;
    case Op::ADDER: return Kern::Adder;
    default: return Kern::Mul;
  }
}

template <Kern K>
inline int32_t term(int32_t x, int32_t w) {
  if constexpr (K == Kern::Mul) {
    return x * w;
  } else if constexpr (K == Kern::Mf) {
    const int32_t sx = (x > 0) - (x < 0);
    const int32_t sw = (w > 0) - (w < 0);
    const int32_t ax = x < 0 ? -x : x;
    const int32_t aw = w < 0 ? -w : w;
    return sx * aw + sw * ax;
  } else {
    const int32_t d = x - w;
    return d < 0 ? d : -d;  // -|x - w|
  }
}

/// Term against a weight row in the kernel's storage. MF rows are stored split: w[i] = |w_i| and
/// w[i + sd] = sign(w_i) (sd = cout * K), so the inner loop only derives sign/abs of the input.
template <Kern K>
inline int32_t row_term(int32_t x, const int8_t* __restrict w, int64_t i, int64_t sd) {
  if constexpr (K == Kern::Mf) {
    const int32_t sx = (x > 0) - (x < 0);
    const int32_t ax = x < 0 ? -x : x;
    return sx * w[i] + ax * w[i + sd];
  } else {
    (void)sd;
    return term<K>(x, w[i]);
  }
}

template <Kern K>
inline int32_t dot(const int8_t* __restrict x, const int8_t* __restrict w, int64_t n, int64_t sd) {
  int32_t acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += row_term<K>(x[i], w, i, sd);
  return acc;
}

/// Four weight rows against one patch at once (the patch is loaded once for four rows).
template <Kern K>
inline void dot4(const int8_t* __restrict x, const int8_t* __restrict w0, const int8_t* __restrict w1,
                 const int8_t* __restrict w2, const int8_t* __restrict w3, int64_t n, int64_t sd, int32_t* acc) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t xv = x[i];
    a0 += row_term<K>(xv, w0, i, sd);
    a1 += row_term<K>(xv, w1, i, sd);
    a2 += row_term<K>(xv, w2, i, sd);
    a3 += row_term<K>(xv, w3, i, sd);
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/// The CIM conversion with the gain and the noise generator supplied (shared by cim_code and run_layer).
inline int32_t cim_convert(const CimParams& c, int64_t partial, double gain, const CounterRng& noise,
                           uint64_t noise_index) {
  const int32_t half = int32_t{1} << (c.adc_bits - 1);
  double v = static_cast<double>(partial) * static_cast<double>(half) / static_cast<double>(c.adc_range);
  if (c.gain_sigma != 0.0) v = v * gain;
  if (c.noise_lsb != 0.0) v = v + c.noise_lsb * noise.gauss(noise_index);
  const double f = std::floor(v + 0.5);
  if (!(f >= -static_cast<double>(half))) return -half;  // also catches NaN (cannot occur with valid params)
  if (f > static_cast<double>(half - 1)) return half - 1;
  return static_cast<int32_t>(f);
}

void require_valid(const LayerParams& p) {
  const std::string why = p.check();
  if (!why.empty()) throw ConfigError(why);
  if (is_vector_kind(p.shape.kind))
    throw ConfigError(std::string("run_layer: ") + kind_name(p.shape.kind) + " is a vector op (run_vector)");
}

/// Computes all accumulators of the layer into `acc` (NCHW) by gathering input patches (im2col by tiles of
/// output pixels). `x` is the transformed input (prep_input applied). Parameters must be valid (checked).
template <Kern K>
CIMSIM_CLONES void accumulate(const LayerParams& p, const int8_t* x, int32_t* acc) {
  const LayerShape& s = p.shape;
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t P = static_cast<int64_t>(oh) * ow;
  const int cig = s.cin / s.groups, cog = s.cout / s.groups;
  const int64_t Kr = s.reduction();
  const int8_t pad_value = prep_input(p.op, 0);
  // Weights in the kernel's storage (MF: |w| rows, then sign(w) rows, sd apart).
  const int64_t sd = s.weight_elems();
  std::vector<int8_t> split;
  const int8_t* wts = p.weights.data();
  if constexpr (K == Kern::Mf) {
    split.resize(static_cast<size_t>(2 * sd));
    for (int64_t i = 0; i < sd; ++i) {
      const int v = p.weights[static_cast<size_t>(i)];
      split[static_cast<size_t>(i)] = static_cast<int8_t>(v < 0 ? -v : v);
      split[static_cast<size_t>(i + sd)] = static_cast<int8_t>((v > 0) - (v < 0));
    }
    wts = split.data();
  }
  const bool cim = p.mode == Mode::Cim;
  const int64_t rows = cim ? p.cim.rows : Kr;
  const int64_t nch = cim ? cim_num_chunks(p.cim, Kr) : 1;
  std::vector<double> gain;
  if (cim) {
    gain.resize(static_cast<size_t>(s.cout), 1.0);
    if (p.cim.gain_sigma != 0.0)
      for (int oc = 0; oc < s.cout; ++oc) gain[static_cast<size_t>(oc)] = cim_gain(p.cim, oc);
  }
  const CounterRng noise(p.cim.seed, 1);

  // Patch tile: up to ~256 KiB of gathered inputs.
  const int64_t tile = std::max<int64_t>(1, std::min<int64_t>(P, (int64_t{256} << 10) / std::max<int64_t>(Kr, 1)));
  std::vector<int8_t> patches(static_cast<size_t>(tile * Kr));

  for (int n = 0; n < s.n; ++n) {
    for (int g = 0; g < s.groups; ++g) {
      const int8_t* xg = x + (static_cast<int64_t>(n) * s.cin + static_cast<int64_t>(g) * cig) * s.h * s.w;
      for (int64_t p0 = 0; p0 < P; p0 += tile) {
        const int64_t np = std::min(tile, P - p0);
        // Gather patches: patch[pp][r], r = (ci * kh + ky) * kw + kx.
        for (int64_t pp = 0; pp < np; ++pp) {
          const int oy = static_cast<int>((p0 + pp) / ow), ox = static_cast<int>((p0 + pp) % ow);
          int8_t* dst = patches.data() + pp * Kr;
          const int iy0 = oy * s.stride - s.pad, ix0 = ox * s.stride - s.pad;
          for (int ci = 0; ci < cig; ++ci) {
            const int8_t* xc = xg + static_cast<int64_t>(ci) * s.h * s.w;
            for (int ky = 0; ky < s.kh; ++ky) {
              const int iy = iy0 + ky;
              if (iy < 0 || iy >= s.h) {
                std::memset(dst, pad_value, static_cast<size_t>(s.kw));
                dst += s.kw;
                continue;
              }
              const int8_t* row = xc + static_cast<int64_t>(iy) * s.w;
              if (ix0 >= 0 && ix0 + s.kw <= s.w) {
                std::memcpy(dst, row + ix0, static_cast<size_t>(s.kw));
                dst += s.kw;
              } else {
                for (int kx = 0; kx < s.kw; ++kx) {
                  const int ix = ix0 + kx;
                  *dst++ = (ix < 0 || ix >= s.w) ? pad_value : row[ix];
                }
              }
            }
          }
        }
        // Dot products: weight rows contiguous, patches contiguous.
        int oc_l = 0;
        if (!cim) {
          for (; oc_l + 4 <= cog; oc_l += 4) {
            const int oc = g * cog + oc_l;
            const int8_t* w0 = wts + static_cast<int64_t>(oc) * Kr;
            int32_t* o0 = acc + (static_cast<int64_t>(n) * s.cout + oc) * P + p0;
            for (int64_t pp = 0; pp < np; ++pp) {
              int32_t a[4];
              dot4<K>(patches.data() + pp * Kr, w0, w0 + Kr, w0 + 2 * Kr, w0 + 3 * Kr, Kr, sd, a);
              o0[pp] = a[0];
              o0[P + pp] = a[1];
              o0[2 * P + pp] = a[2];
              o0[3 * P + pp] = a[3];
            }
          }
        }
        for (; oc_l < cog; ++oc_l) {
          const int oc = g * cog + oc_l;
          const int8_t* wr = wts + static_cast<int64_t>(oc) * Kr;
          const int64_t obase = (static_cast<int64_t>(n) * s.cout + oc) * P + p0;
          if (!cim) {
            for (int64_t pp = 0; pp < np; ++pp) acc[obase + pp] = dot<K>(patches.data() + pp * Kr, wr, Kr, sd);
          } else {
            const double gn = gain[static_cast<size_t>(oc)];
            for (int64_t pp = 0; pp < np; ++pp) {
              const int8_t* xp = patches.data() + pp * Kr;
              const uint64_t out_index = static_cast<uint64_t>(obase + pp);
              int32_t a = 0;
              for (int64_t j = 0; j < nch; ++j) {
                const int64_t r0 = j * rows, r1 = std::min(Kr, r0 + rows);
                const int32_t part = dot<K>(xp + r0, wr + r0, r1 - r0, sd);
                a += cim_convert(p.cim, part, gn, noise, out_index * static_cast<uint64_t>(nch) +
                                                             static_cast<uint64_t>(j));
              }
              acc[obase + pp] = a;
            }
          }
        }
      }
    }
  }
}

/// Digital layers with a short reduction (depthwise, small 1x1, few channels): direct convolution that
/// accumulates whole output rows per weight, so the inner loop runs over output columns instead of over a
/// reduction of a few elements. `x` is the transformed input.
template <Kern K>
CIMSIM_CLONES void accumulate_direct(const LayerParams& p, const int8_t* x, int32_t* acc) {
  const LayerShape& s = p.shape;
  const int oh = s.out_h(), ow = s.out_w(), st = s.stride;
  const int64_t P = static_cast<int64_t>(oh) * ow;
  const int cig = s.cin / s.groups, cog = s.cout / s.groups;
  const int64_t Kr = s.reduction();
  const int32_t pad_value = prep_input(p.op, 0);
  for (int n = 0; n < s.n; ++n)
    for (int oc = 0; oc < s.cout; ++oc) {
      const int g = oc / cog;
      int32_t* o = acc + (static_cast<int64_t>(n) * s.cout + oc) * P;
      std::fill(o, o + P, 0);
      const int8_t* wr = p.weights.data() + static_cast<int64_t>(oc) * Kr;
      for (int ci = 0; ci < cig; ++ci) {
        const int8_t* xc = x + ((static_cast<int64_t>(n) * s.cin + static_cast<int64_t>(g) * cig + ci) * s.h) * s.w;
        for (int ky = 0; ky < s.kh; ++ky)
          for (int kx = 0; kx < s.kw; ++kx) {
            const int32_t w = wr[(ci * s.kh + ky) * s.kw + kx];
            const int32_t padc = term<K>(pad_value, w);
            // Output columns whose input column ix = ox*st - pad + kx lies inside the row: [lo, hi).
            const int a = s.pad - kx;
            const int lo = std::min(ow, a <= 0 ? 0 : (a + st - 1) / st);
            const int t = s.w - 1 + s.pad - kx;
            const int hi = std::max(lo, t < 0 ? 0 : std::min(ow, t / st + 1));
            for (int oy = 0; oy < oh; ++oy) {
              int32_t* __restrict orow = o + static_cast<int64_t>(oy) * ow;
              const int iy = oy * st - s.pad + ky;
              if (iy < 0 || iy >= s.h) {
                if (padc != 0)
                  for (int ox = 0; ox < ow; ++ox) orow[ox] += padc;
                continue;
              }
              if (padc != 0) {
                for (int ox = 0; ox < lo; ++ox) orow[ox] += padc;
                for (int ox = hi; ox < ow; ++ox) orow[ox] += padc;
              }
              const int8_t* __restrict row = xc + static_cast<int64_t>(iy) * s.w;
              const int off = kx - s.pad;  // ix = ox * st + off, in [0, w) for ox in [lo, hi)
              if (st == 1) {
                for (int ox = lo; ox < hi; ++ox) orow[ox] += term<K>(row[ox + off], w);
              } else {
                for (int ox = lo; ox < hi; ++ox) orow[ox] += term<K>(row[ox * st + off], w);
              }
            }
          }
      }
    }
}

template <Kern K>
void accumulate_kern(const LayerParams& p, const int8_t* x, int32_t* acc) {
  const LayerShape& s = p.shape;
  if (p.mode == Mode::Digital && s.reduction() <= 32 && s.out_w() >= 8)
    accumulate_direct<K>(p, x, acc);
  else
    accumulate<K>(p, x, acc);
}

void accumulate_any(const LayerParams& p, const int8_t* in, int32_t* acc) {
  // Transformed input (once per call): MAC4's 4-bit quantizer, XNOR's sign; identity for the others.
  std::vector<int8_t> prepped;
  const int8_t* x = in;
  if (p.op == Op::MAC4 || p.op == Op::XNOR) {
    const int64_t ne = p.shape.input_elems();
    prepped.resize(static_cast<size_t>(ne));
    for (int64_t i = 0; i < ne; ++i) prepped[static_cast<size_t>(i)] = prep_input(p.op, in[i]);
    x = prepped.data();
  }
  switch (kernel_of(p.op)) {
    case Kern::Mul: accumulate_kern<Kern::Mul>(p, x, acc); break;
    case Kern::Mf: accumulate_kern<Kern::Mf>(p, x, acc); break;
    case Kern::Adder: accumulate_kern<Kern::Adder>(p, x, acc); break;
  }
}

// ---- packing ----

uint32_t encode_weight(Op op, int w) {
  switch (op) {
    case Op::MAC4: return static_cast<uint32_t>(w) & 0xFu;
    case Op::BWN:
    case Op::XNOR: return w > 0 ? 1u : 0u;
    case Op::DEEPSHIFT: {
      if (w == 0) return 0x7u;  // sign 0, e = 7
      const int a = w < 0 ? -w : w;
      uint32_t e = 0;
      while ((1 << e) < a) ++e;
      return (w < 0 ? 0x8u : 0u) | e;
    }
    default: return static_cast<uint32_t>(static_cast<uint8_t>(static_cast<int8_t>(w)));
  }
}

/// Decodes one code; returns false for a code that is no valid weight.
bool decode_weight(Op op, uint32_t code, int8_t& w) {
  switch (op) {
    case Op::MAC4: {
      const int v = (code & 0x8u) ? static_cast<int>(code) - 16 : static_cast<int>(code);
      w = static_cast<int8_t>(v);
      return v != -8;
    }
    case Op::BWN:
    case Op::XNOR: w = code ? 1 : -1; return true;
    case Op::DEEPSHIFT: {
      const uint32_t e = code & 0x7u;
      const bool neg = (code & 0x8u) != 0;
      if (e == 7) {
        w = 0;
        return !neg;
      }
      w = static_cast<int8_t>(neg ? -(1 << e) : (1 << e));
      return true;
    }
    default: w = static_cast<int8_t>(static_cast<uint8_t>(code)); return w != -128;
  }
}

}  // namespace

int32_t op_term(Op op, int8_t x, int8_t w) {
  switch (op) {
    case Op::MAC8: return static_cast<int32_t>(x) * w;
    case Op::MAC4: return static_cast<int32_t>(prep_input(op, x)) * w;
    case Op::BWN: return w > 0 ? x : -static_cast<int32_t>(x);
    case Op::XNOR: return static_cast<int32_t>(prep_input(op, x)) * w;
    case Op::MF: return term<Kern::Mf>(x, w);
    case Op::DEEPSHIFT: return static_cast<int32_t>(x) * w;  // sign(w) * x * 2^e
    case Op::ADDER: return term<Kern::Adder>(x, w);
  }
  return 0;
}

int64_t cim_num_chunks(const CimParams& c, int64_t K) {
  if (c.rows < 1) throw ConfigError("cim.rows = " + std::to_string(c.rows) + " must be >= 1");
  return (K + c.rows - 1) / c.rows;
}

double cim_gain(const CimParams& c, int oc) {
  if (c.gain_sigma == 0.0) return 1.0;
  return 1.0 + c.gain_sigma * CounterRng(c.seed, 2).gauss(static_cast<uint64_t>(oc));
}

int32_t cim_code(const CimParams& c, int64_t partial, int oc, uint64_t out_index, int64_t chunk,
                 int64_t num_chunks) {
  if (c.adc_bits < 1 || c.adc_bits > 16)
    throw ConfigError("cim.adc_bits = " + std::to_string(c.adc_bits) + " must be in [1, 16]");
  if (c.adc_range <= 0) throw ConfigError("cim.adc_range = " + std::to_string(c.adc_range) + " must be > 0");
  const CounterRng noise(c.seed, 1);
  return cim_convert(c, partial, cim_gain(c, oc), noise,
                     out_index * static_cast<uint64_t>(num_chunks) + static_cast<uint64_t>(chunk));
}

int8_t requantize(int32_t acc, int32_t mult, int32_t shift, int64_t bias, bool relu) {
  __int128 t = static_cast<__int128>(acc) * mult + bias;
  if (shift > 0) t += static_cast<__int128>(1) << (shift - 1);
  t >>= shift;  // arithmetic shift: floor division by 2^shift
  const __int128 lo = relu ? 0 : -128;
  if (t < lo) return static_cast<int8_t>(lo);
  if (t > 127) return 127;
  return static_cast<int8_t>(t);
}

std::vector<int32_t> layer_accumulators(const LayerParams& p, const int8_t* in) {
  require_valid(p);
  std::vector<int32_t> acc(static_cast<size_t>(p.shape.outputs()));
  accumulate_any(p, in, acc.data());
  return acc;
}

void run_layer(const LayerParams& p, const int8_t* in, int8_t* out) {
  require_valid(p);
  const LayerShape& s = p.shape;
  std::vector<int32_t> acc(static_cast<size_t>(s.outputs()));
  accumulate_any(p, in, acc.data());
  const int64_t P = static_cast<int64_t>(s.out_h()) * s.out_w();
  for (int n = 0; n < s.n; ++n)
    for (int oc = 0; oc < s.cout; ++oc) {
      const int64_t base = (static_cast<int64_t>(n) * s.cout + oc) * P;
      const int32_t m = p.rq.mult[static_cast<size_t>(oc)], sh = p.rq.shift[static_cast<size_t>(oc)];
      const int64_t b = p.rq.bias[static_cast<size_t>(oc)];
      for (int64_t i = 0; i < P; ++i) out[base + i] = requantize(acc[static_cast<size_t>(base + i)], m, sh, b, p.rq.relu);
    }
}

int64_t rescale(int64_t x, int32_t mult, int32_t shift) {
  __int128 t = static_cast<__int128>(x) * mult;
  if (shift > 0) t += static_cast<__int128>(1) << (shift - 1);
  return static_cast<int64_t>(t >> shift);  // |x| < 2^8, mult < 2^31: fits
}

void run_vector(const LayerParams& p, const int8_t* in, const int8_t* in2, int8_t* out) {
  if (!is_vector_kind(p.shape.kind))
    throw ConfigError(std::string("run_vector: kind ") + kind_name(p.shape.kind) + " is not a vector op");
  if (const std::string why = p.check(); !why.empty()) throw ConfigError(why);
  const LayerShape& s = p.shape;
  const int64_t C = s.cin, H = s.h, W = s.w, OH = s.out_h(), OW = s.out_w();
  auto clamp8 = [](int64_t v, int64_t lo) { return static_cast<int8_t>(v < lo ? lo : v > 127 ? 127 : v); };
  switch (s.kind) {
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
    case LayerKind::GlobalAvgPool: {
      const int64_t win = static_cast<int64_t>(s.kh) * s.kw;
      for (int64_t nc = 0; nc < s.n * C; ++nc)
        for (int64_t oy = 0; oy < OH; ++oy)
          for (int64_t ox = 0; ox < OW; ++ox) {
            int64_t mx = -128, sum = 0;
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t iy = oy * s.stride + ky - s.pad, ix = ox * s.stride + kx - s.pad;
                const int64_t v = (iy < 0 || iy >= H || ix < 0 || ix >= W) ? -128 : in[(nc * H + iy) * W + ix];
                mx = v > mx ? v : mx;
                sum += v;
              }
            int64_t r = mx;
            if (s.kind != LayerKind::MaxPool) {  // floor((2*sum + n) / (2n)), floor toward -infinity
              const int64_t num = 2 * sum + win, den = 2 * win;
              r = num >= 0 ? num / den : -((-num + den - 1) / den);
            }
            out[(nc * OH + oy) * OW + ox] = static_cast<int8_t>(r);
          }
      return;
    }
    case LayerKind::ChannelShuffle: {
      const int64_t g = s.groups, G = C / g, hw = H * W;
      for (int64_t n = 0; n < s.n; ++n)
        for (int64_t i = 0; i < g; ++i)
          for (int64_t j = 0; j < G; ++j)
            std::memcpy(out + (n * C + j * g + i) * hw, in + (n * C + i * G + j) * hw, static_cast<size_t>(hw));
      return;
    }
    case LayerKind::Copy: {
      const int32_t m = p.rq.mult[0], sh = p.rq.shift[0];
      for (int64_t i = 0; i < s.input_elems(); ++i) out[i] = clamp8(rescale(in[i], m, sh), -128);
      return;
    }
    case LayerKind::Add: {
      if (!in2) throw ConfigError("run_vector: add needs a second input");
      for (int64_t i = 0; i < s.input_elems(); ++i)
        out[i] = clamp8(rescale(in[i], p.rq.mult[0], p.rq.shift[0]) + rescale(in2[i], p.rq.mult[1], p.rq.shift[1]),
                        p.rq.relu ? 0 : -128);
      return;
    }
    default:
      return;
  }
}

size_t packed_row_bytes(Op op, int64_t K) {
  if (K < 0) throw ConfigError("packed_row_bytes: K = " + std::to_string(K) + " must be >= 0");
  return static_cast<size_t>((K * weight_bits(op) + 7) / 8);
}

std::vector<uint8_t> pack_weights(Op op, const std::vector<int8_t>& w, int cout, int64_t K) {
  if (cout < 0 || K < 0)
    throw ConfigError("pack_weights: cout = " + std::to_string(cout) + ", K = " + std::to_string(K) + " must be >= 0");
  if (static_cast<int64_t>(w.size()) != static_cast<int64_t>(cout) * K)
    throw ConfigError("pack_weights: " + std::to_string(w.size()) + " weights given, cout*K = " +
                      std::to_string(static_cast<int64_t>(cout) * K));
  const int bits = weight_bits(op);
  const size_t rb = packed_row_bytes(op, K);
  std::vector<uint8_t> outv(rb * static_cast<size_t>(cout), 0);
  for (int o = 0; o < cout; ++o) {
    uint8_t* row = outv.data() + rb * static_cast<size_t>(o);
    for (int64_t r = 0; r < K; ++r) {
      const int v = w[static_cast<size_t>(static_cast<int64_t>(o) * K + r)];
      if (!weight_valid(op, v))
        throw ConfigError(std::string("pack_weights: weight[") + std::to_string(static_cast<int64_t>(o) * K + r) +
                          "] = " + std::to_string(v) + " is not a valid " + op_name(op) + " weight");
      const uint32_t code = encode_weight(op, v);
      const int64_t bit = r * bits;
      if (bits == 8) {
        row[bit / 8] = static_cast<uint8_t>(code);
      } else {
        row[bit / 8] = static_cast<uint8_t>(row[bit / 8] | (code << (bit % 8)));
      }
    }
  }
  return outv;
}

std::vector<int8_t> unpack_weights(Op op, const uint8_t* data, size_t bytes, int cout, int64_t K) {
  if (cout < 0 || K < 0)
    throw ConfigError("unpack_weights: cout = " + std::to_string(cout) + ", K = " + std::to_string(K) +
                      " must be >= 0");
  const int bits = weight_bits(op);
  const size_t rb = packed_row_bytes(op, K);
  const size_t need = rb * static_cast<size_t>(cout);
  if (bytes < need)
    throw ConfigError("unpack_weights: " + std::to_string(bytes) + " bytes given, " + std::to_string(cout) + " " +
                      op_name(op) + " rows of K = " + std::to_string(K) + " need " + std::to_string(need));
  const uint32_t mask = (1u << bits) - 1u;
  std::vector<int8_t> w(static_cast<size_t>(static_cast<int64_t>(cout) * K));
  for (int o = 0; o < cout; ++o) {
    const uint8_t* row = data + rb * static_cast<size_t>(o);
    for (int64_t r = 0; r < K; ++r) {
      const int64_t bit = r * bits;
      const uint32_t code = (static_cast<uint32_t>(row[bit / 8]) >> (bit % 8)) & mask;
      int8_t v = 0;
      if (!decode_weight(op, code, v))
        throw ConfigError(std::string("unpack_weights: row ") + std::to_string(o) + " element " + std::to_string(r) +
                          " has code " + std::to_string(code) + ", which is no valid " + op_name(op) + " weight");
      w[static_cast<size_t>(static_cast<int64_t>(o) * K + r)] = v;
    }
  }
  return w;
}

}  // namespace cimsim::accel
