// tests/core/scheduler_test.cpp: the ready queue, spawn and its error reporting, yield, turn
// hooks, sleep on virtual time and shutdown of a sim_scheduler (core/scheduler.hpp,
// core/sleep.hpp, core/sim_scheduler.hpp).
#include <doctest/doctest.h>

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/counted.hpp"
#include "synack/core/event.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/task.hpp"

using namespace std::chrono_literals;
using synack::sim_scheduler;
using synack::task;

TEST_SUITE_BEGIN("core.scheduler");

TEST_CASE("spawned tasks start from the ready queue, not inline, in FIFO order") {
  sim_scheduler s;
  std::vector<int> log;
  auto job = [&](int i) -> task<> {
    log.push_back(i);
    co_return;
  };
  s.spawn(job(1));
  s.spawn(job(2));
  CHECK(log.empty());
  CHECK(s.spawned_count() == 2);
  s.run();
  CHECK(log == std::vector<int>{1, 2});
  CHECK(s.spawned_count() == 0);
}

TEST_CASE("an exception escaping a spawned task reaches the error reporter") {
  sim_scheduler s;
  std::vector<std::string> errors;
  s.set_error_reporter([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      errors.emplace_back(x.what());
    }
  });
  auto bad = [](sim_scheduler& sched) -> task<> {
    co_await synack::sleep_for(sched, 1s);
    throw std::runtime_error("spawned failure");
  };
  s.spawn(bad(s));
  s.spawn([]() -> task<> { co_return; }());
  s.run();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "spawned failure");
  CHECK(s.spawned_count() == 0);
}

TEST_CASE("spawn accepts any awaitable; its result is discarded") {
  sim_scheduler s;
  synack::event ev(s);
  int after = 0;
  s.spawn(ev.wait());
  auto coro1 = [&]() -> task<> {
    co_await ev.wait();
    ++after;
  };
  s.spawn(coro1());
  s.run_once();
  CHECK(s.spawned_count() == 2);
  ev.set();
  s.run();
  CHECK(after == 1);
  CHECK(s.spawned_count() == 0);
}

TEST_CASE("yield resumes in the next turn") {
  sim_scheduler s;
  std::vector<std::string> log;
  auto a = [&]() -> task<> {
    log.push_back("a1");
    co_await s.yield();
    log.push_back("a2");
  };
  auto b = [&]() -> task<> {
    log.push_back("b1");
    co_return;
  };
  s.spawn(a());
  s.spawn(b());
  CHECK(s.run_once()); // true: the yielded coroutine is queued for the next turn
  CHECK(log == std::vector<std::string>{"a1", "b1"});
  CHECK_FALSE(s.run_once()); // runs it; then nothing is left
  CHECK(log == std::vector<std::string>{"a1", "b1", "a2"});
}

namespace {
struct recording_hook : synack::turn_hook {
  std::vector<std::string>* log;
  synack::single_event* wake = nullptr;
  int runs = 0;
  explicit recording_hook(std::vector<std::string>& l) : turn_hook(&on_turn), log(&l) {}
  static void on_turn(turn_hook& h) {
    auto& self = static_cast<recording_hook&>(h);
    ++self.runs;
    self.log->push_back("hook");
    if (self.wake != nullptr) {
      self.wake->set();
      self.wake = nullptr;
    }
  }
};
} // namespace

TEST_CASE("turn hooks run once per turn, after the ready queue has drained") {
  sim_scheduler s;
  std::vector<std::string> log;
  recording_hook hook(log);
  s.add_turn_hook(hook);
  s.add_turn_hook(hook); // registering twice is a no-op
  auto job = [&]() -> task<> {
    log.push_back("t1");
    co_await s.yield();
    log.push_back("t2");
  };
  s.spawn(job());
  s.run();
  CHECK(log == std::vector<std::string>{"t1", "hook", "t2", "hook"});
  CHECK(hook.runs == 2);
  hook.remove();
  CHECK_FALSE(hook.registered());
}

TEST_CASE("a hook that makes a coroutine ready keeps the loop going") {
  sim_scheduler s;
  std::vector<std::string> log;
  synack::single_event ev(s);
  recording_hook hook(log);
  hook.wake = &ev;
  s.add_turn_hook(hook);
  bool woke = false;
  auto coro2 = [&]() -> task<> {
    co_await ev.wait();
    woke = true;
  };
  s.spawn(coro2());
  s.run(); // without the hook's wake-up the loop would be idle after the first turn
  CHECK(woke);
}

TEST_CASE("a hook that throws propagates out of the turn and no hook is unregistered") {
  sim_scheduler s;
  std::vector<std::string> log;
  struct throwing_hook : synack::turn_hook {
    throwing_hook() : turn_hook(&run) {}
    static void run(turn_hook&) { throw std::runtime_error("hook failed"); }
  } bad;
  recording_hook first(log);
  recording_hook last(log);
  s.add_turn_hook(first);
  s.add_turn_hook(bad);
  s.add_turn_hook(last);
  CHECK_THROWS_WITH_AS(s.run_once(), "hook failed", std::runtime_error);
  CHECK(first.registered());
  CHECK(bad.registered());
  CHECK(last.registered());
  CHECK(log == std::vector<std::string>{"hook"});
  bad.remove();
  s.run_once();
  CHECK(log == std::vector<std::string>{"hook", "hook", "hook"});
}

TEST_CASE("a hook destroyed while registered unregisters itself") {
  sim_scheduler s;
  std::vector<std::string> log;
  {
    recording_hook hook(log);
    s.add_turn_hook(hook);
  }
  s.spawn([]() -> task<> { co_return; }());
  s.run();
  CHECK(log.empty());
}

TEST_CASE("sleep on virtual time: an hour passes instantly and exactly") {
  sim_scheduler s;
  const auto start = s.now();
  const auto wall = std::chrono::steady_clock::now();
  auto sleeper = [&]() -> task<synack::instant> {
    auto r = co_await synack::sleep_for(s, std::chrono::hours(1));
    CHECK(r.has_value());
    co_return s.now();
  };
  const auto woke = s.run_until(sleeper());
  CHECK(woke - start == std::chrono::hours(1));
  CHECK(std::chrono::steady_clock::now() - wall < 1s);
}

TEST_CASE("sleeps wake in deadline order, equal deadlines in arm order") {
  sim_scheduler s;
  std::vector<int> order;
  auto sleeper = [&](int id, std::chrono::milliseconds d) -> task<> {
    co_await synack::sleep_for(s, d);
    order.push_back(id);
    CHECK(s.now() == synack::instant{} + d);
  };
  s.spawn(sleeper(1, 30ms));
  s.spawn(sleeper(2, 10ms));
  s.spawn(sleeper(3, 20ms));
  s.spawn(sleeper(4, 10ms));
  s.spawn(sleeper(5, 0ms)); // already due: does not suspend
  s.run();
  CHECK(order == std::vector<int>{5, 2, 4, 3, 1});
}

TEST_CASE("shutdown destroys suspended spawned frames and unregisters their awaiters") {
  counted::reset();
  synack::instant never;
  {
    sim_scheduler s;
    synack::event ev(s);
    s.spawn([](synack::event& e, counted) -> task<> {
      counted local;
      co_await e.wait();
    }(ev, counted{}));
    s.spawn([](sim_scheduler& sched, counted) -> task<> { co_await synack::sleep_for(sched, 1h); }(s, counted{}));
    s.spawn([](sim_scheduler& sched) -> task<> { co_await sched.yield(); }(s));
    CHECK(s.run_once());
    CHECK(s.spawned_count() == 3);
    CHECK(ev.has_waiters());
    CHECK(s.pending_timers() == 1);
    s.shutdown();
    CHECK(s.spawned_count() == 0);
    CHECK(counted::alive() == 0);
    CHECK_FALSE(ev.has_waiters());
    CHECK(s.pending_timers() == 0);
    CHECK(s.closed());
    CHECK_FALSE(s.run_once());
    // spawning after shutdown destroys the task without running it
    bool ran = false;
    auto coro3 = [&]() -> task<> {
      ran = true;
      co_return;
    };
    s.spawn(coro3());
    CHECK_FALSE(ran);
    never = s.now();
  }
  CHECK(never == synack::instant{});
}

TEST_CASE("sync_wait and run_until refuse to nest inside a running loop") {
  sim_scheduler s;
  auto inner = []() -> task<int> { co_return 1; };
  auto outer = [&]() -> task<int> { co_return s.run_until(inner()); };
  CHECK_THROWS_AS(s.run_until(outer()), std::logic_error);
}

TEST_SUITE_END();
