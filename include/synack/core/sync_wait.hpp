// synack/core/sync_wait.hpp: run an awaitable to completion from ordinary (non-coroutine) code.
//
// - `sync_wait(s, a)`: queues `a` on scheduler `s` (an event_loop, a sim_loop, a
//   sim_scheduler) and runs the loop's turns until `a` completes; returns its result or
//   rethrows its exception. If the loop runs out of work first (nothing ready, no timer, no
//   I/O: a deadlock) or is stopped, the awaitable's frame is destroyed and
//   std::runtime_error is thrown. Calling it from inside a running loop throws
//   std::logic_error (it would deadlock): spawn or co_await instead.
// - `sync_wait(a)`: runs `a` on the calling thread with no loop. For awaitables that finish
//   without needing one (tasks that only await other tasks, tests). If `a` suspends on
//   something only a loop could resume, std::logic_error is thrown.
// The result is R for an lvalue-reference result, remove_cvref_t<R> otherwise.
#pragma once

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "synack/core/concepts.hpp"
#include "synack/core/detail/result_slot.hpp"
#include "synack/core/detail/trampoline.hpp"
#include "synack/core/scheduler.hpp"

namespace synack {

namespace detail {

template <class R>
class sync_wait_promise;

template <class R>
class sync_wait_task {
public:
  using promise_type = sync_wait_promise<R>;
  explicit sync_wait_task(std::coroutine_handle<promise_type> h) noexcept : m_handle(h) {}
  sync_wait_task(sync_wait_task&& o) noexcept : m_handle(std::exchange(o.m_handle, {})) {}
  ~sync_wait_task() {
    if (m_handle) m_handle.destroy();
  }
  auto handle() const noexcept -> std::coroutine_handle<promise_type> { return m_handle; }

private:
  std::coroutine_handle<promise_type> m_handle;
};

template <class R>
class sync_wait_promise {
public:
  auto get_return_object() noexcept -> sync_wait_task<R> {
    return sync_wait_task<R>{std::coroutine_handle<sync_wait_promise>::from_promise(*this)};
  }
  auto initial_suspend() const noexcept -> std::suspend_always { return {}; }
  auto final_suspend() noexcept -> std::suspend_always {
    *m_done = true;
    return {};
  }
  void unhandled_exception() noexcept { m_result.set_exception(std::current_exception()); }
  void return_void() const noexcept {}
  template <class U>
  auto yield_value(U&& v) -> std::suspend_never {
    m_result.set(std::forward<U>(v));
    return {};
  }

  bool* m_done = nullptr;
  result_slot<R> m_result;
};

template <class A, class R = await_result_t<A>>
auto make_sync_wait_task(A&& a) -> sync_wait_task<R> {
  if constexpr (std::is_void_v<R>) {
    co_await std::forward<A>(a);
  } else {
    co_yield co_await std::forward<A>(a);
  }
}

} // namespace detail

/// The type sync_wait returns for an awaitable of type A.
template <class A>
using sync_wait_result_t = detail::slot_value_t<await_result_t<A>>;

/// Runs `a` on scheduler `s` until it completes. See the header comment.
template <awaitable A>
auto sync_wait(scheduler& s, A&& a) -> sync_wait_result_t<A> {
  if (s.running()) throw std::logic_error("synack: sync_wait called from inside the running loop");
  auto t = detail::make_sync_wait_task(std::forward<A>(a));
  bool done = false;
  t.handle().promise().m_done = &done;
  ready_node start{t.handle()};
  s.schedule(start);
  s.run_until_done(done);
  if (!done)
    throw std::runtime_error(
        "synack: sync_wait: the loop ran out of work (or was stopped) before the awaitable completed");
  return t.handle().promise().m_result.take();
}

/// Runs `a` on the calling thread without a loop. See the header comment.
template <awaitable A>
auto sync_wait(A&& a) -> sync_wait_result_t<A> {
  auto t = detail::make_sync_wait_task(std::forward<A>(a));
  bool done = false;
  t.handle().promise().m_done = &done;
  detail::resume(t.handle());
  if (!done)
    throw std::logic_error("synack: sync_wait without a loop: the awaitable suspended and nothing can resume it");
  return t.handle().promise().m_result.take();
}

} // namespace synack
