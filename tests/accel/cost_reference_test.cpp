// Issue 7, item 6: the accelerator's cost model (layer_cost) against the independent reference in
// tests/accel/reference/cost_reference.cpp (written from docs/accelerator-numerics.md, no calls into the model's
// cost code): randomized layers of every kind, configurations and placements (residency, tiling into row bands
// with halos, streamed constants, double buffering, overflow) compared exactly; hand-computed goldens; and the
// program compiler's per-node costs checked against the reference under each node's placement.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/program.hpp"
#include "cimsim/core/error.hpp"
#include "datapath_test_util.hpp"
#include "reference/cost_reference.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testref;
using testutil::rand_int;

namespace {

const EnergyTable& table() {
  static const EnergyTable t = EnergyTable::load_default();
  return t;
}

RefConfig to_ref(const ArrayConfig& a) {
  RefConfig r;
  r.rows = a.rows;
  r.cols = a.cols;
  r.cim_rows = a.cim_rows;
  r.cim_cols = a.cim_cols;
  r.weight_buffer_bytes = a.weight_buffer_bytes;
  r.act_buffer_bytes = a.act_buffer_bytes;
  r.dma_bytes_per_cycle = a.dma_bytes_per_cycle;
  r.adc_cycles_per_bit = a.adc_cycles_per_bit;
  r.vector_lanes = a.vector_lanes;
  r.double_buffer = a.double_buffer;
  r.clock_hz = a.clock_hz;
  return r;
}

RefPlacement to_ref(const Placement& p) {
  RefPlacement r;
  r.in_dram = p.in_dram;
  r.in2_dram = p.in2_dram;
  r.out_dram = p.out_dram;
  r.weights_resident = p.weights_resident;
  r.stage_bytes = p.stage_bytes;
  r.wbuf_bytes = p.wbuf_bytes;
  return r;
}

std::string describe(const ArrayConfig& c, const LayerShape& s, Op op, Mode mode, const CimParams& cim,
                     const Placement& p) {
  std::ostringstream o;
  o << kind_name(s.kind) << " n" << s.n << " cin" << s.cin << " " << s.h << "x" << s.w << " cout" << s.cout << " k"
    << s.kh << "x" << s.kw << " s" << s.stride << " p" << s.pad << " g" << s.groups << " " << op_name(op) << "/"
    << mode_name(mode);
  if (mode == Mode::Cim) o << " rows" << cim.rows << " adc" << cim.adc_bits;
  o << " | cfg R" << c.rows << " C" << c.cols << " cim" << c.cim_rows << "x" << c.cim_cols << " wb"
    << c.weight_buffer_bytes << " ab" << c.act_buffer_bytes << " B" << c.dma_bytes_per_cycle << " adccpb"
    << c.adc_cycles_per_bit << " lanes" << c.vector_lanes << " db" << c.double_buffer << " clk" << c.clock_hz
    << " | place in" << p.in_dram << " in2" << p.in2_dram << " out" << p.out_dram << " wres" << p.weights_resident
    << " stage" << p.stage_bytes << " wbuf" << p.wbuf_bytes;
  return o.str();
}

/// Compares the model's cost to the reference's; returns the differences (empty when identical).
std::string diff(const LayerCost& m, const RefCost& r, Op op, Mode mode, int adc_bits, const RefRates& rates) {
  std::ostringstream o;
  auto chk = [&](const char* what, int64_t got, int64_t want) {
    if (got != want) o << " " << what << ": model " << got << " ref " << want << ";";
  };
  chk("cycles", m.cycles, r.cycles);
  chk("descriptor_cycles", m.descriptor_cycles, r.descriptor_cycles);
  chk("dma_in_cycles", m.dma_in_cycles, r.dma_in_cycles);
  chk("compute_cycles", m.compute_cycles, r.compute_cycles);
  chk("dma_out_cycles", m.dma_out_cycles, r.dma_out_cycles);
  chk("stall_cycles", m.stall_cycles, r.stall_cycles);
  chk("tiles", m.tiles, r.tiles);
  chk("weights_streamed", m.weights_streamed, r.streamed);
  chk("bands", static_cast<int64_t>(m.bands.size()), static_cast<int64_t>(r.bands.size()));
  if (m.bands.size() == r.bands.size()) {
    for (size_t i = 0; i < m.bands.size(); ++i) {
      const Band& a = m.bands[i];
      const RefBand& b = r.bands[i];
      if (a.row0 != b.row0 || a.row1 != b.row1 || a.col0 != b.col0 || a.col1 != b.col1 || a.in_bytes != b.in ||
          a.in2_bytes != b.in2 ||
          a.w_bytes != b.w || a.out_bytes != b.out || a.load_cycles != b.load || a.compute_cycles != b.compute ||
          a.store_cycles != b.store) {
        o << " band " << i << ": model [" << a.row0 << "," << a.row1 << ") cols [" << a.col0 << "," << a.col1
          << ") ref cols [" << b.col0 << "," << b.col1 << ") in" << a.in_bytes << " in2"
          << a.in2_bytes << " w" << a.w_bytes << " out" << a.out_bytes << " load" << a.load_cycles << " compute"
          << a.compute_cycles << " store" << a.store_cycles << " ref [" << b.row0 << "," << b.row1 << ") in" << b.in
          << " in2" << b.in2 << " w" << b.w << " out" << b.out << " load" << b.load << " compute" << b.compute
          << " store" << b.store << ";";
        break;
      }
    }
  } else {
    o << " (ref height " << (r.bands.empty() ? 0 : r.bands[0].row1 - r.bands[0].row0) << ", scan height "
      << r.scan_height << ", fit monotone " << r.fit_monotone << ", model height "
      << (m.bands.empty() ? 0 : m.bands[0].row1 - m.bands[0].row0) << ")";
  }
  for (const auto& [k, v] : r.counts) {
    auto it = m.counts.find(k);
    if (it == m.counts.end()) o << " count " << k << " missing;";
    else chk(("count " + k).c_str(), it->second, v);
  }
  if (m.counts.size() != r.counts.size()) o << " counts keys: model " << m.counts.size() << " ref " << r.counts.size();
  const auto ref_e = ref_energy_aj(r, rates, op, mode, adc_bits);
  const auto model_e = m.energy_aj(table());
  // energy_aj() may leave out components whose energy is zero: a missing key reads as 0.
  for (const auto& [k, v] : ref_e) {
    auto it = model_e.find(k);
    chk(("energy_aj " + k).c_str(), it == model_e.end() ? 0 : it->second, v);
  }
  for (const auto& [k, v] : model_e)
    if (!ref_e.count(k)) o << " energy_aj has an unknown component " << k << ";";
  chk("total_aj", m.total_aj(table()), ref_total_aj(ref_e));
  // terms(): count x rate per term, summed per component, is the same energy.
  std::map<std::string, int64_t> from_terms;
  for (const CostTerm& t : m.terms(table())) from_terms[t.component] += t.count * t.aj_each;
  for (const auto& [k, v] : ref_e) chk(("terms " + k).c_str(), from_terms.count(k) ? from_terms.at(k) : 0, v);
  chk("macs()", m.macs(), r.counts.at("compute"));
  chk("dram_bytes()", m.dram_bytes(), r.counts.at("dram") + r.counts.at("descriptor"));
  // Utilisation = MACs / (lanes x cycles), lanes R*C (digital) or cim_rows*cim_cols (CIM).
  const double lanes = mode == Mode::Cim ? static_cast<double>(m.cfg.cim_rows) * m.cfg.cim_cols
                                         : static_cast<double>(m.cfg.rows) * m.cfg.cols;
  const double util = static_cast<double>(r.counts.at("compute")) / (lanes * static_cast<double>(r.cycles));
  if (std::abs(m.utilisation() - util) > 1e-12 * std::max(1.0, util))
    o << " utilisation: model " << m.utilisation() << " ref " << util << ";";
  chk("operator_aj", m.operator_aj(table()), ref_e.at("compute") + ref_e.at("adc") + ref_e.at("dac"));
  return o.str();
}

/// Statistics of a randomized run, so that a test cannot pass without exercising each feature.
struct Coverage {
  int cases = 0, ok = 0, overflow = 0, config_error = 0, multi_band = 0, streamed = 0, double_buffered = 0;
  int resident_io = 0, weights_resident = 0, halo = 0, cim = 0, non_monotone = 0, bisect_below_scan = 0;
  int column_split = 0;
  std::vector<std::string> failures;
};

/// Runs one case through both models and records the outcome; a mismatch becomes a failure line.
void check_case(const ArrayConfig& cfg, const LayerShape& s, Op op, Mode mode, const CimParams& cim,
                const Placement& p, Coverage& cov) {
  ++cov.cases;
  const RefConfig rc = to_ref(cfg);
  const RefCost r = ref_layer_cost(rc, s, op, mode, cim, to_ref(p));
  const std::string where = describe(cfg, s, op, mode, cim, p);
  auto fail = [&](const std::string& what) {
    if (cov.failures.size() < 12) cov.failures.push_back(where + " ::" + what);
  };
  if (r.status == RefStatus::Ok) {
    LayerCost m;
    try {
      m = layer_cost(cfg, s, op, mode, cim, p);
    } catch (const std::exception& e) {
      fail(std::string(" model threw: ") + e.what());
      return;
    }
    ++cov.ok;
    const std::string d = diff(m, r, op, mode, cim.adc_bits, RefRates::from(table(), rc));
    if (!d.empty()) fail(d);
    // Minimum staging bytes: the worst single output row (doubled with double buffering).
    int64_t min_stage = 0;
    const int64_t nrows = int64_t{s.n} * s.out_h();
    for (int64_t row = 0; row < nrows; ++row) min_stage = std::max(min_stage, ref_band_need(rc, s, to_ref(p), row, row + 1));
    if (min_stage_bytes(cfg, s, p) != min_stage)
      fail(" min_stage_bytes: model " + std::to_string(min_stage_bytes(cfg, s, p)) + " ref " + std::to_string(min_stage));
    if (r.bands.size() > 1) ++cov.multi_band;
    if (r.column_split) ++cov.column_split;
    if (m.column_split != r.column_split) fail(" column_split flag differs from the reference's");
    if (r.streamed) ++cov.streamed;
    if (cfg.double_buffer && r.bands.size() > 1) ++cov.double_buffered;
    if (!p.in_dram || !p.out_dram) ++cov.resident_io;
    if (p.weights_resident && !is_vector_kind(s.kind)) ++cov.weights_resident;
    if (mode == Mode::Cim) ++cov.cim;
    if (!r.fit_monotone) ++cov.non_monotone;
    if (r.bands.size() > 1 && r.bands[0].row1 - r.bands[0].row0 != r.scan_height) ++cov.bisect_below_scan;
    // Halo: the bands' input rows overlap (sum of band input bytes > the input itself).
    int64_t in_sum = 0;
    for (const RefBand& b : r.bands) in_sum += b.in;
    if (p.in_dram && in_sum > s.input_elems()) ++cov.halo;
  } else if (r.status == RefStatus::Overflow) {
    ++cov.overflow;
    try {
      (void)layer_cost(cfg, s, op, mode, cim, p);
      fail(" model did not throw BufferOverflowError (ref: " + r.why + ")");
    } catch (const BufferOverflowError&) {
    } catch (const std::exception& e) {
      fail(std::string(" model threw another error than BufferOverflowError: ") + e.what());
    }
  } else {
    ++cov.config_error;
    try {
      (void)layer_cost(cfg, s, op, mode, cim, p);
      fail(" model did not throw ConfigError (ref: " + r.why + ")");
    } catch (const BufferOverflowError& e) {
      fail(std::string(" model threw BufferOverflowError for a configuration error: ") + e.what());
    } catch (const ConfigError&) {
    }
  }
}

void report(const Coverage& cov, const char* name) {
  for (const std::string& f : cov.failures) ADD_FAILURE() << f;
  std::printf("%s: %d column-split\n", name, cov.column_split);
  std::printf("%s: %d cases, %d costed, %d overflow, %d config errors, %d multi-band, %d halo, %d streamed, "
              "%d double-buffered multi-band, %d resident in/out, %d weights resident, %d CIM, %d non-monotone fit, "
              "%d bisection below the largest fitting height\n",
              name, cov.cases, cov.ok, cov.overflow, cov.config_error, cov.multi_band, cov.halo, cov.streamed,
              cov.double_buffered, cov.resident_io, cov.weights_resident, cov.cim, cov.non_monotone, cov.bisect_below_scan);
}

// --- random generators --------------------------------------------------------------------------------------

int64_t log_uniform(SplitMix64& g, int64_t lo, int64_t hi) {
  const double l = std::log(static_cast<double>(lo)), h = std::log(static_cast<double>(hi));
  return std::max<int64_t>(lo, std::min<int64_t>(hi, std::llround(std::exp(l + (h - l) * g.uniform()))));
}

template <class T, size_t N>
T pick(SplitMix64& g, const T (&v)[N]) {
  return v[g.below(N)];
}

ArrayConfig rand_config(SplitMix64& g) {
  ArrayConfig c;
  const int dims[] = {1, 2, 3, 4, 7, 8, 16, 32};
  c.rows = pick(g, dims);
  c.cols = pick(g, dims);
  const int cim_rows[] = {8, 16, 32, 64, 128, 256};
  const int cim_cols[] = {1, 4, 8, 16, 32};
  c.cim_rows = pick(g, cim_rows);
  c.cim_cols = pick(g, cim_cols);
  c.weight_buffer_bytes = log_uniform(g, 64, 4 << 20);
  c.act_buffer_bytes = log_uniform(g, 64, 4 << 20);
  const int dma[] = {1, 2, 3, 4, 7, 8, 16, 32, 64, 200};
  c.dma_bytes_per_cycle = pick(g, dma);
  c.adc_cycles_per_bit = rand_int(g, 1, 3);
  const int lanes[] = {1, 3, 4, 8, 16, 32, 64};
  c.vector_lanes = pick(g, lanes);
  c.double_buffer = g.below(2) == 1;
  const double clocks[] = {0.0, 0.0, 0.0, 2.5e8, 5e8, 7.5e8, 1.2e9, 2e9, 3e9};
  c.clock_hz = pick(g, clocks);
  return c;
}

LayerShape rand_conv(SplitMix64& g) {
  for (;;) {
    const int n = rand_int(g, 1, 3);
    int groups = 1, cin, cout;
    const int kind = rand_int(g, 0, 3);
    if (kind == 0) {  // depthwise
      groups = cin = cout = rand_int(g, 1, 24);
    } else if (kind == 1) {  // grouped
      groups = pick(g, {2, 3, 4});
      cin = groups * rand_int(g, 1, 8);
      cout = groups * rand_int(g, 1, 12);
    } else {
      cin = rand_int(g, 1, 40);
      cout = rand_int(g, 1, 48);
    }
    const int k = pick(g, {1, 1, 2, 3, 3, 5, 7});
    const int stride = rand_int(g, 1, 3);
    const int pad = rand_int(g, 0, k / 2 + (k == 1 ? 0 : 1));
    const int h = rand_int(g, 1, 20), w = rand_int(g, 1, 20);
    LayerShape s = LayerShape::conv(n, cin, h, w, cout, k, stride, pad, groups);
    if (s.check().empty()) return s;
  }
}

LayerShape rand_fc(SplitMix64& g) { return LayerShape::fc(rand_int(g, 1, 5), rand_int(g, 1, 400), rand_int(g, 1, 120)); }

LayerShape rand_vector(SplitMix64& g) {
  for (;;) {
    const LayerKind kinds[] = {LayerKind::MaxPool, LayerKind::AvgPool, LayerKind::GlobalAvgPool,
                               LayerKind::ChannelShuffle, LayerKind::Copy, LayerKind::Add};
    const LayerKind kind = pick(g, kinds);
    const int n = rand_int(g, 1, 3), c = rand_int(g, 1, 48), h = rand_int(g, 1, 24), w = rand_int(g, 1, 24);
    LayerShape s;
    switch (kind) {
      case LayerKind::MaxPool: {
        const int k = rand_int(g, 1, 3);
        s = LayerShape::vector(kind, n, c, h, w, k, rand_int(g, 1, 3), rand_int(g, 0, k / 2));
        break;
      }
      case LayerKind::AvgPool: {
        const int k = rand_int(g, 1, 4);
        s = LayerShape::vector(kind, n, c, h, w, k, rand_int(g, 1, k));
        break;
      }
      case LayerKind::ChannelShuffle: {
        const int gr = pick(g, {1, 2, 3, 4});
        s = LayerShape::vector(kind, n, gr * rand_int(g, 1, 12), h, w, 1, 1, 0, gr);
        break;
      }
      default: s = LayerShape::vector(kind, n, c, h, w); break;
    }
    if (s.check().empty()) return s;
  }
}

/// Random op/mode/CIM parameters valid for `cfg` (CIM only for supported ops; rows <= cim_rows).
void rand_op(SplitMix64& g, const ArrayConfig& cfg, const LayerShape& s, Op& op, Mode& mode, CimParams& cim) {
  cim = CimParams{};
  if (is_vector_kind(s.kind)) {
    op = Op::MAC8;
    mode = Mode::Digital;
    return;
  }
  if (g.below(5) < 2) {
    const Op cops[] = {Op::MAC4, Op::BWN, Op::XNOR, Op::MF};
    op = pick(g, cops);
    mode = Mode::Cim;
    cim.rows = rand_int(g, 1, cfg.cim_rows);
    if (g.below(3) == 0) cim.rows = cfg.cim_rows;
    cim.adc_bits = rand_int(g, 1, 16);
    cim.adc_range = rand_int(g, 1, 1000);
  } else {
    op = kAllOps[g.below(kNumOps)];
    mode = Mode::Digital;
  }
}

/// Random placement; staging and weight-buffer space chosen around the layer's needs (from the reference's
/// per-row need and the spec's constant size) so that one band, several bands, overflow and streaming all occur.
Placement rand_place(SplitMix64& g, const ArrayConfig& cfg, const LayerShape& s, Op op) {
  Placement p;
  p.in_dram = g.below(10) < 7;
  p.in2_dram = g.below(10) < 7;
  p.out_dram = g.below(10) < 7;
  p.weights_resident = g.below(4) == 0;
  const RefConfig rc = to_ref(cfg);
  const RefPlacement rp = to_ref(p);
  const int64_t nrows = int64_t{s.n} * s.out_h();
  const int64_t whole = ref_band_need(rc, s, rp, 0, nrows);
  int64_t row = 0;
  for (int64_t r = 0; r < nrows; ++r) row = std::max(row, ref_band_need(rc, s, rp, r, r + 1));
  switch (g.below(6)) {
    case 0: p.stage_bytes = -1; break;
    case 1: p.stage_bytes = row > 0 ? static_cast<int64_t>(g.below(static_cast<uint64_t>(row))) : 0; break;  // overflow
    case 2: p.stage_bytes = whole + static_cast<int64_t>(g.below(100)); break;  // one band
    default:  // between one row and the whole layer: several bands
      p.stage_bytes = row + static_cast<int64_t>(g.below(static_cast<uint64_t>(std::max<int64_t>(1, whole - row))));
  }
  p.stage_bytes = std::min(p.stage_bytes, cfg.act_buffer_bytes);
  if (!is_vector_kind(s.kind)) {
    const int bits[] = {8, 4, 1, 1, 8, 4, 8};
    const int64_t cnst = int64_t{s.cout} * ((s.reduction() * bits[static_cast<int>(op)] + 7) / 8) + 12 * s.cout;
    switch (g.below(4)) {
      case 0: p.wbuf_bytes = -1; break;
      case 1: p.wbuf_bytes = static_cast<int64_t>(g.below(static_cast<uint64_t>(cnst))); break;  // streamed
      case 2: p.wbuf_bytes = log_uniform(g, 1, 8192); break;
      default: p.wbuf_bytes = cnst + static_cast<int64_t>(g.below(64)); break;
    }
    p.wbuf_bytes = std::min(p.wbuf_bytes, cfg.weight_buffer_bytes);
  }
  return p;
}

void run_random(uint64_t seed, int cases, LayerShape (*gen)(SplitMix64&), const char* name, int min_multi_band) {
  SplitMix64 g(seed);
  Coverage cov;
  for (int i = 0; i < cases; ++i) {
    const ArrayConfig cfg = rand_config(g);
    const LayerShape s = gen(g);
    Op op;
    Mode mode;
    CimParams cim;
    rand_op(g, cfg, s, op, mode, cim);
    const Placement p = rand_place(g, cfg, s, op);
    check_case(cfg, s, op, mode, cim, p, cov);
  }
  report(cov, name);
  // The run must exercise what it claims to check.
  EXPECT_GT(cov.ok, cases / 3);
  EXPECT_GT(cov.overflow + cov.column_split, cases / 50);  // (one row does not fit: strips, or not one pixel)
  EXPECT_GE(cov.multi_band, min_multi_band);
  EXPECT_GE(cov.double_buffered, min_multi_band / 4);
  EXPECT_GT(cov.resident_io, cases / 10);
}

}  // namespace

// --- randomized comparisons ---------------------------------------------------------------------------------

TEST(AccelCostReference, RandomConvLayers) {
  run_random(0xC0171, 2500, rand_conv, "conv", 300);
}

TEST(AccelCostReference, RandomFcLayers) {
  run_random(0xFC0172, 1500, rand_fc, "fc", 100);
}

TEST(AccelCostReference, RandomVectorLayers) {
  run_random(0x7EC0173, 2500, rand_vector, "vector", 300);
}

TEST(AccelCostReference, DefaultPlacementMatchesLayerOnItsOwn) {
  // Default Placement (everything in DRAM, whole buffers) and default hardware, every conv kind and operator.
  SplitMix64 g(0xDEF0174);
  Coverage cov;
  for (int i = 0; i < 800; ++i) {
    ArrayConfig cfg;
    cfg.double_buffer = g.below(2) == 1;
    const LayerShape s = g.below(3) == 0 ? rand_fc(g) : g.below(2) ? rand_conv(g) : rand_vector(g);
    Op op;
    Mode mode;
    CimParams cim;
    rand_op(g, cfg, s, op, mode, cim);
    check_case(cfg, s, op, mode, cim, Placement{}, cov);
  }
  report(cov, "default placement");
  EXPECT_GT(cov.ok, 700);
}

TEST(AccelCostReference, RejectsUnsupportedCimLikeTheSpec) {
  // Unsupported operators in CIM mode and rows > cim_rows are configuration errors, not overflows.
  SplitMix64 g(0xBAD0175);
  Coverage cov;
  for (int i = 0; i < 200; ++i) {
    const ArrayConfig cfg = rand_config(g);
    const LayerShape s = g.below(2) ? rand_conv(g) : rand_fc(g);
    CimParams cim;
    Op op;
    if (g.below(2)) {
      const Op bad[] = {Op::MAC8, Op::DEEPSHIFT, Op::ADDER};
      op = pick(g, bad);
      cim.rows = rand_int(g, 1, cfg.cim_rows);
    } else {
      const Op good[] = {Op::MAC4, Op::BWN, Op::XNOR, Op::MF};
      op = pick(g, good);
      cim.rows = cfg.cim_rows + rand_int(g, 1, 64);
    }
    check_case(cfg, s, op, Mode::Cim, cim, Placement{}, cov);
  }
  report(cov, "bad cim");
  EXPECT_EQ(cov.config_error, 200);
}

TEST(AccelCostReference, LargeStandardLayers) {
  // ResNet-18 / MobileNet-sized layers (tensors larger than the default 128 KiB activation buffer, so tiled into
  // many bands; constants larger than the 64 KiB weight buffer, so streamed) under default and varied hardware.
  const LayerShape shapes[] = {
      LayerShape::conv(2, 3, 224, 224, 64, 7, 2, 3),           // conv1
      LayerShape::conv(1, 64, 56, 56, 64, 3, 1, 1),            // layer1
      LayerShape::conv(1, 128, 28, 28, 256, 3, 2, 1),          // layer3 downsampling
      LayerShape::conv(4, 256, 14, 14, 512, 1, 2, 0),          // 1x1 shortcut, batch 4
      LayerShape::conv(1, 144, 56, 56, 144, 3, 2, 1, 144),     // MobileNet-v2 depthwise
      LayerShape::fc(8, 512, 1000),                            // classifier, batch 8
      LayerShape::vector(LayerKind::MaxPool, 2, 64, 112, 112, 3, 2, 1),
      LayerShape::vector(LayerKind::Add, 1, 128, 28, 28),
      LayerShape::vector(LayerKind::GlobalAvgPool, 4, 512, 7, 7),
  };
  SplitMix64 g(0x1A760178);
  Coverage cov;
  for (const LayerShape& s : shapes) {
    for (int v = 0; v < 6; ++v) {
      ArrayConfig cfg;
      if (v >= 2) cfg = rand_config(g);
      cfg.double_buffer = v % 2 == 1;
      Op op = Op::MAC8;
      Mode mode = Mode::Digital;
      CimParams cim;
      if (v >= 2) rand_op(g, cfg, s, op, mode, cim);
      Placement p;
      if (v >= 4) {
        p.in_dram = v == 4;
        p.out_dram = v == 5;
      }
      check_case(cfg, s, op, mode, cim, p, cov);
    }
  }
  report(cov, "large layers");
  EXPECT_GT(cov.multi_band, 10);
  EXPECT_GT(cov.streamed, 3);
}

// --- hand-computed goldens (reference and model both checked against the arithmetic) --------------------------

namespace {
/// Beyond the hand-checked figures, every other field of the golden case must agree too.
void expect_both(const ArrayConfig& cfg, const LayerShape& s, Op op, Mode mode, const CimParams& cim,
                 const Placement& p) {
  Coverage cov;
  check_case(cfg, s, op, mode, cim, p, cov);
  report(cov, "golden");
  EXPECT_EQ(cov.ok, 1);
}
}  // namespace

TEST(AccelCostReference, GoldenMultiBandWithHalo) {
  // MAC8 conv n1 cin2 6x6 -> cout3, 3x3, stride 1, pad 1: OH = OW = 6, K = 18, R_rows = 6.
  // Default hardware (R = C = 16, B = 16). Input and output in DRAM, stage 100 bytes, constants fit.
  // Row need: out row = 3 * 6 = 18 B; input rows of output rows [a, b): rows max(0,a-1) .. min(6, b+1),
  //   2 * 6 = 12 B per input row. Whole layer: 72 + 108 = 180 > 100.
  // Height 3: band [0,3) reads rows 0..3 (4 rows, 48 B) + out 54 = 102 > 100 -> no.
  // Height 2: [0,2): rows 0..2 = 3 rows 36 + 36 = 72; [2,4): rows 1..4 = 4 rows 48 + 36 = 84; [4,6): rows 3..5
  //   = 36 + 36 = 72. Worst 84 <= 100 -> height 2, 3 bands; the input bytes 36 + 48 + 36 = 120 > 72 (halo).
  // Constants: 3 * 18 + 16 * 3 = 102 B in band 0.
  // load = ceil((36+102)/16) = 9, ceil(48/16) = 3, ceil(36/16) = 3; store = ceil(36/16) = 3 each.
  // compute per band = 1 * ceil(3/16) * (18 + ceil(18/16) * (2 + 12)) = 18 + 2*14 = 46.
  // D = 8 + 8 = 16; cycles = 16 + (9+3+3) + 3*46 + 3*3 = 16 + 15 + 138 + 9 = 178; stall = 178 - 16 - 138 = 24.
  // tiles = 1 * 1 * 2 * 3 bands = 6. dram = 120 + 102 + 108 = 330; wb write 102, read 102 * 3 = 306;
  // ab write 120 + 108 = 228; ab read 1 * 1 * 36 * 18 + 108 = 756.
  const LayerShape s = LayerShape::conv(1, 2, 6, 6, 3, 3, 1, 1);
  Placement p;
  p.stage_bytes = 100;
  const LayerCost m = layer_cost(ArrayConfig{}, s, Op::MAC8, Mode::Digital, CimParams{}, p);
  const RefCost r = ref_layer_cost(RefConfig{}, s, Op::MAC8, Mode::Digital, CimParams{}, to_ref(p));
  for (const auto* c : {&m.cycles, &r.cycles}) EXPECT_EQ(*c, 178);
  ASSERT_EQ(m.bands.size(), 3u);
  ASSERT_EQ(r.bands.size(), 3u);
  EXPECT_EQ(m.bands[1].in_bytes, 48);
  EXPECT_EQ(r.bands[1].in, 48);
  EXPECT_EQ(m.stall_cycles, 24);
  EXPECT_EQ(r.stall_cycles, 24);
  EXPECT_EQ(m.tiles, 6);
  EXPECT_EQ(r.tiles, 6);
  for (const auto* counts : {&m.counts, &r.counts}) {
    EXPECT_EQ(counts->at("dram"), 330);
    EXPECT_EQ(counts->at("weight_buffer_write"), 102);
    EXPECT_EQ(counts->at("weight_buffer_read"), 306);
    EXPECT_EQ(counts->at("act_buffer_write"), 228);
    EXPECT_EQ(counts->at("act_buffer_read"), 756);
  }
  expect_both(ArrayConfig{}, s, Op::MAC8, Mode::Digital, CimParams{}, p);
}

TEST(AccelCostReference, GoldenDoubleBuffered) {
  // BWN conv n2 cin4 4x4 -> cout8, 1x1: OH = OW = 4, K = 4, R_rows = 8. B = 4, double buffering,
  // stage 80 bytes. Input row 4*4 = 16 B, output row 8*4 = 32 B: band of h rows needs 2 * 48 h -> h = 1 (96 > 80?)
  // 2 * 48 = 96 > 80: overflow at stage 80; take stage 200: h <= 200/96 -> h = 2 (192), 4 bands.
  // Constants: 8 * ceil(4/8) = 8 B weights + 128 B requant = 136 B in band 0.
  // load_0 = ceil((32 + 136)/4) = 42, load_1..3 = 32/4 = 8; store = 64/4 = 16 each.
  // compute per band = 1 * ceil(8/16) * (4 + ceil(4/16) * (2 + 8)) = 14.
  // D = 128/4 + 8 = 40. cycles = 40 + load_0 42 + max(14, 8, 0) + max(14, 8, 16) + max(14, 8, 16)
  //   + max(14, 0, 16) + store_last 16 = 40 + 42 + 14 + 16 + 16 + 16 + 16 = 160. stall = 160 - 40 - 56 = 64.
  const LayerShape s = LayerShape::conv(2, 4, 4, 4, 8, 1);
  ArrayConfig cfg;
  cfg.dma_bytes_per_cycle = 4;
  cfg.double_buffer = true;
  Placement p;
  // Stage 80: one row (96) does not fit: column strips. A strip of width w needs 2 * (4 w + 8 w) = 24 w <= 80:
  // w = 3, strips [0,3) (in 4*3 = 12, out 8*3 = 24) and [3,4) (in 4, out 8), 8 rows x 2 strips = 16 bands.
  p.stage_bytes = 80;
  {
    const LayerCost cs = layer_cost(cfg, s, Op::BWN, Mode::Digital, CimParams{}, p);
    const RefCost rs = ref_layer_cost(to_ref(cfg), s, Op::BWN, Mode::Digital, CimParams{}, to_ref(p));
    EXPECT_TRUE(cs.column_split);
    ASSERT_EQ(cs.bands.size(), 16u);
    ASSERT_EQ(rs.bands.size(), 16u);
    EXPECT_EQ(cs.bands[0].col1, 3);
    EXPECT_EQ(cs.bands[0].in_bytes, 12);
    EXPECT_EQ(cs.bands[0].out_bytes, 24);
    EXPECT_EQ(cs.bands[1].col0, 3);
    EXPECT_EQ(cs.bands[1].in_bytes, 4);
    EXPECT_EQ(cs.bands[1].out_bytes, 8);
    EXPECT_EQ(rs.bands[1].in, 4);
    EXPECT_EQ(cs.bands[15].row0, 7);
    expect_both(cfg, s, Op::BWN, Mode::Digital, CimParams{}, p);
  }
  // Stage 20: not even one output pixel (2 * (4 + 8) = 24) fits: the only BufferOverflow left.
  p.stage_bytes = 20;
  EXPECT_THROW(layer_cost(cfg, s, Op::BWN, Mode::Digital, CimParams{}, p), BufferOverflowError);
  EXPECT_EQ(ref_layer_cost(to_ref(cfg), s, Op::BWN, Mode::Digital, CimParams{}, to_ref(p)).status, RefStatus::Overflow);
  p.stage_bytes = 200;
  const LayerCost m = layer_cost(cfg, s, Op::BWN, Mode::Digital, CimParams{}, p);
  const RefCost r = ref_layer_cost(to_ref(cfg), s, Op::BWN, Mode::Digital, CimParams{}, to_ref(p));
  EXPECT_EQ(m.bands.size(), 4u);
  EXPECT_EQ(r.bands.size(), 4u);
  EXPECT_EQ(m.cycles, 160);
  EXPECT_EQ(r.cycles, 160);
  EXPECT_EQ(m.stall_cycles, 64);
  EXPECT_EQ(r.stall_cycles, 64);
  EXPECT_EQ(m.dma_in_cycles, 66);  // 42 + 3 * 8
  EXPECT_EQ(r.dma_in_cycles, 66);
  EXPECT_EQ(min_stage_bytes(cfg, s, p), 96);
  expect_both(cfg, s, Op::BWN, Mode::Digital, CimParams{}, p);
}

TEST(AccelCostReference, GoldenStreamedWeightsCim) {
  // MF CIM FC n3 cin40 -> cout20, rows 16, 4-bit ADC, cim macro 16 x 8 (cim_rows x cim_cols).
  // K = 40, OH = OW = 1, R_rows = 3. Constants 20 * 40 + 16 * 20 = 1120 B; wbuf_bytes 500 < 1120 -> streamed;
  // one CIM tile with its parameters = 16 * 8 + 16 * 8 = 256 <= 500, so it runs. Input resident, output in
  // DRAM, stage 45 bytes: row need 20 B, whole 60 > 45 -> height 2, bands [0,2) and [2,3).
  // w_b = 1120 in both bands. load = ceil(1120/16) = 70 each; store = ceil(40/16) = 3, ceil(20/16) = 2.
  // compute = 1 * ceil(20/8) * (40 + ceil(40/16) * (2 + P * 4 * 1)) = 3 * (40 + 3 * (2 + 4P)):
  //   P = 2 -> 3 * (40 + 30) = 210; P = 1 -> 3 * (40 + 18) = 174.
  // cycles = 16 + 140 + 384 + 5 = 545. tiles = 3 * 3 * 2 = 18. adc = 60 outputs * 3 chunks = 180.
  // cim_write = 800 * 2 = 1600; wb write 2240, read 2240; dram 2240 + 60 = 2300; ab write 0 + 60;
  // ab read 3 col tiles * 3 pixels * 40 + 60 = 420; dac 0 (MF has no DAC).
  const LayerShape s = LayerShape::fc(3, 40, 20);
  ArrayConfig cfg;
  cfg.cim_rows = 16;
  cfg.cim_cols = 8;
  CimParams cim;
  cim.rows = 16;
  cim.adc_bits = 4;
  Placement p;
  p.in_dram = false;
  p.stage_bytes = 45;
  p.wbuf_bytes = 500;
  const LayerCost m = layer_cost(cfg, s, Op::MF, Mode::Cim, cim, p);
  const RefCost r = ref_layer_cost(to_ref(cfg), s, Op::MF, Mode::Cim, cim, to_ref(p));
  EXPECT_TRUE(m.weights_streamed);
  EXPECT_TRUE(r.streamed);
  EXPECT_EQ(m.cycles, 545);
  EXPECT_EQ(r.cycles, 545);
  EXPECT_EQ(m.tiles, 18);
  EXPECT_EQ(r.tiles, 18);
  for (const auto* counts : {&m.counts, &r.counts}) {
    EXPECT_EQ(counts->at("adc"), 180);
    EXPECT_EQ(counts->at("cim_write"), 1600);
    EXPECT_EQ(counts->at("weight_buffer_write"), 2240);
    EXPECT_EQ(counts->at("weight_buffer_read"), 2240);
    EXPECT_EQ(counts->at("dram"), 2300);
    EXPECT_EQ(counts->at("act_buffer_write"), 60);
    EXPECT_EQ(counts->at("act_buffer_read"), 420);
    EXPECT_EQ(counts->at("dac"), 0);
  }
  expect_both(cfg, s, Op::MF, Mode::Cim, cim, p);
  // Less weight-buffer space than one tile with its parameters (255 < 256): BufferOverflow.
  p.wbuf_bytes = 255;
  EXPECT_THROW(layer_cost(cfg, s, Op::MF, Mode::Cim, cim, p), BufferOverflowError);
  EXPECT_EQ(ref_layer_cost(to_ref(cfg), s, Op::MF, Mode::Cim, cim, to_ref(p)).status, RefStatus::Overflow);
}

TEST(AccelCostReference, GoldenVectorMaxPoolEnergy) {
  // MaxPool n1 c4 5x5, 3x3 window, stride 2, pad 1: OH = OW = 3, P = 9, all in DRAM, one band, 8 lanes.
  // reads = 4 * 9 * 9 = 324; compute = ceil(324/8) + 2 = 43; load = ceil(100/16) = 7; store = ceil(36/16) = 3.
  // cycles = 16 + 7 + 43 + 3 = 69. Counts: vector_op 324, act write 100 + 36 = 136, act read 324 + 36 = 360,
  // dram 136, descriptor 128, leakage 69; no constants.
  // Energy at a 32 KiB activation buffer (exactly Horowitz's 2.5 pJ/B point) and a 2 GHz clock:
  //   vector 324 * 30000 aJ = 9720000; act_buffer 496 * 2500000 = 1240000000; dram 136 * 162500000 =
  //   22100000000; descriptor 128 * 162500000 = 20800000000; leakage 69 * 500000 (1 pJ * 1 GHz / 2 GHz) = 34500000.
  //   total = 44184220000 aJ.
  const LayerShape s = LayerShape::vector(LayerKind::MaxPool, 1, 4, 5, 5, 3, 2, 1);
  ArrayConfig cfg;
  cfg.vector_lanes = 8;
  cfg.act_buffer_bytes = 32 * 1024;
  cfg.clock_hz = 2e9;
  const LayerCost m = layer_cost(cfg, s, Op::MAC8, Mode::Digital, CimParams{});
  const RefCost r = ref_layer_cost(to_ref(cfg), s, Op::MAC8, Mode::Digital, CimParams{});
  EXPECT_EQ(m.cycles, 69);
  EXPECT_EQ(r.cycles, 69);
  const auto re = ref_energy_aj(r, RefRates::from(table(), to_ref(cfg)), Op::MAC8, Mode::Digital, 0);
  const auto me = m.energy_aj(table());
  for (const auto* e : {&re, &me}) {
    auto get = [&](const char* k) { return e->count(k) ? e->at(k) : int64_t{0}; };  // zero components may be absent
    EXPECT_EQ(get("vector"), 9720000);
    EXPECT_EQ(get("act_buffer"), 1240000000);
    EXPECT_EQ(get("dram"), 22100000000);
    EXPECT_EQ(get("descriptor"), 20800000000);
    EXPECT_EQ(get("leakage"), 34500000);
    EXPECT_EQ(get("compute"), 0);
    EXPECT_EQ(get("weight_buffer"), 0);
  }
  EXPECT_EQ(ref_total_aj(re), 44184220000);
  EXPECT_EQ(m.total_aj(table()), 44184220000);
  expect_both(cfg, s, Op::MAC8, Mode::Digital, CimParams{}, Placement{});
}

TEST(AccelCostReference, RatesFromTheTable) {
  // The reference's interpolation reproduces the doc's figures: 64 KiB -> 3.449, 128 KiB -> 4.759 pJ/B; clamped
  // outside 8 KiB .. 1 MiB.
  EXPECT_NEAR(ref_sram_pj(table(), 64 * 1024, false), 3.449, 5e-4);
  EXPECT_NEAR(ref_sram_pj(table(), 128 * 1024, true), 4.759, 5e-4);
  EXPECT_DOUBLE_EQ(ref_sram_pj(table(), 100, false), 1.25);
  EXPECT_DOUBLE_EQ(ref_sram_pj(table(), 8 << 20, false), 12.5);
  // Model's rates agree with the reference at random capacities.
  SplitMix64 g(0x5A40176);
  const int64_t points[] = {8 * 1024, 32 * 1024, 1 << 20, 8 * 1024 - 1, 8 * 1024 + 1, (1 << 20) + 1};
  const double clocks[] = {0.0, 1e9, 3e8, 7e8, 1.3e9, 4e9};
  for (int i = 0; i < 206; ++i) {
    ArrayConfig cfg;
    cfg.weight_buffer_bytes = i < 6 ? points[i] : log_uniform(g, 1, 16 << 20);
    cfg.act_buffer_bytes = i < 6 ? points[5 - i] : log_uniform(g, 1, 16 << 20);
    cfg.clock_hz = pick(g, clocks);
    const EnergyRates mr = EnergyRates::from(table(), cfg);
    const RefRates rr = RefRates::from(table(), to_ref(cfg));
    EXPECT_EQ(mr.wbuf_read, rr.wb_read) << cfg.weight_buffer_bytes;
    EXPECT_EQ(mr.wbuf_write, rr.wb_write) << cfg.weight_buffer_bytes;
    EXPECT_EQ(mr.abuf_read, rr.ab_read) << cfg.act_buffer_bytes;
    EXPECT_EQ(mr.abuf_write, rr.ab_write) << cfg.act_buffer_bytes;
    EXPECT_EQ(mr.leakage, rr.leakage) << cfg.clock_hz;
    for (int o = 0; o < kNumOps; ++o) {
      EXPECT_EQ(mr.digital[o], rr.digital[o]) << o;
      EXPECT_EQ(mr.cim[o], rr.cim[o]) << o;
    }
    for (int b = 1; b <= 16; ++b) EXPECT_EQ(mr.adc[b], rr.adc[b]) << b;
    EXPECT_EQ(mr.dac, rr.dac4);
    EXPECT_EQ(mr.requant, rr.requant);
    EXPECT_EQ(mr.cim_write, rr.cim_write);
    EXPECT_EQ(mr.dram, rr.dram);
    EXPECT_EQ(mr.vec_op, rr.vec_op);
    EXPECT_EQ(mr.vec_rescale, rr.vec_rescale);
  }
}

// --- program level ------------------------------------------------------------------------------------------

namespace {

LayerParams vector_params(const LayerShape& s) {
  LayerParams p;
  p.shape = s;
  if (s.kind == LayerKind::Copy) {
    p.rq.mult = {1};
    p.rq.shift = {0};
  } else if (s.kind == LayerKind::Add) {
    p.rq.mult = {1, 1};
    p.rq.shift = {1, 1};
  }
  return p;
}

/// A random chain starting from an n x c x h x w input: convs (any op, some CIM), pools, shuffles, adds and a
/// final GAP + FC.
std::vector<LayerParams> rand_chain(SplitMix64& g, const ArrayConfig& cfg, int n, int c, int h, int w) {
  std::vector<LayerParams> layers;
  const int len = rand_int(g, 2, 6);
  for (int i = 0; i < len; ++i) {
    const int choice = rand_int(g, 0, 5);
    if (choice <= 2) {
      const int k = (h >= 3 && w >= 3) ? pick(g, {1, 3}) : 1;
      const int groups = g.below(4) == 0 ? c : 1;
      const int cout = groups == c ? c : rand_int(g, 1, 24);
      const LayerShape s = LayerShape::conv(n, c, h, w, cout, k, 1, k / 2, groups);
      Mode mode = Mode::Digital;
      Op op = kAllOps[g.below(kNumOps)];
      if (g.below(3) == 0) {
        const Op cops[] = {Op::MAC4, Op::BWN, Op::XNOR, Op::MF};
        op = pick(g, cops);
        mode = Mode::Cim;
      }
      LayerParams p = testutil::rand_layer(g, s, op, mode);
      if (mode == Mode::Cim) p.cim.rows = std::min(64, cfg.cim_rows);
      layers.push_back(p);
      c = cout;
    } else if (choice == 3 && h >= 2 && w >= 2) {
      layers.push_back(vector_params(LayerShape::vector(LayerKind::MaxPool, n, c, h, w, 2, 2)));
      h /= 2;
      w /= 2;
    } else if (choice == 4) {
      const int gr = c % 2 == 0 ? 2 : 1;
      layers.push_back(vector_params(LayerShape::vector(LayerKind::ChannelShuffle, n, c, h, w, 1, 1, 0, gr)));
    } else {
      layers.push_back(vector_params(LayerShape::vector(LayerKind::Add, n, c, h, w)));
    }
  }
  layers.push_back(vector_params(LayerShape::vector(LayerKind::GlobalAvgPool, n, c, h, w)));
  layers.push_back(testutil::rand_layer(g, LayerShape::fc(n, c, rand_int(g, 2, 10)), Op::MAC8, Mode::Digital));
  return layers;
}

/// Every node's steady-state and first-run cost equals the reference under the node's own placement.
void check_plan(const Graph& graph, const ProgramPlan& plan, const ArrayConfig& cfg, Coverage& cov) {
  ASSERT_EQ(plan.nodes.size(), graph.nodes.size());
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const NodePlan& np = plan.nodes[i];
    const LayerParams& lp = graph.nodes[i].params;
    const Placement& pl = np.place;
    if (np.cost.bands.size() > 1) ++cov.multi_band;
    if (!pl.in_dram || !pl.out_dram) ++cov.resident_io;
    if (pl.weights_resident) ++cov.weights_resident;
    if (np.cost.weights_streamed) ++cov.streamed;
    if (lp.mode == Mode::Cim) ++cov.cim;
    EXPECT_EQ(np.cost.place.in_dram, pl.in_dram);
    EXPECT_EQ(np.cost.place.out_dram, pl.out_dram);
    EXPECT_EQ(np.cost.place.weights_resident, pl.weights_resident);
    EXPECT_EQ(np.cost.place.stage_bytes, pl.stage_bytes);
    ++cov.cases;
    const std::string d =
        diff(np.cost, ref_layer_cost(to_ref(cfg), lp.shape, lp.op, lp.mode, lp.cim, to_ref(np.cost.place)), lp.op,
             lp.mode, lp.cim.adc_bits, RefRates::from(table(), to_ref(cfg)));
    EXPECT_TRUE(d.empty()) << "node " << i << " steady-state cost:" << d;
    if (np.pinned) {
      EXPECT_FALSE(np.first_cost.place.weights_resident) << "node " << i;
      EXPECT_TRUE(np.cost.place.weights_resident) << "node " << i;
    }
    const std::string d1 = diff(np.first_cost,
                                ref_layer_cost(to_ref(cfg), lp.shape, lp.op, lp.mode, lp.cim,
                                               to_ref(np.first_cost.place)),
                                lp.op, lp.mode, lp.cim.adc_bits, RefRates::from(table(), to_ref(cfg)));
    EXPECT_TRUE(d1.empty()) << "node " << i << " first-run cost:" << d1;
  }
}

int base_of(const Graph& g, int t) { return g.tensors[t].view_of >= 0 ? base_of(g, g.tensors[t].view_of) : t; }

}  // namespace

TEST(AccelCostReference, ProgramNodeCostsFollowTheReference) {
  SplitMix64 g(0x9B0177);
  Coverage cov;
  int resident_intermediates = 0, pinned = 0;
  for (int it = 0; it < 60; ++it) {
    ArrayConfig cfg = rand_config(g);
    cfg.cim_rows = std::max(cfg.cim_rows, 16);
    const int n = rand_int(g, 1, 2), c = rand_int(g, 1, 8), h = rand_int(g, 2, 12), w = rand_int(g, 2, 12);
    const std::vector<LayerParams> layers = rand_chain(g, cfg, n, c, h, w);
    const Graph graph = Graph::chain(layers, g.below(4) == 0);
    for (const bool residency : {false, true}) {
      ProgramOptions opt;
      opt.residency = residency;
      opt.pin_weights = g.below(2) == 1;
      ProgramPlan plan;
      try {
        plan = plan_program(graph, cfg, opt);
      } catch (const BufferOverflowError&) {
        continue;  // a tiny random buffer: policy, not consistency
      }
      check_plan(graph, plan, cfg, cov);
      for (const NodePlan& np : plan.nodes) pinned += np.pinned;
      if (!residency) {
        for (size_t t = 0; t < plan.tensor_on_chip.size(); ++t) EXPECT_FALSE(plan.tensor_on_chip[t]) << "tensor " << t;
        for (size_t i = 0; i < plan.nodes.size(); ++i) {
          const NodePlan& np = plan.nodes[i];
          EXPECT_TRUE(np.place.in_dram) << "node " << i;
          if (graph.nodes[i].params.shape.kind == LayerKind::Add) { EXPECT_TRUE(np.place.in2_dram) << "node " << i; }
          EXPECT_TRUE(np.place.out_dram) << "node " << i;
          EXPECT_FALSE(np.in.on_chip || np.out.on_chip) << "node " << i;
        }
      }
    }
  }
  // Residency on, big buffers, small tensors: every intermediate tensor is resident and costs no DRAM bytes.
  for (int it = 0; it < 30; ++it) {
    ArrayConfig cfg;
    cfg.act_buffer_bytes = 1 << 20;
    cfg.weight_buffer_bytes = 1 << 20;
    cfg.double_buffer = g.below(2) == 1;
    const int n = rand_int(g, 1, 2), c = rand_int(g, 1, 8), h = rand_int(g, 2, 12), w = rand_int(g, 2, 12);
    const std::vector<LayerParams> layers = rand_chain(g, cfg, n, c, h, w);
    const Graph graph = Graph::chain(layers, false);
    const ProgramPlan plan = plan_program(graph, cfg, ProgramOptions{});
    check_plan(graph, plan, cfg, cov);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      const GraphNode& node = graph.nodes[i];
      const NodePlan& np = plan.nodes[i];
      const bool in_is_graph_input = base_of(graph, node.inputs[0]) == base_of(graph, graph.input);
      const bool out_is_graph_output = i + 1 == graph.nodes.size();
      EXPECT_EQ(np.place.in_dram, in_is_graph_input) << "node " << i;
      EXPECT_EQ(np.place.out_dram, out_is_graph_output) << "node " << i;
      if (!out_is_graph_output) {
        EXPECT_TRUE(plan.tensor_on_chip[base_of(graph, node.output)]) << "node " << i;
        ++resident_intermediates;
      }
      EXPECT_TRUE(np.place.weights_resident || is_vector_kind(node.params.shape.kind)) << "node " << i;
      // DRAM traffic of the steady state: only the graph input and output move (constants are pinned).
      for (const Band& b : np.cost.bands) {
        if (!in_is_graph_input) { EXPECT_EQ(b.in_bytes + b.in2_bytes, 0) << "node " << i; }
        if (!out_is_graph_output) { EXPECT_EQ(b.out_bytes, 0) << "node " << i; }
        EXPECT_EQ(b.w_bytes, 0) << "node " << i;
      }
      if (!in_is_graph_input && !out_is_graph_output) { EXPECT_EQ(np.cost.counts.at("dram"), 0) << "node " << i; }
    }
  }
  report(cov, "program nodes");
  EXPECT_GT(cov.cases, 300);
  EXPECT_GT(cov.multi_band, 10);
  EXPECT_GT(cov.resident_io, 100);
  EXPECT_GT(resident_intermediates, 60);
  EXPECT_GT(pinned, 20);
  EXPECT_TRUE(cov.failures.empty());
}
