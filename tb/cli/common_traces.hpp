#pragma once
// Trace views of the cimsim commands: after a VCD is closed, a GTKWave view <stem>.gtkw and the translate
// filters of its enumerations are written beside it (cimsim/soc/gtkw_view.hpp), and the command prints how to
// open it. The filter texts are those shipped in traces/ (accel-state.txt, accel-op.txt, accel-mode.txt,
// mc2ram-stage.txt; tests/cli check that they agree).
#include <string>
#include <vector>

#include "cimsim/soc/gtkw_view.hpp"

namespace cimsim::cli {

/// The accelerator's enumerations: state, op, mode (names from the model).
std::vector<GtkwEnum> accel_enums();
/// The MC2RAM macro's stage.
std::vector<GtkwEnum> mc2ram_enums();

/// Writes the view of an accelerator trace (run, infer); returns the view's path.
std::string write_accel_view(const std::string& vcd_path, const std::string& what);
/// Writes the view of an MC2RAM trace (sample); returns the view's path.
std::string write_mc2ram_view(const std::string& vcd_path, const std::string& what);

/// Prints "VCD trace: <vcd>\n  view: gtkwave <vcd> <view>".
void announce_trace(const std::string& vcd_path, const std::string& view_path);

}  // namespace cimsim::cli
