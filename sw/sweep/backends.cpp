#include "cimsim/sweep/backends.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/sweep/process.hpp"
#include "cimsim/sweep/results.hpp"

namespace cimsim::sweep {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string mmss(double s) {
  const long t = static_cast<long>(s + 0.5);
  char b[32];
  if (t >= 3600) std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(b, sizeof b, "%ld:%02ld", t / 60, t % 60);
  return b;
}

std::string shq(const std::string& s) {  // POSIX shell single quotes
  std::string o = "'";
  for (char ch : s) o += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return o + "'";
}

std::string first_line(const std::string& s) {
  const auto n = s.find('\n');
  return n == std::string::npos ? s : s.substr(0, n) + " ...";
}

void summary_line(const Collected& col, const Spec& s, const std::string& out, std::ostream& os) {
  os << "sweep " << s.name << ": " << col.done << "/" << s.points.size() << " done, " << col.failed << " failed";
  if (col.running) os << ", " << col.running << " running";
  if (col.pending) os << ", " << col.pending << " pending";
  os << "\n  merged table: " << out << "/merged.csv, summary: " << out << "/summary.json";
  size_t plots = 0;
  for (const auto& w : col.written) plots += w.size() > 4 && w.compare(w.size() - 4, 4, ".png") == 0;
  if (plots) os << ", " << plots << " plot(s) in " << out << "/plots";
  os << "\n";
}

}  // namespace

std::vector<std::string> runner_argv(const Context& c, std::size_t index) {
  return {c.exe, "sweep", c.spec, "--out", c.out, "--point", std::to_string(index)};
}

std::vector<std::size_t> todo_points(const Spec& s, const std::string& out) {
  std::vector<std::size_t> v;
  for (const auto& p : s.points) {
    const State st = read_status(s, out, p).state;
    if (st != State::Done && st != State::Running) v.push_back(p.index);
  }
  return v;
}

int run_local(const Spec& s, const Context& c, int jobs, std::ostream& os, bool tty) {
  jobs = std::max(1, jobs);
  const std::vector<std::size_t> todo = todo_points(s, c.out);
  const size_t total = s.points.size();
  size_t done = total - todo.size(), ok = 0, failed = 0;
  os << "sweep " << s.name << ": " << total << " points, " << done << " already done or running, " << todo.size()
     << " to run, " << jobs << " at a time; output " << c.out << "\n";
  std::map<pid_t, std::pair<size_t, std::chrono::steady_clock::time_point>> running;
  const auto t0 = std::chrono::steady_clock::now();
  double busy = 0;  // summed wall time of the points finished in this session
  size_t next = 0;
  auto draw = [&](const std::string& event) {
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const size_t left = total - done;
    std::string eta = "--";
    if (ok + failed > 0 && left > 0)
      eta = mmss(busy / static_cast<double>(ok + failed) * static_cast<double>(left) /
                 static_cast<double>(std::min<size_t>(static_cast<size_t>(jobs), left)));
    else if (left == 0)
      eta = "0:00";
    const int width = 30;
    const int fill = total ? static_cast<int>(width * done / total) : width;
    std::ostringstream l;
    l << "[" << std::string(fill, '#') << std::string(width - fill, '.') << "] " << done << "/" << total << " done";
    if (failed) l << " (" << failed << " failed)";
    l << ", " << running.size() << " running, " << mmss(el) << " elapsed, ETA " << eta;
    if (tty) {
      os << "\r" << l.str() << "\033[K" << std::flush;
    } else {
      os << l.str() << (event.empty() ? "" : "  " + event) << "\n" << std::flush;
    }
  };
  draw("");
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && running.size() < static_cast<size_t>(jobs)) {
      const Point& p = s.points[todo[next++]];
      const std::string dir = point_dir(c.out, p);
      std::error_code ec;
      fs::create_directories(dir, ec);
      const pid_t pid = spawn(runner_argv(c, p.index), dir + "/runner.log", dir + "/runner.log", true);
      running[pid] = {p.index, std::chrono::steady_clock::now()};
    }
    pid_t pid = 0;
    const int rc = wait_any(pid);
    if (rc < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const Point& p = s.points[it->second.first];
    busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.second).count();
    running.erase(it);
    ++done;
    std::string event;
    if (rc == 0) {
      ++ok;
      event = "point " + std::to_string(p.index) + " " + p.name + " done";
    } else if (rc == 75) {  // another runner holds the point (a second sweep on the same output)
      event = "point " + std::to_string(p.index) + " " + p.name + " skipped: another process is running it";
    } else {
      ++failed;
      const PointStatus st = read_status(s, c.out, p);
      std::string why = st.error.empty() ? "runner exit status " + std::to_string(rc) : st.error;
      event = "point " + std::to_string(p.index) + " " + p.name + " FAILED: " + first_line(why);
      if (tty) os << "\r\033[K" << event << "\n";
    }
    draw(event);
  }
  if (tty) os << "\n";
  const Collected col = collect(s, c.out);
  summary_line(col, s, c.out, os);
  return col.done == total ? 0 : 1;
}

std::string array_ranges(const std::vector<std::size_t>& idx) {
  std::string o;
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && idx[j + 1] == idx[j] + 1) ++j;
    o += (o.empty() ? "" : ",") + std::to_string(idx[i]) + (j > i ? "-" + std::to_string(idx[j]) : "");
    i = j + 1;
  }
  return o;
}

std::string sbatch_script(const Spec& s, const Context& c, const std::vector<std::size_t>& todo) {
  const Resources& r = s.resources;
  std::ostringstream o;
  o << "#!/bin/bash\n"
    << "#SBATCH --job-name=cimsim-" << s.name << "\n"
    << "#SBATCH --array=" << array_ranges(todo) << (r.max_parallel > 0 ? "%" + std::to_string(r.max_parallel) : "")
    << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << r.cpus << "\n"
    << "#SBATCH --mem=" << r.mem << "\n"
    << "#SBATCH --time=" << r.time << "\n";
  if (!r.partition.empty()) o << "#SBATCH --partition=" << r.partition << "\n";
  if (!r.account.empty()) o << "#SBATCH --account=" << r.account << "\n";
  if (!r.qos.empty()) o << "#SBATCH --qos=" << r.qos << "\n";
  for (const auto& e : r.extra) o << "#SBATCH " << e << "\n";
  o << "#SBATCH --output=" << c.out << "/slurm/logs/%A_%a.out\n"
    << "#SBATCH --chdir=" << c.workdir << "\n"
    << "# Written by `cimsim sweep " << s.path << " --slurm`: one sweep point per array task, run by the same\n"
    << "# per-point runner as the local backend. The binary, the spec, the inputs and " << c.out << "\n"
    << "# must be on a filesystem every node sees at the same path (docs/sweeps.md).\n"
    << "set -eu\n"
    << "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}\n"
    << "exec " << shq(c.exe) << " sweep " << shq(c.spec) << " --out " << shq(c.out)
    << " --point \"$SLURM_ARRAY_TASK_ID\"\n";
  return o.str();
}

int submit_slurm(const Spec& s, const Context& c, bool dry_run, std::ostream& os) {
  const std::vector<std::size_t> todo = todo_points(s, c.out);
  if (todo.empty()) {
    os << "sweep " << s.name << ": nothing to submit, every point is done or running\n";
    return 0;
  }
  const std::string sbatch = find_program("sbatch");
  if (!dry_run && sbatch.empty())
    throw SlurmError("sbatch not found on PATH: Slurm is not installed on this machine (run locally with --jobs N, "
                     "or write the script only with --slurm --dry-run)", 2);
  const std::string script = c.out + "/slurm/" + s.name + ".sbatch";
  std::error_code ec;
  fs::create_directories(c.out + "/slurm/logs", ec);
  if (ec) throw IoError("cannot create " + c.out + "/slurm/logs: " + ec.message());
  // The array tasks read a snapshot of the spec: editing the spec while the job waits in the queue cannot
  // shift the point indices under it.
  Context snap = c;
  snap.spec = c.out + "/slurm/" + s.name + ".spec.yaml";
  atomic_write(snap.spec, read_file(c.spec));
  atomic_write(script, sbatch_script(s, snap, todo));
  if (dry_run) {
    os << "wrote " << script << " (" << todo.size() << " array tasks, --array=" << array_ranges(todo)
       << "); not submitted (--dry-run). Submit with: sbatch " << script << "\n";
    return 0;
  }
  std::string out;
  const int rc = run_capture({sbatch, "--parsable", script}, out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (rc != 0) throw SlurmError("sbatch failed (exit status " + std::to_string(rc) + ") for " + script + ": " + out, 3);
  const std::string jid = out.substr(out.find_last_of('\n') == std::string::npos ? 0 : out.find_last_of('\n') + 1);
  const std::string job = jid.substr(0, jid.find(';'));
  if (job.empty() || job.find_first_not_of("0123456789") != std::string::npos)
    throw SlurmError("sbatch returned no job id for " + script + ": " + out, 3);
  const std::string jobs_path = c.out + "/slurm/jobs.json";
  json jobs = json::array();
  try {
    if (fs::exists(jobs_path)) jobs = json::parse(read_file(jobs_path));
  } catch (const std::exception&) {
    jobs = json::array();
  }
  if (!jobs.is_array()) jobs = json::array();
  jobs.push_back({{"job_id", job}, {"array", array_ranges(todo)}, {"tasks", todo.size()}, {"script", script}});
  atomic_write_json(jobs_path, jobs);
  os << "submitted Slurm job " << job << ": " << todo.size() << " array tasks (--array=" << array_ranges(todo)
     << (s.resources.max_parallel > 0 ? "%" + std::to_string(s.resources.max_parallel) : "") << "); follow with: cimsim sweep " << s.path << " --status, merge with --collect\n";
  return 0;
}

int print_status(const Spec& s, const Context& c, std::ostream& os) {
  std::map<State, size_t> n;
  std::vector<std::string> lines;
  for (const auto& p : s.points) {
    const PointStatus st = read_status(s, c.out, p);
    ++n[st.state];
    if (st.state == State::Failed || st.state == State::Running || !st.error.empty())
      lines.push_back("  " + std::to_string(p.index) + " " + p.name + ": " + state_name(st.state) +
                      (st.error.empty() ? "" : ": " + first_line(st.error)));
  }
  os << "sweep " << s.name << " (" << c.out << "): " << s.points.size() << " points, " << n[State::Done] << " done, "
     << n[State::Failed] << " failed, " << n[State::Running] << " running, " << n[State::Pending] << " pending\n";
  for (const auto& l : lines) os << l << "\n";
  const std::string jobs_path = c.out + "/slurm/jobs.json";
  if (fs::exists(jobs_path)) {
    std::string job;
    try {
      const json jobs = json::parse(read_file(jobs_path));
      if (jobs.is_array() && !jobs.empty()) job = jobs.back().value("job_id", "");
    } catch (const std::exception&) {
    }
    const std::string squeue = find_program("squeue");
    if (!job.empty() && !squeue.empty()) {
      std::string out;
      const int rc = run_capture({squeue, "-h", "-r", "-j", job, "-o", "%T"}, out);
      std::map<std::string, size_t> q;
      std::istringstream is(out);
      for (std::string l; std::getline(is, l);)
        if (!l.empty()) ++q[l];
      os << "Slurm job " << job << ": ";
      if (rc != 0 || q.empty()) os << "no tasks left in the queue";
      for (auto it = q.begin(); it != q.end(); ++it) os << (it == q.begin() ? "" : ", ") << it->second << " " << it->first;
      os << "\n";
    } else if (!job.empty()) {
      os << "Slurm job " << job << " (squeue not available here)\n";
    }
  }
  return 0;
}

}  // namespace cimsim::sweep
