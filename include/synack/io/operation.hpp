// synack/io/operation.hpp: `io::operation<Derived, Result>`, the base of every coroutine
// io_uring operation (cppcoro's overlapped-operation pattern mapped onto SQE/CQE).
//
// Contract:
// - An operation is an awaiter object returned by value from a factory (io::read(...)); it
//   holds its parameters, its result and its links, so awaiting it allocates nothing.
// - await_ready: completes at once with operation_canceled if the loop is shutting down or
//   the stop token is already stopped. await_suspend: takes an SQE, lets Derived fill it
//   (`void prepare(io_uring_sqe&) noexcept`), sets user_data to the operation (attach), and
//   registers the stop callback. The SQE reaches the kernel at the end of the turn.
// - The CQE is dispatched by the loop: the operation records res/flags and queues its
//   coroutine; await_resume turns res < 0 into std::error_code{-res, generic_category()}
//   (so `== std::errc::...` works) and res >= 0 into Derived's
//   `Result make_result(std::int32_t res, std::uint32_t cqe_flags)`. `.or_throw()` gives the
//   value or a std::system_error whose what() starts with `Derived::operation_name`.
// - Cancellation: on stop, an IORING_OP_ASYNC_CANCEL for this operation is submitted; the
//   coroutine is resumed exactly once, by the operation's own CQE: -ECANCELED (or -EINTR from
//   an interrupted worker, reported as ECANCELED), or its real result if it finished first.
// - Destroying the frame of a coroutine suspended on an operation (e.g. at shutdown)
//   cancels the operation in the kernel and waits for its CQE (io_completion's destructor).
// - Operations may be moved before they are awaited (with_timeout does), never after.
#pragma once

#include <liburing.h>

#include <cerrno>
#include <coroutine>
#include <cstdint>
#include <stop_token>
#include <system_error>
#include <utility>

#include "synack/core/cancellation.hpp"
#include "synack/core/detail/stop_callback_slot.hpp"
#include "synack/core/or_throw.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/io/loop.hpp"
#include "synack/util/expected.hpp"

namespace synack::io {

/// CRTP base of coroutine io_uring operations. See the header comment.
template <class Derived, class Result>
class operation : private io_completion {
public:
  using result_type = Result;

  operation(operation&& o) noexcept
      : io_completion(static_cast<const io_completion&>(o)), m_loop(o.m_loop), m_token(std::move(o.m_token)) {}
  auto operator=(operation&&) -> operation& = delete;

  auto await_ready() noexcept -> bool {
    if (m_loop->stopping() || m_token.stop_requested()) {
      m_res = -ECANCELED;
      return true;
    }
    return false;
  }

  void await_suspend(std::coroutine_handle<> h) {
    io_uring_sqe* sqe = m_loop->get_sqe(); // not null: await_ready checked stopping()
    static_cast<Derived&>(*this).prepare(*sqe);
    m_loop->attach(sqe, *this);
    m_node.set_handle(h);
    if (m_token.stop_possible()) m_stop.emplace(m_token, on_stop{this});
  }

  auto await_resume() -> Result {
    m_stop.reset();
    if (m_res < 0) return Result(unexpect, std::error_code(-m_res, std::generic_category()));
    return static_cast<Derived&>(*this).make_result(m_res, m_cqe_flags);
  }

  // stoppable protocol (core/cancellation.hpp)
  void set_stop_token(std::stop_token t) noexcept { m_token = std::move(t); }
  auto get_stop_token() const noexcept -> std::stop_token { return m_token; }
  auto get_scheduler() const noexcept -> scheduler& { return *m_loop; }

  /// Yields the value or throws std::system_error, its what() naming the operation
  /// (`Derived::operation_name`, e.g. "synack: io::read: Bad file descriptor").
  auto or_throw() && { return synack::or_throw(static_cast<Derived&&>(*this), Derived::operation_name); }

  auto loop() const noexcept -> event_loop_base& { return *m_loop; }
  using io_completion::in_flight;
  using io_completion::user_data;

protected:
  operation(event_loop_base& loop, std::stop_token token) noexcept
      : io_completion(&on_cqe), m_loop(&loop), m_token(std::move(token)) {}
  ~operation() = default;

private:
  struct on_stop {
    operation* self;
    void operator()() const noexcept {
      self->m_cancel_requested = true;
      self->m_loop->cancel(*self);
    }
  };

  static void on_cqe(io_completion& c, std::int32_t res, std::uint32_t flags) noexcept {
    auto& self = static_cast<operation&>(c);
    self.m_res = (self.m_cancel_requested && res == -EINTR) ? -ECANCELED : res;
    self.m_cqe_flags = flags;
    self.m_loop->schedule(self.m_node);
  }

  event_loop_base* m_loop;
  std::stop_token m_token;
  detail::stop_callback_slot<on_stop> m_stop;
  ready_node m_node;
  std::int32_t m_res = 0;
  std::uint32_t m_cqe_flags = 0;
  bool m_cancel_requested = false;
};

} // namespace synack::io
