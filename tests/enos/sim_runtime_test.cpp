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
  // Every node runs on the accelerator: the 8 layers plus the vector ops (pools, shuffle, the rescaling concat
  // copy, add); split, flatten and the identity concat input are address arithmetic.
  int layers = 0, vector_ops = 0;
  for (const auto& l : r.layers) (cimsim::accel::is_vector_kind(l.kind) ? vector_ops : layers)++;
  EXPECT_EQ(layers, 8);
  EXPECT_GE(vector_ops, 5);
  for (const auto& l : r.layers) {
    SCOPED_TRACE(l.node);
    EXPECT_EQ(l.images, n_images);
    EXPECT_GT(l.predicted_pj, 0);
    // Steady state (constants resident) equals the plan exactly; cycles too.
    EXPECT_EQ(l.steady_energy_aj, cimsim::pj_to_aj(l.predicted_pj));
    EXPECT_EQ(l.energy_diff_pct(), 0.0);
    EXPECT_EQ(l.steady_cycles, l.model_cycles);
    int64_t sum = 0;
    for (const auto& [k, v] : l.components_aj) sum += v;
    EXPECT_EQ(sum, l.steady_energy_aj);  // the per-component registers add up to the layer total
  }
  EXPECT_TRUE(r.host_ops.empty());
  // The export's per-layer estimate is the plan's.
  for (const auto& l : r.layers)
    if (!cimsim::accel::is_vector_kind(l.kind)) EXPECT_EQ(l.predicted_pj, e.nodes[l.node_index].predicted_energy_pj);
  EXPECT_GT(r.first_run_extra_pj, 0);  // the first image loaded the pinned constants
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
