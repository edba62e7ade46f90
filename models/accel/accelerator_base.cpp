// Shared part of both accelerator abstraction levels: CSRs, descriptor fetch, DMA, bookkeeping.
#include "cimsim/accel/accelerator_base.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::accel {

namespace {
std::string hex_addr(uint64_t a) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(a));
  return b;
}
}  // namespace

AcceleratorBase::AcceleratorBase(sc_core::sc_module_name name, const ArrayConfig& cfg, const EnergyTable& table)
    : sc_module(name),
      csr("csr"),
      dma("dma"),
      irq("irq"),
      cfg_(ArrayConfig::with_table(cfg, table)),
      table_(table),
      period_(sc_core::sc_time(1.0 / (cfg.clock_hz > 0 ? cfg.clock_hz : table.clock_hz()), sc_core::SC_SEC)),
      regs_(std::string(this->name())) {
  {
    const double want_s = 1.0 / (cfg.clock_hz > 0 ? cfg.clock_hz : table.clock_hz());
    const double res_s = sc_core::sc_get_time_resolution().to_seconds();
    if (period_ == sc_core::SC_ZERO_TIME || std::abs(period_.to_seconds() - want_s) > 1e-6 * want_s)
      throw ConfigError(std::string(this->name()) + ": the clock period " + std::to_string(want_s * 1e12) +
                        " ps is not a whole number of time-resolution steps (" + std::to_string(res_s * 1e12) +
                        " ps); choose a finer sc_set_time_resolution before elaboration or another clock");
  }
  if (const std::string why = cfg_.check(); !why.empty()) throw ConfigError(std::string(this->name()) + ": " + why);
  require_cost_entries(table_);
  abuf_.assign(static_cast<size_t>(cfg_.act_buffer_bytes), 0);
  wbuf_.assign(static_cast<size_t>(cfg_.weight_buffer_bytes), 0);
  csr.register_b_transport(this, &AcceleratorBase::b_transport);
  csr.register_transport_dbg(this, &AcceleratorBase::transport_dbg);
  dma.register_invalidate_direct_mem_ptr(this, &AcceleratorBase::invalidate_direct_mem_ptr);
  build_registers();
  SC_HAS_PROCESS(AcceleratorBase);
  SC_METHOD(irq_proc);
  sensitive << irq_ev_;
  dont_initialize();
}

void AcceleratorBase::build_registers() {
  for (RegisterDef d : register_map()) {
    const uint32_t off = d.offset;
    switch (off) {
      case reg::CTRL:
        d.validate = [this](uint32_t v) { return v == 0 || !busy_; };
        d.on_write = [this](uint32_t v, uint32_t) {
          regs_.set(reg::CTRL, 0);  // self-clearing
          if (v & ctrl::SOFT_RESET) {
            regs_.set(reg::STATUS, 0);
            regs_.set(reg::IRQ_STATUS, 0);
            regs_.set(reg::CUR_LAYER, 0);
            regs_.set(reg::PERF_SEL, kPerfWholeRun);
            records_.clear();
            run_total_ = LayerRecord{};
            on_soft_reset();
            update_irq();
          }
          if (v & ctrl::START) {
            run_desc_addr_ =
                (static_cast<uint64_t>(regs_.get(reg::DESC_ADDR_HI)) << 32) | regs_.get(reg::DESC_ADDR_LO);
            run_layers_ = regs_.get(reg::LAYER_COUNT);
            busy_ = true;
            regs_.set(reg::STATUS, status::BUSY);
            on_start();
          }
        };
        break;
      case reg::DESC_ADDR_LO:
        d.validate = [](uint32_t v) { return (v & 7u) == 0; };
        break;
      case reg::LAYER_COUNT:
        d.validate = [](uint32_t v) { return v >= 1 && v <= kMaxLayers; };
        break;
      case reg::IRQ_ENABLE:
      case reg::IRQ_STATUS:
        d.on_write = [this](uint32_t, uint32_t) { update_irq(); };
        break;
      default:
        break;
    }
    if (off == reg::CYCLES_LO || off == reg::CYCLES_HI || off == reg::MACS_LO || off == reg::MACS_HI ||
        off == reg::ENERGY_LO || off == reg::ENERGY_HI || off >= reg::ENERGY_COMP_BASE)
      d.on_read = [this, off](uint32_t) { return perf_read(off); };
    regs_.add(std::move(d));
  }
}

uint32_t AcceleratorBase::perf_read(uint32_t off) const {
  const uint32_t sel = regs_.get(reg::PERF_SEL);
  static const LayerRecord kEmpty{};
  const LayerRecord& r = sel == kPerfWholeRun ? run_total_ : (sel < records_.size() ? records_[sel] : kEmpty);
  // Every LO register is 8-byte aligned and its HI partner follows it.
  auto half = [off](int64_t v) {
    const uint64_t u = static_cast<uint64_t>(v);
    return static_cast<uint32_t>((off & 4u) ? (u >> 32) : u);
  };
  static_assert(reg::CYCLES_LO % 8 == 0 && reg::MACS_LO % 8 == 0 && reg::ENERGY_LO % 8 == 0 &&
                    reg::ENERGY_COMP_BASE % 8 == 0,
                "64-bit counters start 8-byte aligned");
  switch (off) {
    case reg::CYCLES_LO: case reg::CYCLES_HI: return half(r.cycles);
    case reg::MACS_LO: case reg::MACS_HI: return half(r.macs);
    case reg::ENERGY_LO: case reg::ENERGY_HI: return half(r.energy_aj);
    default: break;
  }
  const size_t g = (off - reg::ENERGY_COMP_BASE) / 8;
  return half(g < r.group_aj.size() ? r.group_aj[g] : 0);
}

void AcceleratorBase::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  regs_.access(gp);
  delay += period_;  // one accelerator clock per register access
}

unsigned AcceleratorBase::transport_dbg(tlm::tlm_generic_payload& gp) { return regs_.debug_access(gp); }

void AcceleratorBase::update_irq() { irq_ev_.notify(sc_core::SC_ZERO_TIME); }

// The IRQ line has a single driver: this method (register writes from the host and the model's own process
// only notify it).
void AcceleratorBase::irq_proc() {
  const bool level = (regs_.get(reg::IRQ_STATUS) & regs_.get(reg::IRQ_ENABLE)) != 0;
  if (level != irq_level_) irq_write(irq, level);
  irq_level_ = level;
}

void AcceleratorBase::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
  std::vector<tlm::tlm_dmi> keep;
  for (const auto& d : dmi_)
    if (d.get_end_address() < start || d.get_start_address() > end) keep.push_back(d);
  dmi_.swap(keep);
}

bool AcceleratorBase::dma_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len,
                                 sc_core::sc_time& delay) {
  if (len == 0) return true;
  if (addr + len < addr) return false;  // wraps around
  for (const auto& d : dmi_) {
    if (addr < d.get_start_address() || addr + len - 1 > d.get_end_address()) continue;
    uint8_t* p = d.get_dmi_ptr() + (addr - d.get_start_address());
    if (cmd == tlm::TLM_READ_COMMAND && d.is_read_allowed()) {
      std::memcpy(data, p, len);
      delay += d.get_read_latency();
      return true;
    }
    if (cmd == tlm::TLM_WRITE_COMMAND && d.is_write_allowed()) {
      std::memcpy(p, data, len);
      delay += d.get_write_latency();
      return true;
    }
  }
  // Bus path, in transfers of at most 64 KiB.
  constexpr uint64_t kMaxBurst = 64 * 1024;
  for (uint64_t done = 0; done < len;) {
    const unsigned n = static_cast<unsigned>(std::min(kMaxBurst, len - done));
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr + done);
    gp.set_data_ptr(data + done);
    gp.set_data_length(n);
    gp.set_streaming_width(n);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    dma->b_transport(gp, delay);
    if (!gp.is_response_ok()) {
      dma_incomplete_ = gp.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE;
      if (dma_incomplete_)
        SC_REPORT_WARNING(name(), ("DMA target at " + hex_addr(addr + done) +
                                   " left the response status at TLM_INCOMPLETE_RESPONSE (it never sets it); the "
                                   "transfer is reported as dma_error")
                                      .c_str());
      return false;
    }
    if (gp.is_dmi_allowed()) {
      tlm::tlm_dmi d;
      gp.set_address(addr + done);
      if (dma->get_direct_mem_ptr(gp, d)) dmi_.push_back(d);
    }
    done += n;
  }
  return true;
}

bool AcceleratorBase::dma_probe(uint64_t addr) {
  uint8_t byte = 0;
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(&byte);
  gp.set_data_length(1);
  gp.set_streaming_width(1);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  return dma->transport_dbg(gp) == 1;
}

bool AcceleratorBase::dma_read(uint64_t addr, void* dst, uint64_t len, sc_core::sc_time& delay) {
  return dma_access(tlm::TLM_READ_COMMAND, addr, static_cast<uint8_t*>(dst), len, delay);
}
bool AcceleratorBase::dma_write(uint64_t addr, const void* src, uint64_t len, sc_core::sc_time& delay) {
  return dma_access(tlm::TLM_WRITE_COMMAND, addr, static_cast<uint8_t*>(const_cast<void*>(src)), len, delay);
}

ErrorCode AcceleratorBase::fetch_descriptor(uint32_t index, Descriptor& out, sc_core::sc_time& delay) {
  DescriptorBytes bytes{};
  const uint64_t addr = desc_table_addr() + static_cast<uint64_t>(index) * kDescriptorRecordBytes;
  if (!dma_read(addr, bytes.data(), bytes.size(), delay)) return ErrorCode::DmaError;
  out = decode(bytes.data());
  const ErrorCode e = validate(out);
  if (e != ErrorCode::None) return e;
  return check_hardware_limits(out);
}

namespace {
// Bytes of an n x c x h x w slice of a tensor with `ctotal` channels per image: from the first to one past the
// last element.
int64_t slice_extent(int n, int ctotal, int c, int64_t hw) {
  return ((static_cast<int64_t>(n) - 1) * ctotal + c) * hw;
}
}  // namespace

bool AcceleratorBase::read_operand(bool on_chip, uint64_t addr, int ctotal, int c, const LayerShape& s,
                                   std::vector<int8_t>& dst, sc_core::sc_time& delay) {
  const int64_t hw = static_cast<int64_t>(s.h) * s.w;
  const int64_t img = c * hw;
  dst.resize(static_cast<size_t>(s.n * img));
  for (int n = 0; n < s.n; ++n) {
    const uint64_t src = addr + static_cast<uint64_t>(n) * static_cast<uint64_t>(ctotal) * static_cast<uint64_t>(hw);
    int8_t* out = dst.data() + n * img;
    if (on_chip) {
      std::memcpy(out, abuf_.data() + src, static_cast<size_t>(img));
    } else if (!dma_read(src, out, static_cast<uint64_t>(img), delay)) {
      return false;
    }
  }
  return true;
}

// No exception may leave a SystemC process (it would end the simulation): an allocation that fails, or any
// other exception while a layer is loaded or computed, ends the run with an error code in STATUS instead.
ErrorCode AcceleratorBase::load_layer(const Descriptor& d, LoadedLayer& L, sc_core::sc_time& delay) {
  L.compute_error = ErrorCode::None;
  try {
    return load_layer_impl(d, L, delay);
  } catch (const std::bad_alloc&) {
    return ErrorCode::BufferOverflow;
  } catch (const std::exception&) {
    return ErrorCode::BadParams;
  }
}

ErrorCode AcceleratorBase::load_layer_impl(const Descriptor& d, LoadedLayer& L, sc_core::sc_time& delay) {
  const LayerShape& s = d.shape;
  const bool vec = is_vector_kind(s.kind);
  L.desc = d;
  L.params.shape = s;
  L.params.op = d.op;
  L.params.mode = d.mode;
  L.params.cim = d.cim;
  L.params.rq.relu = d.relu;
  try {
    L.cost = layer_cost(cfg_, s, d.op, d.mode, d.cim, placement_of(d, cfg_));
  } catch (const BufferOverflowError&) {
    return ErrorCode::BufferOverflow;
  } catch (const std::exception&) {
    return ErrorCode::BadParams;
  }
  if (vec) {
    const int nrq = s.kind == LayerKind::Copy ? 1 : s.kind == LayerKind::Add ? 2 : 0;
    L.params.weights.clear();
    L.params.rq.mult.assign(d.vmult, d.vmult + nrq);
    L.params.rq.shift.assign(d.vshift, d.vshift + nrq);
    L.params.rq.bias.clear();
  } else {
    const size_t co = static_cast<size_t>(s.cout);
    std::vector<uint8_t> packed(d.weight_bytes);
    L.params.rq.mult.resize(co);
    L.params.rq.shift.resize(co);
    L.params.rq.bias.resize(co);
    if (d.w_resident) {  // constants pinned by an earlier run: [packed][mult][shift][bias] at wbuf_off
      const uint8_t* w = wbuf_.data() + d.wbuf_off;
      std::memcpy(packed.data(), w, packed.size());
      std::memcpy(L.params.rq.mult.data(), w + packed.size(), co * 4);
      std::memcpy(L.params.rq.shift.data(), w + packed.size() + co * 4, co * 4);
      std::memcpy(L.params.rq.bias.data(), w + packed.size() + co * 8, co * 8);
    } else {
      if (!dma_read(d.weight_addr, packed.data(), packed.size(), delay)) return ErrorCode::DmaError;
      if (!dma_read(d.mult_addr, L.params.rq.mult.data(), co * 4, delay) ||
          !dma_read(d.shift_addr, L.params.rq.shift.data(), co * 4, delay) ||
          !dma_read(d.bias_addr, L.params.rq.bias.data(), co * 8, delay))
        return ErrorCode::DmaError;
      if (d.w_pin) {
        uint8_t* w = wbuf_.data() + d.wbuf_off;
        std::memcpy(w, packed.data(), packed.size());
        std::memcpy(w + packed.size(), L.params.rq.mult.data(), co * 4);
        std::memcpy(w + packed.size() + co * 4, L.params.rq.shift.data(), co * 4);
        std::memcpy(w + packed.size() + co * 8, L.params.rq.bias.data(), co * 8);
      }
    }
    try {
      L.params.weights = unpack_weights(d.op, packed.data(), packed.size(), s.cout, s.reduction());
    } catch (const std::exception&) {
      return ErrorCode::BadParams;
    }
  }
  if (!L.params.check().empty()) return ErrorCode::BadParams;
  // The output region must exist before anything is computed or allocated (issue 24: a descriptor with only
  // pad raised computed hundreds of millions of outputs before its output write failed, and at pad 8000 the
  // allocation threw out of the SC_THREAD). A debug read of its last byte: no bus timing, no side effect.
  if (!d.out_act) {
    const int out_ct = d.out_ctotal ? d.out_ctotal : s.cout;
    const int64_t extent = slice_extent(s.n, out_ct, s.cout, static_cast<int64_t>(s.out_h()) * s.out_w());
    const uint64_t last = d.output_addr + static_cast<uint64_t>(extent) - 1;
    if (extent > 0 && (last < d.output_addr || !dma_probe(last))) return ErrorCode::DmaError;
  }
  const int in_ct = d.in_ctotal ? d.in_ctotal : s.cin;
  if (!read_operand(d.in_act, d.input_addr, in_ct, s.cin, s, L.input, delay)) return ErrorCode::DmaError;
  if (s.kind == LayerKind::Add) {
    if (!read_operand(d.in2_act, d.input2_addr, in_ct, s.cin, s, L.input2, delay)) return ErrorCode::DmaError;
  } else {
    L.input2.clear();
  }
  L.output.assign(static_cast<size_t>(s.outputs()), 0);
  return ErrorCode::None;
}

void AcceleratorBase::compute_layer(LoadedLayer& L) {
  try {
    if (is_vector_kind(L.params.shape.kind))
      run_vector(L.params, L.input.data(), L.input2.empty() ? nullptr : L.input2.data(), L.output.data());
    else
      run_layer(L.params, L.input.data(), L.output.data());
  } catch (const std::bad_alloc&) {
    L.compute_error = ErrorCode::BufferOverflow;
  } catch (const std::exception&) {
    L.compute_error = ErrorCode::BadParams;
  }
}

ErrorCode AcceleratorBase::store_output(const LoadedLayer& L, sc_core::sc_time& delay) {
  if (L.compute_error != ErrorCode::None) return L.compute_error;
  const LayerShape& s = L.params.shape;
  const Descriptor& d = L.desc;
  const int64_t hw = static_cast<int64_t>(s.out_h()) * s.out_w();
  const int64_t img = static_cast<int64_t>(s.cout) * hw;
  const int64_t ct = d.out_ctotal ? d.out_ctotal : s.cout;
  for (int n = 0; n < s.n; ++n) {
    const uint64_t dst = d.output_addr + static_cast<uint64_t>(n * ct * hw);
    const int8_t* src = L.output.data() + n * img;
    if (d.out_act)
      std::memcpy(abuf_.data() + dst, src, static_cast<size_t>(img));
    else if (!dma_write(dst, src, static_cast<uint64_t>(img), delay))
      return ErrorCode::DmaError;
  }
  return ErrorCode::None;
}

void AcceleratorBase::begin_run() {
  records_.clear();
  run_total_ = LayerRecord{};
  run_total_.group_aj.assign(energy_register_groups().size(), 0);
  regs_.set(reg::STATUS, status::BUSY);
  regs_.set(reg::CUR_LAYER, 0);
}

void AcceleratorBase::set_current_layer(uint32_t index) { regs_.set(reg::CUR_LAYER, index); }

ErrorCode AcceleratorBase::check_hardware_limits(const Descriptor& d) const {
  const LayerShape& s = d.shape;
  if (d.mode == Mode::Cim && d.cim.rows > cfg_.cim_rows) return ErrorCode::BadParams;
  const int64_t ab = cfg_.act_buffer_bytes, wb = cfg_.weight_buffer_bytes;
  auto in_ab = [ab](uint64_t off, int64_t extent) {
    return off <= static_cast<uint64_t>(ab) && extent <= ab - static_cast<int64_t>(off);
  };
  const int64_t in_hw = static_cast<int64_t>(s.h) * s.w, out_hw = static_cast<int64_t>(s.out_h()) * s.out_w();
  const int in_ct = d.in_ctotal ? d.in_ctotal : s.cin, out_ct = d.out_ctotal ? d.out_ctotal : s.cout;
  if (d.in_act && !in_ab(d.input_addr, slice_extent(s.n, in_ct, s.cin, in_hw))) return ErrorCode::BadAddress;
  if (s.kind == LayerKind::Add && d.in2_act && !in_ab(d.input2_addr, slice_extent(s.n, in_ct, s.cin, in_hw)))
    return ErrorCode::BadAddress;
  if (d.out_act && !in_ab(d.output_addr, slice_extent(s.n, out_ct, s.cout, out_hw))) return ErrorCode::BadAddress;
  if (!in_ab(d.stage_off, d.stage_bytes)) return ErrorCode::BadAddress;
  if (d.wbuf_off > wb) return ErrorCode::BadAddress;
  if ((d.w_pin || d.w_resident) &&
      static_cast<int64_t>(d.weight_bytes) + int64_t{kRequantBytesPerChannel} * s.cout > wb - d.wbuf_off)
    return ErrorCode::BadAddress;
  return ErrorCode::None;
}

void AcceleratorBase::layer_done(uint32_t index, const LoadedLayer& L, int64_t cycles) {
  const int ledger_layer = ledger_layer_base_ + static_cast<int>(index);
  EnergyLedger one;
  L.cost.charge(one, table_, ledger_layer);
  ledger_.merge(one);
  LayerRecord r;
  r.cycles = cycles;
  r.macs = L.params.shape.macs();
  r.energy_aj = one.total_aj();
  r.group_aj.assign(energy_register_groups().size(), 0);
  for (const auto& c : one.components()) {
    const int g = energy_component_group(c);
    if (g >= 0) r.group_aj[static_cast<size_t>(g)] += one.component_aj(c);
  }
  run_total_.cycles += r.cycles;
  run_total_.macs += r.macs;
  run_total_.energy_aj += r.energy_aj;
  for (size_t g = 0; g < r.group_aj.size(); ++g) run_total_.group_aj[g] += r.group_aj[g];
  total_cycles_ += static_cast<uint64_t>(r.cycles);
  total_macs_ += static_cast<uint64_t>(r.macs);
  records_.push_back(std::move(r));
}

void AcceleratorBase::finish_run(ErrorCode err, uint32_t failing_layer) {
  busy_ = false;
  ledger_layer_base_ += static_cast<int>(records_.size()) + (err == ErrorCode::None ? 0 : 1);
  if (err == ErrorCode::None) {
    regs_.set(reg::STATUS, status::DONE);
    regs_.set(reg::IRQ_STATUS, regs_.get(reg::IRQ_STATUS) | irq::DONE);
  } else {
    regs_.set(reg::STATUS, status::ERROR | (static_cast<uint32_t>(err) << status::ERR_CODE_SHIFT) |
                               ((failing_layer & 0xFFFFu) << status::ERR_LAYER_SHIFT));
    regs_.set(reg::IRQ_STATUS, regs_.get(reg::IRQ_STATUS) | irq::ERROR);
  }
  update_irq();
}

}  // namespace cimsim::accel
