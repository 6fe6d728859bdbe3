// synack/io/loop.hpp: the event loop that owns one io_uring: `event_loop_base` (not a
// template; what awaitables and links take), `basic_event_loop<Clock>`, and the aliases
// `event_loop` (steady clock) and `sim_loop` (manual clock, virtual time).
//
// One turn (`run_once`):
//   1. read the clock (`now()`; read again after a blocking wait in step 5, so completions
//      dispatched in step 6 see the time they arrived);
//   2. expire due timers (their callbacks run; sleepers become ready);
//   3. resume ready coroutines until the ready queue is empty;
//   4. run each turn hook once (the socket stack batches its transmissions here);
//   5. one io_uring_enter: submit every SQE queued during the turn and wait for at least one
//      completion, or until the earliest timer (io_uring_submit_and_wait_timeout). It does not
//      wait if a hook or a yield made something ready. With a virtual clock it never sleeps:
//      if no completion is available it jumps the clock to the earliest deadline (and blocks
//      on the ring only when real I/O is in flight and no timer is armed). With
//      loop_options::busy_poll, a real-time loop first polls the ring without sleeping for up
//      to that long;
//   6. walk every available CQE, copy it, advance the CQ once, then dispatch each: the
//      completion's callback runs; for coroutine operations that only records the result and
//      queues the coroutine, so nothing runs re-entrantly inside the CQE walk.
//
// Low level (for links and the stack): `get_sqe()` hands out an SQE (submitting the queue
// first if it is full, as liburing's examples do), `attach(sqe, completion)` sets the SQE's
// user_data to an `io_completion` and counts it in flight until its final CQE (one without
// IORING_CQE_F_MORE, so multishot requests stay attached). An io_completion is one request in
// flight at a time. Destroying one that is in flight cancels it in the kernel and waits for
// its last CQE (its callback is not called), so the kernel never writes into freed memory.
// SQEs with user_data 0 (e.g. fire-and-forget cancels) are not tracked and their CQEs are
// ignored.
//
// Shutdown (`shutdown()`, also run by the destructor; must not be called from inside the
// loop): refuse new operations (get_sqe returns nullptr, coroutine operations complete at
// once with operation_canceled), cancel everything in flight with IORING_OP_ASYNC_CANCEL,
// drain: resume the coroutines the cancellations wake (each exactly once, with
// operation_canceled) until nothing is in flight or ready, then destroy the frames of
// spawned tasks still suspended (their awaiters unregister from timers and events), and
// forget queued work. Afterwards the loop is closed: run* return at once.
//
// Ring setup: IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN (kernel >= 6.1) is tried
// first: completions are processed only when the loop enters the kernel to wait, in one
// batch, on this thread, instead of interrupting it with task work (the right model for
// one thread that submits and reaps in turns). If the kernel answers EINVAL, the loop falls
// back to IORING_SETUP_COOP_TASKRUN (5.19), then to no flags. SUBMIT_ALL, CQSIZE (4x the SQ
// by default, for multishot bursts) and CLAMP accompany the first two. With SINGLE_ISSUER,
// the thread that constructs the loop must be the one that runs it.
//
// Threads: one loop per thread; nothing here is thread-safe.
#pragma once

#include <liburing.h>

#include <bitset>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "synack/core/concepts.hpp"
#include "synack/core/detail/intrusive_list.hpp"
#include "synack/core/scheduler.hpp"
#include "synack/core/sync_wait.hpp"
#include "synack/time/clock.hpp"
#include "synack/time/instant.hpp"

namespace synack {

class event_loop_base;

/// Options for the io_uring an event loop creates.
struct loop_options {
  /// Submission queue entries (the kernel rounds up to a power of two).
  unsigned entries = 256;
  /// Completion queue entries; 0 means 4 x entries.
  unsigned cq_entries = 0;
  /// Try IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN before the fallbacks.
  bool defer_taskrun = true;
  /// Register the ring's fd so each io_uring_enter skips a file-table lookup.
  bool register_ring_fd = true;
  /// Busy polling (like SO_BUSY_POLL): before blocking for completions, poll the ring without
  /// sleeping for up to this long. A completion that arrives meanwhile is taken without the
  /// sleep and the cross-core wake-up (tens of microseconds on a VM), at the price of a core
  /// spinning while traffic pauses. 0 (the default): block at once.
  std::chrono::microseconds busy_poll{0};
};

/// A request in flight on the loop's ring, completed by a plain callback (no coroutine):
/// the low-level path for links that keep several reads in flight or use multishot requests.
/// The callback gets the CQE's res and flags; IORING_CQE_F_MORE in the flags means more CQEs
/// will follow for the same request. It must not throw. See the header comment.
class io_completion : private detail::list_node {
public:
  using callback = void (*)(io_completion& self, std::int32_t res, std::uint32_t cqe_flags) noexcept;

  explicit io_completion(callback fn) noexcept : m_callback(fn) {}
  /// Copies have the same callback and are not in flight.
  io_completion(const io_completion& o) noexcept : detail::list_node(), m_callback(o.m_callback) {}
  auto operator=(const io_completion&) -> io_completion& = delete;
  inline ~io_completion();

  /// True from attach() until the request's final CQE has been dispatched.
  auto in_flight() const noexcept -> bool { return linked(); }
  /// The SQE user_data that designates this completion (e.g. to cancel it).
  auto user_data() const noexcept -> std::uint64_t { return reinterpret_cast<std::uintptr_t>(this); }

private:
  friend class event_loop_base;
  friend class detail::intrusive_list<io_completion>;
  callback m_callback;
  event_loop_base* m_loop = nullptr;
};

/// The non-template part of the loop: the ring, submission and completion, cancellation,
/// shutdown; plus everything in `scheduler`. Awaitables and links take this type.
class event_loop_base : public scheduler {
public:
  event_loop_base(const event_loop_base&) = delete;
  auto operator=(const event_loop_base&) -> event_loop_base& = delete;
  ~event_loop_base() override {
    shutdown();
    io_uring_queue_exit(&m_ring);
  }

  // --- low-level I/O ------------------------------------------------------------------

  /// An SQE to fill, or nullptr once shutdown has begun. If the SQ is full, the queued SQEs
  /// are submitted first; throws std::system_error if that fails to make room. The SQE is
  /// submitted at the end of the turn (or by submit()).
  auto get_sqe() -> io_uring_sqe* {
    if (m_stopping) return nullptr;
    if (io_uring_sqe* sqe = try_get_sqe()) return sqe;
    throw std::system_error(std::make_error_code(std::errc::device_or_resource_busy),
                            "synack: io_uring submission queue full");
  }

  /// Makes `sqe` complete into `c`: sets user_data and counts `c` in flight until its final
  /// CQE. Call after preparing the SQE (liburing's prep helpers leave user_data alone, but
  /// raw preparation might not).
  void attach(io_uring_sqe* sqe, io_completion& c) noexcept {
    io_uring_sqe_set_data64(sqe, c.user_data());
    c.m_loop = this;
    if (!c.in_flight()) {
      m_in_flight.push_back(c);
      ++m_in_flight_count;
    }
  }

  /// Asks the kernel to cancel `c` (IORING_OP_ASYNC_CANCEL, fire and forget). `c`'s callback
  /// later gets its final CQE, usually with -ECANCELED (or its real result if it finished
  /// first). No-op if `c` is not in flight.
  void cancel(const io_completion& c) noexcept {
    if (!c.in_flight()) return;
    if (io_uring_sqe* sqe = try_get_sqe()) {
      io_uring_prep_cancel64(sqe, c.user_data(), 0);
      io_uring_sqe_set_data64(sqe, 0);
    }
  }

  /// Cancels `c` and waits, reaping (and dispatching other completions), until its final CQE
  /// has arrived. `c`'s callback is not called again. For destructors.
  void cancel_and_wait(io_completion& c) noexcept {
    c.m_callback = &ignore_completion;
    if (!c.in_flight()) return;
    cancel(c);
    while (c.in_flight()) {
      reap();
      if (!c.in_flight()) break;
      io_uring_submit_and_wait(&m_ring, 1);
    }
  }

  /// Submits the queued SQEs now instead of at the end of the turn. Returns the count.
  auto submit() -> int {
    const int r = io_uring_submit(&m_ring);
    if (r < 0 && r != -EAGAIN && r != -EBUSY && r != -EINTR)
      throw std::system_error(-r, std::generic_category(), "synack: io_uring_submit");
    return r < 0 ? 0 : r;
  }

  /// How many attached requests have not delivered their final CQE.
  auto in_flight() const noexcept -> std::size_t { return m_in_flight_count; }

  /// The ring, for what this class does not wrap (registering buffers or files...).
  auto native_handle() noexcept -> io_uring& { return m_ring; }
  /// The IORING_SETUP_* flags the ring was created with.
  auto setup_flags() const noexcept -> unsigned { return m_setup_flags; }
  /// The IORING_FEAT_* flags the kernel reported.
  auto features() const noexcept -> unsigned { return m_features; }
  /// True if the kernel supports opcode `op` (from io_uring_get_probe_ring at startup).
  auto opcode_supported(unsigned op) const noexcept -> bool { return op < m_supported.size() && m_supported[op]; }

  // --- control ------------------------------------------------------------------------

  /// True once shutdown has begun: new operations are refused.
  auto stopping() const noexcept -> bool { return m_stopping; }
  /// Makes run() (and run_until / sync_wait) return after the current turn.
  void stop() noexcept { m_stop_requested = true; }
  /// How many turns have run.
  auto turn_count() const noexcept -> std::uint64_t { return m_turns; }

  /// Cancels and drains everything in flight, then destroys suspended spawned tasks. See the
  /// header comment. Idempotent. Throws std::logic_error if called from inside the loop.
  void shutdown() {
    if (closed()) return;
    running_guard guard(*this);
    m_stopping = true;
    m_in_flight.for_each([this](io_completion& c) { cancel(c); });
    // Drain. Only coroutines woken during the drain run; those that yielded stay parked (a
    // coroutine yielding in a loop would otherwise keep the drain going forever).
    for (;;) {
      run_ready();
      if (m_in_flight_count == 0 && !has_ready_now()) break;
      if (has_ready_now())
        poll_ring();
      else
        wait_ring(std::nullopt);
    }
    destroy_spawned();
    forget_pending();
  }

protected:
  event_loop_base(const loop_options& options, instant start) : scheduler(start) {
    const unsigned cq = options.cq_entries != 0 ? options.cq_entries : 4 * options.entries;
    const unsigned common = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
    const unsigned attempts[] = {
        common | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        common | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
        common,
    };
    int err = EINVAL;
    bool ok = false;
    for (std::size_t i = options.defer_taskrun ? 0 : 1; i < std::size(attempts) && !ok; ++i) {
      io_uring_params p{};
      p.flags = attempts[i];
      p.cq_entries = cq;
      const int r = io_uring_queue_init_params(options.entries, &m_ring, &p);
      if (r == 0) {
        ok = true;
        m_setup_flags = attempts[i];
        m_features = p.features;
      } else {
        err = -r;
        if (r != -EINVAL) break;
      }
    }
    if (!ok) throw std::system_error(err, std::generic_category(), "synack: io_uring setup");
    if (options.register_ring_fd) io_uring_register_ring_fd(&m_ring); // optional speed-up
    if (io_uring_probe* probe = io_uring_get_probe_ring(&m_ring)) {
      for (unsigned op = 0; op <= probe->last_op && op < m_supported.size(); ++op)
        m_supported[op] = io_uring_opcode_supported(probe, static_cast<int>(op)) != 0;
      io_uring_free_probe(probe);
    }
    m_cqes.reserve(cq);
    m_busy_poll = std::chrono::duration_cast<duration>(options.busy_poll);
  }

  enum class turn_outcome {
    progress, // something happened or may happen: run another turn
    idle,     // nothing is ready, armed or in flight: nothing can ever happen
    jump,     // virtual clock: nothing to do until the earliest timer; move the clock there
  };

  /// Steps 2-6 of a turn (the caller has set now()). With `may_block` false, step 5 never
  /// waits and never moves a virtual clock.
  auto turn(bool virtual_time, bool may_block = true) -> turn_outcome {
    ++m_turns;
    begin_turn();
    expire_timers();
    run_ready();
    run_turn_hooks();
    const bool io = m_in_flight_count != 0 || io_uring_sq_ready(&m_ring) != 0;
    // Do not block when run_until's awaitable finished in this turn: other I/O (a link's
    // reads) may stay in flight forever.
    const bool done = m_done_flag != nullptr && *m_done_flag;
    if (has_ready() || m_stop_requested || !may_block || done) { // work is queued, or run() is to return
      if (io) poll_ring();
      return has_ready() || io || next_deadline() ? turn_outcome::progress : turn_outcome::idle;
    }
    const std::optional<instant> deadline = next_deadline();
    if (!deadline && !io) return turn_outcome::idle;
    if (virtual_time) {
      if (!deadline) {
        wait_ring(std::nullopt);
        return turn_outcome::progress;
      }
      if (io && poll_ring() > 0) return turn_outcome::progress;
      return turn_outcome::jump;
    }
    if (m_busy_poll > duration::zero() && io &&
        busy_poll(deadline ? std::min<duration>(m_busy_poll, *deadline - now()) : m_busy_poll) > 0)
      return turn_outcome::progress;
    if (!deadline) {
      wait_ring(std::nullopt);
    } else if (const duration wait = *deadline - now(); wait > duration::zero()) {
      wait_ring(wait);
    } else {
      poll_ring();
    }
    return turn_outcome::progress;
  }

  bool m_stop_requested = false;
  duration m_busy_poll{};
  /// The flag of the running run_until_done (sync_wait), if any.
  const bool* m_done_flag = nullptr;

private:
  struct cqe_copy {
    std::uint64_t user_data;
    std::int32_t res;
    std::uint32_t flags;
  };

  static void ignore_completion(io_completion&, std::int32_t, std::uint32_t) noexcept {}

  auto try_get_sqe() noexcept -> io_uring_sqe* {
    if (io_uring_sqe* sqe = io_uring_get_sqe(&m_ring)) return sqe;
    io_uring_submit(&m_ring);
    return io_uring_get_sqe(&m_ring);
  }

  static void check_enter(int r, const char* what) {
    if (r >= 0 || r == -ETIME || r == -EINTR || r == -EAGAIN || r == -EBUSY) return;
    throw std::system_error(-r, std::generic_category(), what);
  }

  /// Submits and collects completions without blocking.
  auto poll_ring() -> std::size_t {
    check_enter(io_uring_submit_and_get_events(&m_ring), "synack: io_uring_submit_and_get_events");
    return reap();
  }

  /// Polls the ring without sleeping until a completion arrives or `limit` has passed (measured
  /// with the steady clock: only real-time loops busy-poll). Returns the completions reaped.
  auto busy_poll(duration limit) -> std::size_t {
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(limit.count());
    do {
      if (const auto n = poll_ring(); n > 0) {
        refresh_clock();
        return n;
      }
    } while (std::chrono::steady_clock::now() < until);
    return 0;
  }

  /// Submits and waits for one completion, or until `timeout` has passed.
  auto wait_ring(std::optional<duration> timeout) -> std::size_t {
    if (timeout) {
      const auto ns = timeout->count();
      __kernel_timespec ts{};
      ts.tv_sec = ns / 1000000000;
      ts.tv_nsec = ns % 1000000000;
      io_uring_cqe* cqe = nullptr;
      check_enter(io_uring_submit_and_wait_timeout(&m_ring, &cqe, 1, &ts, nullptr),
                  "synack: io_uring_submit_and_wait_timeout");
    } else {
      check_enter(io_uring_submit_and_wait(&m_ring, 1), "synack: io_uring_submit_and_wait");
    }
    // The wait may have lasted: completions must see the time they arrived, not the time the
    // turn began (a receive callback's now() stamps segments and RTT samples).
    refresh_clock();
    return reap();
  }

  /// Re-reads a real clock after a blocking wait (a virtual clock does not move by itself).
  virtual void refresh_clock() noexcept {}

  /// Copies every available CQE, advances the CQ once, then dispatches them. Re-entrant: a
  /// callback that destroys an in-flight completion reaps from inside (see cancel_and_wait)
  /// and continues with the same pending copies.
  auto reap() noexcept -> std::size_t {
    unsigned head = 0;
    unsigned n = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&m_ring, head, cqe) {
      m_cqes.push_back(cqe_copy{cqe->user_data, cqe->res, cqe->flags});
      ++n;
    }
    io_uring_cq_advance(&m_ring, n);
    ++m_reap_depth;
    std::size_t count = 0;
    while (m_cqe_next < m_cqes.size()) {
      const cqe_copy e = m_cqes[m_cqe_next++];
      ++count;
      dispatch(e);
    }
    if (--m_reap_depth == 0) {
      m_cqes.clear();
      m_cqe_next = 0;
    }
    return count;
  }

  void dispatch(const cqe_copy& e) noexcept {
    if (e.user_data == 0 || e.user_data == LIBURING_UDATA_TIMEOUT) return;
    auto* c = reinterpret_cast<io_completion*>(static_cast<std::uintptr_t>(e.user_data));
    if ((e.flags & IORING_CQE_F_MORE) == 0 && c->in_flight()) {
      c->unlink();
      --m_in_flight_count;
    }
    c->m_callback(*c, e.res, e.flags);
  }

  io_uring m_ring{};
  unsigned m_setup_flags = 0;
  unsigned m_features = 0;
  std::bitset<256> m_supported;
  detail::intrusive_list<io_completion> m_in_flight;
  std::size_t m_in_flight_count = 0;
  std::vector<cqe_copy> m_cqes;
  std::size_t m_cqe_next = 0;
  unsigned m_reap_depth = 0;
  std::uint64_t m_turns = 0;
  bool m_stopping = false;
};

inline io_completion::~io_completion() {
  if (in_flight()) m_loop->cancel_and_wait(*this);
}

/// The event loop over clock `Clock` (see time/clock.hpp). See the header comment.
template <clock Clock>
class basic_event_loop final : public event_loop_base {
public:
  using clock_type = Clock;

  explicit basic_event_loop(const loop_options& options = {}, Clock c = Clock{})
      : event_loop_base(options, c.now()), m_clock(std::move(c)) {}
  ~basic_event_loop() override { shutdown(); }

  /// The clock (for a manual clock, tests may advance it by hand between turns).
  auto clock() noexcept -> Clock& { return m_clock; }

  void refresh_clock() noexcept override {
    if constexpr (!Clock::is_virtual) set_now(m_clock.now());
  }

  /// Runs one turn. Returns false if nothing can happen any more or the loop is closed.
  auto run_once() -> bool {
    if (closed()) return false;
    running_guard guard(*this);
    set_now(m_clock.now());
    switch (turn(Clock::is_virtual)) {
      case turn_outcome::progress:
        return true;
      case turn_outcome::jump:
        if constexpr (Clock::is_virtual) m_clock.set(*next_deadline());
        return true;
      case turn_outcome::idle:
        break;
    }
    return false;
  }

  /// Runs one turn that neither waits nor moves a virtual clock: submits, collects what has
  /// already completed, and returns. For embedding the loop in another one, and tests.
  /// Returns false if nothing can happen any more or the loop is closed.
  auto poll() -> bool {
    if (closed()) return false;
    running_guard guard(*this);
    set_now(m_clock.now());
    return turn(Clock::is_virtual, false) != turn_outcome::idle;
  }

  /// Runs turns until nothing can happen any more or stop() is called.
  void run() {
    while (!m_stop_requested && run_once()) {}
    m_stop_requested = false;
  }

  auto run_until_done(const bool& done) -> bool override {
    const bool* outer = std::exchange(m_done_flag, &done);
    while (!done && !m_stop_requested && run_once()) {}
    m_done_flag = outer;
    m_stop_requested = false;
    return done;
  }

  /// Runs the loop until `a` completes and returns its result: sync_wait(*this, a).
  template <awaitable A>
  auto run_until(A&& a) -> sync_wait_result_t<A> {
    return sync_wait(*this, std::forward<A>(a));
  }

private:
  Clock m_clock;
};

/// The loop on CLOCK_MONOTONIC.
using event_loop = basic_event_loop<steady_clock>;
/// The loop on virtual time: it jumps to the next deadline instead of sleeping.
using sim_loop = basic_event_loop<manual_clock>;

} // namespace synack
