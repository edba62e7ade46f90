// Trace views of the cimsim commands: see common_traces.hpp.
#include "cli/common_traces.hpp"

#include <cstdio>

#include "cimsim/accel/accelerator_cycle.hpp"
#include "cimsim/accel/layer.hpp"
#include "cimsim/mc2ram/macro.hpp"

namespace cimsim::cli {

std::vector<GtkwEnum> accel_enums() {
  using S = accel::AcceleratorCycle::State;
  GtkwEnum state{"state", "accel-state.txt", {}};
  for (int i = 0; i <= static_cast<int>(S::Error); ++i)
    state.names.emplace_back(i, accel::AcceleratorCycle::state_name(static_cast<S>(i)));
  GtkwEnum op{"op", "accel-op.txt", {}};
  for (int i = 0; i <= static_cast<int>(accel::Op::ADDER); ++i)
    op.names.emplace_back(i, accel::op_name(static_cast<accel::Op>(i)));
  GtkwEnum mode{"mode", "accel-mode.txt", {}};
  for (int i = 0; i <= static_cast<int>(accel::Mode::Cim); ++i)
    mode.names.emplace_back(i, accel::mode_name(static_cast<accel::Mode>(i)));
  return {state, op, mode};
}

std::vector<GtkwEnum> mc2ram_enums() {
  // macro.hpp's Stage codes (ST_IDLE .. ST_FLUSH).
  GtkwEnum stage{"stage", "mc2ram-stage.txt", {}};
  stage.names = {{mc2ram::ST_IDLE, "IDLE"},       {mc2ram::ST_INIT, "INIT"},   {mc2ram::ST_PROPOSE, "PROPOSE"},
                 {mc2ram::ST_MAC, "MAC+COARSE_ADC"}, {mc2ram::ST_FINE, "FINE_ADC"}, {mc2ram::ST_LSE, "LSE+ACCEPT"},
                 {mc2ram::ST_WB, "WRITE_BACK"},   {mc2ram::ST_STALL, "FIFO_STALL"}, {mc2ram::ST_FLUSH, "DMA_FLUSH"}};
  return {stage};
}

std::string write_accel_view(const std::string& vcd_path, const std::string& what) {
  GtkwViewOptions o;
  o.comment = what + "; state/op/mode by name (translate filters beside this file)";
  o.order = {"clk", "start", "busy", "done", "irq", "dma_active", "state", "layer", "band", "op", "mode"};
  o.signed_leaves = {"acc0", "acc1", "acc2", "acc3"};
  o.enums = accel_enums();
  return write_gtkw_view(vcd_path, o);
}

std::string write_mc2ram_view(const std::string& vcd_path, const std::string& what) {
  GtkwViewOptions o;
  o.comment = what + "; stage by name; chain0.* are chain 0's datapath values (log-densities in 1/256 nat)";
  o.order = {"clk", "stage", "prop0", "prop1", "logp_prop", "logp_cur", "log_u", "accept", "sample_valid"};
  o.signed_leaves = {"prop0", "prop1", "logp_prop", "logp_cur", "log_u"};
  o.enums = mc2ram_enums();
  return write_gtkw_view(vcd_path, o);
}

void announce_trace(const std::string& vcd_path, const std::string& view_path) {
  std::printf("VCD trace: %s\n  view (whole run, names): gtkwave %s %s\n", vcd_path.c_str(), vcd_path.c_str(),
              view_path.c_str());
}

}  // namespace cimsim::cli
