// synack/core/cancellation.hpp: the cancellation protocol (`stoppable_awaitable`),
// `with_timeout` and `with_deadline`.
//
// Protocol: a stoppable awaitable is an awaiter object (an operation object such as
// io::read_op, sleep_op, event_wait_op, and later the socket's recv/send/connect) that
//   - takes a std::stop_token before it is awaited: `set_stop_token(token)`, and reports the
//     one it has: `get_stop_token()`;
//   - names its scheduler: `get_scheduler()`;
//   - when stop is requested while it is suspended, stops what it waits for (an io_uring
//     operation is cancelled in the kernel with IORING_OP_ASYNC_CANCEL) and resumes its
//     coroutine exactly once, through the ready queue, with an error equal to
//     std::errc::operation_canceled. If the work finished first, its real result wins.
//     If stop was requested before it is awaited, it completes at once with that error.
//   - returns `expected<T, std::error_code>` from await_resume.
// Every synack awaitable also has a factory overload taking the token as its last argument.
//
// `with_timeout(a, d)` / `with_deadline(a, t)` give `a` a stop token of their own, arm a
// timer, and request stop when it fires; the result is `a`'s, except that
// operation_canceled caused by the timer becomes std::errc::timed_out. A token `a` already
// had keeps working (its stop is forwarded, and stays operation_canceled);
// `with_timeout(a, d, token)` gives it that token instead (the same surface as every
// operation: a stop token as the last argument). The result is again a stoppable awaitable,
// so timeouts compose, and it has `.or_throw()` (core/or_throw.hpp) like the operations it
// wraps. Creating one allocates the shared state of one std::stop_source; nothing else
// allocates.
//
// Threads: all of this is single-threaded. Stop requests must come from the loop's thread
// (a stop_callback runs inline in the thread calling request_stop()).
#pragma once

#include <coroutine>
#include <stop_token>
#include <system_error>
#include <type_traits>
#include <utility>

#include "synack/core/concepts.hpp"
#include "synack/core/detail/stop_callback_slot.hpp"
#include "synack/core/or_throw.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/core/timer.hpp"
#include "synack/time/instant.hpp"
#include "synack/util/expected.hpp"

namespace synack {

/// An awaiter that can be cancelled through a std::stop_token. See the header comment.
template <class A>
concept stoppable_awaitable = awaiter<A> && std::move_constructible<A> &&
    requires(A& a, const A& ca, std::stop_token t) {
  a.set_stop_token(std::move(t));
  { ca.get_stop_token() } -> std::convertible_to<std::stop_token>;
  { ca.get_scheduler() } -> std::same_as<scheduler&>;
};

/// The error a stopped awaitable completes with.
inline auto operation_canceled_error() noexcept -> std::error_code {
  return std::make_error_code(std::errc::operation_canceled);
}

/// Awaits `A` with a deadline; created by with_timeout / with_deadline.
template <stoppable_awaitable A>
class [[nodiscard]] timeout_op : private timer_node {
public:
  using result_type = decltype(std::declval<A&>().await_resume());

  timeout_op(A inner, instant deadline) : timer_node(&on_timer), m_inner(std::move(inner)), m_deadline(deadline) {
    m_user_token = m_inner.get_stop_token();
    m_inner.set_stop_token(m_source.get_token());
  }
  timeout_op(timeout_op&& o) noexcept(std::is_nothrow_move_constructible_v<A>)
      : timer_node(&on_timer),
        m_inner(std::move(o.m_inner)),
        m_deadline(o.m_deadline),
        m_source(std::move(o.m_source)),
        m_user_token(std::move(o.m_user_token)) {}
  auto operator=(timeout_op&&) -> timeout_op& = delete;

  auto await_ready() {
    if (m_user_token.stop_requested()) m_source.request_stop();
    return m_inner.await_ready();
  }
  template <class H>
  auto await_suspend(H h) -> decltype(std::declval<A&>().await_suspend(h)) {
    m_inner.get_scheduler().arm(*this, m_deadline);
    if (m_user_token.stop_possible()) m_user_stop.emplace(m_user_token, forward_stop{this});
    return m_inner.await_suspend(h);
  }
  auto await_resume() -> result_type {
    m_inner.get_scheduler().disarm(*this);
    m_user_stop.reset();
    result_type r = m_inner.await_resume();
    if (m_fired && !r.has_value() && r.error() == std::errc::operation_canceled)
      return result_type(unexpect, std::make_error_code(std::errc::timed_out));
    return r;
  }

  // stoppable protocol
  void set_stop_token(std::stop_token t) noexcept { m_user_token = std::move(t); }
  auto get_stop_token() const noexcept -> std::stop_token { return m_user_token; }
  auto get_scheduler() const noexcept -> scheduler& { return m_inner.get_scheduler(); }

  /// True if the deadline passed while waiting.
  auto timed_out() const noexcept -> bool { return m_fired; }

  /// Yields the value or throws std::system_error (timed_out when the deadline passed).
  auto or_throw() && { return synack::or_throw(std::move(*this), "synack: with_timeout"); }

private:
  struct forward_stop {
    timeout_op* self;
    void operator()() const noexcept { self->m_source.request_stop(); }
  };

  static void on_timer(timer_node& n) {
    auto& self = static_cast<timeout_op&>(n);
    self.m_fired = true;
    self.m_source.request_stop();
  }

  A m_inner;
  instant m_deadline;
  std::stop_source m_source;
  std::stop_token m_user_token;
  detail::stop_callback_slot<forward_stop> m_user_stop;
  bool m_fired = false;
};

/// Awaits `a`, cancelling it at `deadline` (the result then is std::errc::timed_out).
template <stoppable_awaitable A>
auto with_deadline(A a, instant deadline) -> timeout_op<A> {
  return timeout_op<A>(std::move(a), deadline);
}

/// Awaits `a`, cancelling it after `d` (measured from the scheduler's now()); the result then
/// is std::errc::timed_out.
template <stoppable_awaitable A>
auto with_timeout(A a, duration d) -> timeout_op<A> {
  const instant deadline = a.get_scheduler().now() + d;
  return timeout_op<A>(std::move(a), deadline);
}

/// with_deadline, and `token` stops it too (with operation_canceled); it replaces a token `a` had.
template <stoppable_awaitable A>
auto with_deadline(A a, instant deadline, std::stop_token token) -> timeout_op<A> {
  a.set_stop_token(std::move(token));
  return timeout_op<A>(std::move(a), deadline);
}

/// with_timeout, and `token` stops it too (with operation_canceled); it replaces a token `a` had.
template <stoppable_awaitable A>
auto with_timeout(A a, duration d, std::stop_token token) -> timeout_op<A> {
  a.set_stop_token(std::move(token));
  const instant deadline = a.get_scheduler().now() + d;
  return timeout_op<A>(std::move(a), deadline);
}

} // namespace synack
