// Data set loaders: gzip IDX (Fashion-MNIST) and CIFAR binary records. See include/cimsim/data/datasets.hpp.
#include "cimsim/data/datasets.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::data {

std::string ImageSet::check() const {
  if (n < 0 || c <= 0 || h <= 0 || w <= 0) return "bad dimensions";
  if (static_cast<int64_t>(pixels.size()) != static_cast<int64_t>(n) * image_elems())
    return "pixel count " + std::to_string(pixels.size()) + " != n*c*h*w";
  if (static_cast<int>(labels.size()) != n) return "label count " + std::to_string(labels.size()) + " != n";
  for (int i = 0; i < n; ++i)
    if (labels[i] < 0 || labels[i] >= classes)
      return "label " + std::to_string(labels[i]) + " of image " + std::to_string(i) + " outside [0, " +
             std::to_string(classes) + ")";
  return {};
}

std::string fashion_mnist_dir() {
  if (const char* d = std::getenv("CIMSIM_FMNIST"); d && *d) return d;
  return "/usr/share/datasets/fashion-mnist";
}

std::vector<uint8_t> read_gz_file(const std::string& path) {
  check_input_file(path, InputKind::Dataset);  // a regular file of bounded size (never a FIFO or /dev/zero)
  const uint64_t limit = input_limit(InputKind::Dataset);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw IoError("cannot open data file '" + path + "'");
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 16);
  for (;;) {
    const int got = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      std::string m = msg ? msg : "unknown";
      gzclose(f);
      throw IoError("corrupt gzip data in '" + path + "': " + m);
    }
    if (got == 0) break;
    if (out.size() + static_cast<uint64_t>(got) > limit) {  // a decompression bomb
      gzclose(f);
      throw ConfigError("data file '" + path + "' decompresses to more than " + std::to_string(limit) +
                        " bytes (set " + input_limit_env(InputKind::Dataset) + " to raise the limit)");
    }
    out.insert(out.end(), buf.begin(), buf.begin() + got);
  }
  // gzread returns 0 at a premature end of a compressed stream too; zlib reports it via gzerror.
  int errnum = 0;
  const char* msg = gzerror(f, &errnum);
  const std::string m = msg ? msg : "";
  gzclose(f);
  if (errnum != Z_OK && errnum != Z_STREAM_END)
    throw IoError("corrupt or truncated gzip data in '" + path + "': " + m);
  return out;
}

IdxArray parse_idx(const std::vector<uint8_t>& b, const std::string& origin) {
  if (b.size() < 4) throw ConfigError("IDX file '" + origin + "' is truncated (no header)");
  if (b[0] != 0 || b[1] != 0)
    throw ConfigError("IDX file '" + origin + "' has a bad magic number (first two bytes must be 0)");
  if (b[2] != 0x08)
    throw ConfigError("IDX file '" + origin + "' has data type 0x" + std::to_string(b[2]) +
                      " (only unsigned byte, 0x08, is supported)");
  const int ndim = b[3];
  if (ndim < 1 || ndim > 4) throw ConfigError("IDX file '" + origin + "' has " + std::to_string(ndim) + " dimensions");
  if (b.size() < 4 + 4 * static_cast<size_t>(ndim))
    throw ConfigError("IDX file '" + origin + "' is truncated (dimension header)");
  IdxArray a;
  uint64_t total = 1;
  for (int d = 0; d < ndim; ++d) {
    const size_t o = 4 + 4 * static_cast<size_t>(d);
    const uint32_t v = (uint32_t(b[o]) << 24) | (uint32_t(b[o + 1]) << 16) | (uint32_t(b[o + 2]) << 8) | b[o + 3];
    if (v == 0 || v > (1u << 28))
      throw ConfigError("IDX file '" + origin + "' has dimension " + std::to_string(d) + " = " + std::to_string(v));
    a.dims.push_back(static_cast<int>(v));
    total *= v;
    if (total > (uint64_t(1) << 34)) throw ConfigError("IDX file '" + origin + "' is implausibly large");
  }
  const size_t head = 4 + 4 * static_cast<size_t>(ndim);
  if (b.size() - head < total)
    throw ConfigError("IDX file '" + origin + "' is truncated: header promises " + std::to_string(total) +
                      " bytes, file has " + std::to_string(b.size() - head));
  if (b.size() - head > total)
    throw ConfigError("IDX file '" + origin + "' has " + std::to_string(b.size() - head - total) +
                      " trailing bytes after the data");
  a.data.assign(b.begin() + static_cast<std::ptrdiff_t>(head), b.end());
  return a;
}

ImageSet load_idx_pair(const std::string& images_path, const std::string& labels_path, int classes) {
  const IdxArray im = parse_idx(read_gz_file(images_path), images_path);
  const IdxArray lb = parse_idx(read_gz_file(labels_path), labels_path);
  if (im.dims.size() != 3)
    throw ConfigError("IDX image file '" + images_path + "' must have 3 dimensions (n, rows, cols), has " +
                      std::to_string(im.dims.size()));
  if (lb.dims.size() != 1)
    throw ConfigError("IDX label file '" + labels_path + "' must have 1 dimension, has " +
                      std::to_string(lb.dims.size()));
  if (im.dims[0] != lb.dims[0])
    throw ConfigError("image count " + std::to_string(im.dims[0]) + " in '" + images_path + "' != label count " +
                      std::to_string(lb.dims[0]) + " in '" + labels_path + "'");
  ImageSet s;
  s.n = im.dims[0];
  s.c = 1;
  s.h = im.dims[1];
  s.w = im.dims[2];
  s.classes = classes;
  s.pixels = im.data;
  s.labels.resize(static_cast<size_t>(s.n));
  for (int i = 0; i < s.n; ++i) {
    const int l = lb.data[static_cast<size_t>(i)];
    if (l >= classes)
      throw ConfigError("label file '" + labels_path + "': label " + std::to_string(l) + " of item " +
                        std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")");
    s.labels[static_cast<size_t>(i)] = l;
  }
  return s;
}

ImageSet load_fashion_mnist(const std::string& dir, bool train) {
  const std::string pre = dir + "/" + (train ? "train" : "t10k");
  ImageSet s = load_idx_pair(pre + "-images-idx3-ubyte.gz", pre + "-labels-idx1-ubyte.gz", 10);
  if (s.h != 28 || s.w != 28)
    throw ConfigError("Fashion-MNIST images in '" + pre + "-images-idx3-ubyte.gz' are " + std::to_string(s.h) + "x" +
                      std::to_string(s.w) + ", expected 28x28");
  s.name = std::string("fashion-mnist/") + (train ? "train" : "test");
  return s;
}

ImageSet load_cifar(const std::string& path, bool cifar100) {
  check_input_file(path, InputKind::Dataset);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IoError("cannot open CIFAR file '" + path + "'");
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw IoError("cannot read CIFAR file '" + path + "'");
  const size_t label_bytes = cifar100 ? 2 : 1;
  const size_t rec = label_bytes + 3072;
  if (b.empty()) throw ConfigError("CIFAR file '" + path + "' is empty");
  if (b.size() % rec != 0)
    throw ConfigError("CIFAR file '" + path + "' has " + std::to_string(b.size()) + " bytes, not a multiple of the " +
                      std::to_string(rec) + "-byte record (truncated or wrong format)");
  ImageSet s;
  s.n = static_cast<int>(b.size() / rec);
  s.c = 3;
  s.h = 32;
  s.w = 32;
  s.classes = cifar100 ? 100 : 10;
  s.name = cifar100 ? "cifar100" : "cifar10";
  s.pixels.resize(static_cast<size_t>(s.n) * 3072);
  s.labels.resize(static_cast<size_t>(s.n));
  for (int i = 0; i < s.n; ++i) {
    const uint8_t* r = b.data() + static_cast<size_t>(i) * rec;
    const int l = cifar100 ? r[1] : r[0];
    if (cifar100 && r[0] >= 20)
      throw ConfigError("CIFAR-100 file '" + path + "': coarse label " + std::to_string(r[0]) + " of record " +
                        std::to_string(i) + " is outside [0, 20)");
    if (l >= s.classes)
      throw ConfigError("CIFAR file '" + path + "': label " + std::to_string(l) + " of record " + std::to_string(i) +
                        " is outside [0, " + std::to_string(s.classes) + ")");
    s.labels[static_cast<size_t>(i)] = l;
    std::copy(r + label_bytes, r + rec, s.pixels.begin() + static_cast<std::ptrdiff_t>(i) * 3072);
  }
  return s;
}

ImageSet subset(const ImageSet& s, const std::vector<int>& idx) {
  ImageSet o;
  o.n = static_cast<int>(idx.size());
  o.c = s.c;
  o.h = s.h;
  o.w = s.w;
  o.classes = s.classes;
  o.name = s.name;
  const int64_t e = s.image_elems();
  o.pixels.resize(static_cast<size_t>(o.n * e));
  o.labels.resize(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) {
    const int i = idx[k];
    if (i < 0 || i >= s.n) throw ConfigError("subset index " + std::to_string(i) + " outside the set of " + std::to_string(s.n));
    std::copy(s.image(i), s.image(i) + e, o.pixels.begin() + static_cast<std::ptrdiff_t>(k) * e);
    o.labels[k] = s.labels[static_cast<size_t>(i)];
  }
  return o;
}

ImageSet take(const ImageSet& s, int count) {
  if (count <= 0 || count >= s.n) return s;
  std::vector<int> idx(static_cast<size_t>(count));
  std::iota(idx.begin(), idx.end(), 0);
  return subset(s, idx);
}

std::vector<int> permutation(int n, uint64_t seed) {
  std::vector<int> p(static_cast<size_t>(std::max(n, 0)));
  std::iota(p.begin(), p.end(), 0);
  SplitMix64 rng(seed);
  for (int i = n - 1; i > 0; --i) {
    const int j = static_cast<int>(rng.below(static_cast<uint64_t>(i) + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

Split split(const ImageSet& s, double val_fraction, uint64_t seed) {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    throw ConfigError("validation fraction " + std::to_string(val_fraction) + " outside [0, 1)");
  const std::vector<int> p = permutation(s.n, seed);
  const int nv = static_cast<int>(static_cast<double>(s.n) * val_fraction);
  Split out;
  out.val = subset(s, std::vector<int>(p.begin(), p.begin() + nv));
  out.train = subset(s, std::vector<int>(p.begin() + nv, p.end()));
  out.val.name = s.name + "/val";
  out.train.name = s.name + "/train-split";
  return out;
}

}  // namespace cimsim::data

namespace cimsim::data {

ImageSet load_image_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw IoError("cannot open data set file '" + path + "'");
  if (!S_ISREG(st.st_mode)) throw ConfigError("data set file '" + path + "' is not a regular file");
  if (st.st_size > kMaxImageFileBytes)
    throw ConfigError("data set file '" + path + "' has " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                      std::to_string(kMaxImageFileBytes));
  const std::vector<uint8_t> b = read_gz_file(path);
  if (b.size() >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0x08) {
    const IdxArray a = parse_idx(b, path);
    if (a.dims.size() != 3 && a.dims.size() != 4)
      throw ConfigError("IDX file '" + path + "' has " + std::to_string(a.dims.size()) +
                        " dimensions; an image file has 3 (n,h,w) or 4 (n,c,h,w)");
    ImageSet s;
    s.n = a.dims[0];
    s.c = a.dims.size() == 4 ? a.dims[1] : 1;
    s.h = a.dims[a.dims.size() - 2];
    s.w = a.dims.back();
    s.pixels = a.data;
    s.name = path;
    std::string lp = path;
    const auto k = lp.find("images-idx3");
    bool have_labels = false;
    if (k != std::string::npos) {
      lp.replace(k, 11, "labels-idx1");
      struct stat ls {};
      have_labels = ::stat(lp.c_str(), &ls) == 0 && S_ISREG(ls.st_mode);
    }
    if (have_labels) {
      const IdxArray l = parse_idx(read_gz_file(lp), lp);
      if (l.dims.size() != 1 || l.dims[0] != s.n)
        throw ConfigError("labels file '" + lp + "' does not hold one label per image of '" + path + "'");
      int mx = 0;
      for (uint8_t v : l.data) mx = std::max(mx, static_cast<int>(v));
      s.labels.assign(l.data.begin(), l.data.end());
      s.classes = mx + 1;
    } else {
      s.labels.assign(static_cast<size_t>(s.n), 0);
      s.classes = 1;
      s.labeled = false;
    }
    if (std::string e = s.check(); !e.empty()) throw ConfigError("data set file '" + path + "': " + e);
    return s;
  }
  const bool c10 = !b.empty() && b.size() % 3073 == 0, c100 = !b.empty() && b.size() % 3074 == 0;
  if (c10 == c100)
    throw ConfigError("data set file '" + path + "' is neither an IDX image file (magic 00 00 08) nor a CIFAR binary file " +
                      "(records of 3073 or 3074 bytes; this file has " + std::to_string(b.size()) + " bytes)");
  return load_cifar(path, c100);
}

}  // namespace cimsim::data
