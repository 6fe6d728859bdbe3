// synack/core/detail/trampoline.hpp: resumption without stack growth, whatever the compiler.
//
// Symmetric transfer (an await_suspend returning the next coroutine's handle) only keeps the
// stack flat if the compiler turns the resume into a tail call. GCC 12 does at -O2, but not at
// -O0/-O1 and not with -fsanitize=address: a loop of a million awaits of already-complete
// tasks then overflows the stack (measured; see docs/runtime.md). clang always does.
//
// So every place in synack that resumes a coroutine goes through `resume()`, which runs a
// trampoline: while it is active, `transfer(h)` records `h` and returns noop_coroutine(), the
// coroutine that was running returns to the trampoline, and the trampoline resumes `h`. The
// stack depth is then bounded by one frame whatever the compiler does. Outside a trampoline
// (a coroutine resumed by foreign code), `transfer(h)` is plain symmetric transfer.
// The state is thread_local: every thread has its own trampoline.
#pragma once

#include <coroutine>
#include <utility>

namespace synack::detail {

struct trampoline_state {
  std::coroutine_handle<> next{};
  bool active = false;
};

inline thread_local trampoline_state t_trampoline{};

/// What an await_suspend or final awaiter returns to hand control to `h`.
inline auto transfer(std::coroutine_handle<> h) noexcept -> std::coroutine_handle<> {
  trampoline_state& t = t_trampoline;
  if (t.active) {
    t.next = h;
    return std::noop_coroutine();
  }
  return h;
}

/// Resumes `h`, and every coroutine it transfers to, on a trampoline. Nests safely.
inline void resume(std::coroutine_handle<> h) {
  trampoline_state& t = t_trampoline;
  struct restore {
    trampoline_state& t;
    bool active;
    std::coroutine_handle<> next;
    ~restore() {
      t.active = active;
      t.next = next;
    }
  } guard{t, t.active, std::exchange(t.next, {})};
  t.active = true;
  while (h) {
    h.resume();
    h = std::exchange(t.next, {});
  }
}

} // namespace synack::detail
