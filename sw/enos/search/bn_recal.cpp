// ENOS search: BatchNorm statistics re-estimated with the final weights before export, layer by layer in
// inference order. See docs/enos.md ("BN recalibration").
#include <algorithm>

#include "cimsim/enos/search/bn_recal.hpp"
#include "search_run.hpp"

namespace cimsim::enos::search {

// Layer l's chosen BatchNorm alone in training mode (batch statistics, cumulative average: momentum unset),
// every other module in eval mode, so that layer l sees the inputs the exported network gives it (earlier layers
// on their final running statistics, observers frozen). The old way measured all layers at once with every
// layer on batch statistics: the exported network (running statistics) then fed each layer other inputs than
// those its statistics came from.
void recalibrate_bn_in_inference_order(SearchNetImpl& net, const std::vector<torch::Tensor>& batches) {
  torch::NoGradGuard ng;
  const std::vector<double> obs = net.observer_values();
  net.eval();
  for (auto& L : net.layers) {
    auto& bn = L->bns[static_cast<size_t>(L->chosen)];
    bn->reset_running_stats();
    bn->options.momentum(c10::nullopt);
    bn->train();
    for (const torch::Tensor& x : batches) net.forward(x, Combine::Fixed);
    bn->eval();
    bn->options.momentum(0.1);
  }
  net.set_observer_values(obs);
}

namespace detail {

// The running statistics are an EMA (momentum 0.1) of batch statistics taken while the weights moved; for the
// adder (-sum|x - w| carries a per-channel offset -sum|w| that shifts with every weight step) they lagged so far
// behind that the eval-mode network was at chance while training accuracy was 70 %. Re-estimated with the final
// weights over up to `bn_recal_batches` training batches (fixed order), no gradient, observers unchanged.
void SearchRun::recalibrate_bn() {
  if (cfg.bn_recal_batches <= 0) return;
  const std::vector<int> perm = data::permutation(static_cast<int>(Dtr.n()), cfg.seed * 7919ull + 424242);
  const int64_t nb = std::min<int64_t>(cfg.bn_recal_batches, steps);
  std::vector<Tensor> batches;
  for (int64_t s = 0; s < nb; ++s) {
    std::vector<int64_t> ix(perm.begin() + s * cfg.batch, perm.begin() + (s + 1) * cfg.batch);
    batches.push_back(Dtr.x.index_select(0, torch::tensor(ix, torch::kInt64)));
  }
  recalibrate_bn_in_inference_order(*net, batches);
}

}  // namespace detail
}  // namespace cimsim::enos::search
