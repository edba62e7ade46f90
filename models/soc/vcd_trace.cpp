#include "cimsim/soc/vcd_trace.hpp"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "cimsim/core/io.hpp"

namespace cimsim {

VcdTrace::VcdTrace(const std::string& path, sc_core::sc_time_unit unit) {
  std::filesystem::path p(path);
  if (p.extension() == ".vcd") p.replace_extension();
  if (p.is_relative() && !p.has_parent_path()) p = std::filesystem::path(traces_dir()) / p;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  final_ = p.string() + ".vcd";
  tmp_stem_ = p.string() + ".partial";
  tf_ = sc_core::sc_create_vcd_trace_file(tmp_stem_.c_str());
  tf_->set_time_unit(1, unit);
}

std::string VcdTrace::close() {
  if (tf_) {
    sc_core::sc_close_vcd_trace_file(tf_);
    tf_ = nullptr;
    std::rename((tmp_stem_ + ".vcd").c_str(), final_.c_str());
  }
  return final_;
}

VcdTrace::~VcdTrace() { close(); }

std::string cycles_per_second_report(uint64_t cycles, double wall_seconds) {
  std::ostringstream os;
  os.precision(4);
  os << cycles << " simulated cycles in " << wall_seconds << " s wall = "
     << (wall_seconds > 0 ? static_cast<double>(cycles) / wall_seconds : 0.0) << " cycles/s";
  return os.str();
}

}  // namespace cimsim
