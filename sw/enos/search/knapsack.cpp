// ENOS search: evaluation of one path of the supernet, the per-candidate supernet report and the knapsack
// control (per-layer sensitivities, then the least-loss assignment within the energy budget).
#include <algorithm>
#include <cmath>

#include "cimsim/core/error.hpp"

#include "search_run.hpp"

namespace cimsim::enos::search::detail {

namespace fs = std::filesystem;

// Evaluates the network with every layer on `p` (BatchNorm on batch statistics, running statistics and
// observers left as they are) over the first `n` images of a fixed permutation of the training set.
std::pair<double, double> SearchRun::eval_path(const std::vector<int>& p, int64_t n) {
  torch::NoGradGuard ng;
  const std::vector<double> obs = net->observer_values();
  std::vector<c10::optional<double>> mom;
  for (auto& L : net->layers)
    for (auto& bn : L->bns) {
      mom.push_back(bn->options.momentum());
      bn->options.momentum(0.0);
    }
  net->train();
  set_paths(p);
  n = std::min<int64_t>(n, Dtr.n());
  int64_t correct = 0;
  double loss = 0;
  for (int64_t b = 0; b < n; b += 500) {
    const int64_t e = std::min<int64_t>(n, b + 500);
    if (e - b < 2) break;
    std::vector<int64_t> ix(eval_perm.begin() + b, eval_perm.begin() + e);
    const Tensor idx = torch::tensor(ix, torch::kInt64);
    const Tensor yb = Dtr.y.index_select(0, idx);
    const Tensor lg = net->forward(Dtr.x.index_select(0, idx), Combine::Path) * net->layers.back()->out_obs->scale();
    correct += lg.argmax(1).eq(yb).sum().item<int64_t>();
    loss += torch::cross_entropy_loss(lg, yb, {}, at::Reduction::Sum).item<double>();
  }
  size_t i = 0;
  for (auto& L : net->layers)
    for (auto& bn : L->bns) bn->options.momentum(mom[i++]);
  net->set_observer_values(obs);
  return {static_cast<double>(correct) / static_cast<double>(n), loss / static_cast<double>(n)};
}

// The per-candidate uni paths of the trained supernet (a layer without the candidate keeps its MAC8 path).
nlohmann::json SearchRun::supernet_report() {
  nlohmann::json j = nlohmann::json::object();
  for (const Candidate& c : cfg.candidates) {
    std::vector<int> p = big;
    for (int l = 0; l < nl; ++l) {
      const auto& cs = net->layers[static_cast<size_t>(l)]->cands;
      for (size_t k = 0; k < cs.size(); ++k)
        if (cs[k].op == c.op && cs[k].mode == c.mode) p[static_cast<size_t>(l)] = static_cast<int>(k);
    }
    j[candidate_name(c)] = eval_path(p, 2000).first;
  }
  return j;
}

// Knapsack control: per-layer sensitivities on the supernet (only layer l leaves its MAC8 path), then the
// assignment of least total loss increase whose energy fits the budget (DP over 4000 energy units; every
// cost rounded up, so the result is within the budget).
nlohmann::json SearchRun::knapsack() {
  const int64_t n = cfg.sensitivity_images;
  const auto [acc0, loss0] = eval_path(big, n);
  std::vector<std::vector<double>> dl(static_cast<size_t>(nl));
  nlohmann::json lj = nlohmann::json::array();
  for (int l = 0; l < nl; ++l) {
    auto& L = net->layers[static_cast<size_t>(l)];
    nlohmann::json cj = nlohmann::json::array();
    for (int k = 0; k < static_cast<int>(L->cands.size()); ++k) {
      std::pair<double, double> m{acc0, loss0};
      if (k != big[static_cast<size_t>(l)]) {
        std::vector<int> p = big;
        p[static_cast<size_t>(l)] = k;
        m = eval_path(p, n);
      }
      dl[static_cast<size_t>(l)].push_back(m.second - loss0);
      cj.push_back({{"candidate", candidate_name(L->cands[static_cast<size_t>(k)])}, {"acc", m.first}, {"loss", m.second},
                    {"energy_pj", L->energy_pj[static_cast<size_t>(k)]}});
    }
    lj.push_back({{"name", L->name}, {"candidates", cj}});
  }
  const double budget = cfg.budget_pj > 0 ? cfg.budget_pj : cfg.target_ratio * Eref;
  const double B = budget - net->vector_energy_pj();
  constexpr int U = 4000;
  const double INF = std::numeric_limits<double>::infinity();
  bool feasible = B > 0;
  if (feasible) {
    const double unit = B / U;
    // cost of every (layer, candidate) in units, rounded up; the DP and the backtrack use the same table
    std::vector<std::vector<int>> cost(static_cast<size_t>(nl));
    for (int l = 0; l < nl; ++l)
      for (double e : net->layers[static_cast<size_t>(l)]->energy_pj) {
        const double c = std::ceil(e / unit - 1e-9);
        cost[static_cast<size_t>(l)].push_back(c > U ? U + 1 : static_cast<int>(c));
      }
    std::vector<double> dp(U + 1, INF), nd(U + 1);
    dp[0] = 0;
    std::vector<std::vector<int>> pick(static_cast<size_t>(nl), std::vector<int>(U + 1, -1));
    for (int l = 0; l < nl; ++l) {
      std::fill(nd.begin(), nd.end(), INF);
      const auto& cl = cost[static_cast<size_t>(l)];
      const auto& dll = dl[static_cast<size_t>(l)];
      for (size_t k = 0; k < cl.size(); ++k) {
        const int ci = cl[k];
        if (ci > U) continue;
        for (int u = 0; u + ci <= U; ++u)
          if (dp[static_cast<size_t>(u)] < INF && dp[static_cast<size_t>(u)] + dll[k] < nd[static_cast<size_t>(u + ci)]) {
            nd[static_cast<size_t>(u + ci)] = dp[static_cast<size_t>(u)] + dll[k];
            pick[static_cast<size_t>(l)][static_cast<size_t>(u + ci)] = static_cast<int>(k);
          }
      }
      dp.swap(nd);
    }
    int best = -1;
    for (int u = 0; u <= U; ++u)
      if (dp[static_cast<size_t>(u)] < INF && (best < 0 || dp[static_cast<size_t>(u)] < dp[static_cast<size_t>(best)])) best = u;
    feasible = best >= 0;
    for (int l = nl - 1; feasible && l >= 0; --l) {  // backtrack
      const int k = pick[static_cast<size_t>(l)][static_cast<size_t>(best)];
      net->layers[static_cast<size_t>(l)]->chosen = k;
      best -= cost[static_cast<size_t>(l)][static_cast<size_t>(k)];
    }
  }
  if (!feasible)  // below the cheapest network: every layer on its cheapest candidate
    for (int l = 0; l < nl; ++l) net->layers[static_cast<size_t>(l)]->chosen = by_energy[static_cast<size_t>(l)].back();
  return nlohmann::json{{"base_acc", acc0}, {"base_loss", loss0}, {"budget_pj", budget}, {"feasible", feasible},
                        {"images", n}, {"layers", lj}};
}

}  // namespace cimsim::enos::search::detail
