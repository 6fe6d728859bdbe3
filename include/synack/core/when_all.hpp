// synack/core/when_all.hpp: await several awaitables concurrently.
//
// - `co_await when_all(a, b, c)` starts each awaitable in turn (each runs until it first
//   suspends), resumes the awaiting coroutine when the last one completes, and yields a
//   std::tuple of their results, with std::monostate for void results and the value type for
//   others (lvalue-reference results stay references).
// - `co_await when_all(std::vector<A>)` does the same for any number of awaitables of one
//   type and yields a std::vector of results (nothing if the results are void).
// - If some of them throw, all are still awaited to the end, then the exception of the first
//   one (in argument order) is rethrown; the other exceptions are dropped.
// - Rvalue arguments are moved into the operation; lvalue arguments are awaited in place and
//   must outlive it. Each argument costs one coroutine frame (allocated by when_all).
// Nothing is resumed inline except the starts; completions use symmetric transfer through the
// trampoline, so large fan-outs don't grow the stack.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "synack/core/concepts.hpp"
#include "synack/core/detail/result_slot.hpp"
#include "synack/core/detail/trampoline.hpp"

namespace synack {

namespace detail {

struct when_all_counter {
  std::size_t remaining = 0;
  std::coroutine_handle<> parent;
};

template <class R>
class when_all_promise;

template <class R>
class when_all_task {
public:
  using promise_type = when_all_promise<R>;
  explicit when_all_task(std::coroutine_handle<promise_type> h) noexcept : m_handle(h) {}
  when_all_task(when_all_task&& o) noexcept : m_handle(std::exchange(o.m_handle, {})) {}
  auto operator=(when_all_task&&) -> when_all_task& = delete;
  ~when_all_task() {
    if (m_handle) m_handle.destroy();
  }

  void start(when_all_counter& c) {
    m_handle.promise().m_counter = &c;
    detail::resume(m_handle);
  }
  auto slot() noexcept -> result_slot<R>& { return m_handle.promise().m_result; }

private:
  std::coroutine_handle<promise_type> m_handle;
};

template <class R>
class when_all_promise {
public:
  struct final_awaiter {
    auto await_ready() const noexcept -> bool { return false; }
    auto await_suspend(std::coroutine_handle<when_all_promise> h) const noexcept -> std::coroutine_handle<> {
      when_all_counter& c = *h.promise().m_counter;
      if (--c.remaining == 0) return detail::transfer(c.parent);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  auto get_return_object() noexcept -> when_all_task<R> {
    return when_all_task<R>{std::coroutine_handle<when_all_promise>::from_promise(*this)};
  }
  auto initial_suspend() const noexcept -> std::suspend_always { return {}; }
  auto final_suspend() const noexcept -> final_awaiter { return {}; }
  void unhandled_exception() noexcept { m_result.set_exception(std::current_exception()); }
  void return_void() const noexcept {}
  template <class U>
  auto yield_value(U&& v) -> std::suspend_never {
    m_result.set(std::forward<U>(v));
    return {};
  }

  when_all_counter* m_counter = nullptr;
  result_slot<R> m_result;
};

// `A` is T& for lvalue arguments (awaited in place) and T for rvalues (moved into the frame).
template <class A, class R = await_result_t<A>>
auto make_when_all_task(A a) -> when_all_task<R> {
  if constexpr (std::is_void_v<R>) {
    co_await static_cast<A&&>(a);
  } else {
    co_yield co_await static_cast<A&&>(a);
  }
}

template <class R>
using when_all_value_t = std::conditional_t<std::is_void_v<R>, std::monostate, slot_value_t<R>>;

template <class R>
auto take_when_all_value(result_slot<R>& s) -> when_all_value_t<R> {
  if constexpr (std::is_void_v<R>) {
    s.take();
    return {};
  } else {
    return s.take();
  }
}

} // namespace detail

/// The awaitable returned by when_all(a, b, ...).
template <class... R>
class [[nodiscard]] when_all_op {
public:
  using result_type = std::tuple<detail::when_all_value_t<R>...>;

  explicit when_all_op(detail::when_all_task<R>... tasks) : m_tasks(std::move(tasks)...) {}
  when_all_op(when_all_op&&) noexcept = default;

  auto await_ready() const noexcept -> bool { return sizeof...(R) == 0; }
  auto await_suspend(std::coroutine_handle<> h) -> bool {
    m_counter.parent = h;
    m_counter.remaining = sizeof...(R) + 1;
    std::apply([this](auto&... t) { (t.start(m_counter), ...); }, m_tasks);
    return --m_counter.remaining != 0;
  }
  auto await_resume() -> result_type {
    std::apply([](auto&... t) { (t.slot().rethrow_if_exception(), ...); }, m_tasks);
    return std::apply([](auto&... t) { return result_type(detail::take_when_all_value(t.slot())...); }, m_tasks);
  }

private:
  std::tuple<detail::when_all_task<R>...> m_tasks;
  detail::when_all_counter m_counter;
};

/// The awaitable returned by when_all(std::vector<A>).
template <class R>
class [[nodiscard]] when_all_vector_op {
public:
  using result_type = std::conditional_t<std::is_void_v<R>, void, std::vector<detail::slot_value_t<R>>>;

  explicit when_all_vector_op(std::vector<detail::when_all_task<R>> tasks) noexcept : m_tasks(std::move(tasks)) {}

  auto await_ready() const noexcept -> bool { return m_tasks.empty(); }
  auto await_suspend(std::coroutine_handle<> h) -> bool {
    m_counter.parent = h;
    m_counter.remaining = m_tasks.size() + 1;
    for (auto& t : m_tasks) t.start(m_counter);
    return --m_counter.remaining != 0;
  }
  auto await_resume() -> result_type {
    for (auto& t : m_tasks) t.slot().rethrow_if_exception();
    if constexpr (!std::is_void_v<R>) {
      result_type out;
      out.reserve(m_tasks.size());
      for (auto& t : m_tasks) out.push_back(t.slot().take());
      return out;
    }
  }

private:
  std::vector<detail::when_all_task<R>> m_tasks;
  detail::when_all_counter m_counter;
};

/// Awaits every argument concurrently; yields a tuple of their results.
template <awaitable... A>
auto when_all(A&&... as) -> when_all_op<await_result_t<A>...> {
  return when_all_op<await_result_t<A>...>(detail::make_when_all_task<A>(std::forward<A>(as))...);
}

/// Awaits every element concurrently; yields a vector of their results (void if void).
template <awaitable A>
auto when_all(std::vector<A> as) -> when_all_vector_op<await_result_t<A>> {
  std::vector<detail::when_all_task<await_result_t<A>>> tasks;
  tasks.reserve(as.size());
  for (auto& a : as) tasks.push_back(detail::make_when_all_task<A>(std::move(a)));
  return when_all_vector_op<await_result_t<A>>(std::move(tasks));
}

} // namespace synack
