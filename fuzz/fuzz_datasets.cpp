// Fuzz target: the dataset readers. The first byte picks the entry point: 0 parse_idx on the bytes, 1/2
// load_cifar (CIFAR-10/100) on a file, 3 read_gz_file + parse_idx (gzip or plain), 4 load_idx_pair with the
// same file as images and labels. Seeds: small IDX/gz files cut from the installed Fashion-MNIST test set and
// a few synthetic CIFAR records.
#include "cimsim/data/datasets.hpp"
#include "fuzz_util.hpp"

namespace {
std::vector<uint8_t> with_selector(uint8_t sel, const std::vector<uint8_t>& b) {
  std::vector<uint8_t> v{sel};
  v.insert(v.end(), b.begin(), b.end());
  return v;
}
std::vector<uint8_t> idx_prefix(const std::vector<uint8_t>& idx, uint32_t count) {
  // Rewrites the leading dimension to `count` and keeps just enough payload.
  const int nd = idx[3];
  size_t per = 1;
  for (int i = 1; i < nd; ++i)
    per *= (size_t{idx[4 + 4 * i]} << 24) | (size_t{idx[5 + 4 * i]} << 16) | (size_t{idx[6 + 4 * i]} << 8) | idx[7 + 4 * i];
  std::vector<uint8_t> v(idx.begin(), idx.begin() + 4 + 4 * nd + static_cast<long>(per * count));
  v[4] = static_cast<uint8_t>(count >> 24);
  v[5] = static_cast<uint8_t>(count >> 16);
  v[6] = static_cast<uint8_t>(count >> 8);
  v[7] = static_cast<uint8_t>(count);
  return v;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!cimsim::fuzz::seed_dir()) return 0;
  using cimsim::fuzz::write_seed;
  const std::string dir = cimsim::data::fashion_mnist_dir();
  try {
    const auto images = cimsim::data::read_gz_file(dir + "/t10k-images-idx3-ubyte.gz");
    const auto labels = cimsim::data::read_gz_file(dir + "/t10k-labels-idx1-ubyte.gz");
    write_seed("idx-images-2", with_selector(0, idx_prefix(images, 2)));
    write_seed("idx-labels-16", with_selector(0, idx_prefix(labels, 16)));
    write_seed("plain-idx-file", with_selector(3, idx_prefix(labels, 8)));
    write_seed("pair-labels", with_selector(4, idx_prefix(labels, 8)));
    std::ifstream gz(dir + "/t10k-labels-idx1-ubyte.gz", std::ios::binary);
    const std::vector<uint8_t> g((std::istreambuf_iterator<char>(gz)), {});
    write_seed("gz-labels", with_selector(3, g));
  } catch (const std::exception&) {
    // Fashion-MNIST not installed: CIFAR seeds only
  }
  std::vector<uint8_t> c10(2 * 3073), c100(2 * 3074);
  for (size_t i = 0; i < c10.size(); ++i) c10[i] = static_cast<uint8_t>(i % 3073 == 0 ? 7 : i * 31);
  for (size_t i = 0; i < c100.size(); ++i) c100[i] = static_cast<uint8_t>(i % 3074 < 2 ? 42 : i * 17);
  write_seed("cifar10-2", with_selector(1, c10));
  write_seed("cifar100-2", with_selector(2, c100));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t sel = data[0] % 5;
  const std::vector<uint8_t> body(data + 1, data + size);
  cimsim::fuzz::expect_clean([&] {
    if (sel == 0) {
      (void)cimsim::data::parse_idx(body, "fuzz");
      return;
    }
    const std::string path = cimsim::fuzz::as_file(body.data(), body.size(), sel == 3 ? ".gz" : ".bin");
    if (sel == 1 || sel == 2) {
      const auto s = cimsim::data::load_cifar(path, sel == 2);
      if (!s.check().empty()) std::abort();  // a loaded set must be consistent
    } else if (sel == 3) {
      (void)cimsim::data::parse_idx(cimsim::data::read_gz_file(path), path);
    } else {
      const auto s = cimsim::data::load_idx_pair(path, path, 10);
      if (!s.check().empty()) std::abort();
    }
  });
  return 0;
}
