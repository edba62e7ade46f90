// Cycle-level accelerator model (include/cimsim/accel/accelerator_cycle.hpp).
#include "cimsim/accel/accelerator_cycle.hpp"

#include <algorithm>

#include "cimsim/accel/datapath.hpp"

namespace cimsim::accel {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

// ---------------------------------------------------------------- MacCoreArray

MacCoreArray::MacCoreArray(sc_core::sc_module_name name, const ArrayConfig& cfg)
    : sc_module(name),
      max_rows_(std::max(cfg.rows, cfg.cim_rows)),
      max_cols_(std::max(cfg.cols, cfg.cim_cols)),
      w_(static_cast<size_t>(max_rows_) * static_cast<size_t>(max_cols_), 0),
      pe_macs_(static_cast<size_t>(max_rows_) * static_cast<size_t>(max_cols_), 0) {}

void MacCoreArray::configure(Op op, int rows_used, int cols_used) {
  if (!term_valid_ || op != op_) {
    term_.resize(256 * 256);
    for (int x = -128; x < 128; ++x)
      for (int w = -128; w < 128; ++w)
        term_[static_cast<size_t>(static_cast<uint8_t>(x)) * 256 + static_cast<uint8_t>(w)] =
            weight_valid(op, w) ? op_term(op, static_cast<int8_t>(x), static_cast<int8_t>(w)) : 0;
    term_valid_ = true;
  }
  op_ = op;
  rows_used_ = rows_used;
  cols_used_ = cols_used;
}

void MacCoreArray::load_row(int r, const int8_t* w_by_col, int64_t col_stride) {
  int8_t* dst = &w_[static_cast<size_t>(r) * max_cols_];
  for (int c = 0; c < cols_used_; ++c) dst[c] = w_by_col[c * col_stride];
}

void MacCoreArray::compute(const int8_t* x, int32_t* acc, int64_t acc_stride) {
  int32_t sum[256];
  int32_t* s = max_cols_ <= 256 ? sum : nullptr;
  std::vector<int32_t> big;
  if (!s) {
    big.assign(static_cast<size_t>(max_cols_), 0);
    s = big.data();
  }
  const int cols = cols_used_;
  for (int c = 0; c < cols; ++c) s[c] = 0;
  for (int r = 0; r < rows_used_; ++r) {
    const int32_t* t = &term_[static_cast<size_t>(static_cast<uint8_t>(x[r])) * 256];
    const uint8_t* wr = reinterpret_cast<const uint8_t*>(&w_[static_cast<size_t>(r) * max_cols_]);
    for (int c = 0; c < cols; ++c) s[c] += t[wr[c]];
  }
  for (int c = 0; c < cols; ++c) acc[c * acc_stride] += s[c];
  for (int c = 0; c < kProbes; ++c) probe_[c] = c < cols ? acc[c * acc_stride] : 0;
}

void MacCoreArray::partial_sums(const int8_t* x, int64_t* partial) {
  const int cols = cols_used_;
  for (int c = 0; c < cols; ++c) partial[c] = 0;
  for (int r = 0; r < rows_used_; ++r) {
    const int32_t* t = &term_[static_cast<size_t>(static_cast<uint8_t>(x[r])) * 256];
    const uint8_t* wr = reinterpret_cast<const uint8_t*>(&w_[static_cast<size_t>(r) * max_cols_]);
    for (int c = 0; c < cols; ++c) partial[c] += t[wr[c]];
  }
}

void MacCoreArray::account(int64_t pixels) {
  for (int r = 0; r < rows_used_; ++r)
    for (int c = 0; c < cols_used_; ++c) pe_macs_[static_cast<size_t>(r) * max_cols_ + c] += static_cast<uint64_t>(pixels);
}

uint64_t MacCoreArray::total_macs() const {
  uint64_t s = 0;
  for (uint64_t v : pe_macs_) s += v;
  return s;
}

// ---------------------------------------------------------------- AcceleratorCycle

const char* AcceleratorCycle::state_name(State s) {
  switch (s) {
    case State::Idle: return "IDLE";
    case State::FetchDesc: return "FETCH_DESC";
    case State::DmaIn: return "DMA_IN";
    case State::LoadW: return "LOAD_W";
    case State::Fill: return "FILL";
    case State::Compute: return "COMPUTE";
    case State::Writeback: return "WRITEBACK";
    case State::Done: return "DONE";
    case State::Error: return "ERROR";
  }
  return "?";
}

AcceleratorCycle::AcceleratorCycle(sc_core::sc_module_name name, const ArrayConfig& cfg, const EnergyTable& table,
                                   sc_core::sc_trace_file* tf)
    : AcceleratorBase(name, cfg, table),
      clk("clk", sc_core::sc_time(1.0 / table.clock_hz(), sc_core::SC_SEC)),
      start("start"),
      busy("busy"),
      done("done"),
      array("array", cfg_) {
  xrow_.assign(static_cast<size_t>(array.max_rows()), 0);
  partial_.assign(static_cast<size_t>(array.max_cols()), 0);
  SC_HAS_PROCESS(AcceleratorCycle);
  SC_METHOD(tick);
  sensitive << clk.posedge_event();
  dont_initialize();
  if (tf) trace(tf);
}

void AcceleratorCycle::trace(sc_core::sc_trace_file* tf) {
  const std::string p = std::string(name()) + ".";
  sc_core::sc_trace(tf, clk, p + "clk");
  sc_core::sc_trace(tf, start, p + "start");
  sc_core::sc_trace(tf, busy, p + "busy");
  sc_core::sc_trace(tf, done, p + "done");
  sc_core::sc_trace(tf, tr_state_, p + "state", 4);
  sc_core::sc_trace(tf, tr_layer_, p + "layer", 16);
  sc_core::sc_trace(tf, tr_op_, p + "op", 4);
  sc_core::sc_trace(tf, tr_mode_, p + "mode", 1);
  sc_core::sc_trace(tf, tr_dma_, p + "dma_active");
  for (int c = 0; c < MacCoreArray::kProbes; ++c)
    sc_core::sc_trace(tf, array.probe_[c], p + "array.acc" + std::to_string(c), 32);
}

double AcceleratorCycle::utilisation() const {
  const double cap = static_cast<double>(cfg_.rows) * cfg_.cols * static_cast<double>(busy_edges_);
  return cap > 0 ? static_cast<double>(mac_issue_) / cap : 0.0;
}

void AcceleratorCycle::enter(State s, int64_t cycles) {
  state_ = s;
  remaining_ = cycles;
  tr_state_ = static_cast<int>(s);
  tr_dma_ = s == State::FetchDesc || s == State::DmaIn || s == State::Writeback;
}

void AcceleratorCycle::begin_layer() {
  set_current_layer(layer_);
  tr_layer_ = static_cast<int>(layer_);
  layer_cycles_ = 0;
  enter(State::FetchDesc, ceil_div(kDescriptorBytes, cfg_.dma_bytes_per_cycle) + kLayerSetupCycles);
  // The descriptor is fetched in the first cycle of FETCH_DESC; decode/validation errors end the run there.
  sc_core::sc_time bus = sc_core::SC_ZERO_TIME;
  err_ = fetch_descriptor(layer_, desc_, bus);
  if (err_ == ErrorCode::None) {
    tr_op_ = static_cast<int>(desc_.op);
    tr_mode_ = static_cast<int>(desc_.mode);
  }
}

void AcceleratorCycle::after_fetch() {
  sc_core::sc_time bus = sc_core::SC_ZERO_TIME;
  const ErrorCode e = load_layer(desc_, L_, bus);
  if (e != ErrorCode::None) return fail(e);
  const LayerShape& s = L_.params.shape;
  cim_ = L_.params.mode == Mode::Cim;
  G_ = s.groups;
  cog_ = s.cout / s.groups;
  K_ = s.reduction();
  OH_ = s.out_h();
  OW_ = s.out_w();
  P_ = static_cast<int64_t>(s.n) * OH_ * OW_;
  if (!cim_) {
    col_tiles_ = ceil_div(cog_, cfg_.cols);
    tile_rows_ = cfg_.rows;
  } else {
    col_tiles_ = ceil_div(cog_, cfg_.cim_cols);
    tile_rows_ = L_.params.cim.rows;
    conv_ = static_cast<int64_t>(L_.params.cim.adc_bits) * cfg_.adc_cycles_per_bit;
    chunks_ = cim_num_chunks(L_.params.cim, K_);
  }
  row_tiles_ = ceil_div(K_, tile_rows_);
  acc_.assign(static_cast<size_t>(s.outputs()), 0);
  g_ = ct_ = rt_ = 0;
  enter(State::DmaIn, L_.cost.dma_in_cycles);
}

void AcceleratorCycle::next_tile() {
  if (g_ >= G_) {
    wb_pos_ = 0;
    enter(State::Writeback, L_.cost.dma_out_cycles);
    return;
  }
  const int64_t col_lanes = cim_ ? cfg_.cim_cols : cfg_.cols;
  c0_ = ct_ * col_lanes;
  cols_ = std::min(col_lanes, cog_ - c0_);
  r0_ = rt_ * tile_rows_;
  rows_ = std::min(tile_rows_, K_ - r0_);
  array.configure(L_.params.op, static_cast<int>(rows_), static_cast<int>(cols_));
  const LayerShape& s = L_.params.shape;
  const int64_t cin_g = s.cin / s.groups;
  rci_.resize(static_cast<size_t>(rows_));
  rky_.resize(static_cast<size_t>(rows_));
  rkx_.resize(static_cast<size_t>(rows_));
  for (int64_t i = 0; i < rows_; ++i) {
    const int64_t r = r0_ + i;  // r = (ci * kh + ky) * kw + kx
    rkx_[i] = static_cast<int32_t>(r % s.kw);
    rky_[i] = static_cast<int32_t>((r / s.kw) % s.kh);
    rci_[i] = static_cast<int32_t>(g_ * cin_g + r / (static_cast<int64_t>(s.kw) * s.kh));
  }
  load_row_ = 0;
  enter(State::LoadW, rows_);
}

void AcceleratorCycle::compute_step() {
  const LayerShape& s = L_.params.shape;
  const bool fetch = !cim_ || sub_ == 0;
  if (fetch) {
    // Activation column for this pixel: one value per used row (zero in the padding).
    const int64_t iy0 = oy_ * s.stride - s.pad, ix0 = ox_ * s.stride - s.pad;
    const int8_t* in = L_.input.data();
    for (int64_t i = 0; i < rows_; ++i) {
      const int64_t iy = iy0 + rky_[i], ix = ix0 + rkx_[i];
      xrow_[i] = (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w)
                     ? int8_t{0}
                     : in[((n_ * s.cin + rci_[i]) * s.h + iy) * s.w + ix];
    }
    const int64_t ohw = OH_ * OW_;
    const int64_t oc0 = g_ * cog_ + c0_;
    const int64_t base = ((n_ * s.cout + oc0) * OH_ + oy_) * OW_ + ox_;
    if (!cim_) {
      array.compute(xrow_.data(), &acc_[static_cast<size_t>(base)], ohw);
      mac_issue_ += static_cast<uint64_t>(rows_ * cols_);
    } else {
      array.partial_sums(xrow_.data(), partial_.data());
      for (int64_t c = 0; c < cols_; ++c) {
        const uint64_t out_index = static_cast<uint64_t>(base + c * ohw);
        acc_[out_index] += cim_code(L_.params.cim, partial_[c], static_cast<int>(oc0 + c), out_index, rt_, chunks_);
        if (c < MacCoreArray::kProbes) array.probe_[c] = acc_[out_index];
      }
      array.add_conversions(static_cast<uint64_t>(cols_));
    }
    // The last row tile (CIM: chunk) completes these outputs: requantized as they stream out, no extra cycle.
    if (rt_ == row_tiles_ - 1) requantize_pixel(base, oc0, ohw);
  }
  if (cim_ && ++sub_ < conv_) return;
  sub_ = 0;
  if (++ox_ == OW_) {
    ox_ = 0;
    if (++oy_ == OH_) {
      oy_ = 0;
      ++n_;
    }
  }
}

void AcceleratorCycle::writeback_step() {
  // B output bytes per cycle leave the activation buffer for the DMA (the transfer itself is issued on the
  // last cycle of the phase).
  wb_pos_ = std::min<int64_t>(L_.params.shape.outputs(), wb_pos_ + cfg_.dma_bytes_per_cycle);
}

void AcceleratorCycle::requantize_pixel(int64_t base, int64_t oc0, int64_t ohw) {
  const Requant& q = L_.params.rq;
  for (int64_t c = 0; c < cols_; ++c) {
    const size_t i = static_cast<size_t>(base + c * ohw);
    const size_t oc = static_cast<size_t>(oc0 + c);
    L_.output[i] = requantize(acc_[i], q.mult[oc], q.shift[oc], q.bias[oc], q.relu);
  }
}

void AcceleratorCycle::fail(ErrorCode e) {
  finish_run(e, layer_);
  enter(State::Idle, 0);
  tr_state_ = static_cast<int>(State::Error);
  busy.write(false);
  done.write(true);
  pulse_done_ = true;
}

void AcceleratorCycle::end_layer() {
  measured_.push_back(layer_cycles_);
  layer_done(layer_, L_, layer_cycles_);
  if (++layer_ < nlayers_) return begin_layer();
  finish_run(ErrorCode::None, 0);
  enter(State::Idle, 0);
  tr_state_ = static_cast<int>(State::Done);
  busy.write(false);
  done.write(true);
  pulse_done_ = true;
}

void AcceleratorCycle::tick() {
  ++edges_;
  if (state_ == State::Idle) {
    if (pulse_done_) {
      done.write(false);
      pulse_done_ = false;
      tr_state_ = static_cast<int>(State::Idle);
    }
    if (start.read()) start.write(false);
    if (!start_pending_) return;
    start_pending_ = false;
    start.write(true);
    busy.write(true);
    begin_run();
    nlayers_ = layer_count();
    layer_ = 0;
    measured_.clear();
    begin_layer();
    return;
  }
  if (start.read()) start.write(false);
  ++busy_edges_;
  ++layer_cycles_;
  switch (state_) {
    case State::FetchDesc:
      if (--remaining_ > 0) return;
      if (err_ != ErrorCode::None) return fail(err_);
      return after_fetch();
    case State::DmaIn:
      if (--remaining_ > 0) return;
      return next_tile();
    case State::LoadW: {
      const int64_t oc0 = g_ * cog_ + c0_;
      array.load_row(static_cast<int>(load_row_), &L_.params.weights[static_cast<size_t>(oc0 * K_ + r0_ + load_row_)], K_);
      ++load_row_;
      if (--remaining_ > 0) return;
      return enter(State::Fill, kTileFillCycles);
    }
    case State::Fill:
      if (--remaining_ > 0) return;
      n_ = oy_ = ox_ = 0;
      sub_ = 0;
      return enter(State::Compute, cim_ ? P_ * conv_ : P_);
    case State::Compute:
      compute_step();
      if (--remaining_ > 0) return;
      if (!cim_) array.account(P_);
      if (++rt_ == row_tiles_) {
        rt_ = 0;
        if (++ct_ == col_tiles_) {
          ct_ = 0;
          ++g_;
        }
      }
      return next_tile();
    case State::Writeback:
      writeback_step();
      if (--remaining_ > 0) return;
      {
        sc_core::sc_time bus = sc_core::SC_ZERO_TIME;
        if (store_output(L_, bus) != ErrorCode::None) return fail(ErrorCode::DmaError);
      }
      return end_layer();
    default:
      return;
  }
}

}  // namespace cimsim::accel
