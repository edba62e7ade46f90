// Simulator runtime vs host reference runtime on the synthetic export (every node kind, all seven operators,
// digital and CIM with ADC noise). One SystemC elaboration per test (ctest runs each test in its own process).
#include <cmath>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/enos/runtime.hpp"
#include "cimsim/enos/sim_runtime.hpp"
#include "cimsim/enos/synthetic.hpp"

namespace enos = cimsim::enos;

namespace {

std::vector<std::vector<int8_t>> random_images(const enos::NetworkExport& e, int n, uint64_t seed) {
  cimsim::SplitMix64 rng(seed);
  std::vector<std::vector<int8_t>> imgs(n);
  for (auto& img : imgs) {
    std::vector<uint8_t> px(static_cast<size_t>(e.input.elems()));
    for (auto& p : px) p = static_cast<uint8_t>(rng.below(256));
    img = enos::quantize_image(e, px.data());
  }
  return imgs;
}

void expect_matches_host_and_prediction(cimsim::accel::Level level, int n_images) {
  const auto table = cimsim::EnergyTable::load_default();
  const auto e = enos::make_synthetic_export(11, table);
  const auto imgs = random_images(e, n_images, 99);
  enos::SimOptions opt;
  opt.level = level;
  enos::SimRuntime sim(e, table, opt);
  const auto r = sim.run(imgs);
  ASSERT_EQ(r.results.size(), imgs.size());
  enos::HostRuntime host(e);
  std::set<std::vector<int8_t>> distinct;
  for (size_t i = 0; i < imgs.size(); ++i) {
    const auto h = host.infer(imgs[i].data());
    EXPECT_EQ(r.results[i].logits, h.logits) << "image " << i;
    EXPECT_EQ(r.results[i].prediction, h.prediction) << "image " << i;
    distinct.insert(h.logits);
  }
  // The comparison is not vacuous: logits differ between images.
  if (n_images > 1) {
    EXPECT_EQ(distinct.size(), imgs.size());
  }
  ASSERT_EQ(r.layers.size(), 8u);
  for (const auto& l : r.layers) {
    SCOPED_TRACE(l.node);
    EXPECT_EQ(l.images, n_images);
    EXPECT_GT(l.predicted_pj, 0);
    EXPECT_LT(std::fabs(l.energy_diff_pct()), 1.0) << l.energy_pj_per_image() << " pJ simulated vs " << l.predicted_pj;
    EXPECT_EQ(l.cycles, l.model_cycles * n_images);
    int64_t sum = 0;
    for (const auto& [k, v] : l.components_aj) sum += v;
    EXPECT_EQ(sum, l.energy_aj);  // the per-component registers add up to the layer total
  }
  EXPECT_EQ(r.host_ops.size(), 9u);
}

}  // namespace

TEST(EnosSimRuntime, LtMatchesHostReferenceAndPredictedEnergy) {
  expect_matches_host_and_prediction(cimsim::accel::Level::Lt, 6);
}

TEST(EnosSimRuntime, CycleLevelMatchesHostReferenceAndPredictedEnergy) {
  expect_matches_host_and_prediction(cimsim::accel::Level::Cycle, 2);
}

TEST(EnosSimRuntime, RejectsWrongImageSize) {
  const auto table = cimsim::EnergyTable::load_default();
  const auto e = enos::make_synthetic_export(3, table);
  enos::SimRuntime sim(e, table);
  EXPECT_THROW(sim.run({std::vector<int8_t>(5)}), cimsim::ConfigError);
}
