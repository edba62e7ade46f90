#include "cimsim/soc/vcd_trace.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace cimsim {
namespace fs = std::filesystem;

VcdTrace::VcdTrace(const std::string& path, sc_core::sc_time_unit unit) {
  fs::path p(path);
  if (p.extension() == ".vcd") p.replace_extension();
  // Relative paths are relative to the working directory; a bare name goes under $CIMSIM_TRACES when that is
  // set (the test suite's way of keeping traces out of the tree).
  if (const char* env = std::getenv("CIMSIM_TRACES"); env && *env && p.is_relative() && !p.has_parent_path())
    p = fs::path(env) / p;
  final_ = p.string() + ".vcd";
  auto fail = [&](const std::string& what, int err) {
    discard();
    throw IoError("cannot write VCD trace " + final_ + ": " + what + ": " + std::strerror(err));
  };
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) fail("cannot create directory " + p.parent_path().string(), ec.value());
  }
  check_replaceable(final_);
  // The temporary that receives the checked copy (same directory: the final rename stays atomic).
  std::string tmpl = p.string() + ".vcd.tmpXXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  out_fd_ = ::mkstemp(buf.data());
  if (out_fd_ < 0) fail("cannot create a temporary file", errno);
  tmp_path_ = buf.data();
  {  // mkstemp creates 0600; a trace is an ordinary output file (0644 less the umask)
    const mode_t um = ::umask(0);
    ::umask(um);
    if (::fchmod(out_fd_, 0644 & ~um) != 0) fail("cannot set the file mode", errno);
  }
  // The FIFO SystemC writes into (SystemC appends ".vcd" to the stem it is given).
  fifo_stem_ = tmp_path_ + ".fifo";
  fifo_path_ = fifo_stem_ + ".vcd";
  if (::mkfifo(fifo_path_.c_str(), 0600) != 0) fail("cannot create a FIFO", errno);
  // Open the read end without blocking, then hold a write end ourselves so that the reader sees end-of-file
  // only once SystemC has closed its end and close() has released ours.
  fifo_rd_ = ::open(fifo_path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo_rd_ < 0) fail("cannot open the FIFO", errno);
  fifo_keep_ = ::open(fifo_path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo_keep_ < 0) fail("cannot open the FIFO", errno);
  const int fl = ::fcntl(fifo_rd_, F_GETFL);
  if (fl < 0 || ::fcntl(fifo_rd_, F_SETFL, fl & ~O_NONBLOCK) != 0) fail("cannot configure the FIFO", errno);
  reader_ = std::thread([this] { pump(); });
  tf_ = sc_core::sc_create_vcd_trace_file(fifo_stem_.c_str());
  tf_->set_time_unit(1, unit);
}

void VcdTrace::pump() {
  std::vector<char> buf(1 << 16);
  for (;;) {
    const ssize_t n = ::read(fifo_rd_, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      write_errno_ = errno;
      break;
    }
    if (write_errno_ != 0) continue;  // keep draining so that SystemC never blocks, but write nothing more
    const char* q = buf.data();
    size_t left = static_cast<size_t>(n);
    while (left > 0) {
      const ssize_t w = ::write(out_fd_, q, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        write_errno_ = w < 0 ? errno : EIO;
        break;
      }
      q += w;
      left -= static_cast<size_t>(w);
    }
  }
}

void VcdTrace::discard() {
  if (tf_) {
    sc_core::sc_close_vcd_trace_file(tf_);
    tf_ = nullptr;
  }
  if (fifo_keep_ >= 0) ::close(fifo_keep_);
  fifo_keep_ = -1;
  if (reader_.joinable()) reader_.join();
  if (fifo_rd_ >= 0) ::close(fifo_rd_);
  fifo_rd_ = -1;
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
  if (!fifo_path_.empty()) ::unlink(fifo_path_.c_str());
  if (!tmp_path_.empty()) ::unlink(tmp_path_.c_str());
  fifo_path_.clear();
  tmp_path_.clear();
}

std::string VcdTrace::close() {
  if (closed_) return final_;
  closed_ = true;
  sc_core::sc_close_vcd_trace_file(tf_);  // SystemC writes its last time stamp and closes its end
  tf_ = nullptr;
  ::close(fifo_keep_);
  fifo_keep_ = -1;
  reader_.join();  // drains to end-of-file
  int err = write_errno_;
  if (err == 0 && ::fsync(out_fd_) != 0) err = errno;
  if (::close(out_fd_) != 0 && err == 0) err = errno;
  out_fd_ = -1;
  if (err == 0) {
    try {
      check_replaceable(final_);
    } catch (const IoError&) {
      discard();
      throw;
    }
    if (std::rename(tmp_path_.c_str(), final_.c_str()) != 0) err = errno;
    else tmp_path_.clear();
  }
  discard();
  if (err != 0) throw IoError("cannot write VCD trace " + final_ + ": " + std::strerror(err) + " (no trace written)");
  return final_;
}

VcdTrace::~VcdTrace() {
  closed_ = true;
  discard();
}

std::string cycles_per_second_report(uint64_t cycles, double wall_seconds) {
  std::ostringstream os;
  os.precision(4);
  os << cycles << " simulated cycles in " << wall_seconds << " s wall = "
     << (wall_seconds > 0 ? static_cast<double>(cycles) / wall_seconds : 0.0) << " cycles/s";
  return os.str();
}

}  // namespace cimsim
