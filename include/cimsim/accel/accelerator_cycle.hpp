#pragma once
// Cycle-level accelerator: a controller FSM (an SC_METHOD, one evaluation per clock edge) and a MacCoreArray,
// advancing one step of the schedule of docs/accelerator-numerics.md per clock edge, so that the clock edges a
// layer takes equal layer_cost().cycles exactly. Per layer:
//   FETCH_DESC  ceil(128 / B) + kLayerSetupCycles   descriptor by DMA, decode, validate, plan the bands
//   per band of output rows (layer_cost().bands):
//     LOAD      the band's DRAM operands (input rows with halo, constants when first or streamed)
//     per group g, column tile ct, row tile (digital) or chunk (CIM):
//       LOAD_W  one weight row per cycle into the array (rows of this tile)
//       FILL    kTileFillCycles
//       COMPUTE digital: one output pixel per cycle, rows x cols op_term()s on the array;
//               CIM: adc_bits x adc_cycles_per_bit cycles per pixel, one cim_code() per column per pixel;
//               the last row tile / chunk requantize()s each finished output as it streams out
//     VECTOR    vector-unit ops instead of the tiles: ceil(reads / lanes) + fill cycles
//     STORE     the band's output rows to DRAM (when the output is not resident)
//   with double buffering the next band's LOAD and the previous band's STORE run during COMPUTE, and STALL
//   covers the rest of the longer transfer.
// Bus traffic is issued by a DMA thread (blocking transport only from thread context); the FSM waits for it
// without counting cycles when a bus target takes simulated time. Clock: an external clk_in, or self-timed
// (fixed-length DMA/stall phases are then evaluated once, at their last edge). Pin-level start/busy/done
// signals and the IRQ line; per-PE activity counters; optional VCD tracing.
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>

#include "cimsim/accel/accelerator_base.hpp"

namespace cimsim::accel {

/// The R x C array of reconfigurable MAC cores (weight stationary) plus the CIM macro's columns. Holds the
/// loaded weight tile, computes one output pixel per call, and counts activity per PE.
class MacCoreArray : public sc_core::sc_module {
 public:
  MacCoreArray(sc_core::sc_module_name name, const ArrayConfig& cfg);

  /// Configures the operator and the tile size for the next compute steps. Reconfiguring the operator
  /// re-decodes the cores: each core's operator term is tabulated from datapath op_term() over all (x, w).
  void configure(Op op, int rows_used, int cols_used);
  /// Loads weight row r of the tile (cols_used weights).
  void load_row(int r, const int8_t* w_by_col, int64_t col_stride);
  /// Digital step: acc[c] += sum_r op_term(op, x[r], w[r][c]) for the used rows/cols (one pixel's
  /// accumulators, contiguous by output channel).
  void compute(const int8_t* x, int32_t* acc);
  /// CIM step: partial[c] = sum_r op_term(op, x[r], w[r][c]) (the bit-line sum before the ADC).
  void partial_sums(const int8_t* x, int64_t* partial);
  /// Adds `pixels` cycles of activity to every used PE (called once per tile: same count as per cycle).
  void account(int64_t pixels);

  int max_rows() const { return max_rows_; }
  int max_cols() const { return max_cols_; }
  /// Operator terms issued by PE (r, c) of the digital R x C array since construction.
  uint64_t pe_macs(int r, int c) const { return pe_macs_[static_cast<size_t>(r) * max_cols_ + c]; }
  uint64_t total_macs() const;
  /// The product path's kernel: for c < cols (a multiple of 16), s[c] = sum over p < pairs of
  /// lo16(apair[p]) * w[p][c][0] + hi16(apair[p]) * w[p][c][1] (int16 values, int32 sums wrapping mod 2^32),
  /// w laid out [pair][stride][2] int16 (stride >= cols). Columns in blocks of 16 whose sums stay in registers:
  /// SSE2 pmaddwd where compiled in and `simd`, else a scalar loop (the same sums; tests compare both).
  static void pair_sums(const int32_t* apair, int pairs, const int16_t* w, int stride, int cols, int32_t* s,
                        bool simd = true);

  /// Column conversions of the CIM macro (one per column per pixel per chunk).
  uint64_t conversions() const { return conversions_; }
  void add_conversions(uint64_t n) { conversions_ += n; }
  /// Accumulator values of the last computed pixel, first columns (traced).
  const int32_t* probe() const { return probe_; }
  static constexpr int kProbes = 4;

 private:
  friend class AcceleratorCycle;
  /// Sums over the used rows into s[0, cols_used_ rounded up to 16): the product path when the operator factorizes, else the
  /// term table. Int32 sums, wrapping like the digital accumulators; exact for rows_used_ < kInt32Rows
  /// (|term| <= 2^15), which partial_sums() checks before using them for the CIM's int64 bit-line sums.
  void row_sums(const int8_t* x, int32_t* s);
  static constexpr int kInt32Rows = 65536;

  int max_rows_, max_cols_;
  int pad_cols_;  ///< max_cols_ rounded up to a multiple of 16 (the product kernel's column blocks)
  Op op_ = Op::MAC8;
  int rows_used_ = 0, cols_used_ = 0;
  std::vector<int8_t> w_;  ///< [max_rows][max_cols]
  std::vector<int16_t> term_;  ///< op_term(op_, x, w) at [(uint8)x * 256 + (uint8)w] (|term| <= 16256 fits)
  bool term_valid_ = false;
  // Product path: when term_[x][w] == a_[x] * w for every x and every valid w (checked over the whole table
  // when the operator is decoded: MAC8, MAC4, BWN, XNOR, DEEPSHIFT), a PE's term is a_[x] times its weight, with
  // invalid weights held as 0 (their table term), so a step is rows/2 x cols int16 multiply-adds of row pairs
  // (SSE2 pmaddwd; a scalar loop elsewhere) instead of rows x cols table look-ups. Same sums, bit for bit.
  bool product_ = false;
  std::vector<int16_t> a_;      ///< [256] input factor by (uint8)x
  std::vector<uint8_t> valid_;  ///< [256] weight_valid(op_, w) by (uint8)w
  std::vector<int16_t> wq_;     ///< [row pair][pad_cols_][row & 1]: valid ? w : 0 (product path)
  std::vector<int32_t> apair_;  ///< [row pair]: a_[x_2p] | a_[x_2p+1] << 16, the step's inputs
  std::vector<int32_t> sums_;   ///< [pad_cols_]: the step's column sums
  std::vector<uint64_t> pe_macs_;
  uint64_t conversions_ = 0;
  int32_t probe_[kProbes] = {0, 0, 0, 0};
};

class AcceleratorCycle : public AcceleratorBase {
 public:
  enum class State : uint8_t { Idle, FetchDesc, Load, LoadW, Fill, Compute, Vector, Stall, Store, Done, Error };
  static const char* state_name(State s);

  /// Optional clock input from the SoC (posedge = one accelerator cycle). Unbound: the model times itself
  /// with the period from the architecture / energy table (and, when tracing, shows that clock as `clk`).
  sc_core::sc_port<sc_core::sc_signal_in_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND> clk_in;
  sc_core::sc_signal<bool> start;    ///< pin: one-cycle pulse when a run starts
  sc_core::sc_signal<bool> busy;     ///< pin: high while running
  sc_core::sc_signal<bool> done;     ///< pin: one-cycle pulse when a run ends (successfully or not)
  MacCoreArray array;

  /// `trace`: VCD file or null (no tracing, no cost). `trace_detail`: also a visible clock `clk` and the
  /// first accumulators of the array (`array.acc0..3`), evaluated every edge (large traces, slower); without
  /// it the trace holds the pins, the FSM state, layer, band, op, mode and DMA activity, which change only at
  /// phase boundaries.
  AcceleratorCycle(sc_core::sc_module_name name, const ArrayConfig& cfg, const EnergyTable& table,
                   sc_core::sc_trace_file* trace = nullptr, bool trace_detail = false);

  State state() const { return state_; }
  /// Clock edges counted for each layer of the last run (equal to layer_cost().cycles by construction of the
  /// FSM; the tests check it).
  const std::vector<int64_t>& measured_cycles() const { return measured_; }
  /// Clock edges seen while running since construction (idle edges are not evaluated), and those while busy.
  uint64_t clock_edges() const { return edges_; }
  uint64_t busy_edges() const { return busy_edges_; }
  /// Digital-array utilisation over all busy cycles: MACs issued / (R * C * busy cycles).
  double utilisation() const;

 protected:
  void on_start() override;
  void end_of_elaboration() override;

 private:
  void clock_proc();       ///< one evaluation per active clock edge
  bool resume_dma();       ///< runs the continuation of a finished DMA job; false while one is pending
  void tick();
  void dma_thread();       ///< all bus traffic (descriptor fetch, operand load, output store): thread context
  void post_dma(int job);  ///< 1 fetch descriptor, 2 load operands, 3 store output
  void enter(State s, int64_t cycles);
  void begin_layer();
  void after_fetch();
  void begin_band();      ///< starts band b_ (its load, or its compute when overlapped)
  void start_compute();   ///< first tile of the band (or the vector phase)
  void next_tile();       ///< sets up LOAD_W for the current (g, ct, rt) or ends the band's compute
  void end_compute();     ///< after the band's compute: stall (overlap), store, next band or end of layer
  void finish_layer();    ///< after the last store: waits for the DMA thread, then end_layer
  void compute_step();    ///< one COMPUTE cycle
  /// requantize() the finished columns: accumulators from acc_[abase + c], outputs to NCHW base + c * ohw.
  void requantize_pixel(int64_t base, int64_t abase, int64_t oc0, int64_t ohw);
  void fail(ErrorCode e);
  void end_layer();
  void trace(sc_core::sc_trace_file* tf);

  // clocking
  std::unique_ptr<sc_core::sc_clock> own_clk_;  ///< only when tracing without an external clock
  bool external_ = false, self_timed_ = false, running_ = false, trace_detail_ = false;
  sc_core::sc_event wake_ev_;

  // DMA engine (thread) handshake
  sc_core::sc_event dma_req_ev_, dma_done_ev_;
  int dma_job_ = 0;
  bool dma_pending_ = false;
  ErrorCode dma_err_ = ErrorCode::None;
  int wait_for_dma_ = 0;  ///< 0: none; 1: after_fetch, 2: end_layer, once the DMA job is done
  bool in_dma_wait_ = false;

  // controller
  State state_ = State::Idle;
  int64_t remaining_ = 0;  ///< cycles left in the current fixed-length state
  bool start_pending_ = false;
  uint32_t layer_ = 0, nlayers_ = 0;
  int64_t layer_cycles_ = 0;
  std::vector<int64_t> measured_;
  uint64_t edges_ = 0, busy_edges_ = 0;
  bool pulse_done_ = false;
  LoadedLayer L_;
  Descriptor desc_;
  LayerCost plan_;
  ErrorCode err_ = ErrorCode::None;

  // schedule position
  bool cim_ = false, vec_ = false;
  int64_t G_ = 1, cog_ = 1, K_ = 1, OH_ = 1, OW_ = 1, col_tiles_ = 1, row_tiles_ = 1, tile_rows_ = 1;
  int64_t conv_ = 1, chunks_ = 1;
  size_t b_ = 0;                        ///< band
  int64_t Pb_ = 0;                      ///< pixels of the band
  int64_t g_ = 0, ct_ = 0, rt_ = 0;     ///< group, column tile, row tile / chunk
  int64_t r0_ = 0, rows_ = 0, c0_ = 0, cols_ = 0;  ///< current tile window (reduction rows, channels in group)
  int64_t load_row_ = 0;                ///< next weight row to load
  int64_t sub_ = 0;                     ///< conversion sub-cycle (CIM)
  int64_t n_ = 0, oy_ = 0, ox_ = 0;     ///< pixel coordinates
  int64_t x_begin_ = 0, x_end_ = 0;     ///< output columns of the band [x_begin_, x_end_)
  std::vector<int32_t> acc_;            ///< accumulators over the layer (the accumulator SRAM), by pixel:
                                        ///< [(n * OH + oy) * OW + ox][oc] (NHWC: one step's columns adjacent)
  std::vector<int32_t> rci_, rky_, rkx_;  ///< per tile row: input channel (absolute), ky, kx
  std::vector<int64_t> roff_;           ///< per tile row: (ci * h + ky) * w + kx, the offset inside an image
  std::vector<int8_t> xrow_;            ///< the activation column fed to the array this cycle
  std::vector<int64_t> partial_;
  uint64_t mac_issue_ = 0;

  // traced scalars (sampled by the VCD writer only when tracing is on)
  int tr_state_ = 0, tr_layer_ = 0, tr_op_ = 0, tr_mode_ = 0, tr_band_ = 0;
  bool tr_dma_ = false;
};

}  // namespace cimsim::accel
