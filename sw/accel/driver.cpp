// Accelerator host driver (include/cimsim/accel/driver.hpp).
#include "cimsim/accel/driver.hpp"

#include <cstring>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::accel {

namespace {
uint64_t fnv1a(uint64_t h, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001B3ull;
  return h;
}
std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

uint64_t BumpAllocator::alloc(uint64_t bytes, uint64_t align) {
  if (align == 0 || (align & (align - 1)) != 0) throw ConfigError("BumpAllocator: alignment must be a power of two");
  const uint64_t a = (next_ + align - 1) & ~(align - 1);
  if (a < next_ || a - base_ > size_ || bytes > size_ - (a - base_))
    throw ConfigError("accelerator driver: out of system memory (region at " + hex(base_) + " of " +
                      std::to_string(size_) + " bytes, " + std::to_string(used()) + " used, " +
                      std::to_string(bytes) + " requested)");
  next_ = a + bytes;
  return a;
}

namespace {
uint64_t const_region(uint64_t mem_size, uint64_t const_bytes) {
  if (const_bytes == 0) return mem_size / 4 * 3;
  if (const_bytes > mem_size)
    throw ConfigError("accelerator driver: constant region of " + std::to_string(const_bytes) +
                      " bytes is larger than the memory (" + std::to_string(mem_size) + " bytes)");
  return const_bytes;
}
uint64_t up64(uint64_t v) { return (v + 63) / 64 * 64; }
// Forgets the content hashes of a program's layers when its descriptors are built (the pointers may be reused).
struct HintGuard {
  std::map<const LayerParams*, uint64_t>& hints;
  ~HintGuard() { hints.clear(); }
};
}  // namespace

AcceleratorDriver::AcceleratorDriver(HostInitiator& host, uint64_t csr_base, uint64_t mem_base, uint64_t mem_size,
                                     uint64_t const_bytes)
    : host_(host),
      csr_(csr_base),
      const_(mem_base, const_region(mem_size, const_bytes)),
      scratch_(mem_base + const_region(mem_size, const_bytes), mem_size - const_region(mem_size, const_bytes)) {}

uint64_t AcceleratorDriver::constant_upload_bytes(const LayerParams& p) {
  if (is_vector_kind(p.shape.kind)) return 0;
  const uint64_t co = static_cast<uint64_t>(p.shape.cout);
  return up64(packed_row_bytes(p.op, p.shape.reduction()) * co) + 2 * up64(co * 4) + up64(co * 8);
}

std::string AcceleratorDriver::descriptor_limits(const LayerShape& s) {
  const std::pair<const char*, int> f[] = {{"n", s.n},         {"cin", s.cin},   {"h", s.h},   {"w", s.w},
                                           {"cout", s.cout},   {"kh", s.kh},     {"kw", s.kw}, {"stride", s.stride},
                                           {"pad", s.pad},     {"groups", s.groups}};
  for (const auto& [name, v] : f)
    if (v > 65535)
      return std::string(name) + " = " + std::to_string(v) + " does not fit the descriptor's 16-bit field (at most " +
             "65535): the accelerator cannot run this layer";
  return {};
}

void AcceleratorDriver::prepare_constants(const std::vector<const LayerParams*>& layers,
                                          const std::vector<std::string>& names) {
  hash_hint_.clear();
  std::map<uint64_t, uint64_t> fresh, all;  // content hash -> bytes
  std::vector<uint64_t> hashes(layers.size(), 0);
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerParams& p = *layers[i];
    if (const std::string why = descriptor_limits(p.shape); !why.empty())
      throw ConfigError("accelerator driver: node '" + (i < names.size() ? names[i] : "layer " + std::to_string(i)) +
                        "': " + why);
    if (is_vector_kind(p.shape.kind)) continue;
    if (const std::string why = p.check(); !why.empty())
      throw ConfigError("accelerator driver: node '" + (i < names.size() ? names[i] : "layer " + std::to_string(i)) +
                        "': " + why);
    hashes[i] = constants_hash(p);
    hash_hint_[&p] = hashes[i];
    const uint64_t b = constant_upload_bytes(p);
    all[hashes[i]] = b;
    if (cache_.find(hashes[i]) == cache_.end()) fresh[hashes[i]] = b;
  }
  uint64_t need = 0;
  for (const auto& [h, b] : fresh) need += b;
  if (need <= const_.size() - const_.used()) return;
  // Nothing runs between programs: empty the region and upload this program's constants afresh.
  uint64_t total = 0;
  std::map<uint64_t, bool> counted;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (hashes[i] == 0 || !counted.emplace(hashes[i], true).second) continue;
    total += all[hashes[i]];
    if (total > const_.size())
      throw ConfigError("accelerator driver: node '" + (i < names.size() ? names[i] : "layer " + std::to_string(i)) +
                        "': the program's constants up to this node need " + std::to_string(total) +
                        " bytes of system memory, the constant region has " + std::to_string(const_.size()) +
                        " (give more memory: cimsim run --memory, or the architecture file's memory.bytes)");
  }
  const_.reset();
  cache_.clear();
}

uint32_t AcceleratorDriver::read_reg(uint32_t offset) { return host_.read32(csr_ + offset); }
void AcceleratorDriver::write_reg(uint32_t offset, uint32_t value) { host_.write32(csr_ + offset, value); }

void AcceleratorDriver::probe() {
  const uint32_t id = read_reg(reg::ID);
  if (id != kIdValue)
    throw AcceleratorError("accelerator driver: device at " + hex(csr_) + " has ID " + hex(id) + ", expected " +
                               hex(kIdValue),
                           ErrorCode::None, 0);
  const uint32_t ver = read_reg(reg::VERSION);
  if ((ver >> 16) != (kVersionValue >> 16))
    throw AcceleratorError("accelerator driver: register map version " + hex(ver) + " not supported",
                           ErrorCode::None, 0);
}

void AcceleratorDriver::soft_reset() { write_reg(reg::CTRL, ctrl::SOFT_RESET); }

uint64_t AcceleratorDriver::constants_hash(const LayerParams& p) {
  const std::vector<uint8_t> packed = pack_weights(p.op, p.weights, p.shape.cout, p.shape.reduction());
  const size_t co = static_cast<size_t>(p.shape.cout);
  uint64_t h = 0xCBF29CE484222325ull;
  const uint8_t opb = static_cast<uint8_t>(p.op);
  h = fnv1a(h, &opb, 1);
  h = fnv1a(h, packed.data(), packed.size());
  h = fnv1a(h, p.rq.mult.data(), co * 4);
  h = fnv1a(h, p.rq.shift.data(), co * 4);
  h = fnv1a(h, p.rq.bias.data(), co * 8);
  return h;
}

uint64_t AcceleratorDriver::hash_of(const LayerParams& p) const {
  const auto it = hash_hint_.find(&p);
  return it != hash_hint_.end() ? it->second : constants_hash(p);
}

UploadedLayer AcceleratorDriver::upload_constants(const LayerParams& p) {
  const int64_t K = p.shape.reduction();
  const size_t co = static_cast<size_t>(p.shape.cout);
  const auto hint = hash_hint_.find(&p);
  if (hint == hash_hint_.end()) {  // (prepare_constants checked the layers it hashed)
    const std::string why = p.check();
    if (!why.empty()) throw ConfigError("accelerator driver: " + why);
  }
  const uint64_t h = hint != hash_hint_.end() ? hint->second : constants_hash(p);
  if (auto it = cache_.find(h);
      it != cache_.end() && it->second.weight_bytes == packed_row_bytes(p.op, K) * static_cast<uint64_t>(co))
    return it->second;
  const std::vector<uint8_t> packed = pack_weights(p.op, p.weights, p.shape.cout, K);
  UploadedLayer u;
  if (constant_upload_bytes(p) > const_.size() - const_.used())  // never evict: a program may still use them
    throw ConfigError("accelerator driver: out of constant memory: " + std::to_string(constant_upload_bytes(p)) +
                      " bytes needed, " + std::to_string(const_.size() - const_.used()) + " of " +
                      std::to_string(const_.size()) + " free (call prepare_constants before building a program)");
  u.weight_bytes = static_cast<uint32_t>(packed.size());
  u.weight_addr = const_.alloc(packed.size());
  u.mult_addr = const_.alloc(co * 4);
  u.shift_addr = const_.alloc(co * 4);
  u.bias_addr = const_.alloc(co * 8);
  host_.write(u.weight_addr, packed.data(), packed.size());
  host_.write(u.mult_addr, p.rq.mult.data(), co * 4);
  host_.write(u.shift_addr, p.rq.shift.data(), co * 4);
  host_.write(u.bias_addr, p.rq.bias.data(), co * 8);
  cache_[h] = u;
  return u;
}

Descriptor AcceleratorDriver::make_descriptor(const LayerParams& p, uint64_t input_addr, uint64_t output_addr) {
  const UploadedLayer u = upload_constants(p);
  Descriptor d;
  d.shape = p.shape;
  d.op = p.op;
  d.mode = p.mode;
  d.relu = p.rq.relu;
  d.cim = p.cim;
  d.input_addr = input_addr;
  d.output_addr = output_addr;
  d.weight_addr = u.weight_addr;
  d.weight_bytes = u.weight_bytes;
  d.mult_addr = u.mult_addr;
  d.shift_addr = u.shift_addr;
  d.bias_addr = u.bias_addr;
  return d;
}

uint64_t AcceleratorDriver::write_descriptors(const std::vector<Descriptor>& descs) {
  std::vector<uint8_t> bytes(descs.size() * kDescriptorRecordBytes);
  for (size_t i = 0; i < descs.size(); ++i) {
    const DescriptorBytes b = encode(descs[i]);
    std::memcpy(bytes.data() + i * kDescriptorRecordBytes, b.data(), b.size());
  }
  const uint64_t addr = scratch_.alloc(bytes.size(), 64);
  host_.write(addr, bytes.data(), bytes.size());
  return addr;
}

LayerStats AcceleratorDriver::read_stats(uint32_t view) {
  write_reg(reg::PERF_SEL, view);
  auto r64 = [this](uint32_t lo) {
    const uint64_t l = read_reg(lo);
    const uint64_t h = read_reg(lo + 4);
    return static_cast<int64_t>((h << 32) | l);
  };
  LayerStats s;
  s.cycles = r64(reg::CYCLES_LO);
  s.macs = r64(reg::MACS_LO);
  s.energy_aj = r64(reg::ENERGY_LO);
  for (size_t g = 0; g < energy_register_groups().size(); ++g)
    s.group_aj.push_back(r64(energy_comp_lo(static_cast<int>(g))));
  return s;
}

RunStats AcceleratorDriver::run(uint64_t desc_addr, uint32_t count, sc_core::sc_time timeout) {
  write_reg(reg::DESC_ADDR_LO, static_cast<uint32_t>(desc_addr));
  write_reg(reg::DESC_ADDR_HI, static_cast<uint32_t>(desc_addr >> 32));
  write_reg(reg::LAYER_COUNT, count);
  write_reg(reg::IRQ_STATUS, irq::DONE | irq::ERROR);
  write_reg(reg::IRQ_ENABLE, irq::DONE | irq::ERROR);
  host_.sync();  // let the IRQ line settle low (it is driven one delta after a register write)
  sc_core::wait(sc_core::SC_ZERO_TIME);
  sc_core::wait(sc_core::SC_ZERO_TIME);
  write_reg(reg::CTRL, ctrl::START);
  uint32_t st = 0;
  if (host_.irq.size() > 0) {
    if (!host_.wait_irq(timeout))
      throw AcceleratorError("accelerator driver: no interrupt within " + timeout.to_string(), ErrorCode::None, 0,
                             true);
    st = read_reg(reg::STATUS);
  } else {  // IRQ not wired: poll STATUS every microsecond
    host_.sync();
    const sc_core::sc_time deadline = sc_core::sc_time_stamp() + timeout;
    for (;;) {
      st = read_reg(reg::STATUS);
      if (!(st & status::BUSY)) break;
      host_.sync();
      if (sc_core::sc_time_stamp() >= deadline)
        throw AcceleratorError("accelerator driver: still busy after " + timeout.to_string(), ErrorCode::None, 0,
                               true);
      sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    }
  }
  write_reg(reg::IRQ_STATUS, irq::DONE | irq::ERROR);
  if (st & status::ERROR) {
    const auto code = static_cast<ErrorCode>((st & status::ERR_CODE_MASK) >> status::ERR_CODE_SHIFT);
    const uint32_t layer = st >> status::ERR_LAYER_SHIFT;
    throw AcceleratorError("accelerator error at layer " + std::to_string(layer) + ": " + error_name(code) + " (" +
                               error_message(code) + ")",
                           code, layer);
  }
  RunStats rs;
  for (uint32_t k = 0; k < count; ++k) rs.layers.push_back(read_stats(k));
  rs.total = read_stats(kPerfWholeRun);
  return rs;
}

NetworkResult AcceleratorDriver::run_network(const std::vector<LayerParams>& layers,
                                             const std::vector<int8_t>& input) {
  if (layers.empty()) throw ConfigError("run_network: no layers");
  if (static_cast<int64_t>(input.size()) != layers[0].shape.input_elems())
    throw ConfigError("run_network: input has " + std::to_string(input.size()) + " values, layer 0 needs " +
                      std::to_string(layers[0].shape.input_elems()));
  for (size_t i = 0; i + 1 < layers.size(); ++i)
    if (layers[i].shape.outputs() != layers[i + 1].shape.input_elems())
      throw ConfigError("run_network: layer " + std::to_string(i) + " produces " +
                        std::to_string(layers[i].shape.outputs()) + " values, layer " + std::to_string(i + 1) +
                        " consumes " + std::to_string(layers[i + 1].shape.input_elems()));
  {
    std::vector<const LayerParams*> ps;
    for (const auto& l : layers) ps.push_back(&l);
    prepare_constants(ps, {});
  }
  const HintGuard guard{hash_hint_};
  scratch_.reset();
  std::vector<uint64_t> act(layers.size() + 1);
  act[0] = scratch_.alloc(input.size());
  for (size_t i = 0; i < layers.size(); ++i)
    act[i + 1] = scratch_.alloc(static_cast<uint64_t>(layers[i].shape.outputs()));
  std::vector<Descriptor> descs;
  for (size_t i = 0; i < layers.size(); ++i) descs.push_back(make_descriptor(layers[i], act[i], act[i + 1]));
  host_.write(act[0], input.data(), input.size());
  return run_and_collect(layers, descs, std::vector<uint64_t>(act.begin() + 1, act.end()));
}

NetworkResult AcceleratorDriver::run_layers(const std::vector<LayerParams>& layers,
                                            const std::vector<std::vector<int8_t>>& inputs) {
  if (layers.empty() || layers.size() != inputs.size())
    throw ConfigError("run_layers: need one input per layer (" + std::to_string(layers.size()) + " layers, " +
                      std::to_string(inputs.size()) + " inputs)");
  {
    std::vector<const LayerParams*> ps;
    for (const auto& l : layers) ps.push_back(&l);
    prepare_constants(ps, {});
  }
  const HintGuard guard{hash_hint_};
  scratch_.reset();
  std::vector<Descriptor> descs;
  std::vector<uint64_t> outs;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (static_cast<int64_t>(inputs[i].size()) != layers[i].shape.input_elems())
      throw ConfigError("run_layers: input " + std::to_string(i) + " has " + std::to_string(inputs[i].size()) +
                        " values, the layer needs " + std::to_string(layers[i].shape.input_elems()));
    const uint64_t in = scratch_.alloc(inputs[i].size());
    const uint64_t out = scratch_.alloc(static_cast<uint64_t>(layers[i].shape.outputs()));
    host_.write(in, inputs[i].data(), inputs[i].size());
    descs.push_back(make_descriptor(layers[i], in, out));
    outs.push_back(out);
  }
  return run_and_collect(layers, descs, outs);
}

GraphResult AcceleratorDriver::run_graph(const Graph& g, const std::vector<int8_t>& input,
                                         const ProgramOptions& opt) {
  if (!have_hw_) throw ConfigError("run_graph: the driver does not know the accelerator's hardware (set_hardware)");
  GraphResult r;
  r.plan = plan_program(g, hw_, opt);
  const ProgramPlan& plan = r.plan;
  const int64_t in_elems = g.tensors[static_cast<size_t>(g.input)].elems() * g.batch;
  if (static_cast<int64_t>(input.size()) != in_elems)
    throw ConfigError("run_graph: input has " + std::to_string(input.size()) + " values, the graph needs " +
                      std::to_string(in_elems));
  {
    std::vector<const LayerParams*> ps;
    std::vector<std::string> names;
    for (const GraphNode& n : g.nodes) {
      ps.push_back(&n.params);
      names.push_back(n.name);
    }
    prepare_constants(ps, names);
  }
  const HintGuard guard{hash_hint_};
  scratch_.reset();
  // DRAM storage for every owning tensor that is not resident.
  std::map<int, uint64_t> dram;
  auto dram_of = [&](int owner) {
    auto it = dram.find(owner);
    if (it != dram.end()) return it->second;
    const uint64_t a =
        scratch_.alloc(static_cast<uint64_t>(g.tensors[static_cast<size_t>(owner)].elems() * g.batch));
    dram[owner] = a;
    return a;
  };
  auto addr = [&](const OperandLoc& l) { return l.on_chip ? l.offset : dram_of(l.base) + l.offset; };
  std::vector<Descriptor> descs;
  std::vector<std::pair<uint32_t, uint64_t>> to_pin;
  bool clobbers = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const GraphNode& n = g.nodes[i];
    const NodePlan& np = plan.nodes[i];
    const LayerParams& p = n.params;
    Descriptor d;
    if (is_vector_kind(p.shape.kind)) {
      if (const std::string why = p.check(); !why.empty()) throw ConfigError("run_graph: node '" + n.name + "': " + why);
      d.shape = p.shape;
      d.op = Op::MAC8;
      d.mode = Mode::Digital;
      d.relu = p.rq.relu;
      for (size_t k = 0; k < p.rq.mult.size() && k < 2; ++k) {
        d.vmult[k] = p.rq.mult[k];
        d.vshift[k] = p.rq.shift[k];
      }
    } else {
      d = make_descriptor(p, 0, 0);
      if (np.pinned) {
        const uint64_t h = hash_of(p);
        auto it = pinned_.find(np.wbuf_off);
        if (it != pinned_.end() && it->second == h) {
          d.w_resident = true;
        } else {
          d.w_pin = true;
          to_pin.emplace_back(np.wbuf_off, h);
        }
      } else {
        clobbers = true;
      }
    }
    d.input_addr = addr(np.in);
    d.in_act = np.in.on_chip;
    if (n.inputs.size() > 1) {
      d.input2_addr = addr(np.in2);
      d.in2_act = np.in2.on_chip;
    }
    d.output_addr = addr(np.out);
    d.out_act = np.out.on_chip;
    const bool one = g.batch == 1;
    d.in_ctotal = static_cast<uint16_t>(one || np.in.ctotal == p.shape.cin ? 0 : np.in.ctotal);
    d.out_ctotal = static_cast<uint16_t>(one || np.out.ctotal == p.shape.cout ? 0 : np.out.ctotal);
    d.wbuf_off = np.wbuf_off;
    d.stage_off = np.stage_off;
    d.stage_bytes = np.stage_bytes;
    descs.push_back(d);
  }
  host_.write(dram_of(g.input), input.data(), input.size());
  const uint64_t table = write_descriptors(descs);
  host_.sync();
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  if (clobbers) pinned_.clear();  // streaming layers overwrite the weight buffer
  try {
    r.stats = run(table, static_cast<uint32_t>(descs.size()));
  } catch (const AcceleratorError& e) {
    pinned_.clear();
    if (e.timed_out || e.layer >= g.nodes.size()) throw;
    throw AcceleratorError("accelerator error at node '" + g.nodes[e.layer].name + "' (descriptor " +
                               std::to_string(e.layer) + " of " + std::to_string(descs.size()) + "): " +
                               error_name(e.code) + " (" + error_message(e.code) + ")",
                           e.code, e.layer);
  } catch (...) {
    pinned_.clear();
    throw;
  }
  r.sim_time = sc_core::sc_time_stamp() - t0;
  for (const auto& [o, h] : to_pin) pinned_[o] = h;
  r.loaded_constants = !to_pin.empty();
  for (int t : g.outputs) {
    const GraphTensor& x = g.tensors[static_cast<size_t>(t)];
    std::vector<int8_t> out(static_cast<size_t>(x.elems() * g.batch));
    const int owner = plan.tensor_owner[static_cast<size_t>(t)];
    const uint64_t off = plan.tensor_offset[static_cast<size_t>(t)];
    host_.read(dram_of(owner) + off, out.data(), out.size());
    r.outputs.push_back(std::move(out));
  }
  return r;
}

NetworkResult AcceleratorDriver::run_and_collect(const std::vector<LayerParams>& layers,
                                                 const std::vector<Descriptor>& descs,
                                                 const std::vector<uint64_t>& outs) {
  const uint64_t table = write_descriptors(descs);
  host_.sync();
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  pinned_.clear();  // these layers stream their constants through the weight buffer
  NetworkResult r;
  r.stats = run(table, static_cast<uint32_t>(layers.size()));
  r.sim_time = sc_core::sc_time_stamp() - t0;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<int8_t> out(static_cast<size_t>(layers[i].shape.outputs()));
    host_.read(outs[i], out.data(), out.size());
    r.outputs.push_back(std::move(out));
  }
  return r;
}

}  // namespace cimsim::accel
