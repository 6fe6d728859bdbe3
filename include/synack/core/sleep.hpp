// synack/core/sleep.hpp: `sleep_for` and `sleep_until`, coroutine timers on the scheduler.
//
// Contract: `co_await sleep_until(s, t)` resumes in the first turn whose now() is at or after
// `t` and yields an empty `expected<void, std::error_code>`; a deadline already passed
// completes without suspending. With a stop token, a stop request while sleeping disarms the
// timer and resumes (via the ready queue) with std::errc::operation_canceled. Destroying a
// suspended sleeper's frame disarms its timer. `sleep_for(s, d)` is `sleep_until(s, s.now()
// + d)`, with now() taken when sleep_for is called. No allocation. `.or_throw()` throws the
// error as a std::system_error (core/or_throw.hpp).
#pragma once

#include <coroutine>
#include <stop_token>
#include <system_error>
#include <utility>

#include "synack/core/cancellation.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/core/timer.hpp"
#include "synack/time/instant.hpp"
#include "synack/util/expected.hpp"

namespace synack {

/// The awaitable returned by sleep_for / sleep_until.
class [[nodiscard]] sleep_op : private timer_node {
public:
  sleep_op(scheduler& s, instant deadline, std::stop_token token = {}) noexcept
      : timer_node(&on_timer), m_scheduler(&s), m_deadline(deadline), m_token(std::move(token)) {}
  sleep_op(sleep_op&& o) noexcept
      : timer_node(&on_timer), m_scheduler(o.m_scheduler), m_deadline(o.m_deadline), m_token(std::move(o.m_token)) {}
  auto operator=(sleep_op&&) -> sleep_op& = delete;

  auto await_ready() noexcept -> bool {
    if (m_token.stop_requested()) {
      m_canceled = true;
      return true;
    }
    return m_deadline <= m_scheduler->now();
  }
  void await_suspend(std::coroutine_handle<> h) {
    m_node.set_handle(h);
    m_scheduler->arm(*this, m_deadline);
    if (m_token.stop_possible()) m_stop.emplace(m_token, on_stop{this});
  }
  auto await_resume() noexcept -> expected<void, std::error_code> {
    m_stop.reset();
    if (m_canceled) return unexpected(operation_canceled_error());
    return {};
  }

  void set_stop_token(std::stop_token t) noexcept { m_token = std::move(t); }
  auto get_stop_token() const noexcept -> std::stop_token { return m_token; }
  auto get_scheduler() const noexcept -> scheduler& { return *m_scheduler; }
  auto deadline() const noexcept -> instant { return m_deadline; }
  /// Yields nothing, or throws std::system_error (operation_canceled when stopped).
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: sleep"); }

private:
  struct on_stop {
    sleep_op* self;
    void operator()() const noexcept {
      if (!self->armed()) return; // already fired: the wake-up is queued
      self->m_scheduler->disarm(*self);
      self->m_canceled = true;
      self->m_scheduler->schedule(self->m_node);
    }
  };

  static void on_timer(timer_node& n) {
    auto& self = static_cast<sleep_op&>(n);
    self.m_scheduler->schedule(self.m_node);
  }

  scheduler* m_scheduler;
  instant m_deadline;
  std::stop_token m_token;
  detail::stop_callback_slot<on_stop> m_stop;
  ready_node m_node;
  bool m_canceled = false;
};

/// Sleeps until `deadline` (in the scheduler's clock).
inline auto sleep_until(scheduler& s, instant deadline, std::stop_token token = {}) noexcept -> sleep_op {
  return sleep_op(s, deadline, std::move(token));
}

/// Sleeps for `d` from now().
inline auto sleep_for(scheduler& s, duration d, std::stop_token token = {}) noexcept -> sleep_op {
  return sleep_op(s, s.now() + d, std::move(token));
}

static_assert(stoppable_awaitable<sleep_op>);

} // namespace synack
