// Independent cost model, written from docs/accelerator-numerics.md only (see cost_reference.hpp).
#include "reference/cost_reference.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <utility>

namespace cimsim::accel::testref {
namespace {

// Constants of the spec ("Tiling and the cycle formula"), restated here on purpose.
constexpr int64_t kDesc = 128;   // descriptor bytes per layer
constexpr int64_t kSetup = 8;    // layer setup cycles
constexpr int64_t kFill = 2;     // F: fill cycles per tile
constexpr int64_t kRqBytes = 16; // mult (4) + shift (4) + bias (8, int64) per output channel

int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

const char* opname(Op op) {
  static const char* names[] = {"mac8", "mac4", "bwn", "xnor", "mf", "deepshift", "adder"};
  return names[static_cast<int>(op)];
}
// "Packed weight format": bits per stored weight.
int64_t wbits(Op op) {
  static const int64_t bits[] = {8, 4, 1, 1, 8, 4, 8};
  return bits[static_cast<int>(op)];
}
// "CIM mode": mac4, bwn, xnor, mf.
bool cim_ok(Op op) { return op == Op::MAC4 || op == Op::BWN || op == Op::XNOR || op == Op::MF; }
bool vec(LayerKind k) {
  return k == LayerKind::MaxPool || k == LayerKind::AvgPool || k == LayerKind::GlobalAvgPool ||
         k == LayerKind::ChannelShuffle || k == LayerKind::Copy || k == LayerKind::Add;
}

// Input rows read from one operand by output rows [r0, r1) (rows over the batch, r = image * OH + oy), in bytes.
int64_t in_bytes(const LayerShape& s, int64_t r0, int64_t r1) {
  const int64_t oh = s.out_h();
  int64_t total = 0;
  for (int64_t img = r0 / oh; img <= (r1 - 1) / oh; ++img) {
    const int64_t lo = std::max(r0, img * oh) - img * oh;
    const int64_t hi = std::min(r1, (img + 1) * oh) - img * oh;  // exclusive
    const int64_t top = std::max<int64_t>(0, lo * s.stride - s.pad);
    const int64_t bot = std::min<int64_t>(s.h, (hi - 1) * s.stride - s.pad + s.kh);
    total += int64_t{s.cin} * s.w * std::max<int64_t>(0, bot - top);
  }
  return total;
}

struct Dram {
  int64_t in, in2, out;
};
Dram band_dram(const LayerShape& s, const RefPlacement& pl, int64_t r0, int64_t r1) {
  Dram d{0, 0, 0};
  if (pl.in_dram) d.in = in_bytes(s, r0, r1);
  if (s.kind == LayerKind::Add && pl.in2_dram) d.in2 = in_bytes(s, r0, r1);
  if (pl.out_dram) d.out = int64_t{s.cout} * s.out_w() * (r1 - r0);
  return d;
}

// Input bytes one output row r (over the batch) reads for output columns [x0, x1) ("Column strips").
int64_t strip_in_bytes(const LayerShape& s, int64_t r, int64_t x0, int64_t x1) {
  const int64_t oy = r % s.out_h();
  const int64_t top = std::max<int64_t>(0, oy * s.stride - s.pad);
  const int64_t bot = std::min<int64_t>(s.h, oy * s.stride - s.pad + s.kh);
  const int64_t left = std::max<int64_t>(0, x0 * s.stride - s.pad);
  const int64_t right = std::min<int64_t>(s.w, (x1 - 1) * s.stride - s.pad + s.kw);
  return int64_t{s.cin} * std::max<int64_t>(0, bot - top) * std::max<int64_t>(0, right - left);
}
Dram strip_dram(const LayerShape& s, const RefPlacement& pl, int64_t r, int64_t x0, int64_t x1) {
  Dram d{0, 0, 0};
  if (pl.in_dram) d.in = strip_in_bytes(s, r, x0, x1);
  if (s.kind == LayerKind::Add && pl.in2_dram) d.in2 = strip_in_bytes(s, r, x0, x1);
  if (pl.out_dram) d.out = int64_t{s.cout} * (x1 - x0);
  return d;
}
// Worst staging need over every band of one output row and a strip of width `wd`.
int64_t worst_strip_need(const RefConfig& cfg, const LayerShape& s, const RefPlacement& pl, int64_t nrows, int64_t wd) {
  int64_t worst = 0;
  for (int64_t r = 0; r < nrows; ++r)
    for (int64_t x0 = 0; x0 < s.out_w(); x0 += wd) {
      const Dram d = strip_dram(s, pl, r, x0, std::min<int64_t>(s.out_w(), x0 + wd));
      worst = std::max(worst, (d.in + d.in2 + d.out) * (cfg.double_buffer ? 2 : 1));
    }
  return worst;
}

// Worst staging need over the uniform bands of height `ht`.
int64_t worst_need(const RefConfig& cfg, const LayerShape& s, const RefPlacement& pl, int64_t nrows, int64_t ht) {
  int64_t worst = 0;
  for (int64_t r0 = 0; r0 < nrows; r0 += ht) worst = std::max(worst, ref_band_need(cfg, s, pl, r0, std::min(nrows, r0 + ht)));
  return worst;
}

}  // namespace

int64_t ref_aj(double pj) { return std::llround(pj * 1e6); }

double ref_sram_pj(const EnergyTable& t, int64_t bytes, bool write) {
  const std::string prefix = write ? "common.sram.write_per_byte_by_kib." : "common.sram.read_per_byte_by_kib.";
  std::map<double, double> curve;  // KiB -> pJ/byte, ordered by capacity
  for (const auto& [path, pj] : t.entries())
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix)
      curve[std::strtod(path.c_str() + prefix.size(), nullptr)] = pj;
  const double kib = static_cast<double>(bytes) / 1024.0;
  auto hi = curve.lower_bound(kib);  // first point at or above the capacity
  if (hi == curve.begin()) return hi->second;                 // below the smallest point: clamped
  if (hi == curve.end()) return std::prev(hi)->second;        // above the largest point: clamped
  if (hi->first == kib) return hi->second;
  const auto lo = std::prev(hi);
  // Straight line in log-log: y = y_lo * (x / x_lo)^slope, slope = ln(y_hi / y_lo) / ln(x_hi / x_lo).
  const double slope = std::log(hi->second / lo->second) / std::log(hi->first / lo->first);
  return lo->second * std::pow(kib / lo->first, slope);
}

RefRates RefRates::from(const EnergyTable& t, const RefConfig& cfg) {
  RefRates r;
  for (int i = 0; i < kNumOps; ++i) {
    const Op op = static_cast<Op>(i);
    r.digital[i] = ref_aj(t.pj(std::string("accel.digital.") + opname(op)));
    if (cim_ok(op)) r.cim[i] = ref_aj(t.pj(std::string("accel.cim.") + opname(op)));
  }
  for (int b = 1; b <= 16; ++b) r.adc[b] = ref_aj(t.pj("common.adc_by_bits." + std::to_string(b)));
  r.dac4 = ref_aj(t.pj("common.dac_by_bits.4"));
  r.requant = ref_aj(t.pj("accel.requant_per_output"));
  r.wb_read = ref_aj(ref_sram_pj(t, cfg.weight_buffer_bytes, false));
  r.wb_write = ref_aj(ref_sram_pj(t, cfg.weight_buffer_bytes, true));
  r.ab_read = ref_aj(ref_sram_pj(t, cfg.act_buffer_bytes, false));
  r.ab_write = ref_aj(ref_sram_pj(t, cfg.act_buffer_bytes, true));
  r.cim_write = ref_aj(t.pj("accel.cim_array_write_per_byte"));
  r.dram = ref_aj(t.pj("common.dram_per_byte"));
  r.vec_op = ref_aj(t.pj("accel.vector.op_per_element"));
  r.vec_rescale = ref_aj(t.pj("accel.vector.rescale_per_element"));
  const double clock = cfg.clock_hz > 0 ? cfg.clock_hz : t.clock_hz();
  r.leakage = ref_aj(t.pj("accel.leakage_per_cycle") * t.clock_hz() / clock);
  return r;
}

int64_t ref_band_need(const RefConfig& cfg, const LayerShape& s, const RefPlacement& pl, int64_t r0, int64_t r1) {
  const Dram d = band_dram(s, pl, r0, r1);
  return (d.in + d.in2 + d.out) * (cfg.double_buffer ? 2 : 1);
}

RefCost ref_layer_cost(const RefConfig& cfg, const LayerShape& s, Op op, Mode mode, const CimParams& cim,
                       const RefPlacement& pl) {
  RefCost c;
  const bool is_vec = vec(s.kind);
  const bool is_cim = !is_vec && mode == Mode::Cim;
  if (is_cim) {
    std::string why;
    if (!cim_ok(op)) why = "operator not supported in CIM mode";
    else if (cim.rows < 1 || cim.rows > 4096 || cim.rows > cfg.cim_rows) why = "cim rows out of range";
    else if (cim.adc_bits < 1 || cim.adc_bits > 16) why = "adc_bits out of range";
    else if (cim.adc_range <= 0) why = "adc_range <= 0";
    if (!why.empty()) {
      c.status = RefStatus::ConfigError;
      c.why = why;
      return c;
    }
  }
  const int64_t B = cfg.dma_bytes_per_cycle;
  const int64_t G = s.groups, cog = s.cout / s.groups;
  const int64_t K = is_vec ? 0 : int64_t{s.cin / s.groups} * s.kh * s.kw;
  const int64_t OH = s.out_h(), OW = s.out_w();
  const int64_t nrows = int64_t{s.n} * OH;
  const int64_t outputs = int64_t{s.n} * s.cout * OH * OW;
  const int64_t w_bytes = is_vec ? 0 : int64_t{s.cout} * cdiv(K * wbits(op), 8);
  const int64_t cnst = is_vec ? 0 : w_bytes + kRqBytes * s.cout;
  const int64_t stage = pl.stage_bytes < 0 ? cfg.act_buffer_bytes : pl.stage_bytes;
  const int64_t wbuf = pl.wbuf_bytes < 0 ? cfg.weight_buffer_bytes : pl.wbuf_bytes;
  // Constants marked resident must be in the weight-buffer space the layer may use (the spec is silent; the
  // model rejects this placement with a ConfigError, which is how it is read here).
  if (pl.weights_resident && cnst > wbuf) {
    c.status = RefStatus::ConfigError;
    c.why = "constants marked resident exceed the weight buffer space";
    return c;
  }
  // Constants: resident (no DMA), loaded once in band 0 (fit), or streamed in every band (do not fit).
  c.streamed = !pl.weights_resident && cnst > wbuf;
  if (c.streamed) {
    const int64_t tile = is_cim ? cfg.cim_rows * cfg.cim_cols + kRqBytes * cfg.cim_cols
                                : cfg.rows * cfg.cols + kRqBytes * cfg.cols;
    if (wbuf < tile) {
      c.status = RefStatus::Overflow;
      c.why = "streamed constants: weight buffer smaller than one tile";
      return c;
    }
  }

  // Band selection: one band when the whole layer fits the staging space; else the largest uniform height
  // (bisection) whose worst band fits; overflow when one row does not fit.
  for (int64_t ht = nrows; ht >= 1; --ht)
    if (worst_need(cfg, s, pl, nrows, ht) <= stage) {
      c.scan_height = ht;
      break;
    }
  {
    bool seen_fit = false;
    for (int64_t ht = 1; ht <= nrows; ++ht) {
      const bool fit = worst_need(cfg, s, pl, nrows, ht) <= stage;
      if (!fit && !seen_fit) break;  // height 1 does not fit: overflow (handled below)
      if (fit) seen_fit = true;
      if (!fit) {
        for (int64_t h2 = ht + 1; h2 <= nrows; ++h2)
          if (worst_need(cfg, s, pl, nrows, h2) <= stage) c.fit_monotone = false;
        break;
      }
    }
  }
  int64_t height, width = OW;
  if (ref_band_need(cfg, s, pl, 0, nrows) <= stage) {
    height = nrows;
  } else if (worst_need(cfg, s, pl, nrows, 1) > stage) {
    // Column strips: one output row per band, the widest strip (bisection over [1, OW]) whose worst band fits.
    if (worst_strip_need(cfg, s, pl, nrows, 1) > stage) {
      c.status = RefStatus::Overflow;
      c.why = "one output pixel does not fit the staging space";
      return c;
    }
    int64_t lo = 1, hi = OW;  // width lo fits; hi does not (one row, the whole width, does not)
    while (hi - lo > 1) {
      const int64_t mid = (lo + hi) / 2;
      if (worst_strip_need(cfg, s, pl, nrows, mid) <= stage) lo = mid;
      else hi = mid;
    }
    height = 1;
    width = lo;
    c.column_split = true;
  } else {
    int64_t lo = 1, hi = nrows - 1;  // fits(lo) holds; nrows itself does not fit
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo + 1) / 2;
      if (worst_need(cfg, s, pl, nrows, mid) <= stage) lo = mid;
      else hi = mid - 1;
    }
    height = lo;
  }

  // Bands, DMA and compute cycles.
  const int64_t col_tiles = is_vec ? 0 : cdiv(cog, is_cim ? cfg.cim_cols : cfg.cols);
  const int64_t row_tiles = is_vec ? 0 : cdiv(K, is_cim ? cim.rows : cfg.rows);
  int64_t reads_total = 0;
  for (int64_t r0 = 0; r0 < nrows; r0 += height)
  for (int64_t x0 = 0; x0 < OW; x0 += width) {
    RefBand b;
    b.row0 = r0;
    b.row1 = std::min(nrows, r0 + height);
    b.col0 = x0;
    b.col1 = std::min(OW, x0 + width);
    const Dram d = c.column_split ? strip_dram(s, pl, r0, b.col0, b.col1) : band_dram(s, pl, b.row0, b.row1);
    b.in = d.in;
    b.in2 = d.in2;
    b.out = d.out;
    if (!pl.weights_resident && (c.streamed || c.bands.empty())) b.w = cnst;
    b.load = cdiv(b.in + b.in2 + b.w, B);
    b.store = cdiv(b.out, B);
    const int64_t P = (b.row1 - b.row0) * (b.col1 - b.col0);
    if (is_vec) {
      const int64_t reads = int64_t{s.cout} * P * s.kh * s.kw * (s.kind == LayerKind::Add ? 2 : 1);
      reads_total += reads;
      b.compute = cdiv(reads, cfg.vector_lanes) + kFill;
    } else if (is_cim) {
      b.compute = G * col_tiles * (K + row_tiles * (kFill + P * cim.adc_bits * cfg.adc_cycles_per_bit));
    } else {
      b.compute = G * col_tiles * (K + row_tiles * (kFill + P));
    }
    c.bands.push_back(b);
  }
  const int64_t nb = static_cast<int64_t>(c.bands.size());
  c.descriptor_cycles = cdiv(kDesc, B) + kSetup;
  for (const RefBand& b : c.bands) {
    c.dma_in_cycles += b.load;
    c.compute_cycles += b.compute;
    c.dma_out_cycles += b.store;
  }
  if (cfg.double_buffer) {
    int64_t t = c.descriptor_cycles + c.bands.front().load;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t next_load = i + 1 < nb ? c.bands[i + 1].load : 0;
      const int64_t prev_store = i > 0 ? c.bands[i - 1].store : 0;
      t += std::max({c.bands[i].compute, next_load, prev_store});
    }
    c.cycles = t + c.bands.back().store;
  } else {
    c.cycles = c.descriptor_cycles + c.dma_in_cycles + c.compute_cycles + c.dma_out_cycles;
  }
  c.stall_cycles = c.cycles - c.descriptor_cycles - c.compute_cycles;
  c.tiles = is_vec ? 0 : G * col_tiles * row_tiles * nb;

  // Event counts ("Energy components").
  int64_t staged = 0, wdma = 0, outdma = 0;
  for (const RefBand& b : c.bands) {
    staged += b.in + b.in2;
    wdma += b.w;
    outdma += b.out;
  }
  const int64_t P = nrows * OW;
  auto& n = c.counts;
  n["compute"] = outputs * K;
  n["adc"] = is_cim ? outputs * row_tiles : 0;
  n["dac"] = is_cim && op == Op::MAC4 ? G * col_tiles * P * K : 0;
  n["requant"] = is_vec ? 0 : outputs;
  const bool pool_like = s.kind == LayerKind::MaxPool || s.kind == LayerKind::AvgPool ||
                         s.kind == LayerKind::GlobalAvgPool || s.kind == LayerKind::Add;
  n["vector_op"] = is_vec && pool_like ? reads_total : 0;
  n["vector_rescale"] = s.kind == LayerKind::Copy ? outputs : s.kind == LayerKind::Add ? 2 * outputs : 0;
  n["weight_buffer_write"] = wdma;
  n["weight_buffer_read"] = cnst * nb;
  n["act_buffer_write"] = staged + outputs;
  n["act_buffer_read"] = (is_vec ? reads_total : G * col_tiles * P * K) + (pl.out_dram ? outputs : 0);
  n["cim_write"] = is_cim ? w_bytes * nb : 0;
  n["dram"] = staged + wdma + outdma;
  n["descriptor"] = kDesc;
  n["leakage"] = c.cycles;
  return c;
}

std::map<std::string, int64_t> ref_energy_aj(const RefCost& c, const RefRates& r, Op op, Mode mode, int adc_bits) {
  const auto& n = c.counts;
  const int o = static_cast<int>(op);
  std::map<std::string, int64_t> e;
  e["compute"] = n.at("compute") * (mode == Mode::Cim ? r.cim[o] : r.digital[o]);
  e["adc"] = n.at("adc") == 0 ? 0 : n.at("adc") * r.adc[adc_bits];
  e["dac"] = n.at("dac") * r.dac4;
  e["requant"] = n.at("requant") * r.requant;
  e["weight_buffer"] = n.at("weight_buffer_read") * r.wb_read + n.at("weight_buffer_write") * r.wb_write;
  e["act_buffer"] = n.at("act_buffer_read") * r.ab_read + n.at("act_buffer_write") * r.ab_write;
  e["cim_write"] = n.at("cim_write") * r.cim_write;
  e["dram"] = n.at("dram") * r.dram;
  e["descriptor"] = n.at("descriptor") * r.dram;
  e["vector"] = n.at("vector_op") * r.vec_op + n.at("vector_rescale") * r.vec_rescale;
  e["leakage"] = n.at("leakage") * r.leakage;
  return e;
}

int64_t ref_total_aj(const std::map<std::string, int64_t>& e) {
  int64_t t = 0;
  for (const auto& [k, v] : e) t += v;
  return t;
}

}  // namespace cimsim::accel::testref
