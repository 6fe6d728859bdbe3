// tests/core/cancellation_test.cpp: the stop-token protocol and with_timeout/with_deadline
// on sleeps and events (core/cancellation.hpp); the io_uring side is in tests/io.
#include <doctest/doctest.h>

#include <chrono>
#include <stop_token>
#include <system_error>

#include "synack/core/cancellation.hpp"
#include "synack/core/event.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/task.hpp"

using namespace std::chrono_literals;
using synack::sim_scheduler;
using synack::task;

TEST_SUITE_BEGIN("core.cancellation");

TEST_CASE("stopping a sleep disarms its timer and resumes once with operation_canceled") {
  sim_scheduler s;
  std::stop_source stop;
  int resumes = 0;
  std::error_code result;
  auto coro1 = [&]() -> task<> {
    auto r = co_await synack::sleep_for(s, 1h, stop.get_token());
    ++resumes;
    result = r ? std::error_code{} : r.error();
  };
  auto coro2 = [&]() -> task<> {
    co_await synack::sleep_for(s, 1s);
    stop.request_stop();
  };
  s.spawn(coro1());
  s.spawn(coro2());
  s.run_once();
  CHECK(s.pending_timers() == 2);
  s.run();
  CHECK(resumes == 1);
  CHECK(result == std::errc::operation_canceled);
  CHECK(s.pending_timers() == 0);
  CHECK(s.now() == synack::instant{} + 1s); // the hour never had to pass
}

TEST_CASE("with_timeout on an event that is never set: timed_out at exactly the deadline") {
  sim_scheduler s;
  synack::single_event ev(s);
  auto t = [&]() -> task<std::error_code> {
    auto r = co_await synack::with_timeout(ev.wait(), 250ms);
    co_return r ? std::error_code{} : r.error();
  };
  CHECK(s.run_until(t()) == std::errc::timed_out);
  CHECK(s.now() == synack::instant{} + 250ms);
  CHECK_FALSE(ev.has_waiter());
  CHECK(s.pending_timers() == 0);
}

TEST_CASE("with_timeout on something that completes first yields its value and disarms") {
  sim_scheduler s;
  synack::single_event ev(s);
  ev.set();
  auto t = [&]() -> task<bool> {
    auto r = co_await synack::with_timeout(ev.wait(), 1s); // ready at once
    auto r2 = co_await synack::with_timeout(synack::sleep_for(s, 10ms), 1s);
    co_return r.has_value() && r2.has_value();
  };
  CHECK(s.run_until(t()));
  CHECK(s.now() == synack::instant{} + 10ms);
  CHECK(s.pending_timers() == 0);
}

TEST_CASE("with_timeout keeps the awaitable's own token: its stop stays operation_canceled") {
  sim_scheduler s;
  synack::single_event ev(s);
  std::stop_source user;
  std::error_code result;
  auto coro3 = [&]() -> task<> {
    auto r = co_await synack::with_timeout(ev.wait(user.get_token()), 1h);
    result = r ? std::error_code{} : r.error();
  };
  s.spawn(coro3());
  auto coro4 = [&]() -> task<> {
    co_await synack::sleep_for(s, 5s);
    user.request_stop();
  };
  s.spawn(coro4());
  s.run();
  CHECK(result == std::errc::operation_canceled);
  CHECK(s.now() == synack::instant{} + 5s);
}

TEST_CASE("timeouts compose, the inner one fires first") {
  sim_scheduler s;
  synack::single_event ev(s);
  auto t = [&]() -> task<std::error_code> {
    auto r = co_await synack::with_timeout(synack::with_timeout(ev.wait(), 1s), 2s);
    co_return r ? std::error_code{} : r.error();
  };
  CHECK(s.run_until(t()) == std::errc::timed_out);
  CHECK(s.now() == synack::instant{} + 1s);
}

TEST_CASE("with_deadline uses an absolute instant") {
  sim_scheduler s;
  auto t = [&]() -> task<std::error_code> {
    auto r = co_await synack::with_deadline(synack::sleep_for(s, 1h), synack::instant{} + 3s);
    co_return r ? std::error_code{} : r.error();
  };
  CHECK(s.run_until(t()) == std::errc::timed_out);
  CHECK(s.now() == synack::instant{} + 3s);
}

TEST_CASE("the protocol concept accepts synack's awaitables and rejects plain tasks") {
  static_assert(synack::stoppable_awaitable<synack::sleep_op>);
  static_assert(synack::stoppable_awaitable<synack::event_wait_op>);
  static_assert(synack::stoppable_awaitable<synack::timeout_op<synack::sleep_op>>);
  static_assert(!synack::stoppable_awaitable<synack::task<int>>);
  CHECK(true);
}

TEST_SUITE_END();
