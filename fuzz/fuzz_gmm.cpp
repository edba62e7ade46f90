// Fuzz target: the GMM loader as `cimsim sample --gmm` uses it (load_json_or_yaml + Gmm::from_json; an input
// starting with '{' is read as a .json file, anything else as .yaml) and the evaluator on a loaded mixture.
// Seeds: data/configs/gmm-*.
#include <Eigen/Dense>

#include "cimsim/core/io.hpp"
#include "cimsim/diag/gmm.hpp"
#include "fuzz_util.hpp"

// Issue-24 reproducers kept in the corpus: a 1.7 KB alias bomb (reached 3.4 GB and aborted), a mean of 1e300.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!cimsim::fuzz::seed_dir()) return 0;
  std::string bomb = "weights: [1.0]\nmeans: [[0.0]]\ncovariances: [[[1.0]]]\nx0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string p = "*a" + std::to_string(i - 1);
    bomb += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int k = 1; k < 10; ++k) bomb += ", " + p;
    bomb += "]\n";
  }
  cimsim::fuzz::write_seed("repro-alias-bomb.yaml", bomb);
  cimsim::fuzz::write_seed("repro-mean-1e300.yaml", "weights: [1.0]\nmeans: [[1.0e300]]\ncovariances: [[[1.0]]]\n");
  return 0;
}

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
