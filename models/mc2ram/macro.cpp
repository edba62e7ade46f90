// MC2RAM macro: register map, GMM window, LT and cycle-level runs over the shared datapath.
#include "cimsim/mc2ram/macro.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>

#include "cimsim/core/error.hpp"
#include "cimsim/mc2ram/regmap.hpp"

namespace cimsim::mc2ram {

using namespace reg;

const char* to_string(Level l) { return l == Level::LT ? "lt" : "cycle"; }

namespace {
double q16(uint32_t v) { return static_cast<int32_t>(v) / 65536.0; }
// The clock period 1/clock_hz as an sc_time; it must be a whole, non-zero number of time-resolution units
// (else annotated times round, and a zero period would hang the cycle-level FSM).
sc_core::sc_time checked_period(const EnergyTable& t, const std::string& who) {
  const double period_s = 1.0 / t.clock_hz();
  const double res_s = sc_core::sc_get_time_resolution().to_seconds();
  const double units = period_s / res_s;
  if (!(units >= 1.0 - 1e-9) || std::abs(units - std::round(units)) > 1e-6 * units) {
    std::ostringstream os;
    os << who << ": clock period " << period_s * 1e9 << " ns (clock_hz "
       << t.clock_hz() << " from " << t.origin() << ") is not a whole multiple of the SystemC time resolution "
       << sc_core::sc_get_time_resolution().to_string()
       << "; call sc_core::sc_set_time_resolution() with a finer resolution (e.g. 1 ps) before creating any sc_time";
    throw ConfigError(os.str());
  }
  return sc_core::sc_time(period_s, sc_core::SC_SEC);
}
constexpr uint32_t kDmaChunk = 64;  // samples per lane per DMA burst
}  // namespace

Macro::Macro(sc_core::sc_module_name name, Level level, const EnergyTable& table, sc_core::sc_trace_file* tf)
    : sc_module(name),
      socket("socket"),
      dma("dma"),
      irq("irq"),
      clk("clk"),
      level_(level),
      table_(table),
      regs_(std::string(name)),
      period_(checked_period(table, std::string(this->name()))),
      tf_(tf) {
  table_.require(EnergyModel::entries());
  socket.register_b_transport(this, &Macro::b_transport);
  socket.register_transport_dbg(this, &Macro::transport_dbg);
  build_registers();
  SC_HAS_PROCESS(Macro);
  SC_METHOD(drive_irq);
  sensitive << irq_ev_;
  dont_initialize();
  if (level_ == Level::LT) {
    SC_THREAD(lt_thread);
  } else {
    SC_METHOD(tick);
    sensitive << tick_ev_;
    dont_initialize();
    SC_THREAD(dma_thread);
    if (tf_) {
      SC_METHOD(clk_low);
      sensitive << clk_ev_;
      dont_initialize();
    }
  }
  if (tf_) {
    const std::string n = std::string(this->name()) + ".";
    sc_core::sc_trace(tf_, clk_, n + "clk");
    sc_core::sc_trace(tf_, stage_tr_, n + "stage", 8);  // ST_IDLE..ST_FLUSH; names: traces/mc2ram-stage.txt
    // The datapath values shown are those of chain (lane) 0: named so.
    const std::string c = n + "chain0.";
    for (int j = 0; j < 2; ++j) sc_core::sc_trace(tf_, prop_tr_[j], c + "prop" + std::to_string(j));
    sc_core::sc_trace(tf_, lse_prop_tr_, c + "logp_prop");
    sc_core::sc_trace(tf_, lse_cur_tr_, c + "logp_cur");
    sc_core::sc_trace(tf_, log_u_tr_, c + "log_u");
    sc_core::sc_trace(tf_, accept_tr_, c + "accept");
    sc_core::sc_trace(tf_, valid_tr_, c + "sample_valid");
  }
}

// ------------------------------------------------------------------------------------------------ registers
void Macro::build_registers() {
  // The rows come from the one table (regmap.cpp: offsets, access, reset, masks, docs); the model adds the
  // behaviour by name: value checks (most knobs are writable only while idle), live reads, side effects.
  using Validate = std::function<bool(uint32_t)>;
  auto idle = [this](Validate pred) -> Validate { return [this, pred](uint32_t v) { return !busy_ && pred(v); }; };
  auto any = [](uint32_t) { return true; };
  auto q16_nonneg = [](uint32_t v) { return static_cast<int32_t>(v) >= 0; };
  auto lo32 = [](uint64_t v) { return static_cast<uint32_t>(v); };
  auto hi32 = [](uint64_t v) { return static_cast<uint32_t>(v >> 32); };
  for (RegisterDef d : register_map()) {
    const std::string& n = d.name;
    if (n == "CTRL") {
      d.validate = [this](uint32_t v) {
        return !((v & CTRL_START) && busy_) && !((v & CTRL_START) && (v & CTRL_RESET));
      };
      d.on_write = [this](uint32_t v, uint32_t) {
        regs_.set("CTRL", v & CTRL_DMA_EN);
        if (v & CTRL_RESET) soft_reset();
        if (v & CTRL_START) start();
      };
    } else if (n == "STATUS") {
      d.on_read = [this](uint32_t s) { return (s & ~STATUS_BUSY) | (busy_ ? STATUS_BUSY : 0u); };
    } else if (n == "GMM_CFG") {
      d.validate = idle([](uint32_t v) {
        const uint32_t k = v & 0xFF, dd = (v >> 8) & 0xFF;
        return k >= 1 && k <= kMaxK && dd >= 1 && dd <= kMaxD;
      });
    } else if (n == "WEIGHT_BITS") {
      d.validate = idle([](uint32_t v) { return v >= 2 && v <= 16; });
    } else if (n == "Y_SCALE") {
      d.validate = idle([](uint32_t v) { return v + 64u <= 128u; });  // -64..64 (no std::abs(INT32_MIN))
    } else if (n == "PROP_SCALE") {
      d.validate = idle([](uint32_t v) { return v != 0; });
    } else if (n == "CHAINS") {
      d.validate = idle([](uint32_t v) { return v >= 1 && v <= kMaxLanes; });
    } else if (n == "SAMPLES") {
      d.validate = idle([](uint32_t v) { return v >= 1; });
    } else if (n == "DAC_CFG") {
      d.validate = idle([](uint32_t v) { return v >= 1 && v <= 16; });
    } else if (n == "ADC_CFG") {
      d.validate = idle([](uint32_t v) { return v >= 1 && v <= kMaxAdcBits; });
    } else if (n == "ADC_NOISE" || n == "CELL_MISMATCH" || n == "BL_NOISE") {
      d.validate = idle(q16_nonneg);
    } else if (n == "RNG_CFG") {
      d.validate = idle([](uint32_t v) {
        const uint32_t b = v & 0x3F, f = (v >> 8) & 0x3F;
        return b >= 4 && b <= 24 && f <= b;
      });
    } else if (n == "VDD_MV") {
      d.validate = idle([](uint32_t v) { return v >= 500 && v <= 1100; });
    } else if (n == "SEED_LO" || n == "SEED_HI" || n == "DAC_OFFSET" || n == "DAC_INL" || n == "ADC_OFFSET" ||
               n == "RNG_PERIOD" || n == "DMA_ADDR_HI") {
      d.validate = idle(any);
    } else if (n == "DMA_ADDR_LO") {  // samples are 32-bit words: an unaligned base is refused, not rounded
      d.validate = idle([](uint32_t v) { return (v & 3u) == 0; });
    } else if (n == "FIFO_DATA") {
      d.on_read = [this](uint32_t) { return fifo_head_ < fifo_.size() ? fifo_[fifo_head_] : 0u; };
    } else if (n == "FIFO_LEVEL") {
      d.on_read = [this](uint32_t) { return static_cast<uint32_t>(fifo_.size() - fifo_head_); };
    } else if (n == "FIFO_THRESH") {
      d.validate = [](uint32_t v) { return v >= 1 && v <= kFifoDepth; };
    } else if (n == "IRQ_ENABLE" || n == "IRQ_STATUS") {
      d.on_write = [this](uint32_t, uint32_t) { update_irq(); };
    } else if (n == "CYCLES_LO" || n == "CYCLES_HI") {
      d.on_read = [this, lo = n == "CYCLES_LO", lo32, hi32](uint32_t) { return lo ? lo32(cycles_) : hi32(cycles_); };
    } else if (n == "ACCEPTS_LO" || n == "ACCEPTS_HI") {
      d.on_read = [this, lo = n == "ACCEPTS_LO", lo32, hi32](uint32_t) {
        return lo ? lo32(dp_.accepts()) : hi32(dp_.accepts());
      };
    } else if (n == "EARLY_REJECTS") {
      d.on_read = [this](uint32_t) { return static_cast<uint32_t>(dp_.early_rejects()); };
    } else if (n == "ENERGY_SEL") {
      d.validate = [](uint32_t v) { return v <= 6; };
    } else if (n == "ENERGY_LO" || n == "ENERGY_HI") {
      d.on_read = [this, lo = n == "ENERGY_LO", lo32, hi32](uint32_t) {
        const uint64_t e = energy_sel(regs_.get("ENERGY_SEL"));
        return lo ? lo32(e) : hi32(e);
      };
    }
    regs_.add(std::move(d));
  }
}

uint64_t Macro::energy_sel(uint32_t sel) const {
  if (sel == 0) return static_cast<uint64_t>(dp_.ledger().total_aj());
  return static_cast<uint64_t>(dp_.ledger().component_aj(kParts[sel - 1]));
}

Knobs Macro::knobs_from_regs() const {
  Knobs k;
  k.dac_bits = static_cast<int>(regs_.get("DAC_CFG"));
  k.dac_offset_lsb = q16(regs_.get("DAC_OFFSET"));
  k.dac_inl_lsb = q16(regs_.get("DAC_INL"));
  k.adc_bits = static_cast<int>(regs_.get("ADC_CFG"));
  k.adc_offset_lsb = q16(regs_.get("ADC_OFFSET"));
  k.adc_noise_lsb = q16(regs_.get("ADC_NOISE"));
  const uint32_t rc = regs_.get("RNG_CFG");
  k.rng_bits = static_cast<int>(rc & 0x3F);
  k.rng_fresh_bits = static_cast<int>((rc >> 8) & 0x3F);
  k.rng_period = regs_.get("RNG_PERIOD");
  k.cell_mismatch = q16(regs_.get("CELL_MISMATCH"));
  k.bl_noise = q16(regs_.get("BL_NOISE"));
  k.vdd = regs_.get("VDD_MV") / 1000.0;
  return k;
}

uint32_t Macro::check_start(Program& p, Knobs& k) const {
  const uint32_t g = regs_.get("GMM_CFG");
  p.k = static_cast<int>(g & 0xFF);
  p.d = static_cast<int>((g >> 8) & 0xFF);
  if (p.k < 1 || p.k > kMaxK || p.d < 1 || p.d > kMaxD) return ERR_GMM_SHAPE;
  if (regs_.get("CHAINS") == 0) return ERR_CHAINS;
  if (regs_.get("SAMPLES") == 0) return ERR_SAMPLES;
  p.prop_scale = regs_.get("PROP_SCALE");
  if (p.prop_scale == 0) return ERR_PROP_SCALE;
  p.weight_bits = static_cast<int>(regs_.get("WEIGHT_BITS"));
  p.y_scale_log2 = static_cast<int32_t>(regs_.get("Y_SCALE"));
  for (int c = 0; c < p.k; ++c) {
    p.comp[c] = window_[c];
    for (int i = 0; i < p.d; ++i)
      for (int j = 0; j < p.d; ++j)
        if (!weight_fits(p.comp[c].a[i][j], p.weight_bits)) return ERR_WEIGHT_RANGE;
    if (p.comp[c].y_shift < 0 || p.comp[c].y_shift > 32) return ERR_WEIGHT_RANGE;
  }
  k = knobs_from_regs();
  return ERR_NONE;
}

void Macro::set_irq(uint32_t bits) {
  regs_.set("IRQ_STATUS", regs_.get("IRQ_STATUS") | bits);
  update_irq();
}

void Macro::update_irq() {
  uint32_t st = regs_.get("IRQ_STATUS");
  const uint32_t level = static_cast<uint32_t>(fifo_.size() - fifo_head_);
  if (level >= regs_.get("FIFO_THRESH") && level > 0) st |= IRQ_FIFO;
  regs_.set("IRQ_STATUS", st);
  irq_level_ = (st & regs_.get("IRQ_ENABLE")) != 0;
  irq_ev_.notify(sc_core::SC_ZERO_TIME);  // one process (drive_irq) writes the line
}

void Macro::drive_irq() { irq_write(irq, irq_level_); }

void Macro::end_of_elaboration() { ext_clk_ = level_ == Level::Cycle && clk.size() > 0; }

void Macro::soft_reset() {
  abort_ = busy_;
  busy_ = false;
  stage_ = ST_IDLE;
  fifo_.clear();
  fifo_head_ = 0;
  for (auto& b : dma_buf_) b.clear();
  regs_.set("STATUS", 0);
  regs_.set("IRQ_STATUS", 0);
  update_irq();
}

void Macro::start() {
  Program p;
  Knobs k;
  uint32_t err = check_start(p, k);
  lanes_ = static_cast<int>(regs_.get("CHAINS"));
  if (err == ERR_NONE) {
    try {
      dp_.configure(p, k, lanes_, (uint64_t{regs_.get("SEED_HI")} << 32) | regs_.get("SEED_LO"),
                    EnergyModel::from_table(table_, k.vdd));
    } catch (const ConfigError&) {
      err = ERR_CONFIG;
    }
  }
  if (err != ERR_NONE) {
    regs_.set("STATUS", err << 8);
    set_irq(IRQ_ERROR);
    return;
  }
  d_ = p.d;
  n_samples_ = regs_.get("SAMPLES");
  dma_en_ = (regs_.get("CTRL") & CTRL_DMA_EN) != 0;
  dma_addr_ = (uint64_t{regs_.get("DMA_ADDR_HI")} << 32) | regs_.get("DMA_ADDR_LO");
  std::vector<std::array<int32_t, kMaxD>> init(init_.begin(), init_.begin() + lanes_);
  dp_.start(init);
  busy_ = true;
  abort_ = false;
  dma_error_ = dma_final_ = false;
  dma_err_code_ = 0;
  cycles_ = 0;
  step_ = 0;
  fifo_.clear();
  fifo_head_ = 0;
  for (int l = 0; l < kMaxLanes; ++l) {
    dma_buf_[l].clear();
    dma_first_[l] = 0;
  }
  regs_.set("STATUS", 0);
  if (level_ == Level::LT) {
    start_ev_.notify(sc_core::SC_ZERO_TIME);
  } else {
    stage_ = ST_INIT;
    stage_cycle_ = 0;
    await_edge_ = ext_clk_;  // external clock: the first cycle starts at its next rising edge
    tick_ev_.notify(ext_clk_ ? sc_core::SC_ZERO_TIME : period_);
  }
}

// ------------------------------------------------------------------------------------------------ bus
bool Macro::window_access(tlm::tlm_generic_payload& gp, bool debug) {
  const uint64_t a = gp.get_address();
  const bool gmm = a >= GMM_WINDOW && a < GMM_WINDOW + kMaxK * kCompStride;
  const bool ini = a >= INIT_WINDOW && a < INIT_WINDOW + kMaxLanes * kMaxD * 4;
  if (!gmm && !ini) return false;
  auto fail = [&gp](tlm::tlm_response_status s) { gp.set_response_status(s); };
  if (!debug) {
    const unsigned sw = gp.get_streaming_width();  // 0 = no streaming (RegisterBank rules)
    if (gp.get_data_length() != 4 || (sw != 0 && sw < 4)) return fail(tlm::TLM_BURST_ERROR_RESPONSE), true;
    if (gp.get_byte_enable_ptr()) {
      for (unsigned i = 0; i < gp.get_byte_enable_length(); ++i)
        if (gp.get_byte_enable_ptr()[i] != 0xFF) return fail(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE), true;
    }
  }
  if (a & 3) return fail(tlm::TLM_ADDRESS_ERROR_RESPONSE), true;
  int32_t* word = nullptr;
  int64_t* wide = nullptr;
  int half = 0;
  if (gmm) {
    const uint32_t off = static_cast<uint32_t>(a - GMM_WINDOW);
    const uint32_t c = off / kCompStride, w = (off % kCompStride) / 4;
    if (w >= kCompWords) return fail(tlm::TLM_ADDRESS_ERROR_RESPONSE), true;
    Component& cp = window_[c];
    if (w < kWordBias) word = &cp.a[w / 8][w % 8];
    else if (w < kWordC) { wide = &cp.bias[(w - kWordBias) / 2]; half = (w - kWordBias) % 2; }
    else if (w == kWordC) word = &cp.c;
    else word = &cp.y_shift;
  } else {
    const uint32_t idx = static_cast<uint32_t>(a - INIT_WINDOW) / 4;
    word = &init_[idx / kMaxD][idx % kMaxD];
  }
  uint32_t v = 0;
  if (gp.is_read()) {
    if (word) v = static_cast<uint32_t>(*word);
    else v = static_cast<uint32_t>(static_cast<uint64_t>(*wide) >> (32 * half));
    std::memcpy(gp.get_data_ptr(), &v, 4);
  } else if (gp.is_write()) {
    if (busy_ && !debug) return fail(tlm::TLM_GENERIC_ERROR_RESPONSE), true;
    std::memcpy(&v, gp.get_data_ptr(), 4);
    if (word) *word = static_cast<int32_t>(v);
    else {
      uint64_t u = static_cast<uint64_t>(*wide);
      u = half ? ((u & 0xFFFFFFFFull) | (uint64_t{v} << 32)) : ((u & ~0xFFFFFFFFull) | v);
      *wide = static_cast<int64_t>(u);
    }
  } else {
    return fail(tlm::TLM_COMMAND_ERROR_RESPONSE), true;
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  return true;
}

void Macro::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  delay += period_;  // one bus cycle per register access
  if (window_access(gp, false)) return;
  const bool pop = gp.is_read() && gp.get_address() == FIFO_DATA;
  regs_.access(gp);
  if (pop && gp.is_response_ok() && fifo_head_ < fifo_.size()) {
    if (++fifo_head_ == fifo_.size()) {
      fifo_.clear();
      fifo_head_ = 0;
    }
    pop_ev_.notify(sc_core::SC_ZERO_TIME);
    update_irq();
  }
}

unsigned Macro::transport_dbg(tlm::tlm_generic_payload& gp) {
  const uint64_t a = gp.get_address();
  if ((a >= GMM_WINDOW && a < INIT_WINDOW + kMaxLanes * kMaxD * 4)) {
    // window debug access, word by word
    unsigned done = 0;
    const unsigned len = gp.get_data_length();
    unsigned char* p = gp.get_data_ptr();
    for (; done + 4 <= len; done += 4) {
      tlm::tlm_generic_payload w;
      w.set_command(gp.get_command());
      w.set_address(a + done);
      w.set_data_ptr(p + done);
      w.set_data_length(4);
      w.set_streaming_width(4);
      if (!window_access(w, true) || !w.is_response_ok()) break;
    }
    return done;
  }
  return regs_.debug_access(gp);
}

// ------------------------------------------------------------------------------------------------ output
bool Macro::emit_lane(int l, bool lt) {
  if (!dma_en_) {
    if (fifo_.size() - fifo_head_ + static_cast<size_t>(d_) > kFifoDepth) return false;
    for (int j = 0; j < d_; ++j)  // tagged word: [26:24] chain, [18:16] dim, [15:0] state
      fifo_.push_back((static_cast<uint32_t>(l) << 24) | (static_cast<uint32_t>(j) << 16) |
                      (static_cast<uint32_t>(dp_.state(l)[j]) & 0xFFFFu));
    update_irq();
    return true;
  }
  auto& buf = dma_buf_[l];
  buf.insert(buf.end(), dp_.state(l).begin(), dp_.state(l).begin() + d_);
  if (buf.size() >= kDmaChunk * static_cast<size_t>(d_)) {
    if (lt) {
      sc_core::sc_time delay = qk_.get_local_time();
      flush_lane(l, delay);
      qk_.set(delay);
    } else {
      dma_ev_.notify(sc_core::SC_ZERO_TIME);
    }
  }
  return true;
}

void Macro::flush_lane(int l, sc_core::sc_time& delay) {
  std::vector<int32_t> data;
  data.swap(dma_buf_[l]);
  if (data.empty()) return;
  const uint32_t first = dma_first_[l];
  dma_first_[l] += static_cast<uint32_t>(data.size() / d_);
  tlm::tlm_generic_payload gp;
  const uint64_t addr = dma_addr_ + (static_cast<uint64_t>(l) * n_samples_ + first) * d_ * 4;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(data.data()));
  gp.set_data_length(static_cast<unsigned>(data.size() * 4));
  gp.set_streaming_width(static_cast<unsigned>(data.size() * 4));
  gp.set_byte_enable_ptr(nullptr);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  dma->b_transport(gp, delay);
  if (!gp.is_response_ok() && !dma_error_) {  // the first failure names the run's error
    dma_error_ = true;
    dma_err_code_ = gp.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE ? ERR_DMA_INCOMPLETE : ERR_DMA;
  }
}

void Macro::finish() {
  dp_.account_leakage(static_cast<int64_t>(cycles_));
  busy_ = false;
  stage_ = ST_IDLE;
  stage_tr_ = ST_IDLE;
  if (dma_error_) {
    regs_.set("STATUS", STATUS_DONE | (dma_err_code_ << 8));
    set_irq(IRQ_DONE | IRQ_ERROR);
  } else {
    regs_.set("STATUS", STATUS_DONE);
    set_irq(IRQ_DONE);
  }
}

// ------------------------------------------------------------------------------------------------ LT level
void Macro::lt_thread() {
  for (;;) {
    sc_core::wait(start_ev_);
    qk_.reset();
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    const int b = dp_.knobs().adc_bits, k = dp_.program().k;
    const uint64_t init = static_cast<uint64_t>(init_cycles(b, k));
    std::array<uint64_t, kMaxLanes> lane_cycles{};
    uint64_t annotated = 0;  // max lane time already annotated
    uint64_t emit_floor = 0;  // FIFO mode: cycles since start of the last wake-up after a full FIFO
    cycles_ = init;
    qk_.inc(period_ * static_cast<double>(init));
    // Lanes are independent sequencers; the LT model visits them round-robin, one iteration each, and
    // annotates the advance of the slowest lane (the macro's busy time).
    // A DMA error ends the run at once (docs/integration.md): no further sample is computed or written.
    for (step_ = 0; step_ < n_samples_ && !abort_ && !dma_error_; ++step_) {
      bool stalled = false;
      for (int l = 0; l < lanes_ && !abort_ && !dma_error_; ++l) {
        lane_cycles[l] += static_cast<uint64_t>(dp_.step_lane(l, it_[l]));
        // FIFO full: synchronize, then re-check before waiting (a pop may have happened during the sync).
        bool waited = false;
        while (!abort_ && !emit_lane(l, true)) {
          qk_.sync();
          if (abort_ || emit_lane(l, true)) break;
          sc_core::wait(pop_ev_);
          waited = true;
        }
        if (waited) {
          // Stall cycles (as the cycle level counts them): the lane retries every cycle and emits at the first
          // clock edge after the pop that made room. No lane emits before that edge (the FIFO was full).
          const double edge = std::ceil((sc_core::sc_time_stamp() - t0) / period_ - 1e-9);
          emit_floor = std::max(emit_floor, static_cast<uint64_t>(std::max(0.0, edge)));
          stalled = true;
        }
        if (emit_floor > init + lane_cycles[l]) {
          lane_cycles[l] = emit_floor - init;
          stalled = true;
        }
      }
      const uint64_t mx = *std::max_element(lane_cycles.begin(), lane_cycles.begin() + lanes_);
      if (stalled) {  // time already passed while waiting: annotate up to the lanes' end, not on top of it
        const sc_core::sc_time target = t0 + period_ * static_cast<double>(init + mx);
        const sc_core::sc_time now = sc_core::sc_time_stamp();
        qk_.set(target > now ? target - now : sc_core::SC_ZERO_TIME);
      } else {
        qk_.inc(period_ * static_cast<double>(mx - annotated));
      }
      annotated = mx;
      cycles_ = init + mx;
      if (qk_.need_sync()) qk_.sync();
    }
    if (abort_) continue;
    if (dma_en_ && !dma_error_) {
      sc_core::sc_time delay = qk_.get_local_time();
      for (int l = 0; l < lanes_; ++l) flush_lane(l, delay);
      qk_.set(delay);
    }
    qk_.sync();
    finish();
  }
}

// ------------------------------------------------------------------------------------------------ cycle level
void Macro::clk_low() { clk_ = false; }  // only registered when tracing: the falling half of the clock

void Macro::tick() {
  if (!busy_) {
    next_trigger();
    return;
  }
  if (await_edge_) {  // started by a register write: align to the external clock's next rising edge
    await_edge_ = false;
    next_trigger(clk->posedge_event());
    return;
  }
  ++cycles_;
  if (tf_) {
    clk_ = true;
    // falling half of the traced clock; at a resolution equal to the period there is none to show
    const sc_core::sc_time half = sc_core::sc_time::from_value(period_.value() / 2);
    if (half > sc_core::SC_ZERO_TIME) clk_ev_.notify(half);
    valid_tr_ = false;
  }
  const int b = dp_.knobs().adc_bits, k = dp_.program().k;
  if (stage_ == ST_INIT) {
    if (++stage_cycle_ >= init_cycles(b, k)) {
      stage_ = ST_PROPOSE;  // global: lanes running
      for (int l = 0; l < lanes_; ++l) lane_[l] = LaneFsm{};
    }
  } else if (stage_ == ST_PROPOSE) {
    bool all_done = true;
    for (int l = 0; l < lanes_; ++l) {
      LaneFsm& f = lane_[l];
      if (f.done) continue;
      LaneIter& it = it_[l];
      bool try_emit = false;
      switch (f.stage) {
        case ST_PROPOSE:
          dp_.stage_propose(l, it);
          f.stage = ST_MAC;
          break;
        case ST_MAC:
          dp_.stage_mac_coarse(l, it);
          f.fine_left = it.early_reject ? 0 : fine_cycles(b);
          f.lse_left = lse_cycles(k);
          f.stage = f.fine_left > 0 ? ST_FINE : ST_LSE;
          break;
        case ST_FINE:
          if (--f.fine_left == 0) f.stage = ST_LSE;
          break;
        case ST_LSE:
          if (--f.lse_left == 0) {
            dp_.stage_lse_accept(l, it);
            dp_.account_iteration(it);
            if (l == 0 && tf_) accept_tr_ = it.accept;
            if (it.accept) f.stage = ST_WB;
            else try_emit = true;
          }
          break;
        case ST_WB:  // state row + cached log-density written back
        case ST_STALL:
          try_emit = true;
          break;
        default:
          break;
      }
      if (try_emit) {
        if (emit_lane(l, false)) {
          if (l == 0 && tf_) valid_tr_ = true;
          f.stage = ST_PROPOSE;
          if (++f.step >= n_samples_) f.done = true;
        } else {
          f.stage = ST_STALL;
        }
      }
      all_done = all_done && f.done;
    }
    if (all_done) {
      step_ = n_samples_;
      if (dma_en_) {
        stage_ = ST_FLUSH;
        dma_final_ = true;
        dma_ev_.notify(sc_core::SC_ZERO_TIME);
      } else {
        finish();
      }
    }
  }
  if (tf_) {
    stage_tr_ = stage_ == ST_PROPOSE ? (lane_[0].done ? ST_IDLE : lane_[0].stage) : stage_;
    for (int j = 0; j < 2; ++j) prop_tr_[j] = it_[0].prop[j];
    lse_prop_tr_ = it_[0].lse_prop;
    lse_cur_tr_ = dp_.lse(0);
    log_u_tr_ = it_[0].log_u;
  }
  if (stage_ == ST_FLUSH || !busy_) {
    next_trigger();
  } else if (ext_clk_) {
    next_trigger(clk->posedge_event());
  } else {
    next_trigger(period_);
  }
}

void Macro::dma_thread() {
  for (;;) {
    sc_core::wait(dma_ev_);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    for (int l = 0; l < lanes_; ++l)
      if (dma_final_ || dma_buf_[l].size() >= kDmaChunk * static_cast<size_t>(d_)) flush_lane(l, delay);
    sc_core::wait(delay);
    if (dma_error_ && busy_ && !abort_) {  // the first DMA error ends the run: STATUS DONE + the error code
      for (int l = 0; l < lanes_; ++l) dma_buf_[l].clear();
      finish();
      continue;
    }
    if (dma_final_ && stage_ == ST_FLUSH) {
      bool empty = true;
      for (int l = 0; l < lanes_; ++l) empty = empty && dma_buf_[l].empty();
      if (empty) finish();
      else dma_ev_.notify(sc_core::SC_ZERO_TIME);
    }
  }
}

}  // namespace cimsim::mc2ram
