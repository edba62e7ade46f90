// ENOS search checkpoints: save after every epoch, resume with the same bytes as an uninterrupted run.
#include <filesystem>
#include <sstream>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/enos/checkpoint_guard.hpp"

#include "search_run.hpp"

namespace cimsim::enos::search::detail {

namespace fs = std::filesystem;

/// 1 for every parameter of `opt` that holds a gradient tensor, 0 otherwise (checkpointed, see run_search).
Tensor grad_mask(torch::optim::Optimizer& opt) {
  std::vector<int64_t> m;
  for (auto& g : opt.param_groups())
    for (auto& p : g.params()) m.push_back(p.grad().defined() ? 1 : 0);
  return torch::tensor(m, torch::kInt64);
}

void restore_grad_mask(torch::optim::Optimizer& opt, const Tensor& mask) {
  int64_t i = 0;
  for (auto& g : opt.param_groups())
    for (auto& p : g.params()) {
      if (i >= mask.numel()) throw ConfigError("checkpoint: gradient mask has fewer entries than parameters");
      if (mask[i++].item<int64_t>() != 0) p.mutable_grad() = torch::zeros_like(p);
    }
  if (i != mask.numel()) throw ConfigError("checkpoint: gradient mask has more entries than parameters");
}

// ---- checkpoint / resume. A checkpoint holds everything the next epoch depends on, so that a run killed at
// any point and resumed writes the same bytes as an uninterrupted one: weights, buffers, both optimizers,
// observers, chosen candidates, the bilevel validation cursor and which parameters hold a gradient tensor.
// The last matters for the alphas: zero_grad() zeroes existing gradients but leaves absent ones absent, and
// Adam steps a parameter with a zero gradient (its momentum still moves it) but skips one without, so a plain
// reload (no gradients) diverged from the uninterrupted run. (Weights drop their gradients before every step.)
void SearchRun::resume() {
  if (write) {
    std::error_code ec;
    fs::create_directories(cfg.out_dir, ec);
    if (ec) throw IoError("cannot create --out-dir " + cfg.out_dir + ": " + ec.message());
  }
  if (!(write && cfg.resume && fs::exists(ckpt))) return;
  try {
    torch::serialize::InputArchive ar;
    // A regular file within the checkpoint limit whose zip records match their CRC-32 (checkpoint_guard.cpp).
    std::istringstream ckpt_bytes(read_checkpoint(ckpt));
    try {
      ar.load_from(ckpt_bytes);
    } catch (const std::exception& e) {  // corrupt input: exit 2, nothing written (first line: no torch backtrace)
      const std::string what = e.what();
      throw ConfigError("checkpoint '" + ckpt + "' is corrupt or not a checkpoint (" + what.substr(0, what.find('\n')) +
                        "); remove it or use another --out-dir");
    }
    c10::IValue key, hist;
    ar.read("resume_key", key);
    nlohmann::json old = nlohmann::json::parse(key.toStringRef());
    // The hardware first, by name: a search resumed on other hardware would mix two energy models.
    const nlohmann::json now_hw = hw.key();
    const nlohmann::json old_hw =  // a checkpoint of an earlier cimsim: the default hardware
        old.contains("hardware") ? old["hardware"]
                                 : nlohmann::json{{"arch", "built-in defaults"},
                                                  {"arch_fingerprint", array_fingerprint(accel::ArrayConfig{})},
                                                  {"tech", "the default table"},
                                                  {"tech_fingerprint", EnergyTable::load_default().fingerprint()}};
    auto hw_field = [&](const char* k) { return old_hw.contains(k) ? old_hw[k] : nlohmann::json("built-in defaults"); };
    if (old_hw.value("arch_fingerprint", nlohmann::json()) != now_hw["arch_fingerprint"])
      throw ConfigError("checkpoint '" + ckpt + "' was made for another architecture (--arch): " +
                        hw_field("arch").dump() + " (fingerprint " + hw_field("arch_fingerprint").dump() +
                        "), this run uses " + now_hw["arch"].dump() + " (fingerprint " +
                        now_hw["arch_fingerprint"].dump() + "); use the same --arch or another --out-dir");
    if (old_hw.value("tech_fingerprint", nlohmann::json()) != now_hw["tech_fingerprint"])
      throw ConfigError("checkpoint '" + ckpt + "' was made for another energy table (--tech): " +
                        hw_field("tech").dump() + " (fingerprint " + hw_field("tech_fingerprint").dump() +
                        "), this run uses " + now_hw["tech"].dump() + " (fingerprint " +
                        now_hw["tech_fingerprint"].dump() + "); use the same --tech or another --out-dir");
    old.erase("hardware");
    if (const std::string d = config_difference(old, resume_key(cfg)); !d.empty())
      throw ConfigError("checkpoint '" + ckpt + "' was written by a different configuration: " + d +
                        "; resume with the checkpoint's settings, or use --force or another --out-dir");
    net->load(ar);
    torch::serialize::InputArchive aw, aa, ad;
    ar.read("opt_w", aw);
    ar.read("opt_a", aa);
    ar.read("opt_d", ad);
    opt_w->load(aw);
    opt_a->load(aa);
    opt_d->load(ad);
    Tensor obs, chosen, ep;
    ar.read("observers", obs);
    ar.read("chosen", chosen);
    ar.read("epochs_done", ep);
    obs = obs.to(torch::kFloat64).contiguous();
    net->set_observer_values(std::vector<double>(obs.data_ptr<double>(), obs.data_ptr<double>() + obs.numel()));
    for (int l = 0; l < nl; ++l) net->layers[static_cast<size_t>(l)]->chosen = static_cast<int>(chosen[l].item<int64_t>());
    start_epoch = static_cast<int>(ep.item<int64_t>());
    Tensor vp, gw, ga;
    ar.read("val_pos", vp);
    ar.read("grad_defined_w", gw);
    ar.read("grad_defined_a", ga);
    val_pos = vp.item<int64_t>();
    restore_grad_mask(*opt_w, gw);
    restore_grad_mask(*opt_a, ga);
    Tensor gd;
    ar.read("grad_defined_d", gd);
    restore_grad_mask(*opt_d, gd);
    ar.read("history", hist);
    for (auto& h : nlohmann::json::parse(hist.toStringRef())) history.push_back(h);
    // The uninterrupted run discretizes at the start of the first epoch after the search, i.e. after the
    // checkpoint of the last search epoch was written: a run resumed from that checkpoint must still do it.
    discretized = fixed || start_epoch > cfg.pretrain_epochs + cfg.warmup_epochs + cfg.epochs;
    c10::IValue sj;
    ar.read("supernet", sj);
    supernet_j = nlohmann::json::parse(sj.toStringRef());
    ar.read("sensitivity", sj);
    sensitivity_j = nlohmann::json::parse(sj.toStringRef());
  } catch (const c10::Error& e) {
    throw ConfigError("checkpoint '" + ckpt + "' cannot be resumed (damaged, or written by an older cimsim): " +
                      e.what_without_backtrace());
  }
}

void SearchRun::save_ckpt(int epochs_done) {
  torch::serialize::OutputArchive ar;
  net->save(ar);
  torch::serialize::OutputArchive aw, aa, ad;
  opt_w->save(aw);
  opt_a->save(aa);
  opt_d->save(ad);
  ar.write("opt_w", aw);
  ar.write("opt_a", aa);
  ar.write("opt_d", ad);
  ar.write("observers", torch::tensor(net->observer_values(), torch::kFloat64));
  std::vector<int64_t> ch;
  for (auto& L : net->layers) ch.push_back(L->chosen);
  ar.write("chosen", torch::tensor(ch, torch::kInt64));
  ar.write("epochs_done", torch::tensor(static_cast<int64_t>(epochs_done)));
  ar.write("val_pos", torch::tensor(val_pos));
  ar.write("grad_defined_w", grad_mask(*opt_w));
  ar.write("grad_defined_a", grad_mask(*opt_a));
  ar.write("grad_defined_d", grad_mask(*opt_d));
  ar.write("supernet", c10::IValue(supernet_j.dump()));
  ar.write("sensitivity", c10::IValue(sensitivity_j.dump()));
  nlohmann::json key = resume_key(cfg);
  key["hardware"] = hw.key();
  ar.write("resume_key", c10::IValue(key.dump()));
  ar.write("history", c10::IValue(nlohmann::json(history).dump()));
  const std::string tmp = ckpt + ".tmp";
  ar.save_to(tmp);
  std::error_code ec;
  fs::rename(tmp, ckpt, ec);
  if (ec) throw IoError("cannot write checkpoint '" + ckpt + "': " + ec.message());
  atomic_write_json(cfg.out_dir + "/checkpoint.json",
                    {{"epochs_done", epochs_done},
                     {"epochs_total", cfg.pretrain_epochs + cfg.warmup_epochs + cfg.epochs + cfg.finetune_epochs},
                     {"discretized", discretized}, {"config", config_json(cfg)}, {"history", history}});
}

}  // namespace cimsim::enos::search::detail
