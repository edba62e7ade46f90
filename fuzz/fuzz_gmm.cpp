// Fuzz target: the GMM loader as `cimsim sample --gmm` uses it (load_json_or_yaml + Gmm::from_json; an input
// starting with '{' is read as a .json file, anything else as .yaml) and the evaluator on a loaded mixture.
// Seeds: data/configs/gmm-*.
#include <Eigen/Dense>

#include "cimsim/core/io.hpp"
#include "cimsim/diag/gmm.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::as_file(data, size, size > 0 && data[0] == '{' ? ".json" : ".yaml");
  cimsim::fuzz::expect_clean([&] {
    const cimsim::diag::Gmm g = cimsim::diag::Gmm::from_json(cimsim::load_json_or_yaml(path), path);
    g.validate(8, 8);  // the macro's capacity, as compile_gmm checks it
    const cimsim::diag::GmmEvaluator ev(g);
    (void)ev.log_density(Eigen::VectorXd::Zero(g.d()));
  });
  return 0;
}
