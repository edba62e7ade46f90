// Guards of an ENOS search's output folder and checkpoint (include/cimsim/enos/checkpoint_guard.hpp).
#include "cimsim/enos/checkpoint_guard.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <set>
#include <vector>

#include <zlib.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace cimsim::enos {
namespace fs = std::filesystem;

void check_search_out_dir(const std::string& out_dir, bool resume, bool force) {
  if (resume && force)
    throw ConfigError("--resume and --force contradict each other: --resume continues the run in --out-dir, --force "
                      "replaces it");
  if (out_dir.empty()) return;
  std::error_code ec;
  const auto st = fs::status(out_dir, ec);
  if (ec || st.type() == fs::file_type::not_found) return;  // created later (errors reported there)
  if (st.type() != fs::file_type::directory)
    throw IoError("--out-dir " + out_dir + " exists and is not a directory");
  static const char* const kRunFiles[] = {"checkpoint.pt", "checkpoint.json", "report.json", "network.enos.json"};
  std::string found;
  bool has_ckpt = false;
  for (const char* f : kRunFiles) {
    if (fs::symlink_status(fs::path(out_dir) / f, ec).type() == fs::file_type::not_found) continue;
    found += std::string(found.empty() ? "" : ", ") + f;
    if (std::string(f) == "checkpoint.pt") has_ckpt = true;
  }
  if (found.empty() || force) return;
  if (!resume)
    throw ConfigError("--out-dir " + out_dir + " already holds a search run (" + found +
                      "): pass --resume to continue it or --force to replace it, or choose another --out-dir");
  if (!has_ckpt)
    throw ConfigError("--resume: --out-dir " + out_dir + " holds a run's files (" + found +
                      ") but no checkpoint.pt to continue from; pass --force to replace them instead");
}

namespace {
uint32_t crc32(const uint8_t* p, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

struct Reader {
  const uint8_t* d;
  uint64_t n;
  const std::string& path;
  [[noreturn]] void fail(const std::string& m) const {
    throw ConfigError("checkpoint '" + path + "' is corrupt or not a checkpoint (" + m +
                      "); remove it or use another --out-dir");
  }
  void need(uint64_t off, uint64_t len, const char* what) const {
    if (off > n || len > n - off) fail(std::string(what) + " lies beyond the end of the file");
  }
  uint64_t u(uint64_t off, int bytes) const {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | d[off + static_cast<uint64_t>(i)];
    return v;
  }
};
}  // namespace

void verify_zip_checksums(const std::string& bytes, const std::string& path) {
  const Reader r{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path};
  if (r.n < 22) r.fail("too short for a zip archive");
  // End of central directory: the last signature within the final 22 + 65535 bytes.
  uint64_t eocd = UINT64_MAX;
  const uint64_t lo = r.n > 22 + 65535 ? r.n - 22 - 65535 : 0;
  for (uint64_t p = r.n - 22 + 1; p-- > lo;)
    if (r.u(p, 4) == 0x06054b50) {
      eocd = p;
      break;
    }
  if (eocd == UINT64_MAX) r.fail("no zip end-of-directory record");
  uint64_t entries = r.u(eocd + 10, 2), cd_size = r.u(eocd + 12, 4), cd_off = r.u(eocd + 16, 4);
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF) {  // ZIP64
    if (eocd < 20 || r.u(eocd - 20, 4) != 0x07064b50) r.fail("no ZIP64 locator");
    const uint64_t z = r.u(eocd - 20 + 8, 8);
    r.need(z, 56, "the ZIP64 directory record");
    if (r.u(z, 4) != 0x06064b50) r.fail("bad ZIP64 directory record");
    entries = r.u(z + 32, 8);
    cd_size = r.u(z + 40, 8);
    cd_off = r.u(z + 48, 8);
  }
  r.need(cd_off, cd_size, "the zip central directory");
  if (entries == 0) r.fail("an empty archive");
  if (entries > cd_size / 46) r.fail("more directory entries than fit the directory");
  std::set<std::string> names;
  uint64_t p = cd_off;
  for (uint64_t e = 0; e < entries; ++e) {
    r.need(p, 46, "a zip directory entry");
    if (r.u(p, 4) != 0x02014b50) r.fail("bad zip directory entry " + std::to_string(e));
    const uint64_t method = r.u(p + 10, 2), crc = r.u(p + 16, 4);
    uint64_t csize = r.u(p + 20, 4), usize = r.u(p + 24, 4), local = r.u(p + 42, 4);
    const uint64_t nlen = r.u(p + 28, 2), xlen = r.u(p + 30, 2), clen = r.u(p + 32, 2);
    r.need(p + 46, nlen + xlen + clen, "a zip directory entry");
    const std::string name(reinterpret_cast<const char*>(r.d + p + 46), nlen);
    // ZIP64 extended information: the 64-bit forms of the fields saturated above, in this order.
    for (uint64_t x = p + 46 + nlen, end = x + xlen; x + 4 <= end;) {
      const uint64_t id = r.u(x, 2), len = r.u(x + 2, 2);
      if (x + 4 + len > end) r.fail("bad extra field of record '" + name + "'");
      if (id == 0x0001) {
        uint64_t q = x + 4;
        auto take = [&](uint64_t& f) {
          if (f != 0xFFFFFFFF) return;
          if (q + 8 > x + 4 + len) r.fail("short ZIP64 field of record '" + name + "'");
          f = r.u(q, 8);
          q += 8;
        };
        take(usize);
        take(csize);
        take(local);
      }
      x += 4 + len;
    }
    if (!names.insert(name).second) r.fail("record '" + name + "' appears twice");
    if (method != 0 && method != 8)
      r.fail("record '" + name + "' uses compression method " + std::to_string(method) + " (stored or deflate only)");
    if (method == 0 && csize != usize) r.fail("record '" + name + "' has inconsistent sizes");
    r.need(local, 30, "a zip local header");
    if (r.u(local, 4) != 0x04034b50) r.fail("bad local header of record '" + name + "'");
    const uint64_t data = local + 30 + r.u(local + 26, 2) + r.u(local + 28, 2);
    r.need(data, csize, "the data of a record");
    uint32_t got = 0;
    if (method == 0) {
      got = crc32(r.d + data, static_cast<size_t>(usize));
    } else {  // deflate: inflate in bounded chunks, never more than the recorded size
      z_stream z{};
      if (inflateInit2(&z, -MAX_WBITS) != Z_OK) r.fail("cannot inflate record '" + name + "'");
      std::vector<uint8_t> out(1 << 16);
      uint64_t in_left = csize, produced = 0;
      const uint8_t* in = r.d + data;
      uint32_t c = 0;
      int zr = Z_OK;
      while (zr != Z_STREAM_END) {
        if (z.avail_in == 0) {
          const uInt take = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
          z.next_in = const_cast<Bytef*>(in);
          z.avail_in = take;
          in += take;
          in_left -= take;
        }
        z.next_out = out.data();
        z.avail_out = static_cast<uInt>(out.size());
        zr = inflate(&z, Z_NO_FLUSH);
        const uint64_t n = out.size() - z.avail_out;
        produced += n;
        if ((zr != Z_OK && zr != Z_STREAM_END) || produced > usize || (zr == Z_OK && n == 0 && z.avail_in == 0 && in_left == 0)) {
          inflateEnd(&z);
          r.fail("record '" + name + "' does not inflate to its recorded size: the file was damaged");
        }
        c = static_cast<uint32_t>(::crc32(c, out.data(), static_cast<uInt>(n)));
      }
      inflateEnd(&z);
      if (produced != usize) r.fail("record '" + name + "' does not inflate to its recorded size: the file was damaged");
      got = c;
    }
    if (got != crc) r.fail("record '" + name + "' does not match its CRC-32: the file was damaged");
    p += 46 + nlen + xlen + clen;
  }
}

std::string read_checkpoint(const std::string& path) {
  std::string bytes = read_file(path, InputKind::Checkpoint);
  verify_zip_checksums(bytes, path);
  return bytes;
}

std::string config_difference(const nlohmann::json& saved, const nlohmann::json& current) {
  if (saved == current) return "";
  if (!saved.is_object() || !current.is_object()) return "the checkpoint's settings are not readable";
  std::set<std::string> keys;
  for (auto it = saved.begin(); it != saved.end(); ++it) keys.insert(it.key());
  for (auto it = current.begin(); it != current.end(); ++it) keys.insert(it.key());
  std::vector<std::string> diffs;
  auto show = [](const nlohmann::json& o, const std::string& k) {
    if (!o.contains(k)) return std::string("absent");
    std::string s = o[k].dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  };
  for (const auto& k : keys) {
    const bool a = saved.contains(k), b = current.contains(k);
    if (a && b && saved[k] == current[k]) continue;
    diffs.push_back("'" + k + "' (checkpoint " + show(saved, k) + ", this run " + show(current, k) + ")");
  }
  std::string out;
  for (size_t i = 0; i < diffs.size() && i < 4; ++i) out += (i ? ", " : "") + diffs[i];
  if (diffs.size() > 4) out += " and " + std::to_string(diffs.size() - 4) + " more";
  return out;
}

}  // namespace cimsim::enos
