// tests/core/event_test.cpp: single_event and event (core/event.hpp): one and many waiters,
// no inline resumption, auto-reset vs manual reset, stop tokens, destruction.
#include <doctest/doctest.h>

#include <stop_token>
#include <string>
#include <system_error>
#include <vector>

#include "core/counted.hpp"
#include "synack/core/event.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/task.hpp"

using synack::sim_scheduler;
using synack::task;

TEST_SUITE_BEGIN("core.event");

TEST_CASE("single_event: set wakes the waiter through the ready queue, never inline") {
  sim_scheduler s;
  synack::single_event ev(s);
  std::vector<std::string> log;
  auto coro1 = [&]() -> task<> {
    log.push_back("waiting");
    auto r = co_await ev.wait();
    CHECK(r.has_value());
    log.push_back("woken");
  };
  s.spawn(coro1());
  s.run_once();
  CHECK(ev.has_waiter());
  // "packet processing": set from plain code; the waiter must not run inside set().
  auto coro2 = [&]() -> task<> {
    log.push_back("setter before");
    ev.set();
    log.push_back("setter after");
    co_return;
  };
  s.spawn(coro2());
  s.run();
  CHECK(log == std::vector<std::string>{"waiting", "setter before", "setter after", "woken"});
  CHECK_FALSE(ev.is_set()); // the signal went to the waiter
}

TEST_CASE("single_event is auto-reset: a signal with no waiter is kept for the next wait") {
  sim_scheduler s;
  synack::single_event ev(s);
  ev.set();
  ev.set(); // signals do not accumulate
  CHECK(ev.is_set());
  int woke = 0;
  auto waiter = [&]() -> task<> {
    co_await ev.wait(); // completes at once and consumes the signal
    ++woke;
    co_await ev.wait(); // suspends
    ++woke;
  };
  s.spawn(waiter());
  s.run();
  CHECK(woke == 1);
  CHECK_FALSE(ev.is_set());
  ev.set();
  s.run();
  CHECK(woke == 2);
}

TEST_CASE("event: set wakes all waiters in FIFO order and stays set until reset") {
  sim_scheduler s;
  synack::event ev(s);
  std::vector<int> order;
  constexpr int waiters = 100;
  auto coro3 = [&](int id) -> task<> {
    co_await ev.wait();
    order.push_back(id);
  };
  for (int i = 0; i < waiters; ++i) s.spawn(coro3(i));
  s.run();
  CHECK(order.empty());
  CHECK(ev.has_waiters());
  ev.set();
  CHECK(order.empty()); // not inline
  s.run();
  REQUIRE(order.size() == waiters);
  for (int i = 0; i < waiters; ++i) CHECK(order[i] == i);
  // stays set
  bool immediate = false;
  auto coro4 = [&]() -> task<> {
    co_await ev.wait();
    immediate = true;
  };
  s.spawn(coro4());
  s.run();
  CHECK(immediate);
  ev.reset();
  CHECK_FALSE(ev.is_set());
}

TEST_CASE("a stop request wakes a waiter once with operation_canceled; a later set is not lost") {
  sim_scheduler s;
  synack::single_event ev(s);
  std::stop_source stop;
  std::vector<std::error_code> results;
  auto coro5 = [&]() -> task<> {
    auto r = co_await ev.wait(stop.get_token());
    results.push_back(r ? std::error_code{} : r.error());
  };
  s.spawn(coro5());
  s.run();
  stop.request_stop();
  CHECK(results.empty()); // not inline
  CHECK_FALSE(ev.has_waiter());
  s.run();
  REQUIRE(results.size() == 1);
  CHECK(results[0] == std::errc::operation_canceled);
  ev.set();
  CHECK(ev.is_set());
}

TEST_CASE("set wins over a stop requested after it") {
  sim_scheduler s;
  synack::event ev(s);
  std::stop_source stop;
  int ok = 0;
  auto coro6 = [&]() -> task<> {
    auto r = co_await ev.wait(stop.get_token());
    if (r) ++ok;
  };
  s.spawn(coro6());
  s.run();
  ev.set();
  stop.request_stop(); // the waiter is already queued: this must not queue it twice
  s.run();
  CHECK(ok == 1);
}

TEST_CASE("an already stopped token completes the wait at once") {
  sim_scheduler s;
  synack::single_event ev(s);
  std::stop_source stop;
  stop.request_stop();
  auto t = [&]() -> task<bool> {
    auto r = co_await ev.wait(stop.get_token());
    co_return !r && r.error() == std::errc::operation_canceled;
  };
  CHECK(s.run_until(t()));
}

TEST_CASE("destroying an event with waiters leaves them suspended; shutdown frees them") {
  counted::reset();
  sim_scheduler s;
  auto ev = std::make_unique<synack::event>(s);
  bool resumed = false;
  auto coro7 = [&](counted) -> task<> {
    co_await ev->wait();
    resumed = true;
  };
  s.spawn(coro7(counted{}));
  s.run();
  ev.reset();
  s.run();
  CHECK_FALSE(resumed);
  CHECK(counted::alive() == 1);
  s.shutdown();
  CHECK(counted::alive() == 0);
}

TEST_SUITE_END();
