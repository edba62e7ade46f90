// The accelerator's cycle and energy formulas (include/cimsim/accel/cost_model.hpp); the schedule they count
// is documented in docs/accelerator-numerics.md ("Dataflow and cycle formula", "Energy components").
#include "cimsim/accel/cost_model.hpp"

#include <string>

#include "cimsim/core/error.hpp"

namespace cimsim::accel {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Event names (LayerCost::counts keys), in report order.
const char* const kEvents[] = {"compute",           "adc",      "dac",        "requant",
                               "weight_buffer_read", "weight_buffer_write", "act_buffer_read",
                               "act_buffer_write",   "cim_write", "dma",      "descriptor", "leakage"};

int64_t count_of(const LayerCost& c, const char* k) {
  const auto it = c.counts.find(k);
  return it == c.counts.end() ? 0 : it->second;
}

}  // namespace

std::string ArrayConfig::check() const {
  auto bad = [](const char* name, int64_t v) {
    return std::string("accelerator config: ") + name + " = " + std::to_string(v) + " must be >= 1";
  };
  if (rows < 1) return bad("rows", rows);
  if (cols < 1) return bad("cols", cols);
  if (cim_rows < 1) return bad("cim_rows", cim_rows);
  if (cim_cols < 1) return bad("cim_cols", cim_cols);
  if (weight_buffer_bytes < 1) return bad("weight_buffer_bytes", weight_buffer_bytes);
  if (act_buffer_bytes < 1) return bad("act_buffer_bytes", act_buffer_bytes);
  if (dma_bytes_per_cycle < 1) return bad("dma_bytes_per_cycle", dma_bytes_per_cycle);
  if (adc_cycles_per_bit < 1) return bad("adc_cycles_per_bit", adc_cycles_per_bit);
  return {};
}

ArrayConfig ArrayConfig::with_table(const ArrayConfig& base, const EnergyTable& table) {
  ArrayConfig c = base;
  if (table.has_param("accel.adc_cycles_per_bit")) {
    const double v = table.param("accel.adc_cycles_per_bit");
    if (!(v >= 1 && v <= 64) || v != static_cast<double>(static_cast<int>(v)))
      throw ConfigError(table.origin() + ": params.accel.adc_cycles_per_bit = " + std::to_string(v) +
                        " must be an integer in [1, 64]");
    c.adc_cycles_per_bit = static_cast<int>(v);
  }
  return c;
}

std::vector<CostTerm> LayerCost::terms() const {
  const bool cim = mode == Mode::Cim;
  std::vector<CostTerm> t;
  t.push_back({"compute", std::string(cim ? "accel.cim." : "accel.digital.") + op_name(op), count_of(*this, "compute")});
  if (cim) {
    t.push_back({"adc", EnergyTable::adc_entry(adc_bits), count_of(*this, "adc")});
    t.push_back({"dac", EnergyTable::dac_entry(4), count_of(*this, "dac")});
  }
  t.push_back({"requant", "accel.requant_per_output", count_of(*this, "requant")});
  t.push_back({"weight_buffer", "accel.weight_buffer_read_per_byte", count_of(*this, "weight_buffer_read")});
  t.push_back({"weight_buffer", "accel.weight_buffer_write_per_byte", count_of(*this, "weight_buffer_write")});
  t.push_back({"act_buffer", "accel.act_buffer_read_per_byte", count_of(*this, "act_buffer_read")});
  t.push_back({"act_buffer", "accel.act_buffer_write_per_byte", count_of(*this, "act_buffer_write")});
  if (cim) t.push_back({"cim_write", "accel.cim_array_write_per_byte", count_of(*this, "cim_write")});
  t.push_back({"dma", "common.dma_per_byte", count_of(*this, "dma")});
  t.push_back({"descriptor", "accel.descriptor_fetch_per_byte", count_of(*this, "descriptor")});
  t.push_back({"leakage", "accel.leakage_per_cycle", count_of(*this, "leakage")});
  return t;
}

std::map<std::string, int64_t> LayerCost::energy_aj(const EnergyTable& table) const {
  std::map<std::string, int64_t> e;
  for (const CostTerm& t : terms()) e[t.component] += t.count * table.aj(t.entry);
  return e;
}

int64_t LayerCost::total_aj(const EnergyTable& table) const {
  int64_t s = 0;
  for (const auto& [k, v] : energy_aj(table)) s += v;
  return s;
}

void LayerCost::charge(EnergyLedger& ledger, const EnergyTable& table, const ArrayConfig& cfg, const LayerParams& p,
                       int layer) const {
  (void)cfg;
  if (p.op != op || p.mode != mode)
    throw ConfigError(std::string("LayerCost::charge: cost computed for ") + op_name(op) + "/" + mode_name(mode) +
                      " but the layer is " + op_name(p.op) + "/" + mode_name(p.mode));
  // Sum the terms of each component first so that one ledger cell carries count and energy together.
  std::map<std::string, std::pair<int64_t, int64_t>> comp;  // component -> (count, aJ)
  std::vector<std::string> order;
  for (const CostTerm& t : terms()) {
    if (t.count == 0) continue;
    auto [it, fresh] = comp.try_emplace(t.component, 0, 0);
    if (fresh) order.push_back(t.component);
    it->second.first += t.count;
    it->second.second += t.count * table.aj(t.entry);
  }
  for (const std::string& c : order) ledger.add_energy(c, comp[c].first, comp[c].second, layer);
}

std::vector<std::string> cost_model_entries() {
  std::vector<std::string> v;
  for (Op op : kAllOps) v.push_back(std::string("accel.digital.") + op_name(op));
  for (Op op : kAllOps)
    if (cim_supported(op)) v.push_back(std::string("accel.cim.") + op_name(op));
  for (int b = 1; b <= 16; ++b) v.push_back(EnergyTable::adc_entry(b));
  v.push_back(EnergyTable::dac_entry(4));
  for (const char* e : {"accel.requant_per_output", "accel.weight_buffer_read_per_byte",
                        "accel.weight_buffer_write_per_byte", "accel.act_buffer_read_per_byte",
                        "accel.act_buffer_write_per_byte", "accel.cim_array_write_per_byte",
                        "accel.descriptor_fetch_per_byte", "accel.leakage_per_cycle", "common.dma_per_byte"})
    v.emplace_back(e);
  return v;
}

void require_cost_entries(const EnergyTable& table) { table.require(cost_model_entries()); }

LayerCost layer_cost(const ArrayConfig& cfg, const LayerShape& s, Op op, Mode mode, const CimParams& cim) {
  if (std::string why = cfg.check(); !why.empty()) throw ConfigError(why);
  if (std::string why = s.check(); !why.empty()) throw ConfigError(why);
  if (static_cast<uint8_t>(op) >= kNumOps)
    throw ConfigError("layer cost: unknown operator code " + std::to_string(static_cast<int>(op)));
  const bool is_cim = mode == Mode::Cim;
  if (mode != Mode::Digital && !is_cim)
    throw ConfigError("layer cost: unknown mode code " + std::to_string(static_cast<int>(mode)));
  if (is_cim) {
    if (!cim_supported(op))
      throw ConfigError(std::string("layer cost: operator ") + op_name(op) +
                        " is not supported in CIM mode (CIM supports mac4, bwn, xnor, mf)");
    if (cim.rows < 1 || cim.rows > cfg.cim_rows)
      throw ConfigError("layer cost: cim.rows = " + std::to_string(cim.rows) + " must be in [1, cim_rows = " +
                        std::to_string(cfg.cim_rows) + "]");
    if (cim.adc_bits < 1 || cim.adc_bits > 16)
      throw ConfigError("layer cost: cim.adc_bits = " + std::to_string(cim.adc_bits) + " must be in [1, 16]");
  }

  LayerCost c;
  c.op = op;
  c.mode = mode;
  c.adc_bits = is_cim ? cim.adc_bits : 0;

  const int64_t B = cfg.dma_bytes_per_cycle;
  const int64_t G = s.groups;
  const int64_t cog = s.cout / s.groups;
  const int64_t K = s.reduction();
  const int64_t P = static_cast<int64_t>(s.n) * s.out_h() * s.out_w();  // output pixels per output channel
  const int64_t outputs = s.outputs();                                   // = P * cout
  const int64_t ops = outputs * K;                                       // operator terms (MACs)
  const int64_t in_bytes = s.input_elems();
  const int64_t w_bytes = static_cast<int64_t>(s.cout) * ((K * weight_bits(op) + 7) / 8);
  const int64_t rq_bytes = static_cast<int64_t>(kRequantBytesPerChannel) * s.cout;
  const int64_t out_bytes = outputs;

  c.descriptor_cycles = ceil_div(kDescriptorBytes, B) + kLayerSetupCycles;
  c.dma_in_cycles = ceil_div(in_bytes + w_bytes + rq_bytes, B);
  c.dma_out_cycles = ceil_div(out_bytes, B);

  int64_t col_tiles = 0;
  if (!is_cim) {
    // For each group and column tile of C channels: for each row tile of R reductions, load its rows (one row of
    // C weights per cycle), fill the pipeline, then stream the P output pixels one per cycle.
    col_tiles = ceil_div(cog, cfg.cols);
    const int64_t row_tiles = ceil_div(K, cfg.rows);
    c.tiles = G * col_tiles * row_tiles;
    c.compute_cycles = G * col_tiles * (K + row_tiles * (kTileFillCycles + P));
  } else {
    // For each group, column tile of cim_cols channels and chunk of `rows` reductions: write the chunk's rows into
    // the macro (one row per cycle), fill, then per output pixel one SAR conversion on all columns in parallel.
    col_tiles = ceil_div(cog, cfg.cim_cols);
    const int64_t chunks = ceil_div(K, cim.rows);
    const int64_t conv = static_cast<int64_t>(cim.adc_bits) * cfg.adc_cycles_per_bit;
    c.tiles = G * col_tiles * chunks;
    c.compute_cycles = G * col_tiles * (K + chunks * (kTileFillCycles + P * conv));
    c.counts["adc"] = outputs * chunks;
    c.counts["dac"] = op == Op::MAC4 ? G * col_tiles * P * K : 0;
    c.counts["cim_write"] = w_bytes;
  }
  c.cycles = c.descriptor_cycles + c.dma_in_cycles + c.compute_cycles + c.dma_out_cycles;

  c.counts["compute"] = ops;
  c.counts["requant"] = outputs;
  c.counts["weight_buffer_write"] = w_bytes;  // DMA fills the weight buffer once
  c.counts["weight_buffer_read"] = w_bytes;   // each weight tile is read once into the array / macro
  c.counts["act_buffer_write"] = in_bytes + out_bytes;  // DMA'd input + requantized outputs
  c.counts["act_buffer_read"] = G * col_tiles * P * K + out_bytes;  // patches per column tile + outputs to DMA
  c.counts["dma"] = in_bytes + w_bytes + rq_bytes + out_bytes;
  c.counts["descriptor"] = kDescriptorBytes;
  c.counts["leakage"] = c.cycles;
  for (const char* e : kEvents) c.counts.try_emplace(e, 0);
  return c;
}

double layer_energy_pj(const ArrayConfig& cfg, const EnergyTable& table, const LayerShape& shape, Op op, Mode mode,
                       const CimParams& cim) {
  return aj_to_pj(layer_cost(cfg, shape, op, mode, cim).total_aj(table));
}

}  // namespace cimsim::accel
