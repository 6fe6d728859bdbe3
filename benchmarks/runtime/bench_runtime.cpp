// bench_runtime: nanoseconds per operation of the coroutine runtime and the io_uring loop.
//
//   bench_runtime [scale]     (scale multiplies the iteration counts; default 1)
//
// Rows:
// - task await: create a task, co_await it (it completes at once), destroy it. Includes the
//   frame's allocation and free, and the trampoline.
// - resume via ready queue: two coroutines wake each other through single_events; each
//   wake-up is one push and one pop of the ready queue and one resume.
// - yield (one loop turn): a coroutine yields N times on an event_loop with no I/O: the cost
//   of a turn without a system call (clock read, timers, hooks).
// - timer arm+expire (heap): timer_heap::arm then pop_due, with 1 and 100,000 other timers
//   pending (the cost is log4 of the pending count).
// - timer arm+disarm (heap): re-arm and cancel, 100,000 pending.
// - sleep round trip (sim_loop): co_await sleep_for(1ns) on virtual time: arm, idle turn jumps
//   the clock, next turn expires and resumes; with 1 and 100,000 timers pending.
// - NOP round trip: one IORING_OP_NOP submitted and reaped per turn, one io_uring_enter each:
//   raw liburing (the kernel's cost: baseline), the io_completion callback path, and
//   co_await io::nop. The ratio column compares against the raw liburing loop measured in the
//   same run, on a ring with the same setup flags.
// - NOP batch of 64: when_all of 64 nops per turn, per nop.
#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "synack/core/event.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/sync_wait.hpp"
#include "synack/core/task.hpp"
#include "synack/core/timer.hpp"
#include "synack/core/when_all.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"

using namespace std::chrono_literals;
using synack::task;

namespace {

using bench_clock = std::chrono::steady_clock;

struct row {
  std::string name;
  double ns_per_op;
  double baseline_ns = 0; // 0: no ratio
};

template <class F>
auto time_ns(long iterations, F&& f) -> double {
  const auto t0 = bench_clock::now();
  f();
  const auto t1 = bench_clock::now();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()) /
         static_cast<double>(iterations);
}

// --- coroutines -----------------------------------------------------------------------

auto constant(int v) -> task<int> { co_return v; }

auto await_loop(long n) -> task<long> {
  long s = 0;
  for (long i = 0; i < n; ++i) s += co_await constant(1);
  co_return s;
}

auto ping(synack::single_event& mine, synack::single_event& other, long n) -> task<> {
  for (long i = 0; i < n; ++i) {
    other.set();
    co_await mine.wait();
  }
  other.set();
}

auto yielder(synack::event_loop& loop, long n) -> task<> {
  for (long i = 0; i < n; ++i) co_await loop.yield();
}

auto sleeper(synack::sim_loop& loop, long n) -> task<> {
  for (long i = 0; i < n; ++i) co_await synack::sleep_for(loop, 1ns);
}

auto nop_loop(synack::event_loop& loop, long n) -> task<> {
  for (long i = 0; i < n; ++i) co_await synack::io::nop(loop);
}

auto nop_batches(synack::event_loop& loop, long batches) -> task<> {
  for (long b = 0; b < batches; ++b) {
    std::vector<synack::io::nop_op> ops;
    ops.reserve(64);
    for (int i = 0; i < 64; ++i) ops.push_back(synack::io::nop(loop));
    co_await synack::when_all(std::move(ops));
  }
}

struct nop_chain : synack::io_completion {
  synack::event_loop_base* loop;
  long remaining;
  nop_chain(synack::event_loop_base& l, long n) : io_completion(&done), loop(&l), remaining(n) {}
  void start() {
    io_uring_sqe* sqe = loop->get_sqe();
    io_uring_prep_nop(sqe);
    loop->attach(sqe, *this);
  }
  static void done(io_completion& c, std::int32_t, std::uint32_t) noexcept {
    auto& self = static_cast<nop_chain&>(c);
    if (--self.remaining > 0) self.start();
  }
};

struct noop_timer : synack::timer_node {
  noop_timer() : timer_node(&fire) {}
  static void fire(timer_node&) {}
};

// --- measurements ---------------------------------------------------------------------

auto bench_task_await(long n) -> double {
  return time_ns(n, [&] {
    if (synack::sync_wait(await_loop(n)) != n) std::abort();
  });
}

auto bench_ready_queue(long n) -> double {
  synack::sim_scheduler s;
  synack::single_event a(s);
  synack::single_event b(s);
  s.spawn(ping(a, b, n));
  s.spawn(ping(b, a, n));
  return time_ns(2 * n, [&] { s.run(); });
}

auto bench_yield(long n) -> double {
  synack::event_loop loop;
  return time_ns(n, [&] { loop.run_until(yielder(loop, n)); });
}

auto bench_heap(long n, long pending) -> double {
  synack::timer_heap heap;
  auto background = std::make_unique<noop_timer[]>(static_cast<std::size_t>(pending));
  for (long i = 0; i < pending; ++i)
    heap.arm(background[i], synack::instant::from_nanos(1'000'000'000 + i * 7919 % 100'000));
  noop_timer t;
  return time_ns(n, [&] {
    for (long i = 0; i < n; ++i) {
      heap.arm(t, synack::instant::from_nanos(i % 1000));
      if (heap.pop_due(synack::instant::from_nanos(1000)) != &t) std::abort();
    }
  });
}

auto bench_heap_cancel(long n, long pending) -> double {
  synack::timer_heap heap;
  auto background = std::make_unique<noop_timer[]>(static_cast<std::size_t>(pending));
  for (long i = 0; i < pending; ++i) heap.arm(background[i], synack::instant::from_nanos(i * 7919 % 1'000'000));
  noop_timer t;
  return time_ns(n, [&] {
    for (long i = 0; i < n; ++i) {
      heap.arm(t, synack::instant::from_nanos(i * 104729 % 1'000'000));
      heap.disarm(t);
    }
  });
}

auto bench_sleep(long n, long pending) -> double {
  synack::sim_loop loop;
  auto background = std::make_unique<noop_timer[]>(static_cast<std::size_t>(pending));
  for (long i = 0; i < pending; ++i) loop.arm(background[i], synack::instant{} + std::chrono::hours(1000) + i * 1ns);
  const double ns = time_ns(n, [&] { loop.run_until(sleeper(loop, n)); });
  for (long i = 0; i < pending; ++i) loop.disarm(background[i]);
  return ns;
}

auto bench_raw_nop(long n) -> double {
  io_uring ring{};
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  if (io_uring_queue_init_params(256, &ring, &p) < 0) {
    p = io_uring_params{};
    if (io_uring_queue_init_params(256, &ring, &p) < 0) std::abort();
  }
  io_uring_register_ring_fd(&ring);
  const double ns = time_ns(n, [&] {
    for (long i = 0; i < n; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, 1);
      io_uring_submit_and_wait(&ring, 1);
      unsigned head = 0;
      unsigned count = 0;
      io_uring_cqe* cqe = nullptr;
      io_uring_for_each_cqe(&ring, head, cqe) { ++count; }
      io_uring_cq_advance(&ring, count);
    }
  });
  io_uring_queue_exit(&ring);
  return ns;
}

auto bench_callback_nop(long n) -> double {
  synack::event_loop loop;
  nop_chain chain(loop, n);
  return time_ns(n, [&] {
    chain.start();
    loop.run();
  });
}

auto bench_coroutine_nop(long n) -> double {
  synack::event_loop loop;
  return time_ns(n, [&] { loop.run_until(nop_loop(loop, n)); });
}

auto bench_nop_batch(long n) -> double {
  synack::event_loop loop;
  const long batches = n / 64;
  return time_ns(batches * 64, [&] { loop.run_until(nop_batches(loop, batches)); });
}

} // namespace

int main(int argc, char** argv) {
  const long scale = argc > 1 ? std::max(1L, std::atol(argv[1])) : 1;
  std::vector<row> rows;
  rows.push_back({"task await (create+await+destroy)", bench_task_await(2'000'000 * scale)});
  rows.push_back({"resume via ready queue", bench_ready_queue(2'000'000 * scale)});
  rows.push_back({"yield (one loop turn, no syscall)", bench_yield(1'000'000 * scale)});
  rows.push_back({"timer arm+expire, heap, 1 pending", bench_heap(5'000'000 * scale, 0)});
  rows.push_back({"timer arm+expire, heap, 100k pending", bench_heap(5'000'000 * scale, 100'000)});
  rows.push_back({"timer arm+disarm, heap, 100k pending", bench_heap_cancel(5'000'000 * scale, 100'000)});
  rows.push_back({"sleep round trip, sim_loop, 1 pending", bench_sleep(1'000'000 * scale, 0)});
  rows.push_back({"sleep round trip, sim_loop, 100k pending", bench_sleep(1'000'000 * scale, 100'000)});
  const double raw = bench_raw_nop(300'000 * scale);
  rows.push_back({"NOP round trip, raw liburing (baseline)", raw, raw});
  rows.push_back({"NOP round trip, io_completion callback", bench_callback_nop(300'000 * scale), raw});
  rows.push_back({"NOP round trip, co_await io::nop", bench_coroutine_nop(300'000 * scale), raw});
  rows.push_back({"NOP in batches of 64 (when_all), per NOP", bench_nop_batch(640'000 * scale), raw});

  fmt::print("{:<44} {:>10} {:>14}\n", "operation", "ns/op", "vs raw liburing");
  fmt::print("{:-<44} {:->10} {:->14}\n", "", "", "");
  for (const row& r : rows) {
    if (r.baseline_ns > 0)
      fmt::print("{:<44} {:>10.1f} {:>14.2f}\n", r.name, r.ns_per_op, r.ns_per_op / r.baseline_ns);
    else
      fmt::print("{:<44} {:>10.1f} {:>14}\n", r.name, r.ns_per_op, "");
  }
  return 0;
}
