// AddressSanitizer + SystemC 2.3.4 QuickThreads: completes the coroutine-switch annotations libsystemc leaves
// out (see include/cimsim/soc/sanitizer_stack.hpp for the why).
//
// Only compiled in when this file is built with ASan (CIMSIM_SANITIZE); otherwise the functions below are
// no-ops and nothing of libsystemc is replaced.
//
// How: libsystemc reaches sc_cor_pkg_qt::abort through its vtable and the two QuickThreads helpers through
// its GOT, all by symbol (R_X86_64_64 / GLOB_DAT relocations, no -Bsymbolic), so definitions of the same
// symbols in the program take precedence (ELF interposition). Each replacement calls libsystemc's own
// function (dlsym(RTLD_NEXT)) and adds only the missing ASan calls:
//  - sc_cor_qt_yieldhelp (runs on the new stack at every switch): after libsystemc's finish_switch_fiber,
//    when the new stack is the thread's own (the main coroutine, which libsystemc announces as [0, 0)),
//    announce the thread's real stack.
//  - sc_cor_pkg_qt::abort (an SC_THREAD ended; libsystemc switches to the next coroutine with no ASan call):
//    start_switch_fiber with the next coroutine's stack before libsystemc's abort, and
//  - sc_cor_qt_aborthelp (runs on the next coroutine's stack): finish_switch_fiber.
// The next coroutine's stack is read from libsystemc's sc_cor_qt object (2.3.4 layout: vptr, m_stack_size,
// m_stack, m_sp), checked first: a coroutine's saved stack pointer must lie inside that stack, and the main
// coroutine has none. An object that fails the check is left to libsystemc's behaviour, with one warning.
#include "cimsim/soc/sanitizer_stack.hpp"

#include <pthread.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define CIMSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CIMSIM_ASAN 1
#endif
#endif

#ifdef CIMSIM_ASAN
#include <dlfcn.h>
#include <sanitizer/common_interface_defs.h>
#endif

#ifdef CIMSIM_ASAN
namespace cimsim {
namespace {

StackRange own_stack_uncached() {
  StackRange r;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return r;
  void* lo = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &lo, &size) == 0) r = {lo, size};
  pthread_attr_destroy(&attr);
  return r;
}

// The calling thread's own stack (pthread_getattr_np reads /proc/self/maps for the main thread: once).
const StackRange& own_stack() {
  thread_local const StackRange r = own_stack_uncached();
  return r;
}

// Makes [bottom, bottom + size) ASan's current stack of this thread; returns the range it had before.
StackRange switch_to(const void* bottom, std::size_t size) {
  StackRange old;
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, bottom, size);
  __sanitizer_finish_switch_fiber(fake, &old.bottom, &old.size);
  return old;
}

bool on_own_stack() {
  const int here = 0;
  return own_stack().contains(&here);
}

// libsystemc 2.3.4's sc_cor_qt, as far as read here.
struct CorQt {
  void* vptr;
  std::size_t m_stack_size;
  void* m_stack;
  void* m_sp;
};

// The stack to announce for coroutine `cor`, or {nullptr, 0} if the object does not look like a 2.3.4 one.
StackRange coroutine_stack(const void* cor) {
  const auto* c = static_cast<const CorQt*>(cor);
  if (c->m_stack == nullptr && c->m_stack_size == 0) return own_stack();  // the main coroutine
  const StackRange r{c->m_stack, c->m_stack_size};
  if (r.size > 0 && r.contains(c->m_sp)) return r;
  static bool warned = false;
  if (!warned) {
    warned = true;
    std::fprintf(stderr, "cimsim: sanitizer_stack: unexpected SystemC coroutine layout; thread ends stay "
                         "unannotated for ASan\n");
  }
  return {};
}

template <class F>
F next_definition(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    std::fprintf(stderr, "cimsim: sanitizer_stack: libsystemc has no %s\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

using Helper = void* (*)(void*, void*, void*);
using Abort = void (*)(void*, void*);
constexpr const char* kAbort = "_ZN7sc_core13sc_cor_pkg_qt5abortEPNS_6sc_corE";

thread_local bool abort_announced = false;

void resync_at_exit() { asan_resync_thread_stack(); }

// Belt and braces for programs that end while ASan's record is off for another reason: re-announce the
// thread's own stack before LeakSanitizer's exit scan (this handler is registered after ASan's, so it runs
// first). The linker keeps this object in every program linking cimsim_soc (--undefined=anchor below).
struct RegisterExitHandler {
  RegisterExitHandler() { std::atexit(resync_at_exit); }
} register_exit_handler;

}  // namespace

bool asan_active() { return true; }

void asan_resync_thread_stack() {
  const StackRange& r = own_stack();
  if (r.size > 0) switch_to(r.bottom, r.size);
}

StackRange asan_thread_stack() {
  const StackRange current = switch_to(nullptr, 0);  // read the record ...
  switch_to(current.bottom, current.size);           // ... and put it back
  return current;
}

}  // namespace cimsim

extern "C" {

void* sc_cor_qt_yieldhelp(void* sp, void* old_cor, void* arg) {
  static const auto real = cimsim::next_definition<cimsim::Helper>("sc_cor_qt_yieldhelp");
  void* r = real(sp, old_cor, arg);
  if (cimsim::on_own_stack()) cimsim::asan_resync_thread_stack();
  return r;
}

void* sc_cor_qt_aborthelp(void* sp, void* old_cor, void* arg) {
  static const auto real = cimsim::next_definition<cimsim::Helper>("sc_cor_qt_aborthelp");
  if (cimsim::abort_announced) {
    cimsim::abort_announced = false;
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
  }
  return real(sp, old_cor, arg);
}

// sc_core::sc_cor_pkg_qt::abort(sc_core::sc_cor*), declared by its mangled name (the class is not in the
// installed headers); `self` is `this`.
void cimsim_sc_cor_pkg_qt_abort(void* self, void* next_cor) __asm__("_ZN7sc_core13sc_cor_pkg_qt5abortEPNS_6sc_corE");
void cimsim_sc_cor_pkg_qt_abort(void* self, void* next_cor) {
  static const auto real = cimsim::next_definition<cimsim::Abort>(cimsim::kAbort);
  const cimsim::StackRange r = cimsim::coroutine_stack(next_cor);
  if (r.size > 0) {
    // nullptr: the ending coroutine never resumes, so ASan may drop its fake stack
    __sanitizer_start_switch_fiber(nullptr, r.bottom, r.size);
    cimsim::abort_announced = true;
  }
  real(self, next_cor);
}

}  // extern "C"

#else  // not an ASan build: nothing to repair

namespace cimsim {
bool asan_active() { return false; }
void asan_resync_thread_stack() {}
StackRange asan_thread_stack() { return {}; }
}  // namespace cimsim

#endif

// Link anchor: makes the linker keep this object (and so the replacements above) in every program that links
// cimsim_soc.
extern "C" void cimsim_sanitizer_stack_anchor() {}
