#pragma once
// Image data sets for the ENOS search and the host runtime (no libtorch): Fashion-MNIST (gzip-compressed
// IDX files) and CIFAR-10/100 (binary record format), plus a seeded train/validation split.
// Every loader validates what it reads (magic numbers, dimensions, counts, truncation) and throws
// cimsim::IoError (missing/unreadable/truncated) or cimsim::ConfigError (malformed) naming the file.
#include <cstdint>
#include <string>
#include <vector>

namespace cimsim::data {

/// A set of n images, NCHW uint8 pixels (0..255), one integer label each.
struct ImageSet {
  int n = 0, c = 0, h = 0, w = 0;
  std::vector<uint8_t> pixels;  ///< n * c * h * w, NCHW
  std::vector<int> labels;      ///< n, each in [0, classes)
  int classes = 0;
  std::string name;             ///< e.g. "fashion-mnist/train"
  bool labeled = true;          ///< false: an image file without labels (every label 0, classes 1)

  int64_t image_elems() const { return static_cast<int64_t>(c) * h * w; }
  const uint8_t* image(int i) const { return pixels.data() + static_cast<int64_t>(i) * image_elems(); }
  /// Empty string if sizes and labels are consistent; else why not.
  std::string check() const;
};

/// Default directory of the Fashion-MNIST files: $CIMSIM_FMNIST if set, else /usr/share/datasets/fashion-mnist.
std::string fashion_mnist_dir();

/// Reads one gzip-compressed (or plain) IDX file into bytes (after decompression). Throws IoError naming the file.
std::vector<uint8_t> read_gz_file(const std::string& path);

/// Parses IDX bytes of unsigned-byte data: magic 0x0000 08 <ndim>, big-endian dims. Returns the dims and the
/// payload. Throws ConfigError naming `origin` on a bad magic, a wrong type, or truncated/oversized payload.
struct IdxArray {
  std::vector<int> dims;
  std::vector<uint8_t> data;
};
IdxArray parse_idx(const std::vector<uint8_t>& bytes, const std::string& origin);

/// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from `dir` (28x28x1, 10 classes). Checks image and
/// label counts agree and labels are < 10.
ImageSet load_fashion_mnist(const std::string& dir, bool train);
/// Loads explicit image and label IDX files (gzip or plain).
ImageSet load_idx_pair(const std::string& images_path, const std::string& labels_path, int classes);

/// Loads a CIFAR binary file: CIFAR-10 records are 1 label byte + 3072 pixel bytes (3x32x32, channel-major);
/// CIFAR-100 records are coarse label + fine label + 3072 bytes (the fine label, 100 classes, is used).
ImageSet load_cifar(const std::string& path, bool cifar100);

/// Largest data set file load_image_file accepts (checked before reading).
constexpr int64_t kMaxImageFileBytes = int64_t{1} << 31;

/// Loads images from one file the user names, by content: an IDX image file (gzip or plain; dims n,h,w or
/// n,c,h,w), with its labels when a sibling labels file exists (the name with "images-idx3" replaced by
/// "labels-idx1", e.g. Fashion-MNIST's), else unlabeled; or a CIFAR-10 / CIFAR-100 binary file (record size
/// 3073 / 3074 bytes). Checks a regular file within kMaxImageFileBytes first. Throws IoError / ConfigError
/// naming the file.
ImageSet load_image_file(const std::string& path);

/// First `count` images (or all if count <= 0 or >= n).
ImageSet take(const ImageSet& s, int count);
/// Images at the given indices, in that order.
ImageSet subset(const ImageSet& s, const std::vector<int>& indices);

struct Split {
  ImageSet train;
  ImageSet val;
};
/// Deterministic shuffled split (SplitMix64(seed) Fisher-Yates): `val_fraction` of the images go to `val`.
Split split(const ImageSet& s, double val_fraction, uint64_t seed);

/// A seeded permutation of [0, n) (Fisher-Yates with SplitMix64), used for epoch shuffles.
std::vector<int> permutation(int n, uint64_t seed);

}  // namespace cimsim::data
