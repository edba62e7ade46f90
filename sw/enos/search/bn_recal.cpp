// ENOS search: BatchNorm statistics re-estimated with the final weights before export.
#include <algorithm>

#include "search_run.hpp"

namespace cimsim::enos::search::detail {

namespace fs = std::filesystem;

// BatchNorm recalibration of the chosen candidates. The running statistics are an EMA (momentum 0.1) of batch
// statistics taken while the weights moved; for the adder (-sum|x - w| carries a per-channel offset -sum|w| that
// shifts with every weight step) they lagged so far behind that the eval-mode network was at chance while
// training accuracy was 70 %. Re-estimate them with the final weights: cumulative average over up to
// `bn_recal_batches` training batches (fixed order), no gradient, observers restored afterwards.
void SearchRun::recalibrate_bn() {
  if (cfg.bn_recal_batches <= 0) return;
  torch::NoGradGuard ng;
  const std::vector<double> obs = net->observer_values();
  for (auto& L : net->layers) {
    auto& bn = L->bns[static_cast<size_t>(L->chosen)];
    bn->reset_running_stats();
    bn->options.momentum(c10::nullopt);
  }
  net->train();
  const std::vector<int> perm = data::permutation(static_cast<int>(Dtr.n()), cfg.seed * 7919ull + 424242);
  const int64_t nb = std::min<int64_t>(cfg.bn_recal_batches, steps);
  for (int64_t s = 0; s < nb; ++s) {
    std::vector<int64_t> ix(perm.begin() + s * cfg.batch, perm.begin() + (s + 1) * cfg.batch);
    net->forward(Dtr.x.index_select(0, torch::tensor(ix, torch::kInt64)), Combine::Fixed);
  }
  for (auto& L : net->layers) L->bns[static_cast<size_t>(L->chosen)]->options.momentum(0.1);
  net->set_observer_values(obs);
}

}  // namespace cimsim::enos::search::detail
