#pragma once
// AddressSanitizer + SystemC 2.3.4 QuickThreads: keeps ASan's record of the thread's stack right.
//
// Debian's libsystemc 2.3.4 tells ASan about coroutine switches (__sanitizer_start/finish_switch_fiber in
// sc_cor_pkg_qt::yield) but (1) announces the main coroutine's stack as [0, 0) and (2) says nothing when an
// ending SC_THREAD leaves its coroutine (sc_cor_pkg_qt::abort). ASan's record of the running stack is then
// wrong: after (1), unwinding an exception on the main stack skips ASan's stack cleanup and false
// stack-buffer-overflow reports follow; after (2), the record keeps the ended thread's stack, which SystemC
// later munmaps; when the range is reused by a mapping with an inaccessible page, LeakSanitizer's exit scan of
// "the stack" crashes. SystemC 3.0 annotates both switches.
//
// In an ASan build, models/soc/sanitizer_stack.cpp supplies the missing annotations for every program that
// links cimsim_soc. Without ASan everything here is a no-op.
#include <cstddef>

namespace cimsim {

/// True when this build runs under AddressSanitizer.
bool asan_active();

/// Re-announces the calling thread's own stack (pthread_getattr_np) to ASan as the current stack. Call only
/// from a thread's own stack (not from inside an SC_THREAD). No-op without ASan.
void asan_resync_thread_stack();

/// The stack range ASan currently records for the calling thread ({nullptr, 0} without ASan). For tests.
struct StackRange {
  const void* bottom = nullptr;
  std::size_t size = 0;
  bool contains(const void* p) const {
    auto a = reinterpret_cast<std::size_t>(p), b = reinterpret_cast<std::size_t>(bottom);
    return a >= b && a - b < size;
  }
};
StackRange asan_thread_stack();

}  // namespace cimsim
