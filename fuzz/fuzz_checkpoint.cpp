// Fuzz target: the checkpoint integrity check that runs before torch reads a checkpoint (read_checkpoint:
// bounded read, zip directory walk, CRC-32 of every stored or deflated record). The fuzz build has no libtorch,
// so what follows the check (torch's own reader) is not fuzzed here. Seeds: small archives laid out like a
// torch checkpoint (stored and deflated records, ZIP64-free), written by LLVMFuzzerInitialize, plus the
// issue-24 reproducer (a flipped bit inside a tensor record).
#include <zlib.h>

#include <cstring>

#include "cimsim/enos/checkpoint_guard.hpp"
#include "fuzz_util.hpp"

namespace {
void put(std::string& o, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) o += static_cast<char>((v >> (8 * i)) & 0xFF);
}
// One record: name, data, deflate or store.
struct Rec {
  std::string name, data;
  bool deflate;
};
std::string deflated(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
std::string make_zip(const std::vector<Rec>& recs) {
  std::string out, cd;
  for (const auto& r : recs) {
    const uint64_t off = out.size();
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(r.data.data()), static_cast<uInt>(r.data.size())));
    const std::string body = r.deflate ? deflated(r.data) : r.data;
    const int method = r.deflate ? 8 : 0;
    put(out, 0x04034b50, 4); put(out, 20, 2); put(out, 0, 2); put(out, method, 2); put(out, 0, 4);
    put(out, crc, 4); put(out, body.size(), 4); put(out, r.data.size(), 4); put(out, r.name.size(), 2); put(out, 0, 2);
    out += r.name + body;
    put(cd, 0x02014b50, 4); put(cd, 20, 2); put(cd, 20, 2); put(cd, 0, 2); put(cd, method, 2); put(cd, 0, 4);
    put(cd, crc, 4); put(cd, body.size(), 4); put(cd, r.data.size(), 4); put(cd, r.name.size(), 2); put(cd, 0, 2);
    put(cd, 0, 2); put(cd, 0, 2); put(cd, 0, 2); put(cd, 0, 4); put(cd, off, 4);
    cd += r.name;
  }
  const uint64_t cd_off = out.size();
  out += cd;
  put(out, 0x06054b50, 4); put(out, 0, 2); put(out, 0, 2); put(out, recs.size(), 2); put(out, recs.size(), 2);
  put(out, cd.size(), 4); put(out, cd_off, 4); put(out, 0, 2);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!cimsim::fuzz::seed_dir()) return 0;
  std::string tensor;
  for (int i = 0; i < 512; ++i) tensor += static_cast<char>((i * 37) & 0xFF);
  const std::vector<Rec> recs = {{"checkpoint.pt/data.pkl", std::string(200, 'p'), false},
                                 {"checkpoint.pt/code/__torch__.py", "def forward(self):\n  return 1\n", true},
                                 {"checkpoint.pt/data/0", tensor, false},
                                 {"checkpoint.pt/version", "3\n", false}};
  const std::string good = make_zip(recs);
  cimsim::fuzz::write_seed("torch-like.pt", good);
  std::string flipped = good;
  const size_t at = good.find(tensor.substr(0, 16));
  flipped[at + 200] ^= 0x10;  // inside the tensor record: the CRC no longer matches (was resumed from)
  cimsim::fuzz::write_seed("repro-flipped-tensor-bit.pt", flipped);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::as_file(data, size, ".pt");
  cimsim::fuzz::expect_clean([&] { (void)cimsim::enos::read_checkpoint(path); });
  cimsim::fuzz::expect_clean([&] {
    cimsim::enos::verify_zip_checksums(std::string(reinterpret_cast<const char*>(data), size), "bytes");
  });
  return 0;
}
