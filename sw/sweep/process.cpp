#include "cimsim/sweep/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cimsim/core/error.hpp"

namespace cimsim::sweep {
namespace {

[[noreturn]] void child_exec(const std::vector<std::string>& argv, int out_fd, int err_fd, bool die_with_parent,
                             pid_t parent) {
  if (die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(137);  // parent already gone
  }
  if (out_fd >= 0) ::dup2(out_fd, 1);
  if (err_fd >= 0) ::dup2(err_fd, 2);
  const int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  ::execv(a[0], a.data());
  const std::string msg = "cannot execute " + argv[0] + ": " + std::strerror(errno) + "\n";
  (void)!::write(2, msg.data(), msg.size());
  ::_exit(127);
}

int open_out(const std::string& p) {
  const int fd = ::open(p.empty() ? "/dev/null" : p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError("cannot open " + (p.empty() ? std::string("/dev/null") : p) + ": " + std::strerror(errno));
  return fd;
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

pid_t spawn(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path,
            bool die_with_parent) {
  if (argv.empty()) throw IoError("spawn: empty command");
  const int out_fd = open_out(out_path);
  const int err_fd = err_path == out_path ? out_fd : open_out(err_path);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) child_exec(argv, out_fd, err_fd, die_with_parent, parent);
  const int e = errno;
  ::close(out_fd);
  if (err_fd != out_fd) ::close(err_fd);
  if (pid < 0) throw IoError("cannot fork to run " + argv[0] + ": " + std::strerror(e));
  return pid;
}

int wait_exit(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 1;
  return decode(st);
}

int wait_any(pid_t& pid) {
  int st = 0;
  while ((pid = ::waitpid(-1, &st, 0)) < 0)
    if (errno != EINTR) return -1;
  return decode(st);
}

int run_capture(const std::vector<std::string>& argv, std::string& output) {
  output.clear();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return 127;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) child_exec(argv, fds[1], fds[1], true, parent);
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return 127;
  }
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) output.append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  ::close(fds[0]);
  return wait_exit(pid);
}

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return std::filesystem::absolute(p).string();
  }
  return "";
}

std::string self_exe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw IoError("cannot find the running executable (/proc/self/exe): " + ec.message());
  return p.string();
}

FileLock::FileLock(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError("cannot open lock file " + path + ": " + std::strerror(errno));
}
FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}
bool FileLock::try_lock() { return ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

}  // namespace cimsim::sweep
