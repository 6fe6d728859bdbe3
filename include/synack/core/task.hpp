// synack/core/task.hpp: `task<T>`, a lazy coroutine that produces a T (or throws).
//
// Contract:
// - Lazy: calling a task coroutine allocates its frame and runs nothing; the body starts
//   when the task is awaited. Awaiting it more than once is not allowed.
// - The task object owns the frame: destroying the task destroys the frame, whether the body
//   never started, finished, or (only possible when its awaiter's own frame is being
//   destroyed) is suspended; awaiters inside it then unregister themselves.
// - The result is kept in variant<monostate, T, exception_ptr>; an exception thrown by the
//   body is rethrown into the awaiting coroutine.
// - Control passes to and from the task by symmetric transfer, through
//   detail::transfer(), so a million awaits of already-complete tasks in a row, or a chain of
//   a million nested tasks, never grows the stack, even where the compiler does not make the
//   transfer a tail call (see core/detail/trampoline.hpp).
// - `co_await std::move(t)` yields T by value (moved out of the frame); `co_await t` on an
//   lvalue yields T&. `task<T&>` yields T&; `task<void>` yields nothing.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "synack/core/detail/trampoline.hpp"

namespace synack {

template <class T = void>
class task;

namespace detail {

class task_promise_base {
public:
  struct final_awaiter {
    auto await_ready() const noexcept -> bool { return false; }
    template <class P>
    auto await_suspend(std::coroutine_handle<P> h) const noexcept -> std::coroutine_handle<> {
      return detail::transfer(h.promise().m_continuation);
    }
    void await_resume() const noexcept {}
  };

  auto initial_suspend() const noexcept -> std::suspend_always { return {}; }
  auto final_suspend() const noexcept -> final_awaiter { return {}; }
  void set_continuation(std::coroutine_handle<> c) noexcept { m_continuation = c; }

private:
  std::coroutine_handle<> m_continuation = std::noop_coroutine();
};

[[noreturn]] inline void throw_broken_task() { throw std::logic_error("synack: awaited an empty or moved-from task"); }

template <class T>
class task_promise final : public task_promise_base {
public:
  auto get_return_object() noexcept -> task<T>;
  void unhandled_exception() noexcept { m_result.template emplace<2>(std::current_exception()); }
  template <class U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    m_result.template emplace<1>(std::forward<U>(v));
  }
  auto result() & -> T& {
    if (m_result.index() == 2) std::rethrow_exception(std::get<2>(m_result));
    return std::get<1>(m_result);
  }
  auto result() && -> T {
    if (m_result.index() == 2) std::rethrow_exception(std::get<2>(m_result));
    return std::move(std::get<1>(m_result));
  }

private:
  std::variant<std::monostate, T, std::exception_ptr> m_result;
};

template <class T>
class task_promise<T&> final : public task_promise_base {
public:
  auto get_return_object() noexcept -> task<T&>;
  void unhandled_exception() noexcept { m_result.template emplace<2>(std::current_exception()); }
  void return_value(T& v) noexcept { m_result.template emplace<1>(std::addressof(v)); }
  auto result() -> T& {
    if (m_result.index() == 2) std::rethrow_exception(std::get<2>(m_result));
    return *std::get<1>(m_result);
  }

private:
  std::variant<std::monostate, T*, std::exception_ptr> m_result;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
  auto get_return_object() noexcept -> task<void>;
  void unhandled_exception() noexcept { m_exception = std::current_exception(); }
  void return_void() noexcept {}
  void result() const {
    if (m_exception) std::rethrow_exception(m_exception);
  }

private:
  std::exception_ptr m_exception;
};

} // namespace detail

/// A lazy coroutine producing a `T`. See the header comment for the contract.
template <class T>
class [[nodiscard]] task {
public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : m_handle(h) {}
  task(task&& o) noexcept : m_handle(std::exchange(o.m_handle, {})) {}
  auto operator=(task&& o) noexcept -> task& {
    if (this != &o) {
      destroy();
      m_handle = std::exchange(o.m_handle, {});
    }
    return *this;
  }
  task(const task&) = delete;
  auto operator=(const task&) -> task& = delete;
  ~task() { destroy(); }

  /// True if the task owns a frame.
  auto valid() const noexcept -> bool { return static_cast<bool>(m_handle); }
  /// True if the body has finished (returned or thrown).
  auto done() const noexcept -> bool { return !m_handle || m_handle.done(); }

  auto operator co_await() & noexcept { return awaiter<false>{m_handle}; }
  auto operator co_await() && noexcept { return awaiter<true>{m_handle}; }

  /// The frame; the task keeps owning it. For runtime internals and tests.
  auto handle() const noexcept -> handle_type { return m_handle; }

private:
  template <bool Move>
  struct awaiter {
    handle_type m_handle;
    auto await_ready() const noexcept -> bool { return !m_handle || m_handle.done(); }
    auto await_suspend(std::coroutine_handle<> awaiting) noexcept -> std::coroutine_handle<> {
      m_handle.promise().set_continuation(awaiting);
      return detail::transfer(m_handle);
    }
    decltype(auto) await_resume() {
      if (!m_handle) detail::throw_broken_task();
      if constexpr (Move && !std::is_reference_v<T> && !std::is_void_v<T>) {
        return std::move(m_handle.promise()).result();
      } else {
        return m_handle.promise().result();
      }
    }
  };

  void destroy() noexcept {
    if (m_handle) std::exchange(m_handle, {}).destroy();
  }

  handle_type m_handle;
};

namespace detail {
template <class T>
auto task_promise<T>::get_return_object() noexcept -> task<T> {
  return task<T>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
template <class T>
auto task_promise<T&>::get_return_object() noexcept -> task<T&> {
  return task<T&>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
inline auto task_promise<void>::get_return_object() noexcept -> task<void> {
  return task<void>{std::coroutine_handle<task_promise>::from_promise(*this)};
}
} // namespace detail

} // namespace synack
