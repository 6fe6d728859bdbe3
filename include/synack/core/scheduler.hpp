// synack/core/scheduler.hpp: the part of the event loop that coroutines and protocol layers
// see: the ready queue, the timers, the cached time, turn hooks and detached tasks.
//
// Contract:
// - Single-threaded. Everything here, including stop requests on tokens given to synack
//   awaitables, must happen on the thread that runs the loop.
// - Nothing resumes a coroutine inline: waking a coroutine (an event set from packet
//   processing, a timer, an I/O completion, a stop request) puts its `ready_node` on the ready
//   queue, and the loop resumes it later in the same or the next turn. So code that wakes
//   others never re-enters itself.
// - `now()` is the time read once at the start of the current turn.
// - `spawn` starts a detached task on the ready queue; the scheduler owns its frame. An
//   exception escaping it goes to the error reporter (stderr by default), never nowhere.
//   Frames of spawned tasks still suspended at shutdown are destroyed by the loop.
// - A turn (implemented by the loop): read the clock once; expire due timers; drain the
//   ready queue; run each turn hook once; then submit and wait for I/O (not blocking if a hook
//   or a yield made something ready).
// core/ never includes liburing: the io_uring loop (io/loop.hpp) derives from `scheduler` and
// implements `run_until_done`; `sim_scheduler` (core/sim_scheduler.hpp) is a loop without I/O.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "synack/core/concepts.hpp"
#include "synack/core/detail/intrusive_list.hpp"
#include "synack/core/detail/trampoline.hpp"
#include "synack/core/timer.hpp"
#include "synack/time/instant.hpp"

namespace synack {

class scheduler;

/// A coroutine waiting to be resumed by a scheduler. Awaiters embed one; destroying it (with
/// the frame that holds it) removes it from the ready queue.
class ready_node : public detail::list_node {
public:
  ready_node() noexcept = default;
  explicit ready_node(std::coroutine_handle<> h) noexcept : m_handle(h) {}
  void set_handle(std::coroutine_handle<> h) noexcept { m_handle = h; }
  auto handle() const noexcept -> std::coroutine_handle<> { return m_handle; }

private:
  std::coroutine_handle<> m_handle;
};

/// A callback run once per loop turn, after the ready queue has drained and before the loop
/// submits and waits for I/O (the socket stack gathers the turn's transmissions here). It may
/// make coroutines ready; the loop then does not block in that turn. Register with
/// `scheduler::add_turn_hook`; unregister with `remove()` or by destroying the hook.
class turn_hook : private detail::list_node {
public:
  using callback = void (*)(turn_hook&);
  explicit turn_hook(callback fn) noexcept : m_callback(fn) {}
  turn_hook(const turn_hook& o) noexcept : detail::list_node(), m_callback(o.m_callback) {}
  auto operator=(const turn_hook&) -> turn_hook& = delete;

  auto registered() const noexcept -> bool { return linked(); }
  void remove() noexcept { unlink(); }

private:
  friend class scheduler;
  friend class detail::intrusive_list<turn_hook>;
  callback m_callback;
};

/// Receives exceptions that escaped spawned tasks. Must not throw.
using error_reporter = std::function<void(std::exception_ptr)>;

/// The default reporter: one line on stderr.
inline void report_to_stderr(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    fmt::print(stderr, "synack: a spawned task ended with an exception: {}\n", x.what());
  } catch (...) {
    fmt::print(stderr, "synack: a spawned task ended with an exception of unknown type\n");
  }
}

namespace detail {

class spawned_promise;

struct spawned_task {
  using promise_type = spawned_promise;
  std::coroutine_handle<spawned_promise> handle;
};

/// Links a spawned frame into its scheduler's list of live spawned tasks.
class spawn_link : public list_node {
public:
  std::coroutine_handle<> frame;
};

class spawned_promise {
public:
  auto get_return_object() noexcept -> spawned_task {
    return {std::coroutine_handle<spawned_promise>::from_promise(*this)};
  }
  auto initial_suspend() const noexcept -> std::suspend_always { return {}; }
  // The frame frees itself when the body ends; its destructor unlinks it from the scheduler.
  auto final_suspend() const noexcept -> std::suspend_never { return {}; }
  void return_void() const noexcept {}
  inline void unhandled_exception() noexcept;
  inline ~spawned_promise();

  scheduler* m_scheduler = nullptr;
  ready_node m_start;
  spawn_link m_link;
};

template <class A>
auto spawn_body(A a) -> spawned_task {
  co_await std::move(a);
}

} // namespace detail

/// The ready queue, timers, time, turn hooks and detached tasks of an event loop.
class scheduler {
public:
  scheduler(const scheduler&) = delete;
  auto operator=(const scheduler&) -> scheduler& = delete;
  virtual ~scheduler() = default;

  // --- time ---------------------------------------------------------------------------

  /// The time read at the start of the current turn.
  auto now() const noexcept -> instant { return m_now; }

  // --- ready queue --------------------------------------------------------------------

  /// Queues `n` to be resumed in this turn (FIFO). A node already queued stays where it is.
  void schedule(ready_node& n) noexcept {
    if (!n.linked()) m_ready.push_back(n);
  }
  /// Queues `n` to be resumed in the next turn, after the loop has looked at I/O and timers.
  void schedule_next_turn(ready_node& n) noexcept {
    if (!n.linked()) m_next_turn.push_back(n);
  }

  /// `co_await s.yield()`: suspends and resumes in the next turn, letting I/O and timers in.
  auto yield() noexcept {
    struct [[nodiscard]] yield_awaiter {
      scheduler* m_scheduler;
      ready_node m_node;
      auto await_ready() const noexcept -> bool { return false; }
      void await_suspend(std::coroutine_handle<> h) noexcept {
        m_node.set_handle(h);
        m_scheduler->schedule_next_turn(m_node);
      }
      void await_resume() const noexcept {}
    };
    return yield_awaiter{this, {}};
  }

  // --- timers -------------------------------------------------------------------------

  /// Arms (or re-arms) `n` to run its callback in the first turn whose `now()` is at or after
  /// `deadline`. Timers with equal deadlines run in arm order.
  void arm(timer_node& n, instant deadline) { m_timers.arm(n, deadline); }
  /// Disarms `n` if it is armed. Safe on an unarmed node.
  void disarm(timer_node& n) noexcept { m_timers.disarm(n); }
  /// The earliest armed deadline.
  auto next_deadline() const noexcept -> std::optional<instant> { return m_timers.earliest(); }
  /// How many timers are armed.
  auto pending_timers() const noexcept -> std::size_t { return m_timers.size(); }
  /// Reserves room for `n` armed timers.
  void reserve_timers(std::size_t n) { m_timers.reserve(n); }

  // --- turn hooks ---------------------------------------------------------------------

  /// Registers `h` (a no-op if already registered). Hooks run in registration order.
  void add_turn_hook(turn_hook& h) noexcept {
    if (!h.registered()) m_hooks.push_back(h);
  }

  // --- detached tasks -----------------------------------------------------------------

  /// Starts `a` (a task<> or any awaitable, taken by value) as a detached task: it begins in
  /// the ready queue, its result is discarded, an exception is passed to the error reporter.
  /// After shutdown, the awaitable is destroyed without running.
  template <class A>
  requires awaitable<std::remove_cvref_t<A>>
  void spawn(A&& a) {
    detail::spawned_task t = detail::spawn_body<std::remove_cvref_t<A>>(std::forward<A>(a));
    if (m_closed) {
      t.handle.destroy();
      return;
    }
    detail::spawned_promise& p = t.handle.promise();
    p.m_scheduler = this;
    p.m_start.set_handle(t.handle);
    p.m_link.frame = t.handle;
    m_spawned.push_back(p.m_link);
    ++m_spawned_count;
    schedule(p.m_start);
  }

  /// Replaces the error reporter (the default prints to stderr). Tests install one to
  /// capture errors.
  void set_error_reporter(error_reporter r) { m_reporter = std::move(r); }
  /// Hands `e` to the error reporter.
  void report_error(std::exception_ptr e) noexcept {
    if (m_reporter)
      m_reporter(std::move(e));
    else
      report_to_stderr(std::move(e));
  }
  /// How many spawned tasks have not finished.
  auto spawned_count() const noexcept -> std::size_t { return m_spawned_count; }

  // --- driving ------------------------------------------------------------------------

  /// Runs turns until `done` becomes true or nothing can happen any more (no ready
  /// coroutine, no timer, no I/O in flight). Returns `done`. Implemented by the loop.
  virtual auto run_until_done(const bool& done) -> bool = 0;

  /// True while a turn is running (code inside coroutines and callbacks sees true).
  auto running() const noexcept -> bool { return m_running; }
  /// True once the loop has shut down: no new spawned task will run.
  auto closed() const noexcept -> bool { return m_closed; }

protected:
  explicit scheduler(instant start) noexcept : m_now(start) {}

  /// Sets the turn's time. Called once per turn by the loop.
  void set_now(instant t) noexcept { m_now = t; }

  /// Starts a turn: moves the coroutines that yielded into the ready queue.
  void begin_turn() noexcept { m_ready.splice_back(m_next_turn); }

  /// Runs the callbacks of the timers due at `now()`. Returns how many ran.
  auto expire_timers() -> std::size_t { return m_timers.expire(m_now); }

  /// Resumes ready coroutines until the queue is empty. Returns how many were resumed.
  auto run_ready() -> std::size_t {
    std::size_t count = 0;
    while (ready_node* n = m_ready.pop_front()) {
      ++count;
      detail::resume(n->handle());
    }
    return count;
  }

  /// Runs every registered hook once, in order. Hooks added meanwhile wait for the next turn.
  /// If a hook throws, the exception propagates and every hook stays registered.
  void run_turn_hooks() {
    if (m_hooks.empty()) return;
    struct pending_hooks {
      detail::intrusive_list<turn_hook>& registered;
      detail::intrusive_list<turn_hook> list;
      ~pending_hooks() { registered.splice_back(list); }
    } pending{m_hooks, {}};
    pending.list.splice_back(m_hooks);
    while (turn_hook* h = pending.list.pop_front()) {
      m_hooks.push_back(*h);
      h->m_callback(*h);
    }
  }

  /// True if a coroutine is queued for this turn or the next.
  auto has_ready() const noexcept -> bool { return !m_ready.empty() || !m_next_turn.empty(); }
  auto has_ready_now() const noexcept -> bool { return !m_ready.empty(); }

  /// Marks the scheduler closed and destroys the frames of spawned tasks that have not
  /// finished. Their awaiters unregister themselves as they are destroyed.
  void destroy_spawned() noexcept {
    m_closed = true;
    while (detail::spawn_link* l = m_spawned.front()) l->frame.destroy();
  }

  /// Forgets every queued coroutine and every armed timer (after the frames are gone).
  void forget_pending() noexcept {
    m_ready.clear();
    m_next_turn.clear();
    m_timers.clear();
  }

  /// Sets `running()` for the lifetime of the guard; throws if a turn is already running.
  class running_guard {
  public:
    explicit running_guard(scheduler& s) : m_scheduler(s) {
      if (s.m_running) throw std::logic_error("synack: the loop is already running (nested run or sync_wait)");
      s.m_running = true;
    }
    running_guard(const running_guard&) = delete;
    auto operator=(const running_guard&) -> running_guard& = delete;
    ~running_guard() { m_scheduler.m_running = false; }

  private:
    scheduler& m_scheduler;
  };

private:
  friend class detail::spawned_promise;

  instant m_now;
  detail::intrusive_list<ready_node> m_ready;
  detail::intrusive_list<ready_node> m_next_turn;
  detail::intrusive_list<turn_hook> m_hooks;
  timer_heap m_timers;
  detail::intrusive_list<detail::spawn_link> m_spawned;
  std::size_t m_spawned_count = 0;
  error_reporter m_reporter;
  bool m_running = false;
  bool m_closed = false;
};

namespace detail {
inline void spawned_promise::unhandled_exception() noexcept { m_scheduler->report_error(std::current_exception()); }
inline spawned_promise::~spawned_promise() {
  if (m_scheduler != nullptr) --m_scheduler->m_spawned_count;
}
} // namespace detail

} // namespace synack
