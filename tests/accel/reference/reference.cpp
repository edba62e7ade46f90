// Independent reference (see reference.hpp). Deliberately slow and literal.
#include "reference/reference.hpp"

#include <cmath>
#include <cstdlib>

#include "cimsim/core/rng.hpp"

namespace cimsim::accel::ref {

namespace {
int sgn(int v) { return v > 0 ? 1 : (v < 0 ? -1 : 0); }
int bits_of(Op op) {
  if (op == Op::BWN || op == Op::XNOR) return 1;
  if (op == Op::MAC4 || op == Op::DEEPSHIFT) return 4;
  return 8;
}
}  // namespace

int64_t term(Op op, int x, int w) {
  switch (op) {
    case Op::MAC8: return static_cast<int64_t>(x) * w;
    case Op::MAC4: {
      // x4 = clamp((x + 8) >> 4, -8, 7) with >> a floor division by 16.
      int q = static_cast<int>(std::floor((x + 8) / 16.0));
      if (q < -8) q = -8;
      if (q > 7) q = 7;
      return static_cast<int64_t>(q) * w;
    }
    case Op::BWN: return w > 0 ? x : -x;
    case Op::XNOR: {
      const int xb = x > 0 ? 1 : -1;
      // 2 * popcount(xnor) - 1 for a single element: +1 when the signs agree.
      return (xb == w) ? 1 : -1;
    }
    case Op::MF: return static_cast<int64_t>(sgn(x)) * std::abs(w) + static_cast<int64_t>(sgn(w)) * std::abs(x);
    case Op::DEEPSHIFT: {
      if (w == 0) return 0;
      int e = 0;
      while ((1 << e) != std::abs(w)) ++e;
      return sgn(w) * (static_cast<int64_t>(x) * (int64_t{1} << e));
    }
    case Op::ADDER: return -std::llabs(static_cast<int64_t>(x) - w);
  }
  return 0;
}

double normal(uint64_t seed, uint64_t stream, uint64_t index) {
  const CounterRng r(seed, stream);
  const double u1 = 1.0 - r.uniform(2 * index);
  const double u2 = r.uniform(2 * index + 1);
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 6.283185307179586 * u2;
  return radius * std::cos(angle);
}

std::vector<int64_t> accumulators(const LayerParams& p, const std::vector<int8_t>& in) {
  const LayerShape& s = p.shape;
  const int OH = (s.h + 2 * s.pad - s.kh) / s.stride + 1;
  const int OW = (s.w + 2 * s.pad - s.kw) / s.stride + 1;
  const int cpg = s.cin / s.groups, opg = s.cout / s.groups;
  const int64_t K = static_cast<int64_t>(cpg) * s.kh * s.kw;
  std::vector<int64_t> out(static_cast<size_t>(s.n) * s.cout * OH * OW);
  std::vector<int> xs(static_cast<size_t>(K)), ws(static_cast<size_t>(K));
  for (int n = 0; n < s.n; ++n)
    for (int oc = 0; oc < s.cout; ++oc)
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          const int g = oc / opg;
          // Gather the K (x, w) pairs in reduction order r = (ci * kh + ky) * kw + kx.
          for (int ci = 0; ci < cpg; ++ci)
            for (int ky = 0; ky < s.kh; ++ky)
              for (int kx = 0; kx < s.kw; ++kx) {
                const int64_t r = (static_cast<int64_t>(ci) * s.kh + ky) * s.kw + kx;
                const int iy = oy * s.stride + ky - s.pad, ix = ox * s.stride + kx - s.pad;
                int x = 0;
                if (iy >= 0 && iy < s.h && ix >= 0 && ix < s.w)
                  x = in[((static_cast<size_t>(n) * s.cin + g * cpg + ci) * s.h + iy) * s.w + ix];
                xs[static_cast<size_t>(r)] = x;
                ws[static_cast<size_t>(r)] = p.weights[static_cast<size_t>(oc) * K + r];
              }
          const size_t oi = ((static_cast<size_t>(n) * s.cout + oc) * OH + oy) * OW + ox;
          int64_t acc = 0;
          if (p.mode == Mode::Digital) {
            for (int64_t r = 0; r < K; ++r) acc += term(p.op, xs[r], ws[r]);
          } else {
            const CimParams& c = p.cim;
            const int64_t chunks = (K + c.rows - 1) / c.rows;
            const double full = std::ldexp(1.0, c.adc_bits - 1);
            double gain = 1.0;
            if (c.gain_sigma != 0.0) gain = 1.0 + c.gain_sigma * normal(c.seed, 2, static_cast<uint64_t>(oc));
            for (int64_t j = 0; j < chunks; ++j) {
              int64_t part = 0;
              for (int64_t r = j * c.rows; r < K && r < (j + 1) * c.rows; ++r) part += term(p.op, xs[r], ws[r]);
              double v = static_cast<double>(part) * full / static_cast<double>(c.adc_range);
              if (c.gain_sigma != 0.0) v = v * gain;
              if (c.noise_lsb != 0.0) {
                const double nz = normal(c.seed, 1, static_cast<uint64_t>(oi) * static_cast<uint64_t>(chunks) +
                                                        static_cast<uint64_t>(j));
                const double scaled = c.noise_lsb * nz;
                v = v + scaled;
              }
              double code = std::floor(v + 0.5);
              if (code < -full) code = -full;
              if (code > full - 1) code = full - 1;
              acc += static_cast<int64_t>(code);
            }
          }
          out[oi] = acc;
        }
  return out;
}

int requant(int64_t acc, int64_t mult, int shift, int64_t bias, bool relu) {
  // floor((acc * m + bias + 2^(s-1)) / 2^s) by exact integer division with a floor correction; the bias is
  // in units of 2^-s output codes (added after the multiply).
  const __int128 num = static_cast<__int128>(acc) * mult + static_cast<__int128>(bias) +
                       (shift > 0 ? (static_cast<__int128>(1) << (shift - 1)) : 0);
  const __int128 den = static_cast<__int128>(1) << shift;
  __int128 q = num / den;  // truncates toward zero
  if ((num % den != 0) && (num < 0)) q -= 1;
  const int lo = relu ? 0 : -128;
  if (q < lo) return lo;
  if (q > 127) return 127;
  return static_cast<int>(q);
}

std::vector<int8_t> layer(const LayerParams& p, const std::vector<int8_t>& in) {
  const std::vector<int64_t> acc = accumulators(p, in);
  const LayerShape& s = p.shape;
  const size_t per_channel = acc.size() / (static_cast<size_t>(s.n) * s.cout);
  std::vector<int8_t> y(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    const size_t oc = (i / per_channel) % static_cast<size_t>(s.cout);
    y[i] = static_cast<int8_t>(requant(acc[i], p.rq.mult[oc], p.rq.shift[oc], p.rq.bias[oc], p.rq.relu));
  }
  return y;
}

std::vector<uint8_t> pack(Op op, const std::vector<int8_t>& w, int cout, int64_t K) {
  const int b = bits_of(op);
  const int64_t row_bits = K * b;
  const int64_t row_bytes = (row_bits + 7) / 8;
  std::vector<uint8_t> out(static_cast<size_t>(row_bytes * cout), 0);
  for (int o = 0; o < cout; ++o)
    for (int64_t r = 0; r < K; ++r) {
      const int v = w[static_cast<size_t>(o * K + r)];
      unsigned code = 0;
      if (b == 1) {
        code = v == 1 ? 1 : 0;
      } else if (op == Op::DEEPSHIFT) {
        if (v == 0) {
          code = 7;
        } else {
          unsigned e = 0;
          while ((1 << e) != std::abs(v)) ++e;
          code = (v < 0 ? 8u : 0u) + e;
        }
      } else if (b == 4) {
        code = static_cast<unsigned>(v < 0 ? v + 16 : v);
      } else {
        code = static_cast<unsigned>(v < 0 ? v + 256 : v);
      }
      for (int k = 0; k < b; ++k) {
        const int64_t bit = r * b + k;
        if ((code >> k) & 1u) out[static_cast<size_t>(o * row_bytes + bit / 8)] |= static_cast<uint8_t>(1u << (bit % 8));
      }
    }
  return out;
}

std::vector<int8_t> unpack(Op op, const std::vector<uint8_t>& bytes, int cout, int64_t K) {
  const int b = bits_of(op);
  const int64_t row_bytes = (K * b + 7) / 8;
  std::vector<int8_t> w(static_cast<size_t>(cout * K));
  for (int o = 0; o < cout; ++o)
    for (int64_t r = 0; r < K; ++r) {
      unsigned code = 0;
      for (int k = 0; k < b; ++k) {
        const int64_t bit = r * b + k;
        if ((bytes[static_cast<size_t>(o * row_bytes + bit / 8)] >> (bit % 8)) & 1u) code |= 1u << k;
      }
      int v = 0;
      if (b == 1) v = code ? 1 : -1;
      else if (op == Op::DEEPSHIFT) v = (code & 7u) == 7u ? 0 : ((code & 8u) ? -1 : 1) * (1 << (code & 7u));
      else if (b == 4) v = code >= 8 ? static_cast<int>(code) - 16 : static_cast<int>(code);
      else v = code >= 128 ? static_cast<int>(code) - 256 : static_cast<int>(code);
      w[static_cast<size_t>(o * K + r)] = static_cast<int8_t>(v);
    }
  return w;
}

}  // namespace cimsim::accel::ref
