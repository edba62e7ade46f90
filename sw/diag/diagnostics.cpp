// MCMC diagnostics: rank-normalized split R-hat, bulk/tail ESS, MCSE, autocorrelation, grid fit against the
// analytic GMM, mass per component, CSV/JSON output and gnuplot figures. Definitions: docs/diagnostics.md.
#include "cimsim/diag/diagnostics.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include <boost/math/distributions/normal.hpp>
#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::diag {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_draws(const Draws& d, int dim, const char* who) {
  if (d.chains < 1 || d.draws < 1 || d.dims < 1)
    throw ConfigError(std::string(who) + ": draws must have >= 1 chain, draw and dim (got " +
                      std::to_string(d.chains) + " x " + std::to_string(d.draws) + " x " +
                      std::to_string(d.dims) + ")");
  if (d.data.size() != static_cast<size_t>(d.chains) * d.draws * d.dims)
    throw ConfigError(std::string(who) + ": draws data has " + std::to_string(d.data.size()) +
                      " values, expected chains*draws*dims = " +
                      std::to_string(static_cast<size_t>(d.chains) * d.draws * d.dims));
  if (dim < 0 || dim >= d.dims)
    throw ConfigError(std::string(who) + ": dim " + std::to_string(dim) + " out of range [0, " +
                      std::to_string(d.dims) + ")");
}

void check_same_dims(const Gmm& gmm, const Draws& d, const char* who) {
  if (gmm.d() != d.dims)
    throw ConfigError(std::string(who) + ": the GMM has dimension " + std::to_string(gmm.d()) +
                      " but the draws have " + std::to_string(d.dims));
}

using Chains = std::vector<std::vector<double>>;  // [chain][draw]

// Each chain cut into two halves of floor(n/2) draws; the middle draw of an odd-length chain is dropped.
Chains split_chains(const Chains& in) {
  Chains out;
  for (const auto& c : in) {
    const size_t h = c.size() / 2;
    out.emplace_back(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(h));
    out.emplace_back(c.end() - static_cast<std::ptrdiff_t>(h), c.end());
  }
  return out;
}

Chains chains_of(const Draws& d, int dim) {
  Chains c;
  for (int i = 0; i < d.chains; ++i) c.push_back(d.series(i, dim));
  return c;
}

bool all_finite(const Chains& c) {
  for (const auto& v : c)
    for (double x : v)
      if (!std::isfinite(x)) return false;
  return true;
}

bool is_constant(const Chains& c) {
  const double first = c[0][0];
  for (const auto& v : c)
    for (double x : v)
      if (x != first) return false;
  return true;
}

// Rank-normalization: pooled average ranks r (ties share the mean rank), z = Phi^-1((r - 3/8) / (S + 1/4)).
// Stable ascending order of finite doubles by an LSD radix sort (six 11-bit digits of an order-preserving
// 64-bit key; keys move with their indices, digits shared by all keys are skipped): linear time, where a
// comparison sort of 1 M (value, index) pairs dominated the diagnostics.
std::vector<uint32_t> sort_order(const std::vector<double>& v) {
  const size_t n = v.size();
  std::vector<uint64_t> key(n), ktmp(n);
  std::vector<uint32_t> idx(n), itmp(n);
  uint64_t all_and = ~uint64_t{0}, all_or = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t u;
    std::memcpy(&u, &v[i], sizeof u);
    key[i] = (u >> 63) ? ~u : (u | (uint64_t{1} << 63));
    idx[i] = static_cast<uint32_t>(i);
    all_and &= key[i];
    all_or |= key[i];
  }
  constexpr int kBits = 11;
  constexpr uint64_t kMask = (1u << kBits) - 1;
  std::vector<size_t> count(kMask + 2);
  for (int sh = 0; sh < 64; sh += kBits) {
    if ((((all_and ^ all_or) >> sh) & kMask) == 0) continue;  // every key has the same digit here
    std::fill(count.begin(), count.end(), 0);
    for (size_t i = 0; i < n; ++i) ++count[((key[i] >> sh) & kMask) + 1];
    for (size_t b = 1; b < count.size(); ++b) count[b] += count[b - 1];
    for (size_t i = 0; i < n; ++i) {
      const size_t pos = count[(key[i] >> sh) & kMask]++;
      ktmp[pos] = key[i];
      itmp[pos] = idx[i];
    }
    key.swap(ktmp);
    idx.swap(itmp);
  }
  return idx;
}

Chains rank_normalize(const Chains& c) {
  std::vector<double> flat;
  for (const auto& v : c) flat.insert(flat.end(), v.begin(), v.end());
  const std::vector<uint32_t> order = sort_order(flat);
  const double s = static_cast<double>(flat.size());
  std::vector<double> z(flat.size());
  const boost::math::normal_distribution<double> nd;
  for (size_t a = 0; a < order.size();) {
    size_t b = a;
    while (b < order.size() && flat[order[b]] == flat[order[a]]) ++b;
    const double rank = 0.5 * static_cast<double>(a + 1 + b);  // mean of ranks a+1 .. b
    const double zv = boost::math::quantile(nd, (rank - 0.375) / (s + 0.25));
    for (size_t t = a; t < b; ++t) z[order[t]] = zv;
    a = b;
  }
  Chains out = c;
  for (size_t m = 0; m < c.size(); ++m)
    for (size_t i = 0; i < c[m].size(); ++i) out[m][i] = z[m * c[0].size() + i];
  return out;
}

// Type-7 sample quantile (linear interpolation between order statistics).
double quantile_sorted(const std::vector<double>& s, double p) {
  const double h = (static_cast<double>(s.size()) - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (h - static_cast<double>(lo)) * (s[hi] - s[lo]);
}

std::vector<double> pooled(const Chains& c) {
  std::vector<double> v;
  for (const auto& x : c) v.insert(v.end(), x.begin(), x.end());
  return v;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double var_of(const std::vector<double>& v) {  // unbiased (n - 1)
  if (v.size() < 2) return 0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

// Classic (Gelman-Rubin, multi-chain) potential scale reduction on already-split chains.
double rhat_basic(const Chains& c) {
  const double m = static_cast<double>(c.size());
  const double n = static_cast<double>(c[0].size());
  std::vector<double> means;
  double w = 0;
  for (const auto& x : c) {
    means.push_back(mean_of(x));
    w += var_of(x);
  }
  w /= m;
  const double b = n * var_of(means);
  if (!(w > 0)) return kNaN;
  const double var_plus = (n - 1) / n * w + b / n;
  return std::sqrt(var_plus / w);
}

// In-place iterative radix-2 FFT (size a power of two). The twiddles of a size are computed once per thread
// and kept (cos/sin of every call showed up in profiles); each stage reads its twiddles contiguously.
// inverse: conjugate twiddles, no 1/n scaling.
void fft(std::vector<std::complex<double>>& a, bool inverse) {
  const size_t n = a.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  thread_local std::vector<std::complex<double>> tw;  // exp(-2 pi i k / n), k < n/2, of the last size
  thread_local size_t tw_n = 0;
  if (tw_n != n) {
    tw.resize(n / 2);
    for (size_t k = 0; k < n / 2; ++k) {
      const double ang = 2 * 3.14159265358979323846 * static_cast<double>(k) / static_cast<double>(n);
      tw[k] = std::complex<double>(std::cos(ang), -std::sin(ang));
    }
    tw_n = n;
  }
  std::vector<std::complex<double>> ws(n / 2);
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t half = len / 2, stride = n / len;
    for (size_t k = 0; k < half; ++k) ws[k] = inverse ? std::conj(tw[k * stride]) : tw[k * stride];
    for (size_t i = 0; i < n; i += len) {
      std::complex<double>* lo = a.data() + i;
      std::complex<double>* hi = lo + half;
      for (size_t k = 0; k < half; ++k) {
        const std::complex<double> u = lo[k];
        const double vr = hi[k].real() * ws[k].real() - hi[k].imag() * ws[k].imag();
        const double vi = hi[k].real() * ws[k].imag() + hi[k].imag() * ws[k].real();
        lo[k] = std::complex<double>(u.real() + vr, u.imag() + vi);
        hi[k] = std::complex<double>(u.real() - vr, u.imag() - vi);
      }
    }
  }
}

// Biased autocovariances g(t) = (1/n) sum_{i} (x_i - m)(x_{i+t} - m), t = 0..n-1, of two series of equal
// length n at once (one zero-padded complex FFT carries x in the real and y in the imaginary part: their
// spectra are separated by conjugate symmetry, and the inverse of |X|^2 + i |Y|^2 returns both).
// Only lags 0..max_lag are needed (and returned): zero padding to n + max_lag keeps them free of wrap-around.
void autocovariance2(const std::vector<double>& x, const std::vector<double>* y, std::vector<double>& gx,
                     std::vector<double>* gy, size_t max_lag = SIZE_MAX) {
  const size_t n = x.size();
  const size_t lags = std::min(max_lag, n - 1) + 1;
  size_t sz = 1;
  while (sz < n + lags) sz <<= 1;
  const double mx = mean_of(x), my = y ? mean_of(*y) : 0.0;
  std::vector<std::complex<double>> a(sz, 0.0);
  for (size_t i = 0; i < n; ++i) a[i] = std::complex<double>(x[i] - mx, y ? (*y)[i] - my : 0.0);
  fft(a, false);
  std::vector<std::complex<double>> p(sz);
  for (size_t k = 0; k < sz; ++k) {
    const std::complex<double> zk = a[k], zc = std::conj(a[(sz - k) % sz]);
    const std::complex<double> xk = 0.5 * (zk + zc), yk = std::complex<double>(0, -0.5) * (zk - zc);
    p[k] = std::complex<double>(std::norm(xk), std::norm(yk));
  }
  fft(p, true);
  gx.resize(lags);
  for (size_t t = 0; t < lags; ++t) gx[t] = p[t].real() / static_cast<double>(sz) / static_cast<double>(n);
  if (gy) {
    gy->resize(lags);
    for (size_t t = 0; t < lags; ++t) (*gy)[t] = p[t].imag() / static_cast<double>(sz) / static_cast<double>(n);
  }
}

std::vector<double> autocovariance(const std::vector<double>& x) {
  std::vector<double> g;
  autocovariance2(x, nullptr, g, nullptr);
  return g;
}

// Multi-chain ESS on (already split) chains: combined autocorrelation rho_t = 1 - (W - mean_m gamma_m(t)) /
// var_plus, Geyer's initial positive sequence of pair sums, made monotone, tau = -1 + 2 sum P_k,
// ESS = M N / tau, capped at M N log10(M N).
// The autocovariances are computed lazily: lag blocks by direct sums (O(M N) per lag) while Geyer's sequence
// needs few lags (the common case: linear time), all lags by FFT (O(M N log N)) once more than kDirectLags are
// needed. Both give the same biased estimator gamma(t) = (1/n) sum_i (x_i - m)(x_{i+t} - m).
double ess_chains(const Chains& c) {
  constexpr size_t kDirectLags = 64, kBlock = 16;  // beyond 64 lags one FFT is cheaper than direct blocks
  const size_t m = c.size();
  const size_t n = c[0].size();
  if (n < 4 || !all_finite(c) || is_constant(c)) return kNaN;
  std::vector<std::vector<double>> centred;
  std::vector<double> means;
  for (const auto& x : c) {
    means.push_back(mean_of(x));
    std::vector<double> v(x.size());
    for (size_t i = 0; i < x.size(); ++i) v[i] = x[i] - means.back();
    centred.push_back(std::move(v));
  }
  std::vector<double> gsum;  // sum over chains of gamma_m(t), t = 0 .. gsum.size() - 1
  size_t fft_lags = 0;       // lags the last FFT covered (0: none yet)
  // All lags up to `upto` by FFT (padding only to n + upto: half the transform while few lags are needed).
  auto by_fft = [&](size_t upto) {
    upto = std::min(upto, n - 1);
    std::vector<double> all(upto + 1, 0.0), g1, g2;
    for (size_t q = 0; q < m; q += 2) {
      autocovariance2(c[q], q + 1 < m ? &c[q + 1] : nullptr, g1, q + 1 < m ? &g2 : nullptr, upto);
      for (size_t i = 0; i <= upto; ++i) all[i] += g1[i] + (q + 1 < m ? g2[i] : 0.0);
    }
    gsum.swap(all);
    fft_lags = upto + 1;
  };
  auto ensure = [&](size_t t) {
    while (t >= gsum.size()) {
      if (t >= kDirectLags || fft_lags > 0) {  // beyond the direct range: FFT, doubling the lags covered
        by_fft(std::max<size_t>({4 * kDirectLags, 2 * fft_lags, 2 * t}));
        break;
      }
      // One pass per chain for a block of kBlock lags (independent accumulators: vectorizes).
      const size_t l0 = gsum.size();
      const size_t nl = std::min(kBlock, n - l0);
      double g[kBlock] = {};
      for (const auto& v : centred) {
        const double* a = v.data();
        double acc[kBlock] = {};
        const size_t main = n > l0 + kBlock ? n - l0 - kBlock + 1 : 0;  // i where every lag of the block fits
        for (size_t i = 0; i < main; ++i) {
          const double ai = a[i];
          const double* b = a + i + l0;
          for (size_t j = 0; j < kBlock; ++j) acc[j] += ai * b[j];
        }
        for (size_t i = main; i < n; ++i)
          for (size_t j = 0; j < nl && i + l0 + j < n; ++j) acc[j] += a[i] * a[i + l0 + j];
        for (size_t j = 0; j < nl; ++j) g[j] += acc[j] / static_cast<double>(n);
      }
      for (size_t j = 0; j < nl; ++j) gsum.push_back(g[j]);
      // After the first block: if the autocorrelation decays so slowly that Geyer's sequence will need more
      // than kDirectLags lags (geometric decay to the noise level 1/sqrt(M N)), go to the FFT now instead of
      // computing direct lags that the FFT would recompute.
      if (l0 == 0 && nl == kBlock && gsum[0] > 0) {
        const double r = gsum[kBlock - 1] / gsum[0];
        const double noise = 1.0 / std::sqrt(static_cast<double>(m * n));
        if (r >= 1.0 || (r > 0 && (kBlock - 1) * std::log(noise) / std::log(r) > static_cast<double>(kDirectLags)))
          by_fft(4 * kDirectLags);
      }
    }
  };
  ensure(0);
  double w = gsum[0] / static_cast<double>(m) * static_cast<double>(n) / static_cast<double>(n - 1);
  double var_plus = w * static_cast<double>(n - 1) / static_cast<double>(n);
  if (m > 1) var_plus += var_of(means);
  if (!(var_plus > 0)) return kNaN;
  auto rho = [&](size_t t) {
    ensure(t);
    const double g = gsum[t] / static_cast<double>(m);
    return 1.0 - (w - g) / var_plus;
  };
  // Pair sums P_k = rho_{2k} + rho_{2k+1}; keep while positive; then enforce P_k <= P_{k-1}.
  double sum_p = 0, prev = std::numeric_limits<double>::infinity();
  for (size_t t = 0; t + 1 < n; t += 2) {
    double p = (t == 0 ? 1.0 : rho(t)) + rho(t + 1);
    if (!(p > 0)) break;
    p = std::min(p, prev);
    sum_p += p;
    prev = p;
  }
  const double total = static_cast<double>(m * n);
  double tau = -1.0 + 2.0 * sum_p;
  tau = std::max(tau, 1.0 / std::log10(total));  // antithetic chains: ESS at most S log10 S
  return total / tau;
}

Chains indicator(const Chains& c, double q) {
  Chains out = c;
  for (auto& v : out)
    for (double& x : v) x = x <= q ? 1.0 : 0.0;
  return out;
}

double ess_quantile(const Chains& c, const std::vector<double>& sorted, double p) {
  return ess_chains(split_chains(indicator(c, quantile_sorted(sorted, p))));
}

// What R-hat, ESS and MCSE of one dimension share: the chains, the pooled draws sorted, the rank-normalized
// split chains (each computed once; summarize uses all of them).
struct DimStats {
  Chains c;
  std::vector<double> sorted;
  Chains rank_split;
  bool valid = false;  // finite and not constant
  DimStats(const Draws& d, int dim) : c(chains_of(d, dim)) {
    valid = all_finite(c) && !is_constant(c);
    if (!valid) return;
    const std::vector<double> all = pooled(c);
    sorted.resize(all.size());
    const std::vector<uint32_t> order = sort_order(all);
    for (size_t i = 0; i < all.size(); ++i) sorted[i] = all[order[i]];
    rank_split = rank_normalize(split_chains(c));
  }
};

double rhat_of(const DimStats& s, int draws) {
  if (draws < 4 || !s.valid) return kNaN;
  const double bulk = rhat_basic(s.rank_split);
  const double med = quantile_sorted(s.sorted, 0.5);
  Chains folded = s.c;
  for (auto& v : folded)
    for (double& x : v) x = std::abs(x - med);
  const double tail = rhat_basic(rank_normalize(split_chains(folded)));
  if (std::isnan(tail)) return bulk;
  return std::max(bulk, tail);
}

double ess_bulk_of(const DimStats& s, int draws) {
  if (draws < 8 || !s.valid) return kNaN;
  return ess_chains(s.rank_split);
}

double ess_tail_of(const DimStats& s, int draws) {
  if (draws < 8 || !s.valid) return kNaN;
  const double a = ess_quantile(s.c, s.sorted, 0.05), b = ess_quantile(s.c, s.sorted, 0.95);
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  return std::min(a, b);
}

double mcse_of(const DimStats& s, int draws) {
  if (draws < 8 || !all_finite(s.c)) return kNaN;
  if (is_constant(s.c)) return 0.0;
  const double ess = ess_chains(split_chains(s.c));  // ESS of the untransformed draws
  return std::sqrt(var_of(pooled(s.c)) / ess);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
std::vector<double> Draws::series(int c, int k) const {
  std::vector<double> v(static_cast<size_t>(draws));
  for (int i = 0; i < draws; ++i) v[i] = at(c, i, k);
  return v;
}

std::vector<double> autocorrelation(const std::vector<double>& x, int max_lag) {
  if (x.empty() || max_lag < 0) return {};
  const int lmax = std::min<int>(max_lag, static_cast<int>(x.size()) - 1);
  const std::vector<double> g = autocovariance(x);
  std::vector<double> rho(static_cast<size_t>(lmax) + 1, 1.0);  // a constant series: perfectly correlated
  if (g[0] > 0)
    for (int t = 1; t <= lmax; ++t) rho[t] = g[t] / g[0];
  return rho;
}

double split_rhat(const Draws& d, int dim) {
  check_draws(d, dim, "split_rhat");
  return rhat_of(DimStats(d, dim), d.draws);
}

double ess_bulk(const Draws& d, int dim) {
  check_draws(d, dim, "ess_bulk");
  return ess_bulk_of(DimStats(d, dim), d.draws);
}

double ess_tail(const Draws& d, int dim) {
  check_draws(d, dim, "ess_tail");
  return ess_tail_of(DimStats(d, dim), d.draws);
}

double mcse_mean(const Draws& d, int dim) {
  check_draws(d, dim, "mcse_mean");
  return mcse_of(DimStats(d, dim), d.draws);
}

// ---------------------------------------------------------------------------------------------------------
namespace {

struct Fit1 {
  double tv, kl;
};

// TV and KL(p || q_smoothed) from model masses p (summing to 1 over the box) and sample counts.
Fit1 compare(const std::vector<double>& p, const std::vector<double>& counts) {
  const double n = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double cells = static_cast<double>(counts.size());
  double tv = 0, kl = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double q = n > 0 ? counts[i] / n : 0.0;
    tv += std::abs(p[i] - q);
    const double qs = (counts[i] + 0.5) / (n + 0.5 * cells);
    if (p[i] > 0) kl += p[i] * std::log(p[i] / qs);
  }
  return {0.5 * tv, std::max(0.0, kl)};
}

int cell_of(double x, double lo, double w, int grid) {
  if (!std::isfinite(x)) return -1;
  const double f = (x - lo) / w;
  if (f < 0 || f > grid) return -1;
  return std::min(grid - 1, static_cast<int>(f));
}

}  // namespace

GridFit grid_fit(const Draws& d, const Gmm& gmm, int grid, double span) {
  check_draws(d, 0, "grid_fit");
  const GmmEvaluator ev(gmm);
  check_same_dims(gmm, d, "grid_fit");
  if (grid < 1) throw ConfigError("grid_fit: grid must be >= 1 (got " + std::to_string(grid) + ")");
  if (!(span > 0) || !std::isfinite(span)) throw ConfigError("grid_fit: span must be > 0");
  const Eigen::VectorXd mu = gmm.mean();
  const Eigen::MatrixXd cov = gmm.covariance();
  const int dims = d.dims;
  std::vector<double> lo(dims), w(dims);
  for (int k = 0; k < dims; ++k) {
    const double sd = std::sqrt(cov(k, k));
    lo[k] = mu(k) - span * sd;
    w[k] = 2 * span * sd / grid;
  }
  GridFit out;
  if (dims == 2) {
    // Model mass per cell: midpoint rule on sub x sub sub-cells, sub >= 3 and fine enough that a sub-cell is
    // at most a quarter of the narrowest component standard deviation along each axis (capped at 16).
    int sub = 3;
    for (int k = 0; k < 2; ++k) {
      double min_sd = std::numeric_limits<double>::infinity();
      for (const auto& s : gmm.covs) min_sd = std::min(min_sd, std::sqrt(s(k, k)));
      sub = std::max(sub, static_cast<int>(std::ceil(w[k] / (0.25 * min_sd))));
    }
    sub = std::min(sub, 16);
    std::vector<double> p(static_cast<size_t>(grid) * grid, 0.0);
    Eigen::VectorXd x(2);
    double tot = 0;
    for (int i = 0; i < grid; ++i)
      for (int j = 0; j < grid; ++j) {
        double s = 0;
        for (int a = 0; a < sub; ++a)
          for (int b = 0; b < sub; ++b) {
            x(0) = lo[0] + (i + (a + 0.5) / sub) * w[0];
            x(1) = lo[1] + (j + (b + 0.5) / sub) * w[1];
            s += std::exp(ev.log_density(x));
          }
        p[static_cast<size_t>(i) * grid + j] = s;
        tot += s;
      }
    for (double& v : p) v /= tot;
    std::vector<double> counts(p.size(), 0.0);
    for (int c = 0; c < d.chains; ++c)
      for (int t = 0; t < d.draws; ++t) {
        const int i = cell_of(d.at(c, t, 0), lo[0], w[0], grid);
        const int j = cell_of(d.at(c, t, 1), lo[1], w[1], grid);
        if (i >= 0 && j >= 0) counts[static_cast<size_t>(i) * grid + j] += 1;
      }
    const Fit1 f = compare(p, counts);
    out.tv = f.tv;
    out.kl = f.kl;
    return out;
  }
  // Other D: exact 1-D marginal masses (mixture of normals, CDF differences), averaged over dimensions.
  for (int k = 0; k < dims; ++k) {
    std::vector<double> p(static_cast<size_t>(grid), 0.0);
    for (int c = 0; c < gmm.k(); ++c) {
      const boost::math::normal_distribution<double> nd(gmm.means[c](k), std::sqrt(gmm.covs[c](k, k)));
      for (int i = 0; i < grid; ++i)
        p[i] += gmm.weights[c] *
                (boost::math::cdf(nd, lo[k] + (i + 1) * w[k]) - boost::math::cdf(nd, lo[k] + i * w[k]));
    }
    const double tot = std::accumulate(p.begin(), p.end(), 0.0);
    for (double& v : p) v /= tot;
    std::vector<double> counts(p.size(), 0.0);
    for (int c = 0; c < d.chains; ++c)
      for (int t = 0; t < d.draws; ++t) {
        const int i = cell_of(d.at(c, t, k), lo[k], w[k], grid);
        if (i >= 0) counts[i] += 1;
      }
    const Fit1 f = compare(p, counts);
    out.tv += f.tv / dims;
    out.kl += f.kl / dims;
  }
  return out;
}

std::vector<double> component_mass(const Draws& d, const Gmm& gmm) {
  check_draws(d, 0, "component_mass");
  const GmmEvaluator ev(gmm);
  check_same_dims(gmm, d, "component_mass");
  std::vector<double> mass(static_cast<size_t>(gmm.k()), 0.0);
  Eigen::VectorXd x(d.dims);
  for (int c = 0; c < d.chains; ++c)
    for (int t = 0; t < d.draws; ++t) {
      for (int k = 0; k < d.dims; ++k) x(k) = d.at(c, t, k);
      mass[ev.most_likely_component(x)] += 1;
    }
  const double n = static_cast<double>(d.chains) * d.draws;
  for (double& m : mass) m /= n;
  return mass;
}

// ---------------------------------------------------------------------------------------------------------
namespace {
double normal_cdf(double x) { return 0.5 * std::erfc(-x * 0.7071067811865476); }
}  // namespace

MixtureFit mixture_fit(const Draws& d, const Gmm& gmm, int bins) {
  check_draws(d, 0, "mixture_fit");
  gmm.validate();
  check_same_dims(gmm, d, "mixture_fit");
  if (bins < 1 || bins > 100000) throw ConfigError("mixture_fit: bins must be 1..100000");
  const int kk = gmm.k(), dd = d.dims;
  constexpr double kSpan = 4.0;
  // Per component: B_k = L_k^-1 (lower triangular, row-major), log(w_k) - D/2 log 2pi - log|L_k|.
  std::vector<double> binv(static_cast<size_t>(kk) * dd * dd, 0.0), mu(static_cast<size_t>(kk) * dd), lwc(kk);
  std::vector<Eigen::MatrixXd> bm(kk);
  for (int k = 0; k < kk; ++k) {
    const Eigen::LLT<Eigen::MatrixXd> llt(gmm.covs[k]);
    const Eigen::MatrixXd l = llt.matrixL();
    bm[k] = l.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(dd, dd));
    double ld = 0;
    for (int i = 0; i < dd; ++i) ld += std::log(l(i, i));
    lwc[k] = std::log(gmm.weights[k]) - 0.5 * dd * std::log(2 * M_PI) - ld;
    for (int i = 0; i < dd; ++i) {
      mu[static_cast<size_t>(k) * dd + i] = gmm.means[k](i);
      for (int j = 0; j <= i; ++j) binv[(static_cast<size_t>(k) * dd + i) * dd + j] = bm[k](i, j);
    }
  }
  const int cells = bins + 2;  // [0] below -span, [1..bins], [bins+1] above +span
  const double bw = 2 * kSpan / bins;
  std::vector<double> hist(static_cast<size_t>(kk) * dd * cells, 0.0);
  std::vector<double> rs(kk, 0.0), rx(static_cast<size_t>(kk) * dd, 0.0), rxx(static_cast<size_t>(kk) * dd, 0.0);
  std::vector<double> z(static_cast<size_t>(kk) * dd), lc(kk), r(kk);
  const size_t n = static_cast<size_t>(d.chains) * d.draws;
  size_t finite = 0;
  for (size_t s = 0; s < n; ++s) {
    const double* x = &d.data[s * dd];
    bool ok = true;
    for (int j = 0; j < dd; ++j) ok = ok && std::isfinite(x[j]);
    if (!ok) continue;
    ++finite;
    double mx = -INFINITY;
    for (int k = 0; k < kk; ++k) {
      double q = 0;
      const double* b = &binv[static_cast<size_t>(k) * dd * dd];
      const double* m = &mu[static_cast<size_t>(k) * dd];
      double* zk = &z[static_cast<size_t>(k) * dd];
      for (int i = 0; i < dd; ++i) {
        double v = 0;
        for (int j = 0; j <= i; ++j) v += b[i * dd + j] * (x[j] - m[j]);
        zk[i] = v;
        q += v * v;
        const double f = (v + kSpan) / bw;
        const int c = f < 0 ? 0 : f >= bins ? bins + 1 : 1 + static_cast<int>(f);
        hist[(static_cast<size_t>(k) * dd + i) * cells + c] += 1;
      }
      lc[k] = lwc[k] - 0.5 * q;
      mx = std::max(mx, lc[k]);
    }
    double sum = 0;
    for (int k = 0; k < kk; ++k) sum += r[k] = std::exp(lc[k] - mx);
    for (int k = 0; k < kk; ++k) {
      const double w = r[k] / sum;
      rs[k] += w;
      for (int j = 0; j < dd; ++j) {
        const double dx = x[j] - mu[static_cast<size_t>(k) * dd + j];
        rx[static_cast<size_t>(k) * dd + j] += w * dx;
        rxx[static_cast<size_t>(k) * dd + j] += w * dx * dx;
      }
    }
  }
  MixtureFit f;
  if (finite == 0) {
    f.sliced_tv_mean = f.sliced_tv_max = 1;
    f.mass.assign(kk, 0.0);
    f.mass_err.assign(kk, NAN);
    f.mean_err_sd.assign(kk, NAN);
    f.sd_rel_err.assign(kk, NAN);
    return f;
  }
  const double nf = static_cast<double>(n);  // non-finite draws count as mass outside every window
  double tv_sum = 0;
  std::vector<double> p(cells);
  for (int k = 0; k < kk; ++k)
    for (int i = 0; i < dd; ++i) {
      // Law of z_i = e_i^T B_k (x - mu_k) under component j: N(e_i^T B_k (mu_j - mu_k), e_i^T B_k S_j B_k^T e_i).
      std::fill(p.begin(), p.end(), 0.0);
      const Eigen::RowVectorXd bi = bm[k].row(i);
      for (int j = 0; j < kk; ++j) {
        const double m = bi.dot(gmm.means[j] - gmm.means[k]);
        const double sd = std::sqrt(bi * gmm.covs[j] * bi.transpose());
        double prev = 0;
        for (int c = 0; c <= bins; ++c) {
          const double cdf = normal_cdf((-kSpan + c * bw - m) / sd);
          p[c] += gmm.weights[j] * (cdf - prev);
          prev = cdf;
        }
        p[bins + 1] += gmm.weights[j] * (1 - prev);
      }
      double tv = 0;
      const double* h = &hist[(static_cast<size_t>(k) * dd + i) * cells];
      for (int c = 0; c < cells; ++c) tv += std::abs(p[c] - h[c] / nf);
      tv = 0.5 * (tv + static_cast<double>(n - finite) / nf);
      tv_sum += tv;
      f.sliced_tv_max = std::max(f.sliced_tv_max, tv);
    }
  f.sliced_tv_mean = tv_sum / (kk * dd);
  for (int k = 0; k < kk; ++k) {
    const double m = rs[k] / nf;
    f.mass.push_back(m);
    f.mass_err.push_back(m - gmm.weights[k]);
    double me = 0, se = 0;
    for (int j = 0; j < dd; ++j) {
      const double sd = std::sqrt(gmm.covs[k](j, j));
      const double mean_dev = rs[k] > 0 ? rx[static_cast<size_t>(k) * dd + j] / rs[k] : NAN;
      const double var = rs[k] > 0 ? rxx[static_cast<size_t>(k) * dd + j] / rs[k] : NAN;
      me = std::max(me, std::abs(mean_dev) / sd);
      se = std::max(se, std::abs(std::sqrt(var) / sd - 1.0));
      if (std::isnan(mean_dev)) me = se = NAN;
    }
    f.mean_err_sd.push_back(me);
    f.sd_rel_err.push_back(se);
  }
  return f;
}

Draws iid_draws(const Gmm& gmm, int chains, int draws, uint64_t seed) {
  gmm.validate();
  if (chains < 1 || draws < 1) throw ConfigError("iid_draws: chains and draws must be >= 1");
  const int kk = gmm.k(), dd = gmm.d();
  std::vector<Eigen::MatrixXd> l(kk);
  for (int k = 0; k < kk; ++k) l[k] = Eigen::LLT<Eigen::MatrixXd>(gmm.covs[k]).matrixL();
  std::vector<double> cum(kk);
  double acc = 0;
  for (int k = 0; k < kk; ++k) cum[k] = acc += gmm.weights[k];
  Draws out(chains, draws, dd);
  SplitMix64 rng(mix64(seed ^ 0x1D1D1D1Dull));
  std::vector<double> e(dd);
  for (size_t s = 0; s < out.data.size() / dd; ++s) {
    const double u = rng.uniform() * acc;
    int k = 0;
    while (k + 1 < kk && u >= cum[k]) ++k;
    for (int j = 0; j < dd; ++j) e[j] = rng.gauss();
    for (int i = 0; i < dd; ++i) {
      double v = gmm.means[k](i);
      for (int j = 0; j <= i; ++j) v += l[k](i, j) * e[j];
      out.data[s * dd + i] = v;
    }
  }
  return out;
}

nlohmann::json MixtureFit::to_json() const {
  auto arr = [](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) a.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr));
    return a;
  };
  return {{"sliced_tv_mean", sliced_tv_mean}, {"sliced_tv_max", sliced_tv_max}, {"mass", arr(mass)},
          {"mass_err", arr(mass_err)},        {"mean_err_sd", arr(mean_err_sd)}, {"sd_rel_err", arr(sd_rel_err)}};
}

namespace {
// Runs the tasks on min(hardware threads, tasks) threads (a shared counter hands them out); the first
// exception is rethrown after all threads have joined.
void run_tasks(const std::vector<std::function<void()>>& tasks) {
  const size_t nt = std::min<size_t>(tasks.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  std::exception_ptr err;
  std::mutex mu;
  auto worker = [&] {
    for (size_t i; (i = next++) < tasks.size();) {
      try {
        tasks[i]();
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mu);
        if (!err) err = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < nt; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (err) std::rethrow_exception(err);
}
}  // namespace

// ---------------------------------------------------------------------------------------------------------
nlohmann::json Summary::to_json() const {
  auto arr = [](const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) a.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr));
    return a;
  };
  auto fin = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  double max_rhat = kNaN, min_bulk = kNaN, min_tail = kNaN;
  for (double v : rhat)
    if (!std::isnan(v)) max_rhat = std::isnan(max_rhat) ? v : std::max(max_rhat, v);
  for (double v : ess_bulk)
    if (!std::isnan(v)) min_bulk = std::isnan(min_bulk) ? v : std::min(min_bulk, v);
  for (double v : ess_tail)
    if (!std::isnan(v)) min_tail = std::isnan(min_tail) ? v : std::min(min_tail, v);
  nlohmann::json j;
  j["chains"] = chains;
  j["draws"] = draws;
  j["dims"] = dims;
  j["acceptance"] = fin(acceptance);
  j["mean"] = arr(mean);
  j["sd"] = arr(sd);
  j["rhat"] = arr(rhat);
  j["ess_bulk"] = arr(ess_bulk);
  j["ess_tail"] = arr(ess_tail);
  j["mcse_mean"] = arr(mcse);
  j["max_rhat"] = fin(max_rhat);
  j["min_ess_bulk"] = fin(min_bulk);
  j["min_ess_tail"] = fin(min_tail);
  j["grid_fit"] = {{"tv", fin(fit.tv)}, {"kl", fin(fit.kl)}};
  j["component_mass"] = arr(mass);
  j["component_mass_expected"] = arr(mass_expected);
  j["mixture_fit"] = mix.to_json();
  j["mixture_fit_iid_floor"] = mix_floor.to_json();
  j["warnings"] = warnings;
  return j;
}

Summary summarize(const Draws& d, const Gmm& gmm, double acceptance, const SummaryProgress& progress) {
  check_draws(d, 0, "summarize");
  gmm.validate();
  check_same_dims(gmm, d, "summarize");
  Summary s;
  s.chains = d.chains;
  s.draws = d.draws;
  s.dims = d.dims;
  s.acceptance = acceptance;
  const size_t nd = static_cast<size_t>(d.dims);
  s.mean.assign(nd, 0.0);
  s.sd = s.rhat = s.ess_bulk = s.ess_tail = s.mcse = s.mean;
  // Independent tasks (one per dimension, the fits) on up to hardware_concurrency threads; every task writes
  // only its own slots, so the result does not depend on the schedule.
  std::vector<std::function<void()>> tasks;
  for (int k = 0; k < d.dims; ++k)
    tasks.emplace_back([&, k] {
      const DimStats ds(d, k);
      const std::vector<double> v = pooled(ds.c);
      s.mean[k] = mean_of(v);
      s.sd[k] = std::sqrt(var_of(v));
      s.rhat[k] = rhat_of(ds, d.draws);
      s.ess_bulk[k] = ess_bulk_of(ds, d.draws);
      s.ess_tail[k] = ess_tail_of(ds, d.draws);
      s.mcse[k] = mcse_of(ds, d.draws);
    });
  tasks.emplace_back([&] {
    s.fit = grid_fit(d, gmm);
    s.mass = component_mass(d, gmm);
  });
  tasks.emplace_back([&] { s.mix = mixture_fit(d, gmm); });
  tasks.emplace_back([&] { s.mix_floor = mixture_fit(iid_draws(gmm, d.chains, d.draws, 0xF100Full), gmm); });
  if (progress) {  // report each part as it finishes (serialised; the count says how far)
    std::vector<std::string> what;
    for (int k = 0; k < d.dims; ++k) what.push_back("x" + std::to_string(k) + ": R-hat, ESS, MCSE");
    what.insert(what.end(), {"grid fit, component mass", "mixture fit", "iid floor of the mixture fit"});
    auto mu = std::make_shared<std::mutex>();
    auto done = std::make_shared<size_t>(0);
    const size_t n = tasks.size();
    for (size_t i = 0; i < n; ++i)
      tasks[i] = [task = tasks[i], i, n, mu, done, &progress, w = what[i]] {
        task();
        const std::lock_guard<std::mutex> lock(*mu);
        progress(std::to_string(++*done) + "/" + std::to_string(n) + " parts done (" + w + ")");
      };
  }
  run_tasks(tasks);
  s.mass_expected = gmm.weights;
  auto fmt = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v);
    return std::string(b);
  };
  for (int k = 0; k < d.dims; ++k) {
    const std::string x = "x" + std::to_string(k);
    if (std::isnan(s.rhat[k]) || std::isnan(s.ess_bulk[k]))
      s.warnings.push_back(x + ": R-hat/ESS undefined (constant, too short or non-finite draws)");
    if (s.rhat[k] > kRhatWarn)
      s.warnings.push_back(x + ": R-hat " + fmt(s.rhat[k]) + " > 1.01: chains disagree (not mixed)");
    if (s.ess_bulk[k] < kEssWarn) s.warnings.push_back(x + ": bulk ESS " + fmt(s.ess_bulk[k]) + " < 400");
    if (s.ess_tail[k] < kEssWarn) s.warnings.push_back(x + ": tail ESS " + fmt(s.ess_tail[k]) + " < 400");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
namespace {

void append_num(std::string& out, double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip representation
  out.append(buf, r.ptr);
}

std::string num(double v) {
  std::string s;
  append_num(s, v);
  return s;
}

}  // namespace

void write_draws_csv(const std::string& path, const Draws& d) {
  check_draws(d, 0, "write_draws_csv");
  AtomicFileWriter f(path);
  std::string out = "chain,draw";
  for (int k = 0; k < d.dims; ++k) out += ",x" + std::to_string(k);
  out += '\n';
  constexpr size_t kChunk = 1 << 20;
  out.reserve(kChunk + 4096);
  char buf[32];
  for (int c = 0; c < d.chains; ++c)
    for (int t = 0; t < d.draws; ++t) {
      auto r = std::to_chars(buf, buf + sizeof buf, c);
      out.append(buf, r.ptr);
      out += ',';
      r = std::to_chars(buf, buf + sizeof buf, t);
      out.append(buf, r.ptr);
      for (int k = 0; k < d.dims; ++k) {
        out += ',';
        append_num(out, d.at(c, t, k));
      }
      out += '\n';
      if (out.size() >= kChunk) {
        f.write(out);
        out.clear();
      }
    }
  f.write(out);
  f.commit();
}

// ---------------------------------------------------------------------------------------------------------
namespace {

namespace fs = std::filesystem;

// A gnuplot single-quoted string literal ('' escapes a quote).
std::string gq(const std::string& s) {
  std::string o = "'";
  for (char ch : s) {
    if (ch == '\'') o += "''";
    else if (ch == '\n' || ch == '\r') o += ' ';
    else o += ch;
  }
  return o + "'";
}

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path p = fs::path(dir) / "gnuplot";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  throw IoError("gnuplot not found on PATH (install the Debian package gnuplot-nox)");
}

// A fresh private directory for the data and script; removed on destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cimsim-plot-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw IoError("cannot create a temporary directory for gnuplot");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

void write_file(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
  if (!f) throw IoError("cannot write " + p.string());
}

std::string terminal_lines(int width, int height) {
  const std::string size = std::to_string(width) + "," + std::to_string(height);
  return "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
         "  set terminal pngcairo size " + size + " noenhanced font 'Sans,10'\n"
         "} else {\n"
         "  set terminal png size " + size + " noenhanced\n"
         "}\n";
}

// Runs `script` (which must write to the file named by the gnuplot variable OUT) and moves the result to
// `png_path` atomically.
void render(const std::string& png_path, const TempDir& td, const std::string& script) {
  const std::string gp = find_gnuplot();
  const fs::path dest = fs::absolute(png_path);
  std::error_code ec;
  if (dest.has_parent_path()) fs::create_directories(dest.parent_path(), ec);
  const fs::path tmp_png = dest.parent_path() / (".tmp-" + std::to_string(::getpid()) + "-" +
                                                 dest.filename().string());
  const fs::path sp = td.path / "plot.gp";
  write_file(sp, "OUT = " + gq(tmp_png.string()) + "\n" + script);
  const fs::path err = td.path / "gnuplot.err";
  const std::string cmd = "cd " + gq(td.path.string()) + " && " + gq(gp) + " " + gq(sp.string()) + " > " +
                          gq(err.string()) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::string msg;
  {
    std::ifstream f(err);
    std::stringstream b;
    b << f.rdbuf();
    msg = b.str();
  }
  if (rc != 0 || !fs::exists(tmp_png) || fs::file_size(tmp_png, ec) == 0) {
    fs::remove(tmp_png, ec);
    throw IoError("gnuplot failed to render " + png_path + " (exit status " + std::to_string(rc) + "): " +
                  msg.substr(0, 2000));
  }
  fs::rename(tmp_png, dest, ec);
  if (ec) {
    fs::remove(tmp_png, ec);
    throw IoError("cannot move the rendered plot into place at " + png_path);
  }
}

// At most `cap` evenly spaced draw indices per chain (keeps files and PNG rendering small).
int thin_step(long total, long cap) { return static_cast<int>(std::max<long>(1, (total + cap - 1) / cap)); }

}  // namespace

namespace {
// Corner plot for D > 2 (at most the first 6 dimensions): the diagonal shows each dimension's histogram of the
// draws against the exact marginal density; below it every pair (xj against xi) as draws coloured per chain.
void plot_corner(const std::string& png_path, const Draws& d, const Gmm& gmm, const std::string& title) {
  const int n = std::min(d.dims, 6);
  const Eigen::VectorXd mu = gmm.mean();
  const Eigen::MatrixXd cov = gmm.covariance();
  auto lo = [&](int k) { return mu(k) - 4.0 * std::sqrt(cov(k, k)); };
  auto hi = [&](int k) { return mu(k) + 4.0 * std::sqrt(cov(k, k)); };
  TempDir td;
  const int step = thin_step(static_cast<long>(d.draws) * d.chains, 6000);
  std::string pts;  // one data set per chain: all n coordinates per row
  for (int c = 0; c < d.chains; ++c) {
    for (int t = 0; t < d.draws; t += step) {
      for (int k = 0; k < n; ++k) pts += (k ? " " : "") + num(d.at(c, t, k));
      pts += "\n";
    }
    pts += "\n\n";
  }
  write_file(td.path / "pts.dat", pts);
  const int bins = 50;
  for (int k = 0; k < n; ++k) {
    const double x0 = lo(k), x1 = hi(k), w = (x1 - x0) / bins;
    std::vector<double> cnt(bins, 0.0);
    for (int c = 0; c < d.chains; ++c)
      for (int t = 0; t < d.draws; ++t) {
        const int i = cell_of(d.at(c, t, k), x0, w, bins);
        if (i >= 0) cnt[i] += 1;
      }
    const double tot = static_cast<double>(d.chains) * d.draws;
    std::string h, curve;
    for (int i = 0; i < bins; ++i) h += num(x0 + (i + 0.5) * w) + " " + num(cnt[i] / (tot * w)) + "\n";
    for (int i = 0; i <= 200; ++i) {  // exact marginal density of dimension k
      const double x = x0 + (x1 - x0) * i / 200.0;
      double v = 0;
      for (int m = 0; m < gmm.k(); ++m) {
        const double sd = std::sqrt(gmm.covs[m](k, k)), z = (x - gmm.means[m](k)) / sd;
        v += gmm.weights[m] * std::exp(-0.5 * z * z) / (sd * 2.5066282746310002);
      }
      curve += num(x) + " " + num(v) + "\n";
    }
    write_file(td.path / ("hist" + std::to_string(k) + ".dat"), h);
    write_file(td.path / ("curve" + std::to_string(k) + ".dat"), curve);
  }
  const int cell = n <= 3 ? 300 : 220;
  std::ostringstream s;
  s << terminal_lines(cell * n + 160, cell * n + 60) << "set output OUT\n"
    << "set multiplot layout " << n << "," << n << " title " << gq(title + " (corner plot: every pair of "
                                                                  "dimensions; one colour per chain)") << "\n"
    << "set grid\nset style fill solid 0.4\n";
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      s << "set xrange [" << num(lo(j)) << ":" << num(hi(j)) << "]\n";
      s << "set xlabel " << (i == n - 1 ? "'x" + std::to_string(j) + "'" : std::string("''")) << "\n";
      if (j > i) {  // upper triangle: empty (the chain legend sits in the top-right cell)
        if (i == 0 && j == n - 1) {
          s << "unset border\nunset tics\nunset grid\nset key center center\nset yrange [0:1]\nset ylabel ''\n"
            << "plot for [c=0:" << d.chains - 1 << "] 'pts.dat' index c using 1:(NaN) with points pt 7 ps 1.5 "
            << "title sprintf('chain %d', c), NaN with lines lw 2 lc rgb 'black' title 'exact marginal'\n"
            << "set border\nset tics\nset grid\n";
        } else {
          s << "set multiplot next\n";
        }
        continue;
      }
      if (i == j) {
        s << "set key off\nset yrange [0:*]\nset ylabel " << (j == 0 ? "'density'" : "''") << "\n"
          << "plot 'hist" << j << ".dat' using 1:2:(" << num((hi(j) - lo(j)) / bins) << ") with boxes lc rgb "
          << "'#4477aa', 'curve" << j << ".dat' using 1:2 with lines lw 2 lc rgb 'black'\n";
      } else {
        s << "set key off\nset yrange [" << num(lo(i)) << ":" << num(hi(i)) << "]\nset ylabel "
          << (j == 0 ? "'x" + std::to_string(i) + "'" : std::string("''")) << "\n"
          << "plot for [c=0:" << d.chains - 1 << "] 'pts.dat' index c using " << j + 1 << ":" << i + 1
          << " with points pt 7 ps 0.2\n";
      }
    }
  s << "unset multiplot\n";
  render(png_path, td, s.str());
}
}  // namespace

void plot_samples(const std::string& png_path, const Draws& d, const Gmm& gmm, const std::string& title) {
  check_draws(d, 0, "plot_samples");
  const GmmEvaluator ev(gmm);
  check_same_dims(gmm, d, "plot_samples");
  const Eigen::VectorXd mu = gmm.mean();
  const Eigen::MatrixXd cov = gmm.covariance();
  const double span = 4.0;
  auto lo = [&](int k) { return mu(k) - span * std::sqrt(cov(k, k)); };
  auto hi = [&](int k) { return mu(k) + span * std::sqrt(cov(k, k)); };
  TempDir td;
  std::ostringstream s;

  if (d.dims == 1) {
    // 1-D: density histogram of the pooled draws against the exact density curve.
    const int bins = 60;
    const double x0 = lo(0), x1 = hi(0), w = (x1 - x0) / bins;
    std::vector<double> cnt(bins, 0.0);
    for (double x : d.data) {
      const int i = cell_of(x, x0, w, bins);
      if (i >= 0) cnt[i] += 1;
    }
    const double n = static_cast<double>(d.data.size());
    std::string hist, curve;
    for (int i = 0; i < bins; ++i) hist += num(x0 + (i + 0.5) * w) + " " + num(cnt[i] / (n * w)) + "\n";
    Eigen::VectorXd x(1);
    for (int i = 0; i <= 400; ++i) {
      x(0) = x0 + (x1 - x0) * i / 400.0;
      curve += num(x(0)) + " " + num(std::exp(ev.log_density(x))) + "\n";
    }
    write_file(td.path / "hist.dat", hist);
    write_file(td.path / "curve.dat", curve);
    s << terminal_lines(900, 600) << "set output OUT\nset title " << gq(title) << "\n"
      << "set xlabel 'x0'\nset ylabel 'density'\nset grid\nset key top left\n"
      << "set xrange [" << num(x0) << ":" << num(x1) << "]\nset style fill solid 0.4\n"
      << "plot 'hist.dat' using 1:2:(" << num(w) << ") with boxes lc rgb '#4477aa' title 'draws (histogram)', \\\n"
      << "     'curve.dat' using 1:2 with lines lw 2 lc rgb 'black' title 'GMM density'\n";
    render(png_path, td, s.str());
    return;
  }

  if (d.dims > 2) {
    plot_corner(png_path, d, gmm, title);
    return;
  }
  // 2-D: contours of the exact density under the draws.
  const int dx = 0, dy = 1;
  Gmm marg;
  marg.weights = gmm.weights;
  for (int k = 0; k < gmm.k(); ++k) {
    marg.means.push_back(Eigen::Vector2d(gmm.means[k](dx), gmm.means[k](dy)));
    Eigen::MatrixXd c(2, 2);
    c << gmm.covs[k](dx, dx), gmm.covs[k](dx, dy), gmm.covs[k](dy, dx), gmm.covs[k](dy, dy);
    marg.covs.push_back(c);
  }
  const GmmEvaluator mev(marg);
  const double x0 = lo(dx), x1 = hi(dx), y0 = lo(dy), y1 = hi(dy);
  const int ng = 121;
  std::vector<double> dens;
  std::string grid;
  Eigen::VectorXd p(2);
  for (int i = 0; i < ng; ++i) {
    p(0) = x0 + (x1 - x0) * i / (ng - 1);
    for (int j = 0; j < ng; ++j) {
      p(1) = y0 + (y1 - y0) * j / (ng - 1);
      const double v = std::exp(mev.log_density(p));
      dens.push_back(v);
      grid += num(p(0)) + " " + num(p(1)) + " " + num(v) + "\n";
    }
    grid += "\n";
  }
  write_file(td.path / "grid.dat", grid);
  // Contour levels enclosing ~50%, 90% and 99% of the mass (highest-density regions on the grid).
  std::vector<double> sorted = dens;
  std::sort(sorted.begin(), sorted.end(), std::greater<double>());
  const double total = std::accumulate(sorted.begin(), sorted.end(), 0.0);
  std::string lv;
  for (double frac : {0.99, 0.9, 0.5}) {
    double acc = 0;
    for (double v : sorted) {
      acc += v;
      if (acc >= frac * total) {
        lv += (lv.empty() ? "" : ",") + num(v);
        break;
      }
    }
  }
  // Samples: thinned to at most 20000 points in all, one data set per chain so chains get their own colour.
  const int step = thin_step(static_cast<long>(d.draws) * d.chains, 20000);
  std::string samples;
  for (int c = 0; c < d.chains; ++c) {
    for (int t = 0; t < d.draws; t += step) samples += num(d.at(c, t, dx)) + " " + num(d.at(c, t, dy)) + "\n";
    samples += "\n\n";  // gnuplot data-set separator (index c)
  }
  write_file(td.path / "samples.dat", samples);

  s << "set contour base\nunset surface\nset view map\nset cntrparam levels discrete " << lv << "\n"
    << "set table 'contours.dat'\nsplot 'grid.dat' using 1:2:3 with lines\nunset table\nreset\n"
    << terminal_lines(900, 800) << "set output OUT\n"
    << "set title " << gq(title) << "\n"
    << "set xlabel 'x" << dx << "'\nset ylabel 'x" << dy << "'\n"
    << "set xrange [" << num(x0) << ":" << num(x1) << "]\nset yrange [" << num(y0) << ":" << num(y1) << "]\n"
    << "set key top left opaque\nset grid\n"
    << "plot for [c=0:" << d.chains - 1 << "] 'samples.dat' index c using 1:2 with points pt 7 ps 0.25 "
    << "title sprintf('chain %d draws', c), \\\n"
    << "     'contours.dat' using 1:2 with lines lw 2 lc rgb 'black' title 'GMM 50/90/99% mass contours'\n";
  render(png_path, td, s.str());
}

void plot_trace_acf(const std::string& png_path, const Draws& d, const std::string& title) {
  check_draws(d, 0, "plot_trace_acf");
  const int rows = std::min(d.dims, 4);
  const int max_lag = std::min(100, d.draws - 1);
  const int step = thin_step(d.draws, 5000);
  TempDir td;
  for (int k = 0; k < rows; ++k) {
    std::string tr, ac;
    std::vector<std::vector<double>> acfs;
    for (int c = 0; c < d.chains; ++c) acfs.push_back(autocorrelation(d.series(c, k), max_lag));
    for (int t = 0; t < d.draws; t += step) {
      tr += std::to_string(t);
      for (int c = 0; c < d.chains; ++c) tr += " " + num(d.at(c, t, k));
      tr += "\n";
    }
    for (int l = 0; l <= max_lag; ++l) {
      ac += std::to_string(l);
      for (int c = 0; c < d.chains; ++c) ac += " " + num(acfs[c][l]);
      ac += "\n";
    }
    write_file(td.path / ("trace" + std::to_string(k) + ".dat"), tr);
    write_file(td.path / ("acf" + std::to_string(k) + ".dat"), ac);
  }
  std::ostringstream s;
  s << terminal_lines(1200, 260 * rows + 40) << "set output OUT\n"
    << "set multiplot layout " << rows << ",2 title " << gq(title) << "\n"
    << "set grid\nset key off\n";
  for (int k = 0; k < rows; ++k) {
    // The chain legend once, on the first trace panel.
    s << (k == 0 ? "set key outside right top title 'chain'\n" : "set key off\n")
      << "set title 'x" << k << ": trace'\nset xlabel 'draw'\nset ylabel 'x" << k << "'\nset yrange [*:*]\n"
      << "plot for [c=2:" << d.chains + 1 << "] 'trace" << k << ".dat' using 1:c with lines lw 1 title sprintf('%d', c - 2)\n"
      << "set key off\n"
      << "set title 'x" << k << ": autocorrelation per chain'\nset xlabel 'lag'\nset ylabel 'rho'\n"
      << "set yrange [-0.2:1.05]\n"
      << "plot for [c=2:" << d.chains + 1 << "] 'acf" << k << ".dat' using 1:c with lines lw 1.5, 0 lc rgb 'gray'\n";
  }
  s << "unset multiplot\n";
  render(png_path, td, s.str());
}

void render_gnuplot(const std::string& png_path, const std::vector<std::pair<std::string, std::string>>& data,
                    const std::string& script) {
  TempDir td;
  for (const auto& [name, text] : data) write_file(td.path / name, text);
  render(png_path, td, script);
}

std::string gnuplot_png_terminal(int width, int height) { return terminal_lines(width, height); }

std::string gnuplot_quote(const std::string& s) { return gq(s); }

}  // namespace cimsim::diag
