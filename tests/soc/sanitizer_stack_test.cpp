// ASan's record of the running stack across SystemC coroutine switches (include/cimsim/soc/sanitizer_stack.hpp,
// models/soc/sanitizer_stack.cpp). Meaningful in the sanitizer build (scripts/test.sh --sanitize); skipped
// elsewhere. The four scenario tests fail with Debian's libsystemc 2.3.4 alone: the record read [0, 0) on the
// main stack after sc_start returned, and the ended thread's (unmapped) stack after an SC_THREAD returned.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>
#include <systemc>

#include "cimsim/soc/sanitizer_stack.hpp"

using namespace cimsim;
using namespace sc_core;

namespace {

bool record_holds_here() {
  const int here = 0;
  return asan_thread_stack().contains(&here);
}

// A returns after 1 ns and wakes B as it ends, so SystemC switches from the ending A straight to B
// (sc_cor_pkg_qt::abort). `forever` keeps B waiting instead of ending.
struct Pair : sc_module {
  sc_event a_done;
  bool forever;
  bool b_ran = false;
  StackRange a_stack;
  SC_HAS_PROCESS(Pair);
  Pair(sc_module_name n, bool forever_) : sc_module(n), forever(forever_) {
    SC_THREAD(a);
    SC_THREAD(b);
  }
  void a() {
    wait(1, SC_NS);
    a_stack = asan_thread_stack();
    a_done.notify();  // immediate: B is runnable when A ends
  }
  void b() {
    wait(a_done);
    b_ran = true;
    for (int i = 0; i < 3; ++i) try {  // unwinding on B's stack with the record right
        throw std::runtime_error("b");
      } catch (const std::runtime_error&) {
      }
    if (forever) wait();
  }
};

// Two threads that wake at the same time and end: the first to run ends while the other waits in SystemC's
// run queue, so SystemC switches from the ending thread straight to it (sc_cor_pkg_qt::abort).
struct Twins : sc_module {
  int ran = 0, record_ok = 0;
  SC_HAS_PROCESS(Twins);
  explicit Twins(sc_module_name n) : sc_module(n) {
    SC_THREAD(run);
    SC_THREAD(run);
  }
  void run() {
    wait(1, SC_NS);
    ++ran;
    record_ok += record_holds_here() ? 1 : 0;
  }
};

[[noreturn]] void thrower(int depth) {
  volatile char pad[64] = {};
  (void)pad;
  if (depth == 0) throw std::runtime_error("main");
  thrower(depth - 1);
}

}  // namespace

TEST(SanitizerStack, MainStackIsAnnouncedWhenTheSimulationReturns) {
  if (!asan_active()) GTEST_SKIP() << "not an AddressSanitizer build";
  Pair p("p", true);  // B never ends: the last switch is B's yield back to the main coroutine
  sc_start(10, SC_NS);
  ASSERT_TRUE(p.b_ran);
  EXPECT_TRUE(record_holds_here());
  // what cimsim run did when its report could not be written (cli_bad_input.run_report_fifo): with the record
  // at [0, 0) ASan skipped the unwinding cleanup and then reported a stack-buffer-overflow of its own
  for (int i = 0; i < 3; ++i) EXPECT_THROW(thrower(4), std::runtime_error);
}

TEST(SanitizerStack, NextThreadIsAnnouncedWhenAThreadEnds) {
  if (!asan_active()) GTEST_SKIP() << "not an AddressSanitizer build";
  Twins t("t");
  sc_start();
  ASSERT_EQ(t.ran, 2);
  EXPECT_EQ(t.record_ok, 2) << "the second thread ran with ASan's record still on the first's ended stack";
}

TEST(SanitizerStack, MainStackIsAnnouncedWhenTheLastThreadEnds) {
  if (!asan_active()) GTEST_SKIP() << "not an AddressSanitizer build";
  Pair p("p", false);  // both end; the last switch is an ending thread's to the main coroutine
  sc_start();
  ASSERT_TRUE(p.b_ran);
  EXPECT_TRUE(record_holds_here());
}

// The crash of the RouterMemory tests made deterministic: the ended thread's stack is unmapped by now and its
// range may be reused by a mapping with an inaccessible page. A record still pointing there made
// LeakSanitizer's exit scan of "the stack" die (SIGSEGV in its tracer). The test maps such a trap over A's old
// stack and exits; ctest runs it with detect_leaks=1, so a crash at exit fails it.
TEST(SanitizerStack, LeakCheckAtExitSurvivesAnEndedThread) {
  if (!asan_active()) GTEST_SKIP() << "not an AddressSanitizer build";
  Pair p("p", false);
  sc_start();
  ASSERT_GT(p.a_stack.size, 3u * 4096u);
  const long page = sysconf(_SC_PAGESIZE);
  void* m = mmap(const_cast<void*>(p.a_stack.bottom), p.a_stack.size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  ASSERT_EQ(m, p.a_stack.bottom) << "the ended thread's stack is still mapped";
  ASSERT_EQ(mprotect(static_cast<char*>(m) + 2 * page, static_cast<size_t>(page), PROT_NONE), 0);
  // the mapping stays until exit on purpose
}

TEST(SanitizerStack, ResyncAnnouncesTheThreadsOwnStack) {
  if (!asan_active()) GTEST_SKIP() << "not an AddressSanitizer build";
  asan_resync_thread_stack();
  EXPECT_TRUE(record_holds_here());
  EXPECT_TRUE(record_holds_here());  // reading the record leaves it unchanged
}
