// tests/io/loop_test.cpp: the io_uring event loop (io/loop.hpp): turns, clocks, turn hooks,
// spawn, stop, deadlock detection and shutdown with work in flight.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/counted.hpp"
#include "io/io_support.hpp"
#include "synack/core/event.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/task.hpp"
#include "synack/core/when_all.hpp"
#include "synack/io/loop.hpp"
#include "synack/io/ops.hpp"

using namespace std::chrono_literals;
using synack::event_loop;
using synack::sim_loop;
using synack::task;

TEST_SUITE_BEGIN("io.loop");

TEST_CASE("the ring is set up with SINGLE_ISSUER|DEFER_TASKRUN on this kernel, or a fallback") {
  event_loop loop;
  const unsigned f = loop.setup_flags();
  MESSAGE(fmt::format("io_uring setup flags: {:#x}, features: {:#x}", f, loop.features()));
  const bool defer = (f & IORING_SETUP_DEFER_TASKRUN) != 0;
  const bool coop = (f & IORING_SETUP_COOP_TASKRUN) != 0;
  CHECK((defer || coop || (f & ~(IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP)) == 0));
  if (defer) CHECK((f & IORING_SETUP_SINGLE_ISSUER) != 0);
  CHECK(loop.opcode_supported(IORING_OP_NOP));
  CHECK(loop.opcode_supported(IORING_OP_ASYNC_CANCEL));

  synack::loop_options no_defer;
  no_defer.defer_taskrun = false;
  event_loop plain(no_defer);
  CHECK((plain.setup_flags() & IORING_SETUP_DEFER_TASKRUN) == 0);
  auto roundtrip = [](event_loop& l) -> task<bool> { co_return (co_await synack::io::nop(l)).has_value(); };
  CHECK(plain.run_until(roundtrip(plain)));
}

TEST_CASE("run_until returns the value; an idle loop with nothing to do returns from run()") {
  event_loop loop;
  auto answer = [](event_loop& l) -> task<int> {
    co_await synack::io::nop(l);
    co_return 42;
  };
  CHECK(loop.run_until(answer(loop)) == 42);
  loop.run(); // nothing left: returns at once
  CHECK_FALSE(loop.run_once());
}

TEST_CASE("steady clock: sleep_for really waits, and now() moves once per turn") {
  event_loop loop;
  const auto wall = std::chrono::steady_clock::now();
  const auto before = loop.now();
  auto nap = [](event_loop& l) -> task<synack::duration> {
    const auto t0 = l.now();
    auto r = co_await synack::sleep_for(l, 20ms);
    CHECK(r.has_value());
    co_return l.now() - t0;
  };
  const auto slept = loop.run_until(nap(loop));
  CHECK(slept >= 20ms);
  CHECK(std::chrono::steady_clock::now() - wall >= 20ms);
  CHECK(std::chrono::steady_clock::now() - wall < 2s);
  CHECK(loop.now() - before >= 20ms);
}

TEST_CASE("sim_loop: a one-hour sleep completes instantly and now() advances by exactly 1h") {
  sim_loop loop;
  const auto start = loop.now();
  const auto wall = std::chrono::steady_clock::now();
  auto nap = [](sim_loop& l) -> task<> { co_await synack::sleep_for(l, std::chrono::hours(1)); };
  loop.run_until(nap(loop));
  CHECK(loop.now() - start == std::chrono::hours(1));
  CHECK(loop.clock().now() - start == std::chrono::hours(1));
  CHECK(std::chrono::steady_clock::now() - wall < 1s);
}

TEST_CASE("sim_loop: real I/O completes, then virtual time jumps to the timers") {
  sim_loop loop;
  auto p = io_test::make_pipe();
  auto job = [](sim_loop& l, int rfd, int wfd) -> task<std::string> {
    auto w = co_await synack::io::write(l, wfd, io_test::bytes_of("tick"));
    REQUIRE(w);
    std::byte buf[8];
    auto r = co_await synack::io::read(l, rfd, buf);
    REQUIRE(r);
    co_await synack::sleep_for(l, 10s);
    co_return io_test::string_of(std::span(buf, *r));
  };
  CHECK(loop.run_until(job(loop, p.a, p.b)) == "tick");
  CHECK(loop.now() == synack::instant{} + 10s);
}

TEST_CASE("sim_loop: with I/O in flight and no timer, the loop blocks on the ring") {
  sim_loop loop;
  auto p = io_test::make_pipe();
  std::thread writer([fd = p.b] {
    std::this_thread::sleep_for(50ms);
    const char c = 'x';
    CHECK(::write(fd, &c, 1) == 1);
  });
  auto job = [](sim_loop& l, int fd) -> task<std::size_t> {
    std::byte buf[4];
    auto r = co_await synack::io::read(l, fd, buf);
    co_return r.value();
  };
  CHECK(loop.run_until(job(loop, p.a)) == 1);
  CHECK(loop.now() == synack::instant{}); // virtual time did not move
  writer.join();
}

namespace {
struct sq_probe_hook : synack::turn_hook {
  synack::event_loop_base* loop;
  std::vector<unsigned> sq_pending;
  std::vector<std::string>* log;
  synack::single_event* wake = nullptr;
  sq_probe_hook(synack::event_loop_base& l, std::vector<std::string>& lg) : turn_hook(&run), loop(&l), log(&lg) {}
  static void run(turn_hook& h) {
    auto& self = static_cast<sq_probe_hook&>(h);
    self.sq_pending.push_back(io_uring_sq_ready(&self.loop->native_handle()));
    self.log->push_back("hook");
    if (self.wake != nullptr) std::exchange(self.wake, nullptr)->set();
  }
};
} // namespace

TEST_CASE("turn hooks run after the ready queue drained and before the submit") {
  event_loop loop;
  std::vector<std::string> log;
  sq_probe_hook hook(loop, log);
  loop.add_turn_hook(hook);
  auto job = [](event_loop& l, std::vector<std::string>& lg) -> task<> {
    lg.push_back("a");
    auto n1 = synack::io::nop(l);
    auto n2 = synack::io::nop(l);
    co_await synack::when_all(std::move(n1), std::move(n2)); // two SQEs queued in one turn
    lg.push_back("b");
  };
  loop.run_until(job(loop, log));
  REQUIRE(hook.sq_pending.size() >= 2);
  CHECK(hook.sq_pending[0] == 2); // both SQEs still queued when the hook ran: one submit per turn
  REQUIRE(log.size() >= 3);
  CHECK(log[0] == "a");
  CHECK(log[1] == "hook");
  CHECK(log[2] == "b");
}

TEST_CASE("a hook that makes a coroutine ready keeps the loop from blocking") {
  event_loop loop;
  std::vector<std::string> log;
  synack::single_event ev(loop);
  sq_probe_hook hook(loop, log);
  hook.wake = &ev;
  loop.add_turn_hook(hook);
  auto sleeper = [](event_loop& l) -> task<> { co_await synack::sleep_for(l, 1h); };
  auto waiter = [](event_loop& l, synack::single_event& e) -> task<> {
    co_await e.wait();
    l.stop();
  };
  loop.spawn(sleeper(loop));
  loop.spawn(waiter(loop, ev));
  const auto wall = std::chrono::steady_clock::now();
  loop.run(); // had the loop blocked after the hook, it would sleep for an hour
  CHECK(std::chrono::steady_clock::now() - wall < 1s);
  CHECK(loop.spawned_count() == 1);
  loop.shutdown();
  CHECK(loop.spawned_count() == 0);
}

TEST_CASE("errors of spawned tasks are reported, never lost") {
  event_loop loop;
  std::vector<std::string> errors;
  loop.set_error_reporter([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::system_error& x) {
      errors.push_back(x.code() == std::errc::bad_file_descriptor ? "EBADF" : x.what());
    } catch (const std::exception& x) {
      errors.push_back(x.what());
    }
  });
  auto fails = [](event_loop& l) -> task<> {
    std::byte buf[1];
    auto r = co_await synack::io::read(l, -1, buf);
    throw std::system_error(r.error());
  };
  loop.spawn(fails(loop));
  loop.run();
  CHECK(errors == std::vector<std::string>{"EBADF"});
}

TEST_CASE("run_until on a task that can never complete throws instead of hanging") {
  event_loop loop;
  counted::reset();
  synack::single_event never(loop);
  auto stuck = [](synack::single_event& e, counted) -> task<> { co_await e.wait(); };
  CHECK_THROWS_AS(loop.run_until(stuck(never, counted{})), std::runtime_error);
  CHECK(counted::alive() == 0);
  CHECK_FALSE(never.has_waiter());
}

TEST_CASE("shutdown cancels and drains in-flight operations, then destroys suspended tasks") {
  counted::reset();
  auto p = io_test::make_pipe();
  auto p2 = io_test::make_pipe();
  std::vector<std::error_code> first;
  std::vector<std::error_code> second;
  int reader_done = 0;
  {
    event_loop loop;
    synack::event never(loop);
    auto reader = [&](event_loop& l, int fd, counted) -> task<> {
      std::byte buf[16];
      auto r = co_await synack::io::read(l, fd, buf); // blocked: nothing is ever written
      first.push_back(r ? std::error_code{} : r.error());
      auto again = co_await synack::io::read(l, fd, buf); // refused during shutdown
      second.push_back(again ? std::error_code{} : again.error());
      ++reader_done;
      co_await never.wait(); // suspended for good: destroyed at the end of shutdown
    };
    auto waiter = [&](counted) -> task<> {
      counted local;
      co_await never.wait();
    };
    auto sleeper = [](event_loop& l, counted) -> task<> { co_await synack::sleep_for(l, 24h); };
    loop.spawn(reader(loop, p.a, counted{}));
    loop.spawn(reader(loop, p2.a, counted{}));
    loop.spawn(waiter(counted{}));
    loop.spawn(sleeper(loop, counted{}));
    for (int i = 0; i < 3; ++i) loop.poll(); // everything is suspended now
    CHECK(loop.in_flight() == 2);
    CHECK(loop.spawned_count() == 4);
    CHECK(counted::alive() == 5);
    loop.shutdown();
    CHECK(loop.stopping());
    CHECK(loop.closed());
    CHECK(loop.in_flight() == 0);
    CHECK(loop.spawned_count() == 0);
    CHECK(loop.pending_timers() == 0);
    CHECK_FALSE(never.has_waiters());
    CHECK(loop.get_sqe() == nullptr); // new operations are refused
    CHECK_FALSE(loop.run_once());
  }
  CHECK(counted::alive() == 0);
  CHECK(reader_done == 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0] == std::errc::operation_canceled);
  CHECK(first[1] == std::errc::operation_canceled);
  REQUIRE(second.size() == 2);
  CHECK(second[0] == std::errc::operation_canceled);
  // The cancelled reads are gone from the kernel: data written now stays in the pipe.
  CHECK(::write(p.b, "z", 1) == 1);
  char c = 0;
  CHECK(::read(p.a, &c, 1) == 1);
  CHECK(c == 'z');
}

TEST_CASE("shutdown terminates even with a coroutine that yields forever") {
  counted::reset();
  {
    event_loop loop;
    auto spinner = [](event_loop& l, counted) -> task<> {
      for (;;) co_await l.yield();
    };
    loop.spawn(spinner(loop, counted{}));
    for (int i = 0; i < 5; ++i) loop.poll();
    loop.shutdown();
    CHECK(loop.spawned_count() == 0);
  }
  CHECK(counted::alive() == 0);
}

TEST_CASE("destroying the loop without calling shutdown cleans up the same way") {
  counted::reset();
  auto p = io_test::make_pipe();
  {
    event_loop loop;
    auto reader = [](event_loop& l, int fd, counted) -> task<> {
      std::byte buf[4];
      co_await synack::io::read(l, fd, buf);
      co_await synack::sleep_for(l, 1h);
    };
    loop.spawn(reader(loop, p.a, counted{}));
    loop.poll();
    CHECK(loop.in_flight() == 1);
  }
  CHECK(counted::alive() == 0);
}

TEST_CASE("stop() makes run() return after the current turn") {
  event_loop loop;
  int ticks = 0;
  auto ticker = [&](event_loop& l) -> task<> {
    while (co_await synack::io::nop(l)) { // ends when shutdown refuses the nop
      if (++ticks == 10) l.stop();
    }
  };
  loop.spawn(ticker(loop));
  loop.run();
  CHECK(ticks == 10);
  while (ticks < 11 && loop.run_once()) { // it goes on where it stopped
  }
  CHECK(ticks == 11);
}

TEST_CASE("busy polling: completions that arrive while polling and after it are both taken") {
  synack::loop_options o;
  o.busy_poll = 2000us;
  event_loop loop(o);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto read_one = [](event_loop& l, int fd) -> task<long> {
    std::byte b[8];
    auto r = co_await synack::io::read(l, fd, b);
    co_return r ? static_cast<long>(*r) : -1;
  };
  const auto turns_before = loop.turn_count();
  // Written 0.5 ms after the read is armed: inside the 2 ms busy poll, so no blocking wait.
  std::thread early([&] {
    std::this_thread::sleep_for(500us);
    CHECK(::write(fds[1], "a", 1) == 1);
  });
  CHECK(loop.run_until(read_one(loop, fds[0])) == 1);
  early.join();
  // Written 50 ms later: the poll gives up after 2 ms and the loop blocks in io_uring_enter,
  // from which the completion still wakes it.
  const auto t0 = std::chrono::steady_clock::now();
  std::thread late([&] {
    std::this_thread::sleep_for(50ms);
    CHECK(::write(fds[1], "bc", 2) == 2);
  });
  CHECK(loop.run_until(read_one(loop, fds[0])) == 2);
  late.join();
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  CHECK(loop.turn_count() > turns_before);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_SUITE_END();
