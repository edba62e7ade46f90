// ENOS search: one weight (and alpha) step of each phase and search mode: MAC8 pre-training, the sandwich
// warm-up, fixed, single (binary gates), bilevel, sequential and sampling (REINFORCE). See docs/enos.md.
#include <algorithm>
#include <cmath>

#include "search_run.hpp"

namespace cimsim::enos::search::detail {

namespace fs = std::filesystem;

SearchRun::StepOut SearchRun::step_path(const Batch& b, const std::vector<int>& p) {
  StepOut o;
  set_paths(p);
  o.logits = net->forward(b.x, Combine::Path) * b.s_out;
  o.loss = torch::cross_entropy_loss(o.logits, b.y);
  o.loss.backward();
  step_w();
  return o;
}

// Sandwich rule: the MAC8 path on the labels, then the cheapest and `sandwich_paths` random paths among the
// candidates introduced so far (`f`: warm-up progress), each distilled from the MAC8 path's predictions
// (soft-target cross entropy); one step.
SearchRun::StepOut SearchRun::step_sandwich(const Batch& b, double f, SandwichAcc& acc) {
  std::vector<int> small(static_cast<size_t>(nl)), rnd(static_cast<size_t>(nl));
  std::vector<int64_t> allowed(static_cast<size_t>(nl));
  for (int l = 0; l < nl; ++l) {
    const auto& o = by_energy[static_cast<size_t>(l)];
    const int64_t K = static_cast<int64_t>(o.size());
    allowed[static_cast<size_t>(l)] = 1 + static_cast<int64_t>(std::ceil(static_cast<double>(K - 1) * f));
    small[static_cast<size_t>(l)] = o[static_cast<size_t>(allowed[static_cast<size_t>(l)] - 1)];
  }
  auto distill = [](const Tensor& logits, const Tensor& soft) {
    return -(soft * torch::log_softmax(logits, 1)).sum(1).mean();
  };
  StepOut o;
  set_paths(big);
  o.logits = net->forward(b.x, Combine::Path) * b.s_out;
  o.loss = torch::cross_entropy_loss(o.logits, b.y);
  o.loss.backward();
  const Tensor soft = torch::softmax(o.logits.detach(), 1);
  set_paths(small);
  const Tensor ls = net->forward(b.x, Combine::Path) * net->layers.back()->out_obs->scale();
  distill(ls, soft).backward();
  acc.small += ls.argmax(1).eq(b.y).sum().item<int64_t>();
  for (int r = 0; r < cfg.sandwich_paths; ++r) {
    for (int l = 0; l < nl; ++l) {
      const int64_t j = torch::randint(allowed[static_cast<size_t>(l)], {1}).item<int64_t>();
      rnd[static_cast<size_t>(l)] = by_energy[static_cast<size_t>(l)][static_cast<size_t>(j)];
    }
    set_paths(rnd);
    const Tensor lr = net->forward(b.x, Combine::Path) * net->layers.back()->out_obs->scale();
    distill(lr, soft).backward();
    if (r == 0) acc.rand += lr.argmax(1).eq(b.y).sum().item<int64_t>();
  }
  step_w();
  return o;
}

SearchRun::StepOut SearchRun::step_fixed(const Batch& b) {
  StepOut o;
  o.logits = net->forward(b.x, Combine::Fixed) * b.s_out;
  o.loss = torch::cross_entropy_loss(o.logits, b.y);
  o.loss.backward();
  step_w();
  return o;
}

// Binary gates (docs/enos.md): per layer two candidates drawn from the posterior, one active; one forward and
// backward trains the active path and moves alpha (the energy term uses the full posterior).
SearchRun::StepOut SearchRun::step_single(const Batch& b) {
  StepOut o;
  draw_pairs();
  o.logits = net->forward(b.x, Combine::TwoPath) * b.s_out;
  const Tensor E = net->expected_energy();
  o.loss = torch::cross_entropy_loss(o.logits, b.y) + energy_term(E);
  o.loss.backward();
  step_w();
  if (b.alpha_on) opt_a->step();
  o.energy = E.item<double>();
  return o;
}

// Weights: one path drawn from the posterior on a training batch. Alpha (every `alpha_every` steps): binary
// gates on a validation batch with the weights frozen (no weight gradients computed).
SearchRun::StepOut SearchRun::step_bilevel(const Batch& b) {
  std::vector<int> p(static_cast<size_t>(nl));
  for (int l = 0; l < nl; ++l) p[static_cast<size_t>(l)] = static_cast<int>(torch::multinomial(probs_of(l), 1).item<int64_t>());
  StepOut o = step_path(b, p);
  if (b.alpha_on && b.gstep % cfg.alpha_every == 0) {
    std::vector<int64_t> vix;
    for (int i = 0; i < cfg.batch; ++i)
      vix.push_back(val_perm[static_cast<size_t>(val_pos++ % static_cast<int64_t>(val_perm.size()))]);
    const Tensor vi = torch::tensor(vix, torch::kInt64);
    draw_pairs();
    opt_a->zero_grad();
    const Tensor vl = net->forward(Dval.x.index_select(0, vi), Combine::TwoPath) * b.s_out;
    const Tensor E = net->expected_energy();
    const Tensor la = torch::cross_entropy_loss(vl, Dval.y.index_select(0, vi)) + energy_term(E);
    // gradients of the alphas only: autograd prunes the weight-gradient work (no weight is touched)
    const std::vector<Tensor> alphas = net->alpha_params();
    const auto ga = torch::autograd::grad({la}, alphas, {}, false, false, /*allow_unused=*/true);
    for (size_t i = 0; i < alphas.size(); ++i)
      if (ga[i].defined()) alphas[i].mutable_grad() = ga[i];
    opt_a->step();
    o.energy = E.item<double>();
  }
  return o;
}

// Layer l = gstep mod L on binary gates over all its candidates, every other layer on its argmax; only alpha_l
// moves, then layer l's choice is updated.
SearchRun::StepOut SearchRun::step_sequential(const Batch& b) {
  StepOut o;
  const int l = static_cast<int>(b.gstep % nl);
  o.logits = net->forward(b.x, Combine::Fixed, 1.0, l) * b.s_out;
  const Tensor E = net->expected_energy(l);
  o.loss = torch::cross_entropy_loss(o.logits, b.y) + energy_term(E);
  o.loss.backward();
  step_w();
  if (b.alpha_on) {
    for (int k = 0; k < nl; ++k)
      if (k != l) net->layers[static_cast<size_t>(k)]->alpha.mutable_grad() = Tensor();
    opt_a->step();
    auto& L = net->layers[static_cast<size_t>(l)];
    L->chosen = static_cast<int>(L->alpha.argmax().item<int64_t>());
  }
  o.energy = E.item<double>();
  return o;
}

// REINFORCE with a leave-one-out baseline over `alpha_samples` paths. The batch is split into M slices, each
// through its own path drawn from the posterior: every slice trains its path's weights (together one batch's
// forward and backward, the cost of one path) and gives the reward R_m (its mean cross entropy) for the
// score-function estimate.
SearchRun::StepOut SearchRun::step_sampling(const Batch& b) {
  const int M = static_cast<int>(std::min<int64_t>(cfg.alpha_samples, b.y.size(0) / 2));
  std::vector<std::vector<int>> paths(static_cast<size_t>(M), std::vector<int>(static_cast<size_t>(nl)));
  for (int l = 0; l < nl; ++l) {
    const Tensor draw = torch::multinomial(probs_of(l), M, true);
    for (int m = 0; m < M; ++m) paths[static_cast<size_t>(m)][static_cast<size_t>(l)] = static_cast<int>(draw[m].item<int64_t>());
  }
  std::vector<double> R(static_cast<size_t>(M));
  const int64_t nb = b.y.size(0);
  std::vector<Tensor> parts;
  Tensor lsum = torch::zeros({});
  for (int m = 0; m < M; ++m) {
    const int64_t b0 = nb * m / M, b1 = nb * (m + 1) / M;
    set_paths(paths[static_cast<size_t>(m)]);
    const Tensor lg = net->forward(b.x.slice(0, b0, b1), Combine::Path) * net->layers.back()->out_obs->scale();
    const Tensor lm = torch::cross_entropy_loss(lg, b.y.slice(0, b0, b1));
    (lm * (static_cast<double>(b1 - b0) / static_cast<double>(nb))).backward();
    R[static_cast<size_t>(m)] = lm.item<double>();
    lsum = lsum + lm.detach() * (static_cast<double>(b1 - b0) / static_cast<double>(nb));
    parts.push_back(lg.detach());
  }
  StepOut o;
  o.logits = torch::cat(parts, 0);
  o.loss = lsum;
  step_w();
  const Tensor E = net->expected_energy();
  if (b.alpha_on) {
    Tensor kl = torch::zeros({});
    for (auto& L : net->layers) {
      const Tensor p = torch::softmax(L->alpha, 0);
      kl = kl + (p * torch::log(p.clamp_min(1e-12))).sum() + std::log(static_cast<double>(p.size(0)));
    }
    (energy_term(E) + cfg.kl_weight * kl).backward();
    double sumR = 0;
    for (double v : R) sumR += v;
    for (int l = 0; l < nl; ++l) {
      auto& L = net->layers[static_cast<size_t>(l)];
      const Tensor pr = probs_of(l);
      Tensor g = torch::zeros_like(pr);
      for (int m = 0; m < M; ++m) {
        const double adv = M > 1 ? R[static_cast<size_t>(m)] - (sumR - R[static_cast<size_t>(m)]) / (M - 1) : 0.0;
        Tensor onehot = torch::zeros_like(pr);
        onehot[paths[static_cast<size_t>(m)][static_cast<size_t>(l)]] = 1.0;
        g = g + adv / M * (onehot - pr);
      }
      L->alpha.mutable_grad() = L->alpha.grad().defined() ? L->alpha.grad() + g : g;
    }
    opt_a->step();
  }
  o.energy = E.item<double>();
  return o;
}

}  // namespace cimsim::enos::search::detail
