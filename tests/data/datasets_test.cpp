// Data loaders: IDX (gzip) parse on files written here, corrupt/missing cases, CIFAR binary records, splits.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "cimsim/core/error.hpp"
#include "cimsim/data/datasets.hpp"

namespace fs = std::filesystem;
using namespace cimsim::data;

namespace {

std::string tmpdir() {
  const auto d = fs::temp_directory_path() / ("cimsim_data_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d.string();
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
}

void write_raw(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

std::vector<uint8_t> idx_images(int n, int h, int w) {
  std::vector<uint8_t> b = {0, 0, 8, 3};
  put32(b, n);
  put32(b, h);
  put32(b, w);
  for (int i = 0; i < n * h * w; ++i) b.push_back(static_cast<uint8_t>((i * 7 + 3) & 255));
  return b;
}

std::vector<uint8_t> idx_labels(int n) {
  std::vector<uint8_t> b = {0, 0, 8, 1};
  put32(b, n);
  for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i % 10));
  return b;
}

// Writes a small Fashion-MNIST-shaped directory (train or t10k) of n 28x28 images.
std::string write_fmnist(const std::string& dir, const std::string& pre, int n) {
  write_gz(dir + "/" + pre + "-images-idx3-ubyte.gz", idx_images(n, 28, 28));
  write_gz(dir + "/" + pre + "-labels-idx1-ubyte.gz", idx_labels(n));
  return dir;
}

template <class E, class F>
std::string expect_throw(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected exception not thrown";
  return {};
}

}  // namespace

TEST(Idx, ParsesGzipFilesWrittenHere) {
  const std::string d = tmpdir() + "/ok";
  fs::create_directories(d);
  write_fmnist(d, "train", 5);
  const ImageSet s = load_fashion_mnist(d, true);
  EXPECT_EQ(s.n, 5);
  EXPECT_EQ(s.c, 1);
  EXPECT_EQ(s.h, 28);
  EXPECT_EQ(s.w, 28);
  EXPECT_EQ(s.classes, 10);
  EXPECT_EQ(s.check(), "");
  ASSERT_EQ(s.pixels.size(), 5u * 784);
  for (int i = 0; i < 5 * 784; i += 97) EXPECT_EQ(s.pixels[i], static_cast<uint8_t>((i * 7 + 3) & 255));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.labels[i], i % 10);
}

TEST(Idx, MissingFileNamesIt) {
  const std::string d = tmpdir() + "/missing";
  fs::create_directories(d);
  const std::string m = expect_throw<cimsim::IoError>([&] { load_fashion_mnist(d, false); });
  EXPECT_NE(m.find("t10k-images-idx3-ubyte.gz"), std::string::npos) << m;
}

TEST(Idx, BadMagicTruncatedAndCountMismatch) {
  const std::string d = tmpdir() + "/bad";
  fs::create_directories(d);
  auto im = idx_images(3, 28, 28);
  im[2] = 0x0D;  // float type
  write_gz(d + "/a.gz", im);
  write_gz(d + "/l.gz", idx_labels(3));
  std::string m = expect_throw<cimsim::ConfigError>([&] { load_idx_pair(d + "/a.gz", d + "/l.gz", 10); });
  EXPECT_NE(m.find("a.gz"), std::string::npos) << m;

  auto tr = idx_images(3, 28, 28);
  tr.resize(tr.size() - 10);
  write_gz(d + "/t.gz", tr);
  m = expect_throw<cimsim::ConfigError>([&] { load_idx_pair(d + "/t.gz", d + "/l.gz", 10); });
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
  EXPECT_NE(m.find("t.gz"), std::string::npos) << m;

  write_gz(d + "/i4.gz", idx_images(4, 28, 28));
  m = expect_throw<cimsim::ConfigError>([&] { load_idx_pair(d + "/i4.gz", d + "/l.gz", 10); });
  EXPECT_NE(m.find("label count"), std::string::npos) << m;

  auto bl = idx_labels(3);
  bl.back() = 12;
  write_gz(d + "/bl.gz", bl);
  m = expect_throw<cimsim::ConfigError>([&] { load_idx_pair(d + "/i4.gz", d + "/bl.gz", 10); });
}

TEST(Idx, CorruptGzipStreamIsAnIoError) {
  const std::string d = tmpdir() + "/gz";
  fs::create_directories(d);
  write_gz(d + "/full.gz", idx_images(20, 28, 28));
  std::ifstream f(d + "/full.gz", std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  b.resize(b.size() / 2);  // cut the compressed stream
  write_raw(d + "/cut.gz", b);
  const std::string m = expect_throw<cimsim::IoError>([&] { read_gz_file(d + "/cut.gz"); });
  EXPECT_NE(m.find("cut.gz"), std::string::npos) << m;
}

TEST(Idx, PlainUncompressedIdxAlsoReads) {
  const std::string d = tmpdir() + "/plain";
  fs::create_directories(d);
  write_raw(d + "/i", idx_images(2, 4, 5));
  write_raw(d + "/l", idx_labels(2));
  const ImageSet s = load_idx_pair(d + "/i", d + "/l", 10);
  EXPECT_EQ(s.n, 2);
  EXPECT_EQ(s.h, 4);
  EXPECT_EQ(s.w, 5);
}

TEST(Cifar, Parses10And100Records) {
  const std::string d = tmpdir() + "/cifar";
  fs::create_directories(d);
  std::vector<uint8_t> c10, c100;
  for (int i = 0; i < 3; ++i) {
    c10.push_back(static_cast<uint8_t>(i + 5));
    c100.push_back(static_cast<uint8_t>(i));       // coarse
    c100.push_back(static_cast<uint8_t>(90 + i));  // fine
    for (int k = 0; k < 3072; ++k) {
      c10.push_back(static_cast<uint8_t>((k + i) & 255));
      c100.push_back(static_cast<uint8_t>((k * 3 + i) & 255));
    }
  }
  write_raw(d + "/c10.bin", c10);
  write_raw(d + "/c100.bin", c100);
  const ImageSet a = load_cifar(d + "/c10.bin", false);
  EXPECT_EQ(a.n, 3);
  EXPECT_EQ(a.c, 3);
  EXPECT_EQ(a.h, 32);
  EXPECT_EQ(a.classes, 10);
  EXPECT_EQ(a.labels[2], 7);
  EXPECT_EQ(a.image(1)[1024], static_cast<uint8_t>((1024 + 1) & 255));  // first green pixel of image 1
  EXPECT_EQ(a.check(), "");
  const ImageSet b = load_cifar(d + "/c100.bin", true);
  EXPECT_EQ(b.classes, 100);
  EXPECT_EQ(b.labels[1], 91);
  EXPECT_EQ(b.image(2)[5], static_cast<uint8_t>((15 + 2) & 255));

  c10.pop_back();
  write_raw(d + "/cut.bin", c10);
  std::string m = expect_throw<cimsim::ConfigError>([&] { load_cifar(d + "/cut.bin", false); });
  EXPECT_NE(m.find("cut.bin"), std::string::npos) << m;
  m = expect_throw<cimsim::IoError>([&] { load_cifar(d + "/nope.bin", false); });
  EXPECT_NE(m.find("nope.bin"), std::string::npos) << m;
  c10.push_back(0);
  c10[0] = 10;  // label out of range for CIFAR-10
  write_raw(d + "/lab.bin", c10);
  expect_throw<cimsim::ConfigError>([&] { load_cifar(d + "/lab.bin", false); });
}

TEST(Split, DeterministicDisjointAndComplete) {
  ImageSet s;
  s.n = 100;
  s.c = 1;
  s.h = 2;
  s.w = 2;
  s.classes = 10;
  for (int i = 0; i < 100; ++i) {
    for (int k = 0; k < 4; ++k) s.pixels.push_back(static_cast<uint8_t>(i));
    s.labels.push_back(i % 10);
  }
  const Split a = split(s, 0.2, 42), b = split(s, 0.2, 42), c = split(s, 0.2, 43);
  EXPECT_EQ(a.val.n, 20);
  EXPECT_EQ(a.train.n, 80);
  EXPECT_EQ(a.val.pixels, b.val.pixels);
  EXPECT_NE(a.val.pixels, c.val.pixels);
  std::set<int> seen;
  for (int i = 0; i < a.val.n; ++i) seen.insert(a.val.image(i)[0]);
  for (int i = 0; i < a.train.n; ++i) seen.insert(a.train.image(i)[0]);
  EXPECT_EQ(seen.size(), 100u);
  for (int i = 0; i < a.train.n; ++i) EXPECT_EQ(a.train.labels[i], a.train.image(i)[0] % 10);
  EXPECT_THROW(split(s, 1.5, 1), cimsim::ConfigError);
  EXPECT_EQ(take(s, 7).n, 7);
}

TEST(FashionMnist, RealFilesIfInstalled) {
  const std::string d = fashion_mnist_dir();
  if (!fs::exists(d + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "Fashion-MNIST not installed";
  const ImageSet s = load_fashion_mnist(d, false);
  EXPECT_EQ(s.n, 10000);
  EXPECT_EQ(s.check(), "");
}
