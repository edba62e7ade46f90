// The accelerator's cycle and energy formulas (include/cimsim/accel/cost_model.hpp); the schedule they count
// is documented in docs/accelerator-numerics.md ("Memory hierarchy", "Tiling and the cycle formula", "Energy
// components").
#include "cimsim/accel/cost_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace cimsim::accel {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Event names (LayerCost::counts keys), in report order.
const char* const kEvents[] = {"compute",         "adc",           "dac",       "requant",
                               "weight_buffer_read", "weight_buffer_write", "act_buffer_read", "act_buffer_write",
                               "cim_write",       "dram",          "descriptor", "vector_op",
                               "vector_rescale",  "leakage"};

int64_t count_of(const LayerCost& c, const char* k) {
  const auto it = c.counts.find(k);
  return it == c.counts.end() ? 0 : it->second;
}

// Input rows of one image that output rows [a, b) of that image read (kernel, stride, padding; clipped).
int64_t input_rows(const LayerShape& s, int64_t a, int64_t b) {
  const int64_t lo = std::max<int64_t>(0, a * s.stride - s.pad);
  const int64_t hi = std::min<int64_t>(s.h, (b - 1) * s.stride - s.pad + s.kh);
  return std::max<int64_t>(0, hi - lo);
}

// Input columns that output columns [a, b) read (kernel, stride, padding; clipped), like input_rows.
int64_t input_cols(const LayerShape& s, int64_t a, int64_t b) {
  const int64_t lo = std::max<int64_t>(0, a * s.stride - s.pad);
  const int64_t hi = std::min<int64_t>(s.w, (b - 1) * s.stride - s.pad + s.kw);
  return std::max<int64_t>(0, hi - lo);
}

// Input bytes that output rows [r0, r1) (r = n * OH + oy), columns [x0, x1), read over the images they span.
// Without column strips (`strips` false) a band stages whole input rows (all w columns).
int64_t band_input_bytes(const LayerShape& s, int64_t r0, int64_t r1, int64_t x0, int64_t x1, bool strips) {
  const int64_t OH = s.out_h();
  const int64_t cols = strips ? input_cols(s, x0, x1) : s.w;
  int64_t bytes = 0;
  for (int64_t n = r0 / OH; n * OH < r1; ++n) {
    const int64_t a = std::max(r0, n * OH) - n * OH, b = std::min(r1, (n + 1) * OH) - n * OH;
    bytes += static_cast<int64_t>(s.cin) * cols * input_rows(s, a, b);
  }
  return bytes;
}

struct BandNeed {
  int64_t in = 0, in2 = 0, out = 0;
};

BandNeed band_need(const LayerShape& s, const Placement& p, int64_t r0, int64_t r1, int64_t x0, int64_t x1,
                   bool strips) {
  BandNeed b;
  const int64_t in = band_input_bytes(s, r0, r1, x0, x1, strips);
  if (p.in_dram) b.in = in;
  if (s.kind == LayerKind::Add && p.in2_dram) b.in2 = in;
  if (p.out_dram) b.out = static_cast<int64_t>(s.cout) * (x1 - x0) * (r1 - r0);
  return b;
}
BandNeed band_need(const LayerShape& s, const Placement& p, int64_t r0, int64_t r1) {
  return band_need(s, p, r0, r1, 0, s.out_w(), false);
}

// Largest staging need over the bands of one output row and strips of `width` columns (doubled with double
// buffering): the most input rows any output row reads, times the widest strip's input columns.
int64_t max_strip_need(const ArrayConfig& cfg, const LayerShape& s, const Placement& p, int64_t width) {
  const int64_t OH = s.out_h(), OW = s.out_w();
  int64_t rows = 0;
  for (int64_t oy = 0; oy < OH; ++oy) rows = std::max(rows, input_rows(s, oy, oy + 1));
  const int64_t in_each = (p.in_dram ? 1 : 0) + (s.kind == LayerKind::Add && p.in2_dram ? 1 : 0);
  int64_t worst = 0;
  for (int64_t x0 = 0; x0 < OW; x0 += width) {
    const int64_t x1 = std::min(OW, x0 + width);
    const int64_t need = in_each * static_cast<int64_t>(s.cin) * rows * input_cols(s, x0, x1) +
                         (p.out_dram ? static_cast<int64_t>(s.cout) * (x1 - x0) : 0);
    worst = std::max(worst, need);
  }
  return cfg.double_buffer ? 2 * worst : worst;
}

int64_t stage_of(const ArrayConfig& cfg, const Placement& p) {
  return p.stage_bytes < 0 ? cfg.act_buffer_bytes : p.stage_bytes;
}

// Largest staging need over the bands of `rows_per_band` rows (doubled with double buffering).
int64_t max_need(const ArrayConfig& cfg, const LayerShape& s, const Placement& p, int64_t rows_per_band) {
  const int64_t R = static_cast<int64_t>(s.n) * s.out_h();
  int64_t worst = 0;
  for (int64_t r0 = 0; r0 < R; r0 += rows_per_band) {
    const BandNeed b = band_need(s, p, r0, std::min(R, r0 + rows_per_band));
    worst = std::max(worst, b.in + b.in2 + b.out);
  }
  return cfg.double_buffer ? 2 * worst : worst;
}

// Constant bytes of a conv/FC layer: packed weights and the requantization parameters.
int64_t weight_bytes(const LayerShape& s, Op op) {
  return static_cast<int64_t>(s.cout) * ((s.reduction() * weight_bits(op) + 7) / 8);
}

// Smallest weight-buffer space a layer can run with: one array tile of 8-bit weights plus its columns'
// requantization parameters (streamed through the buffer tile by tile).
int64_t min_weight_space(const ArrayConfig& cfg, Mode mode) {
  const int64_t r = mode == Mode::Cim ? cfg.cim_rows : cfg.rows, c = mode == Mode::Cim ? cfg.cim_cols : cfg.cols;
  return r * c + int64_t{kRequantBytesPerChannel} * c;
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
  if (vector_lanes < 1) return bad("vector_lanes", vector_lanes);
  if (!(clock_hz >= 0) || !std::isfinite(clock_hz) || clock_hz > 1e12)
    return "accelerator config: clock_hz = " + std::to_string(clock_hz) + " must be 0 (table clock) or in (0, 1e12]";
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

double sram_pj_per_byte(const EnergyTable& table, int64_t bytes, bool write) {
  const std::string prefix = std::string("common.sram.") + (write ? "write" : "read") + "_per_byte_by_kib.";
  std::vector<std::pair<double, double>> pts;  // (KiB, pJ/byte)
  for (const auto& [k, v] : table.entries()) {
    if (k.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string key = k.substr(prefix.size());
    char* end = nullptr;
    const double kib = std::strtod(key.c_str(), &end);
    if (end == key.c_str() || *end != '\0' || !(kib > 0) || !std::isfinite(kib))
      throw ConfigError(table.origin() + ": energy_pj." + k + ": the capacity key must be a positive number of KiB");
    pts.emplace_back(kib, v);
  }
  if (pts.empty())
    throw ConfigError(table.origin() + ": missing SRAM energy points 'energy_pj." + prefix + "<KiB>'");
  std::sort(pts.begin(), pts.end());
  const double kib = static_cast<double>(bytes) / 1024.0;
  if (kib <= pts.front().first) return pts.front().second;
  if (kib >= pts.back().first) return pts.back().second;
  size_t i = 1;
  while (pts[i].first < kib) ++i;
  const auto [x0, y0] = pts[i - 1];
  const auto [x1, y1] = pts[i];
  if (y0 <= 0 || y1 <= 0) return y0 + (y1 - y0) * (kib - x0) / (x1 - x0);  // linear where log is undefined
  const double t = std::log(kib / x0) / std::log(x1 / x0);
  return std::exp(std::log(y0) + t * (std::log(y1) - std::log(y0)));
}

EnergyRates EnergyRates::from(const EnergyTable& table, const ArrayConfig& cfg) {
  EnergyRates r;
  for (Op op : kAllOps) {
    const int i = static_cast<int>(op);
    r.digital[i] = table.aj(std::string("accel.digital.") + op_name(op));
    if (cim_supported(op)) r.cim[i] = table.aj(std::string("accel.cim.") + op_name(op));
  }
  for (int b = 1; b <= 16; ++b) r.adc[b] = table.aj(EnergyTable::adc_entry(b));
  r.dac = table.aj(EnergyTable::dac_entry(4));
  r.requant = table.aj("accel.requant_per_output");
  r.wbuf_pj_per_byte = sram_pj_per_byte(table, cfg.weight_buffer_bytes, false);
  r.abuf_pj_per_byte = sram_pj_per_byte(table, cfg.act_buffer_bytes, false);
  r.wbuf_read = pj_to_aj(r.wbuf_pj_per_byte);
  r.wbuf_write = pj_to_aj(sram_pj_per_byte(table, cfg.weight_buffer_bytes, true));
  r.abuf_read = pj_to_aj(r.abuf_pj_per_byte);
  r.abuf_write = pj_to_aj(sram_pj_per_byte(table, cfg.act_buffer_bytes, true));
  r.cim_write = table.aj("accel.cim_array_write_per_byte");
  r.dram = table.aj("common.dram_per_byte");
  r.vec_op = table.aj("accel.vector.op_per_element");
  r.vec_rescale = table.aj("accel.vector.rescale_per_element");
  // Leakage power is fixed: the table's per-cycle figure is at its own clock.
  const double clock = cfg.clock_hz > 0 ? cfg.clock_hz : table.clock_hz();
  r.leakage = pj_to_aj(table.pj("accel.leakage_per_cycle") * table.clock_hz() / clock);
  return r;
}

int64_t LayerCost::macs() const { return count_of(*this, "compute"); }
int64_t LayerCost::dram_bytes() const { return count_of(*this, "dram") + count_of(*this, "descriptor"); }

double LayerCost::utilisation() const {
  const double lanes = mode == Mode::Cim ? static_cast<double>(cfg.cim_rows) * cfg.cim_cols
                                         : static_cast<double>(cfg.rows) * cfg.cols;
  return cycles > 0 ? static_cast<double>(macs()) / (lanes * static_cast<double>(cycles)) : 0.0;
}

std::vector<CostTerm> LayerCost::terms(const EnergyTable& table) const {
  const EnergyRates r = EnergyRates::from(table, cfg);
  const bool cim = mode == Mode::Cim;
  const int o = static_cast<int>(op);
  std::vector<CostTerm> t;
  if (!is_vector_kind(kind)) {
    t.push_back({"compute", std::string(cim ? "accel.cim." : "accel.digital.") + op_name(op), count_of(*this, "compute"),
                 cim ? r.cim[o] : r.digital[o]});
    if (cim) {
      t.push_back({"adc", EnergyTable::adc_entry(adc_bits), count_of(*this, "adc"), r.adc[adc_bits]});
      t.push_back({"dac", EnergyTable::dac_entry(4), count_of(*this, "dac"), r.dac});
    }
    t.push_back({"requant", "accel.requant_per_output", count_of(*this, "requant"), r.requant});
  } else {
    t.push_back({"vector", "accel.vector.op_per_element", count_of(*this, "vector_op"), r.vec_op});
    t.push_back({"vector", "accel.vector.rescale_per_element", count_of(*this, "vector_rescale"), r.vec_rescale});
  }
  t.push_back({"weight_buffer", "common.sram.read_per_byte_by_kib@weight_buffer", count_of(*this, "weight_buffer_read"),
               r.wbuf_read});
  t.push_back({"weight_buffer", "common.sram.write_per_byte_by_kib@weight_buffer",
               count_of(*this, "weight_buffer_write"), r.wbuf_write});
  t.push_back({"act_buffer", "common.sram.read_per_byte_by_kib@act_buffer", count_of(*this, "act_buffer_read"),
               r.abuf_read});
  t.push_back({"act_buffer", "common.sram.write_per_byte_by_kib@act_buffer", count_of(*this, "act_buffer_write"),
               r.abuf_write});
  if (cim) t.push_back({"cim_write", "accel.cim_array_write_per_byte", count_of(*this, "cim_write"), r.cim_write});
  t.push_back({"dram", "common.dram_per_byte", count_of(*this, "dram"), r.dram});
  t.push_back({"descriptor", "common.dram_per_byte", count_of(*this, "descriptor"), r.dram});
  t.push_back({"leakage", "accel.leakage_per_cycle", count_of(*this, "leakage"), r.leakage});
  return t;
}

std::map<std::string, int64_t> LayerCost::energy_aj(const EnergyTable& table) const {
  std::map<std::string, int64_t> e;
  for (const CostTerm& t : terms(table)) e[t.component] += t.count * t.aj_each;
  return e;
}

int64_t LayerCost::total_aj(const EnergyTable& table) const {
  int64_t s = 0;
  for (const auto& [k, v] : energy_aj(table)) s += v;
  return s;
}

bool is_operator_component(const std::string& c) { return c == "compute" || c == "adc" || c == "dac"; }

int64_t LayerCost::operator_aj(const EnergyTable& table) const {
  int64_t s = 0;
  for (const auto& [k, v] : energy_aj(table))
    if (is_operator_component(k)) s += v;
  return s;
}

void LayerCost::charge(EnergyLedger& ledger, const EnergyTable& table, int layer) const {
  // Sum the terms of each component first so that one ledger cell carries count and energy together.
  std::map<std::string, std::pair<int64_t, int64_t>> comp;  // component -> (count, aJ)
  std::vector<std::string> order;
  for (const CostTerm& t : terms(table)) {
    if (t.count == 0) continue;
    auto [it, fresh] = comp.try_emplace(t.component, 0, 0);
    if (fresh) order.push_back(t.component);
    it->second.first += t.count;
    it->second.second += t.count * t.aj_each;
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
  for (const char* e : {"accel.requant_per_output", "accel.cim_array_write_per_byte", "accel.leakage_per_cycle",
                        "accel.vector.op_per_element", "accel.vector.rescale_per_element", "common.dram_per_byte"})
    v.emplace_back(e);
  return v;
}

void require_cost_entries(const EnergyTable& table) {
  table.require(cost_model_entries());
  (void)sram_pj_per_byte(table, 1024, false);  // throws naming the file when the SRAM curve is missing
  (void)sram_pj_per_byte(table, 1024, true);
}

int64_t min_stage_bytes(const ArrayConfig& cfg, const LayerShape& s, const Placement& p) {
  int64_t worst = 0;
  const int64_t R = static_cast<int64_t>(s.n) * s.out_h();
  for (int64_t r = 0; r < R; ++r) {
    const BandNeed b = band_need(s, p, r, r + 1);
    worst = std::max(worst, b.in + b.in2 + b.out);
    if (s.n > 1 && r >= s.out_h()) break;  // every image has the same row pattern
  }
  return cfg.double_buffer ? 2 * worst : worst;
}

LayerCost layer_cost(const ArrayConfig& cfg, const LayerShape& s, Op op, Mode mode, const CimParams& cim,
                     const Placement& place) {
  if (std::string why = cfg.check(); !why.empty()) throw ConfigError(why);
  if (std::string why = s.check(); !why.empty()) throw ConfigError(why);
  const bool vec = is_vector_kind(s.kind);
  if (static_cast<uint8_t>(op) >= kNumOps)
    throw ConfigError("layer cost: unknown operator code " + std::to_string(static_cast<int>(op)));
  const bool is_cim = mode == Mode::Cim;
  if (mode != Mode::Digital && !is_cim)
    throw ConfigError("layer cost: unknown mode code " + std::to_string(static_cast<int>(mode)));
  if (vec && is_cim) throw ConfigError(std::string("layer cost: ") + kind_name(s.kind) + " runs in digital mode");
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
  c.kind = s.kind;
  c.op = vec ? Op::MAC8 : op;
  c.mode = mode;
  c.adc_bits = is_cim ? cim.adc_bits : 0;
  c.cfg = cfg;
  c.place = place;
  if (!(s.kind == LayerKind::Add)) c.place.in2_dram = false;

  const int64_t B = cfg.dma_bytes_per_cycle;
  const int64_t OW = s.out_w();
  const int64_t R = static_cast<int64_t>(s.n) * s.out_h();  // output rows over the batch
  const int64_t outputs = s.outputs();

  // ---- constants: resident, loaded once, or streamed once per band ----
  const int64_t w_bytes = vec ? 0 : weight_bytes(s, op);
  const int64_t rq_bytes = vec ? 0 : int64_t{kRequantBytesPerChannel} * s.cout;
  const int64_t const_bytes = w_bytes + rq_bytes;
  const int64_t wavail = place.wbuf_bytes < 0 ? cfg.weight_buffer_bytes : place.wbuf_bytes;
  if (!vec) {
    if (place.weights_resident && const_bytes > wavail)
      throw ConfigError("layer cost: constants marked resident (" + std::to_string(const_bytes) +
                        " bytes) exceed the weight buffer space (" + std::to_string(wavail) + " bytes)");
    c.weights_streamed = !place.weights_resident && const_bytes > wavail;
    if (c.weights_streamed && wavail < min_weight_space(cfg, mode))
      throw BufferOverflowError("layer cost: the weight buffer space (" + std::to_string(wavail) +
                                " bytes) is smaller than one array tile with its requantization parameters (" +
                                std::to_string(min_weight_space(cfg, mode)) + " bytes)");
  }

  // ---- row bands: the largest band whose DRAM operands fit the staging space ----
  const int64_t stage = stage_of(cfg, place);
  int64_t rows_per_band = R, strip = OW;
  if (max_need(cfg, s, c.place, R) > stage && max_need(cfg, s, c.place, 1) > stage) {
    // Not even one output row fits: bands of one output row x a strip of output columns, the widest strip
    // whose worst band fits (the need grows with the width).
    if (max_strip_need(cfg, s, c.place, 1) > stage)
      throw BufferOverflowError("layer cost: one output pixel of this " + std::string(kind_name(s.kind)) +
                                " layer (its input window and outputs) needs " +
                                std::to_string(max_strip_need(cfg, s, c.place, 1)) +
                                " bytes of activation-buffer staging, only " + std::to_string(stage) +
                                " are available");
    int64_t lo = 1, hi = OW;  // lo fits, hi does not
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (max_strip_need(cfg, s, c.place, mid) <= stage ? lo : hi) = mid;
    }
    rows_per_band = 1;
    strip = lo;
    c.column_split = true;
  } else if (max_need(cfg, s, c.place, R) > stage) {
    int64_t lo = 1, hi = R;  // lo fits, hi does not
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      (max_need(cfg, s, c.place, mid) <= stage ? lo : hi) = mid;
    }
    rows_per_band = lo;
  }

  // ---- per-band compute schedule ----
  const int64_t G = s.groups;
  const int64_t cog = s.cout / s.groups;
  const int64_t K = s.reduction();
  int64_t col_tiles = 0, row_tiles = 0, chunks = 0, conv = 0;
  if (!vec && !is_cim) {
    // Per group and column tile of C channels: for each row tile of R reductions, load its rows into the array
    // (one row of C weights per cycle), fill the pipeline, then stream the band's pixels one per cycle.
    col_tiles = ceil_div(cog, cfg.cols);
    row_tiles = ceil_div(K, cfg.rows);
  } else if (is_cim) {
    // Per group, column tile of cim_cols channels and chunk of `rows` reductions: write the chunk into the macro
    // (one row per cycle), fill, then per pixel one SAR conversion on all columns in parallel.
    col_tiles = ceil_div(cog, cfg.cim_cols);
    chunks = ceil_div(K, cim.rows);
    conv = static_cast<int64_t>(cim.adc_bits) * cfg.adc_cycles_per_bit;
  }
  int64_t vec_reads = 0, staged = 0, dram = 0, wbuf_writes = 0;
  for (int64_t r0 = 0; r0 < R; r0 += rows_per_band)
  for (int64_t x0 = 0; x0 < OW; x0 += strip) {
    Band b;
    b.row0 = r0;
    b.row1 = std::min(R, r0 + rows_per_band);
    b.col0 = x0;
    b.col1 = std::min(OW, x0 + strip);
    const BandNeed nd = band_need(s, c.place, b.row0, b.row1, b.col0, b.col1, c.column_split);
    b.in_bytes = nd.in;
    b.in2_bytes = nd.in2;
    b.out_bytes = nd.out;
    if (!vec && !place.weights_resident && (c.weights_streamed || c.bands.empty())) b.w_bytes = const_bytes;
    const int64_t Pb = (b.row1 - b.row0) * (b.col1 - b.col0);
    if (vec) {
      const int64_t reads = static_cast<int64_t>(s.cin) * Pb * s.kh * s.kw * (s.kind == LayerKind::Add ? 2 : 1);
      vec_reads += reads;
      b.compute_cycles = ceil_div(reads, cfg.vector_lanes) + kTileFillCycles;
    } else if (!is_cim) {
      b.compute_cycles = G * col_tiles * (K + row_tiles * (kTileFillCycles + Pb));
      c.tiles += G * col_tiles * row_tiles;
    } else {
      b.compute_cycles = G * col_tiles * (K + chunks * (kTileFillCycles + Pb * conv));
      c.tiles += G * col_tiles * chunks;
    }
    b.load_cycles = ceil_div(b.in_bytes + b.in2_bytes + b.w_bytes, B);
    b.store_cycles = ceil_div(b.out_bytes, B);
    staged += b.in_bytes + b.in2_bytes;
    dram += b.in_bytes + b.in2_bytes + b.w_bytes + b.out_bytes;
    wbuf_writes += b.w_bytes;
    c.bands.push_back(b);
  }
  const int64_t nb = static_cast<int64_t>(c.bands.size());

  c.descriptor_cycles = ceil_div(kDescriptorBytes, B) + kLayerSetupCycles;
  int64_t sched = 0;
  for (const Band& b : c.bands) {
    c.dma_in_cycles += b.load_cycles;
    c.compute_cycles += b.compute_cycles;
    c.dma_out_cycles += b.store_cycles;
  }
  if (!cfg.double_buffer) {
    sched = c.dma_in_cycles + c.compute_cycles + c.dma_out_cycles;
  } else {
    sched = c.bands.front().load_cycles + c.bands.back().store_cycles;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t next_load = i + 1 < nb ? c.bands[i + 1].load_cycles : 0;
      const int64_t prev_store = i > 0 ? c.bands[i - 1].store_cycles : 0;
      sched += std::max({c.bands[i].compute_cycles, next_load, prev_store});
    }
  }
  c.cycles = c.descriptor_cycles + sched;
  c.stall_cycles = sched - c.compute_cycles;

  // ---- event counts ----
  const int64_t P = R * OW;  // output pixels per output channel
  const int64_t out_to_dram = c.place.out_dram ? outputs : 0;
  if (vec) {
    const bool pools = s.kind == LayerKind::MaxPool || s.kind == LayerKind::AvgPool ||
                       s.kind == LayerKind::GlobalAvgPool || s.kind == LayerKind::Add;
    c.counts["vector_op"] = pools ? vec_reads : 0;
    c.counts["vector_rescale"] = s.kind == LayerKind::Copy ? outputs : s.kind == LayerKind::Add ? 2 * outputs : 0;
    c.counts["act_buffer_read"] = vec_reads + out_to_dram;
  } else {
    c.counts["compute"] = outputs * K;
    c.counts["requant"] = outputs;
    c.counts["weight_buffer_read"] = const_bytes * nb;  // every band reads all tiles and parameters
    c.counts["act_buffer_read"] = G * col_tiles * P * K + out_to_dram;  // patches per column tile + outputs out
    if (is_cim) {
      c.counts["adc"] = outputs * chunks;
      c.counts["dac"] = op == Op::MAC4 ? G * col_tiles * P * K : 0;
      c.counts["cim_write"] = w_bytes * nb;
    }
  }
  c.counts["weight_buffer_write"] = wbuf_writes;
  c.counts["act_buffer_write"] = staged + outputs;
  c.counts["dram"] = dram;
  c.counts["descriptor"] = kDescriptorBytes;
  c.counts["leakage"] = c.cycles;
  for (const char* e : kEvents) c.counts.try_emplace(e, 0);
  return c;
}

double layer_energy_pj(const ArrayConfig& cfg, const EnergyTable& table, const LayerShape& shape, Op op, Mode mode,
                       const CimParams& cim, const Placement& place) {
  return aj_to_pj(layer_cost(cfg, shape, op, mode, cim, place).total_aj(table));
}

}  // namespace cimsim::accel
