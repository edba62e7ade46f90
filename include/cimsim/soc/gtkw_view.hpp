#pragma once
// GTKWave views generated per trace (issue 23): after a VCD is written, write_gtkw_view() reads its header (the
// hierarchy and widths the trace actually has) and its last time stamp, and writes <stem>.gtkw beside it that
// opens on the whole run with every signal shown; enumerations (accelerator state, operator, mode, MC2RAM stage)
// are shown by name through GTKWave translate-filter files written beside the view (the same text as the files
// shipped in traces/). Plain C++ (no SystemC).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cimsim {

struct VcdVar {
  std::string path;  ///< GTKWave name without the bit range: "SystemC.soc.accel.state"
  int width = 1;
};

struct VcdInfo {
  std::string timescale;  ///< e.g. "1 ps"
  double timescale_s = 0;  ///< the same in seconds
  uint64_t end_time = 0;   ///< last time stamp, in timescale units
  std::vector<VcdVar> vars;  ///< declaration order
};

/// Reads the declarations and the last time stamp (from the file's tail). Throws IoError naming the file if it
/// cannot be read or is not a VCD.
VcdInfo read_vcd_info(const std::string& vcd_path);

/// An enumeration shown by name: every variable whose last name component is `signal` gets the filter.
struct GtkwEnum {
  std::string signal;       ///< "state", "op", "mode", "stage"
  std::string filter_name;  ///< file name of the filter, e.g. "accel-state.txt"
  std::vector<std::pair<long, std::string>> names;  ///< value -> name
};

/// The translate-filter text of an enumeration: one "<decimal value> <NAME>" line per value, after a comment.
std::string gtkw_filter_text(const GtkwEnum& e);

struct GtkwViewOptions {
  std::string comment;               ///< one line shown as a [*] comment at the top
  std::vector<std::string> order;    ///< leaf names shown first, in this order; the rest follow as declared
  std::vector<std::string> signed_leaves;  ///< multi-bit leaves shown as signed decimal (others: unsigned decimal)
  std::vector<GtkwEnum> enums;
  int width_px = 1400, height_px = 700;
};

/// Writes <vcd without .vcd>.gtkw and the filters beside the VCD (atomically; mode 0644); returns the view's
/// path. The view names the VCD and the filters by absolute path, opens every scope and zooms so that the
/// whole run [0, end_time] fills the wave area.
std::string write_gtkw_view(const std::string& vcd_path, const GtkwViewOptions& opt);

/// GTKWave's zoom value for showing `span` time units across `pixels` pixels (GTKWave shows 2^-zoom / 200
/// time units per pixel).
double gtkw_zoom_for(double span, double pixels);

}  // namespace cimsim
