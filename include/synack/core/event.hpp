// synack/core/event.hpp: events that wake coroutines: `single_event` (one waiter,
// auto-reset) and `event` (any number of waiters, manual reset).
//
// The protocol layers use them to wake coroutines when data, window space, a connection or a
// state change arrives. Contract:
// - `set()` never resumes a waiter inline: it moves waiters to the scheduler's ready queue, so
//   it is safe to call from packet processing, timers, hooks and other coroutines.
// - `co_await e.wait()` / `e.wait(token)` yields `expected<void, std::error_code>` (or, with
//   `.or_throw()`, nothing or a std::system_error): empty when
//   woken by set(), std::errc::operation_canceled when stopped through the token.
// - Waiters are woken in FIFO order. A wake-up may be stale by the time the waiter runs (the
//   condition may have changed again): re-check the condition in a loop.
// - Destroying a waiting frame removes its waiter. Destroying an event with waiters leaves
//   them suspended (they are not resumed into an object that may be gone); the loop destroys
//   such frames at shutdown.
// - No allocation: waiters are nodes inside the awaiting frames.
#pragma once

#include <coroutine>
#include <stop_token>
#include <system_error>
#include <utility>

#include "synack/core/cancellation.hpp"
#include "synack/core/detail/intrusive_list.hpp"
#include "synack/core/detail/stop_callback_slot.hpp"
#include "synack/core/or_throw.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/util/expected.hpp"

namespace synack {

namespace detail {

/// A waiter: a ready_node that sits in an event's list until woken.
class event_waiter : public ready_node {
public:
  bool waiting = false;
};

class event_state {
public:
  explicit event_state(scheduler& s) noexcept : m_scheduler(&s) {}

  /// Wakes the oldest waiter; false if there is none.
  auto wake_one() noexcept -> bool {
    event_waiter* w = m_waiters.pop_front();
    if (w == nullptr) return false;
    w->waiting = false;
    m_scheduler->schedule(*w);
    return true;
  }
  void wake_all() noexcept {
    while (wake_one()) {}
  }

  scheduler* m_scheduler;
  intrusive_list<event_waiter> m_waiters;
  bool m_set = false;
  bool m_auto_reset = false;
};

} // namespace detail

/// The awaitable returned by `event::wait` and `single_event::wait`.
class [[nodiscard]] event_wait_op {
public:
  event_wait_op(detail::event_state& e, std::stop_token token) noexcept
      : m_event(&e), m_scheduler(e.m_scheduler), m_token(std::move(token)) {}
  event_wait_op(event_wait_op&& o) noexcept
      : m_event(o.m_event), m_scheduler(o.m_scheduler), m_token(std::move(o.m_token)) {}
  auto operator=(event_wait_op&&) -> event_wait_op& = delete;

  auto await_ready() noexcept -> bool {
    if (m_event->m_set) {
      if (m_event->m_auto_reset) m_event->m_set = false;
      return true;
    }
    if (m_token.stop_requested()) {
      m_canceled = true;
      return true;
    }
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) {
    m_waiter.set_handle(h);
    m_waiter.waiting = true;
    m_event->m_waiters.push_back(m_waiter);
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
  /// Yields nothing, or throws std::system_error (operation_canceled when stopped).
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: event wait"); }

private:
  struct on_stop {
    event_wait_op* self;
    void operator()() const noexcept {
      if (!self->m_waiter.waiting) return; // already woken
      self->m_waiter.unlink();
      self->m_waiter.waiting = false;
      self->m_canceled = true;
      self->m_scheduler->schedule(self->m_waiter);
    }
  };

  detail::event_state* m_event;
  scheduler* m_scheduler; // kept apart from the event, which may die while we wait
  std::stop_token m_token;
  detail::stop_callback_slot<on_stop> m_stop;
  detail::event_waiter m_waiter;
  bool m_canceled = false;
};

/// An event for one waiter (e.g. "this socket has data"), auto-reset: `set()` wakes the
/// waiter if there is one, otherwise remembers the signal so the next wait completes at
/// once and consumes it. With several waiters, set() wakes the oldest.
class single_event {
public:
  explicit single_event(scheduler& s) noexcept : m_state(s) { m_state.m_auto_reset = true; }
  single_event(const single_event&) = delete;
  auto operator=(const single_event&) -> single_event& = delete;

  void set() noexcept {
    if (!m_state.wake_one()) m_state.m_set = true;
  }
  void reset() noexcept { m_state.m_set = false; }
  auto is_set() const noexcept -> bool { return m_state.m_set; }
  auto has_waiter() const noexcept -> bool { return !m_state.m_waiters.empty(); }
  auto wait(std::stop_token token = {}) noexcept -> event_wait_op { return {m_state, std::move(token)}; }

private:
  detail::event_state m_state;
};

/// A broadcast event, manual reset: `set()` wakes every waiter and stays set (waits complete
/// at once) until `reset()`.
class event {
public:
  explicit event(scheduler& s) noexcept : m_state(s) {}
  event(const event&) = delete;
  auto operator=(const event&) -> event& = delete;

  void set() noexcept {
    m_state.m_set = true;
    m_state.wake_all();
  }
  void reset() noexcept { m_state.m_set = false; }
  auto is_set() const noexcept -> bool { return m_state.m_set; }
  auto has_waiters() const noexcept -> bool { return !m_state.m_waiters.empty(); }
  auto wait(std::stop_token token = {}) noexcept -> event_wait_op { return {m_state, std::move(token)}; }

private:
  detail::event_state m_state;
};

static_assert(stoppable_awaitable<event_wait_op>);

} // namespace synack
