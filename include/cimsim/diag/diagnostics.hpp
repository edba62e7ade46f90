#pragma once
// MCMC sampling diagnostics, in plain C++ (Eigen + Boost.Math). Definitions follow Vehtari, Gelman,
// Simpson, Carpenter, Buerkner (2021), "Rank-normalization, folding, and localization: an improved R-hat".
#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "cimsim/diag/gmm.hpp"

namespace cimsim::diag {

/// Draws in a (chain, draw, dim) layout, row-major: data[(c * draws + i) * dims + k].
struct Draws {
  int chains = 0, draws = 0, dims = 0;
  std::vector<double> data;
  Draws() = default;
  Draws(int c, int n, int d) : chains(c), draws(n), dims(d), data(static_cast<size_t>(c) * n * d, 0.0) {}
  double& at(int c, int i, int k) { return data[(static_cast<size_t>(c) * draws + i) * dims + k]; }
  double at(int c, int i, int k) const { return data[(static_cast<size_t>(c) * draws + i) * dims + k]; }
  std::vector<double> series(int c, int k) const;  ///< one chain's draws of one dimension
};

/// Normalized autocorrelation of a series for lags 0..max_lag (FFT or direct; rho[0] = 1).
std::vector<double> autocorrelation(const std::vector<double>& x, int max_lag);

double split_rhat(const Draws& d, int dim);  ///< rank-normalized split R-hat (max of bulk and folded)
double ess_bulk(const Draws& d, int dim);
double ess_tail(const Draws& d, int dim);    ///< min of the 5% and 95% quantile ESS
/// Monte Carlo standard error of the mean: sd(pooled draws) / sqrt(ESS of the untransformed split chains).
double mcse_mean(const Draws& d, int dim);
// R-hat and the ESS values are NaN (JSON null) where undefined: fewer than 8 draws per chain (4 for R-hat),
// non-finite draws, or all draws equal. mcse_mean of constant draws is 0.

/// Distances to the analytic GMM on a regular grid over the GMM's +-`span` sigma box (2-D: grid x grid
/// cells; other D: per-dimension marginals, averaged), from a histogram of the pooled draws.
struct GridFit {
  double tv = 0;  ///< total variation distance, in [0, 1]
  double kl = 0;  ///< KL(p_gmm || q_samples) with additive smoothing of empty cells (documented)
};
GridFit grid_fit(const Draws& d, const Gmm& gmm, int grid = 40, double span = 4.0);
/// Fraction of pooled draws assigned to each component (by highest responsibility) vs the GMM weights.
std::vector<double> component_mass(const Draws& d, const Gmm& gmm);

/// Bias-sensitive comparison with the analytic GMM, valid for any D and any mode separation, one pass over
/// the draws (O(N K D^2) time, O(K D bins) memory):
/// - component-sliced TV: for each component k and each axis i of its whitened frame z = L_k^-1 (x - mu_k),
///   the histogram of z_i over [-4, 4] (`bins` cells + one cell below, one above) against the exact law of
///   z_i under the whole mixture (a 1-D mixture of normals: z_i is linear in x). Mean and max over (k, i).
///   Sees a too-wide/narrow or shifted component at its own scale, whatever the other modes do.
/// - soft per-component mass and moments: E[r_k(x)] = w_k, E[r_k(x) x] = w_k mu_k and
///   E[r_k(x) (x - mu_k)_j^2] = w_k Sigma_k,jj hold exactly under the GMM (r_k = p(k | x)), so their sample
///   versions are unbiased-consistent checks of every component's mass, mean and sd (no hard assignment).
struct MixtureFit {
  double sliced_tv_mean = 0, sliced_tv_max = 0;
  std::vector<double> mass;         ///< mean responsibility per component (expected: the weights)
  std::vector<double> mass_err;     ///< mass - weight
  std::vector<double> mean_err_sd;  ///< per component: max_j |m_kj - mu_kj| / sd_kj
  std::vector<double> sd_rel_err;   ///< per component: max_j |s_kj / sd_kj - 1|
  nlohmann::json to_json() const;
};
MixtureFit mixture_fit(const Draws& d, const Gmm& gmm, int bins = 40);
/// `chains` x `draws` iid exact draws of the GMM (seeded): the noise floor of any statistic above.
Draws iid_draws(const Gmm& gmm, int chains, int draws, uint64_t seed);

/// Stan's thresholds: warn when any split R-hat > 1.01 or any bulk/tail ESS < 400.
inline constexpr double kRhatWarn = 1.01, kEssWarn = 400;

struct Summary {
  int chains = 0, draws = 0, dims = 0;
  double acceptance = 0;  ///< given by the caller (accepted / proposed)
  std::vector<double> mean, sd, rhat, ess_bulk, ess_tail, mcse;
  GridFit fit;
  std::vector<double> mass, mass_expected;
  MixtureFit mix;        ///< on the draws
  MixtureFit mix_floor;  ///< the same on iid exact draws of the same count (noise floor)
  std::vector<std::string> warnings;  ///< R-hat / ESS beyond Stan's thresholds, non-finite values
  nlohmann::json to_json() const;
};
/// Progress of summarize(): called (from worker threads, one call at a time) as each part finishes, with a
/// text such as "3/5 parts done (x1: R-hat, ESS, MCSE)".
using SummaryProgress = std::function<void(const std::string&)>;
/// All of the above. R-hat/ESS/MCSE per dimension; the mixture fit and its iid floor; warnings.
Summary summarize(const Draws& d, const Gmm& gmm, double acceptance, const SummaryProgress& progress = {});

/// Raw draws as CSV: header "chain,draw,x0,x1,...", one row per (chain, draw). Written atomically, streamed
/// through a fixed buffer (linear time, O(1) extra memory).
void write_draws_csv(const std::string& path, const Draws& d);
/// PNG plots through gnuplot: samples over the GMM's contours (2-D; first two dims otherwise), and trace +
/// autocorrelation per dimension. Throws IoError if gnuplot is missing or fails.
void plot_samples(const std::string& png_path, const Draws& d, const Gmm& gmm, const std::string& title);
void plot_trace_acf(const std::string& png_path, const Draws& d, const std::string& title);
/// Renders a gnuplot `script` (which must `set output OUT`; `terminal_lines` not included: the script sets its
/// own terminal or calls `gnuplot_png_terminal`) with `data` files (name -> contents) beside it, atomically to
/// `png_path`. Throws IoError if gnuplot is missing or fails.
void render_gnuplot(const std::string& png_path, const std::vector<std::pair<std::string, std::string>>& data,
                    const std::string& script);
/// The pngcairo (fallback png) terminal lines the project's plots use.
std::string gnuplot_png_terminal(int width, int height);
/// A gnuplot single-quoted string literal.
std::string gnuplot_quote(const std::string& s);

}  // namespace cimsim::diag
