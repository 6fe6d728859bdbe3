// synack/core/or_throw.hpp: `or_throw(op)` and `op.or_throw()`, for those who prefer exceptions.
//
// Every awaitable synack returns whose result is `expected<T, std::error_code>` (the socket's
// operations, io_uring operations, sleeps, event waits, and what with_timeout/with_deadline
// wrap) has a member `.or_throw()`; `co_await op.or_throw()` yields T or throws a
// std::system_error whose code() is the error and whose what() names the operation and says
// the error's message ("synack: recv: Connection reset by peer"). The free function
// `or_throw(op, what)` wraps any such awaitable. The wrapper keeps the stop-token protocol
// (core/cancellation.hpp) when the operation has it: a token set on the wrapper reaches the
// operation.
#pragma once

#include <coroutine>
#include <system_error>
#include <type_traits>
#include <utility>

#include "synack/util/expected.hpp"

namespace synack {

class scheduler;

namespace detail {

/// T, or a std::system_error(error, what).
template <class T>
auto unwrap(expected<T, std::error_code>&& r, const char* what) -> T {
  if (!r) throw std::system_error(r.error(), what);
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

} // namespace detail

/// Wraps an awaitable whose result is `expected<T, std::error_code>`: awaiting the wrapper
/// yields T or throws std::system_error. `co_await or_throw(with_timeout(s.recv(buf), 5s))`.
template <class A>
class [[nodiscard]] or_throw_op {
public:
  explicit or_throw_op(A a, const char* what) : m_inner(std::move(a)), m_what(what) {}
  auto await_ready() { return m_inner.await_ready(); }
  template <class H>
  auto await_suspend(H h) {
    return m_inner.await_suspend(h);
  }
  auto await_resume() { return detail::unwrap(m_inner.await_resume(), m_what); }

  // The stop-token protocol of the wrapped operation, where it has one.
  template <class T>
  requires requires(A& a, T t) { a.set_stop_token(std::move(t)); }
  void set_stop_token(T t) noexcept { m_inner.set_stop_token(std::move(t)); }
  auto get_stop_token() const noexcept requires requires(const A& a) { a.get_stop_token(); }
  { return m_inner.get_stop_token(); }
  auto get_scheduler() const noexcept -> scheduler& requires requires(const A& a) { a.get_scheduler(); }
  { return m_inner.get_scheduler(); }

private:
  A m_inner;
  const char* m_what;
};

/// `co_await or_throw(op)` yields op's value or throws std::system_error (see above).
template <class A>
auto or_throw(A a, const char* what = "synack") -> or_throw_op<A> {
  return or_throw_op<A>{std::move(a), what};
}

} // namespace synack
