// ONNX model -> ENOS export for the CLI (include/cimsim/onnx/onnx_run.hpp).
#include "cimsim/onnx/onnx_run.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include "cimsim/core/error.hpp"
#include "cimsim/data/datasets.hpp"
#include "cimsim/enos/ptq.hpp"
#include "cimsim/onnx/import.hpp"

namespace cimsim::onnx {

namespace {

std::vector<double> parse_list(const std::string& s, const char* opt) {
  std::vector<double> r;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || end == item.c_str() || *end != '\0' || !std::isfinite(v))
      throw ConfigError(std::string(opt) + ": '" + s + "' is not a comma-separated list of numbers");
    r.push_back(v);
  }
  if (r.empty()) throw ConfigError(std::string(opt) + ": empty list");
  return r;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

OnnxBuild build_onnx_export(const OnnxRunOptions& o) {
  OnnxBuild b;
  ImportOptions io;
  if (!o.input_shape.empty()) {
    for (double v : parse_list(o.input_shape, "--input-shape")) {
      if (v != std::floor(v) || v < 1 || v > 65536) throw ConfigError("--input-shape: '" + o.input_shape + "' needs integers in [1, 65536]");
      io.input_shape.push_back(static_cast<int>(v));
    }
    if (io.input_shape.size() != 3) throw ConfigError("--input-shape: '" + o.input_shape + "' needs 3 values C,H,W");
  }
  if (o.calib_images < 1) throw ConfigError("--calib-images must be >= 1");
  // Inputs are checked before any work: the calibration file must exist.
  data::ImageSet calib;
  if (!o.calib_data.empty()) calib = data::take(data::load_image_file(o.calib_data), o.calib_images);
  auto t0 = std::chrono::steady_clock::now();
  b.graph = import_model(o.path, io);
  b.import_s = seconds_since(t0);
  enos::ModelGraph& g = b.graph;
  const enos::ModelTensor& in = g.tensors[0];
  auto per_channel = [&](const std::string& s, const char* opt) {
    std::vector<double> v = parse_list(s, opt);
    if (v.size() == 1) v.assign(static_cast<size_t>(in.c), v[0]);
    if (static_cast<int>(v.size()) != in.c)
      throw ConfigError(std::string(opt) + ": " + std::to_string(v.size()) + " values for the " + std::to_string(in.c) +
                        " channels of input '" + in.name + "'");
    return v;
  };
  if (!o.input_mean.empty()) g.input_mean = per_channel(o.input_mean, "--input-mean");
  if (!o.input_std.empty()) {
    g.input_std = per_channel(o.input_std, "--input-std");
    for (double s : g.input_std)
      if (s <= 0) throw ConfigError("--input-std values must be > 0");
  }
  enos::PtqOptions p;
  p.seed = o.seed;
  p.random_images = o.random_images;
  p.array = o.array;
  p.uniform = o.uniform;
  if (!o.assignment.empty()) p.assignment = accel::load_assignment(o.assignment);
  p.dataset = !o.dataset.empty() ? o.dataset : (in.c == 1 && in.h == 28 && in.w == 28 ? "fashion-mnist" : "none");
  if (!o.calib_data.empty()) {
    if (calib.c != in.c || calib.h != in.h || calib.w != in.w)
      throw ConfigError("--calib-data '" + o.calib_data + "': images are " + std::to_string(calib.c) + "x" + std::to_string(calib.h) +
                        "x" + std::to_string(calib.w) + " but the network's input '" + in.name + "' is " + std::to_string(in.c) + "x" +
                        std::to_string(in.h) + "x" + std::to_string(in.w));
    for (int i = 0; i < calib.n; ++i) p.calib_images.emplace_back(calib.image(i), calib.image(i) + calib.image_elems());
  }
  t0 = std::chrono::steady_clock::now();
  b.exp = enos::quantize(g, p);
  b.quantize_s = seconds_since(t0);
  if (b.exp.meta.value("calibration", "") == "random")
    b.warnings.push_back("no --calib-data: activation scales calibrated on " + std::to_string(o.random_images) +
                         " random images; the network's accuracy is then meaningless (energy and cycles are not)");
  if (b.exp.meta.contains("notes"))  // the importer's and the quantiser's remarks (scales not kept, ...)
    for (const auto& n : b.exp.meta["notes"]) b.warnings.push_back(n.get<std::string>());
  b.exp.meta["onnx"] = o.path;
  if (!o.calib_data.empty()) b.exp.meta["calibration"] = o.calib_data;
  return b;
}

}  // namespace cimsim::onnx
