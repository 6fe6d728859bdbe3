// tests/core/surface_test.cpp: every awaitable the core returns has the same surface
// (docs/api.md): `.or_throw()` (T, or a std::system_error carrying the error), a stop token
// as the factory's last argument, and both again on what with_timeout / with_deadline /
// or_throw wrap. The io_uring operations are in tests/io/ops_test.cpp, the socket's in
// tests/socket/stack_test.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <ostream>
#include <stop_token>
#include <string>
#include <system_error>

#include "synack/core/cancellation.hpp"
#include "synack/core/event.hpp"
#include "synack/core/or_throw.hpp"
#include "synack/core/sim_scheduler.hpp"
#include "synack/core/sleep.hpp"
#include "synack/core/task.hpp"

using namespace std::chrono_literals;
using synack::sim_scheduler;
using synack::task;

TEST_SUITE_BEGIN("core.surface");

namespace {

/// The error a task threw as std::system_error, or an empty code and "" if it did not throw.
struct thrown {
  std::error_code code;
  std::string what;
};

template <class F>
auto catch_system_error(sim_scheduler& s, F make) -> thrown {
  auto t = [&]() -> task<thrown> {
    try {
      co_await make();
    } catch (const std::system_error& e) {
      co_return thrown{e.code(), e.what()};
    }
    co_return thrown{};
  };
  return s.run_until(t());
}

} // namespace

TEST_CASE("with_timeout(op, d).or_throw() yields the value or throws timed_out") {
  sim_scheduler s;
  synack::single_event ev(s);
  // Completes first: or_throw yields the (void) value.
  auto ok = [&]() -> task<bool> {
    co_await synack::with_timeout(synack::sleep_for(s, 10ms), 1s).or_throw();
    co_return true;
  };
  CHECK(s.run_until(ok()));
  CHECK(s.now() == synack::instant{} + 10ms);
  // Times out: a std::system_error with timed_out, the operation named in what().
  auto r = catch_system_error(s, [&] { return synack::with_timeout(ev.wait(), 250ms).or_throw(); });
  CHECK(r.code == std::errc::timed_out);
  CHECK(r.what.find("with_timeout") != std::string::npos);
  CHECK(r.what.find(std::make_error_code(std::errc::timed_out).message()) != std::string::npos);
  CHECK(s.now() == synack::instant{} + 10ms + 250ms);
  CHECK(s.pending_timers() == 0);
  // with_deadline too, and timeouts nest.
  auto r2 = catch_system_error(
      s, [&] { return synack::with_deadline(synack::with_timeout(ev.wait(), 1h), s.now() + 5ms).or_throw(); });
  CHECK(r2.code == std::errc::timed_out);
}

TEST_CASE("sleep and event waits have or_throw: operation_canceled is thrown as a system_error") {
  sim_scheduler s;
  synack::single_event ev(s);
  std::stop_source stop;
  stop.request_stop();
  auto r = catch_system_error(s, [&] { return synack::sleep_for(s, 1h, stop.get_token()).or_throw(); });
  CHECK(r.code == std::errc::operation_canceled);
  CHECK(r.what.find("sleep") != std::string::npos);
  auto r2 = catch_system_error(s, [&] { return ev.wait(stop.get_token()).or_throw(); });
  CHECK(r2.code == std::errc::operation_canceled);
  CHECK(r2.what.find("event") != std::string::npos);
  ev.set();
  auto ok = [&]() -> task<int> {
    co_await ev.wait().or_throw();
    co_await synack::sleep_for(s, 1ms).or_throw();
    co_return 7;
  };
  CHECK(s.run_until(ok()) == 7);
}

TEST_CASE("with_timeout and with_deadline take a stop token as their last argument") {
  sim_scheduler s;
  synack::single_event ev(s);
  std::stop_source user;
  std::error_code result;
  auto waiter = [&]() -> task<> {
    auto r = co_await synack::with_timeout(ev.wait(), 1h, user.get_token());
    result = r ? std::error_code{} : r.error();
  };
  auto stopper = [&]() -> task<> {
    co_await synack::sleep_for(s, 1s);
    user.request_stop();
  };
  s.spawn(waiter());
  s.spawn(stopper());
  s.run();
  CHECK(result == std::errc::operation_canceled); // the user's stop, not the timer's
  CHECK(s.now() == synack::instant{} + 1s);
  CHECK(s.pending_timers() == 0);

  std::stop_source early;
  early.request_stop();
  auto r = catch_system_error(
      s, [&] { return synack::with_deadline(ev.wait(), s.now() + 1h, early.get_token()).or_throw(); });
  CHECK(r.code == std::errc::operation_canceled);
}

TEST_CASE("or_throw keeps the stop-token protocol: the wrapper can be timed out and stopped") {
  sim_scheduler s;
  synack::single_event ev(s);
  static_assert(synack::stoppable_awaitable<decltype(ev.wait().or_throw())>);
  // or_throw(with_timeout(...)) and a token set on the wrapper reach the operation.
  std::stop_source user;
  auto op = synack::or_throw(ev.wait());
  op.set_stop_token(user.get_token());
  CHECK(op.get_stop_token() == user.get_token());
  CHECK(&op.get_scheduler() == &s);
  user.request_stop();
  auto r = catch_system_error(s, [&] { return std::move(op); });
  CHECK(r.code == std::errc::operation_canceled);
}

TEST_SUITE_END();
