// synack/core/sim_scheduler.hpp: a scheduler without I/O, on virtual time.
//
// For sans-IO simulations (two stacks over link::sim) and tests that need no kernel: it
// runs the same turn as the io_uring loop (read the clock once, expire timers, drain the
// ready queue, run turn hooks) and, when nothing is ready, jumps its manual clock to the
// earliest timer instead of waiting. It needs no liburing, so it works with the synack::core
// target. `shutdown()` (also run by the destructor) resumes what is ready, then destroys
// suspended spawned tasks.
#pragma once

#include <stdexcept>

#include "synack/core/concepts.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/core/sync_wait.hpp"
#include "synack/time/clock.hpp"
#include "synack/time/instant.hpp"

namespace synack {

class sim_scheduler final : public scheduler {
public:
  explicit sim_scheduler(instant start = instant{}) noexcept : scheduler(start), m_clock(start) {}
  ~sim_scheduler() override { shutdown(); }

  /// The virtual clock; tests may also advance it by hand between turns.
  auto clock() noexcept -> manual_clock& { return m_clock; }

  /// Runs one turn. Returns false if nothing can happen any more.
  auto run_once() -> bool {
    if (closed()) return false;
    running_guard guard(*this);
    set_now(m_clock.now());
    begin_turn();
    expire_timers();
    run_ready();
    run_turn_hooks();
    if (has_ready()) return true;
    if (auto deadline = next_deadline()) {
      m_clock.set(*deadline);
      return true;
    }
    return false;
  }

  /// Runs turns until nothing can happen any more.
  void run() {
    while (run_once()) {}
  }

  auto run_until_done(const bool& done) -> bool override {
    while (!done && run_once()) {}
    return done;
  }

  /// sync_wait(*this, a).
  template <awaitable A>
  auto run_until(A&& a) -> sync_wait_result_t<A> {
    return sync_wait(*this, std::forward<A>(a));
  }

  /// Like the io_uring loop's shutdown (io/loop.hpp): resumes the coroutines that are ready
  /// (each once; nothing is in flight here to cancel), then destroys suspended spawned tasks
  /// and forgets pending work (timers, next-turn yields). Idempotent; not from inside a turn.
  void shutdown() {
    if (closed()) return;
    {
      running_guard guard(*this);
      while (has_ready_now()) run_ready();
    }
    destroy_spawned();
    forget_pending();
  }

private:
  manual_clock m_clock;
};

} // namespace synack
