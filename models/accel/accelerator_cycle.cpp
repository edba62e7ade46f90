// Cycle-level accelerator model (include/cimsim/accel/accelerator_cycle.hpp).
#include "cimsim/accel/accelerator_cycle.hpp"

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
      pad_cols_((max_cols_ + 15) / 16 * 16),
      w_(static_cast<size_t>(max_rows_) * static_cast<size_t>(max_cols_), 0),
      wq_(static_cast<size_t>(max_rows_ + 1) / 2 * 2 * static_cast<size_t>(pad_cols_), 0),
      apair_(static_cast<size_t>(max_rows_ + 1) / 2, 0),
      sums_(static_cast<size_t>(pad_cols_), 0),
      pe_macs_(static_cast<size_t>(max_rows_) * static_cast<size_t>(max_cols_), 0) {}

void MacCoreArray::configure(Op op, int rows_used, int cols_used) {
  if (!term_valid_ || op != op_) {
    term_.resize(256 * 256);
    valid_.resize(256);
    for (int w = -128; w < 128; ++w) valid_[static_cast<uint8_t>(w)] = weight_valid(op, w) ? 1 : 0;
    for (int x = -128; x < 128; ++x)
      for (int w = -128; w < 128; ++w)
        term_[static_cast<size_t>(static_cast<uint8_t>(x)) * 256 + static_cast<uint8_t>(w)] = static_cast<int16_t>(
            valid_[static_cast<uint8_t>(w)] ? op_term(op, static_cast<int8_t>(x), static_cast<int8_t>(w)) : 0);
    // Does the table factorize as a(x) * w over the valid weights (a(x) = term(x, 1))?
    a_.assign(256, 0);
    product_ = valid_[1] != 0;
    for (int x = 0; x < 256 && product_; ++x) {
      const int16_t* t = &term_[static_cast<size_t>(x) * 256];
      a_[x] = t[1];
      for (int w = -128; w < 128 && product_; ++w) {
        product_ = !valid_[static_cast<uint8_t>(w)] || static_cast<int32_t>(a_[x]) * w == t[static_cast<uint8_t>(w)];
      }
    }
    term_valid_ = true;
  }
  op_ = op;
  rows_used_ = rows_used;
  cols_used_ = cols_used;
}

void MacCoreArray::load_row(int r, const int8_t* w_by_col, int64_t col_stride) {
  int8_t* dst = &w_[static_cast<size_t>(r) * max_cols_];
  int16_t* q = &wq_[static_cast<size_t>(r / 2) * 2 * pad_cols_ + (r & 1)];
  for (int c = 0; c < cols_used_; ++c) {
    const int8_t w = w_by_col[c * col_stride];
    dst[c] = w;
    q[2 * c] = valid_[static_cast<uint8_t>(w)] ? w : 0;
  }
}

void MacCoreArray::row_sums(const int8_t* x, int32_t* s) {
  if (product_) {
    // Rows in pairs: term(x_r, w_rc) + term(x_r+1, w_r+1,c) = a(x_r) w_rc + a(x_r+1) w_r+1,c, one int16 x int16
    // multiply-add per column and pair (exact in int32; pair_sums()).
    // Columns past cols_used_ hold stale weights (their sums are not used); an odd last row pairs with a = 0.
    const int pairs = (rows_used_ + 1) / 2;
    for (int p = 0; p < pairs; ++p) {
      const int r = 2 * p;
      const uint16_t a0 = static_cast<uint16_t>(a_[static_cast<uint8_t>(x[r])]);
      const uint16_t a1 = r + 1 < rows_used_ ? static_cast<uint16_t>(a_[static_cast<uint8_t>(x[r + 1])]) : 0;
      apair_[p] = static_cast<int32_t>(static_cast<uint32_t>(a0) | static_cast<uint32_t>(a1) << 16);
    }
    pair_sums(apair_.data(), pairs, wq_.data(), pad_cols_, (cols_used_ + 15) / 16 * 16, s);
    return;
  }
  const int cols = cols_used_;
  for (int c = 0; c < cols; ++c) s[c] = 0;
  for (int r = 0; r < rows_used_; ++r) {
    const int16_t* t = &term_[static_cast<size_t>(static_cast<uint8_t>(x[r])) * 256];
    const uint8_t* wr = reinterpret_cast<const uint8_t*>(&w_[static_cast<size_t>(r) * max_cols_]);
    for (int c = 0; c < cols; ++c) s[c] += t[wr[c]];
  }
}

void MacCoreArray::pair_sums(const int32_t* apair, int pairs, const int16_t* w, int stride, int cols, int32_t* s,
                             bool simd) {
  for (int c0 = 0; c0 < cols; c0 += 16) {
    const int16_t* wp = w + static_cast<size_t>(c0) * 2;
#if defined(__SSE2__)
    if (simd) {
      // One 128-bit load: 4 columns x the pair's 2 rows; _mm_madd_epi16 sums the pair per column in int32.
      __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
      for (int p = 0; p < pairs; ++p, wp += 2 * stride) {
        const __m128i a = _mm_set1_epi32(apair[p]);
        const __m128i* v = reinterpret_cast<const __m128i*>(wp);
        s0 = _mm_add_epi32(s0, _mm_madd_epi16(_mm_loadu_si128(v), a));
        s1 = _mm_add_epi32(s1, _mm_madd_epi16(_mm_loadu_si128(v + 1), a));
        s2 = _mm_add_epi32(s2, _mm_madd_epi16(_mm_loadu_si128(v + 2), a));
        s3 = _mm_add_epi32(s3, _mm_madd_epi16(_mm_loadu_si128(v + 3), a));
      }
      __m128i* out = reinterpret_cast<__m128i*>(s + c0);
      _mm_storeu_si128(out, s0);
      _mm_storeu_si128(out + 1, s1);
      _mm_storeu_si128(out + 2, s2);
      _mm_storeu_si128(out + 3, s3);
      continue;
    }
#endif
    (void)simd;
    uint32_t b[16] = {};  // unsigned: wraps like the SIMD adds
    for (int p = 0; p < pairs; ++p, wp += 2 * stride) {
      const int32_t a0 = static_cast<int16_t>(static_cast<uint32_t>(apair[p]) & 0xffffu);
      const int32_t a1 = static_cast<int16_t>(static_cast<uint32_t>(apair[p]) >> 16);
      for (int c = 0; c < 16; ++c)
        b[c] += static_cast<uint32_t>(a0 * wp[2 * c]) + static_cast<uint32_t>(a1 * wp[2 * c + 1]);
    }
    for (int c = 0; c < 16; ++c) s[c0 + c] = static_cast<int32_t>(b[c]);
  }
}

void MacCoreArray::compute(const int8_t* x, int32_t* acc) {
  int32_t* s = sums_.data();
  row_sums(x, s);
  const int cols = cols_used_;
  for (int c = 0; c < cols; ++c) acc[c] += s[c];
  for (int c = 0; c < kProbes; ++c) probe_[c] = c < cols ? acc[c] : 0;
}

void MacCoreArray::partial_sums(const int8_t* x, int64_t* partial) {
  const int cols = cols_used_;
  if (rows_used_ < kInt32Rows) {
    int32_t* s = sums_.data();
    row_sums(x, s);
    for (int c = 0; c < cols; ++c) partial[c] = s[c];
    return;
  }
  for (int c = 0; c < cols; ++c) partial[c] = 0;
  for (int r = 0; r < rows_used_; ++r) {
    const int16_t* t = &term_[static_cast<size_t>(static_cast<uint8_t>(x[r])) * 256];
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
    case State::Load: return "LOAD";
    case State::LoadW: return "LOAD_W";
    case State::Fill: return "FILL";
    case State::Compute: return "COMPUTE";
    case State::Vector: return "VECTOR";
    case State::Stall: return "STALL";
    case State::Store: return "STORE";
    case State::Done: return "DONE";
    case State::Error: return "ERROR";
  }
  return "?";
}

AcceleratorCycle::AcceleratorCycle(sc_core::sc_module_name name, const ArrayConfig& cfg, const EnergyTable& table,
                                   sc_core::sc_trace_file* tf, bool trace_detail)
    : AcceleratorBase(name, cfg, table),
      clk_in("clk_in"),
      start("start"),
      busy("busy"),
      done("done"),
      array("array", cfg_) {
  xrow_.assign(static_cast<size_t>(array.max_rows()), 0);
  partial_.assign(static_cast<size_t>(array.max_cols()), 0);
  // A visible clock for the trace, when the period has two representable phases (else the trace shows states
  // only and the model stays self-timed).
  if (tf && trace_detail && period_ >= sc_core::sc_get_time_resolution() * 2.0)
    own_clk_ = std::make_unique<sc_core::sc_clock>("clk", period_);
  trace_detail_ = trace_detail;
  SC_HAS_PROCESS(AcceleratorCycle);
  SC_METHOD(clock_proc);
  SC_THREAD(dma_thread);
  if (tf) trace(tf);
}

void AcceleratorCycle::end_of_elaboration() {
  AcceleratorBase::end_of_elaboration();
  external_ = clk_in.size() > 0;
  self_timed_ = !external_ && !own_clk_;
}

void AcceleratorCycle::trace(sc_core::sc_trace_file* tf) {
  const std::string p = std::string(name()) + ".";
  if (own_clk_) sc_core::sc_trace(tf, *own_clk_, p + "clk");
  sc_core::sc_trace(tf, start, p + "start");
  sc_core::sc_trace(tf, busy, p + "busy");
  sc_core::sc_trace(tf, done, p + "done");
  // Widths hold every value as a signed int (a value that does not fit is drawn as x): state 0..10, op 0..6,
  // mode 0..1 in 8 bits; layer and band indices in 16 (program limits). Names: traces/accel-*.txt filters.
  sc_core::sc_trace(tf, tr_state_, p + "state", 8);
  sc_core::sc_trace(tf, tr_layer_, p + "layer", 16);
  sc_core::sc_trace(tf, tr_band_, p + "band", 16);
  sc_core::sc_trace(tf, tr_op_, p + "op", 8);
  sc_core::sc_trace(tf, tr_mode_, p + "mode", 8);
  sc_core::sc_trace(tf, tr_dma_, p + "dma_active");
  if (trace_detail_)
    for (int c = 0; c < MacCoreArray::kProbes; ++c)
      sc_core::sc_trace(tf, array.probe_[c], p + "array.acc" + std::to_string(c), 32);
}

double AcceleratorCycle::utilisation() const {
  const double cap = static_cast<double>(cfg_.rows) * cfg_.cols * static_cast<double>(busy_edges_);
  return cap > 0 ? static_cast<double>(mac_issue_) / cap : 0.0;
}

void AcceleratorCycle::on_start() {
  start_pending_ = true;
  wake_ev_.notify(sc_core::SC_ZERO_TIME);
}

// ---- DMA engine: every bus access of the cycle-level model happens here, in thread context ----

void AcceleratorCycle::post_dma(int job) {
  dma_job_ = job;
  dma_pending_ = true;
  dma_req_ev_.notify();
}

void AcceleratorCycle::dma_thread() {
  for (;;) {
    sc_core::wait(dma_req_ev_);
    // Annotated bus delays are not added: DMA time is the cost model's (a target that calls wait() takes
    // simulated time here, during which the FSM waits without counting cycles).
    sc_core::sc_time bus = sc_core::SC_ZERO_TIME;
    if (dma_job_ == 1) {
      dma_err_ = fetch_descriptor(layer_, desc_, bus);
      if (dma_err_ == ErrorCode::None) dma_err_ = load_layer(desc_, L_, bus);
    } else {
      dma_err_ = store_output(L_, bus);
    }
    dma_pending_ = false;
    dma_done_ev_.notify();
  }
}

// ---- clocking ----

bool AcceleratorCycle::resume_dma() {
  while (wait_for_dma_) {
    if (dma_pending_) {
      in_dma_wait_ = true;
      next_trigger(dma_done_ev_);
      return false;
    }
    const int cont = wait_for_dma_;
    wait_for_dma_ = 0;
    if (dma_err_ != ErrorCode::None)
      fail(cont == 1 ? dma_err_ : ErrorCode::DmaError);
    else if (cont == 1)
      after_fetch();
    else
      end_layer();
  }
  return true;
}

void AcceleratorCycle::clock_proc() {
  const bool resumed = in_dma_wait_;  // woken by the DMA thread, not by a clock edge
  in_dma_wait_ = false;
  if (!resumed && running_) {
    ++edges_;
    tick();
  }
  if (!resume_dma()) return;
  if (!running_) {
    if (!start_pending_) return next_trigger(wake_ev_);
    running_ = true;  // the run starts at the next clock edge
  }
  // The next active edge; self-timed, a fixed-length phase without per-cycle work is evaluated once, at its
  // last edge (the skipped edges are counted exactly as if evaluated).
  int64_t skip = 0;
  if (self_timed_ && remaining_ > 1 &&
      (state_ == State::FetchDesc || state_ == State::Load || state_ == State::Store || state_ == State::Stall ||
       state_ == State::Vector)) {
    skip = remaining_ - 1;
    edges_ += static_cast<uint64_t>(skip);
    busy_edges_ += static_cast<uint64_t>(skip);
    layer_cycles_ += skip;
    remaining_ = 1;
  }
  if (external_) return next_trigger(clk_in->posedge_event());
  if (own_clk_) return next_trigger(own_clk_->posedge_event());
  if (skip == 0) return next_trigger(period_);
  next_trigger(period_ * static_cast<double>(skip + 1));
}

void AcceleratorCycle::enter(State s, int64_t cycles) {
  state_ = s;
  remaining_ = cycles;
  tr_state_ = static_cast<int>(s);
  tr_dma_ = s == State::FetchDesc || s == State::Load || s == State::Store || s == State::Stall;
}

void AcceleratorCycle::begin_layer() {
  set_current_layer(layer_);
  tr_layer_ = static_cast<int>(layer_);
  tr_band_ = 0;
  layer_cycles_ = 0;
  // The descriptor and the operands are fetched by the DMA thread during FETCH_DESC; decode/validation errors
  // end the run at its last cycle.
  enter(State::FetchDesc, (kDescriptorBytes + cfg_.dma_bytes_per_cycle - 1) / cfg_.dma_bytes_per_cycle +
                              kLayerSetupCycles);
  post_dma(1);
}

void AcceleratorCycle::after_fetch() {
  plan_ = L_.cost;
  tr_op_ = static_cast<int>(desc_.op);
  tr_mode_ = static_cast<int>(desc_.mode);
  const LayerShape& s = L_.params.shape;
  vec_ = is_vector_kind(s.kind);
  cim_ = L_.params.mode == Mode::Cim;
  G_ = s.groups;
  cog_ = s.cout / s.groups;
  K_ = s.reduction();
  OH_ = s.out_h();
  OW_ = s.out_w();
  if (!vec_) {
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
  }
  b_ = 0;
  begin_band();
}

void AcceleratorCycle::begin_band() {
  tr_band_ = static_cast<int>(b_);
  const Band& band = plan_.bands[b_];
  const bool first_overlapped = cfg_.double_buffer && b_ == 0;
  if ((!cfg_.double_buffer || first_overlapped) && band.load_cycles > 0) return enter(State::Load, band.load_cycles);
  start_compute();
}

void AcceleratorCycle::start_compute() {
  tr_band_ = static_cast<int>(b_);
  const Band& band = plan_.bands[b_];
  Pb_ = (band.row1 - band.row0) * (band.col1 - band.col0);
  g_ = ct_ = rt_ = 0;
  if (vec_) return enter(State::Vector, band.compute_cycles);
  next_tile();
}

void AcceleratorCycle::next_tile() {
  if (g_ >= G_) return end_compute();
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
  roff_.resize(static_cast<size_t>(rows_));
  for (int64_t i = 0; i < rows_; ++i) {
    const int64_t r = r0_ + i;  // r = (ci * kh + ky) * kw + kx
    rkx_[i] = static_cast<int32_t>(r % s.kw);
    rky_[i] = static_cast<int32_t>((r / s.kw) % s.kh);
    rci_[i] = static_cast<int32_t>(g_ * cin_g + r / (static_cast<int64_t>(s.kw) * s.kh));
    roff_[i] = (static_cast<int64_t>(rci_[i]) * s.h + rky_[i]) * s.w + rkx_[i];
  }
  load_row_ = 0;
  enter(State::LoadW, rows_);
}

void AcceleratorCycle::end_compute() {
  const Band& band = plan_.bands[b_];
  const size_t nb = plan_.bands.size();
  if (!cfg_.double_buffer) {
    if (band.store_cycles > 0) return enter(State::Store, band.store_cycles);
    if (++b_ < nb) return begin_band();
    return finish_layer();
  }
  // Overlapped: this band's compute hides the next band's load and the previous band's store.
  const int64_t next_load = b_ + 1 < nb ? plan_.bands[b_ + 1].load_cycles : 0;
  const int64_t prev_store = b_ > 0 ? plan_.bands[b_ - 1].store_cycles : 0;
  const int64_t stall = std::max(next_load, prev_store) - band.compute_cycles;
  if (stall > 0) return enter(State::Stall, stall);
  if (++b_ < nb) return start_compute();
  if (plan_.bands.back().store_cycles > 0) return enter(State::Store, plan_.bands.back().store_cycles);
  finish_layer();
}

void AcceleratorCycle::finish_layer() {
  if (vec_) compute_layer(L_);  // the vector unit's results (computed as the last band drains)
  post_dma(2);
  wait_for_dma_ = 2;
}

void AcceleratorCycle::compute_step() {
  const LayerShape& s = L_.params.shape;
  const bool fetch = !cim_ || sub_ == 0;
  if (fetch) {
    // Activation column for this pixel: one value per used row (zero in the padding).
    const int64_t iy0 = oy_ * s.stride - s.pad, ix0 = ox_ * s.stride - s.pad;
    const int8_t* in = L_.input.data();
    int8_t* xr = xrow_.data();  // locals: the int8 stores would otherwise reload the vectors' pointers
    if (iy0 >= 0 && iy0 + s.kh <= s.h && ix0 >= 0 && ix0 + s.kw <= s.w) {
      // The whole window is inside the input: no padding checks, one precomputed offset per row.
      const int8_t* px = in + (n_ * s.cin * s.h + iy0) * s.w + ix0;
      const int64_t* ro = roff_.data();
      for (int64_t i = 0, n = rows_; i < n; ++i) xr[i] = px[ro[i]];
    } else {
      const int32_t *ky = rky_.data(), *kx = rkx_.data(), *ci = rci_.data();
      const int64_t h = s.h, w = s.w, img = n_ * s.cin;
      for (int64_t i = 0, n = rows_; i < n; ++i) {
        const int64_t iy = iy0 + ky[i], ix = ix0 + kx[i];
        xr[i] = (iy < 0 || iy >= h || ix < 0 || ix >= w) ? int8_t{0} : in[((img + ci[i]) * h + iy) * w + ix];
      }
    }
    const int64_t ohw = OH_ * OW_;
    const int64_t oc0 = g_ * cog_ + c0_;
    const int64_t base = ((n_ * s.cout + oc0) * OH_ + oy_) * OW_ + ox_;  // NCHW index of column 0's output
    const int64_t abase = ((n_ * OH_ + oy_) * OW_ + ox_) * s.cout + oc0;  // its accumulator
    int32_t* acc = &acc_[static_cast<size_t>(abase)];
    if (!cim_) {
      array.compute(xrow_.data(), acc);
      mac_issue_ += static_cast<uint64_t>(rows_ * cols_);
    } else {
      array.partial_sums(xrow_.data(), partial_.data());
      for (int64_t c = 0; c < cols_; ++c) {
        const uint64_t out_index = static_cast<uint64_t>(base + c * ohw);
        acc[c] += cim_code(L_.params.cim, partial_[c], static_cast<int>(oc0 + c), out_index, rt_, chunks_);
        if (c < MacCoreArray::kProbes) array.probe_[c] = acc[c];
      }
      array.add_conversions(static_cast<uint64_t>(cols_));
    }
    // The last row tile (CIM: chunk) completes these outputs: requantized as they stream out, no extra cycle.
    if (rt_ == row_tiles_ - 1) requantize_pixel(base, abase, oc0, ohw);
  }
  if (cim_ && ++sub_ < conv_) return;
  sub_ = 0;
  if (++ox_ == x_end_) {  // the band's strip of columns (the whole width unless the layer is split)
    ox_ = x_begin_;
    if (++oy_ == OH_) {
      oy_ = 0;
      ++n_;
    }
  }
}

void AcceleratorCycle::requantize_pixel(int64_t base, int64_t abase, int64_t oc0, int64_t ohw) {
  const Requant& q = L_.params.rq;
  const int32_t* acc = &acc_[static_cast<size_t>(abase)];
  for (int64_t c = 0; c < cols_; ++c) {
    const size_t oc = static_cast<size_t>(oc0 + c);
    L_.output[static_cast<size_t>(base + c * ohw)] = requantize(acc[c], q.mult[oc], q.shift[oc], q.bias[oc], q.relu);
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
  if (state_ == State::Idle) {
    if (pulse_done_) {
      done.write(false);
      pulse_done_ = false;
      tr_state_ = static_cast<int>(State::Idle);
    }
    if (start.read()) start.write(false);
    if (!start_pending_) {
      running_ = false;  // sleep until the next START (idle edges are not evaluated)
      return;
    }
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
      wait_for_dma_ = 1;  // descriptor, plan and operands from the DMA thread
      return;
    case State::Load:
      if (--remaining_ > 0) return;
      return start_compute();
    case State::LoadW: {
      const int64_t oc0 = g_ * cog_ + c0_;
      array.load_row(static_cast<int>(load_row_), &L_.params.weights[static_cast<size_t>(oc0 * K_ + r0_ + load_row_)], K_);
      ++load_row_;
      if (--remaining_ > 0) return;
      return enter(State::Fill, kTileFillCycles);
    }
    case State::Fill: {
      if (--remaining_ > 0) return;
      const int64_t row0 = plan_.bands[b_].row0;
      n_ = row0 / OH_;
      oy_ = row0 % OH_;
      x_begin_ = plan_.bands[b_].col0;
      x_end_ = plan_.bands[b_].col1;
      ox_ = x_begin_;
      sub_ = 0;
      return enter(State::Compute, cim_ ? Pb_ * conv_ : Pb_);
    }
    case State::Compute:
      compute_step();
      if (--remaining_ > 0) return;
      if (!cim_) array.account(Pb_);
      if (++rt_ == row_tiles_) {
        rt_ = 0;
        if (++ct_ == col_tiles_) {
          ct_ = 0;
          ++g_;
        }
      }
      return next_tile();
    case State::Vector:
      if (--remaining_ > 0) return;
      return end_compute();
    case State::Stall:
      if (--remaining_ > 0) return;
      if (++b_ < plan_.bands.size()) return start_compute();
      if (plan_.bands.back().store_cycles > 0) return enter(State::Store, plan_.bands.back().store_cycles);
      return finish_layer();
    case State::Store:
      if (--remaining_ > 0) return;
      if (cfg_.double_buffer) return finish_layer();
      if (++b_ < plan_.bands.size()) return begin_band();
      return finish_layer();
    default:
      return;
  }
}

}  // namespace cimsim::accel
